import ArrayIO
import Foundation
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine
import _KSTestSupport

// The filtered selection kernel (float32 SqDist(x_i, y_j) under Min, ArgKMin, ...): a float SIMD
// pass against a bound of the threshold, then the reference's arithmetic for the indices that pass.
// Every result must be the reference engine's, bit for bit.

private func isFiltered(_ plan: KernelPlan) -> Bool {
  KernelSource.generate(for: plan).contains("ks_approx(")
}

private let selections: [ReductionKind] = [
  .min, .max, .argMin, .argMax, .minArgMin, .maxArgMax, .kMin(4), .argKMin(4), .kMinArgKMin(4),
]

@Test func filteredSelectionKernelIsChosenOnlyForFloat32SqDistOfTwoVariables() throws {
  for r in selections {
    #expect(isFiltered(try makePlan("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction: r, dtype: .float32)), "\(r)")
    #expect(isFiltered(try makePlan("SqDist(y,x)", ["x = Vi(5)", "y = Vj(5)"], reduction: r, dtype: .float32)), "\(r)")
    // float64 keeps the double SIMD kernel (already the reference's arithmetic).
    #expect(!isFiltered(try makePlan("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction: r, dtype: .float64)), "\(r)")
  }
  #expect(isFiltered(try makePlan("SqDist(x,y)", ["x = Vj(64)", "y = Vi(64)"], reduction: .argKMin(3), axis: 0, dtype: .float32)))
  #expect(isFiltered(try makePlan("SqDist(x,y)", ["x = Vi(1)", "y = Vj(1)"], reduction: .min, dtype: .float16)))
  // Other formulas, broadcasting, parameters and oversized dimensions keep the general kernel.
  #expect(!isFiltered(try makePlan("SqDist(x,y)*2", ["x = Vi(3)", "y = Vj(3)"], reduction: .min, dtype: .float32)))
  #expect(!isFiltered(try makePlan("SqDist(x,y)", ["x = Vi(1)", "y = Vj(3)"], reduction: .min, dtype: .float32)))
  #expect(!isFiltered(try makePlan("SqDist(x,p)", ["x = Vi(3)", "p = Pm(3)", "y = Vj(3)"], reduction: .min, dtype: .float32)))
  #expect(!isFiltered(try makePlan("SqDist(x,y)", ["x = Vi(257)", "y = Vj(257)"], reduction: .min, dtype: .float32)))
  #expect(!isFiltered(try makePlan("Exp(-SqDist(x,y))", ["x = Vi(3)", "y = Vj(3)"], reduction: .min, dtype: .float32)))
}

@Test func filteredSelectionMatchesReferenceOnRandomData() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  // Row counts that are not multiples of the 8-row tile, reduced counts not multiples of the
  // 256-point block, enough pairs for the parallel path.
  var cases: [(Int, ReductionKind)] = [(1, .argKMin(5)), (3, .argKMin(10)), (17, .kMinArgKMin(3)), (64, .argKMin(10))]
  cases += selections.map { (3, $0) }
  for (dim, r) in cases {
    for dtype in [DType.float32, .float64] {
      let plan = try makePlan("SqDist(x,y)", ["x = Vi(\(dim))", "y = Vj(\(dim))"], reduction: r, dtype: dtype)
      #expect(isFiltered(plan) == (dtype == .float32))
      let args = randomArguments(plan, nI: 301, nJ: 777, seed: UInt64(dim * 31 + 7))
      let failure = try compareWithReference(plan, args, engine: engine)
      #expect(failure == nil, "D=\(dim) \(r) \(dtype): \(failure ?? "")")
    }
  }
  // axis=0: the output variable is the Vj one.
  let plan = try makePlan("SqDist(x,y)", ["x = Vj(3)", "y = Vi(3)"], reduction: .argKMin(6), axis: 0, dtype: .float32)
  #expect(isFiltered(plan))
  let failure = try compareWithReference(plan, randomArguments(plan, nI: 530, nJ: 203, seed: 5), engine: engine)
  #expect(failure == nil, "axis=0: \(failure ?? "")")
}

