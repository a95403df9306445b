import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// Complex arrays: their parts (`np.real`, `np.imag`, `np.conj`, `np.angle`), type tests, and
/// the guard that keeps functions written for real arrays from dropping imaginary parts.
enum ComplexParts {
  /// The real parts (a real array is returned as it is, as numpy does).
  static func real(_ a: NDArray) -> NDArray {
    switch a.storage {
    case .complex64(let v): return NDArray(shape: a.shape, storage: .float32(v.map(\.re)))
    case .complex128(let v): return NDArray(shape: a.shape, storage: .float64(v.map(\.re)))
    default: return a
    }
  }

  /// The imaginary parts (zeros of the same dtype for a real array).
  static func imag(_ a: NDArray) -> NDArray {
    switch a.storage {
    case .complex64(let v): return NDArray(shape: a.shape, storage: .float32(v.map(\.im)))
    case .complex128(let v): return NDArray(shape: a.shape, storage: .float64(v.map(\.im)))
    default: return NDArray.zeros(a.shape, dtype: a.dtype)
    }
  }

  static func conj(_ a: NDArray) -> NDArray {
    switch a.storage {
    case .complex64(let v): return NDArray(shape: a.shape, storage: .complex64(v.map(\.conjugate)))
    case .complex128(let v): return NDArray(shape: a.shape, storage: .complex128(v.map(\.conjugate)))
    default: return a
    }
  }

  /// `np.angle`: atan2(imag, real), in float32 for complex64 and float64 otherwise.
  static func angle(_ a: NDArray, degrees: Bool) -> NDArray {
    let scale = degrees ? 180 / Double.pi : 1
    switch a.storage {
    case .complex64(let v):
      let s = Float(scale)
      return NDArray(shape: a.shape, storage: .float32(v.map { degrees ? Foundation.atan2f($0.im, $0.re) * s : Foundation.atan2f($0.im, $0.re) }))
    case .float32(let v):
      return NDArray(shape: a.shape, storage: .float32(v.map { Foundation.atan2f(0, $0) * (degrees ? Float(scale) : 1) }))
    case .float16(let v):
      return NDArray(shape: a.shape, storage: .float16(v.map { Float16(Foundation.atan2f(0, Float($0)) * (degrees ? Float(scale) : 1)) }))
    default:
      let z = a.complexValues
      return NDArray(shape: a.shape, storage: .float64(z.map { degrees ? $0.angle * scale : $0.angle }))
    }
  }

  /// The numpy functions that handle complex arrays correctly in ks; any other function given a
  /// complex array stops with an error instead of silently dropping the imaginary parts.
  static let supported: Set<String> = {
    var s: Set<String> = [
      "abs", "absolute", "exp", "log", "log10", "log2", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "square",
      "reciprocal", "negative", "positive", "sign", "isnan", "isinf", "isfinite", "logical_not",
      "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "fmax", "fmin",
      "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
      "real", "imag", "conj", "conjugate", "angle", "iscomplexobj", "isrealobj", "iscomplex", "isreal",
      "isclose", "allclose", "array_equal", "array", "asarray", "copy", "zeros_like", "ones_like", "full_like", "empty_like",
      "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims", "concatenate", "stack", "vstack",
      "hstack", "column_stack", "flip", "shape", "size", "ndim", "where", "dot", "matmul", "outer", "inner", "vdot", "save",
      "sort", "argsort", "unique", "nonzero", "count_nonzero", "flatnonzero", "tile", "repeat", "diag", "diagonal", "trace",
      "round", "around", "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d", "roll", "take", "full", "zeros", "ones", "empty",
    ]
    s.formUnion(ReductionCall.names)
    s.subtract(["ptp"])
    return s
  }()

