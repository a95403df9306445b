import ArrayIO
import DenseLinearAlgebra
import Dispatch
import Foundation
import KernelEngines

extension KernelSolve {
  /// Solves `(alpha Id + K) a = b` with the method and preconditioner of `options`
  /// (`docs/solvers.md`): KeOps' plain CG (`precond=None`), CG preconditioned by Jacobi or
  /// Nyström, or a direct Cholesky solve of the dense matrix; `"auto"` picks among them.
  ///
  /// Every iterative method stops by KeOps' rule, the RMS residual of the unpreconditioned
  /// system below eps, so its answer agrees with plain CG's to eps; the direct method checks
  /// its residual with one operator application on the engine (and refines while it is above
  /// eps). The report says which method ran and keeps the residual history.
  public func solve(
    _ arguments: [NDArray], alpha: Double = 1e-10, eps: Double = 1e-6, maxIterations: Int? = nil,
    backend: String = "auto", deviceId: Int = -1, ranges: [NDArray]? = nil, cancel: CancellationToken? = nil,
    options: SolverOptions, progress: ((SolveProgress) -> Void)? = nil
  ) throws -> (NDArray, SolveReport) {
    try Self.checkOptions(alpha: alpha, eps: eps, maxIterations: maxIterations)
    if options.method == .direct && options.preconditioner != .auto {
      throw OperationError.option(
        name: "precond", message: "precond= applies to method=\"cg\"; method=\"direct\" factors the matrix itself")
    }
    let plainCG = options.preconditioner == .none && options.method != .direct
    let engine = try Backend.engine(named: backend, deviceID: deviceId, blockSparse: ranges != nil)
    let (plan, args) = try genred.prepare(arguments, ranges: ranges)
    guard args.outputRows == args.reducedRows else {
      throw OperationError.call(
        "KernelSolve needs a square system: the output has \(args.outputRows) rows but the unknown has \(args.reducedRows)")
    }
    let b = args.arrays[unknownIndex]
    let n = args.outputRows
    let columns = b.count / max(n, 1)
    if plainCG { return try keopsCG(arguments, alpha, eps, maxIterations, backend, deviceId, ranges, cancel, nil, progress) }

    let start = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    // The kernel matrix is built without ranges (dense blocks); with ranges only the operator
    // applications are block-sparse.
    let kernel = KernelMatrix(solver: self, plan: plan, arguments: KernelArguments(arrays: args.arrays, outputRows: n, reducedRows: n), engine: engine)
    let lapackFailure = DenseMatrix.lapackFailure
    let denseBytes = n * n * 8

    // method="direct", explicitly or by auto.
    var chooseDirect = false
    var note: String?
    switch options.method {
    case .direct:
      guard kernel != nil else {
        throw OperationError.option(
          name: "method", message: "method=\"direct\" needs a formula of the form k(x, y) * \(unknownName) (a scalar kernel times the unknown)")
      }
      if let why = lapackFailure { throw OperationError.option(name: "method", message: "method=\"direct\" needs LAPACK (\(why)); install liblapacke") }
      if ranges != nil { throw OperationError.option(name: "method", message: "method=\"direct\" does not take ranges= (the dense matrix would ignore them); use method=\"cg\"") }
      guard denseBytes <= options.memoryBudget else {
        throw OperationError.option(
          name: "method",
          message: "method=\"direct\" needs the \(n) x \(n) matrix, \(Self.bytes(denseBytes)), more than the \(Self.bytes(options.memoryBudget)) allowed; use method=\"cg\"")
      }
      chooseDirect = true
    case .auto:
      if kernel != nil, lapackFailure == nil, ranges == nil, options.preconditioner == .auto, denseBytes <= options.memoryBudget,
        n <= Self.directCrossover(columns: columns)
      {
        chooseDirect = true
        note = "auto: N = \(n) is small enough to factor"
      }
    case .cg:
      break
    }
    if chooseDirect, let kernel {
      return try direct(
        kernel: kernel, plan: plan, args: args, engine: engine, alpha: alpha, eps: eps, note: note, cancel: cancel,
        started: start, progress: progress)
    }

    // Conjugate gradient with a preconditioner.
    var precond = options.preconditioner
    if precond == .auto {
      if kernel == nil {
        return try keopsCG(
          arguments, alpha, eps, maxIterations, backend, deviceId, ranges, cancel,
          "auto: no kernel part k(x, y) * \(unknownName) in the formula, plain CG", progress)
      }
      if ranges != nil {
        return try keopsCG(
          arguments, alpha, eps, maxIterations, backend, deviceId, ranges, cancel, "auto: plain CG with ranges=", progress)
      }
      if lapackFailure != nil || !(alpha > 0) {
        precond = .jacobi
        note = lapackFailure != nil ? "auto: Jacobi, as Nyström needs LAPACK (\(lapackFailure!))" : "auto: Jacobi, as Nyström needs alpha > 0"
      } else {
        precond = .nystrom
      }
    }
    guard let kernel else {
      return try keopsCG(
        arguments, alpha, eps, maxIterations, backend, deviceId, ranges, cancel,
        "\(precond.rawValue) needs a formula k(x, y) * \(unknownName); ran plain CG", progress)
    }
    if precond == .nystrom, let why = lapackFailure {
      throw OperationError.option(name: "precond", message: "precond=\"nystrom\" needs LAPACK (\(why)); install liblapacke or use \"jacobi\"")
    }

    // float32 products with float64 residuals: on by default for float64 data on a compiled engine.
    let mixed = options.mixedPrecision ?? (plan.dataType == .float64 && engine.name != "reference" && n >= Self.mixedPrecisionMinimum)
    if mixed && plan.dataType != .float64 {
      throw OperationError.option(
        name: "mixed_precision", message: "mixed_precision=True needs float64 data (the \(plan.dataType.rawValue) products are already the fast ones)")
    }
    let preconditioner: any Preconditioner
    var method: String
    do {
      switch precond {
      case .jacobi:
        preconditioner = JacobiPreconditioner(diagonal: try kernel.diagonal(cancel: cancel), alpha: alpha)
        method = "PCG (Jacobi)"
      default:
        let budgetCap = max(1, options.memoryBudget / 2 / max(1, 8 * n))
        let m = min(n, options.centres ?? Self.defaultCentres(n: n, columns: columns, mixed: mixed), budgetCap)
        let built: (ft: [Double], m: Int)
        switch options.centreSelection {
        case .rpcholesky:
          built = try NystromBuilder.rpcholesky(kernel, m: m, seed: options.seed, stopTrace: 0.05 * alpha, cancel: cancel)
        case .uniform:
          built = try NystromBuilder.fixed(
            kernel, centres: NystromBuilder.uniformCentres(n: n, m: m, seed: options.seed), cancel: cancel)
        case .leverage:
          let pilot = try NystromBuilder.fixed(
            kernel, centres: NystromBuilder.uniformCentres(n: n, m: m, seed: options.seed), cancel: cancel)
          let scores = try NystromBuilder.leverageScores(ft: pilot.ft, m: pilot.m, n: n, alpha: alpha)
          built = try NystromBuilder.fixed(
            kernel, centres: NystromBuilder.weightedCentres(scores, m: m, seed: options.seed), cancel: cancel)
        }
        let t0 = elapsed()
        preconditioner = try NystromPreconditioner(
          ft: built.ft, m: built.m, n: n, alpha: alpha, float32: mixed)
        if getenv("KS_SOLVE_TRACE") != nil {
          FileHandle.standardError.write(Data("nystrom: centres \(t0) s, factor \(elapsed() - t0) s\n".utf8))
        }
        method = "PCG (Nyström, \(built.m) centre\(built.m == 1 ? "" : "s"))"
        if options.centreSelection != .rpcholesky { method = "PCG (Nyström, \(built.m) \(options.centreSelection.rawValue) centres)" }
      }
    } catch let e as EngineError {
      if e == .cancelled { throw SolveFailure(reason: .cancelled, report: SolveReport(iterations: 0, rmsResidual: .nan, elapsed: elapsed(), converged: false), lastIterate: NDArray(shape: b.shape, doubles: [Double](repeating: 0, count: b.count), dtype: b.dtype)) }
      throw OperationError.engine(e)
    } catch let e as DenseMatrixError {
      throw OperationError.call("building the preconditioner: \(e)")
    } catch SolveFailure.Reason.cancelled {
      throw SolveFailure(reason: .cancelled, report: SolveReport(iterations: 0, rmsResidual: .nan, elapsed: elapsed(), converged: false), lastIterate: NDArray(shape: b.shape, doubles: [Double](repeating: 0, count: b.count), dtype: b.dtype))
    }
    var fast: FastOperator?
    if mixed {
      fast = FastOperator(plan: plan, arguments: args, engine: engine, unknownIndex: unknownIndex)
      method = String(method.dropLast()) + "; float32 products, float64 residuals)"
    }
    let setup = elapsed()
    return try pcg(
      plan: plan, args: args, engine: engine, alpha: alpha, eps: eps, maxIterations: maxIterations, preconditioner: preconditioner,
      method: method, note: note, setup: setup, cancel: cancel, started: start, progress: progress, fast: fast)
  }

