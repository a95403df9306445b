import KSDiagnostics

/// The untyped syntax tree of a formula string, before names are resolved.
///
/// A formula is a Python expression (KeOps evaluates it with Python's `eval`), so this is a small
/// Python-expression grammar with Python's precedence: `**` > unary `-` > `* /` > `+ -` > `|` >
/// comparisons.
public indirect enum FormulaSyntax: Sendable, Equatable {
  case integer(Int, SourceRange)
  case real(Double, SourceRange)
  case name(String, SourceRange)
  case call(name: String, nameRange: SourceRange, arguments: [FormulaSyntax], range: SourceRange)
  case unary(op: String, operand: FormulaSyntax, range: SourceRange)
  case binary(op: String, lhs: FormulaSyntax, rhs: FormulaSyntax, opRange: SourceRange, range: SourceRange)
  case list([FormulaSyntax], SourceRange)

  public var range: SourceRange {
    switch self {
    case .integer(_, let r), .real(_, let r), .name(_, let r), .list(_, let r): return r
    case .call(_, _, _, let r), .unary(_, _, let r), .binary(_, _, _, _, let r): return r
    }
  }
}

struct FormulaToken: Equatable {
  enum Kind: Equatable {
    case integer(Int)
    case real(Double)
    case name(String)
    case symbol(String)
    case end
  }
  var kind: Kind
  var range: SourceRange
}

/// Splits formula text into tokens; positions are UTF-8 byte offsets into the formula string.
struct FormulaLexer {
  static let symbols = ["**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "|", "<", ">", "(", ")", ",", "[", "]"]

  static func tokenize(_ text: String) throws(Diagnostic) -> [FormulaToken] {
    let b = Array(text.utf8)
    var tokens: [FormulaToken] = []
    var k = 0
    func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    func isNameStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
    while k < b.count {
      let c = b[k]
      if c == 32 || c == 9 || c == 10 || c == 13 { k += 1; continue }
      let start = k
      if isDigit(c) || (c == 46 && k + 1 < b.count && isDigit(b[k + 1])) {
        var isReal = false
        while k < b.count && (isDigit(b[k]) || b[k] == 95) { k += 1 }
        if k < b.count && b[k] == 46 {
          isReal = true
          k += 1
          while k < b.count && (isDigit(b[k]) || b[k] == 95) { k += 1 }
        }
        if k < b.count && (b[k] == 101 || b[k] == 69) {
          var m = k + 1
          if m < b.count && (b[m] == 43 || b[m] == 45) { m += 1 }
          if m < b.count && isDigit(b[m]) {
            isReal = true
            k = m
            while k < b.count && isDigit(b[k]) { k += 1 }
          }
        }
        let raw = String(decoding: b[start..<k], as: UTF8.self).replacingUnderscores()
        let range = SourceRange(start, k)
        if k < b.count && isNameStart(b[k]) {
          throw Diagnostic("invalid number literal", at: SourceRange(start, k + 1))
        }
        if isReal {
          guard let v = Double(raw) else { throw Diagnostic("invalid number literal '\(raw)'", at: range) }
          tokens.append(FormulaToken(kind: .real(v), range: range))
        } else {
          guard let v = Int(raw) else { throw Diagnostic("integer literal '\(raw)' is too large", at: range) }
          tokens.append(FormulaToken(kind: .integer(v), range: range))
        }
        continue
      }
      if isNameStart(c) {
        while k < b.count && (isNameStart(b[k]) || isDigit(b[k])) { k += 1 }
        tokens.append(FormulaToken(kind: .name(String(decoding: b[start..<k], as: UTF8.self)), range: SourceRange(start, k)))
        continue
      }
      var matched = false
      for s in symbols {
        let sb = Array(s.utf8)
        if k + sb.count <= b.count && Array(b[k..<(k + sb.count)]) == sb {
          tokens.append(FormulaToken(kind: .symbol(s), range: SourceRange(k, k + sb.count)))
          k += sb.count
          matched = true
          break
        }
      }
      if matched { continue }
      // One whole (possibly multi-byte) character for the message.
      var end = k + 1
      while end < b.count && (b[end] & 0xC0) == 0x80 { end += 1 }
      let ch = String(decoding: b[k..<end], as: UTF8.self)
      let hint = ch == "=" ? "; did you mean '=='?" : (ch == "^" ? "; write powers with '**' or Pow(f, n)" : "")
      throw Diagnostic("unexpected character '\(ch)' in formula\(hint)", at: SourceRange(k, end))
    }
    tokens.append(FormulaToken(kind: .end, range: SourceRange(b.count, b.count)))
    return tokens
  }
}

extension String {
  fileprivate func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}

/// Recursive-descent parser for formula text with Python's operator precedence.
public struct FormulaParser {
  private var tokens: [FormulaToken]
  private var pos = 0

  /// Parses a whole formula string; errors carry ranges relative to the string.
  public static func parse(_ text: String) throws(Diagnostic) -> FormulaSyntax {
    var p = FormulaParser(tokens: try FormulaLexer.tokenize(text))
    if case .end = p.peek.kind {
      throw Diagnostic("empty formula", at: p.peek.range)
    }
    let e = try p.comparison()
    if case .end = p.peek.kind { return e }
    let t = p.peek
    if case .symbol(")") = t.kind { throw Diagnostic("unmatched ')'", at: t.range) }
    throw Diagnostic("unexpected \(describe(t)) after the end of the expression", at: t.range)
  }

  private init(tokens: [FormulaToken]) { self.tokens = tokens }

  private var peek: FormulaToken { tokens[pos] }

