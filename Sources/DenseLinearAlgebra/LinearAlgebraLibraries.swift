import Glibc
import Synchronization

/// LAPACKE and CBLAS, opened with `dlopen` on first use: ks has no link-time LAPACK or BLAS
/// dependency, so it starts (and runs Genred, KernelSolve and the rest of numpy) on a machine
/// without them. Only what needs LAPACK fails there (the `np.linalg` functions, KernelSolve's
/// Nyström preconditioner and direct method), with one line saying what is missing; matrix
/// products fall back to a plain Swift loop when no CBLAS loads.
///
/// This module sits below KernelOperations and NumpySubset, which both use it (NumpySubset calls it
/// `LinalgLibraries`). Each list of library names is opened once per process and the result (the
/// resolved functions or the reason for the failure) is kept; the libraries are never closed.
public enum LinearAlgebraLibraries {
  /// The sonames tried, in order, for LAPACKE.
  public static let defaultLapackNames = ["liblapacke.so.3", "liblapacke.so"]
  /// The sonames tried, in order, for the CBLAS products (the first that exports `cblas_dgemm`).
  /// On Debian/Ubuntu libblas.so.3 (reference BLAS or OpenBLAS through alternatives) and
  /// libopenblas.so.0 both export the cblas_* symbols.
  public static let defaultBlasNames = ["libcblas.so.3", "libopenblas.so.0", "libblas.so.3", "libblas.so"]

  /// Library names to try instead of the defaults, for the current task (tests use this to see
  /// the error when a library cannot be loaded).
  @TaskLocal public static var lapackNamesOverride: [String]?
  @TaskLocal public static var blasNamesOverride: [String]?

  // MARK: Function types (lapack_int is 32-bit: the LP64 interface Debian's liblapacke has)