  /// How many more float32 iterations a refinement round may take to reach eps / 2 directly
  /// rather than stopping at its reach (a float64 product costs about 2.5 float32 ones).
  static let extraIterations = 2.0

  /// The N from which `mixed_precision` defaults to on: below it the solve takes well under a
  /// second and the float32 kernel's first compilation would cost more than it saves.
  public static let mixedPrecisionMinimum = 4_096

  /// N up to which `method="auto"` factors the dense matrix rather than iterating: the Cholesky
  /// (N^3/3 flops through BLAS) costs about as much as the Nyström set-up plus a few tens of
  /// operator applications with `columns` right-hand sides.
  public static func directCrossover(columns: Int) -> Int { 1_500 + 500 * min(columns, 8) }

  /// The Nyström rank chosen when `centres=` is not given: grows like sqrt(N D), so that the
  /// set-up (N m^2 flops) stays a few operator applications (N^2 D kernel evaluations). With
  /// float32 products (`mixed`), 2.5x cheaper, the balance is at sqrt(2.5) times fewer centres.
  public static func defaultCentres(n: Int, columns: Int, mixed: Bool = false) -> Int {
    let m = ((mixed ? 20.0 : 50.0) * Double(n) * Double(max(columns, 1))).squareRoot()
    return min(n, max(64, Int(m.rounded())))
  }

