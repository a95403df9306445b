import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// The reductions shared by `np.X(a, ...)` and `a.X(...)`.
enum ReductionCall {
  /// Runs reduction `name` on `a`; the remaining arguments start at positional `first`.
  static func run(_ name: String, _ a: NDArray, _ ctx: inout CallContext, first: Int) throws -> Value {
    let r = ctx.range
    switch name {
    case "sum", "prod", "mean":
      let axes = try ctx.axes(first, rank: a.rank)
      let dtype = try ctx.dtype(first + 1)
      _ = try ctx.present(first + 2, "out")
      let keepdims = try ctx.flag(first + 3, "keepdims", default: false)
      try ctx.finish(maxPositional: first + 4)
      var x = a
      if let dtype, name != "mean" { x = x.cast(dtype) }
      switch name {
      case "sum": return .array(Reductions.sum(x, axes: axes, keepdims: keepdims))
      case "prod": return .array(Reductions.prod(x, axes: axes, keepdims: keepdims))
      default:
        let m = Reductions.mean(dtype == .float64 && x.dtype == .float32 ? x.cast(.float64) : x, axes: axes, keepdims: keepdims, at: r)
        return .array(dtype.map { m.cast($0) } ?? m)
      }
    case "std", "var":
      let axes = try ctx.axes(first, rank: a.rank)
      let dtype = try ctx.dtype(first + 1)
      _ = try ctx.present(first + 2, "out")
      let ddof = try ctx.integer(first + 3, "ddof", default: 0)
      let keepdims = try ctx.flag(first + 4, "keepdims", default: false)
      try ctx.finish(maxPositional: first + 5)
      let x = dtype == .float64 ? a.cast(.float64) : a
      if x.dtype.isComplex {
        // numpy: the mean of |z - mean(z)|**2, a real result.
        let m = Reductions.mean(x, axes: axes, keepdims: true, at: r)
        let dev = try Ufunc.binary(.subtract, Operand(x), Operand(m), at: r)
        let re = ComplexParts.real(dev), im = ComplexParts.imag(dev)
        let sq = try Ufunc.binary(.add, Operand(try Ufunc.unary(.square, re, at: r)), Operand(try Ufunc.unary(.square, im, at: r)), at: r)
        let n = sq.count / Swift.max(Reductions.sum(sq, axes: axes, keepdims: keepdims).count, 1)
        let s = Reductions.sum(sq, axes: axes, keepdims: keepdims)
        let v = try Ufunc.binary(.divide, Operand(s), Operand(.scalar(int: Int64(Swift.max(n - ddof, 0))), weak: .int), at: r)
        return .array(name == "std" ? try Ufunc.unary(.sqrt, v, at: r) : v)
      }
      let v = Reductions.variance(x, axes: axes, keepdims: keepdims, ddof: ddof)
      return .array(name == "std" ? try Ufunc.unary(.sqrt, v, at: r) : v)
    case "max", "min", "amax", "amin":
      let axes = try ctx.axes(first, rank: a.rank)
      _ = try ctx.present(first + 1, "out")
      let keepdims = try ctx.flag(first + 2, "keepdims", default: false)
      try ctx.finish(maxPositional: first + 3)
      return .array(try Reductions.extreme(a, axes: axes, keepdims: keepdims, max: name.hasSuffix("max"), at: r))
    case "argmax", "argmin":
      let axis = try ctx.singleAxis(first, rank: a.rank)
      _ = try ctx.present(first + 1, "out")
      let keepdims = try ctx.flag(nil, "keepdims", default: false)
      try ctx.finish(maxPositional: first + 2)
      return .array(try Reductions.argExtreme(a, axis: axis, keepdims: keepdims, max: name == "argmax", at: r))
    case "any", "all":
      let axes = try ctx.axes(first, rank: a.rank)
      _ = try ctx.present(first + 1, "out")
      let keepdims = try ctx.flag(first + 2, "keepdims", default: false)
      try ctx.finish(maxPositional: first + 3)
      return .array(Reductions.anyAll(a, axes: axes, keepdims: keepdims, all: name == "all"))
    case "cumsum", "cumprod":
      let axis = try ctx.singleAxis(first, rank: a.rank)
      let dtype = try ctx.dtype(first + 1)
      try ctx.finish(maxPositional: first + 2)
      let x = dtype.map { a.cast($0) } ?? a
      return .array(Reductions.cumulative(x, axis: axis, product: name == "cumprod"))
    case "ptp":
      let axes = try ctx.axes(first, rank: a.rank)
      let keepdims = try ctx.flag(nil, "keepdims", default: false)
      try ctx.finish(maxPositional: first + 1)
      let hi = try Reductions.extreme(a, axes: axes, keepdims: keepdims, max: true, at: r)
      let lo = try Reductions.extreme(a, axes: axes, keepdims: keepdims, max: false, at: r)
      return .array(try Ufunc.binary(.subtract, Operand(hi), Operand(lo), at: r))
    default:
      throw ShellError("no reduction '\(name)'", at: r)
    }
  }