  public typealias SGesv = @convention(c) (
    Int32, Int32, Int32, UnsafeMutablePointer<Float>?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Float>?, Int32
  ) -> Int32
  public typealias DGesv = @convention(c) (
    Int32, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Double>?, Int32
  ) -> Int32
  public typealias SPotrf = @convention(c) (Int32, CChar, Int32, UnsafeMutablePointer<Float>?, Int32) -> Int32
  public typealias DPotrf = @convention(c) (Int32, CChar, Int32, UnsafeMutablePointer<Double>?, Int32) -> Int32
  public typealias SSyevd = @convention(c) (
    Int32, CChar, CChar, Int32, UnsafeMutablePointer<Float>?, Int32, UnsafeMutablePointer<Float>?
  ) -> Int32
  public typealias DSyevd = @convention(c) (
    Int32, CChar, CChar, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?
  ) -> Int32
  public typealias DGetrf = @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Int32>?) -> Int32
  public typealias DGesdd = @convention(c) (
    Int32, CChar, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?,
    UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32
  ) -> Int32
  public typealias SGemm = @convention(c) (
    Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
    UnsafeMutablePointer<Float>?, Int32
  ) -> Void
  public typealias DGemm = @convention(c) (
    Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double,
    UnsafeMutablePointer<Double>?, Int32
  ) -> Void

  public typealias DPotrs = @convention(c) (
    Int32, CChar, Int32, Int32, UnsafePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32
  ) -> Int32
  public typealias DSyrk = @convention(c) (
    Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32
  ) -> Void
  public typealias DTrsm = @convention(c) (
    Int32, Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32, UnsafeMutablePointer<Double>?,
    Int32
  ) -> Void

  /// `LAPACK_ROW_MAJOR` / `CblasRowMajor`.
  public static let rowMajor: Int32 = 101
  /// `CblasNoTrans`.
  public static let noTrans: Int32 = 111
  /// `CblasTrans`.
  public static let trans: Int32 = 112
  /// `CblasUpper` / `CblasLower`.
  public static let upper: Int32 = 121
  public static let lower: Int32 = 122
  /// `CblasLeft` / `CblasRight`.
  public static let left: Int32 = 141
  public static let right: Int32 = 142
  /// `CblasNonUnit`.
  public static let nonUnit: Int32 = 131

  /// The LAPACKE routines ks calls.
  public struct Lapack: Sendable {
    public let sgesv: SGesv, dgesv: DGesv
    public let spotrf: SPotrf, dpotrf: DPotrf
    public let dpotrs: DPotrs
    public let ssyevd: SSyevd, dsyevd: DSyevd
    public let dgetrf: DGetrf
    public let dgesdd: DGesdd
  }

  /// The CBLAS products ks calls.
  public struct Blas: Sendable {
    public let sgemm: SGemm, dgemm: DGemm
    /// C = alpha A^T A + beta C (or A A^T) and the triangular solves; nil when the library lacks them.
    public let dsyrk: DSyrk?, dtrsm: DTrsm?
  }

  private static let lapackCache = Mutex<[[String]: Result<Lapack, LoadFailure>]>([:])
  private static let blasCache = Mutex<[[String]: Blas?]>([:])

  public struct LoadFailure: Error, Sendable {
    /// What went wrong, e.g. "liblapacke.so.3 not found".
    public var reason: String
  }

  /// LAPACKE for the current task's library names, or the reason it cannot be loaded.
  public static var lapack: Result<Lapack, LoadFailure> { loadLapack(lapackNamesOverride ?? defaultLapackNames) }

  /// CBLAS, or nil when none of the candidates loads (callers then use a Swift loop).
  public static var blas: Blas? { loadBlas(blasNamesOverride ?? defaultBlasNames) }

  public static func loadLapack(_ names: [String]) -> Result<Lapack, LoadFailure> {
    lapackCache.withLock { cache in
      if let r = cache[names] { return r }
      let r = openLapack(names)
      cache[names] = r
      return r
    }
  }

  public static func loadBlas(_ names: [String]) -> Blas? {
    blasCache.withLock { cache in
      if let r = cache[names] { return r }
      let r = openBlas(names)
      cache[names] = r
      return r
    }
  }

  private static func openLapack(_ names: [String]) -> Result<Lapack, LoadFailure> {
    var firstFailure: String?
    for name in names where !name.isEmpty {
      guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
        if firstFailure == nil { firstFailure = describeOpenFailure(name, dlerror()) }
        continue
      }
      var missing: String?
      func symbol<T>(_ s: String, _: T.Type) -> T? {
        guard let p = dlsym(handle, s) else {
          if missing == nil { missing = s }
          return nil
        }
        return unsafeBitCast(p, to: T.self)
      }
      if let sgesv = symbol("LAPACKE_sgesv", SGesv.self), let dgesv = symbol("LAPACKE_dgesv", DGesv.self),
        let spotrf = symbol("LAPACKE_spotrf", SPotrf.self), let dpotrf = symbol("LAPACKE_dpotrf", DPotrf.self),
        let ssyevd = symbol("LAPACKE_ssyevd", SSyevd.self), let dsyevd = symbol("LAPACKE_dsyevd", DSyevd.self),
        let dgetrf = symbol("LAPACKE_dgetrf", DGetrf.self), let dgesdd = symbol("LAPACKE_dgesdd", DGesdd.self),
        let dpotrs = symbol("LAPACKE_dpotrs", DPotrs.self)
      {
        return .success(
          Lapack(
            sgesv: sgesv, dgesv: dgesv, spotrf: spotrf, dpotrf: dpotrf, dpotrs: dpotrs, ssyevd: ssyevd, dsyevd: dsyevd,
            dgetrf: dgetrf, dgesdd: dgesdd))
      }
      if firstFailure == nil { firstFailure = "\(name) has no \(missing ?? "LAPACKE symbol")" }
      dlclose(handle)
    }
    return .failure(LoadFailure(reason: firstFailure ?? "no library name to try"))
  }

  private static func openBlas(_ names: [String]) -> Blas? {
    for name in names where !name.isEmpty {
      guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
        _ = dlerror()
        continue
      }
      if let d = dlsym(handle, "cblas_dgemm"), let s = dlsym(handle, "cblas_sgemm") {
        return Blas(
          sgemm: unsafeBitCast(s, to: SGemm.self), dgemm: unsafeBitCast(d, to: DGemm.self),
          dsyrk: dlsym(handle, "cblas_dsyrk").map { unsafeBitCast($0, to: DSyrk.self) },
          dtrsm: dlsym(handle, "cblas_dtrsm").map { unsafeBitCast($0, to: DTrsm.self) })
      }
      dlclose(handle)
    }
    return nil
  }

  /// "liblapacke.so.3 not found" when the library itself is absent; otherwise dlopen's reason
  /// (for instance a dependency such as libgfortran.so.5 that is missing).
  public static func describeOpenFailure(_ name: String, _ error: UnsafeMutablePointer<CChar>?) -> String {
    guard let error else { return "\(name) could not be loaded" }
    let text = String(cString: error)
    if text.hasPrefix("\(name):") && text.contains("No such file") { return "\(name) not found" }
    return "\(name) could not be loaded: \(text)"
  }
}
