import ArrayIO
import FormulaLanguage
import KernelEngines
import Testing

@testable import CUDAEngine
import _KSTestSupport

/// Every generated kernel must compile with NVRTC to an sm_90 CUBIN (front-end and ptxas
/// errors, e.g. too much shared memory, show up only then). NVRTC comes from the pip wheel
/// `nvidia-cuda-nvrtc` (see `testNVRTCPath`); without it these tests fail.
@Suite struct NVRTCCompileTests {
  static let options = CUDAKernelEngine().compileOptions

  /// Compiles `plan`'s source (dense, or with `ks_reduce_ranges`) for sm_90 and checks the result
  /// is a CUDA ELF image.
  static func compile(_ plan: KernelPlan, blockSparse: Bool = false) throws {
    let nvrtc = try requireNVRTC()
    let source = try CUDAKernelSource.generate(for: plan, blockSparse: blockSparse)
    let cubin: [UInt8]
    do {
      cubin = try nvrtc.compileCUBIN(source.text, architecture: 90, options: options)
    } catch {
      Issue.record("\(error)\n--- source ---\n\(source.text)")
      return
    }
    #expect(cubin.count > 64 && cubin[0..<4] == [0x7F, 0x45, 0x4C, 0x46], "not an ELF image")
    #expect(cubin.count > 20 && (Int(cubin[18]) | Int(cubin[19]) << 8) == 190, "ELF machine is not EM_CUDA")
  }

  @Test(arguments: ConformanceFormula.all)
  func conformanceFormula(_ c: ConformanceFormula) throws {
    var dtypes: [DType] = [.float32, .float64]
    if c.dtype == "float16" { dtypes.append(.float16) }
    for dtype in dtypes {
      try Self.compile(try c.plan(dtype: dtype))
      try Self.compile(try c.plan(dtype: dtype), blockSparse: true)
    }
  }

  /// Formulas that use every operation of the table at least once.
  static let operationFormulas: [(String, [String])] = [
    (
      "Minus(x) + Inv(Abs(x) + IntCst(1)) + Exp(x) + Log(Abs(x) + IntCst(1)) + XLogX(Abs(x)) + Sin(x) + Cos(y)"
        + " + SinXDivX(x) + Asin(x / IntCst(2)) + Acos(y / IntCst(2)) + Atan(x) + Sqrt(Abs(y)) + Rsqrt(Abs(x))"
        + " + Sign(x - y) + Step(x - y) + ReLU(x - y) + Floor(x) + Square(y) + Pow(x, 3) + Round(x, 2)"
        + " + ClampInt(x, -1, 1)",
      ["x = Vi(3)", "y = Vj(3)"]
    ),
    (
      "Add(x, y) + Subtract(x, y) * Mult(x, y) / Divide(y, Abs(x) + IntCst(1)) + Atan2(x, y) + Powf(Abs(x), y)"
        + " + LessThan(x, y) + LessOrEqual(x, y) + Equal(x, y) + NotEqual(x, y) + IfElse(x, y, x)"
        + " + Clamp(x, y, IntCst(1)) + Mod(x, IntCst(2), IntCst(-1))",
      ["x = Vi(3)", "y = Vj(3)"]
    ),
    (
      "Sum(x) + SumT(Elem(y, 0), 3) + Max(x) + Min(y) + ArgMax(x) + ArgMin(y) + Scalprod(x, y) + SqNorm2(x)"
        + " + Norm2(y) + Normalize(x - y) + SqDist(x, y) + SqNormIso(g, x) + SqNormDiag(w, y)"
        + " + SymSqNorm(a, x) + WeightedSqNorm(w, x) + WeightedSqDist(a, x, y)",
      ["x = Vi(3)", "y = Vj(3)", "g = Pm(1)", "w = Pm(3)", "a = Pm(9)"]
    ),
    (
      "Concat(Elem(x, 1), ElemT(Elem(y, 0), 2, 1)) + Extract(Concat(x, y), 2, 3) + ExtractT(Elem(x, 0), 1, 3)"
        + " + OneHot(Elem(y, 2), 3) + MatVecMult(a, x) + VecMatMult(y, a) + Extract(TensorProd(x, y), 3, 3)"
        + " + IntCst(2) * RatCst(1, 3) * IntInv(7) + Zero(3)",
      ["x = Vi(3)", "y = Vj(3)", "a = Pm(9)"]
    ),
    (
      "Concat(ComplexMult(z, w) + ComplexAdd(z, c) + ComplexSubtract(c, w) + ComplexScal(c, z)"
        + " + ComplexDivide(z, ComplexExp(w)) + Conj(w) + ComplexRealScal(s, z) + ComplexRealScal(w, s)"
        + " + ComplexSumT(ComplexSum(w), 4) + Real2Complex(ComplexReal(z)) + Imag2Complex(ComplexImag(w))"
        + " + ComplexExp1j(ComplexAbs(z) + ComplexSquareAbs(w) + ComplexAngle(z)),"
        + " TensorDot(a, x, (3,3), (3,), (1,), (0,)) + Kron(x, Elem(y, 0), (3,), (1,)) + TensorDot(a, y, (3,1,3), (3,), (0,), (0,), (1,0)))",
      ["z = Vi(4)", "w = Vj(4)", "c = Pm(2)", "s = Vj(1)", "x = Vi(3)", "y = Vj(3)", "a = Pm(9)"]
    ),
    (
      "Concat(Concat(BSpline(k, Elem(x, 0), 2), SoftDTW_SqDist(x, y, s)), GradSoftDTW_SqDist(x, y, s))",
      ["x = Vi(3)", "y = Vj(4)", "k = Pm(6)", "s = Pm(1)"]
    ),
  ]

