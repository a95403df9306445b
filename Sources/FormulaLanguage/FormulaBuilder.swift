import Foundation
import KSDiagnostics

/// Turns formula syntax into a validated `FormulaNode`, applying KeOps' Python semantics:
/// operators build operations (`f*g` is Mult, `1/f` is Inv, `f**2` is Square, `f**m` is Pow,
/// `(f|g)` is Scalprod, `f > g` is LessThan(g, f)), numbers alone follow Python arithmetic, and a
/// number meeting a formula becomes `IntCst(n)` (or a real constant, beyond KeOps).
public struct FormulaBuilder {
  /// The aliases visible in the formula, by name.
  public var names: [String: Variable]
  /// The category output rows are indexed by (GradFromPos's new variable takes it).
  public var outputCategory: VariableCategory = .i
  /// Variables written as `Var(pos, dim, cat)` (or `Vi(pos, dim)`...) inside the formula.
  public private(set) var inlineVariables: [(Variable, SourceRange)] = []

  public init(names: [String: Variable]) {
    self.names = names
  }

  /// A Python value during evaluation of the formula text.
  enum Value {
    case int(Int, SourceRange)
    case real(Double, SourceRange)
    case node(FormulaNode)
    case list([Int], SourceRange)

    var range: SourceRange? {
      switch self {
      case .int(_, let r), .real(_, let r), .list(_, let r): return r
      case .node(let n): return n.range
      }
    }
  }

  /// Builds the whole formula; the result must be a formula (a bare number is refused).
  public mutating func build(_ syntax: FormulaSyntax) throws(Diagnostic) -> FormulaNode {
    let v = try evaluate(syntax)
    return try asNode(v)
  }

  /// A number where a formula is needed becomes a constant node.
  func asNode(_ v: Value) throws(Diagnostic) -> FormulaNode {
    switch v {
    case .node(let n): return n
    case .int(let k, let r):
      return try FormulaNode.make(Operation.named("IntCst")!, [], params: [k], range: r)
    case .real(let x, let r):
      return FormulaNode(kind: .real(x), dim: 1, range: r)
    case .list(_, let r):
      throw Diagnostic("a list is not a formula", at: r)
    }
  }

  func op(_ name: String) -> Operation {
    guard let o = Operation.named(name) else { preconditionFailure("operation \(name) missing from the table") }
    return o
  }

  mutating func evaluate(_ s: FormulaSyntax) throws(Diagnostic) -> Value {
    switch s {
    case .integer(let v, let r): return .int(v, r)
    case .real(let v, let r): return .real(v, r)
    case .list(let items, let r):
      var ints: [Int] = []
      for item in items {
        guard case .int(let k, _) = try evaluate(item) else { throw Diagnostic("list items must be integers", at: item.range) }
        ints.append(k)
      }
      return .list(ints, r)
    case .name(let n, let r):
      if let v = names[n] { return .node(FormulaNode(kind: .variable(v), dim: v.dim, range: r)) }
      if let o = Operation.named(n) {
        throw Diagnostic("'\(n)' is an operation; call it as \(o.signature)", at: r)
      }
      // Sorted, so that the suggestion among equally close names does not depend on hashing.
      let known = names.keys.sorted()
      let hint = Suggestions.closest(to: n, among: known).map { "; did you mean '\($0)'?" } ?? ""
      throw Diagnostic(
        "unknown name '\(n)'\(hint)", at: r,
        notes: known.isEmpty ? ["no aliases are declared"] : ["declared aliases: \(known.joined(separator: ", "))"])
    case .unary(let o, let operand, let r):
      let v = try evaluate(operand)
      switch (o, v) {
      case ("+", _): return v
      case ("-", .int(let k, _)): return .int(-k, r)
      case ("-", .real(let x, _)): return .real(-x, r)
      default: return .node(try FormulaNode.make(op("Minus"), [try asNode(v)], range: r))
      }
    case .binary(let o, let lhs, let rhs, let opRange, let r):
      return try binary(o, try evaluate(lhs), try evaluate(rhs), opRange: opRange, range: r)
    case .call(let name, let nameRange, let args, let r):
      return try call(name, nameRange: nameRange, args: args, range: r)
    }
  }

