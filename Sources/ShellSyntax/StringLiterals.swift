import KSDiagnostics

private let backslash = UInt8(ascii: "\\")
private let openBrace = UInt8(ascii: "{")
private let closeBrace = UInt8(ascii: "}")

private func hexValue(_ b: UInt8) -> UInt32? {
  switch b {
  case 0x30...0x39: return UInt32(b - 0x30)
  case 0x41...0x46: return UInt32(b - 0x41 + 10)
  case 0x61...0x66: return UInt32(b - 0x61 + 10)
  default: return nil
  }
}

extension ScriptParserEngine {
  /// Parses one or more adjacent string literal tokens into a string or f-string expression.
  mutating func parseStrings() throws(Diagnostic) -> Expr {
    var pieces: [StringToken] = []
    let start = current.range.start
    while case .string(let piece) = current.kind {
      pieces.append(piece)
      advance()
    }
    let range = SourceRange(start, previousEnd)
    if !pieces.contains(where: { $0.isFormatted }) {
      var value = ""
      for piece in pieces {
        value += try decode(piece.contentRange.start, piece.contentRange.end, raw: piece.isRaw)
      }
      var contentOffset: Int?
      if pieces.count == 1 {
        let content = pieces[0].contentRange
        if pieces[0].isRaw || !bytes[content.start..<content.end].contains(backslash) {
          contentOffset = content.start
        }
      }
      return Expr(.string(StringLiteral(value: value, contentOffset: contentOffset)), range)
    }
    var parts: [FormattedStringPart] = []
    for piece in pieces {
      if piece.isFormatted {
        try parseFormattedContent(piece, into: &parts)
      } else {
        let text = try decode(piece.contentRange.start, piece.contentRange.end, raw: piece.isRaw)
        appendLiteral(text, piece.contentRange, to: &parts)
      }
    }
    return Expr(.formattedString(parts), range)
  }

  /// Appends literal text, merging it with a literal just before it.
  func appendLiteral(_ text: String, _ range: SourceRange, to parts: inout [FormattedStringPart]) {
    if text.isEmpty { return }
    if case .literal(let previous, let previousRange) = parts.last {
      parts[parts.count - 1] = .literal(previous + text, previousRange.union(range))
    } else {
      parts.append(.literal(text, range))
    }
  }

