import ArrayIO
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine
import _KSTestSupport

/// One Genred definition exercised on every axis, dtype, accumulator and sum scheme.
struct ReductionCase: CustomStringConvertible, Sendable {
  var name: String
  var formula: String
  var aliases: [String]
  var reduction: ReductionKind
  var formula2: String? = nil
  var softMax = false

  var description: String { name }
}

private let xyb = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"]

let reductionCases: [ReductionCase] = [
  ReductionCase(name: "Sum gaussian", formula: "Exp(-SqDist(x,y))*b", aliases: xyb, reduction: .sum),
  ReductionCase(name: "Sum doc example", formula: "Exp(-Norm2(x-y))*a", aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"], reduction: .sum),
  ReductionCase(name: "Sum sin (exact kernel)", formula: "Sin(x-y)*b", aliases: xyb, reduction: .sum),
  ReductionCase(name: "Max", formula: "(x-y)*b", aliases: xyb, reduction: .max),
  ReductionCase(name: "Min", formula: "(x-y)*b", aliases: xyb, reduction: .min),
  ReductionCase(name: "ArgMax", formula: "(x-y)*b", aliases: xyb, reduction: .argMax),
  ReductionCase(name: "ArgMin", formula: "(x-y)*b", aliases: xyb, reduction: .argMin),
  ReductionCase(name: "Max_ArgMax", formula: "(x-y)*b", aliases: xyb, reduction: .maxArgMax),
  ReductionCase(name: "Min_ArgMin ties", formula: "Floor(3*y) + Floor(x)", aliases: xyb, reduction: .minArgMin),
  ReductionCase(name: "KMin", formula: "SqDist(x,y)", aliases: xyb, reduction: .kMin(3)),
  ReductionCase(name: "ArgKMin", formula: "(x-y)*b", aliases: xyb, reduction: .argKMin(3)),
  ReductionCase(name: "KMin_ArgKMin ties", formula: "Floor(4*y)", aliases: xyb, reduction: .kMinArgKMin(3)),
  ReductionCase(name: "LogSumExp", formula: "-SqDist(x,y)", aliases: xyb, reduction: .maxSumShiftExpWeight),
  ReductionCase(name: "LogSumExp weighted", formula: "-SqDist(x,y)", aliases: xyb, reduction: .maxSumShiftExpWeight, formula2: "y"),
  ReductionCase(
    name: "SumSoftMaxWeight", formula: "-SqDist(x,y)*b", aliases: xyb, reduction: .maxSumShiftExpWeight, formula2: "y",
    softMax: true),
]

/// (data dtype, accumulator) pairs Genred allows.
let precisionCombos: [(DType, Precision)] = [
  (.float64, .float64), (.float32, .float32), (.float32, .float64), (.float16, .float16), (.float16, .float32),
]

@Test("CPU engine matches the reference engine", arguments: reductionCases)
func matchesReference(_ c: ReductionCase) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  for axis in [1, 0] {
    for (dtype, acc) in precisionCombos {
      if !c.reduction.isSumType && acc != (dtype == .float64 ? .float64 : .float32) { continue }
      let schemes: [SumScheme] = c.reduction.isSumType ? SumScheme.allCases : [.directSum]
      for scheme in schemes {
        let plan = try makePlan(
          c.formula, c.aliases, reduction: c.reduction, axis: axis, formula2: c.formula2, softMax: c.softMax,
          dtype: dtype, accumulator: acc, scheme: scheme)
        for (nI, nJ) in [(29, 157), (13, 7), (5, 0)] {
          var args = randomArguments(plan, nI: nI, nJ: nJ, seed: UInt64(nI * 1000 + nJ))
          // Positive weights: sums without cancellation, so relative bounds are meaningful.
          if let k = plan.formula.argumentNames.firstIndex(of: "b") {
            args.arrays[k] = NDArray(shape: args.arrays[k].shape, doubles: args.arrays[k].toDoubles().map { abs($0) + 0.1 }, dtype: dtype)
          }
          let failure = try compareWithReference(plan, args, engine: engine)
          #expect(failure == nil, "\(c.name) axis=\(axis) \(dtype) acc=\(acc) \(scheme) \(nI)x\(nJ): \(failure ?? "")")
        }
      }
    }
  }
}

@Test func vectorizedKernelIsChosenForElementwiseSums() throws {
  let gauss = try makePlan("Exp(-SqDist(x,y))*b", xyb, dtype: .float32, scheme: .blockSum)
  #expect(KernelSource.usesVectorizedKernel(gauss))
  #expect(KernelSource.usesVectorizedKernel(try makePlan("Exp(-SqDist(x,y))*b", xyb, scheme: .directSum)))
  // Kahan, non-sum reductions, float16 accumulators and libm calls other than exp/sqrt stay exact.
  #expect(!KernelSource.usesVectorizedKernel(try makePlan("Exp(-SqDist(x,y))*b", xyb, scheme: .kahanScheme)))
  #expect(!KernelSource.usesVectorizedKernel(try makePlan("Exp(-SqDist(x,y))*b", xyb, reduction: .min)))
  #expect(!KernelSource.usesVectorizedKernel(try makePlan("Sin(x-y)*b", xyb)))
  #expect(!KernelSource.usesVectorizedKernel(try makePlan("Exp(-SqDist(x,y))*b", xyb, dtype: .float16, accumulator: .float16)))
}

