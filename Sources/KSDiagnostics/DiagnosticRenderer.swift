/// Renders diagnostics as `NAME:LINE:COL: error: message`, the source line, and a caret line.
///
/// This is the only place where diagnostics become text. Color is used only when asked for.
public struct DiagnosticRenderer: Sendable {
  public var useColor: Bool

  public init(useColor: Bool = false) {
    self.useColor = useColor
  }

  public func render(_ diagnostic: Diagnostic, in source: SourceText) -> String {
    let label = paint(diagnostic.severity.rawValue + ":", severity: diagnostic.severity)
    guard let range = diagnostic.range else {
      var out = "\(source.name): \(label) \(diagnostic.message)\n"
      for note in diagnostic.notes { out += "  note: \(note)\n" }
      return out
    }
    let (line, column) = source.location(of: range.start)
    let (lineText, lineStart) = source.lineContaining(range.start)
    let gutter = String(line)
    let pad = String(repeating: " ", count: gutter.count)
    // Columns are counted in characters so the caret lines up under non-ASCII text too.
    let lineBytes = Array(lineText.utf8)
    let startInLine = max(0, min(range.start - lineStart, lineBytes.count))
    let endInLine = max(startInLine, min(range.end - lineStart, lineBytes.count))
    let before = String(decoding: lineBytes[0..<startInLine], as: UTF8.self)
    let under = String(decoding: lineBytes[startInLine..<endInLine], as: UTF8.self)
    let indent = before.map { $0 == "\t" ? "\t" : " " }.joined()
    let marker = "^" + String(repeating: "~", count: max(0, under.count - 1))
    var out = "\(source.name):\(line):\(column): \(label) \(diagnostic.message)\n"
    out += "  \(gutter) | \(lineText)\n"
    out += "  \(pad) | \(indent)\(paint(marker, severity: diagnostic.severity))\n"
    for note in diagnostic.notes { out += "  \(pad) = note: \(note)\n" }
    return out
  }

  private func paint(_ text: String, severity: Diagnostic.Severity) -> String {
    guard useColor else { return text }
    let code: String
    switch severity {
    case .error: code = "1;31"
    case .warning: code = "1;35"
    case .note: code = "1;36"
    }
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }
}
