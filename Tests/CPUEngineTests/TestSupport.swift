import ArrayIO
import Foundation
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine

/// A fresh temporary directory (a private kernel cache per test), removed by `remove()`.
struct TemporaryDirectory {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.path + "/ks-cpu-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  func contents() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Builds a plan the way Genred resolves its options.
func makePlan(
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

/// Random arguments for `plan`: `nI` rows of i-variables, `nJ` of j-variables, values in `range`.
func randomArguments(
  _ plan: KernelPlan, nI: Int, nJ: Int, seed: UInt64 = 1, range: ClosedRange<Double> = -1...1
) -> KernelArguments {
  var rng = SplitMix(seed: seed)
  let arrays = plan.formula.arguments.map { v -> NDArray in
    let shape = v.category == .parameter ? [v.dim] : [v.category == .i ? nI : nJ, v.dim]
    let values = (0..<shape.reduce(1, *)).map { _ in Double.random(in: range, using: &rng) }
    return NDArray(shape: shape, doubles: values, dtype: plan.dataType)
  }
  let out = plan.formula.outputCategory == .i ? nI : nJ
  let red = plan.formula.outputCategory == .i ? nJ : nI
  return KernelArguments(arrays: arrays, outputRows: out, reducedRows: red)
}

/// True when both are NaN or they are equal (bit-identical results, NaN-aware).
func same(_ a: Double, _ b: Double) -> Bool { (a.isNaN && b.isNaN) || a == b }

/// The largest |a - b| / (|b| + scale) over the two arrays (NaN and infinities must match exactly).
func maxRelativeError(_ a: [Double], _ b: [Double], scale: Double) -> Double {
  precondition(a.count == b.count)
  var worst = 0.0
  for (x, y) in zip(a, b) {
    if !x.isFinite || !y.isFinite {
      if !same(x, y) { return .infinity }
      continue
    }
    worst = max(worst, abs(x - y) / (abs(y) + scale))
  }
  return worst
}

/// Sum_j |F| (or the raw magnitude for other reductions) from the reference engine: the natural
/// scale of a sum's rounding error, used to bound the vectorized kernel's differences.
func magnitudeScale(_ plan: KernelPlan, _ args: KernelArguments) throws -> [Double] {
  let f = plan.formula
  let abs = try FormulaNode.make(Operation.named("Abs")!, [f.formula])
  let absFormula = ReducedFormula(
    reduction: f.reduction, formula: abs, weight: f.weight, outputCategory: f.outputCategory,
    arguments: f.arguments, argumentNames: f.argumentNames, sizeOrder: f.sizeOrder)
  var p = plan
  p.formula = absFormula
  p.computePrecision = .float64
  p.accumulatorPrecision = .float64
  p.dataType = .float64
  var a = args
  a.arrays = args.arrays.map { $0.converted(to: .float64) }
  return try ReferenceEngine().reduce(p, a, cancel: nil)
}

/// Compares the CPU engine with the reference on one plan: bit-identical for the exact kernel,
/// within `tolerance * sum_j |F|` for the vectorized one. Returns a failure message or nil.
func compareWithReference(
  _ plan: KernelPlan, _ args: KernelArguments, engine: CPUKernelEngine, tolerance: Double? = nil
) throws -> String? {
  let got = try engine.reduce(plan, args, cancel: nil)
  let want = try ReferenceEngine().reduce(plan, args, cancel: nil)
  if got.count != want.count { return "count \(got.count) != \(want.count)" }
  if !KernelSource.usesVectorizedKernel(plan) {
    for k in 0..<got.count where !same(got[k], want[k]) {
      return "exact kernel differs at \(k): \(got[k]) vs reference \(want[k])"
    }
    return nil
  }
  let tol = tolerance ?? (plan.dataType == .float64 ? 1e-13 : (plan.dataType == .float32 ? 2e-6 : 2e-3))
  let scale = try magnitudeScale(plan, args)
  for k in 0..<got.count {
    if !got[k].isFinite || !want[k].isFinite {
      if !same(got[k], want[k]) { return "vectorized kernel differs at \(k): \(got[k]) vs reference \(want[k])" }
      continue
    }
    let bound = tol * (scale[k].isFinite ? scale[k] : .infinity) + 1e-300
    if abs(got[k] - want[k]) > bound {
      return "vectorized kernel differs at \(k): \(got[k]) vs reference \(want[k]) (bound \(bound))"
    }
  }
  return nil
}
