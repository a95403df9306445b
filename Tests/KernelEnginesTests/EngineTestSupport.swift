import ArrayIO
import FormulaLanguage
import Testing

@testable import KernelEngines

/// One named input of a pointwise evaluation: `rows[p]` is its value at point p.
struct PointInput: Sendable {
  var name: String
  var dim: Int
  var rows: [[Double]]
}

/// A scalar input: one value per point.
func scalars(_ name: String, _ values: [Double]) -> PointInput {
  PointInput(name: name, dim: 1, rows: values.map { [$0] })
}

/// A vector input: one row per point.
func vectors(_ name: String, _ rows: [[Double]]) -> PointInput {
  PointInput(name: name, dim: rows[0].count, rows: rows)
}

struct EngineTestFailure: Error, CustomStringConvertible {
  var description: String
}

/// Runs `Sum` of `formula` through the reference engine with every option explicit.
func runReference(
  _ formula: String, aliases: [String], arrays: [NDArray], axis: Int, outputRows: Int, reducedRows: Int,
  reduction: ReductionKind = .sum, dtype: DType = .float64, scheme: SumScheme = .directSum,
  accumulator: Precision? = nil, blockSize: Int = 256, cancel: CancellationToken? = nil
) throws -> [Double] {
  let reduced: ReducedFormula
  do throws(FormulaError) {
    reduced = try ReducedFormula.compile(formula: formula, aliases: aliases, reduction: reduction, axis: axis)
  } catch {
    throw EngineTestFailure(description: "\(formula): \(error.diagnostic.message)")
  }
  let compute: Precision = dtype == .float64 ? .float64 : .float32
  let plan = KernelPlan(
    formula: reduced, dataType: dtype, computePrecision: compute, accumulatorPrecision: accumulator ?? compute,
    sumScheme: scheme)
  let args = KernelArguments(arrays: arrays, outputRows: outputRows, reducedRows: reducedRows)
  return try ReferenceEngine(blockSize: blockSize).reduce(plan, args, cancel: cancel)
}

/// Evaluates `formula` at every point, in two ways:
/// - `uniform`: the inputs are `Vi` variables and the sum runs over a single j, so every node is
///   evaluated once per output row;
/// - `blocked`: the inputs are `Vj` variables reduced in blocks of `blockSize` points, and an
///   `Equal(i, j)` mask keeps only the diagonal (only meaningful for finite values).
func evaluatePointwise(
  _ formula: String, _ inputs: [PointInput], dtype: DType = .float64, blockSize: Int = 3
) throws -> (uniform: [[Double]], blocked: [[Double]]) {
  let m = inputs.first?.rows.count ?? 1
  let arrays = inputs.map { input in
    NDArray(shape: [m, input.dim], doubles: input.rows.flatMap { $0 }, dtype: dtype)
  }
  // The output dimension, from the formula itself.
  let probe: ReducedFormula
  do throws(FormulaError) {
    probe = try ReducedFormula.compile(
      formula: formula, aliases: inputs.map { "\($0.name) = Vi(\($0.dim))" }, reduction: .sum, axis: 1)
  } catch {
    throw EngineTestFailure(description: "\(formula): \(error.diagnostic.message)")
  }
  let d = probe.formula.dim
  func rows(_ flat: [Double]) -> [[Double]] { (0..<m).map { Array(flat[($0 * d)..<($0 * d + d)]) } }

  let uniform = try runReference(
    formula, aliases: inputs.map { "\($0.name) = Vi(\($0.dim))" }, arrays: arrays, axis: 1, outputRows: m,
    reducedRows: 1, dtype: dtype)

  let index = NDArray(shape: [m, 1], doubles: (0..<m).map(Double.init), dtype: dtype)
  let blocked = try runReference(
    "(\(formula))*Equal(ksRow,ksCol)",
    aliases: inputs.map { "\($0.name) = Vj(\($0.dim))" } + ["ksRow = Vi(1)", "ksCol = Vj(1)"],
    arrays: arrays + [index, index], axis: 1, outputRows: m, reducedRows: m, dtype: dtype, blockSize: blockSize)
  return (rows(uniform), rows(blocked))
}

/// True when `a` and `b` agree: equal (including infinities and NaN), or within `tolerance`
/// relative to max(1, |b|).
func close(_ a: Double, _ b: Double, tolerance: Double) -> Bool {
  if a == b || (a.isNaN && b.isNaN) { return true }
  guard a.isFinite && b.isFinite else { return false }
  return Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

func close(_ a: [[Double]], _ b: [[Double]], tolerance: Double) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { r, s in r.count == s.count && zip(r, s).allSatisfy { close($0, $1, tolerance: tolerance) } }
}

