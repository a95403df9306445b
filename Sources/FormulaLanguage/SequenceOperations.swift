import Foundation

// BSpline and SoftDTW_SqDist (keops-semantics.md 1.11): the evaluations and C emitters their rows
// in the operation table name.

// MARK: BSpline(knots, x, order)

/// De Boor's recursion for the B-spline basis of `order` on the knots t_0..t_{K-1}, at x: K-1
/// order-0 indicators [t_j <= x < t_{j+1}], raised `order` times in place, the first
/// K-order-1 values kept. As in KeOps' code, x and the ratios (x - t_i)/(t_{i+k} - t_i) are
/// single-precision floats (a ratio is 0 where t_i = t_{i+k}).
let bSplineEvaluation: Evaluation = .block { inputs, params, count, out, outDim in
  let order = params[0]
  let t = inputs[0], xs = inputs[1]
  let knots = t.dim
  var b = [Double](repeating: 0, count: knots - 1)
  for p in 0..<count {
    let x = Double(Float(xs[p, 0]))
    for j in 0..<(knots - 1) { b[j] = t[p, j] <= x && x < t[p, j + 1] ? 1 : 0 }
    if order >= 1 {
      for k in 1...order {
        var r = t[p, 0] < t[p, k] ? Float((x - t[p, 0]) / (t[p, k] - t[p, 0])) : 0
        for i in 0..<(knots - 1 - k) {
          let q = t[p, i + 1] < t[p, i + 1 + k] ? Float((x - t[p, i + 1]) / (t[p, i + 1 + k] - t[p, i + 1])) : 0
          b[i] = Double(r) * b[i] + Double(1 - q) * b[i + 1]
          r = q
        }
      }
    }
    for j in 0..<outDim { out[p * outDim + j] = b[j] }
  }
}

let cBSpline: CEmitter = { c in
  let knots = c.argumentDims[0], order = c.params[0], w = c.work
  func t(_ index: String) -> String { c.arg(0, index) }
  return "{ float x = (float)(\(c.arg(1, "0"))); \(w) b[\(knots - 1)]; "
    + "for (int j = 0; j < \(knots - 1); j++) b[j] = (\(t("j")) <= x && x < \(t("j + 1"))) ? (\(w))1 : (\(w))0; "
    + "for (int k = 1; k <= \(order); k++) { "
    + "float r = \(t("0")) < \(t("k")) ? (float)((x - \(t("0"))) / (\(t("k")) - \(t("0")))) : 0.0f; "
    + "for (int i = 0; i < \(knots - 1) - k; i++) { "
    + "float q = \(t("i + 1")) < \(t("i + 1 + k")) ? (float)((x - \(t("i + 1"))) / (\(t("i + 1 + k")) - \(t("i + 1")))) : 0.0f; "
    + "b[i] = r * b[i] + (1.0f - q) * b[i + 1]; r = q; } } "
    + "for (int j = 0; j < \(c.outDim); j++) \(c.out("j")) = b[j]; }"
}

// MARK: SoftDTW_SqDist(x, y, gamma)

/// Soft dynamic time warping between the sequences x (length n) and y (length m) with the squared
/// difference as cost: R(i, j) = (x_i - y_j)^2 + softmin_gamma(R(i-1, j-1), R(i-1, j), R(i, j-1)),
/// the first row and column plain cumulative sums, softmin_gamma(a, b, c) = -gamma log(e^(-a/gamma)
/// + e^(-b/gamma) + e^(-c/gamma)) computed shifted by the minimum; the value is R(n-1, m-1).
/// softmin_gamma(diagonal, left, up) of the recursion, shifted by the minimum.
@inline(__always)
func softMin(_ diagonal: Double, _ left: Double, _ up: Double, _ g: Double) -> Double {
  var low = diagonal < left ? diagonal : left
  low = up < low ? up : low
  return low - g * Foundation.log(
    Foundation.exp((low - diagonal) / g) + Foundation.exp((low - left) / g) + Foundation.exp((low - up) / g))
}

