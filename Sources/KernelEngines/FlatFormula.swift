import FormulaLanguage

/// A formula tree flattened in post-order, shared subtrees once, each node marked with the indices
/// it depends on: what every engine walks to evaluate or emit a formula.
public struct FlatFormula: Sendable {
  public struct Node: Sendable {
    public var kind: FormulaNode.Kind
    /// Positions of the arguments in `nodes` (always earlier than this node).
    public var inputs: [Int]
    public var params: [Int]
    public var dim: Int
    /// Depends on the output index (i for axis=1).
    public var usesOutput: Bool
    /// Depends on the reduced index (j for axis=1): cannot be hoisted out of the reduction loop.
    public var usesReduced: Bool

    public var isVariable: Bool {
      if case .variable = kind { return true }
      return false
    }
  }

  public private(set) var nodes: [Node] = []
  public private(set) var root = 0

  /// Flattens `formula` for a reduction whose output rows are indexed by `output`.
  public init(_ formula: FormulaNode, output: VariableCategory) {
    var memo: [FormulaNode: Int] = [:]
    func visit(_ n: FormulaNode) -> Int {
      if let s = memo[n] { return s }
      let inputs = n.children.map(visit)
      var node = Node(kind: n.kind, inputs: inputs, params: n.params, dim: n.dim, usesOutput: false, usesReduced: false)
      if case .variable(let v) = n.kind {
        node.usesOutput = v.category == output
        node.usesReduced = v.category != output && v.category != .parameter
      }
      for k in inputs {
        node.usesOutput = node.usesOutput || nodes[k].usesOutput
        node.usesReduced = node.usesReduced || nodes[k].usesReduced
      }
      nodes.append(node)
      memo[n] = nodes.count - 1
      return nodes.count - 1
    }
    root = visit(formula)
  }

  /// The variables of the formula, each once, in first-use order.
  public var variables: [Variable] {
    var seen: [Variable] = []
    for n in nodes {
      if case .variable(let v) = n.kind, !seen.contains(v) { seen.append(v) }
    }
    return seen
  }
}
