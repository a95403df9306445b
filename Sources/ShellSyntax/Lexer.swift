import KSDiagnostics

/// Splits `.ks` source text into Python-style tokens, with INDENT/DEDENT for blocks.
///
/// Follows Python's tokenizer: NEWLINE ends a logical line, newlines inside brackets and after a
/// trailing backslash are ignored, blank and comment-only lines produce nothing, and indentation
/// changes produce INDENT and DEDENT tokens (a tab advances to the next multiple of 8 columns;
/// indentation whose meaning depends on the tab width is an error, as in Python 3). A line whose
/// first character is `:` becomes one `metaCommand` token.
public struct Lexer: Sendable {
  /// The text being split.
  public let source: SourceText
  let bytes: [UInt8]
  let start: Int
  let end: Int
  let insideBrackets: Bool

  /// A lexer for the whole of `source`.
  public init(source: SourceText) {
    self.source = source
    self.bytes = Array(source.text.utf8)
    self.start = 0
    self.end = bytes.count
    self.insideBrackets = false
  }

  /// A lexer for `range` of `bytes` (an f-string field), as if inside brackets: no NEWLINE,
  /// INDENT or DEDENT tokens and no meta-commands.
  init(source: SourceText, bytes: [UInt8], range: Range<Int>, insideBrackets: Bool) {
    self.source = source
    self.bytes = bytes
    self.start = range.lowerBound
    self.end = range.upperBound
    self.insideBrackets = insideBrackets
  }

  /// All tokens, ending with `endOfInput`, or the first lexical error.
  public func tokenize() throws(Diagnostic) -> [Token] {
    let result = scan()
    if let error = result.error { throw error }
    return result.tokens
  }

  /// The tokens up to the first error (always ending with `endOfInput`) and that error, if any.
  func scan() -> LexResult {
    var state = LexerState(bytes: bytes, start: start, end: end, insideBrackets: insideBrackets)
    return state.run()
  }
}

/// What a scan produced: tokens up to the first error, then `endOfInput`.
struct LexResult {
  /// The tokens; the last one is always `endOfInput`.
  var tokens: [Token]
  /// The first lexical error, if any; it belongs at the final `endOfInput` token.
  var error: Diagnostic?
  /// Set when the error only means the input stopped inside an open construct (for the REPL):
  /// the open bracket, `"""`/`'''`, or `\`.
  var continuationPrompt: String?
}

/// A lexical error, with the prompt to show if more input could complete it.
struct LexFailure: Error {
  var diagnostic: Diagnostic
  var prompt: String?

  init(_ message: String, _ range: SourceRange, prompt: String? = nil) {
    diagnostic = Diagnostic(message, at: range)
    self.prompt = prompt
  }
}

private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let formFeed: UInt8 = 0x0C
private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
private let backslash = UInt8(ascii: "\\")
private let hash = UInt8(ascii: "#")
private let colon = UInt8(ascii: ":")
private let question = UInt8(ascii: "?")
private let dot = UInt8(ascii: ".")
private let underscore = UInt8(ascii: "_")
private let singleQuote = UInt8(ascii: "'")
private let doubleQuote = UInt8(ascii: "\"")

private func isASCIIDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
private func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

/// The mutable state of one scan.
private struct LexerState {
  let bytes: [UInt8]
  let start: Int
  let end: Int
  let insideBrackets: Bool
  var i: Int
  var tokens: [Token] = []
  /// The currently open `(`, `[`, `{` tokens.
  var brackets: [Token] = []
  /// The indentation stack: columns with tabs to multiples of 8, and with tabs as 1 column.
  var indents: [(column: Int, alternate: Int)] = [(0, 0)]
  var atLineStart = true
  /// The end of the last real token (where NEWLINE and the end of input are placed).
  var lastEnd: Int

  init(bytes: [UInt8], start: Int, end: Int, insideBrackets: Bool) {
    self.bytes = bytes
    self.start = start
    self.end = end
    self.insideBrackets = insideBrackets
    self.i = start
    self.lastEnd = start
  }

