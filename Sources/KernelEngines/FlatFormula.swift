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

extension FlatFormula {
  /// The C declaration of node `id`'s array `name` (of `type`, after the storage class `storage`)
  /// and the statement that computes it (`operationStatement`); nil for a variable, whose values
  /// the caller reads in place.
  public func computation(
    _ id: Int, into name: String, type: String, work: String, storage: String = "",
    operand: @escaping (Int, String) -> String
  ) -> String? {
    switch nodes[id].kind {
    case .variable: return nil
    case .real(let x): return "\(type) \(name)[1]; \(name)[0] = (\(type))\(cDoubleLiteral(x));"
    case .operation:
      let statement = operationStatement(id, into: name, work: work, operand: operand)
      return "\(storage)\(type) \(name)[\(nodes[id].dim)]; \(statement)"
    }
  }

  /// The C statement (after its array's declaration) that computes operation node `id` into
  /// `name[0 ..< dim]` in the work type `work`, from the operation table's C template or C emitter;
  /// `operand(input, index)` is the parenthesised C expression of component `index` of input node
  /// `input`. The CPU and CUDA generators share it.
  public func operationStatement(_ id: Int, into name: String, work: String, operand: @escaping (Int, String) -> String) -> String {
    let n = nodes[id]
    guard case .operation(let op) = n.kind else { preconditionFailure("node \(id) is not an operation") }
    if let template = op.cTemplate {
      if n.dim == 1 {
        let args = n.inputs.map { operand($0, "0") }
        return "\(name)[0] = \(instantiateCTemplate(template, args: args, params: n.params, type: work));"
      }
      let args = n.inputs.map { operand($0, "ks_k") }
      return "for (int ks_k = 0; ks_k < \(n.dim); ks_k++) \(name)[ks_k] = "
        + "\(instantiateCTemplate(template, args: args, params: n.params, type: work));"
    }
    if let emitter = op.cEmit {
      let inputs = n.inputs
      return emitter(
        CEmitContext(
          argumentDims: inputs.map { nodes[$0].dim }, params: n.params, outDim: n.dim, work: work,
          arg: { a, index in operand(inputs[a], index) },
          out: { index in "\(name)[\(index)]" }))
    }
    preconditionFailure("operation \(op.name) has neither a C template nor a C emitter")
  }
}