  /// Symbolic derivatives: expanded into table operations before code generation.
  static let derivativeFormulas: [(String, [String], Int)] = [
    ("Grad(Exp(-SqDist(x,y))*b, x, e)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "e = Vi(1)"], 1),
    ("Grad(Exp(-SqDist(x,y))*b, y, e)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "e = Vi(1)"], 0),
    ("Laplacian(Exp(-SqDist(x,y)), x)*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], 1),
    ("Grad(Grad(Normalize(x-y)*Sum(b*y), x, y), y, x) + Diff(Sin(x)*Norm2(y), y, x)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(3)"], 1),
    ("GradMatrix(MatVecMult(a, x)*Exp(-SqDist(x,y)), x) + Grad(SqDist(x,y)*Sum(a), a, Divergence(x*Sum(y), x))", ["x = Vi(3)", "y = Vj(3)", "a = Pm(9)"], 1),
    ("Grad(\(operationFormulas[4].0), z, e) + Grad(\(operationFormulas[4].0), w, e)", operationFormulas[4].1 + ["e = Vi(7)"], 1),
    (
      "Grad(SoftDTW_SqDist(x, y, s) * b, x, e) + Sum(Grad(SoftDTW_SqDist(x, y, s) * b, y, e))",
      ["x = Vi(3)", "y = Vj(4)", "s = Pm(1)", "b = Vj(1)", "e = Vi(1)"], 1
    ),
  ]

  @Test(arguments: [DType.float32, .float64])
  func derivativesCompile(_ dtype: DType) throws {
    for (f, a, axis) in Self.derivativeFormulas {
      try Self.compile(try makePlan(f, a, axis: axis, dtype: dtype))
    }
  }

  @Test func everyOperationIsCovered() throws {
    var used = Set<String>()
    func walk(_ n: FormulaNode) {
      if let op = n.operation { used.insert(op.name) }
      n.children.forEach(walk)
    }
    for (f, a) in Self.operationFormulas { walk(try makePlan(f, a).formula.formula) }
    let missing = Set(Operation.allNames).subtracting(used).sorted()
    #expect(missing.isEmpty, "operations without a CUDA compile test: \(missing)")
  }

  @Test(arguments: [DType.float32, .float64])
  func everyOperationCompiles(_ dtype: DType) throws {
    for (f, a) in Self.operationFormulas {
      try Self.compile(try makePlan(f, a, dtype: dtype))
    }
  }

  /// Every reduction with every sum scheme and accumulator type it allows (block-sparse sources:
  /// the dense entry points and `ks_reduce_ranges`).
  @Test(arguments: [DType.float16, .float32, .float64])
  func everyReductionCompiles(_ dtype: DType) throws {
    let xy = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"]
    let kinds: [ReductionKind] = [.max, .min, .argMax, .argMin, .maxArgMax, .minArgMin, .kMin(3), .argKMin(2), .kMinArgKMin(4)]
    for k in kinds {
      try Self.compile(try makePlan("x - y", xy, reduction: k, dtype: dtype), blockSparse: true)
    }
    let accumulators: [Precision] = dtype == .float16 ? [.float16, .float32] : (dtype == .float32 ? [.float32, .float64] : [.float64])
    for scheme in SumScheme.allCases {
      for acc in accumulators {
        try Self.compile(
          try makePlan("Exp(-SqDist(x,y))*b", xy, dtype: dtype, accumulator: acc, scheme: scheme), blockSparse: true)
        try Self.compile(
          try makePlan(
            "-SqDist(x,y)", xy, reduction: .maxSumShiftExpWeight, formula2: "b", softMax: true, dtype: dtype,
            accumulator: acc, scheme: scheme), blockSparse: true)
      }
    }
  }

  @Test func largeReducedRowsShrinkTheBlock() throws {
    // 2 x 400 doubles per reduced row: 49152 / 6400 = 7 threads per block, still compiles.
    let plan = try makePlan("SqDist(x,y)*Sum(z)", ["x = Vi(400)", "y = Vj(400)", "z = Vj(400)"])
    let source = try CUDAKernelSource.generate(for: plan)
    #expect(source.blockSize == 7)
    #expect(source.stagedValuesPerRow == 800)
    try Self.compile(plan)
    // Beyond 48 KiB per row the generator refuses with a clear message.
    let huge = try makePlan("SqDist(x,y)", ["x = Vi(7000)", "y = Vj(7000)"])
    #expect(throws: EngineError.self) { try CUDAKernelSource.generate(for: huge) }
  }

  @Test func compileErrorsCarryNVRTCsLog() throws {
    let nvrtc = try requireNVRTC()
    let broken = "extern \"C\" __global__ void k(float *o) { o[threadIdx.x] = gamma_undefined; }\n"
    do {
      _ = try nvrtc.compileCUBIN(broken, architecture: 90)
      Issue.record("a broken source compiled")
    } catch {
      let text = error.description
      #expect(text.hasPrefix("CUDA compilation failed (NVRTC \(nvrtc.version.major).\(nvrtc.version.minor), sm_90)"))
      #expect(text.contains("identifier \"gamma_undefined\" is undefined"))
    }
  }

  @Test func unsupportedArchitectureIsReportedBeforeCompiling() throws {
    let nvrtc = try requireNVRTC()
    #expect(nvrtc.supportedArchitectures.contains(90))
    #expect(throws: EngineError.self) { try nvrtc.compileCUBIN("", architecture: 12) }
  }
}