@Test func everyReductionGetsASIMDKernel() throws {
  // Selections: the SIMD selection kernel, bit-identical (not "vectorized" in the tolerance sense).
  for r in [ReductionKind.min, .max, .argMin, .argMax, .minArgMin, .maxArgMax, .kMin(3), .argKMin(10), .kMinArgKMin(2)] {
    let plan = try makePlan("SqDist(x,y)", xyb, reduction: r, dtype: .float32)
    #expect(KernelSource.shape(of: plan) == .simdSelect, "\(r)")
    #expect(!KernelSource.usesVectorizedKernel(plan), "\(r)")
  }
  // Any formula, also one calling libm's sin: the values are computed with the reference's arithmetic.
  #expect(KernelSource.shape(of: try makePlan("Sin(x-y)*b", xyb, reduction: .argMin)) == .simdSelect)
  // The Max_SumShiftExp family over SIMD-friendly formulas; Kahan and float16 accumulators stay exact.
  let lse = try makePlan("-SqDist(x,y)", xyb, reduction: .maxSumShiftExpWeight, dtype: .float32)
  #expect(KernelSource.shape(of: lse) == .simdShift)
  let softmax = try makePlan(
    "-SqDist(x,y)", xyb, reduction: .maxSumShiftExpWeight, formula2: "b", softMax: true, dtype: .float32)
  #expect(KernelSource.shape(of: softmax) == .simdShift)
  #expect(KernelSource.shape(of: try makePlan("-SqDist(x,y)", xyb, reduction: .maxSumShiftExpWeight, scheme: .kahanScheme)) == .exact)
  #expect(KernelSource.shape(of: try makePlan("Sin(x-y)", ["x = Vi(1)", "y = Vj(1)"], reduction: .maxSumShiftExpWeight)) == .exact)
}

/// Row values with many exact ties and non-finite values: the selection kernel's filter must keep
/// the lowest index among equals, KMin's order, and skip NaN as the reference does; the
/// max-shift-exp kernel must send rows with infinities or NaN to the exact code.
@Test func selectionAndShiftKernelsOnTiesAndNonFiniteValues() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  let aliases = ["x = Vi(1)", "y = Vj(1)"]
  let nI = 9, nJ = 700
  // Rows 0-2 finite with ties (Floor), row 3 gets -inf at j = 0 and 5, row 4 NaN at j = 300,
  // row 5 +inf at j = 450; the formula x * y makes them per row.
  var xs = (0..<nI).map { Double($0 % 3) + 1 }
  xs[3] = -.infinity
  xs[4] = .nan
  xs[5] = .infinity
  var ys = (0..<nJ).map { Double(($0 * 7919) % 13) - 6 }
  ys[0] = 0.5
  for dtype in [DType.float32, .float64] {
    let reductions: [ReductionKind] = [
      .min, .max, .argMin, .argMax, .minArgMin, .maxArgMax, .kMin(4), .argKMin(4), .kMinArgKMin(4), .maxSumShiftExpWeight,
    ]
    for r in reductions {
      for formula in ["Floor(x*y/3)", "x*y", "-Abs(x-y)"] {
        let plan = try makePlan(formula, aliases, reduction: r, dtype: dtype)
        ys[5] = 0
        let args = KernelArguments(
          arrays: [NDArray(shape: [nI, 1], doubles: xs, dtype: dtype), NDArray(shape: [nJ, 1], doubles: ys, dtype: dtype)],
          outputRows: nI, reducedRows: nJ)
        let failure = try compareWithReference(plan, args, engine: engine)
        #expect(failure == nil, "\(r) \(formula) \(dtype): \(failure ?? "")")
      }
    }
  }
}

@Test func highDimensionalFormulas() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  // D = 64: the vectorized kernel with fully unrolled component loops.
  for dtype in [DType.float32, .float64] {
    let plan = try makePlan("Exp(-SqDist(x,y))*b", ["x = Vi(64)", "y = Vj(64)", "b = Vj(1)"], dtype: dtype)
    #expect(KernelSource.usesVectorizedKernel(plan))
    let args = randomArguments(plan, nI: 70, nJ: 300, range: 0...0.2)
    let failure = try compareWithReference(plan, args, engine: engine)
    #expect(failure == nil, "\(dtype): \(failure ?? "")")
  }
  // A 20000-component value: thread-local storage instead of the stack, exact kernel.
  let big = try makePlan("TensorProd(x,y)", ["x = Vi(200)", "y = Vj(100)"], dtype: .float32)
  #expect(!KernelSource.usesVectorizedKernel(big))
  let failure = try compareWithReference(big, randomArguments(big, nI: 3, nJ: 5), engine: engine)
  #expect(failure == nil, "\(failure ?? "")")
}

@Test func largeProblemsRunInParallelChunks() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  // Enough pairs for the chunked parallel path, with row counts that are not multiples of the tiles.
  for (formula, reduction) in [("Exp(-SqDist(x,y))*b", ReductionKind.sum), ("SqDist(x,y)", .argKMin(2))] {
    let plan = try makePlan(formula, ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: reduction, dtype: .float32)
    var args = randomArguments(plan, nI: 1003, nJ: 997)
    if let k = plan.formula.argumentNames.firstIndex(of: "b") {
      args.arrays[k] = NDArray(shape: [997, 1], doubles: args.arrays[k].toDoubles().map { abs($0) }, dtype: .float32)
    }
    let failure = try compareWithReference(plan, args, engine: CPUKernelEngine(cacheDirectory: dir.path, threads: 3))
    #expect(failure == nil, "\(formula): \(failure ?? "")")
  }
}
