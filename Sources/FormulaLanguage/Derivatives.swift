import KSDiagnostics

// Symbolic differentiation (KeOps' Grad, Diff, Divergence, Laplacian, GradMatrix, TraceOperator,
// AdjointOperator): pure functions from validated trees to validated trees of table operations.
//
// Each operation declares, in its row of the operation table, how a gradient flows back through it
// (`Differentiability`): given e, the gradient with respect to the operation's value, the gradient
// with respect to each argument (a vector-Jacobian product). `Derivatives.grad` chains those rules
// over the tree in reverse order, accumulating the contributions reaching each shared subtree once.
// The results are built with `Term`'s simplifying constructors (zeros vanish, constants fold,
// x + x = 2*x, ...), so the trees handed to the engines stay small.

/// How a gradient goes back through an operation.
public enum Differentiability: Sendable {
  /// The rule: from the node and e (the gradient with respect to its value, of its dimension),
  /// one term per argument, the gradient with respect to that argument (zero terms where none flows).
  case rule(DerivativeRule)
  /// Piecewise constant: the gradient is zero (KeOps' rule for Sign, Step, Floor, comparisons...).
  case zero
  /// Not differentiable; the text says why in errors.
  case none(String)

  /// A word for the formula reference.
  public var summary: String {
    switch self {
    case .rule: return "yes"
    case .zero: return "yes (gradient 0)"
    case .none: return "no"
    }
  }
}

/// What a derivative rule gets: the node f = op(args) and e, the gradient with respect to f.
public struct DerivativeInput {
  public let node: FormulaNode
  public let gradient: Term
  /// For each argument, whether it depends on the variable of differentiation (a rule may refuse
  /// to differentiate with respect to some argument only when that matters).
  public var argumentDependsOnVariable: [Bool] = []

  /// Argument `k` of the node.
  public func arg(_ k: Int) -> Term { Term(node.children[k]) }
  /// The node itself (its value), for rules such as Exp's.
  public var value: Term { Term(node) }
  public var params: [Int] { node.params }
  /// The dimension of argument `k`.
  public func dim(_ k: Int) -> Int { node.children[k].dim }
}

/// A derivative rule; the terms it returns may have dimension 1 for an argument of dimension d
/// (broadcast) or d for an argument of dimension 1 (summed), as KeOps' broadcasting rule implies.
public typealias DerivativeRule = @Sendable (DerivativeInput) throws -> [Term]

// MARK: - Terms: formulas with a known zero and simplifying constructors

/// A formula during differentiation: a validated node, or a zero of known dimension.
public struct Term: Sendable {
  /// nil for a zero vector.
  public let node: FormulaNode?
  public let dim: Int

  /// `Zero(d)` and `IntCst(0)` nodes become zero terms.
  public init(_ node: FormulaNode) {
    self.dim = node.dim
    if let op = node.operation, (op.name == "Zero") || (op.name == "IntCst" && node.params == [0]) {
      self.node = nil
    } else if case .real(0) = node.kind {
      self.node = nil
    } else {
      self.node = node
    }
  }

  private init(zero dim: Int) {
    self.node = nil
    self.dim = dim
  }

  public static func zero(_ dim: Int) -> Term { Term(zero: dim) }

  public var isZero: Bool { node == nil }

  /// The node, with `Zero(d)` for a zero term.
  public func materialized() throws -> FormulaNode {
    if let n = node { return n }
    return try FormulaNode.make(op("Zero"), [], params: [dim])
  }

  // MARK: Constants

  /// An exact rational p/q (q > 0, reduced) or a float constant.
  enum Constant: Equatable {
    case rational(Int, Int)
    case real(Double)

    var double: Double {
      switch self {
      case .rational(let p, let q): return Double(p) / Double(q)
      case .real(let x): return x
      }
    }

    static func reduced(_ p: Int, _ q: Int) -> Constant {
      guard q != 0 else { return .real(Double(p) / Double(q)) }
      if p == Int.min || q == Int.min { return .real(Double(p) / Double(q)) }
      var a = Swift.abs(p), b = Swift.abs(q)
      while b != 0 { (a, b) = (b, a % b) }
      let g = Swift.max(a, 1)
      return q < 0 ? .rational(-p / g, -q / g) : .rational(p / g, q / g)
    }

