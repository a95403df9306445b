import ArrayIO
import FormulaLanguage
import KernelEngines

/// The kernel part of a KernelSolve formula of the form `k(x, y) * a` (a scalar kernel times the
/// unknown), found symbolically in the validated tree, and the dense blocks `K[I, J]` of the
/// matrix `K_ij = k(x_i, y_j)` computed on the engine.
///
/// A block is one Genred of `k(x, y) * e` where `e` takes the unknown's slot as a j-variable of
/// dimension `blockWidth`: with the reduced variables restricted to the rows J (at most
/// `blockWidth` of them) and `e` the identity, `out_i = sum_c k(x_i, y_c) e_c` is row i of K[:, J].
/// So the engine (compiled CPU, CUDA or reference) evaluates the kernel exactly as it does inside
/// the operator, from the validated tree, and no formula text is generated.
public struct KernelMatrix: Sendable {
  /// The scalar kernel k (a subtree of the formula that does not depend on the unknown).
  public let kernel: FormulaNode
  /// Columns per engine call.
  public static let blockWidth = 32

  let plan: KernelPlan
  let engine: any KernelEngine
  let arrays: [NDArray]
  /// The values of each i- or j-array, for gathering rows.
  let values: [[Double]?]
  let unknownIndex: Int
  let outputCategory: VariableCategory
  /// The order of the (square) matrix.
  public let order: Int

  /// `k` when `formula` is `k * v` or `v * k` with k scalar and free of v; nil otherwise.
  public static func kernelPart(of formula: FormulaNode, unknown v: Variable) -> FormulaNode? {
    guard let op = formula.operation, op.name == "Mult", formula.children.count == 2 else { return nil }
    let (l, r) = (formula.children[0], formula.children[1])
    func isUnknown(_ n: FormulaNode) -> Bool {
      if case .variable(let w) = n.kind { return w == v }
      return false
    }
    if isUnknown(r), l.dim == 1, !Linearity.depends(l, on: v) { return l }
    if isUnknown(l), r.dim == 1, !Linearity.depends(r, on: v) { return r }
    return nil
  }

  /// The kernel matrix of a prepared KernelSolve call, or nil when the formula is not `k * a`.
  init?(solver: KernelSolve, plan base: KernelPlan, arguments: KernelArguments, engine: any KernelEngine) {
    let reduced = base.formula
    let v = reduced.arguments[solver.unknownIndex]
    guard let k = Self.kernelPart(of: reduced.formula, unknown: v) else { return nil }
    let e = Variable(index: solver.unknownIndex, dim: Self.blockWidth, category: v.category)
    guard let mult = Operation.named("Mult"),
      let f = try? FormulaNode.make(mult, [k, FormulaNode(kind: .variable(e), dim: e.dim, range: nil)])
    else { return nil }
    var vars = reduced.arguments
    vars[solver.unknownIndex] = e
    let formula = ReducedFormula(
      reduction: .sum, formula: f, weight: nil, outputCategory: reduced.outputCategory, arguments: vars,
      argumentNames: reduced.argumentNames, sizeOrder: reduced.sizeOrder)
    plan = KernelPlan(
      formula: formula, dataType: base.dataType, computePrecision: base.computePrecision,
      accumulatorPrecision: base.accumulatorPrecision, sumScheme: base.sumScheme)
    self.kernel = k
    self.engine = engine
    arrays = arguments.arrays
    values = zip(vars, arguments.arrays).map { (v, a) in v.category == .parameter ? nil : a.toDoubles() }
    unknownIndex = solver.unknownIndex
    outputCategory = reduced.outputCategory
    order = arguments.outputRows
  }