  static func bytes(_ b: Int) -> String {
    b >= 1 << 30 ? "\((Double(b) / Double(1 << 30) * 10).rounded() / 10) GiB" : "\((Double(b) / Double(1 << 20) * 10).rounded() / 10) MiB"
  }

  /// KeOps' plain CG (the `solve` of KernelSolve.swift), with the history and method recorded.
  func keopsCG(
    _ arguments: [NDArray], _ alpha: Double, _ eps: Double, _ maxIterations: Int?, _ backend: String, _ deviceId: Int,
    _ ranges: [NDArray]?, _ cancel: CancellationToken?, _ note: String?, _ progress: ((SolveProgress) -> Void)?
  ) throws -> (NDArray, SolveReport) {
    var history: [Double] = []
    do {
      var (a, report) = try solve(
        arguments, alpha: alpha, eps: eps, maxIterations: maxIterations, backend: backend, deviceId: deviceId, ranges: ranges,
        cancel: cancel,
        progress: { p in
          history.append(p.rmsResidual)
          var q = p
          q.target = eps
          progress?(q)
        })
      report.note = note
      let b = arguments[unknownIndex].toDoubles()
      var nb = 0.0
      for v in b { nb += v * v }
      report.history = [(nb / Double(max(b.count, 1))).squareRoot()] + history
      return (a, report)
    } catch var f as SolveFailure {
      f.report.history = history
      f.report.note = note
      throw f
    }
  }

