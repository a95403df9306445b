import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// Matrix products (BLAS) and `np.linalg` (LAPACK through LAPACKE), with numpy's dtypes and
/// messages. Both libraries are opened at run time (`LinalgLibraries`): without CBLAS the float
/// products use `naiveGemm` (same results up to rounding, slower on large matrices); without
/// LAPACKE the `np.linalg` functions that need it throw one clear error.
enum Linalg {
  static let rowMajor = LinalgLibraries.rowMajor
  static let noTrans = LinalgLibraries.noTrans

  // MARK: Products

  /// `a @ b` for float64: C (m×n) = A (m×k) B (k×n), row-major.
  static func gemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>, _ m: Int, _ n: Int, _ k: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
      c.update(repeating: 0, count: m * n)
      return
    }
    guard let blas = LinalgLibraries.blas else { return naiveGemm(a, b, c, m, n, k) }
    blas.dgemm(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
  }

  static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ m: Int, _ n: Int, _ k: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
      c.update(repeating: 0, count: m * n)
      return
    }
    guard let blas = LinalgLibraries.blas else { return naiveGemm(a, b, c, m, n, k) }
    blas.sgemm(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
  }

  /// C = A B with a plain loop (row-major, i-l-j order so the inner loop is contiguous): the
  /// product when no CBLAS library could be loaded.
  static func naiveGemm<T: FloatingPoint>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>, _ m: Int, _ n: Int, _ k: Int
  ) {
    for i in 0..<m {
      let row = c + i * n
      row.update(repeating: 0, count: n)
      for l in 0..<k {
        let x = a[i * k + l]
        let bl = b + l * n
        for j in 0..<n { row[j] += x * bl[j] }
      }
    }
  }

  static func gemm(_ a: UnsafePointer<Int64>, _ b: UnsafePointer<Int64>, _ c: UnsafeMutablePointer<Int64>, _ m: Int, _ n: Int, _ k: Int) {
    for i in 0..<m {
      for j in 0..<n { c[i * n + j] = 0 }
      for l in 0..<k {
        let x = a[i * k + l]
        if x == 0 { continue }
        for j in 0..<n { c[i * n + j] = c[i * n + j] &+ x &* b[l * n + j] }
      }
    }
  }

  /// Batched products over broadcast leading dimensions.
  static func batched<T>(
    _ a: [T], _ b: [T], aBatch: [Int], bBatch: [Int], batch: [Int], m: Int, n: Int, k: Int, zero: T,
    _ kernel: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Int, Int) -> Void
  ) -> [T] {
    let count = batch.reduce(1, *)
    let ao = broadcastOffsets(aBatch, to: batch), bo = broadcastOffsets(bBatch, to: batch)
    var out = [T](repeating: zero, count: count * m * n)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        out.withUnsafeMutableBufferPointer { pc in
          for t in 0..<count {
            kernel(pa.baseAddress! + ao[t] * m * k, pb.baseAddress! + bo[t] * k * n, pc.baseAddress! + t * m * n, m, n, k)
          }
        }
      }
    }
    return out
  }

  /// `np.matmul` / `@`.
  static func matmul(_ x: NDArray, _ y: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    let signature = "(n?,k),(k,m?)->(n?,m?)"
    for (i, v) in [x, y].enumerated() where v.rank == 0 {
      throw ShellError(
        "matmul: Input operand \(i) does not have enough dimensions (has 0, gufunc core with signature \(signature) requires 1)",
        at: range)
    }
    let a = x.rank == 1 ? x.withShape([1, x.count]) : x
    let b = y.rank == 1 ? y.withShape([y.count, 1]) : y
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
    guard k == k2 else {
      throw ShellError(
        "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature \(signature) (size \(k2) is different from \(k))",
        at: range)
    }
    let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
    guard let batch = broadcastShapes([aBatch, bBatch]) else { throw Ufunc.broadcastError([x.shape, y.shape], at: range) }
    try Allocation.check(batch + [m, n], .float64, at: range)
    var shape = batch + [m, n]
    if x.rank == 1 { shape.remove(at: shape.count - 2) }
    if y.rank == 1 { shape.removeLast() }
    let t = Promotion.promote(x.dtype, y.dtype)
    switch t {
    case .complex64, .complex128:
      let v = batched(a.complexValues, b.complexValues, aBatch: aBatch, bBatch: bBatch, batch: batch, m: m, n: n, k: k, zero: Complex128(0, 0)) {
        pa, pb, pc, m, n, k in
        for i in 0..<m {
          for l in 0..<k {
            let x = pa[i * k + l]
            for j in 0..<n { pc[i * n + j] = pc[i * n + j] + x * pb[l * n + j] }
          }
        }
      }
      return NDArray(shape: shape, complex: v, dtype: t)
    case .float64:
      let v = batched(a.doubleValues, b.doubleValues, aBatch: aBatch, bBatch: bBatch, batch: batch, m: m, n: n, k: k, zero: 0.0) { gemm($0, $1, $2, $3, $4, $5) }
      return NDArray(shape: shape, storage: .float64(v))
    case .float32, .float16:
      let v = batched(a.floatValues, b.floatValues, aBatch: aBatch, bBatch: bBatch, batch: batch, m: m, n: n, k: k, zero: Float(0)) { gemm($0, $1, $2, $3, $4, $5) }
      return NDArray(shape: shape, storage: .float32(v)).cast(t)
    case .int64, .bool:
      let v = batched(a.int64Values, b.int64Values, aBatch: aBatch, bBatch: bBatch, batch: batch, m: m, n: n, k: k, zero: Int64(0)) { gemm($0, $1, $2, $3, $4, $5) }
      let r = NDArray(shape: shape, storage: .int64(v))
      return t == .bool ? r.cast(.bool) : r
    }
  }

  /// `np.dot`.
  static func dot(_ a: NDArray, _ b: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    if a.rank == 0 || b.rank == 0 { return try Ufunc.binary(.multiply, Operand(a), Operand(b), at: range) }
    let k = a.shape[a.rank - 1]
    let kb = b.rank == 1 ? b.shape[0] : b.shape[b.rank - 2]
    guard k == kb else {
      throw ShellError(
        "shapes \(compactShape(a.shape)) and \(compactShape(b.shape)) not aligned: \(k) (dim \(a.rank - 1)) != \(kb) (dim \(b.rank == 1 ? 0 : b.rank - 2))",
        at: range)
    }
    if b.rank <= 2 && a.rank <= 2 { return try matmul(a, b, at: range) }
    // General case: contract a's last axis with b's second-to-last.
    let p = a.count / Swift.max(k, 1)
    let a2 = a.withShape([p, k])
    var perm = Array(0..<b.rank)
    perm.remove(at: b.rank - 2)
    perm.insert(b.rank - 2, at: 0)
    let bt = Shaping.transpose(b, perm)
    let q = b.count / Swift.max(k, 1)
    let c = try matmul(a2, bt.withShape([k, q]), at: range)
    var shape = Array(a.shape.dropLast())
    if b.rank >= 2 { shape += Array(b.shape.dropLast(2)) + [b.shape[b.rank - 1]] }
    return c.withShape(shape)
  }

  // MARK: LAPACK

  /// The float type numpy.linalg computes in: float32 when every input is float32 (or float16),
  /// float64 otherwise.
  static func linalgType(_ arrays: [NDArray]) -> DType {
    arrays.allSatisfy { $0.dtype == .float32 || $0.dtype == .float16 } ? .float32 : .float64
  }

  static func requireSquare(_ a: NDArray, at range: SourceRange) throws(ShellError) -> Int {
    guard a.rank >= 2 else {
      throw ShellError("\(a.rank)-dimensional array given. Array must be at least two-dimensional", at: range)
    }
    guard a.rank == 2 else { throw ShellError("ks's linalg functions take 2-D arrays (stacks of matrices are not supported)", at: range) }
    guard a.shape[0] == a.shape[1] else { throw ShellError("Last 2 dimensions of the array must be square", at: range) }
    return a.shape[0]
  }

  /// `np.linalg.solve(a, b)`: LAPACK gesv (LU with partial pivoting).
  static func solve(_ a: NDArray, _ b: NDArray, at range: SourceRange, bRange: SourceRange) throws(ShellError) -> NDArray {
    let n = try requireSquare(a, at: range)
    guard b.rank == 1 || b.rank == 2 else {
      throw ShellError("ks's solve takes a 1-D or 2-D right-hand side", at: bRange)
    }
    guard b.shape[0] == n else {
      let sig = b.rank == 1 ? "(m,m),(m)->(m)" : "(m,m),(m,n)->(m,n)"
      throw ShellError(
        "solve\(b.rank == 1 ? "1" : ""): Input operand 1 has a mismatch in its core dimension 0, with gufunc signature \(sig) (size \(b.shape[0]) is different from \(n))",
        at: bRange)
    }
    let nrhs = b.rank == 1 ? 1 : b.shape[1]
    return try gesv(a, b, n: n, nrhs: nrhs, shape: b.shape, function: "np.linalg.solve", at: range)
  }

  static func gesv(
    _ a: NDArray, _ b: NDArray, n: Int, nrhs: Int, shape: [Int], function: String, at range: SourceRange
  ) throws(ShellError) -> NDArray {
    if n == 0 || nrhs == 0 { return NDArray(shape: shape, storage: .empty(linalgType([a, b]))) }
    let lapack = try LinalgLibraries.lapack(for: function, at: range)
    var ipiv = [Int32](repeating: 0, count: n)
    let info: Int32
    let result: NDArray
    if linalgType([a, b]) == .float32 {
      var m = a.floatValues, r = b.floatValues
      info = lapack.sgesv(rowMajor, Int32(n), Int32(nrhs), &m, Int32(n), &ipiv, &r, Int32(nrhs))
      result = NDArray(shape: shape, storage: .float32(r))
    } else {
      var m = a.doubleValues, r = b.doubleValues
      info = lapack.dgesv(rowMajor, Int32(n), Int32(nrhs), &m, Int32(n), &ipiv, &r, Int32(nrhs))
      result = NDArray(shape: shape, storage: .float64(r))
    }
    if info > 0 { throw ShellError("Singular matrix", at: range) }
    if info < 0 { throw ShellError("LAPACK gesv rejected argument \(-info)", at: range) }
    return result
  }

  /// `np.linalg.inv(a)`: gesv against the identity, as numpy does.
  static func inv(_ a: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    let n = try requireSquare(a, at: range)
    var eye = [Double](repeating: 0, count: n * n)
    for i in 0..<n { eye[i * n + i] = 1 }
    let t = linalgType([a])
    return try gesv(a, NDArray(shape: [n, n], storage: ArrayStorage.make(eye, t)), n: n, nrhs: n, shape: [n, n], function: "np.linalg.inv", at: range)
  }

  /// `np.linalg.cholesky(a)`: the lower factor L with a = L Lᵀ (potrf).
  static func cholesky(_ a: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    let n = try requireSquare(a, at: range)
    if n == 0 { return NDArray(shape: [0, 0], storage: .empty(linalgType([a]))) }
    let lapack = try LinalgLibraries.lapack(for: "np.linalg.cholesky", at: range)
    let lower = Int8(UInt8(ascii: "L"))
    func zeroUpper<T: FloatingPoint>(_ v: inout [T]) {
      for i in 0..<n { for j in (i + 1)..<n where j < n { v[i * n + j] = 0 } }
    }
    let info: Int32
    let result: NDArray
    if linalgType([a]) == .float32 {
      var m = a.floatValues
      info = lapack.spotrf(rowMajor, lower, Int32(n), &m, Int32(n))
      zeroUpper(&m)
      result = NDArray(shape: [n, n], storage: .float32(m))
    } else {
      var m = a.doubleValues
      info = lapack.dpotrf(rowMajor, lower, Int32(n), &m, Int32(n))
      zeroUpper(&m)
      result = NDArray(shape: [n, n], storage: .float64(m))
    }
    if info > 0 { throw ShellError("Matrix is not positive definite", at: range) }
    return result
  }

  /// `np.linalg.eigh(a)` / `eigvalsh(a)`: eigenvalues ascending, eigenvectors as columns (syevd,
  /// lower triangle).
  static func eigh(_ a: NDArray, vectors: Bool, at range: SourceRange) throws(ShellError) -> (NDArray, NDArray?) {
    let n = try requireSquare(a, at: range)
    let jobz = Int8(UInt8(ascii: vectors ? "V" : "N")), lower = Int8(UInt8(ascii: "L"))
    if n == 0 {
      let t = linalgType([a])
      return (NDArray(shape: [0], storage: .empty(t)), vectors ? NDArray(shape: [0, 0], storage: .empty(t)) : nil)
    }
    let lapack = try LinalgLibraries.lapack(for: vectors ? "np.linalg.eigh" : "np.linalg.eigvalsh", at: range)
    let info: Int32
    let w: NDArray, v: NDArray
    if linalgType([a]) == .float32 {
      var m = a.floatValues
      var e = [Float](repeating: 0, count: n)
      info = lapack.ssyevd(rowMajor, jobz, lower, Int32(n), &m, Int32(n), &e)
      w = NDArray(shape: [n], storage: .float32(e))
      v = NDArray(shape: [n, n], storage: .float32(m))
    } else {
      var m = a.doubleValues
      var e = [Double](repeating: 0, count: n)
      info = lapack.dsyevd(rowMajor, jobz, lower, Int32(n), &m, Int32(n), &e)
      w = NDArray(shape: [n], storage: .float64(e))
      v = NDArray(shape: [n, n], storage: .float64(m))
    }
    if info > 0 { throw ShellError("Eigenvalues did not converge", at: range) }
    return (w, vectors ? v : nil)
  }

  /// `np.linalg.det(a)`: from the LU factors, as sign · exp(log|det|) like numpy.
  static func det(_ a: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    let n = try requireSquare(a, at: range)
    let t = linalgType([a])
    if n == 0 { return .scalar(1, t) }
    let lapack = try LinalgLibraries.lapack(for: "np.linalg.det", at: range)
    var m = a.doubleValues
    var ipiv = [Int32](repeating: 0, count: n)
    let info = lapack.dgetrf(rowMajor, Int32(n), Int32(n), &m, Int32(n), &ipiv)
    if info > 0 { return .scalar(0, t) }
    var sign = 1.0, logdet = 0.0
    for i in 0..<n {
      if Int(ipiv[i]) != i + 1 { sign = -sign }
      let d = m[i * n + i]
      if d < 0 { sign = -sign }
      logdet += Foundation.log(Swift.abs(d))
    }
    return .scalar(sign * Foundation.exp(logdet), t)
  }

  /// Singular values (descending), and optionally U and Vᵀ (gesdd).
  static func svd(
    _ a: NDArray, vectors: Bool, full: Bool, function: String = "np.linalg.svd", at range: SourceRange
  ) throws(ShellError) -> (NDArray?, NDArray, NDArray?) {
    guard a.rank == 2 else { throw ShellError("ks's svd takes a 2-D array", at: range) }
    let lapack = try LinalgLibraries.lapack(for: function, at: range)
    let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
    var x = a.doubleValues
    var s = [Double](repeating: 0, count: k)
    let uCols = full ? m : k, vRows = full ? n : k
    var u = [Double](repeating: 0, count: vectors ? m * uCols : 1)
    var vt = [Double](repeating: 0, count: vectors ? vRows * n : 1)
    let job = Int8(UInt8(ascii: vectors ? (full ? "A" : "S") : "N"))
    let info = lapack.dgesdd(
      rowMajor, job, Int32(m), Int32(n), &x, Int32(Swift.max(n, 1)), &s, &u, Int32(Swift.max(uCols, 1)), &vt,
      Int32(Swift.max(n, 1)))
    if info > 0 { throw ShellError("SVD did not converge", at: range) }
    let t = linalgType([a])
    let sv = NDArray(shape: [k], storage: ArrayStorage.make(s, t))
    if !vectors { return (nil, sv, nil) }
    return (
      NDArray(shape: [m, uCols], storage: ArrayStorage.make(u, t)), sv, NDArray(shape: [vRows, n], storage: ArrayStorage.make(vt, t))
    )
  }

  // MARK: Norms

  enum NormOrder: Equatable {
    case none, fro, nuc, number(Double)
  }

  /// `np.linalg.norm(x, ord, axis, keepdims)`.
  static func norm(_ x0: NDArray, ord: NormOrder, axes: [Int]?, keepdims: Bool, at range: SourceRange) throws(ShellError) -> NDArray {
    let x = x0.dtype.kind == .float ? x0 : x0.cast(.float64)
    let rank = x.rank
    func absx() throws(ShellError) -> NDArray { try Ufunc.unary(.absolute, x, at: range) }
    func sum(_ a: NDArray, _ ax: [Int]?) -> NDArray { Reductions.sum(a, axes: ax, keepdims: keepdims) }
    func sqrt(_ a: NDArray) throws(ShellError) -> NDArray { try Ufunc.unary(.sqrt, a, at: range) }
    func square(_ a: NDArray) throws(ShellError) -> NDArray { try Ufunc.binary(.multiply, Operand(a), Operand(a), at: range) }

    if axes == nil && (ord == .none || (ord == .fro && rank == 2) || (ord == .number(2) && rank == 1)) {
      // numpy: sqrt(x·x) over the flattened array.
      let flat = x.withShape([x.count])
      let ss = Reductions.sum(try square(flat), axes: nil, keepdims: false)
      let r = try sqrt(ss)
      return keepdims ? r.withShape([Int](repeating: 1, count: rank)) : r
    }
    let ax = axes ?? Array(0..<rank)
    if ax.count == 1 {
      switch ord {
      case .none, .number(2): return try sqrt(sum(try square(x), ax))
      case .number(let p) where p == .infinity:
        return try Reductions.extreme(try absx(), axes: ax, keepdims: keepdims, max: true, at: range)
      case .number(let p) where p == -.infinity:
        return try Reductions.extreme(try absx(), axes: ax, keepdims: keepdims, max: false, at: range)
      case .number(0):
        return Reductions.countNonzero(x, axes: ax, keepdims: keepdims).cast(x.dtype)
      case .number(1): return sum(try absx(), ax)
      case .number(let p):
        let powered = try Ufunc.binary(.power, Operand(try absx()), Operand(.scalar(p), weak: .float), at: range)
        return try Ufunc.binary(.power, Operand(sum(powered, ax)), Operand(.scalar(1 / p), weak: .float), at: range)
      case .fro, .nuc:
        throw ShellError("Invalid norm order '\(ord == .fro ? "fro" : "nuc")' for vectors", at: range)
      }
    }
    guard ax.count == 2 else { throw ShellError("Improper number of dimensions to norm.", at: range) }
    let (rowAxis, colAxis) = (ax[0], ax[1])
    switch ord {
    case .none, .fro: return try sqrt(sum(try square(x), ax))
    case .number(1), .number(-1):
      let colSums = Reductions.sum(try absx(), axes: [rowAxis], keepdims: true)
      let r = try Reductions.extreme(colSums, axes: [colAxis], keepdims: true, max: ord == .number(1), at: range)
      return keepdims ? r : try Shaping.squeeze(r, axes: ax, at: range)
    case .number(let p) where p == .infinity || p == -.infinity:
      let rowSums = Reductions.sum(try absx(), axes: [colAxis], keepdims: true)
      let r = try Reductions.extreme(rowSums, axes: [rowAxis], keepdims: true, max: p > 0, at: range)
      return keepdims ? r : try Shaping.squeeze(r, axes: ax, at: range)
    case .number(2), .number(-2), .nuc:
      guard rank == 2 else { throw ShellError("ks computes 2-norms and nuclear norms of 2-D arrays only", at: range) }
      let (_, s, _) = try svd(ax == [1, 0] ? Shaping.transpose(x) : x, vectors: false, full: false, function: "np.linalg.norm", at: range)
      let r: NDArray
      if ord == .nuc {
        r = Reductions.sum(s, axes: nil, keepdims: false)
      } else {
        r = try Reductions.extreme(s, axes: nil, keepdims: false, max: ord == .number(2), at: range)
      }
      return (keepdims ? r.withShape([1, 1]) : r).cast(x.dtype)
    case .number:
      throw ShellError("Invalid norm order for matrices.", at: range)
    }
  }
}
