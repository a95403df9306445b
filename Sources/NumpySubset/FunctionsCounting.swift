import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Counting and order statistics: `bincount`, `histogram`, `percentile`, `quantile`.
  static func countingFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["bincount", FunctionDoc("np.bincount(x, weights=None, minlength=0)", "number (or weight) of occurrences of each non-negative integer", "np.bincount([0, 1, 1, 3])")] = { ctx in
      let x = try ctx.array(0, "x")
      let weights = try ctx.present(1, "weights")
      var minlength = 0
      if let v = try ctx.optional(2, "minlength") {
        if case .none = v { throw ShellError("use 0 instead of None for minlength", type: "TypeError", at: ctx.rangeOf(2, "minlength")) }
        minlength = try ctx.int(NumpyOps.pythonIndex(v), "minlength", at: ctx.rangeOf(2, "minlength"))
      }
      try ctx.finish(maxPositional: 3)
      let w = try weights.map { v throws(ShellError) in try NumpyOps.toArray(v, at: ctx.rangeOf(1, "weights")) }
      return .array(try bincount(x, weights: w, minlength: minlength, ctx: ctx))
    }
    t["histogram", FunctionDoc("np.histogram(a, bins=10, range=None, density=False, weights=None)", "counts of the values in equal bins, and the bin edges", "counts, edges = np.histogram(x, bins=5)")] = { ctx in
      let a = try ctx.array(0, "a")
      let bins = try ctx.optional(1, "bins") ?? .int(10)
      let range = try ctx.present(2, "range")
      let density = try ctx.present(3, "density")
      let weights = try ctx.present(4, "weights")
      try ctx.finish(maxPositional: 5)
      let w = try weights.map { v throws(ShellError) in try NumpyOps.toArray(v, at: ctx.rangeOf(4, "weights")) }
      let dens = try density.map { v throws(ShellError) in try ctx.bool(NumpyOps.pythonIndex(v), "density", at: ctx.rangeOf(3, "density")) } ?? false
      let (counts, edges) = try histogram(a, bins: bins, range: range, density: dens, weights: w, ctx: ctx)
      return .tuple([.array(counts), .array(edges)])
    }
    let quantileDocs = [
      "percentile": FunctionDoc("np.percentile(a, q, axis=None, method='linear', keepdims=False)", "the q-th percentiles (q in [0, 100])", "np.percentile(x, [25, 50, 75])"),
      "quantile": FunctionDoc("np.quantile(a, q, axis=None, method='linear', keepdims=False)", "the q-th quantiles (q in [0, 1])", "np.quantile(x, 0.5)"),
    ]
    for (name, scale) in [("percentile", 100.0), ("quantile", 1.0)] {
      t[name, quantileDocs[name]] = { ctx in
        let a = try ctx.array(0, "a")
        let q = try ctx.operand(1, "q")
        let axes = try ctx.axes(2, rank: a.rank)
        if try ctx.present(3, "out") != nil { throw ShellError("ks's \(name) does not take out=", at: ctx.rangeOf(3, "out")) }
        _ = try ctx.optional(4, "overwrite_input")
        var method = "linear"
        for key in ["method", "interpolation"] {
          if let v = try ctx.present(key == "method" ? 5 : nil, key) {
            method = try ctx.string(v, key, at: ctx.rangeOf(key == "method" ? 5 : nil, key)).text
          }
        }
        let keepdims = try ctx.flag(6, "keepdims", default: false)
        if try ctx.present(nil, "weights") != nil {
          throw ShellError("ks's \(name) does not take weights= (numpy allows them only with method='inverted_cdf')", at: ctx.rangeOf(keyword: "weights"))
        }
        try ctx.finish(maxPositional: 7)
        let methods = ["linear", "lower", "higher", "midpoint", "nearest"]
        guard methods.contains(method) else {
          throw ShellError(
            "'\(method)' is not a valid method; ks offers \(methods.map { "'\($0)'" }.joined(separator: ", "))", type: "ValueError",
            at: ctx.rangeOf(5, "method"))
        }
        let (fractions, qType, weak) = quantileFractions(a, q, scale: scale)
        if fractions.contains(where: { !($0 >= 0 && $0 <= 1) }) {
          let what = name == "percentile" ? "Percentiles must be in the range [0, 100]" : "Quantiles must be in the range [0, 1]"
          throw ShellError(what, type: "ValueError", at: ctx.rangeOf(1, "q"))
        }
        return .array(
          try quantile(a, q.array.shape, fractions, qType: qType, weakQ: weak, axes: axes, method: method, keepdims: keepdims, at: ctx.range))
      }
    }
    return t
  }

  /// `np.bincount(x, weights, minlength)`: the number of occurrences of each value 0...max(x)
  /// (int64), or the sum of the weights of each value (float64).
  static func bincount(_ x: NDArray, weights: NDArray?, minlength: Int, ctx: CallContext) throws(ShellError) -> NDArray {
    let r = ctx.rangeOf(0, "x")
    guard x.dtype == .int64 || x.dtype == .bool || x.count == 0 && x.rank == 1 else {
      throw ShellError(
        "Cannot cast array data from dtype('\(x.dtype.rawValue)') to dtype('int64') according to the rule 'safe'", type: "TypeError", at: r)
    }
    if x.rank == 0 { throw ShellError("object of too small depth for desired array", type: "ValueError", at: r) }
    if x.rank > 1 { throw ShellError("object too deep for desired array", type: "ValueError", at: r) }
    if minlength < 0 { throw ShellError("'minlength' must not be negative", type: "ValueError", at: ctx.rangeOf(2, "minlength")) }
    let values = x.int64Values
    if values.contains(where: { $0 < 0 }) { throw ShellError("'list' argument must have no negative elements", type: "ValueError", at: r) }
    let largest = Int(values.max() ?? -1)
    let length = Swift.max(try ElementCount.sum(largest, 1, at: r), minlength)
    _ = try ElementCount.checked([length], weights == nil ? .int64 : .float64, at: r)
    guard let weights else {
      var counts = [Int64](repeating: 0, count: length)
      for v in values { counts[Int(v)] += 1 }
      return NDArray(shape: [length], storage: .int64(counts))
    }
    let wr = ctx.rangeOf(1, "weights")
    if weights.rank > 1 { throw ShellError("object too deep for desired array", type: "ValueError", at: wr) }
    if weights.rank == 0 { throw ShellError("object of too small depth for desired array", type: "ValueError", at: wr) }
    guard weights.count == values.count else {
      throw ShellError("The weights and list don't have the same length.", type: "ValueError", at: wr)
    }
    let w = weights.doubleValues
    var sums = [Double](repeating: 0, count: length)
    for (k, v) in values.enumerated() { sums[Int(v)] += w[k] }
    return NDArray(shape: [length], storage: .float64(sums))
  }

  /// `np.histogram`: counts of the values in each bin `[e_k, e_k+1)` (the last bin closed), and
  /// the edges. `bins` is a count (equal bins over `range`, by default the data's min and max) or
  /// the edges themselves.
  static func histogram(
    _ input: NDArray, bins: Value, range: Value?, density: Bool, weights: NDArray?, ctx: CallContext
  ) throws(ShellError) -> (NDArray, NDArray) {
    let a = input.withShape([input.count])
    let binsRange = ctx.rangeOf(1, "bins")
    if let weights, weights.shape != input.shape {
      throw ShellError("weights should have the same shape as a.", type: "ValueError", at: ctx.rangeOf(4, "weights"))
    }
    let values = a.doubleValues
    var edges: NDArray
    switch NumpyOps.pythonIndex(bins) {
    case .int(let n):
      if n < 1 { throw ShellError("`bins` must be positive, when an integer", type: "ValueError", at: binsRange) }
      let count = try ElementCount.sum(n, 1, at: binsRange)
      _ = try ElementCount.checked([count], .float64, at: binsRange)
      var first: Double, last: Double
      // numpy's linspace of the edges computes in the type of the range's ends (the data's
      // float type when they come from the data, float64 for Python numbers).
      var computeType: DType = a.dtype.isFloatingPoint ? a.dtype : .float64
      if let range {
        let rr = ctx.rangeOf(2, "range")
        let pair = try NumpyOps.toArray(range, at: rr)
        switch range {
        case .tuple(let items), .list(let items):
          var ends: [Operand] = [Operand(.scalar(0), weak: .float)]
          for item in items { ends.append(try NumpyOps.operand(item, at: rr)) }
          computeType = Promotion.result(ends)
        default:
          computeType = Promotion.result([Operand(pair), Operand(.scalar(0), weak: .float)])
        }
        guard pair.count == 2 else { throw ShellError("too many values to unpack (expected 2)", type: "ValueError", at: rr) }
        (first, last) = (pair.double(at: 0), pair.double(at: 1))
        if first > last { throw ShellError("max must be larger than min in range parameter.", type: "ValueError", at: rr) }
        if !first.isFinite || !last.isFinite {
          throw ShellError("supplied range of [\(numberText(first)), \(numberText(last))] is not finite", type: "ValueError", at: rr)
        }
      } else if values.isEmpty {
        (first, last) = (0, 1)
      } else {
        (first, last) = values.contains { $0.isNaN } ? (.nan, .nan) : (values.min()!, values.max()!)
        if !first.isFinite || !last.isFinite {
          throw ShellError(
            "autodetected range of [\(numberText(first)), \(numberText(last))] is not finite", type: "ValueError", at: ctx.rangeOf(0, "a"))
        }
      }
      if first == last {
        first -= 0.5
        last += 0.5
      }
      // The edges have the data's float type (float64 for integer data).
      let edgeType: DType = a.dtype.isFloatingPoint ? a.dtype : .float64
      edges = uniformEdges(first, last, count, computeType).cast(edgeType)
    case .list, .tuple, .array:
      edges = try NumpyOps.toArray(bins, at: binsRange)
      if edges.rank != 1 { throw ShellError("`bins` must be 1d, when an array", type: "ValueError", at: binsRange) }
      let e = edges.doubleValues
      if e.count > 1 && (1..<e.count).contains(where: { e[$0 - 1] > e[$0] }) {
        throw ShellError("`bins` must increase monotonically, when an array", type: "ValueError", at: binsRange)
      }
    case .string(let s):
      throw ShellError("ks's histogram takes a number of bins or the bin edges, not the estimator '\(s.text)'", at: binsRange)
    default:
      throw ShellError("`bins` must be an integer, a string, or an array", type: "TypeError", at: binsRange)
    }
    let e = edges.doubleValues
    let nbins = Swift.max(e.count - 1, 0)
    let w = weights?.doubleValues
    var sums = [Double](repeating: 0, count: nbins)
    if nbins > 0 {
      let lo = e[0], hi = e[nbins]
      for (k, x) in values.enumerated() where x >= lo && x <= hi {
        // The last edge with e[i] <= x, kept inside the last bin for x == hi.
        var l = 0, h = nbins
        while l < h {
          let m = (l + h + 1) / 2
          if e[m] <= x { l = m } else { h = m - 1 }
        }
        sums[Swift.min(l, nbins - 1)] += w?[k] ?? 1
      }
    }
    if density {
      let total = sums.reduce(0, +)
      let d = (0..<nbins).map { sums[$0] / (e[$0 + 1] - e[$0]) / total }
      return (NDArray(shape: [nbins], storage: .float64(d)), edges)
    }
    let countType = weights?.dtype ?? .int64
    return (NDArray(shape: [nbins], doubles: sums, dtype: countType), edges)
  }

  /// `count` equally spaced edges from `first` to `last`, computed in `dtype` as numpy's
  /// linspace computes them (start + i * step, the last edge exactly `last`).
  static func uniformEdges(_ first: Double, _ last: Double, _ count: Int, _ dtype: DType) -> NDArray {
    func edges<T: BinaryFloatingPoint>(_ lo: T, _ hi: T) -> [T] {
      let div = count - 1
      let delta = hi - lo
      let step = delta / T(div)
      var y = (0..<count).map { i in step == 0 ? T(i) / T(div) * delta : T(i) * step }
      y = y.map { $0 + lo }
      y[count - 1] = hi
      return y
    }
    switch dtype {
    case .float32: return NDArray(shape: [count], storage: .float32(edges(Float(first), Float(last))))
    case .float16: return NDArray(shape: [count], storage: .float16(edges(Float16(first), Float16(last))))
    default: return NDArray(shape: [count], storage: .float64(edges(first, last)))
    }
  }

  /// A number as numpy writes it in range messages: `nan`, `inf`, `0`, `1.5`.
  static func numberText(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if x == x.rounded() && Swift.abs(x) < 1e16 { return String(Int(x)) }
    return pythonFloatRepr(x)
  }

  /// The quantiles as fractions (`q / scale`), and the type numpy computes them in: a Python
  /// number takes a float array's type, an array keeps its own; percentile's division by 100
  /// makes integers float64. Each value is rounded to that type, as numpy computes it there.
  ///
  /// numpy computes the fractions of a Python number in float64 (and gives the result the float
  /// array's type); an array's, in the array's type.
  static func quantileFractions(_ a: NDArray, _ q: Operand, scale: Double) -> (fractions: [Double], type: DType, weak: Bool) {
    if q.weak != nil && (a.dtype.kind == .float || q.weak == .float || scale != 1) {
      return (q.array.doubleValues.map { $0 / scale }, a.dtype.kind == .float ? a.dtype : .float64, true)
    }
    var qType = q.array.dtype
    var values = q.array.doubleValues
    if scale != 1 {
      if qType.kind != .float { qType = .float64 }
      values = values.map { rounded($0 / scale, to: qType) }
    }
    return (values, qType, false)
  }

  /// `x` rounded to the precision of a float dtype (unchanged for float64).
  static func rounded(_ x: Double, to dtype: DType) -> Double {
    switch dtype {
    case .float32: return Double(Float(x))
    case .float16: return Double(Float16(x))
    default: return x
    }
  }

  /// `np.quantile` / `np.percentile` (q already as fractions of type `qType`): for each
  /// fraction, the value at virtual index `f * (n - 1)` of each sorted lane, by `method`. The
  /// result's shape is q's shape followed by the reduced shape; a lane holding NaN gives NaN.
  /// Integer quantiles (0 or 1), and the discrete methods, pick elements and keep a's dtype.
  static func quantile(
    _ a: NDArray, _ qShape: [Int], _ fractions: [Double], qType: DType, weakQ: Bool, axes: [Int]?, method: String, keepdims: Bool,
    at range: SourceRange
  ) throws(ShellError) -> NDArray {
    let L = Reductions.Layout(a.shape, axes)
    let n = L.inner.count
    if n == 0 { throw ShellError("index -1 is out of bounds for axis 0 with size 0", type: "IndexError", at: range) }
    let discrete = method == "lower" || method == "higher" || method == "nearest" || qType.kind != .float
    let resultType: DType = discrete ? a.dtype : a.dtype.kind == .float ? Promotion.promote(a.dtype, qType) : .float64
    // Each lane sorted (empty when it holds NaN), then for each fraction the chosen values.
    func pick<T: Comparable>(_ values: [T], nan: T, _ interpolate: (T, T, Double) -> T) -> [T] {
      let lanes: [[T]] = L.map(values) { p in p.contains { $0 != $0 } ? [] : p.sorted() }
      var out: [T] = []
      out.reserveCapacity(fractions.count * lanes.count)
      for f in fractions {
        // The virtual index, computed in q's type.
        let virtual = weakQ ? Double(n - 1) * f : rounded(rounded(Double(n - 1), to: qType) * f, to: qType)
        let below = Swift.min(Swift.max(Int(virtual.rounded(.down)), 0), n - 1)
        let above = Swift.min(below + 1, n - 1)
        for s in lanes {
          if s.isEmpty {
            out.append(nan)
            continue
          }
          switch method {
          case "lower": out.append(s[below])
          case "higher": out.append(s[Swift.min(Int(virtual.rounded(.up)), n - 1)])
          case "nearest": out.append(s[Swift.min(Int(virtual.rounded(.toNearestOrEven)), n - 1)])
          case "midpoint": out.append(interpolate(s[below], s[above], virtual == virtual.rounded(.down) ? 0 : 0.5))
          default: out.append(interpolate(s[below], s[above], virtual - Double(below)))
          }
        }
      }
      return out
    }
    let shape = qShape + L.shape(keepdims: keepdims)
    switch (resultType, a.storage) {
    case (.int64, .int64(let v)): return NDArray(shape: shape, storage: .int64(pick(v, nan: 0) { x, _, _ in x }))
    case (.bool, .bool(let v)): return NDArray(shape: shape, storage: .bool(pick(v.map { $0 ? 1 : 0 }, nan: 0) { x, _, _ in x }.map { $0 != 0 }))
    default:
      // Every step rounded to the type numpy computes it in (exact emulation: a double holds
      // the unrounded result of one float32 or float16 operation).
      let A: DType = a.dtype.kind == .float ? a.dtype : .float64
      let values = pick(a.doubleValues, nan: .nan) { x, y, g in
        lerp(x, y, g, data: A, weight: weakQ ? A : qType, oneMinus: weakQ ? .float64 : qType, result: resultType)
      }
      return NDArray(shape: shape, doubles: values, dtype: resultType)
    }
  }

  /// numpy's linear interpolation between neighbours `x` and `y` by `t`, from the nearer end so
  /// that t = 0 gives x and t = 1 gives y exactly: `y - x` in the data's type, `t` in the
  /// weight's type, `1 - t` in its own, products and sums in the result's.
  @inline(__always)
  static func lerp(_ x: Double, _ y: Double, _ t: Double, data: DType, weight: DType, oneMinus: DType, result: DType) -> Double {
    let d = rounded(y - x, to: data)
    if t >= 0.5 { return rounded(y - rounded(d * rounded(rounded(1 - t, to: oneMinus), to: weight), to: result), to: result) }
    return rounded(x + rounded(d * rounded(t, to: weight), to: result), to: result)
  }
}