    static func * (a: Constant, b: Constant) -> Constant {
      if case .rational(let p, let q) = a, case .rational(let r, let s) = b {
        let (n, o1) = p.multipliedReportingOverflow(by: r)
        let (d, o2) = q.multipliedReportingOverflow(by: s)
        if !o1 && !o2 { return reduced(n, d) }
      }
      return .real(a.double * b.double)
    }

    static func + (a: Constant, b: Constant) -> Constant {
      if case .rational(let p, let q) = a, case .rational(let r, let s) = b {
        let (x, o1) = p.multipliedReportingOverflow(by: s)
        let (y, o2) = r.multipliedReportingOverflow(by: q)
        let (n, o3) = x.addingReportingOverflow(y)
        let (d, o4) = q.multipliedReportingOverflow(by: s)
        if !(o1 || o2 || o3 || o4) { return reduced(n, d) }
      }
      return .real(a.double + b.double)
    }

    var negated: Constant {
      if case .rational(let p, let q) = self, p != Int.min { return .rational(-p, q) }
      return .real(-double)
    }

    var reciprocal: Constant? {
      switch self {
      case .rational(0, _): return nil
      case .rational(let p, let q): return Constant.reduced(q, p)
      case .real(let x): return x == 0 ? nil : .real(1 / x)
      }
    }

    var term: Term {
      get throws {
        switch self {
        case .rational(0, _): return .zero(1)
        case .rational(let p, 1): return Term(try FormulaNode.make(op("IntCst"), [], params: [p]))
        case .rational(let p, let q): return Term(try FormulaNode.make(op("RatCst"), [], params: [p, q]))
        case .real(let x): return x == 0 ? .zero(1) : Term(FormulaNode(kind: .real(x), dim: 1, range: nil))
        }
      }
    }
  }

  /// The value of a constant node (IntCst, RatCst, IntInv, a float literal); zero terms of
  /// dimension 1 are the constant 0.
  var constant: Constant? {
    guard let n = node else { return dim == 1 ? .rational(0, 1) : nil }
    if case .real(let x) = n.kind { return .real(x) }
    guard let op = n.operation else { return nil }
    switch op.name {
    case "IntCst": return .rational(n.params[0], 1)
    case "RatCst": return Constant.reduced(n.params[0], n.params[1])
    case "IntInv": return Constant.reduced(1, n.params[0])
    default: return nil
    }
  }

  public static func int(_ k: Int) throws -> Term { try Constant.rational(k, 1).term }
  public static func rational(_ p: Int, _ q: Int) throws -> Term { try Constant.reduced(p, q).term }

  private func isOperation(_ name: String) -> Bool { node?.operation?.name == name }
  private func child(_ k: Int) -> Term { Term(node!.children[k]) }

  // MARK: Building

  /// `name(args)` with integer parameters; zero arguments are materialized.
  public static func make(_ name: String, _ args: [Term], params: [Int] = []) throws -> Term {
    Term(try FormulaNode.make(op(name), try args.map { try $0.materialized() }, params: params))
  }

  /// `name(args)` for an operation that is zero when any argument is zero (products).
  public static func product(_ name: String, _ args: [Term], params: [Int] = []) throws -> Term {
    if args.contains(where: \.isZero) { return .zero(try dimension(name, args, params)) }
    return try make(name, args, params: params)
  }

  /// `name(args)` for an operation linear in all its arguments together (zero when all are).
  public static func linear(_ name: String, _ args: [Term], params: [Int] = []) throws -> Term {
    if args.allSatisfy(\.isZero) { return .zero(try dimension(name, args, params)) }
    return try make(name, args, params: params)
  }

  static func dimension(_ name: String, _ args: [Term], _ params: [Int]) throws -> Int {
    do throws(DimensionError) {
      return try op(name).dimension(args.map(\.dim), params)
    } catch {
      throw Diagnostic("\(name): \(error.message)", at: nil)
    }
  }