  mutating func run() -> LexResult {
    do throws(LexFailure) {
      try scanAll()
      return LexResult(tokens: tokens, error: nil, continuationPrompt: nil)
    } catch {
      tokens.append(Token(kind: .endOfInput, text: "", range: SourceRange(lastEnd, lastEnd)))
      return LexResult(tokens: tokens, error: error.diagnostic, continuationPrompt: error.prompt)
    }
  }

  func text(_ from: Int, _ to: Int) -> String {
    String(decoding: bytes[from..<to], as: UTF8.self)
  }

  /// The length of the line break at `k` (1 or 2 bytes), or `nil` when there is none.
  func newlineLength(at k: Int) -> Int? {
    guard k < end else { return nil }
    if bytes[k] == lineFeed { return 1 }
    if bytes[k] == carriageReturn { return k + 1 < end && bytes[k + 1] == lineFeed ? 2 : 1 }
    return nil
  }

  mutating func emit(_ kind: TokenKind, _ from: Int, _ to: Int) {
    tokens.append(Token(kind: kind, text: text(from, to), range: SourceRange(from, to)))
    lastEnd = to
  }

  mutating func emitSynthetic(_ kind: TokenKind, at offset: Int) {
    tokens.append(Token(kind: kind, text: "", range: SourceRange(offset, offset)))
  }

  mutating func scanAll() throws(LexFailure) {
    if i + 2 < end && bytes[i] == 0xEF && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF { i += 3 }
    while true {
      if atLineStart && brackets.isEmpty && !insideBrackets {
        let lineStart = i
        var column = 0
        var alternate = 0
        var j = i
        while j < end {
          let b = bytes[j]
          if b == space {
            column += 1
            alternate += 1
          } else if b == tab {
            column = (column / 8 + 1) * 8
            alternate += 1
          } else if b == formFeed {
            column = 0
            alternate = 0
          } else {
            break
          }
          j += 1
        }
        if j >= end {
          i = j
          break
        }
        if bytes[j] == hash {
          i = j
          while i < end && newlineLength(at: i) == nil { i += 1 }
          if let n = newlineLength(at: i) { i += n }
          continue
        }
        if let n = newlineLength(at: j) {
          i = j + n
          continue
        }
        try indent(column: column, alternate: alternate, lineStart: lineStart, at: j)
        i = j
        atLineStart = false
        if bytes[i] == colon || bytes[i] == question {
          scanMetaCommand()
          continue
        }
      }
      while i < end && (bytes[i] == space || bytes[i] == tab || bytes[i] == formFeed) { i += 1 }
      if i >= end { break }
      let b = bytes[i]
      if b == hash {
        while i < end && newlineLength(at: i) == nil { i += 1 }
        continue
      }
      if let n = newlineLength(at: i) {
        if brackets.isEmpty && !insideBrackets {
          emitSynthetic(.newline, at: lastEnd)
          atLineStart = true
        }
        i += n
        continue
      }
      if b == backslash {
        if i + 1 >= end {
          throw LexFailure(
            "unexpected end of input after line continuation character", SourceRange(i, i + 1),
            prompt: "\\")
        }
        if let n = newlineLength(at: i + 1) {
          i += 1 + n
          continue
        }
        throw LexFailure("unexpected character after line continuation character", SourceRange(i, i + 1))
      }
      if isASCIIDigit(b) || (b == dot && i + 1 < end && isASCIIDigit(bytes[i + 1])) {
        try scanNumber()
        continue
      }
      if b == singleQuote || b == doubleQuote {
        try scanString(tokenStart: i, prefix: "", quoteAt: i)
        continue
      }
      if let length = identifierStartLength(at: i) {
        let s = i
        var k = i + length
        while k < end, let n = identifierContinueLength(at: k) { k += n }
        let word = text(s, k)
        if k < end && (bytes[k] == singleQuote || bytes[k] == doubleQuote) && isStringPrefix(word) {
          try scanString(tokenStart: s, prefix: word, quoteAt: k)
          continue
        }
        emit(Lexer.keywords.contains(word) ? .keyword : .name, s, k)
        i = k
        continue
      }
      try scanPunctuation()
    }
    if let open = brackets.last {
      throw LexFailure("'\(open.text)' was never closed", open.range, prompt: open.text)
    }
    if !insideBrackets {
      if !atLineStart { emitSynthetic(.newline, at: lastEnd) }
      for _ in 1..<indents.count { emitSynthetic(.dedent, at: lastEnd) }
    }
    emitSynthetic(.endOfInput, at: lastEnd)
  }

