import Foundation
import KSDiagnostics
import KSShell
import MessagePassing
import ShellRuntime
import ShellSyntax

/// The interactive shell: numbered prompts, multi-line input, history, completion, Ctrl-C.
///
/// ```
/// ks[1]> x = np.random.randn(3000, 3)
/// ks[2]> K = Genred("Exp(-SqDist(x, y)) * b",
///  ...(>            ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)
/// ks[3]> a = Kinv(x, x, b, alpha=1e-6)
/// CG iteration 41  rms 3.2e-04  -8.8%/it  0.12 s        <- redrawn in place while it runs
/// ```
///
/// Input N is reported in errors as `<stdin>:N:COL`. Ctrl-C at the prompt discards the input
/// typed so far; during a statement it cancels the computation, and the statement is rolled
/// back, so every variable keeps its value. Ctrl-D (or `:quit`) leaves.
public final class Repl {
  /// The session the inputs run in.
  public let session: Session
  let editor: LineEditor
  let output: FileOutput
  let progress: ProgressLine

  /// A shell on the terminal: results and the live line on `output`, errors on `errors`.
  public init(
    historyPath: String?, output: FileOutput = .standardOutput, errors: FileOutput = .standardError
  ) {
    let session = Session(output: output.write, errors: errors.write, status: output.write)
    session.color = TerminalInfo.useColor(fd: errors.fd)
    session.helpWidth = { isatty(output.fd) != 0 ? TerminalInfo.columns(output.fd) : 80 }
    progress = ProgressLine(output: output)
    // The live line only on a terminal; otherwise (`ks | tee`) plain lines, as in scripts.
    if TerminalInfo.allowsEscapes(fd: output.fd) { session.progressDisplay = progress }
    if output.isTerminal { session.figureDisplay = TerminalFigures(output: output) }
    self.session = session
    self.output = output
    editor = LineEditor(historyPath: historyPath) { [unowned session] text in
      Completer(vocabulary: session.completionVocabulary()).complete(text)
    }
  }

  /// The history file: `$KS_HISTORY` when set (empty: none), else `~/.ks_history`.
  public static func defaultHistoryPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    if let path = environment["KS_HISTORY"] { return path.isEmpty ? nil : path }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.ks_history"
  }

  /// Runs until Ctrl-D or `:quit`; returns the exit status (0).
  public func run() -> Int32 {
    Interrupts.install(restartSystemCalls: false, forceExitAfter: 3)
    output.write("ks: KeOps-style kernel reductions and solvers. :help for help, Ctrl-D to quit.\n")
    while !session.quitRequested {
      guard let input = readInput() else { break }
      guard let input else { continue }
      let echo = EchoSuppression()
      Interrupts.arm(session.interpreter.cancel)
      session.submit(input)
      Interrupts.disarm()
      echo.restore()
      progress.clear()
      _ = Interrupts.takePending()
      editor.saveHistory()
    }
    editor.saveHistory()
    return 0
  }

  /// The prompt of the next input: `ks[N]> `.
  var prompt: String { "ks[\(session.inputCount + 1)]> " }

  /// The prompt of a continuation line, as wide as `prompt`, showing what is open: `  ...(> `.
  static func continuationPrompt(open: String, width: Int) -> String {
    let marker = open == ":" || open == "\\" ? "" : open
    let body = "..." + marker + "> "
    return String(repeating: " ", count: max(0, width - body.count)) + body
  }

  /// The indentation to start a continuation line with: the previous line's, plus four spaces
  /// after a line ending in ':' (inside brackets and strings, none: the user aligns those).
  static func autoIndent(after previous: String, open: String) -> String {
    guard open == ":" else { return "" }
    let leading = String(previous.prefix { $0 == " " || $0 == "\t" })
    if previous.allSatisfy({ $0 == " " || $0 == "\t" }) { return "" }
    var code = previous
    if let hash = code.firstIndex(of: "#") { code = String(code[..<hash]) }
    return code.trimmingCharacters(in: .whitespaces).hasSuffix(":") ? leading + "    " : leading
  }

  /// Reads lines until they form complete input. Returns nil at end of input (Ctrl-D), `.some(nil)`
  /// when Ctrl-C discarded the input or the line was blank, and the input otherwise.
  func readInput() -> String?? {
    var lines: [String] = []
    let first = prompt
    var open = ""
    var pasted = false
    while true {
      let shown = lines.isEmpty ? first : Self.continuationPrompt(open: open, width: first.count)
      let pending = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
      // Auto-indent: a continuation line starts at the previous line's indentation, one level
      // deeper after a ':' — unless the line comes from a paste (input already waiting), which
      // carries its own indentation.
      let indent = lines.isEmpty || LineEditor.inputPending() ? "" : Self.autoIndent(after: lines[lines.count - 1], open: open)
      let line = editor.readLine(prompt: shown, pending: pending, initialText: indent)
      if Interrupts.takePending() {
        output.write("^C\n")
        return .some(nil)
      }
      guard let line else {
        output.write("\n")
        // Ctrl-D on a continuation line cancels the block (as Python's REPL); at the prompt it quits.
        return lines.isEmpty ? nil : .some(nil)
      }
      lines.append(line)
      let text = lines.joined(separator: "\n")
      if lines.count == 1 && line.allSatisfy({ $0 == " " || $0 == "\t" }) { return .some(nil) }
      // A pasted block stays together: while more pasted input is waiting, keep reading even if
      // what came so far is complete (its blank lines do not end it).
      if LineEditor.inputPending() {
        if case .incomplete(let what) = checkCompleteness(text) { open = what } else { open = ":" }
        pasted = true
        continue
      }
      // The end of a paste: run it if it is complete as a script (its last block needs no blank
      // line when its last line is not indented).
      if pasted, let last = lines.last, !last.hasPrefix(" "), !last.hasPrefix("\t"),
        case .complete = checkCompleteness(text + "\n")
      {
        editor.addHistory(text)
        return text
      }
      switch checkCompleteness(text) {
      case .incomplete(let what):
        open = what
      case .complete, .invalid:
        // One history entry per input, so Up recalls a whole block (without its closing blank line).
        var entry = lines
        while entry.count > 1, entry.last?.allSatisfy({ $0 == " " || $0 == "\t" }) == true { entry.removeLast() }
        editor.addHistory(entry.joined(separator: "\n"))
        return text
      }
    }
  }
}

