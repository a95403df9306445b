import ArrayIO
import Foundation
import Dispatch
import FormulaLanguage
import KSDiagnostics
import KernelEngines

/// One step of the conjugate gradient, for live displays.
public struct SolveProgress: Sendable {
  /// Operator applications so far (KeOps' iteration count).
  public var iteration: Int
  /// Root-mean-square residual, sqrt(|r|^2 / (N D)).
  public var rmsResidual: Double
  /// Seconds since the solve started.
  public var elapsed: Double
  /// The RMS residual the solve stops below (eps); 0 when not known.
  public var target: Double = 0
  /// What is running: "CG", "PCG (Nyström, 800 centres)", ...
  public var method: String = "CG"
}

/// How a solve ended.
public struct SolveReport: Sendable {
  public var iterations: Int
  public var rmsResidual: Double
  public var elapsed: Double
  public var converged: Bool
  /// What ran: "CG" (KeOps' plain CG), "PCG (Jacobi)", "PCG (Nyström, 800 centres)", "Direct (Cholesky, 2000 x 2000)".
  public var method: String = "CG"
  /// True for the direct method (no iterations; `iterations` counts refinement steps).
  public var direct: Bool = false
  /// Why this method ran when that is worth saying (auto's choice, a fallback to plain CG).
  public var note: String? = nil
  /// The RMS residual before the first iteration and after each one.
  public var history: [Double] = []
  /// Seconds spent building the preconditioner or the dense matrix (included in `elapsed`).
  public var setup: Double = 0
  /// The processes that took part (MPI ranks; 1 without mpirun).
  public var ranks: Int = 1

  public init(iterations: Int, rmsResidual: Double, elapsed: Double, converged: Bool) {
    self.iterations = iterations
    self.rmsResidual = rmsResidual
    self.elapsed = elapsed
    self.converged = converged
  }
}

/// A solve that stopped without converging; the last iterate is kept.
public struct SolveFailure: Error, Sendable, CustomStringConvertible {
  public enum Reason: Error, Sendable, Equatable {
    case notPositiveDefinite(curvature: Double)
    case nonFinite
    case diverging
    case maxIterations(Int)
    case cancelled
  }

  public var reason: Reason
  public var report: SolveReport
  public var lastIterate: NDArray

  public var description: String {
    let r = formatResidual(report.rmsResidual)
    switch reason {
    case .notPositiveDefinite(let c):
      return "the system is not positive definite: p.(K+alpha I)p = \(formatResidual(c)) <= 0 at iteration \(report.iterations) (rms residual \(r)); KernelSolve needs a symmetric positive definite kernel, or a larger alpha"
    case .nonFinite:
      return "the residual became NaN or infinite at iteration \(report.iterations); check the inputs and alpha"
    case .diverging:
      return "the residual kept growing for \(KernelSolve.growthPatience) iterations (now \(r) at iteration \(report.iterations)); the system is probably not positive definite"
    case .maxIterations(let n):
      return "CG did not converge in maxiter=\(n) iteration\(n == 1 ? "" : "s") (rms residual \(r)); raise maxiter, or alpha for a better-conditioned system"
    case .cancelled:
      return "interrupted at iteration \(report.iterations), rms residual \(r)"
    }
  }
}

/// A residual as C's `%.1e` writes it: `9.7e-07`, `1.0e+00`, `0.0e+00`.
public func formatResidual(_ x: Double) -> String {
  String(format: "%.1e", x)
}

/// PyKeOps' KernelSolve: solves (alpha Id + K) a = b by conjugate gradient, where K is the Sum
/// reduction of a formula that is linear in the variable `varinvalias`.
///
/// The algorithm is KeOps' exactly (start at 0, one step size for all columns, stop when the RMS
/// residual < eps), so iteration counts match; on top of it the solve stops with an error when
/// the system is not positive definite, when the residual becomes NaN/Inf or keeps growing, or
/// after `maxiter` iterations.
public struct KernelSolve: Sendable {
  public let genred: Genred
  /// The argument slot of the unknown (where b is passed).
  public let unknownIndex: Int
  public let unknownName: String

  /// Default iteration bound: generous for the systems KeOps users solve (hundreds of iterations),
  /// finite so that no call loops forever.
  public static let defaultMaxIterations = 10_000
  /// Iterations with the residual above 1e3 times its best value before giving up.
  public static let growthPatience = 50

