import KSDiagnostics

/// One entry of an alias list, such as `"x = Vi(3)"`, `"y = Vj(1, 3)"` or `"Var(2, 1, 1)"`.
public struct AliasDeclaration: Sendable, Equatable {
  /// The name bound in the formula; nil for anonymous entries (`"Vi(3)"`, `"Var(0,3,0)"`).
  public var name: String?
  public var variable: Variable
  /// True when the position was written (`Vi(0, 3)`) rather than taken from the list order.
  public var explicitPosition: Bool

  public init(name: String?, variable: Variable, explicitPosition: Bool) {
    self.name = name
    self.variable = variable
    self.explicitPosition = explicitPosition
  }

  /// Parses one alias string; `positionInList` is the default argument position (KeOps' rule).
  /// Error ranges are relative to `text`.
  public static func parse(_ text: String, positionInList: Int?) throws(Diagnostic) -> AliasDeclaration {
    let bytes = Array(text.utf8)
    var name: String?
    var rhsStart = 0
    if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
      let lhs = String(decoding: bytes[0..<eq], as: UTF8.self)
      let trimmed = lhs.trimmingSpaces()
      let lead = lhs.utf8.prefix { $0 == 32 || $0 == 9 }.count
      let nameRange = SourceRange(lead, lead + trimmed.utf8.count)
      guard !trimmed.isEmpty else { throw Diagnostic("missing alias name before '='", at: SourceRange(eq, eq + 1)) }
      guard isIdentifier(trimmed) else {
        throw Diagnostic("'\(trimmed)' is not a valid alias name", at: nameRange)
      }
      if Operation.named(trimmed) != nil || reservedNames.contains(trimmed)
        || FormulaBuilder.unsupported.contains(trimmed) || FormulaBuilder.differentialOperators[trimmed] != nil || trimmed == "Kron"
      {
        throw Diagnostic("alias name '\(trimmed)' shadows the operation of the same name", at: nameRange)
      }
      if eq + 1 < bytes.count && bytes[eq + 1] == UInt8(ascii: "=") {
        throw Diagnostic("an alias is written 'name = Vi(dim)', with a single '='", at: SourceRange(eq, eq + 2))
      }
      name = trimmed
      rhsStart = eq + 1
    }
    let rhsText = String(decoding: bytes[rhsStart...], as: UTF8.self)
    let syntax: FormulaSyntax
    do throws(Diagnostic) {
      syntax = try FormulaParser.parse(rhsText)
    } catch {
      throw error.shifted(by: rhsStart)
    }
    let fullRange = syntax.range.shifted(by: rhsStart)
    let expected = "expected Vi(dim), Vj(dim), Pm(dim), Vi(pos, dim) or Var(pos, dim, cat)"
    guard case .call(var keyword, let kwRange, let args, _) = syntax else {
      throw Diagnostic("invalid alias: \(expected)", at: fullRange)
    }
    if keyword == "Vx" { keyword = "Vi" }
    if keyword == "Vy" { keyword = "Vj" }
    var ints: [Int] = []
    for a in args {
      guard case .integer(let v, _) = a else {
        throw Diagnostic("alias arguments must be integer literals", at: a.range.shifted(by: rhsStart))
      }
      ints.append(v)
    }
    let category: VariableCategory
    let dim: Int
    var pos: Int?
    switch keyword {
    case "Vi", "Vj", "Pm":
      category = keyword == "Vi" ? .i : (keyword == "Vj" ? .j : .parameter)
      guard ints.count == 1 || ints.count == 2 else {
        throw Diagnostic("\(keyword) takes (dim) or (pos, dim), got \(ints.count) arguments", at: fullRange)
      }
      dim = ints.last ?? 0
      pos = ints.count == 2 ? ints[0] : nil
    case "Var":
      guard ints.count == 3 else { throw Diagnostic("Var takes (pos, dim, cat), got \(ints.count) arguments", at: fullRange) }
      guard let c = VariableCategory(rawValue: ints[2]) else {
        throw Diagnostic("category \(ints[2]) is invalid: 0 (Vi), 1 (Vj) or 2 (Pm)", at: fullRange)
      }
      category = c
      dim = ints[1]
      pos = ints[0]
    default:
      let hint = Suggestions.closest(to: keyword, among: ["Vi", "Vj", "Pm", "Var"]).map { "; did you mean '\($0)'?" } ?? ""
      throw Diagnostic("unknown variable type '\(keyword)'\(hint)", at: kwRange.shifted(by: rhsStart), notes: [expected])
    }
    guard dim >= 1 else { throw Diagnostic("dimension must be at least 1, not \(dim)", at: fullRange) }
    if let p = pos, p < 0 { throw Diagnostic("position must be >= 0, not \(p)", at: fullRange) }
    if let problem = FormulaLimits.problem(dim: dim, position: pos) { throw Diagnostic(problem, at: fullRange) }
    let explicit = pos != nil
    guard let index = pos ?? positionInList else {
      throw Diagnostic("this alias needs an explicit position, e.g. Vi(0, \(dim))", at: fullRange)
    }
    return AliasDeclaration(name: name, variable: Variable(index: index, dim: dim, category: category), explicitPosition: explicit)
  }

  static let reservedNames: Set<String> = ["Var", "Vi", "Vj", "Pm"]

  static func isIdentifier(_ s: String) -> Bool {
    guard let f = s.utf8.first, (f >= 65 && f <= 90) || (f >= 97 && f <= 122) || f == 95 else { return false }
    return s.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || ($0 >= 48 && $0 <= 57) }
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\t" { s.removeLast() }
    return String(s)
  }
}