  mutating func binary(_ o: String, _ a: Value, _ b: Value, opRange: SourceRange, range r: SourceRange) throws(Diagnostic) -> Value {
    // Python arithmetic on two numbers.
    if let x = number(a), let y = number(b) {
      return try numeric(o, a, b, x, y, opRange: opRange, range: r)
    }
    switch o {
    case "+": return .node(try FormulaNode.make(op("Add"), [try asNode(a), try asNode(b)], range: r))
    case "-": return .node(try FormulaNode.make(op("Subtract"), [try asNode(a), try asNode(b)], range: r))
    case "*": return .node(try FormulaNode.make(op("Mult"), [try asNode(a), try asNode(b)], range: r))
    case "/":
      if case .int(1, _) = a { return .node(try FormulaNode.make(op("Inv"), [try asNode(b)], range: r)) }
      return .node(try FormulaNode.make(op("Divide"), [try asNode(a), try asNode(b)], range: r))
    case "**":
      let base = try asNode(a)
      switch b {
      case .int(2, _): return .node(try FormulaNode.make(op("Square"), [base], range: r))
      case .int(let m, _): return .node(try FormulaNode.make(op("Pow"), [base], params: [m], range: r))
      case .real(0.5, _): return .node(try FormulaNode.make(op("Sqrt"), [base], range: r))
      default: return .node(try FormulaNode.make(op("Powf"), [base, try asNode(b)], range: r))
      }
    case "|": return .node(try FormulaNode.make(op("Scalprod"), [try asNode(a), try asNode(b)], range: r))
    case "<": return .node(try FormulaNode.make(op("LessThan"), [try asNode(a), try asNode(b)], range: r))
    case ">": return .node(try FormulaNode.make(op("LessThan"), [try asNode(b), try asNode(a)], range: r))
    case "<=": return .node(try FormulaNode.make(op("LessOrEqual"), [try asNode(a), try asNode(b)], range: r))
    case ">=": return .node(try FormulaNode.make(op("LessOrEqual"), [try asNode(b), try asNode(a)], range: r))
    case "==": return .node(try FormulaNode.make(op("Equal"), [try asNode(a), try asNode(b)], range: r))
    case "!=": return .node(try FormulaNode.make(op("NotEqual"), [try asNode(a), try asNode(b)], range: r))
    default: throw Diagnostic("unsupported operator '\(o)'", at: opRange)
    }
  }

  func number(_ v: Value) -> Double? {
    switch v {
    case .int(let k, _): return Double(k)
    case .real(let x, _): return x
    default: return nil
    }
  }

  func numeric(_ o: String, _ a: Value, _ b: Value, _ x: Double, _ y: Double, opRange: SourceRange, range r: SourceRange) throws(Diagnostic) -> Value {
    if case .int(let i, _) = a, case .int(let j, _) = b {
      switch o {
      case "+": let (v, ovf) = i.addingReportingOverflow(j); if !ovf { return .int(v, r) }
      case "-": let (v, ovf) = i.subtractingReportingOverflow(j); if !ovf { return .int(v, r) }
      case "*": let (v, ovf) = i.multipliedReportingOverflow(by: j); if !ovf { return .int(v, r) }
      case "**" where j >= 0:
        var v = 1
        var ok = true
        for _ in 0..<min(j, 64) {
          let (w, ovf) = v.multipliedReportingOverflow(by: i)
          if ovf { ok = false; break }
          v = w
        }
        if ok && j <= 64 { return .int(v, r) }
      default: break
      }
    }
    switch o {
    case "+": return .real(x + y, r)
    case "-": return .real(x - y, r)
    case "*": return .real(x * y, r)
    case "/":
      if y == 0 { throw Diagnostic("division by zero", at: r) }
      return .real(x / y, r)
    case "**":
      // Python raises here rather than returning inf or nan.
      if x == 0 && y < 0 { throw Diagnostic("0 cannot be raised to a negative power", at: r) }
      if x < 0 && y != y.rounded() {
        throw Diagnostic("a negative number raised to a fractional power is not a real number", at: r)
      }
      let v = Foundation.pow(x, y)
      if !v.isFinite { throw Diagnostic("the power is too large", at: r) }
      return .real(v, r)
    default:
      throw Diagnostic("'\(o)' between two numbers is not a formula; write a formula on at least one side", at: opRange)
    }
  }

