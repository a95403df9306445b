import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Sequences and lookups: `logspace`, `diff`, `searchsorted`, `interp`, `nan_to_num`.
  static func sequenceFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["logspace", FunctionDoc("np.logspace(start, stop, num=50, endpoint=True, base=10.0)", "numbers evenly spaced on a log scale, base**start to base**stop", "np.logspace(-3, 0, 4)")] = { ctx in
      let start = try ctx.operand(0, "start"), stop = try ctx.operand(1, "stop")
      let num = try ctx.integer(2, "num", default: 50)
      let endpoint = try ctx.flag(3, "endpoint", default: true)
      let base = try ctx.optional(4, "base").map { v throws(ShellError) in try NumpyOps.operand(v, at: ctx.rangeOf(4, "base")) }
        ?? Operand(.scalar(10.0), weak: .float)
      let dtype = try ctx.dtype(5)
      let axis = try ctx.integer(6, "axis", default: 0)
      try ctx.finish(maxPositional: 7)
      guard start.array.rank == 0, stop.array.rank == 0, base.array.rank == 0 else {
        throw ShellError("ks's logspace takes scalar start, stop and base", at: ctx.range)
      }
      if axis != 0 && axis != -1 { throw ShellError("axis \(axis) is out of bounds for array of dimension 1", at: ctx.rangeOf(6, "axis")) }
      if num < 0 { throw ShellError("Number of samples, \(num), must be non-negative.", type: "ValueError", at: ctx.rangeOf(2, "num")) }
      _ = try ElementCount.checked([num], .float64, at: ctx.rangeOf(2, "num"))
      let (values, _) = linspace(start.array.doubleValues[0], stop.array.doubleValues[0], num, endpoint)
      let yType = Promotion.result([start, stop, Operand(.scalar(0), weak: .float)])
      let y = NDArray(shape: [num], storage: .float64(values)).cast(yType)
      let p = try Ufunc.binary(.power, base, Operand(y), at: ctx.range)
      return .array(dtype.map { p.cast($0) } ?? p)
    }
    t["diff", FunctionDoc("np.diff(a, n=1, axis=-1, prepend=None, append=None)", "n-th discrete difference along an axis", "np.diff([1, 4, 9, 16])")] = { ctx in
      let a = try ctx.array(0, "a")
      let n = try ctx.integer(1, "n", default: 1)
      if a.rank == 0 { throw ShellError("diff requires input that is at least one dimensional", type: "ValueError", at: ctx.rangeOf(0, "a")) }
      let axis = try ctx.singleAxis(2, rank: a.rank, default: -1) ?? a.rank - 1
      let prepend = try ctx.present(3, "prepend"), append = try ctx.present(4, "append")
      try ctx.finish(maxPositional: 5)
      if n < 0 { throw ShellError("order must be non-negative but got \(n)", type: "ValueError", at: ctx.rangeOf(1, "n")) }
      if n == 0 { return .array(a) }
      var parts: [NDArray] = []
      for (k, v) in [(3, prepend), (4, append)] {
        guard let v else { continue }
        var e = try NumpyOps.toArray(v, at: ctx.rangeOf(k, k == 3 ? "prepend" : "append"))
        if e.rank == 0 {
          var shape = a.shape
          shape[axis] = 1
          e = e.broadcast(to: shape)
        }
        parts.append(e)
      }
      var x = a
      if !parts.isEmpty {
        var all: [NDArray] = []
        if prepend != nil { all.append(parts.removeFirst()) }
        all.append(a)
        if append != nil { all.append(parts.removeFirst()) }
        x = try Shaping.concatenate(all, axis: axis, at: ctx.range)
      }
      for _ in 0..<n {
        let len = x.shape[axis]
        if len == 0 { break }
        let hi = take(x, Array(1..<len), axis: axis), lo = take(x, Array(0..<(len - 1)), axis: axis)
        if x.dtype == .bool {
          x = try Ufunc.compare(.notEqual, Operand(hi), Operand(lo), at: ctx.range)
        } else {
          x = try Ufunc.binary(.subtract, Operand(hi), Operand(lo), at: ctx.range)
        }
      }
      return .array(x)
    }
    t["searchsorted", FunctionDoc("np.searchsorted(a, v, side='left', sorter=None)", "indices where v would be inserted to keep a sorted", "np.searchsorted([1, 3, 5], 4)")] = { ctx in
      let a = try ctx.array(0, "a")
      let v = try ctx.array(1, "v")
      var right = false
      if let s = try ctx.present(2, "side") {
        let text = try ctx.string(s, "side", at: ctx.rangeOf(2, "side")).text
        switch text.lowercased().first {
        case "l": right = false
        case "r": right = true
        default:
          throw ShellError("search side must be 'left' or 'right' (got \(pythonStringRepr(text)))", type: "ValueError", at: ctx.rangeOf(2, "side"))
        }
      }
      let sorter = try ctx.present(3, "sorter").map { s throws(ShellError) in try NumpyOps.toArray(s, at: ctx.rangeOf(3, "sorter")) }
      try ctx.finish(maxPositional: 4)
      if a.rank != 1 { throw ShellError("object \(a.rank == 0 ? "of too small depth" : "too deep") for desired array", type: "ValueError", at: ctx.rangeOf(0, "a")) }
      var sorted = a
      if let sorter {
        guard sorter.rank == 1, sorter.count == a.count, sorter.dtype == .int64 || sorter.count == 0 else {
          throw ShellError("sorter.size must equal a.size", type: "ValueError", at: ctx.rangeOf(3, "sorter"))
        }
        let order = sorter.int64Values.map { Int($0) }
        if order.contains(where: { $0 < 0 || $0 >= a.count }) {
          throw ShellError("Sorter index out of range.", type: "ValueError", at: ctx.rangeOf(3, "sorter"))
        }
        sorted = a.gathered(order, shape: [order.count])
      }
      return .array(searchsorted(sorted, v, right: right))
    }
    t["interp", FunctionDoc("np.interp(x, xp, fp, left=None, right=None)", "piecewise-linear interpolation of (xp, fp) at x", "np.interp(2.5, [1, 2, 3], [10, 20, 30])")] = { ctx in
      let x = try ctx.array(0, "x"), xp = try ctx.array(1, "xp"), fp = try ctx.array(2, "fp")
      let left = try ctx.present(3, "left").map { v throws(ShellError) in try ctx.double(v, "left", at: ctx.rangeOf(3, "left")) }
      let right = try ctx.present(4, "right").map { v throws(ShellError) in try ctx.double(v, "right", at: ctx.rangeOf(4, "right")) }
      let period = try ctx.present(5, "period").map { v throws(ShellError) in try ctx.double(v, "period", at: ctx.rangeOf(5, "period")) }
      try ctx.finish(maxPositional: 6)
      if xp.rank != 1 || fp.rank != 1 {
        throw ShellError("object \(Swift.max(xp.rank, fp.rank) > 1 ? "too deep" : "of too small depth") for desired array", type: "ValueError", at: ctx.range)
      }
      if xp.count == 0 { throw ShellError("array of sample points is empty", type: "ValueError", at: ctx.rangeOf(1, "xp")) }
      if fp.count != xp.count { throw ShellError("fp and xp are not of the same length.", type: "ValueError", at: ctx.rangeOf(2, "fp")) }
      var xs = x.doubleValues, xps = xp.doubleValues, fps = fp.doubleValues
      var lo = left, hi = right
      if let period {
        if period == 0 { throw ShellError("period must be a non-zero value", type: "ValueError", at: ctx.rangeOf(5, "period")) }
        let p = Swift.abs(period)
        func wrap(_ v: Double) -> Double {
          let r = fmod(v, p)
          return r < 0 ? r + p : r
        }
        xs = xs.map(wrap)
        let keys: [Double] = xps.map(wrap)
        let order: [Int] = (0..<keys.count).sorted { (i: Int, j: Int) -> Bool in keys[i] < keys[j] || (keys[i] == keys[j] && i < j) }
        let wrapped: [Double] = order.map { keys[$0] }
        let values: [Double] = order.map { fps[$0] }
        xps = [wrapped[wrapped.count - 1] - p] + wrapped + [wrapped[0] + p]
        fps = [values[values.count - 1]] + values + [values[0]]
        lo = nil
        hi = nil
      }
      return .array(NDArray(shape: x.shape, storage: .float64(interp(xs, xps, fps, left: lo, right: hi))))
    }
    t["nan_to_num", FunctionDoc("np.nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None)", "NaN replaced by 0 and infinities by the largest finite values", "np.nan_to_num(np.array([np.nan, np.inf]))")] = { ctx in
      let x = try ctx.array(0, "x")
      _ = try ctx.optional(1, "copy")
      let nan = try ctx.number(2, "nan", default: 0)
      let posinf = try ctx.present(3, "posinf").map { v throws(ShellError) in try ctx.double(v, "posinf", at: ctx.rangeOf(3, "posinf")) }
      let neginf = try ctx.present(4, "neginf").map { v throws(ShellError) in try ctx.double(v, "neginf", at: ctx.rangeOf(4, "neginf")) }
      try ctx.finish(maxPositional: 5)
      guard x.dtype.kind == .float else { return .array(x) }
      let big = FloatInfo(dtype: x.dtype).maxValue
      let v = x.doubleValues.map { e -> Double in
        if e.isNaN { return nan }
        if e == .infinity { return posinf ?? big }
        if e == -.infinity { return neginf ?? -big }
        return e
      }
      return .array(NDArray(shape: x.shape, doubles: v, dtype: x.dtype))
    }
    return t
  }

  /// For each value of `v`, the insertion index into the sorted 1-D `a` keeping it sorted:
  /// before equal elements (`left`) or after them (`right`). NaN sorts after every number.
  static func searchsorted(_ a: NDArray, _ v: NDArray, right: Bool) -> NDArray {
    func run<T>(_ xs: [T], _ keys: [T], _ less: (T, T) -> Bool) -> [Int64] {
      keys.map { key in
        var lo = 0, hi = xs.count
        while lo < hi {
          let mid = (lo + hi) / 2
          // left: first index with xs[i] >= key; right: first index with xs[i] > key.
          if right ? !less(key, xs[mid]) : less(xs[mid], key) { lo = mid + 1 } else { hi = mid }
        }
        return Int64(lo)
      }
    }
    let out: [Int64]
    if a.dtype.kind != .float && v.dtype.kind != .float {
      out = run(a.int64Values, v.int64Values, <)
    } else {
      out = run(a.doubleValues, v.doubleValues) { x, y in x < y || (y.isNaN && !x.isNaN) }
    }
    return NDArray(shape: v.shape, storage: .int64(out))
  }

  /// Piecewise-linear interpolation of the points (xp, fp), xp increasing: `left`/`right` (by
  /// default fp's first and last values) outside [xp[0], xp[-1]], fp[j] at xp[j] exactly.
  static func interp(_ xs: [Double], _ xp: [Double], _ fp: [Double], left: Double?, right: Double?) -> [Double] {
    let n = xp.count
    let lo = left ?? fp[0], hi = right ?? fp[n - 1]
    return xs.map { x in
      if x.isNaN { return x }
      if x < xp[0] { return lo }
      if x > xp[n - 1] { return hi }
      if x == xp[n - 1] { return fp[n - 1] }
      // j: the last index with xp[j] <= x.
      var l = 0, h = n - 1
      while l < h {
        let m = (l + h + 1) / 2
        if xp[m] <= x { l = m } else { h = m - 1 }
      }
      if x == xp[l] || l == n - 1 { return fp[l] }
      let slope = (fp[l + 1] - fp[l]) / (xp[l + 1] - xp[l])
      var y = slope * (x - xp[l]) + fp[l]
      if y.isNaN {
        y = slope * (x - xp[l + 1]) + fp[l + 1]
        if y.isNaN && fp[l] == fp[l + 1] { y = fp[l] }
      }
      return y
    }
  }
}
