import ArrayIO
import Foundation
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine
import _KSTestSupport

/// Random formulas built from `Operation.table`: every vectorized and block operation, random
/// integer parameters, retried until the dimension rules accept them.
struct RandomFormulas {
  var rng: SplitMix64
  /// x = Vi(3), s = Vi(1), y = Vj(3), b = Vj(1), p = Pm(2).
  static let variables = [
    Variable(index: 0, dim: 3, category: .i), Variable(index: 1, dim: 1, category: .i),
    Variable(index: 2, dim: 3, category: .j), Variable(index: 3, dim: 1, category: .j),
    Variable(index: 4, dim: 2, category: .parameter),
  ]
  static let operations = Operation.table.filter { $0.arity > 0 }
  static let constants = Operation.table.filter { $0.arity == 0 }

  mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

  mutating func leaf() -> FormulaNode {
    switch int(0...9) {
    case 0:
      return FormulaNode(kind: .real(Double(int(-8...8)) / 4 + 0.125), dim: 1, range: nil)
    case 1:
      for _ in 0..<20 {
        let op = Self.constants[int(0...(Self.constants.count - 1))]
        let params = (0..<op.paramCount).map { _ in int(-2...4) }
        if let n = try? FormulaNode.make(op, [], params: params) { return n }
      }
      fallthrough
    default:
      let v = Self.variables[int(0...(Self.variables.count - 1))]
      return FormulaNode(kind: .variable(v), dim: v.dim, range: nil)
    }
  }

  /// A random tree of depth at most `depth`, dimension at most 12 (an operation at the root).
  mutating func tree(depth: Int, root: Bool = true) -> FormulaNode {
    if depth == 0 || (!root && int(0...4) == 0) { return leaf() }
    for _ in 0..<40 {
      let op = Self.operations[int(0...(Self.operations.count - 1))]
      let children = (0..<op.arity).map { _ in tree(depth: depth - 1, root: false) }
      let params = (0..<op.paramCount).map { _ in int(-1...4) }
      if let n = try? FormulaNode.make(op, children, params: params), n.dim <= 12 { return n }
    }
    return leaf()
  }
}

/// A reduced formula over the fixed variables of `RandomFormulas`.
func randomReduced(_ f: FormulaNode, _ reduction: ReductionKind, axis: Int, weight: FormulaNode? = nil) -> ReducedFormula {
  ReducedFormula(
    reduction: reduction, formula: f, weight: weight, outputCategory: axis == 1 ? .i : .j,
    arguments: RandomFormulas.variables, argumentNames: [nil, nil, nil, nil, nil], sizeOrder: [0, 1, 2, 3, 4])
}

@Test("random formulas: CPU engine matches the reference engine", arguments: 0..<4)
func randomFormulasMatchReference(_ shard: Int) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  let trees = Int(ProcessInfo.processInfo.environment["KS_PROPERTY_TREES"] ?? "") ?? 10
  var gen = RandomFormulas(rng: SplitMix64(seed: 0xC0FFEE &+ UInt64(shard)))
  for t in 0..<trees {
    let f = gen.tree(depth: 3)
    let axis = gen.int(0...1)
    func plan(
      _ r: ReductionKind, axis: Int, _ dtype: DType, acc: Precision? = nil, _ scheme: SumScheme, weight: FormulaNode? = nil
    ) -> KernelPlan {
      let compute: Precision = dtype == .float64 ? .float64 : .float32
      return KernelPlan(
        formula: randomReduced(f, r, axis: axis, weight: weight), dataType: dtype, computePrecision: compute,
        accumulatorPrecision: acc ?? compute, sumScheme: scheme)
    }
    var plans = [
      // The vectorized kernel when the formula allows it, in float64 (where only exp differs).
      plan(.sum, axis: axis, .float64, .blockSum),
      // Always the exact kernel: bit-identical in float32.
      plan(.sum, axis: axis, .float32, .kahanScheme),
    ]
    let others: [ReductionKind] = [.minArgMin, .kMinArgKMin(2), .max, .argKMin(3)]
    let dtypes: [DType] = [.float16, .float32, .float64]
    plans.append(plan(others[gen.int(0...3)], axis: 1 - axis, dtypes[gen.int(0...2)], .directSum))
    if f.dim == 1 {
      let weight = gen.tree(depth: 2)
      // The exact kernel (Kahan), bit-identical, and the SIMD kernel when the formula allows it.
      plans.append(plan(.maxSumShiftExpWeight, axis: axis, .float32, acc: .float64, .kahanScheme, weight: weight))
      plans.append(plan(.maxSumShiftExpWeight, axis: axis, .float64, .blockSum, weight: weight))
    }
    for plan in plans {
      let args = randomArguments(plan, nI: 11, nJ: 23, seed: UInt64(shard * 1000 + t))
      let failure = try compareWithReference(plan, args, engine: engine, tolerance: 1e-12)
      #expect(
        failure == nil,
        "shard \(shard) tree \(t): \(plan.mapFormula) \(plan.formula.reduction) \(plan.dataType) \(plan.sumScheme): \(failure ?? "")")
    }
  }
}