  /// The columns `cols` of the rows `rows` (all rows when nil) of K, as a row-major
  /// `rows.count x cols.count` matrix.
  public func block(rows: [Int]?, cols: [Int], cancel: CancellationToken? = nil) throws(EngineError) -> [Double] {
    let nRows = rows?.count ?? order
    var out = [Double](repeating: 0, count: nRows * cols.count)
    var args = arrays
    for (k, a) in arrays.enumerated() where k != unknownIndex && plan.formula.arguments[k].category == outputCategory {
      if let rows { args[k] = gather(k, a, rows) }
    }
    let w = Self.blockWidth
    var start = 0
    while start < cols.count {
      let chunk = Array(cols[start..<min(cols.count, start + w)])
      for (k, a) in arrays.enumerated() where plan.formula.arguments[k].category != outputCategory {
        if k == unknownIndex || plan.formula.arguments[k].category == .parameter { continue }
        args[k] = gather(k, a, chunk)
      }
      var identity = [Double](repeating: 0, count: chunk.count * w)
      for c in 0..<chunk.count { identity[c * w + c] = 1 }
      args[unknownIndex] = NDArray(shape: [chunk.count, w], doubles: identity, dtype: plan.dataType)
      let raw = try engine.reduce(
        plan, KernelArguments(arrays: args, outputRows: nRows, reducedRows: chunk.count), cancel: cancel)
      let nc = cols.count
      for i in 0..<nRows {
        for c in 0..<chunk.count { out[i * nc + start + c] = raw[i * w + c] }
      }
      start += w
    }
    return out
  }

  /// The diagonal K_ii, in one engine call: the kernel with its reduced variables read as
  /// output variables (`k(x_i, y_i)`), times a reduced variable of one row equal to 1.
  public func diagonal(cancel: CancellationToken? = nil) throws(EngineError) -> [Double] {
    let reducedCategory: VariableCategory = outputCategory == .i ? .j : .i
    func recategorize(_ n: FormulaNode) -> FormulaNode {
      switch n.kind {
      case .variable(let v) where v.category == reducedCategory:
        return FormulaNode(kind: .variable(Variable(index: v.index, dim: v.dim, category: outputCategory)), dim: n.dim, range: n.range)
      case .operation:
        return FormulaNode(kind: n.kind, children: n.children.map(recategorize), params: n.params, dim: n.dim, range: n.range)
      default:
        return n
      }
    }
    let one = Variable(index: unknownIndex, dim: 1, category: reducedCategory)
    guard let mult = Operation.named("Mult"),
      let f = try? FormulaNode.make(mult, [recategorize(kernel), FormulaNode(kind: .variable(one), dim: 1, range: nil)])
    else { return try diagonalByBlocks(cancel: cancel) }
    var vars = plan.formula.arguments.map { v in
      v.category == reducedCategory ? Variable(index: v.index, dim: v.dim, category: outputCategory) : v
    }
    vars[unknownIndex] = one
    let formula = ReducedFormula(
      reduction: .sum, formula: f, weight: nil, outputCategory: outputCategory, arguments: vars,
      argumentNames: plan.formula.argumentNames, sizeOrder: plan.formula.sizeOrder)
    let diagonalPlan = KernelPlan(
      formula: formula, dataType: plan.dataType, computePrecision: plan.computePrecision,
      accumulatorPrecision: plan.accumulatorPrecision, sumScheme: plan.sumScheme)
    var args = arrays
    args[unknownIndex] = NDArray(shape: [1, 1], doubles: [1], dtype: plan.dataType)
    return try engine.reduce(diagonalPlan, KernelArguments(arrays: args, outputRows: order, reducedRows: 1), cancel: cancel)
  }

  /// The diagonal from the diagonal blocks (order / blockWidth engine calls).
  func diagonalByBlocks(cancel: CancellationToken? = nil) throws(EngineError) -> [Double] {
    var d = [Double](repeating: 0, count: order)
    let w = Self.blockWidth
    var start = 0
    while start < order {
      let idx = Array(start..<min(order, start + w))
      let b = try block(rows: idx, cols: idx, cancel: cancel)
      for c in 0..<idx.count { d[start + c] = b[c * idx.count + c] }
      start += w
    }
    return d
  }

  private func gather(_ k: Int, _ a: NDArray, _ rows: [Int]) -> NDArray {
    guard let v = values[k] else { return a }
    let dim = a.shape.count == 2 ? a.shape[1] : 1
    var g = [Double]()
    g.reserveCapacity(rows.count * dim)
    for r in rows { g += v[(r * dim)..<(r * dim + dim)] }
    return NDArray(shape: [rows.count, dim], doubles: g, dtype: a.dtype)
  }
}
