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
  if KernelSource.shape(of: plan) == .simdShift {
    return try compareShiftExp(plan, args, got: got, want: want, tolerance: tolerance)
  }
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

/// The reference engine on `plan` with the formula and weight replaced, in float64.
func referenceFloat64(_ plan: KernelPlan, _ args: KernelArguments, formula: FormulaNode, weight: FormulaNode?) throws -> [Double] {
  let f = plan.formula
  var p = plan
  p.formula = ReducedFormula(
    reduction: f.reduction, formula: formula, weight: weight, outputCategory: f.outputCategory,
    arguments: f.arguments, argumentNames: f.argumentNames, sizeOrder: f.sizeOrder)
  p.computePrecision = .float64
  p.accumulatorPrecision = .float64
  p.dataType = .float64
  var a = args
  a.arrays = args.arrays.map { $0.converted(to: .float64) }
  return try ReferenceEngine().reduce(p, a, cancel: nil)
}

/// Compares the Max_SumShiftExp family's raw rows (m, s_1 ... s_(d-1)), which stand for
/// S_k = exp(m) s_k = sum_j exp(f_j) g_j: non-finite entries must be identical; m within the
/// rounding of f (`8 eps max_j |f_j|`, eps of the compute type) plus `tolerance * |m|`; and each
/// s_got exp(m_got - m_want) within `(tolerance + 8 eps max_j |f_j|) * sum_j exp(f_j - m_want) |g_kj|`.
func compareShiftExp(
  _ plan: KernelPlan, _ args: KernelArguments, got: [Double], want: [Double], tolerance: Double?
) throws -> String? {
  let f = plan.formula
  let abs = Operation.named("Abs")!
  let absG = try f.weight.map { try FormulaNode.make(abs, [$0]) }
  let scale = try referenceFloat64(plan, args, formula: f.formula, weight: absG)
  let fMax = try referenceFloat64(plan, args, formula: try FormulaNode.make(abs, [f.formula]), weight: absG)
  let tol = tolerance ?? (plan.dataType == .float64 ? 1e-13 : (plan.dataType == .float32 ? 2e-6 : 2e-3))
  let eps = plan.computePrecision == .float64 ? 1.2e-16 : 6e-8
  let width = plan.formula.rawDimension
  for row in 0..<(got.count / max(1, width)) {
    let o = row * width
    if (o..<(o + width)).contains(where: { !got[$0].isFinite || !want[$0].isFinite }) {
      for k in o..<(o + width) where !same(got[k], want[k]) {
        return "non-finite row \(row) differs at \(k - o): \(got[k]) vs reference \(want[k])"
      }
      continue
    }
    let rounding = 8 * eps * fMax[o]
    let dm = got[o] - want[o]
    if Swift.abs(dm) > rounding + tol * Swift.abs(want[o]) + 1e-300 {
      return "row \(row): m = \(got[o]) vs reference \(want[o])"
    }
    for k in 1..<width {
      let rescaled = got[o + k] * exp(dm)
      let bound = (tol + rounding) * scale[o + k] * exp(scale[o] - want[o]) + 1e-300
      if Swift.abs(rescaled - want[o + k]) > bound {
        return "row \(row): s\(k) = \(got[o + k]) (rescaled \(rescaled)) vs reference \(want[o + k]) (bound \(bound))"
      }
    }
  }
  return nil
}