  private mutating func next() -> FormulaToken {
    let t = tokens[pos]
    if pos < tokens.count - 1 { pos += 1 }
    return t
  }

  private func isSymbol(_ s: String) -> Bool {
    if case .symbol(let x) = peek.kind { return x == s }
    return false
  }

  static func describe(_ t: FormulaToken) -> String {
    switch t.kind {
    case .integer(let v): return "number \(v)"
    case .real(let v): return "number \(v)"
    case .name(let n): return "name '\(n)'"
    case .symbol(let s): return "'\(s)'"
    case .end: return "end of formula"
    }
  }

  private mutating func comparison() throws(Diagnostic) -> FormulaSyntax {
    var lhs = try bitOr()
    var seen = false
    while case .symbol(let s) = peek.kind, ["<", ">", "<=", ">=", "==", "!="].contains(s) {
      let opTok = next()
      if seen {
        throw Diagnostic("chained comparisons are not supported in formulas; use parentheses", at: opTok.range)
      }
      seen = true
      let rhs = try bitOr()
      lhs = .binary(op: s, lhs: lhs, rhs: rhs, opRange: opTok.range, range: lhs.range.union(rhs.range))
    }
    return lhs
  }

  private mutating func bitOr() throws(Diagnostic) -> FormulaSyntax {
    var lhs = try sum()
    while isSymbol("|") {
      let opTok = next()
      let rhs = try sum()
      lhs = .binary(op: "|", lhs: lhs, rhs: rhs, opRange: opTok.range, range: lhs.range.union(rhs.range))
    }
    return lhs
  }

  private mutating func sum() throws(Diagnostic) -> FormulaSyntax {
    var lhs = try term()
    while isSymbol("+") || isSymbol("-") {
      let opTok = next()
      guard case .symbol(let s) = opTok.kind else { break }
      let rhs = try term()
      lhs = .binary(op: s, lhs: lhs, rhs: rhs, opRange: opTok.range, range: lhs.range.union(rhs.range))
    }
    return lhs
  }

  private mutating func term() throws(Diagnostic) -> FormulaSyntax {
    var lhs = try factor()
    while isSymbol("*") || isSymbol("/") {
      let opTok = next()
      guard case .symbol(let s) = opTok.kind else { break }
      let rhs = try factor()
      lhs = .binary(op: s, lhs: lhs, rhs: rhs, opRange: opTok.range, range: lhs.range.union(rhs.range))
    }
    return lhs
  }

  private mutating func factor() throws(Diagnostic) -> FormulaSyntax {
    if isSymbol("-") || isSymbol("+") {
      let opTok = next()
      guard case .symbol(let s) = opTok.kind else { return try power() }
      let operand = try factor()
      return .unary(op: s, operand: operand, range: opTok.range.union(operand.range))
    }
    return try power()
  }

  private mutating func power() throws(Diagnostic) -> FormulaSyntax {
    let base = try primary()
    if isSymbol("**") {
      let opTok = next()
      let exponent = try factor()  // right-associative, and 2**-1 is allowed
      return .binary(op: "**", lhs: base, rhs: exponent, opRange: opTok.range, range: base.range.union(exponent.range))
    }
    return base
  }

  private mutating func primary() throws(Diagnostic) -> FormulaSyntax {
    let t = next()
    switch t.kind {
    case .integer(let v): return .integer(v, t.range)
    case .real(let v): return .real(v, t.range)
    case .name(let n):
      guard isSymbol("(") else { return .name(n, t.range) }
      let open = next()
      var args: [FormulaSyntax] = []
      if !isSymbol(")") {
        while true {
          args.append(try comparison())
          if isSymbol(",") {
            _ = next()
            if isSymbol(")") { break }
            continue
          }
          break
        }
      }
      guard isSymbol(")") else {
        if case .end = peek.kind {
          throw Diagnostic("expected ')' to close '(' of \(n)(...)", at: open.range)
        }
        throw Diagnostic("expected ',' or ')' in the arguments of \(n), found \(Self.describe(peek))", at: peek.range)
      }
      let close = next()
      return .call(name: n, nameRange: t.range, arguments: args, range: t.range.union(close.range))
    case .symbol("("):
      // A tuple, as KeOps' TensorDot takes them: (), (3,), (2, 3).
      if isSymbol(")") {
        let close = next()
        return .list([], t.range.union(close.range))
      }
      let inner = try comparison()
      if isSymbol(",") {
        var items = [inner]
        while isSymbol(",") {
          _ = next()
          if isSymbol(")") { break }
          items.append(try comparison())
        }
        guard isSymbol(")") else {
          if case .end = peek.kind { throw Diagnostic("'(' is never closed", at: t.range) }
          throw Diagnostic("expected ',' or ')', found \(Self.describe(peek))", at: peek.range)
        }
        let close = next()
        return .list(items, t.range.union(close.range))
      }
      guard isSymbol(")") else {
        if case .end = peek.kind { throw Diagnostic("'(' is never closed", at: t.range) }
        throw Diagnostic("expected ')', found \(Self.describe(peek))", at: peek.range)
      }
      _ = next()
      return inner
    case .symbol("["):
      var items: [FormulaSyntax] = []
      while !isSymbol("]") {
        items.append(try comparison())
        if isSymbol(",") { _ = next() } else { break }
      }
      guard isSymbol("]") else { throw Diagnostic("'[' is never closed", at: t.range) }
      let close = next()
      return .list(items, t.range.union(close.range))
    case .end:
      throw Diagnostic("unexpected end of formula: an operand is missing", at: t.range)
    default:
      throw Diagnostic("expected an operand, found \(Self.describe(t))", at: t.range)
    }
  }
}