  /// This term with dimension `d`: a dimension-1 term is repeated (SumT), a dimension-d term
  /// reaching a dimension-1 argument is summed (the adjoint of broadcasting).
  public func fitted(to d: Int) throws -> Term {
    if dim == d { return self }
    if isZero { return .zero(d) }
    if dim == 1 { return try Term.make("SumT", [self], params: [d]) }
    if d == 1 { return try Term.sum(self) }
    throw Diagnostic("internal error: a gradient of dimension \(dim) reaches a value of dimension \(d)", at: nil)
  }

  static func broadcastDim(_ a: Term, _ b: Term) throws -> Int {
    if a.dim == b.dim || b.dim == 1 { return a.dim }
    if a.dim == 1 { return b.dim }
    throw Diagnostic("internal error: dimensions \(a.dim) and \(b.dim) do not broadcast", at: nil)
  }

  public static func + (a: Term, b: Term) throws -> Term {
    let d = try broadcastDim(a, b)
    if a.isZero { return try b.fitted(to: d) }
    if b.isZero { return try a.fitted(to: d) }
    if let x = a.constant, let y = b.constant { return try (x + y).term }
    if b.isOperation("Minus") { return try a - b.child(0) }
    if a.isOperation("Minus") { return try b - a.child(0) }
    if a.node == b.node { return try Term.int(2) * a }
    return try make("Add", [a, b])
  }

  public static func - (a: Term, b: Term) throws -> Term {
    let d = try broadcastDim(a, b)
    if b.isZero { return try a.fitted(to: d) }
    if a.isZero { return try (-b).fitted(to: d) }
    if let x = a.constant, let y = b.constant { return try (x + y.negated).term }
    if b.isOperation("Minus") { return try a + b.child(0) }
    if a.node == b.node { return .zero(d) }
    return try make("Subtract", [a, b])
  }

  public static prefix func - (a: Term) throws -> Term {
    if a.isZero { return a }
    if let c = a.constant { return try c.negated.term }
    if a.isOperation("Minus") { return a.child(0) }
    if a.isOperation("Mult"), let c = a.child(0).constant {
      return try c.negated.term * a.child(1)
    }
    return try make("Minus", [a])
  }

  public static func * (a: Term, b: Term) throws -> Term {
    let d = try broadcastDim(a, b)
    if a.isZero || b.isZero { return .zero(d) }
    if let x = a.constant, let y = b.constant { return try (x * y).term }
    if b.constant != nil && a.constant == nil { return try b * a }
    if let x = a.constant {
      if x == .rational(1, 1) { return try b.fitted(to: d) }
      if x == .rational(-1, 1) { return try (-b).fitted(to: d) }
      if b.isOperation("Mult"), let y = b.child(0).constant { return try (x * y).term * b.child(1) }
      if b.isOperation("Minus") { return try -(a * b.child(0)) }
    }
    if a.isOperation("Minus") { return try -(a.child(0) * b) }
    if b.isOperation("Minus") { return try -(a * b.child(0)) }
    // A repeated scalar times a vector of its dimension: the scalar times the vector.
    if a.isOperation("SumT") && b.dim == a.dim { return try a.child(0) * b }
    if b.isOperation("SumT") && a.dim == b.dim { return try a * b.child(0) }
    // A vector with one nonzero component times anything: only that component remains.
    if a.isOperation("ElemT") && (b.dim == a.dim || b.dim == 1) {
      return try elemT(a.child(0) * elem(b, a.node!.params[1]), a.dim, a.node!.params[1])
    }
    if b.isOperation("ElemT") && (a.dim == b.dim || a.dim == 1) {
      return try elemT(elem(a, b.node!.params[1]) * b.child(0), b.dim, b.node!.params[1])
    }
    // Keep constants in front: c*x times y is c*(x*y).
    if a.isOperation("Mult"), a.child(0).constant != nil { return try a.child(0) * (a.child(1) * b) }
    if b.isOperation("Mult"), b.child(0).constant != nil { return try b.child(0) * (a * b.child(1)) }
    return try make("Mult", [a, b])
  }

  public static func / (a: Term, b: Term) throws -> Term {
    let d = try broadcastDim(a, b)
    if a.isZero { return .zero(d) }
    if let y = b.constant, let r = y.reciprocal { return try r.term * a }
    return try make("Divide", [a, b])
  }

  // MARK: Vector operations