  /// Compares a line's indentation with the stack and emits INDENT or DEDENT tokens.
  mutating func indent(column: Int, alternate: Int, lineStart: Int, at j: Int) throws(LexFailure) {
    let tabError = LexFailure(
      "inconsistent use of tabs and spaces in indentation", SourceRange(lineStart, max(j, lineStart + 1)))
    let top = indents[indents.count - 1]
    if column == top.column {
      if alternate != top.alternate { throw tabError }
    } else if column > top.column {
      if alternate <= top.alternate { throw tabError }
      indents.append((column, alternate))
      emitSynthetic(.indent, at: j)
    } else {
      while indents.count > 1 && column < indents[indents.count - 1].column {
        indents.removeLast()
        emitSynthetic(.dedent, at: j)
      }
      let now = indents[indents.count - 1]
      if column != now.column {
        throw LexFailure("unindent does not match any outer indentation level", SourceRange(j, j + 1))
      }
      if alternate != now.alternate { throw tabError }
    }
  }

  /// Scans `:name rest of line` into one meta-command token; `?topic` is `:help topic`.
  mutating func scanMetaCommand() {
    let s = i
    var k = i + 1
    if bytes[i] == question {
      var lineEnd = k
      while lineEnd < end && newlineLength(at: lineEnd) == nil { lineEnd += 1 }
      var topicEnd = lineEnd
      while k < topicEnd && (bytes[k] == space || bytes[k] == tab) { k += 1 }
      while topicEnd > k && (bytes[topicEnd - 1] == space || bytes[topicEnd - 1] == tab) { topicEnd -= 1 }
      emit(.metaCommand(name: "help", argument: text(k, topicEnd)), s, lineEnd)
      i = lineEnd
      return
    }
    while k < end && (bytes[k] == space || bytes[k] == tab) { k += 1 }
    let nameStart = k
    while k < end && bytes[k] != space && bytes[k] != tab && newlineLength(at: k) == nil { k += 1 }
    let name = text(nameStart, k)
    var lineEnd = k
    while lineEnd < end && newlineLength(at: lineEnd) == nil { lineEnd += 1 }
    var argumentStart = k
    while argumentStart < lineEnd && (bytes[argumentStart] == space || bytes[argumentStart] == tab) {
      argumentStart += 1
    }
    var argumentEnd = lineEnd
    while argumentEnd > argumentStart
      && (bytes[argumentEnd - 1] == space || bytes[argumentEnd - 1] == tab
        || bytes[argumentEnd - 1] == formFeed)
    {
      argumentEnd -= 1
    }
    let tokenEnd = argumentEnd > argumentStart ? argumentEnd : k
    emit(.metaCommand(name: name, argument: text(argumentStart, argumentEnd)), s, tokenEnd)
    i = lineEnd
  }

  /// The Unicode scalar at `k` and its UTF-8 length.
  func scalar(at k: Int) -> (Unicode.Scalar, Int)? {
    let b = bytes[k]
    let length: Int
    if b < 0x80 {
      length = 1
    } else if b >= 0xF0 {
      length = 4
    } else if b >= 0xE0 {
      length = 3
    } else if b >= 0xC0 {
      length = 2
    } else {
      return nil
    }
    guard k + length <= end else { return nil }
    let decoded = String(decoding: bytes[k..<k + length], as: UTF8.self)
    guard let scalar = decoded.unicodeScalars.first, decoded.unicodeScalars.count == 1,
      scalar != "\u{FFFD}"
    else { return nil }
    return (scalar, length)
  }

