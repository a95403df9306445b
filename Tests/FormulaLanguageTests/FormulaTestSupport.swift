import KSDiagnostics
import Testing

@testable import FormulaLanguage

/// The variables most formula tests use, by name.
enum Vars {
  static let x = Variable(index: 0, dim: 3, category: .i)
  static let y = Variable(index: 1, dim: 3, category: .j)
  static let z = Variable(index: 2, dim: 3, category: .j)
  static let b = Variable(index: 3, dim: 1, category: .j)
  static let w = Variable(index: 4, dim: 2, category: .j)
  static let p = Variable(index: 5, dim: 1, category: .parameter)
  static let a = Variable(index: 6, dim: 6, category: .j)  // a 3x2 or 2x3 matrix
  static let m = Variable(index: 7, dim: 9, category: .i)  // a 3x3 matrix

  static let all: [String: Variable] = ["x": x, "y": y, "z": z, "b": b, "w": w, "p": p, "a": a, "m": m]
}

/// Parses and builds `formula` against `names` (every test variable by default).
func build(_ formula: String, _ names: [String: Variable] = Vars.all) throws(Diagnostic) -> FormulaNode {
  var builder = FormulaBuilder(names: names)
  return try builder.build(try FormulaParser.parse(formula))
}

/// The tree's description with each test variable written as its name: `Minus(Square(x))`.
func pretty(_ node: FormulaNode, _ names: [String: Variable] = Vars.all) -> String {
  var s = node.description
  // Longer descriptions first would matter only for prefixes; Var(...) strings are all distinct.
  for (name, v) in names { s = s.replacingAll(v.description, with: name) }
  return s
}

/// The pretty tree, or "error: message" when building fails.
func outcome(_ formula: String, _ names: [String: Variable] = Vars.all) -> String {
  do throws(Diagnostic) {
    return pretty(try build(formula, names), names)
  } catch {
    return "error: \(error.message)"
  }
}

/// The diagnostic of a formula that must fail to build.
func failure(_ formula: String, _ names: [String: Variable] = Vars.all, sourceLocation: SourceLocation = #_sourceLocation) -> Diagnostic? {
  do throws(Diagnostic) {
    let node = try build(formula, names)
    Issue.record("expected '\(formula)' to fail, got \(pretty(node, names))", sourceLocation: sourceLocation)
    return nil
  } catch {
    return error
  }
}

extension String {
  func replacingAll(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty else { return self }
    var result = ""
    var rest = Substring(self)
    while let r = rest.firstRange(ofText: target) {
      result += rest[..<r.lowerBound]
      result += replacement
      rest = rest[r.upperBound...]
    }
    return result + rest
  }
}

extension Substring {
  func firstRange(ofText target: String) -> Range<Substring.Index>? {
    var i = startIndex
    while i < endIndex {
      if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
      i = index(after: i)
    }
    return nil
  }
}
