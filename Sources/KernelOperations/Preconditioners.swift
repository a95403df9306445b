import DenseLinearAlgebra
import Dispatch
import Foundation
import KernelEngines

/// A symmetric positive definite approximation P of alpha Id + K, applied as z = c P^{-1} r
/// (any constant c > 0: conjugate gradient does not see it).
protocol Preconditioner {
  /// z for the residual r (N x D, row-major).
  func apply(_ r: [Double], columns: Int) -> [Double]
}

/// Jacobi: z = r / diag(alpha Id + K).
struct JacobiPreconditioner: Preconditioner {
  let inverseDiagonal: [Double]

  init(diagonal: [Double], alpha: Double) {
    inverseDiagonal = diagonal.map { d in
      let v = d + alpha
      return v > 0 && v.isFinite ? 1 / v : 1
    }
  }

  func apply(_ r: [Double], columns d: Int) -> [Double] {
    var z = r
    for i in 0..<inverseDiagonal.count {
      let s = inverseDiagonal[i]
      for c in 0..<d { z[i * d + c] *= s }
    }
    return z
  }
}

/// Nyström: K ~ F F^T with F (N x m) from m centres; P = alpha Id + F F^T, inverted by Woodbury:
/// alpha P^{-1} r = r - F (alpha Id_m + F^T F)^{-1} F^T r, with alpha Id_m + F^T F factored once by
/// Cholesky and applied with two triangular solves (LAPACK `dpotrs`).
struct NystromPreconditioner: Preconditioner {
  /// F^T, m x N row-major.
  let ft: [Double]
  let m: Int
  let n: Int
  /// The lower Cholesky factor of alpha Id_m + F^T F.
  let factor: [Double]
  /// F^T in float32 when the applications use it (`float32: true`); `ft` is then empty.
  let ft32: [Float]?

  init(ft: [Double], m: Int, n: Int, alpha: Double, float32: Bool = false) throws(DenseMatrixError) {
    let single = float32 && LinearAlgebraLibraries.blas != nil
    self.ft = single ? [] : ft
    ft32 = single ? ft.map { Float($0) } : nil
    self.m = m
    self.n = n
    var g = DenseMatrix.gram(ft, m: m, k: n)
    // alpha > 0 makes it positive definite; a relative jitter covers alpha = 0 and rounding.
    var trace = 0.0
    for c in 0..<m { trace += g[c * m + c] }
    let jitter = max(alpha, 1e-13 * trace / Double(max(m, 1)))
    for c in 0..<m { g[c * m + c] += jitter }
    try DenseMatrix.cholesky(&g, n: m)
    factor = g
  }

  func apply(_ r: [Double], columns d: Int) -> [Double] {
    if m == 0 { return r }
    var t = [Double](repeating: 0, count: m * d)
    var z = r
    if let ft32 {
      // F^T r and F t in float32: the products read F, N x m, from memory once each (half the
      // bytes of float64); t's small system stays float64.
      let r32 = r.map { Float($0) }
      var t32 = [Float](repeating: 0, count: m * d)
      ft32.withUnsafeBufferPointer { f in
        r32.withUnsafeBufferPointer { rp in
          t32.withUnsafeMutableBufferPointer { tp in
            DenseMatrix.sgemm(m: m, n: d, k: n, f.baseAddress!, rp.baseAddress!, tp.baseAddress!)
          }
        }
      }
      for k in 0..<t.count { t[k] = Double(t32[k]) }
      try? DenseMatrix.choleskySolve(factor, n: m, &t, nrhs: d)
      for k in 0..<t.count { t32[k] = Float(t[k]) }
      var ftt = [Float](repeating: 0, count: n * d)
      ft32.withUnsafeBufferPointer { f in
        t32.withUnsafeBufferPointer { tp in
          ftt.withUnsafeMutableBufferPointer { zp in
            DenseMatrix.sgemm(transA: true, m: n, n: d, k: m, f.baseAddress!, tp.baseAddress!, zp.baseAddress!)
          }
        }
      }
      for k in 0..<z.count { z[k] -= Double(ftt[k]) }
      return z
    }
    ft.withUnsafeBufferPointer { f in
      r.withUnsafeBufferPointer { rp in
        t.withUnsafeMutableBufferPointer { tp in
          DenseMatrix.gemm(m: m, n: d, k: n, f.baseAddress!, rp.baseAddress!, tp.baseAddress!)
        }
      }
    }
    try? DenseMatrix.choleskySolve(factor, n: m, &t, nrhs: d)
    ft.withUnsafeBufferPointer { f in
      t.withUnsafeBufferPointer { tp in
        z.withUnsafeMutableBufferPointer { zp in
          DenseMatrix.gemm(transA: true, m: n, n: d, k: m, alpha: -1, f.baseAddress!, tp.baseAddress!, beta: 1, zp.baseAddress!)
        }
      }
    }
    return z
  }
}

