import KSDiagnostics
import ShellSyntax

// Where statements stand among the comments of their source: the comment lines above a statement
// (a notebook's markdown cell) and the comment that ends its last line (kept in its code cell).

extension Session {
  /// The byte offset where the line a statement ends on ends (at its `\n`), past a `;` and a
  /// comment that finish the line; the statement's own end when another statement follows on it.
  static func lineEnd(after statement: Statement, in source: SourceText) -> Int {
    let utf8 = source.text.utf8
    var k = min(statement.range.end, utf8.count)
    var index = utf8.index(utf8.startIndex, offsetBy: k)
    while index != utf8.endIndex {
      let byte = utf8[index]
      if byte == UInt8(ascii: "\n") { return k }
      if byte == UInt8(ascii: "#") {
        // A comment runs to the end of the line.
        while index != utf8.endIndex && utf8[index] != UInt8(ascii: "\n") {
          index = utf8.index(after: index)
          k += 1
        }
        return k
      }
      guard byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "\r")
      else { return statement.range.end }
      index = utf8.index(after: index)
      k += 1
    }
    return k
  }

  /// A statement as written: its text and, when a comment ends its last line, that comment
  /// (`x = 1  # the count`, `y = f(x);  # quiet`). Without such a comment, `:save`'s text.
  static func writtenText(of statement: Statement, in source: SourceText) -> String {
    let saved = savedText(of: statement, in: source)
    let end = lineEnd(after: statement, in: source)
    guard end > statement.range.end else { return saved }
    let tail = slice(source, statement.range.end, end)
    guard tail.contains("#") else { return saved }
    var text = slice(source, statement.range.start, end)
    while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
    return text
  }

  /// The comment lines between two offsets of a source, as written but without their indentation;
  /// an empty string stands for blank lines between two comments. A `#!` line at the top of a
  /// file is left out, and so is anything that is not a comment (`;`, indentation).
  static func commentLines(in source: SourceText, from start: Int, to end: Int) -> [String] {
    guard end > start else { return [] }
    let region = slice(source, start, end)
    var lines: [String] = []
    for (k, raw) in region.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
      let line = raw.drop(while: isBlank).trimmingSuffix(while: isBlank)
      if line.hasPrefix("#") {
        if start == 0 && k == 0 && line.hasPrefix("#!") { continue }
        lines.append(String(line))
      } else if line.isEmpty || line.allSatisfy({ $0 == ";" }) {
        if let last = lines.last, !last.isEmpty { lines.append("") }
      }
    }
    while lines.last == "" { lines.removeLast() }
    return lines
  }

  /// The text between two byte offsets of a source.
  static func slice(_ source: SourceText, _ start: Int, _ end: Int) -> String {
    let utf8 = source.text.utf8
    let lower = max(0, min(start, utf8.count))
    let upper = max(lower, min(end, utf8.count))
    let from = utf8.index(utf8.startIndex, offsetBy: lower)
    return String(decoding: utf8[from..<utf8.index(from, offsetBy: upper - lower)], as: UTF8.self)
  }
}

/// Whether a character is a space, a tab or a carriage return.
private func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" }

extension Substring {
  /// The substring without the characters at its end that match `predicate`.
  func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
    var end = endIndex
    while end > startIndex {
      let before = index(before: end)
      guard predicate(self[before]) else { break }
      end = before
    }
    return self[startIndex..<end]
  }
}
