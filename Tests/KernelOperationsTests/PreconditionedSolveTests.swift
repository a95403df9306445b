import ArrayIO
import DenseLinearAlgebra
import Foundation
import KernelEngines
import Testing

@testable import KernelOperations

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func load(_ name: String) throws -> NDArray {
  try Npy.load(fixtures.appendingPathComponent("cg_iterations").appendingPathComponent(name).path)
}

private let gaussFormula = "Exp(-g*SqDist(x,y))*a"
private let gaussAliases = ["g = Pm(1)", "x = Vi(3)", "y = Vj(3)", "a = Vj(2)"]

/// The fixture of KernelSolveTests (N = 500 points in the unit cube, exp(-10 |x - y|^2), two
/// right-hand sides), solved with each method of `SolverOptions`.
@Suite struct PreconditionedSolveTests {
  let solver: KernelSolve
  let args: [NDArray]

  init() throws {
    solver = try KernelSolve(formula: gaussFormula, aliases: gaussAliases, varinvalias: "a", axis: 1)
    args = [try load("g.npy"), try load("x.npy"), try load("x.npy"), try load("b.npy")]
  }

  func solve(_ options: SolverOptions, alpha: Double, eps: Double = 1e-6, backend: String = "CPU") throws -> ([Double], SolveReport) {
    let (a, report) = try solver.solve(args, alpha: alpha, eps: eps, backend: backend, options: options)
    #expect(a.shape == [500, 2])
    return (a.toDoubles(), report)
  }

  /// max |u - v| / max |v|.
  func relativeDifference(_ u: [Double], _ v: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for k in 0..<u.count { num = max(num, abs(u[k] - v[k])); den = max(den, abs(v[k])) }
    return num / den
  }

  /// The RMS of b - (alpha a + K a), with K applied by a Genred on the reference engine.
  func residual(_ a: [Double], alpha: Double) throws -> Double {
    var o = GenredOptions()
    o.axis = 1
    let k = try Genred(formula: gaussFormula, aliases: gaussAliases, options: o)
    guard case .single(let ka) = try k.call([args[0], args[1], args[2], NDArray(shape: [500, 2], float64: a)], backend: "reference")
    else { return .infinity }
    let kav = ka.toDoubles(), b = args[3].toDoubles()
    var s = 0.0
    for i in 0..<a.count { s += pow(b[i] - alpha * a[i] - kav[i], 2) }
    return (s / Double(a.count)).squareRoot()
  }

  /// precond=None is KeOps' CG: the iteration counts of PyKeOps (34/89/250 on the reference
  /// engine, cg_iterations.json), the same as `solve` without options.
  @Test(arguments: [(1.0, 34), (0.1, 89), (0.01, 250)])
  func precondNoneKeepsPyKeOpsIterationCounts(alpha: Double, keops: Int) throws {
    let (a, report) = try solve(.keops, alpha: alpha, backend: "reference")
    #expect(abs(report.iterations - keops) <= 1, "precond=None took \(report.iterations) iterations, PyKeOps \(keops)")
    #expect(report.method == "CG")
    #expect(report.history.count == report.iterations + 1)
    #expect(report.history.last == report.rmsResidual)
    let (plain, plainReport) = try solver.solve(args, alpha: alpha, eps: 1e-6, backend: "reference")
    #expect(plainReport.iterations == report.iterations)
    #expect(a == plain.toDoubles())
  }

  /// Nyström PCG stops by KeOps' rule and agrees with plain CG to eps, in far fewer iterations.
  @Test(arguments: [SolverOptions.CentreSelection.rpcholesky, .uniform, .leverage])
  func nystromAgreesWithPlainCGInFewerIterations(selection: SolverOptions.CentreSelection) throws {
    let (plain, plainReport) = try solve(.keops, alpha: 0.01)
    var o = SolverOptions(preconditioner: .nystrom, method: .cg, centres: 100, centreSelection: selection)
    o.seed = 3
    let (a, report) = try solve(o, alpha: 0.01)
    #expect(report.converged)
    #expect(report.rmsResidual < 1e-6)
    #expect(try residual(a, alpha: 0.01) < 1.5e-6)
    #expect(report.method.hasPrefix("PCG (Nyström, "))
    #expect(report.iterations * 4 < plainReport.iterations, "Nyström took \(report.iterations), plain CG \(plainReport.iterations)")
    #expect(relativeDifference(a, plain) < 1e-3)
    #expect(report.history.count == report.iterations + 1)
  }

