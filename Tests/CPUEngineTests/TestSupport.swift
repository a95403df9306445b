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

/// True when both are NaN or they are equal (bit-identical results, NaN-aware).
func same(_ a: Double, _ b: Double) -> Bool { (a.isNaN && b.isNaN) || a == b }

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
