import KSDiagnostics
import NumpySubset
import PyKeOpsBindings
import ShellRuntime
import ShellSyntax

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