  /// mixed_precision: float32 kernel products inside a float64 refinement still stop by KeOps'
  /// rule on the float64 residual (checked here on the reference engine), agree with plain CG,
  /// and say so in the method; the float64 residual checks are in the history.
  @Test(arguments: [SolverOptions.Preconditioner.nystrom, .jacobi])
  func mixedPrecisionStopsOnTheFloat64Residual(precond: SolverOptions.Preconditioner) throws {
    let (plain, _) = try solve(.keops, alpha: 0.01)
    var o = SolverOptions(preconditioner: precond, method: .cg, centres: 100)
    o.mixedPrecision = true
    let (a, report) = try solve(o, alpha: 0.01)
    #expect(report.converged)
    #expect(report.rmsResidual < 1e-6)
    #expect(try residual(a, alpha: 0.01) < 1.5e-6)
    #expect(report.method.hasSuffix("; float32 products, float64 residuals)"), "\(report.method)")
    #expect(relativeDifference(a, plain) < 1e-3)
    #expect(report.history.count == report.iterations + 1)
    #expect(report.history.last == report.rmsResidual)
    // The float64 answer agrees with the mixed one to eps; each restart of the refinement costs
    // some iterations, fewer than the float32 products save (2.5x cheaper on a CPU).
    o.mixedPrecision = false
    let (a64, report64) = try solve(o, alpha: 0.01)
    #expect(!report64.method.contains("float32"))
    #expect(relativeDifference(a, a64) < 1e-3)
    #expect(report.iterations < 2 * report64.iterations, "mixed \(report.iterations), float64 \(report64.iterations)")
  }

  /// eps far below float32's reach takes several refinement rounds, and still stops on the
  /// float64 residual.
  @Test func mixedPrecisionRefinesBelowFloat32Accuracy() throws {
    var o = SolverOptions(preconditioner: .nystrom, method: .cg, centres: 100)
    o.mixedPrecision = true
    let (a, report) = try solve(o, alpha: 0.01, eps: 1e-12)
    #expect(report.converged && report.rmsResidual < 1e-12)
    #expect(!report.method.contains("float64 after "), "\(report.method)")
    #expect(try residual(a, alpha: 0.01) < 1e-11)
  }

  /// Kernel values that overflow float32 (here 1e39 exp(-g |x - y|^2)) hand over to float64
  /// products instead of failing, and the method says from when.
  @Test func mixedPrecisionHandsOverToFloat64WhenFloat32Overflows() throws {
    let s = try KernelSolve(
      formula: "c*Exp(-g*SqDist(x,y))*a", aliases: ["c = Pm(1)"] + gaussAliases, varinvalias: "a", axis: 1)
    let big = [NDArray(shape: [1], float64: [1e39])] + args
    var o = SolverOptions(preconditioner: .nystrom, method: .cg, centres: 100)
    o.mixedPrecision = true
    let (a, report) = try s.solve(big, alpha: 1e37, eps: 1e-6, backend: "CPU", options: o)
    #expect(report.converged && report.rmsResidual < 1e-6)
    #expect(report.method.hasSuffix("; float32 products, float64 residuals, float64 after 0 products)"), "\(report.method)")
    #expect(a.toDoubles().allSatisfy { $0.isFinite })
  }