/// A small seeded generator (CentreRandom) for the centre sampling: the same seed, the same centres.
struct CentreRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func next() -> UInt64 {
    state = state &+ 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in (0, 1).
  mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
}

/// Builds the Nyström factor F^T (m x N) from the kernel matrix.
enum NystromBuilder {
  /// Randomly pivoted Cholesky in blocks (Chen, Epperly, Tropp, Webber 2023): each block of
  /// centres is sampled in proportion to the residual diagonal diag(K - F F^T), its columns of K
  /// are computed on the engine, and a pivoted Cholesky of the block keeps the pivots that add
  /// rank. Stops at `m` centres, or earlier when the residual trace falls below `stopTrace`.
  static func rpcholesky(
    _ kernel: KernelMatrix, m: Int, seed: UInt64, stopTrace: Double, cancel: CancellationToken?
  ) throws -> (ft: [Double], m: Int) {
    let n = kernel.order
    var d = try kernel.diagonal(cancel: cancel).map { max($0, 0) }
    let scale = d.max() ?? 0
    var ft: [Double] = []
    var k = 0
    var rng = CentreRandom(seed: seed)
    var stalls = 0
    let trace = getenv("KS_SOLVE_TRACE") != nil
    let t0 = DispatchTime.now().uptimeNanoseconds
    while k < m {
      var total = 0.0
      for v in d { total += v }
      if trace {
        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        FileHandle.standardError.write(Data("rpcholesky k=\(k) trace=\(total) max=\(d.max() ?? 0) t=\(t)\n".utf8))
      }
      if !(total > stopTrace) || !(total > 1e-14 * scale * Double(n)) { break }
      // Sample a block in proportion to d (with replacement, then deduplicated). Blocks grow
      // with m: the update reads all of F once per block.
      let want = min(blockSize(m), m - k)
      var cumulative = [Double](repeating: 0, count: n)
      var acc = 0.0
      for i in 0..<n { acc += d[i]; cumulative[i] = acc }
      var picked = Set<Int>()
      for _ in 0..<want {
        let u = rng.uniform() * acc
        var lo = 0, hi = n - 1
        while lo < hi {
          let mid = (lo + hi) / 2
          if cumulative[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        picked.insert(lo)
      }
      let s = picked.sorted()
      let accepted = try addBlock(kernel, columns: s, ft: &ft, k: &k, d: &d, scale: scale, cancel: cancel)
      if accepted == 0 {
        stalls += 1
        if stalls >= 3 { break }
      }
    }
    return (ft, k)
  }

  /// Centres per RPCholesky block: 32 for small ranks, up to 256 (each block's update reads F once).
  static func blockSize(_ m: Int) -> Int { max(KernelMatrix.blockWidth, min(256, m / 8 / 32 * 32)) }

  /// The centres `centres` at once (uniform or leverage selection): F = K[:, C] L^{-T} with
  /// L L^T = K[C, C], through the same pivoted block elimination (pivots that add no rank are dropped).
  static func fixed(_ kernel: KernelMatrix, centres: [Int], cancel: CancellationToken?) throws -> (ft: [Double], m: Int) {
    var d = try kernel.diagonal(cancel: cancel).map { max($0, 0) }
    let scale = d.max() ?? 0
    var ft: [Double] = []
    var k = 0
    var start = 0
    while start < centres.count {
      let width = blockSize(centres.count)
      let s = Array(centres[start..<min(centres.count, start + width)]).sorted()
      _ = try addBlock(kernel, columns: s, ft: &ft, k: &k, d: &d, scale: scale, cancel: cancel)
      start += width
    }
    return (ft, k)
  }

  /// Eliminates the columns `s` of K against the current factor and appends the new rows of
  /// F^T; returns how many pivots were kept.
  static func addBlock(
    _ kernel: KernelMatrix, columns s: [Int], ft: inout [Double], k: inout Int, d: inout [Double], scale: Double,
    cancel: CancellationToken?
  ) throws -> Int {
    let n = kernel.order
    let b = s.count
    if let c = cancel, c.isCancelled { throw SolveFailure.Reason.cancelled }
    let g = try kernel.block(rows: nil, cols: s, cancel: cancel)  // N x b
    var gt = [Double](repeating: 0, count: b * n)
    for i in 0..<n { for c in 0..<b { gt[c * n + i] = g[i * b + c] } }
    if k > 0 {
      var fs = [Double](repeating: 0, count: b * k)  // F[S, :], b x k
      for c in 0..<b { for l in 0..<k { fs[c * k + l] = ft[l * n + s[c]] } }
      fs.withUnsafeBufferPointer { fp in
        ft.withUnsafeBufferPointer { tp in
          gt.withUnsafeMutableBufferPointer { gp in
            DenseMatrix.gemm(m: b, n: n, k: k, alpha: -1, fp.baseAddress!, tp.baseAddress!, beta: 1, gp.baseAddress!)
          }
        }
      }
    }
    // Pivoted Cholesky of the b x b block G[S, S].
    var a = [Double](repeating: 0, count: b * b)
    for r in 0..<b { for c in 0..<b { a[r * b + c] = gt[r * n + s[c]] } }
    var order: [Int] = []
    var remaining = Array(0..<b)
    var l = [[Double]]()  // columns of the block factor, indexed by block position
    let tol = 1e-10 * scale
    var resid = (0..<b).map { a[$0 * b + $0] }
    while !remaining.isEmpty {
      var best = remaining[0]
      var bestValue = -Double.infinity
      for r in remaining where resid[r] > bestValue { bestValue = resid[r]; best = r }
      if !(bestValue > tol) { break }
      let pivot = bestValue.squareRoot()
      var col = [Double](repeating: 0, count: b)
      for r in 0..<b {
        var v = a[r * b + best]
        for c in l { v -= c[r] * c[best] }
        col[r] = v / pivot
      }
      for r in 0..<b { resid[r] -= col[r] * col[r] }
      l.append(col)
      order.append(best)
      remaining.removeAll { $0 == best }
    }
    let p = order.count
    if p == 0 { return 0 }
    // L (p x p) in pivot order, and the rows of G^T in that order.
    var lower = [Double](repeating: 0, count: p * p)
    for r in 0..<p { for c in 0...r { lower[r * p + c] = l[c][order[r]] } }
    var rows = [Double](repeating: 0, count: p * n)
    for r in 0..<p {
      let src = order[r] * n
      for i in 0..<n { rows[r * n + i] = gt[src + i] }
    }
    DenseMatrix.lowerSolve(lower, n: p, &rows, ncols: n)
    for r in 0..<p {
      for i in 0..<n {
        let v = rows[r * n + i]
        d[i] = max(0, d[i] - v * v)
      }
      d[s[order[r]]] = 0
    }
    ft += rows
    k += p
    return p
  }

  /// `m` distinct indices out of 0..<n, uniformly.
  static func uniformCentres(n: Int, m: Int, seed: UInt64) -> [Int] {
    var rng = CentreRandom(seed: seed)
    var idx = Array(0..<n)
    for t in 0..<min(m, n) {
      let j = t + Int(rng.next() % UInt64(n - t))
      idx.swapAt(t, j)
    }
    return Array(idx[0..<min(m, n)])
  }

  /// `m` distinct indices drawn in proportion to `weights` without replacement (Efraimidis-Spirakis keys).
  static func weightedCentres(_ weights: [Double], m: Int, seed: UInt64) -> [Int] {
    var rng = CentreRandom(seed: seed ^ 0x5EED)
    let keys = weights.enumerated().map { (i, w) -> (Double, Int) in
      (w > 0 ? -_log(rng.uniform()) / w : .infinity, i)
    }
    return keys.sorted { $0.0 < $1.0 }.prefix(m).map(\.1)
  }

  /// Approximate ridge leverage scores l_i = [K (K + alpha Id)^{-1}]_ii from a Nyström factor:
  /// |R^{-1} F_i|^2 with R R^T = alpha Id + F^T F.
  static func leverageScores(ft: [Double], m: Int, n: Int, alpha: Double) throws -> [Double] {
    var g = DenseMatrix.gram(ft, m: m, k: n)
    for c in 0..<m { g[c * m + c] += max(alpha, 1e-300) }
    try DenseMatrix.cholesky(&g, n: m)
    var x = ft
    DenseMatrix.lowerSolve(g, n: m, &x, ncols: n)
    var scores = [Double](repeating: 0, count: n)
    for c in 0..<m { for i in 0..<n { scores[i] += x[c * n + i] * x[c * n + i] } }
    return scores
  }
}