/// Runs scripts without a terminal editor: `ks run FILE`, `ks FILE`, `ks -c STATEMENT`, `ks < FILE`.
public enum ScriptMode {
  /// Runs `source` and returns the exit status: 0 ok, 1 a statement failed, 130 interrupted, 2
  /// the notebook could not be written.
  ///
  /// Results go to stdout; errors, solver summaries and progress go to stderr, so stdout holds
  /// exactly what the statements print. On a terminal stderr shows the live progress line.
  /// Ctrl-C (SIGINT) cancels the running statement and ends the script with 130; a second one
  /// exits at once. With `notebook`, the session is written there afterwards (`.ipynb` or `.md`),
  /// also when a statement failed: the statements after it become cells that did not run.
  public static func run(
    _ source: SourceText, echo: Bool, keepGoing: Bool, showValues: Bool = true, notebook: String? = nil
  ) -> Int32 {
    let out = FileOutput.standardOutput
    let err = FileOutput.standardError
    Interrupts.install(restartSystemCalls: true, forceExitAfter: 2)
    // Under MPI every rank runs the script; only rank 0's output reaches the terminal, and each
    // rank keeps its errors so that one that failed alone can say why (`Distributed.finish`).
    let distributed = Distributed.world != nil
    let errors: (String) -> Void = { text in
      err.write(text)
      if distributed { Distributed.noteFailure(text) }
    }
    let session = Session(output: out.write, errors: errors, status: err.write)
    // A notebook shows the values of bare expressions as Jupyter would, even where the script
    // does not print them (a .py file).
    session.showsValues = showValues
    session.interpreter.echoValues = showValues || notebook != nil
    session.recordsStatementsNotRun = notebook != nil
    session.color = TerminalInfo.useColor(fd: err.fd)
    session.helpWidth = { isatty(out.fd) != 0 ? TerminalInfo.columns(out.fd) : 80 }
    if TerminalInfo.allowsEscapes(fd: err.fd) { session.progressDisplay = ProgressLine(output: err) }
    if out.isTerminal { session.figureDisplay = TerminalFigures(output: out) }
    Interrupts.arm(session.interpreter.cancel)
    let outcome = session.run(source, echo: echo, keepGoing: keepGoing)
    Interrupts.disarm()
    if let notebook {
      do {
        err.write(try session.notebook(sourceName: source.name).write(to: notebook) + "\n")
      } catch {
        err.write("ks: cannot write the notebook: \(error)\n")
        return 2
      }
    }
    return outcome.exitCode
  }
}