  /// mixed_precision=True on float32 data is refused with a clear message; the default is off
  /// below `mixedPrecisionMinimum` and on the reference engine.
  @Test func mixedPrecisionNeedsFloat64Data() throws {
    let args32 = args.map { NDArray(shape: $0.shape, doubles: $0.toDoubles(), dtype: .float32) }
    var o = SolverOptions(preconditioner: .nystrom, method: .cg, centres: 50)
    o.mixedPrecision = true
    #expect {
      _ = try solver.solve(args32, alpha: 0.1, eps: 1e-4, backend: "CPU", options: o)
    } throws: { error in
      "\(error)".contains("mixed_precision=True needs float64 data")
    }
    let (_, report) = try solve(SolverOptions(preconditioner: .nystrom, method: .cg, centres: 50), alpha: 0.1)
    #expect(!report.method.contains("float32"))
  }

  /// The same seed gives the same centres, hence the same iterates.
  @Test func nystromIsReproducible() throws {
    let o = SolverOptions(preconditioner: .nystrom, method: .cg, centres: 64)
    let (a1, r1) = try solve(o, alpha: 0.1)
    let (a2, r2) = try solve(o, alpha: 0.1)
    #expect(r1.iterations == r2.iterations)
    #expect(a1 == a2)
  }

  @Test func jacobiConverges() throws {
    let (plain, _) = try solve(.keops, alpha: 0.1)
    let (a, report) = try solve(SolverOptions(preconditioner: .jacobi, method: .cg), alpha: 0.1)
    #expect(report.converged && report.method == "PCG (Jacobi)")
    #expect(relativeDifference(a, plain) < 1e-3)
  }

  /// The direct method solves to rounding, checked by one operator application.
  @Test func directSolveMatchesTheSystem() throws {
    let (a, report) = try solve(SolverOptions(method: .direct), alpha: 0.01)
    #expect(report.direct && report.converged)
    #expect(report.method == "Direct (Cholesky, 500 x 500)")
    #expect(report.rmsResidual < 1e-10)
    #expect(try residual(a, alpha: 0.01) < 1e-10)
    let (cg, _) = try solve(.keops, alpha: 0.01, eps: 1e-10)
    #expect(relativeDifference(a, cg) < 1e-6)
  }

  /// auto: small systems are factored; large ones get Nyström; the choice is named.
  @Test func autoPicksAndSaysWhich() throws {
    let (_, small) = try solve(SolverOptions(), alpha: 0.1)
    #expect(small.direct)
    #expect(small.note?.contains("auto") == true)
    let n = KernelSolve.directCrossover(columns: 1) + 100
    var rng = CentreRandom(seed: 1)
    let x = NDArray(shape: [n, 1], float64: (0..<n).map { _ in rng.uniform() * 10 })
    let b = NDArray(shape: [n, 1], float64: (0..<n).map { _ in rng.uniform() - 0.5 })
    let s = try KernelSolve(formula: "Exp(-SqDist(x,y))*a", aliases: ["x = Vi(1)", "y = Vj(1)", "a = Vj(1)"], varinvalias: "a", axis: 1)
    let (_, big) = try s.solve([x, x, b], alpha: 0.1, backend: "CPU", options: SolverOptions())
    #expect(!big.direct)
    #expect(big.method.hasPrefix("PCG (Nyström"))
    #expect(big.converged)
  }

  /// A linear formula that is not k(x, y) * a falls back to plain CG with a note.
  @Test func otherLinearFormulasFallBackToPlainCG() throws {
    let s = try KernelSolve(
      formula: "Exp(-g*SqDist(x,y))*a + IntInv(2)*a", aliases: gaussAliases, varinvalias: "a", axis: 1)
    let (_, plain) = try s.solve(args, alpha: 0.1, backend: "CPU")
    for p in [SolverOptions.Preconditioner.auto, .nystrom, .jacobi] {
      let (_, report) = try s.solve(args, alpha: 0.1, backend: "CPU", options: SolverOptions(preconditioner: p))
      #expect(report.method == "CG")
      #expect(report.note?.contains("plain CG") == true)
      #expect(report.iterations == plain.iterations)
    }
    #expect(throws: OperationError.self) {
      try s.solve(args, alpha: 0.1, backend: "CPU", options: SolverOptions(method: .direct))
    }
    #expect(throws: OperationError.self) {
      try solver.solve(args, alpha: 0.1, backend: "CPU", options: SolverOptions(preconditioner: .jacobi, method: .direct))
    }
  }

  /// With ranges= the operator is block-sparse (reference engine); auto runs plain CG, and an
  /// explicit Nyström preconditioner (built from the full kernel) still converges to the same answer.
  @Test func rangesAreHonoured() throws {
    func pairs(_ p: [(Int, Int)]) -> NDArray { NDArray(shape: [p.count, 2], int64: p.flatMap { [Int64($0.0), Int64($0.1)] }) }
    func ints(_ v: [Int]) -> NDArray { NDArray(shape: [v.count], int64: v.map { Int64($0) }) }
    // Two clusters (rows 0..<250 and 250..<500), interacting only within themselves.
    let r = [(0, 250), (250, 500)]
    let ranges = [pairs(r), ints([1, 2]), pairs(r), pairs(r), ints([1, 2]), pairs(r)]
    let (plain, plainReport) = try solver.solve(args, alpha: 0.1, eps: 1e-6, ranges: ranges)
    let (auto, autoReport) = try solver.solve(args, alpha: 0.1, eps: 1e-6, ranges: ranges, options: SolverOptions())
    #expect(autoReport.iterations == plainReport.iterations)
    #expect(auto.toDoubles() == plain.toDoubles())
    let (ny, nyReport) = try solver.solve(
      args, alpha: 0.1, eps: 1e-6, ranges: ranges, options: SolverOptions(preconditioner: .nystrom, method: .cg, centres: 100))
    #expect(nyReport.converged)
    #expect(relativeDifference(ny.toDoubles(), plain.toDoubles()) < 1e-3)
    #expect(throws: OperationError.self) {
      try solver.solve(args, alpha: 0.1, ranges: ranges, options: SolverOptions(method: .direct))
    }
  }

  /// float32 data: the preconditioned solve stops by the same rule.
  @Test func float32Data() throws {
    let a32 = args.map { NDArray(shape: $0.shape, doubles: $0.toDoubles(), dtype: .float32) }
    let (a, report) = try solver.solve(a32, alpha: 0.1, eps: 1e-4, backend: "CPU", options: SolverOptions(preconditioner: .nystrom, method: .cg))
    #expect(a.dtype == .float32)
    #expect(report.converged && report.rmsResidual < 1e-4)
  }

  /// Blocks of the kernel matrix are the kernel evaluated at the rows and columns asked for.
  @Test func kernelBlocksAreTheKernel() throws {
    let (plan, prepared) = try solver.genred.prepare(args)
    let km = try #require(KernelMatrix(solver: solver, plan: plan, arguments: prepared, engine: try Backend.engine(named: "CPU")))
    let x = args[1].toDoubles(), g = args[0].toDoubles()[0]
    let rows = [3, 0, 499, 17], cols = Array(stride(from: 1, to: 500, by: 7))
    let block = try km.block(rows: rows, cols: cols)
    var worst = 0.0
    for (r, i) in rows.enumerated() {
      for (c, j) in cols.enumerated() {
        var d2 = 0.0
        for k in 0..<3 { d2 += pow(x[3 * i + k] - x[3 * j + k], 2) }
        worst = max(worst, abs(block[r * cols.count + c] - Foundation.exp(-g * d2)))
      }
    }
    #expect(worst < 1e-12)
    let diagonal = try km.diagonal()
    #expect(diagonal.count == 500 && diagonal.allSatisfy { abs($0 - 1) < 1e-12 })
  }

  @Test func kernelPartIsFoundSymbolically() throws {
    func part(_ f: String) throws -> String? {
      let s = try KernelSolve(formula: f, aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(3)"], varinvalias: "a", axis: 1)
      let v = s.genred.reduced.arguments[s.unknownIndex]
      return KernelMatrix.kernelPart(of: s.genred.reduced.formula, unknown: v)?.description
    }
    #expect(try part("Exp(-Norm2(x - y)) * a") != nil)
    #expect(try part("a * Exp(-SqDist(x, y))") != nil)
    #expect(try part("Exp(-SqDist(x, y)) * a + a") == nil)
    #expect(try part("(x - y) * a") == nil)  // not a scalar kernel
  }

  /// The residual history is what the progress callback saw.
  @Test func progressCarriesTargetAndHistory() throws {
    var seen: [SolveProgress] = []
    let (_, report) = try solver.solve(
      args, alpha: 0.1, eps: 1e-6, backend: "CPU", options: SolverOptions(preconditioner: .nystrom, method: .cg, centres: 50),
      progress: { seen.append($0) })
    #expect(seen.first?.iteration == 0)
    #expect(seen.allSatisfy { $0.target == 1e-6 && $0.method == report.method })
    #expect(seen.map(\.rmsResidual) == report.history)
  }
}

@Suite struct DenseMatrixTests {
  @Test func choleskySolvesAndRejectsIndefinite() throws {
    // A = [[4, 2], [2, 3]]
    var a = [4.0, 2, 2, 3]
    try DenseMatrix.cholesky(&a, n: 2)
    #expect(abs(a[0] - 2) < 1e-15 && a[1] == 0 && abs(a[2] - 1) < 1e-15 && abs(a[3] - 2.0.squareRoot()) < 1e-15)
    var b = [2.0, 1]  // A x = b for x = (0.5, 0)
    try DenseMatrix.choleskySolve(a, n: 2, &b, nrhs: 1)
    #expect(abs(b[0] - 0.5) < 1e-15 && abs(b[1]) < 1e-15)
    var bad = [1.0, 2, 2, 1]
    #expect(throws: DenseMatrixError.notPositiveDefinite(order: 2)) { try DenseMatrix.cholesky(&bad, n: 2) }
    let g = DenseMatrix.gram([1, 2, 3, 4, 5, 6], m: 2, k: 3)
    #expect(g == [14, 32, 32, 77])
  }
}
