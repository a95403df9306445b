import KSDiagnostics

/// Renders shell errors in the one diagnostic format.
public enum ErrorPrinter {
  public static func render(_ e: ShellError, in source: SourceText, color: Bool = false) -> String {
    let renderer = DiagnosticRenderer(useColor: color)
    if !e.located.isEmpty {
      return e.located.map { renderer.render($0.diagnostic, in: $0.source) }.joined()
        + e.notes.map { "  note: \($0)\n" }.joined()
    }
    let d = Diagnostic(e.message, at: e.range, notes: e.notes)
    return renderer.render(d, in: source)
  }
}

/// Runs a whole `.ks` script: `ks run FILE`, `ks < FILE`, `:read FILE`.
public struct ScriptRunner {
  public var echo = false
  public var keepGoing = false
  public var color = false
  /// The prompt printed before an echoed statement.
  public var echoPrompt = "ks> "

  public init(echo: Bool = false, keepGoing: Bool = false) {
    self.echo = echo
    self.keepGoing = keepGoing
  }

  /// The outcome of a run: 0 ok, 1 a statement failed, 130 interrupted.
  public func run(_ source: SourceText, on interpreter: Interpreter, errors: (String) -> Void) -> Int32 {
    let statements: [Statement]
    do {
      statements = try ScriptParser(source: source).parse()
    } catch {
      errors(DiagnosticRenderer(useColor: color).render(error, in: source))
      return 1
    }
    var failed = false
    for s in statements {
      if echo {
        let text = s.sourceText(in: source)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        interpreter.output(echoPrompt + lines.joined(separator: "\n... ") + (s.isQuiet ? ";" : "") + "\n")
      }
      do {
        try interpreter.execute(s, in: source)
      } catch {
        errors(ErrorPrinter.render(error, in: source, color: color))
        if error.interrupted { return 130 }
        failed = true
        if !keepGoing { return 1 }
      }
    }
    return failed ? 1 : 0
  }
}