  func identifierStartLength(at k: Int) -> Int? {
    let b = bytes[k]
    if isASCIILetter(b) || b == underscore { return 1 }
    if b < 0x80 { return nil }
    guard let (scalar, length) = scalar(at: k), scalar.properties.isXIDStart else { return nil }
    return length
  }

  func identifierContinueLength(at k: Int) -> Int? {
    let b = bytes[k]
    if isASCIILetter(b) || isASCIIDigit(b) || b == underscore { return 1 }
    if b < 0x80 { return nil }
    guard let (scalar, length) = scalar(at: k), scalar.properties.isXIDContinue else { return nil }
    return length
  }

  func isStringPrefix(_ word: String) -> Bool {
    ["r", "u", "f", "b", "rf", "fr", "br", "rb"].contains(word.lowercased())
  }

  /// Scans digits of `radix` with single underscores between them; returns the end offset.
  func scanDigits(from k: Int, isDigit: (UInt8) -> Bool) -> (end: Int, wellFormed: Bool) {
    var k = k
    var wellFormed = true
    var previousWasDigit = false
    while k < end {
      let b = bytes[k]
      if isDigit(b) {
        previousWasDigit = true
      } else if b == underscore {
        if !previousWasDigit || k + 1 >= end || !isDigit(bytes[k + 1]) { wellFormed = false }
        previousWasDigit = false
      } else {
        break
      }
      k += 1
    }
    return (k, wellFormed)
  }