  /// Refuses a complex array argument to a function not in `supported`.
  static func check(_ name: String, _ ctx: CallContext) throws(ShellError) {
    if supported.contains(name) { return }
    let args = ctx.positional + ctx.keywords.map(\.value)
    for (i, v) in args.enumerated() {
      if case .array(let a) = v, a.dtype.isComplex {
        throw ShellError(
          "np.\(name) does not support complex arrays in ks (got \(a.dtype.rawValue)); use .real, .imag or np.abs first",
          type: "TypeError", at: i < ctx.positional.count ? ctx.rangeOf(i) : ctx.range)
      }
      if case .complex = v {
        throw ShellError(
          "np.\(name) does not support complex numbers in ks; use .real, .imag or abs() first",
          type: "TypeError", at: i < ctx.positional.count ? ctx.rangeOf(i) : ctx.range)
      }
    }
  }
}

extension NumpyFunctions {
  static func complexFunctions() -> FunctionTable {
    var t = FunctionTable()
    let parts: [(String, String, @Sendable (NDArray) -> NDArray)] = [
      ("real", "the real parts of a (a itself when real)", ComplexParts.real),
      ("imag", "the imaginary parts of a (zeros when real)", ComplexParts.imag),
      ("conj", "the complex conjugate of a", ComplexParts.conj),
      ("conjugate", "the complex conjugate of a", ComplexParts.conj),
    ]
    for (name, what, f) in parts {
      t[name, FunctionDoc("np.\(name)(a)", what, "np.\(name)(np.array([1+2j, 3-4j]))")] = { ctx in
        let a = try ctx.array(0, name == "real" || name == "imag" ? "val" : "x")
        try ctx.finish(maxPositional: 1)
        return .array(f(a))
      }
    }
    t["angle", FunctionDoc("np.angle(z, deg=False)", "the argument of each complex number, in radians (degrees with deg=True)", "np.angle(np.array([1j, -1]))")] = { ctx in
      let a = try ctx.array(0, "z")
      let deg = try ctx.flag(1, "deg", default: false)
      try ctx.finish(maxPositional: 2)
      return .array(ComplexParts.angle(a, degrees: deg))
    }
    t["iscomplexobj", FunctionDoc("np.iscomplexobj(x)", "whether x has a complex type", "np.iscomplexobj(1j)")] = { ctx in
      let v = try ctx.required(0, "x")
      try ctx.finish(maxPositional: 1)
      if case .complex = v { return .bool(true) }
      if case .array(let a) = v { return .bool(a.dtype.isComplex) }
      if case .list = v { return .bool((try? NumpyOps.toArray(v, at: ctx.rangeOf(0)))?.dtype.isComplex ?? false) }
      if case .tuple = v { return .bool((try? NumpyOps.toArray(v, at: ctx.rangeOf(0)))?.dtype.isComplex ?? false) }
      return .bool(false)
    }
    t["isrealobj", FunctionDoc("np.isrealobj(x)", "whether x has no complex type", "np.isrealobj(x)")] = { ctx in
      let v = try ctx.required(0, "x")
      try ctx.finish(maxPositional: 1)
      if case .complex = v { return .bool(false) }
      if case .array(let a) = v { return .bool(!a.dtype.isComplex) }
      if case .list = v { return .bool(!((try? NumpyOps.toArray(v, at: ctx.rangeOf(0)))?.dtype.isComplex ?? false)) }
      if case .tuple = v { return .bool(!((try? NumpyOps.toArray(v, at: ctx.rangeOf(0)))?.dtype.isComplex ?? false)) }
      return .bool(true)
    }
    for name in ["iscomplex", "isreal"] {
      let doc = FunctionDoc(
        "np.\(name)(x)", name == "iscomplex" ? "elementwise: whether the imaginary part is nonzero" : "elementwise: whether the imaginary part is zero",
        "np.\(name)(np.array([1+1j, 2]))")
      t[name, doc] = { ctx in
        let a = try ctx.array(0, "x")
        try ctx.finish(maxPositional: 1)
        let im = a.imaginaryDoubles()
        let r = NDArray(shape: a.shape, storage: .bool(im.map { name == "iscomplex" ? $0 != 0 : $0 == 0 }))
        return .array(r)
      }
    }
    return t
  }
}