/// Points with many equal distances, duplicates, NaN, infinities, values whose squares overflow or
/// underflow float, and K larger than the number of reduced points.
private func awkwardArguments(_ plan: KernelPlan, nI: Int, nJ: Int, dim: Int, seed: UInt64) -> KernelArguments {
  var rng = SplitMix64(seed: seed)
  func point(_ k: Int) -> [Double] {
    switch k % 11 {
    case 0: return [Double](repeating: .nan, count: 1) + (1..<dim).map { _ in 0 }
    case 1: return [Double](repeating: .infinity, count: dim)
    case 2: return [-.infinity] + (1..<dim).map { _ in 1 }
    case 3: return (0..<dim).map { _ in Double.random(in: -1...1, using: &rng) * 1.5e19 }
    case 4: return (0..<dim).map { _ in Double.random(in: -1...1, using: &rng) * 1e-22 }
    case 5: return (0..<dim).map { _ in Double.random(in: -1...1, using: &rng) * 3e-39 }
    default: return (0..<dim).map { _ in Double(Int.random(in: -2...2, using: &rng)) }
    }
  }
  let xs = (0..<nI).flatMap { _ in point(Int.random(in: 0..<40, using: &rng)) }
  let ys = (0..<nJ).flatMap { _ in point(Int.random(in: 0..<40, using: &rng)) }
  let output = plan.formula.arguments[0].category == plan.formula.outputCategory
  let arrays = [
    NDArray(shape: [output ? nI : nJ, dim], doubles: output ? xs : ys, dtype: plan.dataType),
    NDArray(shape: [output ? nJ : nI, dim], doubles: output ? ys : xs, dtype: plan.dataType),
  ]
  return KernelArguments(arrays: arrays, outputRows: nI, reducedRows: nJ)
}

@Test func filteredSelectionOnTiesAndNonFiniteValues() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  for dim in [1, 3, 17, 64] {
    for r in selections + [.argKMin(12)] {
      let plan = try makePlan("SqDist(x,y)", ["x = Vi(\(dim))", "y = Vj(\(dim))"], reduction: r, dtype: .float32)
      #expect(isFiltered(plan))
      for (nI, nJ) in [(45, 700), (9, 6)] {  // 6 < K: slots stay at the initial value
        let args = awkwardArguments(plan, nI: nI, nJ: nJ, dim: dim, seed: UInt64(dim + nJ))
        let failure = try compareWithReference(plan, args, engine: engine)
        #expect(failure == nil, "D=\(dim) \(r) \(nI)x\(nJ): \(failure ?? "")")
      }
    }
  }
}

@Test func filteredSelectionBoundHoldsNearTheThreshold() throws {
  // Distances that differ from the K-th best by one or two float ulps: the bound must let every
  // index through whose reference value beats the threshold (the float SIMD value alone often
  // orders them differently from the reference's double-then-rounded value).
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  var rng = SplitMix64(seed: 11)
  let dim = 3, nI = 20, nJ = 2000
  let xs = rng.uniform(nI * dim, in: 0.5...1)
  var ys: [Double] = []
  for j in 0..<nJ {
    // Points on a sphere of radius ~1 around the first row, perturbed by a few float ulps.
    let base = (0..<dim).map { xs[$0] + (($0 == j % dim) ? 1 : 0) }
    ys += base.map { Double(Float($0).nextUp.nextUp) + Double(Int.random(in: -3...3, using: &rng)) * Double(Float(1).ulp) }
  }
  for r in [ReductionKind.argKMin(10), .kMinArgKMin(10), .minArgMin, .maxArgMax] {
    let plan = try makePlan("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction: r, dtype: .float32)
    let args = KernelArguments(
      arrays: [NDArray(shape: [nI, dim], doubles: xs, dtype: .float32), NDArray(shape: [nJ, dim], doubles: ys, dtype: .float32)],
      outputRows: nI, reducedRows: nJ)
    let failure = try compareWithReference(plan, args, engine: engine)
    #expect(failure == nil, "\(r): \(failure ?? "")")
  }
}

#if arch(x86_64)
@Test func filteredSelectionWithoutAVX512OrAVX() throws {
  // The AVX2 and the portable (no AVX) code paths of the kernel, compiled with the ISA extensions
  // switched off: same bits as the reference.
  let cc = ProcessInfo.processInfo.environment["CC"].flatMap { $0.isEmpty ? nil : $0 } ?? "cc"
  for flag in ["-mno-avx512f", "-mno-avx"] {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let engine = CPUKernelEngine(cacheDirectory: dir.path, compiler: "\(cc) \(flag)")
    for (dim, r) in [(3, ReductionKind.argKMin(5)), (17, .maxArgMax), (64, .kMin(3))] {
      let plan = try makePlan("SqDist(x,y)", ["x = Vi(\(dim))", "y = Vj(\(dim))"], reduction: r, dtype: .float32)
      let random = try compareWithReference(plan, randomArguments(plan, nI: 67, nJ: 530, seed: 3), engine: engine)
      #expect(random == nil, "\(flag) D=\(dim) \(r): \(random ?? "")")
      let awkward = try compareWithReference(plan, awkwardArguments(plan, nI: 21, nJ: 300, dim: dim, seed: 4), engine: engine)
      #expect(awkward == nil, "\(flag) D=\(dim) \(r) awkward: \(awkward ?? "")")
    }
  }
}
#endif