  public init(
    formula: String, aliases: [String], varinvalias: String, axis: Int = 0, options: GenredOptions = GenredOptions()
  ) throws(OperationError) {
    var o = options
    o.reductionOp = "Sum"
    o.axis = axis
    let g = try Genred(formula: formula, aliases: aliases, options: o)
    // The unknown: an alias name or a "Var(pos,dim,cat)" string.
    var index: Int?
    if let k = g.reduced.argumentNames.firstIndex(of: varinvalias) {
      index = k
    } else if let decl = try? AliasDeclaration.parse(varinvalias, positionInList: nil), decl.name == nil {
      index = decl.variable.index
      if index! >= g.reduced.arguments.count || g.reduced.arguments[index!] != decl.variable {
        throw .option(name: "varinvalias", message: "\(varinvalias) is not one of the formula's variables")
      }
    }
    guard let k = index else {
      let names = g.reduced.argumentNames.compactMap { $0 }
      let hint = Suggestions.closest(to: varinvalias, among: names).map { "; did you mean \"\($0)\"?" } ?? ""
      throw .option(name: "varinvalias", message: "\"\(varinvalias)\" is not an alias of this formula\(hint)")
    }
    let v = g.reduced.arguments[k]
    guard v.category == g.reduced.reducedCategory else {
      let want = g.reduced.reducedCategory.keyword
      throw .option(
        name: "varinvalias",
        message: "the unknown \"\(varinvalias)\" is \(v.category.keyword)(\(v.dim)); with axis=\(axis) it must be a \(want) variable (the reduced index)")
    }
    guard g.reduced.formula.dim == v.dim else {
      throw .option(
        name: "varinvalias",
        message: "the formula has dimension \(g.reduced.formula.dim) but the unknown \"\(varinvalias)\" has dimension \(v.dim); they must be equal")
    }
    if let bad = Linearity.firstNonLinearNode(g.reduced.formula, in: v) {
      let d = Diagnostic(
        "KernelSolve needs a formula linear in \"\(varinvalias)\", but this \(bad.operation.map { "\($0.name)(...)" } ?? "term") is not linear in it",
        at: bad.range ?? nil)
      throw .formula(FormulaError(d, origin: .formula))
    }
    self.genred = g
    self.unknownIndex = k
    self.unknownName = varinvalias
  }

  /// Throws unless `eps` is positive and finite, `maxIterations` (when given) at least 1 and
  /// `alpha` finite: with eps <= 0 the stopping test could never hold, and CG would run until
  /// round-off produced a NaN.
  public static func checkOptions(alpha: Double, eps: Double, maxIterations: Int?) throws(OperationError) {
    guard eps > 0 && eps.isFinite else {
      throw .option(name: "eps", message: "eps must be a positive, finite tolerance (the RMS residual to reach), not \(eps)")
    }
    if let m = maxIterations, m < 1 {
      throw .option(name: "maxiter", message: "maxiter must be at least 1, not \(m)")
    }
    guard alpha.isFinite else {
      throw .option(name: "alpha", message: "alpha must be a finite number, not \(alpha)")
    }
  }

  /// Solves the system; `arguments[unknownIndex]` is the right-hand side b. `ranges` (PyKeOps'
  /// block-sparse 6-tuple, see `Genred.call`) applies to every operator application.
  public func solve(
    _ arguments: [NDArray], alpha: Double = 1e-10, eps: Double = 1e-6, maxIterations: Int? = nil,
    backend: String = "auto", deviceId: Int = -1, ranges: [NDArray]? = nil, cancel: CancellationToken? = nil,
    progress: ((SolveProgress) -> Void)? = nil
  ) throws -> (NDArray, SolveReport) {
    try Self.checkOptions(alpha: alpha, eps: eps, maxIterations: maxIterations)
    let engine = try Backend.engine(named: backend, deviceID: deviceId, blockSparse: ranges != nil)
    let (plan, preparedArgs) = try genred.prepare(arguments, ranges: ranges)
    var args = preparedArgs
    guard args.outputRows == args.reducedRows else {
      throw OperationError.call(
        "KernelSolve needs a square system: the output has \(args.outputRows) rows but the unknown has \(args.reducedRows)")
    }
    let b = args.arrays[unknownIndex]
    let dtype = b.dtype
    let precision = Precision(dtype)
    let n = b.count
    let maxiter = maxIterations ?? Self.defaultMaxIterations
    let start = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    func round(_ v: inout [Double]) { if precision != .float64 { for k in v.indices { v[k] = precision.round(v[k]) } } }
    func dot(_ u: [Double], _ w: [Double]) -> Double { Self.dot(u, w) }
    func linop(_ p: [Double]) throws -> [Double] {
      try applyOperator(p, plan: plan, args: &args, engine: engine, alpha: alpha, cancel: cancel)
    }
    let delta = Double(n) * eps * eps
    var a = [Double](repeating: 0, count: n)
    var r = b.toDoubles()
    var nr2 = dot(r, r)
    var iterations = 0
    func report(_ converged: Bool) -> SolveReport {
      SolveReport(iterations: iterations, rmsResidual: (nr2 / Double(max(n, 1))).squareRoot(), elapsed: elapsed(), converged: converged)
    }
    func result(_ v: [Double]) -> NDArray { NDArray(shape: b.shape, doubles: v, dtype: dtype) }
    // A zero residual is an exact solution: converged whatever eps is (and never 0/0 below).
    if nr2 < delta || nr2 == 0 { return (result(a), report(true)) }
    var p = r
    var best = nr2
    var growing = 0
    while true {
      if let c = cancel, c.isCancelled {
        throw SolveFailure(reason: .cancelled, report: report(false), lastIterate: result(a))
      }
      if iterations >= maxiter {
        throw SolveFailure(reason: .maxIterations(maxiter), report: report(false), lastIterate: result(a))
      }
      let mp: [Double]
      do {
        mp = try linop(p)
      } catch let reason as SolveFailure.Reason {
        throw SolveFailure(reason: reason, report: report(false), lastIterate: result(a))
      }
      iterations += 1
      let curvature = dot(p, mp)
      if !curvature.isFinite {
        throw SolveFailure(reason: .nonFinite, report: report(false), lastIterate: result(a))
      }
      if curvature <= 0 {
        throw SolveFailure(reason: .notPositiveDefinite(curvature: curvature), report: report(false), lastIterate: result(a))
      }
      let alp = nr2 / curvature
      for k in 0..<n {
        a[k] += alp * p[k]
        r[k] -= alp * mp[k]
      }
      round(&a)
      round(&r)
      let nr2new = dot(r, r)
      progress?(SolveProgress(iteration: iterations, rmsResidual: (nr2new / Double(n)).squareRoot(), elapsed: elapsed()))
      if !nr2new.isFinite {
        nr2 = nr2new
        throw SolveFailure(reason: .nonFinite, report: report(false), lastIterate: result(a))
      }
      if nr2new < delta || nr2new == 0 {
        nr2 = nr2new
        return (result(a), report(true))
      }
      if nr2new < best { best = nr2new; growing = 0 } else if nr2new > 1e3 * best { growing += 1 }
      if growing >= Self.growthPatience {
        nr2 = nr2new
        throw SolveFailure(reason: .diverging, report: report(false), lastIterate: result(a))
      }
      let beta = nr2new / nr2
      for k in 0..<n { p[k] = r[k] + beta * p[k] }
      round(&p)
      nr2 = nr2new
    }
  }
}