  mutating func call(_ name: String, nameRange: SourceRange, args: [FormulaSyntax], range r: SourceRange) throws(Diagnostic) -> Value {
    // Variables written inside the formula.
    if ["Var", "Vi", "Vj", "Pm"].contains(name) {
      var ints: [Int] = []
      for a in args {
        guard case .int(let k, _) = try evaluate(a) else { throw Diagnostic("\(name) takes integer arguments", at: a.range) }
        ints.append(k)
      }
      let v: Variable
      if name == "Var" {
        guard ints.count == 3, let c = VariableCategory(rawValue: ints[2]) else {
          throw Diagnostic("Var takes (pos, dim, cat) with cat 0 (Vi), 1 (Vj) or 2 (Pm)", at: r)
        }
        v = Variable(index: ints[0], dim: ints[1], category: c)
      } else {
        guard ints.count == 2 else {
          throw Diagnostic("inside a formula, \(name) needs an explicit position: \(name)(pos, dim)", at: r)
        }
        v = Variable(index: ints[0], dim: ints[1], category: name == "Vi" ? .i : (name == "Vj" ? .j : .parameter))
      }
      guard v.index >= 0, v.dim >= 1 else { throw Diagnostic("\(name) needs pos >= 0 and dim >= 1", at: r) }
      if let problem = FormulaLimits.problem(dim: v.dim, position: v.index) { throw Diagnostic("\(name): \(problem)", at: r) }
      inlineVariables.append((v, r))
      return .node(FormulaNode(kind: .variable(v), dim: v.dim, range: r))
    }
    if Self.differentialOperators[name] != nil {
      return .node(try differential(name, nameRange: nameRange, args: args, range: r))
    }
    if name == "TensorDot" || name == "Kron" {
      return .node(try tensorDot(name, args: args, range: r))
    }
    guard let o = Operation.named(name) else {
      if Self.unsupported.contains(name) {
        throw Diagnostic("operation '\(name)' is not supported by ks yet", at: nameRange)
      }
      if name.hasSuffix("_Reduction") {
        throw Diagnostic("reductions are chosen with reduction_op=..., not written in the formula", at: nameRange)
      }
      let hint = Suggestions.closest(to: name, among: Operation.allNames).map { "; did you mean '\($0)'?" } ?? ""
      throw Diagnostic("unknown operation '\(name)'\(hint)", at: nameRange)
    }
    let expected = o.arity + o.paramCount
    guard args.count == expected else {
      throw Diagnostic(
        "\(name) takes \(expected) argument\(expected == 1 ? "" : "s"), got \(args.count)", at: r,
        notes: ["usage: \(o.signature)"])
    }
    var children: [FormulaNode] = []
    for a in args.prefix(o.arity) { children.append(try asNode(try evaluate(a))) }
    var params: [Int] = []
    for (k, a) in args.dropFirst(o.arity).enumerated() {
      guard case .int(let v, _) = try evaluate(a) else {
        throw Diagnostic("the parameter '\(o.paramNames[k])' of \(name) must be an integer literal", at: a.range,
                         notes: ["usage: \(o.signature)"])
      }
      params.append(v)
    }
    if name == "IntCst" || name == "Zero" || name == "RatCst" || name == "IntInv" {
      return .node(try FormulaNode.make(o, [], params: params, range: r))
    }
    return .node(try FormulaNode.make(o, children, params: params, range: r))
  }

  static let unsupported: Set<String> = ["Factorize", "AutoFactorize"]

  // MARK: Differential operators

