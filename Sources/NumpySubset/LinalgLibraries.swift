import Glibc
import KSDiagnostics
import ShellRuntime
import ShellSyntax
import Synchronization

/// LAPACKE and CBLAS, opened with `dlopen` on first use: ks has no link-time LAPACK or BLAS
/// dependency, so it starts (and runs Genred, KernelSolve and the rest of numpy) on a machine
/// without them. Only the `np.linalg` functions that need LAPACK fail there, with one line saying
/// what is missing; matrix products fall back to a plain Swift loop when no CBLAS loads.
///
/// Each list of library names is opened once per process and the result (the resolved functions
/// or the reason for the failure) is kept; the libraries are never closed.
enum LinalgLibraries {
  /// The sonames tried, in order, for LAPACKE.
  static let defaultLapackNames = ["liblapacke.so.3", "liblapacke.so"]
  /// The sonames tried, in order, for the CBLAS products (the first that exports `cblas_dgemm`).
  /// On Debian/Ubuntu libblas.so.3 (reference BLAS or OpenBLAS through alternatives) and
  /// libopenblas.so.0 both export the cblas_* symbols.
  static let defaultBlasNames = ["libcblas.so.3", "libopenblas.so.0", "libblas.so.3", "libblas.so"]

  /// Library names to try instead of the defaults, for the current task (tests use this to see
  /// the error when a library cannot be loaded).
  @TaskLocal static var lapackNamesOverride: [String]?
  @TaskLocal static var blasNamesOverride: [String]?

  // MARK: Function types (lapack_int is 32-bit: the LP64 interface Debian's liblapacke has)

  typealias SGesv = @convention(c) (
    Int32, Int32, Int32, UnsafeMutablePointer<Float>?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Float>?, Int32
  ) -> Int32
  typealias DGesv = @convention(c) (
    Int32, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Double>?, Int32
  ) -> Int32
  typealias SPotrf = @convention(c) (Int32, CChar, Int32, UnsafeMutablePointer<Float>?, Int32) -> Int32
  typealias DPotrf = @convention(c) (Int32, CChar, Int32, UnsafeMutablePointer<Double>?, Int32) -> Int32
  typealias SSyevd = @convention(c) (
    Int32, CChar, CChar, Int32, UnsafeMutablePointer<Float>?, Int32, UnsafeMutablePointer<Float>?
  ) -> Int32
  typealias DSyevd = @convention(c) (
    Int32, CChar, CChar, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?
  ) -> Int32
  typealias DGetrf = @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Int32>?) -> Int32
  typealias DGesdd = @convention(c) (
    Int32, CChar, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?,
    UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32
  ) -> Int32
  typealias SGemm = @convention(c) (
    Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
    UnsafeMutablePointer<Float>?, Int32
  ) -> Void
  typealias DGemm = @convention(c) (
    Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double,
    UnsafeMutablePointer<Double>?, Int32
  ) -> Void

  /// `LAPACK_ROW_MAJOR` / `CblasRowMajor`.
  static let rowMajor: Int32 = 101
  /// `CblasNoTrans`.
  static let noTrans: Int32 = 111

  /// The LAPACKE routines ks calls.
  struct Lapack: Sendable {
    let sgesv: SGesv, dgesv: DGesv
    let spotrf: SPotrf, dpotrf: DPotrf
    let ssyevd: SSyevd, dsyevd: DSyevd
    let dgetrf: DGetrf
    let dgesdd: DGesdd
  }

  /// The CBLAS products ks calls.
  struct Blas: Sendable {
    let sgemm: SGemm, dgemm: DGemm
  }

  private static let lapackCache = Mutex<[[String]: Result<Lapack, LoadFailure>]>([:])
  private static let blasCache = Mutex<[[String]: Blas?]>([:])

  struct LoadFailure: Error {
    /// What went wrong, e.g. "liblapacke.so.3 not found".
    var reason: String
  }

  /// LAPACKE, or an error naming `function` (e.g. "np.linalg.solve") and what is missing.
  static func lapack(for function: String, at range: SourceRange) throws(ShellError) -> Lapack {
    switch loadLapack(lapackNamesOverride ?? defaultLapackNames) {
    case .success(let l): return l
    case .failure(let f):
      throw ShellError(
        "\(function) needs LAPACK (\(f.reason)); install liblapacke or run on a machine that has it", at: range)
    }
  }

  /// CBLAS, or nil when none of the candidates loads (callers then use a Swift loop).
  static var blas: Blas? { loadBlas(blasNamesOverride ?? defaultBlasNames) }

  static func loadLapack(_ names: [String]) -> Result<Lapack, LoadFailure> {
    lapackCache.withLock { cache in
      if let r = cache[names] { return r }
      let r = openLapack(names)
      cache[names] = r
      return r
    }
  }

  static func loadBlas(_ names: [String]) -> Blas? {
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
        let dgetrf = symbol("LAPACKE_dgetrf", DGetrf.self), let dgesdd = symbol("LAPACKE_dgesdd", DGesdd.self)
      {
        return .success(
          Lapack(
            sgesv: sgesv, dgesv: dgesv, spotrf: spotrf, dpotrf: dpotrf, ssyevd: ssyevd, dsyevd: dsyevd, dgetrf: dgetrf,
            dgesdd: dgesdd))
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
        return Blas(sgemm: unsafeBitCast(s, to: SGemm.self), dgemm: unsafeBitCast(d, to: DGemm.self))
      }
      dlclose(handle)
    }
    return nil
  }

  /// "liblapacke.so.3 not found" when the library itself is absent; otherwise dlopen's reason
  /// (for instance a dependency such as libgfortran.so.5 that is missing).
  static func describeOpenFailure(_ name: String, _ error: UnsafeMutablePointer<CChar>?) -> String {
    guard let error else { return "\(name) could not be loaded" }
    let text = String(cString: error)
    if text.hasPrefix("\(name):") && text.contains("No such file") { return "\(name) not found" }
    return "\(name) could not be loaded: \(text)"
  }
}