  /// Preconditioned CG with KeOps' stopping rule (RMS of the unpreconditioned residual < eps),
  /// its start (a = 0) and its failure checks. With the identity preconditioner the iterates are
  /// KeOps' CG's.
  ///
  /// With `fast` (float64 data on a compiled engine, `docs/solvers.md`), the iterations apply the
  /// operator in float32 (vectors and scalars stay float64) inside an iterative refinement: each
  /// time the recursive residual has fallen `FastOperator.reach` times below the last true one,
  /// the residual is replaced by the true one, r = b - (alpha Id + K) a, from one float64
  /// product, and CG restarts from it (the float32 drift is then as large as the residual, so the
  /// old search direction would no longer be conjugate). The solve stops by KeOps' rule on that
  /// float64 residual. An update that shows a gain below 10x hands over to float64 products.
  func pcg(
    plan: KernelPlan, args arguments: KernelArguments, engine: any KernelEngine, alpha: Double, eps: Double,
    maxIterations: Int?, preconditioner: any Preconditioner, method: String, note: String?, setup: Double,
    cancel: CancellationToken?, started start: UInt64, progress: ((SolveProgress) -> Void)?, fast: FastOperator? = nil
  ) throws -> (NDArray, SolveReport) {
    var args = arguments
    let b = args.arrays[unknownIndex]
    let dtype = b.dtype
    let precision = Precision(dtype)
    let n = b.count
    let columns = n / max(args.outputRows, 1)
    let maxiter = maxIterations ?? Self.defaultMaxIterations
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    func round(_ v: inout [Double]) { if precision != .float64 { for k in v.indices { v[k] = precision.round(v[k]) } } }
    func dot(_ u: [Double], _ w: [Double]) -> Double { Self.dot(u, w) }
    let trace = getenv("KS_SOLVE_TRACE") != nil
    var operatorNanos: UInt64 = 0, precondNanos: UInt64 = 0, fastNanos: UInt64 = 0
    func timed<T>(_ clock: inout UInt64, _ body: () throws -> T) rethrows -> T {
      let t = DispatchTime.now().uptimeNanoseconds
      defer { clock += DispatchTime.now().uptimeNanoseconds - t }
      return try body()
    }
    func linop(_ p: [Double]) throws -> [Double] {
      try timed(&operatorNanos) { try applyOperator(p, plan: plan, args: &args, engine: engine, alpha: alpha, cancel: cancel) }
    }
    let delta = Double(n) * eps * eps
    let bv = b.toDoubles()
    var a = [Double](repeating: 0, count: n)
    var r = bv
    var nr2 = dot(r, r)
    var iterations = 0
    var history = [(nr2 / Double(max(n, 1))).squareRoot()]
    var method = method
    func report(_ converged: Bool) -> SolveReport {
      if trace {
        FileHandle.standardError.write(
          Data(
            "pcg: operator \(Double(operatorNanos) / 1e9) s, float32 operator \(Double(fastNanos) / 1e9) s, preconditioner \(Double(precondNanos) / 1e9) s, total \(elapsed()) s\n"
              .utf8))
      }
      var rep = SolveReport(
        iterations: iterations, rmsResidual: (nr2 / Double(max(n, 1))).squareRoot(), elapsed: elapsed(), converged: converged)
      rep.method = method
      rep.note = note
      rep.history = history
      rep.setup = setup
      return rep
    }
    func result(_ v: [Double]) -> NDArray { NDArray(shape: b.shape, doubles: v, dtype: dtype) }
    func fail(_ reason: SolveFailure.Reason) -> SolveFailure {
      SolveFailure(reason: reason, report: report(false), lastIterate: result(a))
    }
    if nr2 < delta { return (result(a), report(true)) }
    progress?(SolveProgress(iteration: 0, rmsResidual: history[0], elapsed: elapsed(), target: eps, method: method))

    var z = timed(&precondNanos) { preconditioner.apply(r, columns: columns) }
    round(&z)
    var rz = dot(r, z)
    var p = z
    var best = nr2
    var growing = 0
    // Mixed precision: the true residual at the last update, and the iterations since.
    var useFast = fast != nil
    var updated = nr2
    var sinceUpdate = 0
    var fast = fast
    var restart = false
    /// At the reach of float32 products: whether to go on to eps / 2 before the update, because the
    /// rate since the last update says that takes at most `extraIterations` more iterations
    /// (cheaper than the float64 product of one more update).
    func goDeeper() -> Bool {
      let target = 0.25 * delta
      guard nr2 >= target, nr2 > 0, sinceUpdate > 0 else { return false }
      let perIteration = Foundation.log(updated / nr2) / Double(sinceUpdate)
      return perIteration > 0 && Foundation.log(nr2 / target) / perIteration <= Self.extraIterations
    }
    while true {
      if let c = cancel, c.isCancelled { throw fail(.cancelled) }
      if iterations >= maxiter { throw fail(.maxIterations(maxiter)) }
      let mp: [Double]
      do {
        var product: [Double]?
        if useFast {
          let q = try timed(&fastNanos) { try fast!.apply(p, alpha: alpha, cancel: cancel) }
          if dot(p, q).isFinite {
            product = q
          } else {  // overflow in float32 (kernel values above 3.4e38): float64 from here
            useFast = false
            method = String(method.dropLast()) + ", float64 after \(iterations) products)"
          }
        }
        mp = try product ?? linop(p)
      } catch let reason as SolveFailure.Reason {
        throw fail(reason)
      }
      iterations += 1
      sinceUpdate += 1
      let curvature = dot(p, mp)
      if !curvature.isFinite || !rz.isFinite { throw fail(.nonFinite) }
      if curvature <= 0 { throw fail(.notPositiveDefinite(curvature: curvature)) }
      let alp = rz / curvature
      for k in 0..<n {
        a[k] += alp * p[k]
        r[k] -= alp * mp[k]
      }
      round(&a)
      round(&r)
      nr2 = dot(r, r)
      history.append((nr2 / Double(n)).squareRoot())
      progress?(SolveProgress(iteration: iterations, rmsResidual: history.last!, elapsed: elapsed(), target: eps, method: method))
      if !nr2.isFinite { throw fail(.nonFinite) }
      if !useFast {
        if nr2 < delta { return (result(a), report(true)) }
      } else if nr2 < max(0.25 * delta, FastOperator.reach * FastOperator.reach * updated) && !goDeeper() {
        // The true residual, from one float64 product; CG restarts from it.
        if iterations >= maxiter { throw fail(.maxIterations(maxiter)) }
        let ka: [Double]
        do {
          ka = try linop(a)
        } catch let reason as SolveFailure.Reason {
          throw fail(reason)
        }
        iterations += 1
        for k in 0..<n { r[k] = bv[k] - ka[k] }
        nr2 = dot(r, r)
        history.append((nr2 / Double(n)).squareRoot())
        if trace {
          FileHandle.standardError.write(Data("refinement: float64 rms \(history.last!) after \(iterations) products\n".utf8))
        }
        progress?(SolveProgress(iteration: iterations, rmsResidual: history.last!, elapsed: elapsed(), target: eps, method: method))
        if !nr2.isFinite { throw fail(.nonFinite) }
        if nr2 < delta { return (result(a), report(true)) }
        if nr2 > 0.01 * updated {  // float32 products no longer gain: float64 from here
          useFast = false
          method = String(method.dropLast()) + ", float64 after \(iterations) products)"
        }
        updated = nr2
        sinceUpdate = 0
        best = nr2
        growing = 0
        restart = true
      }
      if nr2 < best { best = nr2; growing = 0 } else if nr2 > 1e3 * best { growing += 1 }
      if growing >= Self.growthPatience { throw fail(.diverging) }
      z = timed(&precondNanos) { preconditioner.apply(r, columns: columns) }
      round(&z)
      let rzNew = dot(r, z)
      if restart {
        p = z
        restart = false
      } else {
        let beta = rzNew / rz
        for k in 0..<n { p[k] = z[k] + beta * p[k] }
        round(&p)
      }
      rz = rzNew
    }
  }

