/// The few dense operations KernelSolve's preconditioners and direct method need, on row-major
/// `[Double]` matrices, through the dlopen'd LAPACKE and CBLAS (`LinearAlgebraLibraries`).
///
/// Products fall back to plain Swift loops when no CBLAS loads; the factorizations need LAPACKE
/// and throw `DenseMatrixError.unavailable` with the loader's reason when it is missing.
public enum DenseMatrixError: Error, Sendable, Equatable, CustomStringConvertible {
  /// LAPACKE could not be loaded (the reason, e.g. "liblapacke.so.3 not found").
  case unavailable(String)
  /// The matrix is not (numerically) positive definite: the leading minor of this order is not.
  case notPositiveDefinite(order: Int)

  public var description: String {
    switch self {
    case .unavailable(let why): return "LAPACK is needed (\(why)); install liblapacke"
    case .notPositiveDefinite(let k): return "the matrix is not positive definite (leading minor of order \(k))"
    }
  }
}

public enum DenseMatrix {
  typealias L = LinearAlgebraLibraries

  /// True when LAPACKE loads (the factorizations below can run).
  public static var lapackAvailable: Bool {
    if case .success = L.lapack { return true }
    return false
  }

  /// Why LAPACKE does not load, or nil when it does.
  public static var lapackFailure: String? {
    if case .failure(let f) = L.lapack { return f.reason }
    return nil
  }

  /// Overwrites the n x n symmetric matrix `a` (row-major; only the lower triangle is read) with
  /// its lower Cholesky factor L (a = L L^T); the strict upper triangle is set to zero.
  public static func cholesky(_ a: inout [Double], n: Int) throws(DenseMatrixError) {
    let lapack: LinearAlgebraLibraries.Lapack
    switch L.lapack {
    case .success(let l): lapack = l
    case .failure(let f): throw .unavailable(f.reason)
    }
    if n == 0 { return }
    let info = a.withUnsafeMutableBufferPointer { p in
      lapack.dpotrf(L.rowMajor, CChar(UInt8(ascii: "L")), Int32(n), p.baseAddress, Int32(n))
    }
    if info > 0 { throw .notPositiveDefinite(order: Int(info)) }
    precondition(info == 0, "LAPACKE_dpotrf: bad argument \(-info)")
    for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { a[i * n + j] = 0 } }
  }

  /// Solves (L L^T) X = B in place for `nrhs` columns (B is n x nrhs, row-major), given the
  /// factor from `cholesky`.
  public static func choleskySolve(_ factor: [Double], n: Int, _ b: inout [Double], nrhs: Int) throws(DenseMatrixError) {
    let lapack: LinearAlgebraLibraries.Lapack
    switch L.lapack {
    case .success(let l): lapack = l
    case .failure(let f): throw .unavailable(f.reason)
    }
    if n == 0 || nrhs == 0 { return }
    let info = factor.withUnsafeBufferPointer { f in
      b.withUnsafeMutableBufferPointer { p in
        lapack.dpotrs(L.rowMajor, CChar(UInt8(ascii: "L")), Int32(n), Int32(nrhs), f.baseAddress, Int32(n), p.baseAddress, Int32(nrhs))
      }
    }
    precondition(info == 0, "LAPACKE_dpotrs: bad argument \(-info)")
  }

  /// Solves L X = B in place (L lower triangular n x n, B n x ncols, both row-major).
  public static func lowerSolve(_ l: [Double], n: Int, _ b: inout [Double], ncols: Int) {
    if n == 0 || ncols == 0 { return }
    if let trsm = L.blas?.dtrsm {
      l.withUnsafeBufferPointer { lp in
        b.withUnsafeMutableBufferPointer { bp in
          trsm(L.rowMajor, L.left, L.lower, L.noTrans, L.nonUnit, Int32(n), Int32(ncols), 1, lp.baseAddress, Int32(n),
            bp.baseAddress, Int32(ncols))
        }
      }
      return
    }
    for i in 0..<n {
      let d = l[i * n + i]
      for k in 0..<i {
        let lik = l[i * n + k]
        if lik == 0 { continue }
        for c in 0..<ncols { b[i * ncols + c] -= lik * b[k * ncols + c] }
      }
      for c in 0..<ncols { b[i * ncols + c] /= d }
    }
  }

  /// C (m x n) = alpha op(A) op(B) + beta C, row-major; op(A) is m x k (A is k x m when
  /// `transA`), op(B) is k x n (B is n x k when `transB`).
  public static func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
    _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, beta: Double = 0, _ c: UnsafeMutablePointer<Double>
  ) {
    if m == 0 || n == 0 { return }
    let lda = transA ? m : k, ldb = transB ? k : n
    if let blas = L.blas, k > 0 {
      blas.dgemm(
        L.rowMajor, transA ? L.trans : L.noTrans, transB ? L.trans : L.noTrans, Int32(m), Int32(n), Int32(k), alpha, a,
        Int32(lda), b, Int32(ldb), beta, c, Int32(n))
      return
    }
    loopGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c)
  }

  /// The float32 `gemm` (same layout and arguments); a Swift loop when no CBLAS loads.
  public static func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float = 0, _ c: UnsafeMutablePointer<Float>
  ) {
    if m == 0 || n == 0 { return }
    let lda = transA ? m : k, ldb = transB ? k : n
    if let blas = L.blas, k > 0 {
      blas.sgemm(
        L.rowMajor, transA ? L.trans : L.noTrans, transB ? L.trans : L.noTrans, Int32(m), Int32(n), Int32(k), alpha, a,
        Int32(lda), b, Int32(ldb), beta, c, Int32(n))
      return
    }
    loopGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c)
  }

  /// `gemm`/`sgemm` without CBLAS: the triple loop, in the element type.
  static func loopGemm<T: BinaryFloatingPoint>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, beta: T, _ c: UnsafeMutablePointer<T>
  ) {
    let lda = transA ? m : k, ldb = transB ? k : n
    for i in 0..<m {
      for j in 0..<n {
        var s: T = 0
        for l in 0..<k { s += (transA ? a[l * lda + i] : a[i * lda + l]) * (transB ? b[j * ldb + l] : b[l * ldb + j]) }
        c[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * n + j])
      }
    }
  }

  /// C (m x m) = A A^T for A m x k (row-major); the full symmetric matrix is returned.
  public static func gram(_ a: [Double], m: Int, k: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * m)
    if m == 0 || k == 0 { return c }
    a.withUnsafeBufferPointer { ap in
      c.withUnsafeMutableBufferPointer { cp in
        if let syrk = L.blas?.dsyrk {
          syrk(L.rowMajor, L.lower, L.noTrans, Int32(m), Int32(k), 1, ap.baseAddress, Int32(k), 0, cp.baseAddress, Int32(m))
        } else {
          gemm(transB: true, m: m, n: m, k: k, ap.baseAddress!, ap.baseAddress!, cp.baseAddress!)
        }
      }
    }
    for i in 0..<m { for j in (i + 1)..<max(i + 1, m) { c[i * m + j] = c[j * m + i] } }
    return c
  }
}