  public static func sum(_ a: Term) throws -> Term {
    if a.dim == 1 { return a }
    if a.isZero { return .zero(1) }
    if a.isOperation("SumT") { return try Term.int(a.dim) * a.child(0) }
    if a.isOperation("ElemT") { return a.child(0) }
    if a.isOperation("Mult"), a.child(0).constant != nil { return try a.child(0) * sum(a.child(1)) }
    if a.isOperation("Minus") { return try -sum(a.child(0)) }
    return try make("Sum", [a])
  }

  public static func sumT(_ a: Term, _ d: Int) throws -> Term { try a.fitted(to: d) }

  /// Component m.
  public static func elem(_ a: Term, _ m: Int) throws -> Term {
    if a.dim == 1 { return a }
    if a.isZero { return .zero(1) }
    let n = a.node!
    switch n.operation?.name {
    case "ElemT": return n.params[1] == m ? a.child(0) : .zero(1)
    case "SumT": return a.child(0)
    case "Minus": return try -elem(a.child(0), m)
    case "Add": return try elem(a.child(0), m) + elem(a.child(1), m)
    case "Subtract": return try elem(a.child(0), m) - elem(a.child(1), m)
    case "Mult": return try elem(a.child(0), m) * elem(a.child(1), m)
    case "Divide": return try elem(a.child(0), m) / elem(a.child(1), m)
    case "Extract": return try elem(a.child(0), n.params[0] + m)
    case "Concat":
      let d0 = n.children[0].dim
      return m < d0 ? try elem(a.child(0), m) : try elem(a.child(1), m - d0)
    default: return try make("Elem", [a], params: [m])
    }
  }

  /// A vector of n zeros with a (dimension 1) at position m.
  public static func elemT(_ a: Term, _ n: Int, _ m: Int) throws -> Term {
    if n == 1 { return a }
    return try linear("ElemT", [a], params: [n, m])
  }

  public static func extract(_ a: Term, _ start: Int, _ len: Int) throws -> Term {
    if start == 0 && len == a.dim { return a }
    if len == 1 { return try elem(a, start) }
    if a.isOperation("SumT") { return try a.child(0).fitted(to: len) }
    return try linear("Extract", [a], params: [start, len])
  }

  public static func extractT(_ a: Term, _ start: Int, _ d: Int) throws -> Term {
    if start == 0 && a.dim == d { return a }
    if a.dim == 1 { return try elemT(a, d, start) }
    return try linear("ExtractT", [a], params: [start, d])
  }

  public static func concat(_ a: Term, _ b: Term) throws -> Term { try linear("Concat", [a, b]) }

  public static func scalprod(_ a: Term, _ b: Term) throws -> Term {
    if a.dim == 1 || b.dim == 1 { return try sum(a * b) }
    return try product("Scalprod", [a, b])
  }

  /// The elementwise derivative rule of a vectorized operation: e * d(x).
  static func chain(_ e: Term, _ d: Term) throws -> Term { try e * d }
}

/// The operation named `name` (the names used here are all in the table).
func op(_ name: String) -> Operation {
  guard let o = Operation.named(name) else { preconditionFailure("operation \(name) missing from the table") }
  return o
}

// MARK: - The differential operators

/// KeOps' differential operators on validated trees.
public enum Derivatives {
  /// A variable that never appears in user formulas, used inside Diff and the linear operators.
  static func temporary(dim: Int, _ n: Int = 0) -> Variable {
    Variable(index: -1 - n, dim: dim, category: .parameter)
  }

  /// `Grad(f, v, e)`: [∂f/∂v]ᵀ e, of dimension dim(v); e has dimension dim(f) (or 1, broadcast).
  /// `range` is where errors point when the offending node has no range of its own.
  public static func grad(_ f: FormulaNode, _ v: Variable, _ e: FormulaNode, at range: SourceRange?) throws(Diagnostic)
    -> FormulaNode
  {
    do {
      return try gradTerm(f, v, Term(e).fitted(to: f.dim), at: range).materialized()
    } catch let d as Diagnostic {
      throw d.range == nil ? Diagnostic(d.message, at: range, notes: d.notes) : d
    } catch {
      throw Diagnostic("\(error)", at: range)
    }
  }