  /// The direct method: K built on the engine, alpha added to its diagonal, factored by LAPACK
  /// (Cholesky) and solved; the residual is then measured with one operator application, and
  /// refined with the factor while it is above eps (at most 3 times).
  func direct(
    kernel: KernelMatrix, plan: KernelPlan, args arguments: KernelArguments, engine: any KernelEngine, alpha: Double,
    eps: Double, note: String?, cancel: CancellationToken?, started start: UInt64, progress: ((SolveProgress) -> Void)?
  ) throws -> (NDArray, SolveReport) {
    var args = arguments
    let b = args.arrays[unknownIndex]
    let dtype = b.dtype
    let precision = Precision(dtype)
    let n = args.outputRows
    let columns = b.count / max(n, 1)
    let method = "Direct (Cholesky, \(n) x \(n))"
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    var factor: [Double]
    do {
      factor = try kernel.block(rows: nil, cols: Array(0..<n), cancel: cancel)
    } catch {
      if error == .cancelled {
        throw SolveFailure(
          reason: .cancelled, report: SolveReport(iterations: 0, rmsResidual: .nan, elapsed: elapsed(), converged: false),
          lastIterate: NDArray(shape: b.shape, doubles: [Double](repeating: 0, count: b.count), dtype: dtype))
      }
      throw OperationError.engine(error)
    }
    // Symmetrize (the kernel is symmetric up to rounding) and shift.
    for i in 0..<n {
      for j in 0..<i { factor[i * n + j] = 0.5 * (factor[i * n + j] + factor[j * n + i]) }
      factor[i * n + i] += alpha
    }
    do {
      try DenseMatrix.cholesky(&factor, n: n)
    } catch .notPositiveDefinite(let k) {
      throw OperationError.call(
        "method=\"direct\": alpha Id + K is not positive definite (the Cholesky factorization fails at order \(k) of \(n)); KernelSolve needs a symmetric positive definite kernel, or a larger alpha")
    } catch {
      throw OperationError.call("method=\"direct\": \(error)")
    }
    let setup = elapsed()
    let bv = b.toDoubles()
    var a = bv
    try DenseMatrix.choleskySolve(factor, n: n, &a, nrhs: columns)
    if precision != .float64 { for k in a.indices { a[k] = precision.round(a[k]) } }
    var history: [Double] = []
    var nb = 0.0
    for v in bv { nb += v * v }
    history.append((nb / Double(max(bv.count, 1))).squareRoot())
    var refinements = 0
    var rms = 0.0
    while true {
      args.arrays[unknownIndex] = NDArray(shape: b.shape, doubles: a, dtype: dtype)
      var ka: [Double]
      do {
        ka = try engine.reduce(plan, args, cancel: cancel)
      } catch {
        throw OperationError.engine(error)
      }
      var r = [Double](repeating: 0, count: a.count)
      var nr2 = 0.0
      for k in 0..<a.count {
        r[k] = bv[k] - (ka[k] + alpha * a[k])
        nr2 += r[k] * r[k]
      }
      rms = (nr2 / Double(max(a.count, 1))).squareRoot()
      history.append(rms)
      progress?(SolveProgress(iteration: refinements, rmsResidual: rms, elapsed: elapsed(), target: eps, method: method))
      if rms < eps || refinements >= 3 || !rms.isFinite { break }
      try DenseMatrix.choleskySolve(factor, n: n, &r, nrhs: columns)
      for k in 0..<a.count { a[k] += r[k] }
      if precision != .float64 { for k in a.indices { a[k] = precision.round(a[k]) } }
      refinements += 1
    }
    var report = SolveReport(iterations: refinements, rmsResidual: rms, elapsed: elapsed(), converged: rms < eps)
    report.method = method
    report.direct = true
    report.note = note
    report.history = history
    report.setup = setup
    return (NDArray(shape: b.shape, doubles: a, dtype: dtype), report)
  }
}

