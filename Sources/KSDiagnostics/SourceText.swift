/// A named piece of source text: a script file, a line typed at the prompt, or a formula string.
///
/// Positions inside it are UTF-8 byte offsets; lines and columns are computed on demand.
public struct SourceText: Sendable, Equatable {
  /// The name printed in diagnostics: a file path, `<stdin>`, or `<formula>`.
  public var name: String
  /// The full text.
  public var text: String
  /// The line number of the first line of `text` (a statement typed as line 7 of a session starts at 7).
  public var firstLine: Int

  public init(name: String, text: String, firstLine: Int = 1) {
    self.name = name
    self.text = text
    self.firstLine = firstLine
  }

  /// The 1-based line and column of a byte offset. Columns count characters, not bytes.
  public func location(of offset: Int) -> (line: Int, column: Int) {
    let bytes = Array(text.utf8)
    let clamped = max(0, min(offset, bytes.count))
    var line = firstLine
    var lineStart = 0
    for k in 0..<clamped where bytes[k] == UInt8(ascii: "\n") {
      line += 1
      lineStart = k + 1
    }
    let prefix = String(decoding: bytes[lineStart..<clamped], as: UTF8.self)
    return (line, prefix.count + 1)
  }

  /// The text of the line that contains `offset`, and the byte offset where that line starts.
  public func lineContaining(_ offset: Int) -> (text: String, start: Int) {
    let bytes = Array(text.utf8)
    let clamped = max(0, min(offset, bytes.count))
    var start = clamped
    while start > 0 && bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
    var end = clamped
    while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
    return (String(decoding: bytes[start..<end], as: UTF8.self), start)
  }
}

/// A half-open range of UTF-8 byte offsets into a `SourceText`.
public struct SourceRange: Sendable, Equatable, Hashable {
  public var start: Int
  public var end: Int

  public init(_ start: Int, _ end: Int) {
    self.start = start
    self.end = max(start, end)
  }

  /// The smallest range that covers both.
  public func union(_ other: SourceRange) -> SourceRange {
    SourceRange(min(start, other.start), max(end, other.end))
  }

  /// The same range moved by `delta` bytes (a formula's ranges placed inside a script line).
  public func shifted(by delta: Int) -> SourceRange {
    SourceRange(start + delta, end + delta)
  }
}