  /// Reverse accumulation over the nodes of f that depend on v, parents before children.
  static func gradTerm(_ f: FormulaNode, _ v: Variable, _ e: Term, at range: SourceRange?) throws -> Term {
    var depends: [ObjectIdentifier: Bool] = [:]
    func dependsOnV(_ n: FormulaNode) -> Bool {
      if let d = depends[ObjectIdentifier(n)] { return d }
      let d: Bool
      if case .variable(let w) = n.kind { d = w == v } else { d = n.children.contains(where: dependsOnV) }
      depends[ObjectIdentifier(n)] = d
      return d
    }
    guard dependsOnV(f), !e.isZero else { return .zero(v.dim) }
    // Post-order over structurally distinct nodes that depend on v.
    var order: [FormulaNode] = []
    var visited = Set<FormulaNode>()
    func visit(_ n: FormulaNode) {
      guard visited.insert(n).inserted else { return }
      for c in n.children where dependsOnV(c) { visit(c) }
      order.append(n)
    }
    visit(f)
    var adjoint: [FormulaNode: Term] = [f: e]
    var result = Term.zero(v.dim)
    for n in order.reversed() {
      guard let a = adjoint[n], !a.isZero else { continue }
      switch n.kind {
      case .variable:
        result = try result + a.fitted(to: v.dim)
      case .real:
        continue
      case .operation(let op):
        let contributions: [Term]
        switch op.differentiability {
        case .zero:
          continue
        case .none(let why):
          throw Diagnostic("\(op.name) is not differentiable: \(why)", at: n.range ?? range)
        case .rule(let rule):
          var input = DerivativeInput(node: n, gradient: a)
          input.argumentDependsOnVariable = n.children.map(dependsOnV)
          contributions = try rule(input)
        }
        precondition(contributions.count == n.children.count, "derivative rule of \(op.name) returns one term per argument")
        for (child, c) in zip(n.children, contributions) where dependsOnV(child) && !c.isZero {
          let g = try c.fitted(to: child.dim)
          adjoint[child] = try adjoint[child].map { try $0 + g } ?? g
        }
      }
    }
    return result
  }

  /// `Diff(f, v, u)`: the directional derivative [∂f/∂v] u, of dimension dim(f). Computed as the
  /// gradient, with respect to a temporary w, of Grad(f, v, w) (which is linear in w) applied to u.
  public static func diff(_ f: FormulaNode, _ v: Variable, _ u: FormulaNode, at range: SourceRange?) throws(Diagnostic)
    -> FormulaNode
  {
    let w = temporary(dim: f.dim)
    let wNode = FormulaNode(kind: .variable(w), dim: w.dim, range: nil)
    let g = try grad(f, v, wNode, at: range)
    let d = try grad(g, w, u, at: range)
    guard !d.uses(w) else {
      throw Diagnostic("internal error: Diff could not eliminate its temporary variable", at: range)
    }
    return d
  }

  /// The unit vector k of dimension d, `ElemT(IntCst(1), d, k)` (or `IntCst(1)` for d = 1).
  static func basis(_ d: Int, _ k: Int) throws -> Term { try Term.elemT(Term.int(1), d, k) }

  /// Σ_k w_k [∂f/∂v]_kk (w = 1 when nil): the (weighted) trace of the Jacobian; dim(f) = dim(v).
  static func weightedTrace(_ f: FormulaNode, _ v: Variable, _ w: Term?, at range: SourceRange?) throws -> Term {
    var total = Term.zero(1)
    for k in 0..<v.dim {
        let column = try gradTerm(f, v, basis(v.dim, k), at: range)
        var t = try Term.elem(column, k)
        if let w { t = try Term.elem(w, k) * t }
        total = try total + t
    }
    return total
  }

  /// `Divergence(f, v)`: the trace of the Jacobian of f with respect to v (dim(f) = dim(v)).
  public static func divergence(_ f: FormulaNode, _ v: Variable, at range: SourceRange?) throws(Diagnostic) -> FormulaNode {
    guard f.dim == v.dim else {
      throw Diagnostic(
        "Divergence needs a formula of the variable's dimension: the formula has dimension \(f.dim), the variable \(v.dim)",
        at: range)
    }
    return try wrap(range) { try weightedTrace(f, v, nil, at: range).materialized() }
  }