  static let names: Set<String> = [
    "sum", "prod", "mean", "std", "var", "max", "min", "amax", "amin", "argmax", "argmin", "any", "all", "cumsum", "cumprod", "ptp",
  ]
}

extension NumpyFunctions {
  static func reductionFunctions() -> FunctionTable {
    var t = FunctionTable()
    let what = [
      "sum": "sum", "prod": "product", "mean": "arithmetic mean", "std": "standard deviation (ddof=0)", "var": "variance (ddof=0)",
      "max": "largest element", "min": "smallest element", "amax": "largest element (as np.max)", "amin": "smallest element (as np.min)",
      "argmax": "index of the largest element", "argmin": "index of the smallest element", "any": "whether some element is true",
      "all": "whether every element is true", "cumsum": "cumulative sum", "cumprod": "cumulative product",
      "ptp": "range of values (max - min)",
    ]
    for name in ReductionCall.names {
      let cumulative = ["cumsum", "cumprod", "argmax", "argmin"].contains(name)
      let doc = what[name].map {
        FunctionDoc(
          "np.\(name)(a, axis=None\(cumulative ? "" : ", keepdims=False"))", "\($0) of the elements (along an axis)",
          "np.\(name)(np.array([[1, 2], [3, 4]]), axis=0)")
      }
      t[name, doc] = { ctx in
        let a = try ctx.array(0, "a")
        return try ReductionCall.run(name, a, &ctx, first: 1)
      }
    }
    t["count_nonzero", FunctionDoc("np.count_nonzero(a, axis=None, keepdims=False)", "number of non-zero elements", "np.count_nonzero(x > 0)")] = { ctx in
      let a = try ctx.array(0, "a")
      let axes = try ctx.axes(1, rank: a.rank)
      let keepdims = try ctx.flag(nil, "keepdims", default: false)
      try ctx.finish(maxPositional: 2)
      let r = Reductions.countNonzero(a, axes: axes, keepdims: keepdims)
      return .array(r)
    }
    t["median", FunctionDoc("np.median(a, axis=None, keepdims=False)", "the median", "np.median(x, axis=0)")] = { ctx in
      let a = try ctx.array(0, "a")
      let axes = try ctx.axes(1, rank: a.rank)
      let keepdims = try ctx.flag(nil, "keepdims", default: false)
      try ctx.finish(maxPositional: 2)
      return .array(try median(a, axes: axes, keepdims: keepdims, at: ctx.range))
    }
    t["average", FunctionDoc("np.average(a, axis=None, weights=None)", "the (weighted) average", "np.average([1, 2, 3], weights=[3, 1, 0])")] = { ctx in
      let a = try ctx.array(0, "a")
      let axes = try ctx.axes(1, rank: a.rank)
      let weights = try ctx.present(2, "weights")
      try ctx.finish(maxPositional: 3)
      guard let weights else { return .array(Reductions.mean(a, axes: axes, keepdims: false, at: ctx.range)) }
      let w = try NumpyOps.toArray(weights, at: ctx.rangeOf(2, "weights"))
      let wa = try Ufunc.binary(.multiply, Operand(a), Operand(w), at: ctx.range)
      return .array(
        try Ufunc.binary(
          .divide, Operand(Reductions.sum(wa, axes: axes, keepdims: false)),
          Operand(Reductions.sum(w.broadcast(to: wa.shape), axes: axes, keepdims: false)), at: ctx.range))
    }
    return t
  }

  /// `np.median`: the middle value, or the mean of the two middle values, of the sorted lanes.
  static func median(_ a: NDArray, axes: [Int]?, keepdims: Bool, at range: SourceRange) throws(ShellError) -> NDArray {
    let L = Reductions.Layout(a.shape, axes)
    if L.count == 0 { throw ShellError("median of an empty array", at: range) }
    let t: DType = a.dtype.kind == .float ? a.dtype : .float64
    let values = a.cast(t == .float16 ? .float32 : t)
    func mid<T: FloatingPoint>(_ v: [T]) -> [T] {
      L.map(v) { p in
        if p.contains(where: { $0.isNaN }) { return T.nan }
        let s = p.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
      }
    }
    let shape = L.shape(keepdims: keepdims)
    switch values.storage {
    case .float32(let v): return NDArray(shape: shape, storage: .float32(mid(v))).cast(t)
    default: return NDArray(shape: shape, storage: .float64(mid(values.doubleValues)))
    }
  }
}
