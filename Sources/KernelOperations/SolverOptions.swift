import Foundation

/// How KernelSolve solves `(alpha Id + K) a = b`: the `precond=` and `method=` keywords and the
/// Nyström settings (`docs/solvers.md`).
public struct SolverOptions: Sendable, Equatable {
  /// `precond=`.
  public enum Preconditioner: String, Sendable, Equatable, CaseIterable {
    /// The fastest that applies: Nyström for `k(x, y) * a` formulas when LAPACK loads, else plain CG.
    case auto
    /// KeOps' plain conjugate gradient, exactly (`precond=None`).
    case none
    /// Divides the residual by the diagonal of alpha Id + K.
    case jacobi
    /// Woodbury inverse of alpha Id + F F^T, F F^T a rank-m Nyström approximation of K.
    case nystrom
  }

  /// `method=`.
  public enum Method: String, Sendable, Equatable, CaseIterable {
    /// Direct when the dense matrix is cheaper to factor than the iterations and fits in memory; CG otherwise.
    case auto
    /// Conjugate gradient, preconditioned by `precond=`.
    case cg
    /// The dense matrix built on the engine and factored by LAPACK (Cholesky).
    case direct
  }

  /// How Nyström centres are chosen (`centres_by=`).
  public enum CentreSelection: String, Sendable, Equatable, CaseIterable {
    /// Randomly pivoted Cholesky: blocks of centres sampled in proportion to the diagonal of what
    /// the centres so far leave unexplained (an adaptive, leverage-like sampling).
    case rpcholesky
    /// Uniformly at random without replacement (seeded).
    case uniform
    /// In proportion to approximate ridge leverage scores, from a uniform pilot of the same size.
    case leverage
  }

  public var preconditioner: Preconditioner = .auto
  public var method: Method = .auto
  /// The number of Nyström centres; nil chooses it from N, the number of right-hand sides and memory.
  public var centres: Int?
  public var centreSelection: CentreSelection = .rpcholesky
  /// The seed of the centre sampling (the same seed gives the same centres and iteration counts).
  public var seed: UInt64 = 0
  /// `mixed_precision=`: float32 kernel products inside a float64 iterative refinement (true),
  /// float64 products only (false), or nil: mixed for float64 data on a compiled engine when
  /// N >= `KernelSolve.mixedPrecisionMinimum`.
  public var mixedPrecision: Bool?
  /// The most bytes a dense matrix (the direct method's N x N, Nyström's N x m factor) may take.
  public var memoryBudget: Int = SolverOptions.defaultMemoryBudget

  public init(
    preconditioner: Preconditioner = .auto, method: Method = .auto, centres: Int? = nil,
    centreSelection: CentreSelection = .rpcholesky, seed: UInt64 = 0
  ) {
    self.preconditioner = preconditioner
    self.method = method
    self.centres = centres
    self.centreSelection = centreSelection
    self.seed = seed
  }

  /// KeOps' exact CG: `precond=None, method="cg"`.
  public static let keops = SolverOptions(preconditioner: .none, method: .cg)

  /// A quarter of the physical memory, at most 4 GiB (2 GiB when /proc/meminfo is unreadable).
  public static let defaultMemoryBudget: Int = {
    var budget = 2 << 30
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
      let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
    {
      budget = min(4 << 30, kb * 1024 / 4)
    }
    return budget
  }()

  /// Parses `precond=` ("auto", "nystrom", "jacobi", "none"; nil for Python's None).
  public static func preconditioner(named name: String?) throws(OperationError) -> Preconditioner {
    guard let name else { return .none }
    let key = String(name.lowercased().map { $0 == "ö" ? "o" : $0 })
    if let p = Preconditioner(rawValue: key) { return p }
    throw .option(name: "precond", message: "unknown preconditioner \"\(name)\"; expected \"auto\", \"nystrom\", \"jacobi\" or None")
  }

  /// Parses `method=` ("auto", "cg", "direct").
  public static func method(named name: String) throws(OperationError) -> Method {
    if let m = Method(rawValue: name.lowercased()) { return m }
    throw .option(name: "method", message: "unknown method \"\(name)\"; expected \"auto\", \"cg\" or \"direct\"")
  }

  /// Parses `centres_by=` ("rpcholesky", "uniform", "leverage").
  public static func centreSelection(named name: String) throws(OperationError) -> CentreSelection {
    if let c = CentreSelection(rawValue: name.lowercased()) { return c }
    throw .option(name: "centres_by", message: "unknown centre selection \"\(name)\"; expected \"rpcholesky\", \"uniform\" or \"leverage\"")
  }
}