  /// Decodes the escape sequences of bytes `from..<to` (or copies them, for a raw literal).
  func decode(_ from: Int, _ to: Int, raw: Bool) throws(Diagnostic) -> String {
    if raw || !bytes[from..<to].contains(backslash) {
      return String(decoding: bytes[from..<to], as: UTF8.self)
    }
    var out: [UInt8] = []
    out.reserveCapacity(to - from)
    var k = from
    func appendScalar(_ value: UInt32, _ out: inout [UInt8]) -> Bool {
      guard let scalar = Unicode.Scalar(value) else { return false }
      out.append(contentsOf: Array(String(Character(scalar)).utf8))
      return true
    }
    while k < to {
      let b = bytes[k]
      guard b == backslash, k + 1 < to else {
        out.append(b)
        k += 1
        continue
      }
      let c = bytes[k + 1]
      switch c {
      case UInt8(ascii: "\n"):
        k += 2
      case UInt8(ascii: "\r"):
        k += 2
        if k < to && bytes[k] == UInt8(ascii: "\n") { k += 1 }
      case backslash, UInt8(ascii: "'"), UInt8(ascii: "\""):
        out.append(c)
        k += 2
      case UInt8(ascii: "a"): out.append(7); k += 2
      case UInt8(ascii: "b"): out.append(8); k += 2
      case UInt8(ascii: "f"): out.append(12); k += 2
      case UInt8(ascii: "n"): out.append(10); k += 2
      case UInt8(ascii: "r"): out.append(13); k += 2
      case UInt8(ascii: "t"): out.append(9); k += 2
      case UInt8(ascii: "v"): out.append(11); k += 2
      case UInt8(ascii: "0")...UInt8(ascii: "7"):
        var value: UInt32 = 0
        var j = k + 1
        while j < to && j < k + 4 && bytes[j] >= 0x30 && bytes[j] <= 0x37 {
          value = value * 8 + UInt32(bytes[j] - 0x30)
          j += 1
        }
        _ = appendScalar(value, &out)
        k = j
      case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
        let count = c == UInt8(ascii: "x") ? 2 : (c == UInt8(ascii: "u") ? 4 : 8)
        var value: UInt32 = 0
        var j = k + 2
        while j < to && j < k + 2 + count, let digit = hexValue(bytes[j]) {
          value = value * 16 + digit
          j += 1
        }
        let name = "\\" + String(Character(Unicode.Scalar(c)))
        if j < k + 2 + count {
          throw Diagnostic(
            "invalid \(name) escape: expected \(count) hexadecimal digits", at: SourceRange(k, j))
        }
        if !appendScalar(value, &out) {
          throw Diagnostic("invalid \(name) escape: not a Unicode character", at: SourceRange(k, j))
        }
        k = j
      case UInt8(ascii: "N"):
        throw Diagnostic("\\N{...} escapes are not supported", at: SourceRange(k, k + 2))
      default:
        out.append(backslash)
        k += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Splits an f-string's content into literal parts and replacement fields.
  mutating func parseFormattedContent(
    _ piece: StringToken, into parts: inout [FormattedStringPart]
  ) throws(Diagnostic) {
    let end = piece.contentRange.end
    var k = piece.contentRange.start
    var segmentStart = k
    while k < end {
      let b = bytes[k]
      if b == openBrace || b == closeBrace {
        if k + 1 < end && bytes[k + 1] == b {
          // `{{` or `}}`: the text so far plus one brace.
          let text = try decode(segmentStart, k + 1, raw: piece.isRaw)
          appendLiteral(text, SourceRange(segmentStart, k + 2), to: &parts)
          k += 2
          segmentStart = k
          continue
        }
        if b == closeBrace {
          throw Diagnostic("f-string: single '}' is not allowed", at: SourceRange(k, k + 1))
        }
        let text = try decode(segmentStart, k, raw: piece.isRaw)
        appendLiteral(text, SourceRange(segmentStart, k), to: &parts)
        let (field, next) = try parseReplacementField(at: k, end: end)
        parts.append(.field(field))
        k = next
        segmentStart = k
        continue
      }
      if b == backslash && !piece.isRaw && k + 1 < end && bytes[k + 1] != openBrace
        && bytes[k + 1] != closeBrace
      {
        k += 2
        continue
      }
      k += 1
    }
    let text = try decode(segmentStart, end, raw: piece.isRaw)
    appendLiteral(text, SourceRange(segmentStart, end), to: &parts)
  }

  /// Parses the replacement field whose `{` is at `open`; returns it and the offset after its `}`.
  mutating func parseReplacementField(at open: Int, end: Int) throws(Diagnostic) -> (ReplacementField, Int) {
    let expressionStart = open + 1
    var k = expressionStart
    var depth = 0
    var quote: UInt8?
    scan: while k < end {
      let c = bytes[k]
      if let q = quote {
        if c == q { quote = nil }
        k += 1
        continue
      }
      switch c {
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        quote = c
      case UInt8(ascii: "("), UInt8(ascii: "["), openBrace:
        depth += 1
      case UInt8(ascii: ")"), UInt8(ascii: "]"), closeBrace:
        if depth == 0 && c == closeBrace { break scan }
        if depth > 0 { depth -= 1 }
      case UInt8(ascii: "!") where depth == 0:
        if !(k + 1 < end && bytes[k + 1] == UInt8(ascii: "=")) { break scan }
      case UInt8(ascii: ":") where depth == 0:
        break scan
      case UInt8(ascii: "=") where depth == 0:
        let next = k + 1 < end ? bytes[k + 1] : 0
        let previous = bytes[k - 1]
        let comparison: [UInt8] = Array("=!<>".utf8)
        if next != UInt8(ascii: "=") && !comparison.contains(previous) { break scan }
      default:
        break
      }
      k += 1
    }
    if k >= end {
      throw Diagnostic("f-string: expecting '}'", at: SourceRange(open, end))
    }
    let expressionEnd = k
    let isBlank = bytes[expressionStart..<expressionEnd].allSatisfy {
      $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n")
        || $0 == UInt8(ascii: "\r")
    }
    if isBlank {
      throw Diagnostic("f-string: empty expression not allowed", at: SourceRange(open, k + 1))
    }
    let expression = try parseEmbeddedExpression(expressionStart..<expressionEnd)
    var debugText: String?
    if bytes[k] == UInt8(ascii: "=") {
      k += 1
      while k < end && (bytes[k] == UInt8(ascii: " ") || bytes[k] == UInt8(ascii: "\t")) { k += 1 }
      debugText = String(decoding: bytes[expressionStart..<k], as: UTF8.self)
    }
    var conversion: FormatConversion?
    if k < end && bytes[k] == UInt8(ascii: "!") {
      guard k + 1 < end,
        let c = FormatConversion(rawValue: String(Character(Unicode.Scalar(bytes[k + 1]))))
      else {
        throw Diagnostic(
          "f-string: invalid conversion character: expected 's', 'r', or 'a'",
          at: SourceRange(k, min(k + 2, end)))
      }
      conversion = c
      k += 2
    }
    var formatSpec: String?
    var formatSpecRange: SourceRange?
    if k < end && bytes[k] == UInt8(ascii: ":") {
      let specStart = k + 1
      var j = specStart
      while j < end && bytes[j] != closeBrace {
        if bytes[j] == openBrace {
          throw Diagnostic(
            "nested replacement fields in f-string format specs are not supported",
            at: SourceRange(j, j + 1))
        }
        j += 1
      }
      formatSpec = String(decoding: bytes[specStart..<j], as: UTF8.self)
      formatSpecRange = SourceRange(specStart, j)
      k = j
    }
    guard k < end && bytes[k] == closeBrace else {
      let range = k < end ? SourceRange(k, k + 1) : SourceRange(open, end)
      throw Diagnostic("f-string: expecting '}'", at: range)
    }
    if debugText != nil && conversion == nil && formatSpec == nil { conversion = .repr }
    let field = ReplacementField(
      expression: expression, debugText: debugText, conversion: conversion, formatSpec: formatSpec,
      formatSpecRange: formatSpecRange, range: SourceRange(open, k + 1))
    return (field, k + 1)
  }

  /// Parses the expression of an f-string field, lexed as if inside brackets.
  func parseEmbeddedExpression(_ range: Range<Int>) throws(Diagnostic) -> Expr {
    let lexer = Lexer(source: source, bytes: bytes, range: range, insideBrackets: true)
    var engine = ScriptParserEngine(source: source, bytes: bytes, lex: lexer.scan())
    let expression = try engine.parseStarExpressions()
    try engine.rejectBareStarred(expression)
    try engine.expectEndOfInput()
    return expression
  }
}
