/// An error or warning about a span of source text, rendered by `DiagnosticRenderer`.
///
/// Every stage of ks (formula parser, dimension checker, script parser, interpreter) reports
/// problems as diagnostics, so they all look the same:
///
/// ```
/// script.ks:3:18: error: unknown operation 'Norm3'; did you mean 'Norm2'?
///     3 | op = Genred("Exp(-Norm3(x-y))*b", aliases)
///       |                   ^~~~~
/// ```
public struct Diagnostic: Error, Sendable, Equatable {
  public enum Severity: String, Sendable {
    case error, warning, note
  }

  public var severity: Severity
  public var message: String
  /// The span the message is about; `nil` when the problem has no place in the text.
  public var range: SourceRange?
  /// Extra lines printed after the caret (hints, the valid choices).
  public var notes: [String]

  public init(_ message: String, at range: SourceRange?, severity: Severity = .error, notes: [String] = []) {
    self.severity = severity
    self.message = message
    self.range = range
    self.notes = notes
  }

  /// The same diagnostic with its range moved by `delta` bytes.
  public func shifted(by delta: Int) -> Diagnostic {
    var d = self
    d.range = range?.shifted(by: delta)
    return d
  }
}

/// A diagnostic together with the text it points into: what a failed statement throws.
public struct LocatedDiagnostic: Error, Sendable, CustomStringConvertible {
  public var diagnostic: Diagnostic
  public var source: SourceText

  public init(_ diagnostic: Diagnostic, in source: SourceText) {
    self.diagnostic = diagnostic
    self.source = source
  }

  public var description: String { DiagnosticRenderer().render(diagnostic, in: source) }
}