  /// The differential operators, expanded while building into trees of table operations.
  public static let differentialOperators: [String: String] = [
    "Grad": "Grad(f, v, e)", "GradFromPos": "GradFromPos(f, v, n)", "Diff": "Diff(f, v, u)",
    "Laplacian": "Laplacian(f, v)", "Divergence": "Divergence(f, v)", "GradMatrix": "GradMatrix(f, v)",
    "TraceOperator": "TraceOperator(f, v, w)", "AdjointOperator": "AdjointOperator(f, v, u)",
  ]

  mutating func differential(_ name: String, nameRange: SourceRange, args: [FormulaSyntax], range r: SourceRange) throws(
    Diagnostic
  ) -> FormulaNode {
    let usage = Self.differentialOperators[name]!
    let counts: ClosedRange<Int> =
      switch name {
      case "Grad", "TraceOperator": 2...3
      case "GradFromPos", "Diff", "AdjointOperator": 3...3
      default: 2...2
      }
    guard counts.contains(args.count) else {
      let n = counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound) or \(counts.upperBound)"
      throw Diagnostic("\(name) takes \(n) arguments, got \(args.count)", at: r, notes: ["usage: \(usage)"])
    }
    let f = try asNode(try evaluate(args[0]))
    guard case .node(let vNode) = try evaluate(args[1]), case .variable(let v) = vNode.kind else {
      throw Diagnostic(
        "the second argument of \(name) must be a variable (an alias or Var(pos, dim, cat))", at: args[1].range,
        notes: ["usage: \(usage)"])
    }
    guard writtenVariables(args[0]).contains(v) else {
      let what = variableName(args[1]) ?? v.description
      throw Diagnostic("\(name) is taken with respect to '\(what)', which does not appear in the formula", at: args[1].range)
    }
    switch name {
    case "Grad", "GradFromPos":
      let e: FormulaNode
      if args.count == 3 && name == "Grad" {
        e = try asNode(try evaluate(args[2]))
        guard e.dim == f.dim || e.dim == 1 else {
          throw Diagnostic(
            "the gradient input e has dimension \(e.dim), but the formula has dimension \(f.dim)", at: args[2].range,
            notes: ["Grad(f, v, e) needs dim(e) = dim(f); the result has the dimension of v"])
        }
      } else {
        // A new variable: KeOps' Grad(f, v) takes position 1 + the largest of f, category 1 - cat(v);
        // GradFromPos(f, v, n) takes position n, indexed like the output (KeOps 1's rule).
        let position: Int
        let category: VariableCategory
        if name == "GradFromPos" {
          guard case .int(let n, _) = try evaluate(args[2]), n >= 0 else {
            throw Diagnostic("the position n of GradFromPos must be a non-negative integer literal", at: args[2].range)
          }
          position = n
          category = outputCategory
        } else {
          guard v.category != .parameter else {
            throw Diagnostic(
              "Grad(f, v) without e needs an i- or j-variable; give the gradient input explicitly: Grad(f, v, e)",
              at: args[1].range)
          }
          position = 1 + (f.variables.map(\.index).max() ?? -1)
          category = v.category == .i ? .j : .i
        }
        let ev = Variable(index: position, dim: f.dim, category: category)
        inlineVariables.append((ev, r))
        e = FormulaNode(kind: .variable(ev), dim: ev.dim, range: r)
      }
      return try Derivatives.grad(f, v, e, at: r)
    case "Diff":
      let u = try asNode(try evaluate(args[2]))
      guard u.dim == v.dim || u.dim == 1 else {
        throw Diagnostic(
          "the direction u has dimension \(u.dim), but the variable has dimension \(v.dim)", at: args[2].range,
          notes: ["Diff(f, v, u) needs dim(u) = dim(v); the result has the dimension of f"])
      }
      return try Derivatives.diff(f, v, u, at: r)
    case "Laplacian": return try Derivatives.laplacian(f, v, at: r)
    case "Divergence": return try Derivatives.divergence(f, v, at: r)
    case "GradMatrix": return try Derivatives.gradMatrix(f, v, at: r)
    case "AdjointOperator":
      return try Derivatives.adjointOperator(f, v, try asNode(try evaluate(args[2])), at: r)
    default:
      let w = args.count == 3 ? try asNode(try evaluate(args[2])) : nil
      return try Derivatives.traceOperator(f, v, w, at: r)
    }
  }

  /// The alias name written for a variable argument, if it is a plain name.
  func variableName(_ s: FormulaSyntax) -> String? {
    if case .name(let n, _) = s { return n }
    return nil
  }

  /// The variables written in a formula's text (aliases and Var(...)), derivatives included.
  func writtenVariables(_ s: FormulaSyntax) -> Set<Variable> {
    var out = Set<Variable>()
    func walk(_ s: FormulaSyntax) {
      switch s {
      case .name(let n, _): if let v = names[n] { out.insert(v) }
      case .integer, .real: break
      case .list(let items, _): items.forEach(walk)
      case .unary(_, let operand, _): walk(operand)
      case .binary(_, let a, let b, _, _): walk(a); walk(b)
      case .call(let name, _, let args, _):
        let ints = args.compactMap { a -> Int? in if case .integer(let k, _) = a { return k } else { return nil } }
        if name == "Var", ints.count == 3, args.count == 3, let c = VariableCategory(rawValue: ints[2]) {
          out.insert(Variable(index: ints[0], dim: ints[1], category: c))
        } else if ["Vi", "Vj", "Pm"].contains(name), ints.count == 2, args.count == 2 {
          out.insert(Variable(index: ints[0], dim: ints[1], category: name == "Vi" ? .i : (name == "Vj" ? .j : .parameter)))
        } else {
          args.forEach(walk)
        }
      }
    }
    walk(s)
    return out
  }

  // MARK: TensorDot and Kron

  /// `TensorDot(a, b, dimsfa, dimsfb, contfa, contfb[, permute])` and `Kron(a, b, dimsfa, dimsfb)`
  /// (a TensorDot without contraction whose kept axes interleave, as np.kron).
  mutating func tensorDot(_ name: String, args: [FormulaSyntax], range r: SourceRange) throws(Diagnostic) -> FormulaNode {
    let isKron = name == "Kron"
    let usage = isKron ? "Kron(f, g, dimsfa, dimsfb)" : "TensorDot(f, g, dimsfa, dimsfb, contfa, contfb[, permute])"
    let listNames = isKron ? ["dimsfa", "dimsfb"] : ["dimsfa", "dimsfb", "contfa", "contfb", "permute"]
    guard isKron ? args.count == 4 : (args.count == 6 || args.count == 7) else {
      throw Diagnostic("\(name) takes \(isKron ? "4" : "6 or 7") arguments, got \(args.count)", at: r, notes: ["usage: \(usage)"])
    }
    let a = try asNode(try evaluate(args[0]))
    let b = try asNode(try evaluate(args[1]))
    var lists: [[Int]] = []
    for (k, arg) in args.dropFirst(2).enumerated() {
      guard case .list(let ints, _) = try evaluate(arg) else {
        throw Diagnostic(
          "\(listNames[k]) of \(name) must be a tuple or list of integers, e.g. (2, 3) or [3]", at: arg.range,
          notes: ["usage: \(usage)"])
      }
      lists.append(ints)
    }
    let layout: TensorDotLayout
    if isKron {
      guard lists[0].count == lists[1].count else {
        throw Diagnostic(
          "Kron needs tensors with the same number of axes; dimsfa has \(lists[0].count), dimsfb \(lists[1].count)", at: r)
      }
      let n = lists[0].count
      layout = TensorDotLayout(
        dimsA: lists[0], dimsB: lists[1], contA: [], contB: [],
        permute: Array(stride(from: 0, to: 2 * n, by: 2)) + Array(stride(from: 1, to: 2 * n, by: 2)))
    } else {
      layout = TensorDotLayout(
        dimsA: lists[0], dimsB: lists[1], contA: lists[2], contB: lists[3], permute: lists.count == 5 ? lists[4] : nil)
    }
    return try FormulaNode.make(op("TensorDot"), [a, b], params: layout.params, range: r)
  }
}
