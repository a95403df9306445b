import ArrayIO
import Foundation
import KernelEngines

/// The operator `p -> alpha p + K p` of a float64 KernelSolve call, with the kernel products
/// computed in float32 (data, formula and accumulator) on the same engine: about 2.5x faster on a
/// CPU, accurate to about 1e-6 relative. `KernelSolve.pcg` uses it inside an iterative
/// refinement whose residuals are computed in float64 (`docs/solvers.md`).
struct FastOperator {
  /// How far one refinement round reduces the residual: CG with float32 products runs until its
  /// recursive residual is `reach` times the last float64 one. The float32 drift is then about
  /// as large as the residual (the true residual was 1.6e-5 when the recursive one reached 1e-5
  /// on the documentation example), so going further would gain nothing.
  static let reach = 1e-5

  let plan: KernelPlan
  var arguments: KernelArguments
  let engine: any KernelEngine
  let unknownIndex: Int
  let shape: [Int]

  /// The float32 operator of `plan` (float64 data) and its arguments: every array rounded to float32.
  init(plan base: KernelPlan, arguments args: KernelArguments, engine: any KernelEngine, unknownIndex: Int) {
    plan = KernelPlan(
      formula: base.formula, dataType: .float32, computePrecision: .float32, accumulatorPrecision: .float32,
      sumScheme: base.sumScheme)
    var converted = args
    converted.arrays = args.arrays.map { NDArray(shape: $0.shape, doubles: $0.toDoubles(), dtype: .float32) }
    arguments = converted
    self.engine = engine
    self.unknownIndex = unknownIndex
    shape = args.arrays[unknownIndex].shape
  }

  /// alpha p + K p, K p in float32 (returned as doubles; alpha p added in float64).
  mutating func apply(_ p: [Double], alpha: Double, cancel: CancellationToken?) throws -> [Double] {
    arguments.arrays[unknownIndex] = NDArray(shape: shape, doubles: p, dtype: .float32)
    var kp: [Double]
    do {
      kp = try engine.reduce(plan, arguments, cancel: cancel)
    } catch {
      if error == .cancelled { throw SolveFailure.Reason.cancelled }
      throw OperationError.engine(error)
    }
    if alpha != 0 { for k in 0..<p.count { kp[k] += alpha * p[k] } }
    return kp
  }
}
