import ArrayIO
import FormulaLanguage
import KernelEngines

// Helpers shared by the engine test targets (not a test bundle).

/// A small deterministic generator (SplitMix64), so failures reproduce.
public struct SplitMix64: RandomNumberGenerator {
  public var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Builds a plan the way Genred resolves its options.
public func makePlan(
  _ formula: String, _ aliases: [String], reduction: ReductionKind = .sum, axis: Int = 1, formula2: String? = nil,
  softMax: Bool = false, dtype: DType = .float64, accumulator: Precision? = nil, scheme: SumScheme? = nil
) throws -> KernelPlan {
  let reduced = try ReducedFormula.compile(
    formula: formula, aliases: aliases, reduction: reduction, formula2: formula2, axis: axis, softMaxWeight: softMax)
  let compute: Precision = dtype == .float64 ? .float64 : .float32
  let acc = reduction.isSumType ? (accumulator ?? compute) : compute
  let sch = scheme ?? (reduction.isSumType ? .blockSum : .directSum)
  return KernelPlan(formula: reduced, dataType: dtype, computePrecision: compute, accumulatorPrecision: acc, sumScheme: sch)
}

/// Random arguments for `plan`: `nI` rows of i-variables, `nJ` of j-variables, values in `range`
/// (rounded to integers with `integers`, which makes ties and exact float arithmetic likely).
public func randomArguments(
  _ plan: KernelPlan, nI: Int, nJ: Int, seed: UInt64 = 1, range: ClosedRange<Double> = -1...1, integers: Bool = false
) -> KernelArguments {
  var rng = SplitMix64(seed: seed)
  let arrays = plan.formula.arguments.map { v -> NDArray in
    let shape = v.category == .parameter ? [v.dim] : [v.category == .i ? nI : nJ, v.dim]
    let values = (0..<shape.reduce(1, *)).map { _ in
      let x = Double.random(in: range, using: &rng)
      return integers ? x.rounded() : x
    }
    return NDArray(shape: shape, doubles: values, dtype: plan.dataType)
  }
  let out = plan.formula.outputCategory == .i ? nI : nJ
  let red = plan.formula.outputCategory == .i ? nJ : nI
  return KernelArguments(arrays: arrays, outputRows: out, reducedRows: red)
}

/// The largest |a - b| / (|b| + scale) (NaN and infinities must match exactly).
public func maxRelativeError(_ a: [Double], _ b: [Double], scale: Double) -> Double {
  precondition(a.count == b.count, "sizes differ: \(a.count) and \(b.count)")
  var worst = 0.0
  for (x, y) in zip(a, b) {
    if !x.isFinite || !y.isFinite {
      if !((x.isNaN && y.isNaN) || x == y) { return .infinity }
      continue
    }
    worst = max(worst, abs(x - y) / (abs(y) + scale))
  }
  return worst
}

extension SplitMix64 {
  /// `count` uniform values in `range`.
  public mutating func uniform(_ count: Int, in range: ClosedRange<Double> = -1...1) -> [Double] {
    (0..<count).map { _ in Double.random(in: range, using: &self) }
  }

  /// `rows` rows of `cols` uniform values.
  public mutating func matrix(_ rows: Int, _ cols: Int, in range: ClosedRange<Double> = -1...1) -> [[Double]] {
    (0..<rows).map { _ in (0..<cols).map { _ in Double.random(in: range, using: &self) } }
  }
}
