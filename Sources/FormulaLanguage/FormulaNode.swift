import KSDiagnostics

/// A node of a validated formula: every child is checked and every dimension is known.
///
/// Engines work only from this tree (never from formula text). Nodes are immutable and shared.
public final class FormulaNode: Sendable, Hashable, CustomStringConvertible {
  /// What a node computes.
  public enum Kind: Sendable, Hashable {
    /// An operation of the table applied to `children` and integer `params`.
    case operation(Operation)
    /// An input variable.
    case variable(Variable)
    /// A floating-point constant written in the formula (`0.5*x`), of dimension 1.
    case real(Double)
  }

  public let kind: Kind
  public let children: [FormulaNode]
  public let params: [Int]
  public let dim: Int
  /// Where the node was written, relative to the formula string (nil for nodes ks made).
  public let range: SourceRange?
  /// The structural hash, computed once (trees are compared and hashed often while differentiating).
  private let structuralHash: Int

  public init(kind: Kind, children: [FormulaNode] = [], params: [Int] = [], dim: Int, range: SourceRange?) {
    self.kind = kind
    self.children = children
    self.params = params
    self.dim = dim
    self.range = range
    var h = Hasher()
    h.combine(kind)
    h.combine(params)
    for c in children { h.combine(c.structuralHash) }
    self.structuralHash = h.finalize()
  }

  /// Builds and validates an operation node, checking arity, parameters and dimensions.
  public static func make(
    _ op: Operation, _ children: [FormulaNode], params: [Int] = [], range: SourceRange? = nil
  ) throws(Diagnostic) -> FormulaNode {
    precondition(
      children.count == op.arity && (op.variadicParams || params.count == op.paramCount), "bad arity for \(op.name)")
    do throws(DimensionError) {
      let dim = try op.dimension(children.map(\.dim), params)
      try FormulaLimits.checkResult(dim)
      return FormulaNode(kind: .operation(op), children: children, params: params, dim: dim, range: range)
    } catch {
      throw Diagnostic("\(op.name): \(error.message)", at: range)
    }
  }

  /// The operation, if this is an operation node.
  public var operation: Operation? {
    if case .operation(let op) = kind { return op }
    return nil
  }

  /// Every variable used in the tree, each once, in first-use order.
  public var variables: [Variable] {
    var seen: [Variable] = []
    func walk(_ n: FormulaNode) {
      if case .variable(let v) = n.kind, !seen.contains(v) { seen.append(v) }
      n.children.forEach(walk)
    }
    walk(self)
    return seen
  }

  /// The tree in KeOps' notation, e.g. `Exp(Minus(SqDist(Var(0,3,0),Var(1,3,1))))`.
  public var description: String {
    switch kind {
    case .variable(let v): return v.description
    case .real(let x): return "Real(\(x))"
    case .operation(let op):
      let args = children.map(\.description) + params.map(String.init)
      return "\(op.name)(\(args.joined(separator: ",")))"
    }
  }

  public static func == (a: FormulaNode, b: FormulaNode) -> Bool {
    a === b
      || (a.structuralHash == b.structuralHash && a.kind == b.kind && a.params == b.params && a.children == b.children)
  }

  public func hash(into h: inout Hasher) {
    h.combine(structuralHash)
  }

  /// True when the tree uses variable `v` somewhere.
  public func uses(_ v: Variable) -> Bool {
    var seen = Set<ObjectIdentifier>()
    func walk(_ n: FormulaNode) -> Bool {
      if case .variable(let w) = n.kind { return w == v }
      guard seen.insert(ObjectIdentifier(n)).inserted else { return false }
      return n.children.contains(where: walk)
    }
    return walk(self)
  }
}

/// A dimension rule violation; the builder attaches the source range.
public struct DimensionError: Error, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
}