/// The symbolic check that a formula is linear in one variable.
public enum Linearity {
  /// The first node (outermost) that makes `f` non-linear in `v`, or nil when f is linear in v.
  public static func firstNonLinearNode(_ f: FormulaNode, in v: Variable) -> FormulaNode? {
    if !depends(f, on: v) { return f }  // a formula without v is not linear in it (it is constant)
    return check(f, v)
  }

  static func depends(_ f: FormulaNode, on v: Variable) -> Bool {
    if case .variable(let w) = f.kind { return w == v }
    return f.children.contains { depends($0, on: v) }
  }

  /// nil when f is linear (or does not depend on v); otherwise the offending node.
  static func check(_ f: FormulaNode, _ v: Variable) -> FormulaNode? {
    if !depends(f, on: v) { return nil }
    guard let op = f.operation else { return nil }  // v itself
    let deps = f.children.map { depends($0, on: v) }
    func allLinear() -> FormulaNode? {
      for c in f.children { if let bad = check(c, v) { return bad } }
      return nil
    }
    switch op.name {
    case "Minus", "Sum", "SumT", "Elem", "ElemT", "Extract", "ExtractT":
      return allLinear()
    case "Add", "Subtract", "Concat":
      // Affine terms (a part without v) would make the map affine, not linear.
      if deps.contains(false) { return f }
      return allLinear()
    case "Mult", "Scalprod", "TensorProd", "MatVecMult", "VecMatMult":
      if deps[0] && deps[1] { return f }
      return allLinear()
    case "Divide":
      if deps[1] { return f }
      return allLinear()
    case "IfElse":
      if deps[0] || !deps[1] || !deps[2] { return f }
      return allLinear()
    default:
      return f
    }
  }
}

extension KernelSolve {
  /// One application of the system's operator, as KeOps' CG does it: `K p` on the engine (with
  /// `p` in the unknown's slot of `args`), plus `alpha p`, rounded to the data dtype.
  func applyOperator(
    _ p: [Double], plan: KernelPlan, args: inout KernelArguments, engine: any KernelEngine, alpha: Double,
    cancel: CancellationToken?
  ) throws -> [Double] {
    let b = args.arrays[unknownIndex]
    args.arrays[unknownIndex] = NDArray(shape: b.shape, doubles: p, dtype: b.dtype)
    var kp: [Double]
    do {
      kp = try engine.reduce(plan, args, cancel: cancel)
    } catch {
      if error == .cancelled { throw SolveFailure.Reason.cancelled }
      throw OperationError.engine(error)
    }
    if alpha != 0 { for k in 0..<p.count { kp[k] += alpha * p[k] } }
    let precision = Precision(b.dtype)
    if precision != .float64 { for k in kp.indices { kp[k] = precision.round(kp[k]) } }
    return kp
  }

  /// The sum of `u[k] * w[k]`, in order (KeOps' CG's dot products).
  static func dot(_ u: [Double], _ w: [Double]) -> Double {
    var s = 0.0
    for k in 0..<u.count { s += u[k] * w[k] }
    return s
  }
}