/// The same step in C: `v += softmin(diagonal, left, up)`, with the gamma in `g` (declared by the
/// caller) and `w` the working type.
func cSoftMinStep(_ w: String, into v: String, diagonal: String, left: String, up: String) -> String {
  "\(w) dg = \(diagonal), lf = \(left), up = \(up); \(w) lo = dg < lf ? dg : lf; lo = up < lo ? up : lo; "
    + "\(v) += lo - g * log(exp((lo - dg) / g) + exp((lo - lf) / g) + exp((lo - up) / g)); "
}

let softDTWEvaluation: Evaluation = .block { inputs, _, count, out, _ in
  let xs = inputs[0], ys = inputs[1], gs = inputs[2]
  let n = xs.dim, m = ys.dim
  var previous = [Double](repeating: 0, count: n), current = previous
  for p in 0..<count {
    let g = gs[p, 0]
    for j in 0..<m {
      for i in 0..<n {
        let d = xs[p, i] - ys[p, j]
        var r = d * d
        if j == 0 {
          if i > 0 { r += current[i - 1] }
        } else if i == 0 {
          r += previous[0]
        } else {
          r += softMin(previous[i - 1], current[i - 1], previous[i], g)
        }
        current[i] = r
      }
      swap(&previous, &current)
    }
    out[p] = previous[n - 1]
  }
}

let cSoftDTW: CEmitter = { c in
  let n = c.argumentDims[0], m = c.argumentDims[1], w = c.work
  func x(_ i: String) -> String { c.arg(0, i) }
  func y(_ j: String) -> String { c.arg(1, j) }
  let g = c.arg(2, "0")
  return "{ \(w) rp[\(n)], rc[\(n)]; \(w) g = \(g); "
    + "for (int j = 0; j < \(m); j++) { for (int i = 0; i < \(n); i++) { "
    + "\(w) d = \(x("i")) - \(y("j")); \(w) r = d * d; "
    + "if (j == 0) { if (i > 0) r += rc[i - 1]; } else if (i == 0) { r += rp[0]; } else { "
    + cSoftMinStep(w, into: "r", diagonal: "rp[i - 1]", left: "rc[i - 1]", up: "rp[i]") + "} "
    + "rc[i] = r; } for (int i = 0; i < \(n); i++) rp[i] = rc[i]; } "
    + "\(c.out("0")) = rp[\(n - 1)]; }"
}

// MARK: GradSoftDTW_SqDist(x, y, gamma)

/// The gradient of SoftDTW_SqDist(x, y, gamma) with respect to x and y, concatenated (dimension
/// n + m), as KeOps 2.3 defines it. With R the table of the forward recursion and
/// E(i, j) = dR(n-1, m-1)/dR(i, j), computed backwards from E(n-1, m-1) = 1 through each cell's
/// successors s = (i+1, j), (i, j+1), (i+1, j+1):
/// E(i, j) = sum_s E(s) exp((R(s) - (x_s - y_s)^2 - R(i, j)) / gamma) (the softmin's weight of
/// R(i, j) in R(s); 1 on the first row and column, where R is a plain running sum). Then
/// d/dx_i = sum_j 2 (x_i - y_j) E(i, j) and d/dy_j = -sum_i 2 (x_i - y_j) E(i, j).
let gradSoftDTWEvaluation: Evaluation = .block { inputs, _, count, out, outDim in
  let xs = inputs[0], ys = inputs[1], gs = inputs[2]
  let n = xs.dim, m = ys.dim
  var r = [Double](repeating: 0, count: n * m)
  var e = [Double](repeating: 0, count: n * m)
  for p in 0..<count {
    let g = gs[p, 0]
    func cost(_ i: Int, _ j: Int) -> Double {
      let d = xs[p, i] - ys[p, j]
      return d * d
    }
    for j in 0..<m {
      for i in 0..<n {
        var v = cost(i, j)
        if j == 0 {
          if i > 0 { v += r[i - 1] }
        } else if i == 0 {
          v += r[(j - 1) * n]
        } else {
          v += softMin(r[(j - 1) * n + i - 1], r[j * n + i - 1], r[(j - 1) * n + i], g)
        }
        r[j * n + i] = v
      }
    }
    // Backwards, each cell's contribution added as soon as its E is known (the C code's order).
    let o = p * outDim
    for k in 0..<outDim { out[o + k] = 0 }
    for j in stride(from: m - 1, through: 0, by: -1) {
      for i in stride(from: n - 1, through: 0, by: -1) {
        var sum = 0.0
        if i == n - 1 && j == m - 1 {
          sum = 1
        } else {
          for (si, sj) in [(i + 1, j), (i, j + 1), (i + 1, j + 1)] where si < n && sj < m {
            sum += e[sj * n + si] * Foundation.exp((r[sj * n + si] - cost(si, sj) - r[j * n + i]) / g)
          }
        }
        e[j * n + i] = sum
        let w = 2 * (xs[p, i] - ys[p, j]) * sum
        out[o + i] += w
        out[o + n + j] -= w
      }
    }
  }
}