  mutating func scanNumber() throws(LexFailure) {
    let s = i
    let b0 = bytes[i]
    if b0 == UInt8(ascii: "0") && i + 1 < end {
      let p = bytes[i + 1] | 0x20
      let radix: Int?
      let label: String
      switch p {
      case UInt8(ascii: "x"): (radix, label) = (16, "hexadecimal")
      case UInt8(ascii: "o"): (radix, label) = (8, "octal")
      case UInt8(ascii: "b"): (radix, label) = (2, "binary")
      default: (radix, label) = (nil, "")
      }
      if let radix {
        var k = i + 2
        if k < end && bytes[k] == underscore { k += 1 }
        let isDigit: (UInt8) -> Bool = { b in
          switch radix {
          case 16: return isASCIIDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66)
          case 8: return b >= 0x30 && b <= 0x37
          default: return b == 0x30 || b == 0x31
          }
        }
        let (e, wellFormed) = scanDigits(from: k, isDigit: isDigit)
        if e == k || !wellFormed || (e < end && identifierContinueLength(at: e) != nil) {
          var stop = e
          while stop < end, let n = identifierContinueLength(at: stop) { stop += n }
          throw LexFailure("invalid \(label) literal", SourceRange(s, stop))
        }
        let digits = text(k, e).filter { $0 != "_" }
        guard let value = Int(digits, radix: radix) else {
          throw LexFailure("integer literal is too large", SourceRange(s, e))
        }
        emit(.integer(value), s, e)
        i = e
        return
      }
    }
    var k = i
    var isFloat = false
    var wellFormed = true
    let (intEnd, intOK) = scanDigits(from: k, isDigit: isASCIIDigit)
    wellFormed = wellFormed && intOK
    k = intEnd
    if k < end && bytes[k] == dot {
      isFloat = true
      k += 1
      if k < end && isASCIIDigit(bytes[k]) {
        let (fractionEnd, fractionOK) = scanDigits(from: k, isDigit: isASCIIDigit)
        wellFormed = wellFormed && fractionOK
        k = fractionEnd
      }
    }
    if k < end && (bytes[k] | 0x20) == UInt8(ascii: "e") {
      var e = k + 1
      if e < end && (bytes[e] == UInt8(ascii: "+") || bytes[e] == UInt8(ascii: "-")) { e += 1 }
      if e < end && isASCIIDigit(bytes[e]) {
        let (exponentEnd, exponentOK) = scanDigits(from: e, isDigit: isASCIIDigit)
        wellFormed = wellFormed && exponentOK
        k = exponentEnd
        isFloat = true
      } else {
        wellFormed = false
        k = e
      }
    }
    var isImaginary = false
    if wellFormed && k < end && (bytes[k] | 0x20) == UInt8(ascii: "j") {
      isImaginary = true
      k += 1
    }
    if !wellFormed || (k < end && identifierContinueLength(at: k) != nil) {
      var stop = k
      while stop < end, let n = identifierContinueLength(at: stop) { stop += n }
      throw LexFailure(isImaginary ? "invalid imaginary literal" : "invalid decimal literal", SourceRange(s, stop))
    }
    if isImaginary {
      let literal = text(s, k - 1).filter { $0 != "_" }
      emit(.imaginary(Double(literal) ?? .nan), s, k)
      i = k
      return
    }
    let literal = text(s, k).filter { $0 != "_" }
    if isFloat {
      emit(.float(Double(literal) ?? .nan), s, k)
    } else {
      if literal.count > 1 && literal.hasPrefix("0") && literal.contains(where: { $0 != "0" }) {
        throw LexFailure(
          "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
          SourceRange(s, k))
      }
      guard let value = Int(literal) else {
        throw LexFailure("integer literal is too large", SourceRange(s, k))
      }
      emit(.integer(value), s, k)
    }
    i = k
  }

  mutating func scanString(tokenStart: Int, prefix: String, quoteAt q: Int) throws(LexFailure) {
    let lower = prefix.lowercased()
    if lower.contains("b") {
      throw LexFailure("bytes literals are not supported", SourceRange(tokenStart, q + 1))
    }
    let quote = bytes[q]
    let triple = q + 2 < end && bytes[q + 1] == quote && bytes[q + 2] == quote
    let contentStart = q + (triple ? 3 : 1)
    var k = contentStart
    let contentEnd: Int
    while true {
      if k >= end {
        if triple {
          let quotes = String(repeating: Character(Unicode.Scalar(quote)), count: 3)
          throw LexFailure(
            "unterminated triple-quoted string literal", SourceRange(tokenStart, contentStart),
            prompt: quotes)
        }
        throw LexFailure("unterminated string literal", SourceRange(tokenStart, end))
      }
      let c = bytes[k]
      if c == backslash {
        if k + 2 < end && bytes[k + 1] == carriageReturn && bytes[k + 2] == lineFeed {
          k += 3
        } else {
          k += 2
        }
        continue
      }
      if !triple && newlineLength(at: k) != nil {
        throw LexFailure("unterminated string literal", SourceRange(tokenStart, k))
      }
      if c == quote {
        if !triple {
          contentEnd = k
          k += 1
          break
        }
        if k + 2 < end && bytes[k + 1] == quote && bytes[k + 2] == quote {
          contentEnd = k
          k += 3
          break
        }
      }
      k += 1
    }
    let token = StringToken(
      isRaw: lower.contains("r"), isFormatted: lower.contains("f"), isTripleQuoted: triple,
      quote: Character(Unicode.Scalar(quote)), contentRange: SourceRange(contentStart, contentEnd))
    emit(.string(token), tokenStart, k)
    i = k
  }

  mutating func scanPunctuation() throws(LexFailure) {
    for (symbol, utf8) in Lexer.punctuationBytes {
      guard i + utf8.count <= end else { continue }
      if bytes[i..<i + utf8.count].elementsEqual(utf8) {
        emit(.punctuation, i, i + utf8.count)
        let token = tokens[tokens.count - 1]
        switch symbol {
        case "(", "[", "{":
          brackets.append(token)
        case ")", "]", "}":
          if !brackets.isEmpty { brackets.removeLast() }
        default:
          break
        }
        i += utf8.count
        return
      }
    }
    if let (scalar, length) = scalar(at: i) {
      let hex = String(scalar.value, radix: 16, uppercase: true)
      let code = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
      throw LexFailure("invalid character '\(Character(scalar))' (U+\(code))", SourceRange(i, i + length))
    }
    throw LexFailure("invalid UTF-8 byte in source", SourceRange(i, i + 1))
  }
}