  /// `Laplacian(f, v)`: the divergence of the gradient of a scalar formula.
  public static func laplacian(_ f: FormulaNode, _ v: Variable, at range: SourceRange?) throws(Diagnostic) -> FormulaNode {
    guard f.dim == 1 else {
      throw Diagnostic("Laplacian needs a scalar formula (dimension 1), not dimension \(f.dim)", at: range)
    }
    let one = try FormulaNode.make(op("IntCst"), [], params: [1])
    return try divergence(try grad(f, v, one, at: range), v, at: range)
  }

  /// `GradMatrix(f, v)`: the transposed Jacobian, row k being Grad(f, v, e_k), of dimension dim(f)*dim(v).
  public static func gradMatrix(_ f: FormulaNode, _ v: Variable, at range: SourceRange?) throws(Diagnostic) -> FormulaNode {
    try wrap(range) {
      var rows: Term?
      for k in 0..<f.dim {
        let r = try gradTerm(f, v, basis(f.dim, k), at: range).fitted(to: v.dim)
        rows = try rows.map { try Term.concat($0, r) } ?? r
      }
      return try rows!.materialized()
    }
  }

  /// Refuses a formula that is not affine in v (its gradient would still depend on v).
  static func requireLinear(_ f: FormulaNode, _ v: Variable, _ name: String, at range: SourceRange?) throws {
    let w = temporary(dim: f.dim)
    let g = try gradTerm(f, v, Term(FormulaNode(kind: .variable(w), dim: w.dim, range: nil)), at: range)
    if let n = g.node, n.uses(v) {
      throw Diagnostic("\(name) needs a formula linear in \(v), but this one is not", at: range)
    }
  }

  /// `AdjointOperator(f, v, u)`: for f linear in v, the adjoint of v ↦ f applied to u (= Grad(f, v, u)).
  public static func adjointOperator(_ f: FormulaNode, _ v: Variable, _ u: FormulaNode, at range: SourceRange?)
    throws(Diagnostic) -> FormulaNode
  {
    guard u.dim == f.dim || u.dim == 1 else {
      throw Diagnostic("AdjointOperator: u has dimension \(u.dim) but the formula has dimension \(f.dim)", at: range)
    }
    try wrap(range) { try requireLinear(f, v, "AdjointOperator", at: range) }
    return try grad(f, v, u, at: range)
  }

  /// `TraceOperator(f, v[, w])`: for f linear in v with matrix M, tr(M) when dim(f) = dim(v)
  /// (weighted: w*tr(M) or Σ w_k M_kk), Σ_k M_k when dim(f) = 1 (weighted: Σ w_k M_k).
  public static func traceOperator(_ f: FormulaNode, _ v: Variable, _ w: FormulaNode?, at range: SourceRange?)
    throws(Diagnostic) -> FormulaNode
  {
    if let w, w.dim != 1 && w.dim != v.dim {
      throw Diagnostic("TraceOperator: w must have dimension 1 or \(v.dim) (the variable's), not \(w.dim)", at: range)
    }
    guard f.dim == v.dim || f.dim == 1 else {
      throw Diagnostic("TraceOperator: the formula must have dimension 1 or \(v.dim) (the variable's), not \(f.dim)", at: range)
    }
    return try wrap(range) {
      try requireLinear(f, v, "TraceOperator", at: range)
      let wt = w.map(Term.init)
      if f.dim == 1 && v.dim != 1 {
        let g = try gradTerm(f, v, Term.int(1), at: range)
        if let wt, wt.dim != 1 { return try Term.scalprod(wt, g).materialized() }
        return try ((wt ?? Term.int(1)) * Term.sum(g)).materialized()
      }
      if let wt, wt.dim == 1 { return try (wt * weightedTrace(f, v, nil, at: range)).materialized() }
      return try weightedTrace(f, v, wt, at: range).materialized()
    }
  }

  static func wrap<T>(_ range: SourceRange?, _ body: () throws -> T) throws(Diagnostic) -> T {
    do {
      return try body()
    } catch let d as Diagnostic {
      throw d.range == nil ? Diagnostic(d.message, at: range, notes: d.notes) : d
    } catch {
      throw Diagnostic("\(error)", at: range)
    }
  }
}