let cGradSoftDTW: CEmitter = { c in
  let n = c.argumentDims[0], m = c.argumentDims[1], w = c.work
  func x(_ i: String) -> String { c.arg(0, i) }
  func y(_ j: String) -> String { c.arg(1, j) }
  let g = c.arg(2, "0")
  // R and E as n*m tables (cell (i, j) at j*n + i); the cost of a cell recomputed where needed.
  return "{ \(w) R[\(n * m)], E[\(n * m)], G[\(n + m)]; \(w) g = \(g); "
    + "for (int j = 0; j < \(m); j++) { for (int i = 0; i < \(n); i++) { "
    + "\(w) d = \(x("i")) - \(y("j")); \(w) v = d * d; "
    + "if (j == 0) { if (i > 0) v += R[i - 1]; } else if (i == 0) { v += R[(j - 1) * \(n)]; } else { "
    + cSoftMinStep(w, into: "v", diagonal: "R[(j - 1) * \(n) + i - 1]", left: "R[j * \(n) + i - 1]", up: "R[(j - 1) * \(n) + i]")
    + "} "
    + "R[j * \(n) + i] = v; } } "
    + "for (int k = 0; k < \(n + m); k++) G[k] = (\(w))0; "
    + "for (int j = \(m - 1); j >= 0; j--) { for (int i = \(n - 1); i >= 0; i--) { "
    + "\(w) s = (\(w))0; "
    + "if (i == \(n - 1) && j == \(m - 1)) { s = (\(w))1; } else { "
    + "if (i + 1 < \(n)) { \(w) d = \(x("i + 1")) - \(y("j")); s += E[j * \(n) + i + 1] * exp((R[j * \(n) + i + 1] - d * d - R[j * \(n) + i]) / g); } "
    + "if (j + 1 < \(m)) { \(w) d = \(x("i")) - \(y("j + 1")); s += E[(j + 1) * \(n) + i] * exp((R[(j + 1) * \(n) + i] - d * d - R[j * \(n) + i]) / g); } "
    + "if (i + 1 < \(n) && j + 1 < \(m)) { \(w) d = \(x("i + 1")) - \(y("j + 1")); s += E[(j + 1) * \(n) + i + 1] * exp((R[(j + 1) * \(n) + i + 1] - d * d - R[j * \(n) + i]) / g); } } "
    + "E[j * \(n) + i] = s; "
    + "\(w) d = \(x("i")) - \(y("j")); \(w) t = 2 * d * s; G[i] += t; G[\(n) + j] -= t; } } "
    + "for (int k = 0; k < \(n + m); k++) \(c.out("k")) = G[k]; }"
}
