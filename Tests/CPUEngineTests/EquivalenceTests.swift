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
