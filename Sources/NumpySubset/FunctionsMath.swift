import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Elementwise functions: ufuncs, `where`, `clip`, `round`, `isclose`, and Python's `math`.
  static func mathFunctions() -> FunctionTable {
    var t = FunctionTable()

    func unary(_ f: UnaryMath) -> Body {
      { ctx in
        let x = try ctx.array(0, "x")
        try ctx.finish(maxPositional: 1)
        return .array(try Ufunc.unary(f, x, at: ctx.rangeOf(0)))
      }
    }
    /// What each elementwise function of one argument computes, for its help.
    let unaryWhat = [
      "sqrt": "square root", "exp": "exponential", "exp2": "2**x", "expm1": "exp(x) - 1, accurate for small x",
      "log": "natural logarithm", "log10": "base-10 logarithm", "log2": "base-2 logarithm", "log1p": "log(1 + x), accurate for small x",
      "sin": "sine", "cos": "cosine", "tan": "tangent", "arcsin": "inverse sine", "arccos": "inverse cosine",
      "arctan": "inverse tangent", "sinh": "hyperbolic sine", "cosh": "hyperbolic cosine", "tanh": "hyperbolic tangent",
      "arcsinh": "inverse hyperbolic sine", "arccosh": "inverse hyperbolic cosine", "arctanh": "inverse hyperbolic tangent",
      "cbrt": "cube root", "deg2rad": "degrees to radians", "rad2deg": "radians to degrees", "floor": "floor",
      "ceil": "ceiling", "trunc": "truncation toward zero", "rint": "rounding to the nearest integer (half to even)",
      "absolute": "absolute value", "sign": "sign (-1, 0 or 1)", "square": "square", "reciprocal": "reciprocal 1/x",
      "negative": "negation", "positive": "copy (+x)", "isnan": "test for NaN", "isinf": "test for infinity",
      "isfinite": "test for finiteness", "invert": "bitwise NOT (logical NOT for booleans)", "logical_not": "logical NOT",
      "abs": "absolute value", "fabs": "absolute value, as floats", "bitwise_not": "bitwise NOT (as np.invert)",
      "radians": "degrees to radians", "degrees": "radians to degrees", "fix": "rounding toward zero",
    ]
    func unaryDoc(_ name: String) -> FunctionDoc? {
      unaryWhat[name].map { FunctionDoc("np.\(name)(x)", "elementwise \($0)", "np.\(name)(np.array([0.5, 1.0, 2.0]))") }
    }
    for f in UnaryMath.allCases where f != .logicalNot { t[f.rawValue, unaryDoc(f.rawValue)] = unary(f) }
    t["logical_not", unaryDoc("logical_not")] = unary(.logicalNot)
    t["abs", unaryDoc("abs")] = unary(.absolute)
    t["fabs", unaryDoc("fabs")] = unary(.absolute)
    t["bitwise_not", unaryDoc("bitwise_not")] = unary(.invert)
    t["radians", unaryDoc("radians")] = unary(.deg2rad)
    t["degrees", unaryDoc("degrees")] = unary(.rad2deg)
    t["fix", unaryDoc("fix")] = unary(.trunc)

    func binary(_ op: BinaryMath) -> Body {
      { ctx in
        let x = try ctx.operand(0, "x1"), y = try ctx.operand(1, "x2")
        try ctx.finish(maxPositional: 2)
        return .array(try Ufunc.binary(op, x, y, at: ctx.range))
      }
    }
    /// What each elementwise function of two arguments computes, for its help.
    let binaryWhat = [
      "add": "sum x1 + x2", "subtract": "difference x1 - x2", "multiply": "product x1 * x2", "divide": "true quotient x1 / x2",
      "true_divide": "true quotient x1 / x2", "floor_divide": "floor quotient x1 // x2", "remainder": "remainder x1 % x2 (sign of x2)",
      "mod": "remainder x1 % x2 (as np.remainder)", "power": "power x1 ** x2", "maximum": "maximum (NaN propagates)",
      "minimum": "minimum (NaN propagates)", "fmax": "maximum (NaN ignored)", "fmin": "minimum (NaN ignored)",
      "arctan2": "arctangent of x1/x2, in the right quadrant", "hypot": "hypotenuse sqrt(x1**2 + x2**2)",
      "copysign": "magnitude of x1 with the sign of x2", "bitwise_and": "bitwise AND", "bitwise_or": "bitwise OR",
      "bitwise_xor": "bitwise XOR", "left_shift": "bits of x1 shifted left by x2", "right_shift": "bits of x1 shifted right by x2",
      "logical_and": "logical AND", "logical_or": "logical OR", "logical_xor": "logical XOR",
    ]
    func binaryDoc(_ name: String) -> FunctionDoc? {
      binaryWhat[name].map { FunctionDoc("np.\(name)(x1, x2)", "elementwise \($0), broadcasting", "np.\(name)(np.array([1, 2, 3]), 2)") }
    }
    for op: BinaryMath in [
      .add, .subtract, .multiply, .divide, .floorDivide, .remainder, .power, .maximum, .minimum, .fmax, .fmin, .arctan2,
      .hypot, .copysign, .bitwiseAnd, .bitwiseOr, .bitwiseXor, .leftShift, .rightShift, .logicalAnd, .logicalOr,
      .logicalXor,
    ] {
      t[op.rawValue, binaryDoc(op.rawValue)] = binary(op)
    }
    t["true_divide", binaryDoc("true_divide")] = binary(.divide)
    t["mod", binaryDoc("mod")] = binary(.remainder)

    func comparison(_ op: ComparisonOperator) -> Body {
      { ctx in
        let x = try ctx.operand(0, "x1"), y = try ctx.operand(1, "x2")
        try ctx.finish(maxPositional: 2)
        return .array(try Ufunc.compare(op, x, y, at: ctx.range))
      }
    }
    func comparisonDoc(_ name: String, _ op: String) -> FunctionDoc {
      FunctionDoc("np.\(name)(x1, x2)", "elementwise x1 \(op) x2, as booleans", "np.\(name)(np.array([1, 2, 3]), 2)")
    }
    t["equal", comparisonDoc("equal", "==")] = comparison(.equal)
    t["not_equal", comparisonDoc("not_equal", "!=")] = comparison(.notEqual)
    t["less", comparisonDoc("less", "<")] = comparison(.less)
    t["less_equal", comparisonDoc("less_equal", "<=")] = comparison(.lessOrEqual)
    t["greater", comparisonDoc("greater", ">")] = comparison(.greater)
    t["greater_equal", comparisonDoc("greater_equal", ">=")] = comparison(.greaterOrEqual)

    t["where", FunctionDoc("np.where(condition, x, y) / np.where(condition)", "elements of x where condition holds, else of y (one argument: the indices where it holds)", "np.where(d > 0, d, 0)")] = { ctx in
      let cond = try ctx.array(0, "condition")
      let x = try ctx.optional(1, "x"), y = try ctx.optional(2, "y")
      try ctx.finish(maxPositional: 3)
      guard let x, let y else {
        if x != nil || y != nil { throw ShellError("either both or neither of x and y should be given", at: ctx.range) }
        return .tuple(nonzero(cond).map { .array($0) })
      }
      return .array(try select(cond, try NumpyOps.operand(x, at: ctx.rangeOf(1)), try NumpyOps.operand(y, at: ctx.rangeOf(2)), at: ctx.range))
    }
    t["nonzero", FunctionDoc("np.nonzero(a)", "the indices of the non-zero elements, one array per axis", "np.nonzero([0, 3, 0, 4])")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .tuple(nonzero(a).map { .array($0) })
    }
    t["flatnonzero", FunctionDoc("np.flatnonzero(a)", "the flat indices of the non-zero elements", "np.flatnonzero([0, 3, 0, 4])")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(nonzero(a.withShape([a.count]))[0])
    }
    t["clip", FunctionDoc("np.clip(a, a_min, a_max)", "values limited to [a_min, a_max]", "np.clip(x, 0, 1)")] = { ctx in
      let a = try ctx.operand(0, "a")
      let lo = try ctx.present(1, "a_min") ?? ctx.present(nil, "min")
      let hi = try ctx.present(2, "a_max") ?? ctx.present(nil, "max")
      try ctx.finish(maxPositional: 3)
      return .array(try clip(a, lo, hi, ctx))
    }
    for name in ["round", "around"] {
      let doc = FunctionDoc("np.\(name)(a, decimals=0)", "elementwise rounding to that many decimals (half to even)", "np.\(name)(np.array([0.125, 2.5]), 2)")
      t[name, doc] = { ctx in
        let a = try ctx.array(0, "a")
        let d = try ctx.integer(1, "decimals", default: 0)
        try ctx.finish(maxPositional: 2)
        return .array(try round(a, decimals: d, at: ctx.range))
      }
    }
    t["isclose", FunctionDoc("np.isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)", "elementwise |a - b| <= atol + rtol * |b|", "np.isclose(0.1 + 0.2, 0.3)")] = { ctx in
      let (a, b, rtol, atol, equalNaN) = try closeArguments(&ctx)
      return .array(try isclose(a, b, rtol: rtol, atol: atol, equalNaN: equalNaN, at: ctx.range))
    }
    t["allclose", FunctionDoc("np.allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)", "whether every element is close (as np.isclose)", "np.allclose(K @ a, b)")] = { ctx in
      let (a, b, rtol, atol, equalNaN) = try closeArguments(&ctx)
      return .bool(!(try isclose(a, b, rtol: rtol, atol: atol, equalNaN: equalNaN, at: ctx.range)).boolValues.contains(false))
    }
    t["array_equal", FunctionDoc("np.array_equal(a1, a2)", "whether two arrays have the same shape and elements", "np.array_equal(x, y)")] = { ctx in
      let a = try ctx.array(0, "a1"), b = try ctx.array(1, "a2")
      try ctx.finish(maxPositional: 2)
      if a.shape != b.shape { return .bool(false) }
      return .bool(!(try Ufunc.compare(.equal, Operand(a), Operand(b), at: ctx.range)).boolValues.contains(false))
    }

    // Python's math module: Python numbers in and out.
    func mathUnary(_ name: String, _ what: String, _ f: @escaping @Sendable (Double) -> Double) {
      t["math." + name, FunctionDoc("math.\(name)(x)", "\(what) of a Python number, as a float", "math.\(name)(0.5)")] = { ctx in
        let x = try ctx.double(try ctx.required(0, "x"), "math.\(name)() argument", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        let r = f(x)
        if r.isNaN && !x.isNaN { throw ShellError("math domain error", at: ctx.rangeOf(0)) }
        return .float(r)
      }
    }
    mathUnary("sqrt", "square root") { $0.squareRoot() }
    mathUnary("exp", "exponential") { Foundation.exp($0) }
    mathUnary("log10", "base-10 logarithm") { Foundation.log10($0) }
    mathUnary("log2", "base-2 logarithm") { Foundation.log2($0) }
    mathUnary("sin", "sine") { Foundation.sin($0) }
    mathUnary("cos", "cosine") { Foundation.cos($0) }
    mathUnary("tan", "tangent") { Foundation.tan($0) }
    mathUnary("asin", "inverse sine") { Foundation.asin($0) }
    mathUnary("acos", "inverse cosine") { Foundation.acos($0) }
    mathUnary("atan", "inverse tangent") { Foundation.atan($0) }
    mathUnary("sinh", "hyperbolic sine") { Foundation.sinh($0) }
    mathUnary("cosh", "hyperbolic cosine") { Foundation.cosh($0) }
    mathUnary("tanh", "hyperbolic tangent") { Foundation.tanh($0) }
    mathUnary("fabs", "absolute value") { Swift.abs($0) }
    t["math.log", FunctionDoc("math.log(x, base=e)", "logarithm of a Python number", "math.log(8, 2)")] = { ctx in
      let x = try ctx.double(try ctx.required(0, "x"), "math.log() argument", at: ctx.rangeOf(0))
      let base = try ctx.optional(1, "base")
      try ctx.finish(maxPositional: 2)
      if x <= 0 { throw ShellError("math domain error", at: ctx.rangeOf(0)) }
      if let base { return .float(Foundation.log(x) / Foundation.log(try ctx.double(base, "base", at: ctx.rangeOf(1)))) }
      return .float(Foundation.log(x))
    }
    for (name, rule) in [("floor", FloatingPointRoundingRule.down), ("ceil", .up), ("trunc", .towardZero)] {
      let doc = FunctionDoc("math.\(name)(x)", "\(name) of a Python number, as an int", "math.\(name)(2.5)")
      t["math." + name, doc] = { ctx in
        let v = try ctx.required(0, "x")
        try ctx.finish(maxPositional: 1)
        if case .int = v { return v }
        let x = try ctx.double(v, "math.\(name)() argument", at: ctx.rangeOf(0))
        guard x.isFinite else { throw ShellError("cannot convert float \(pythonFloatRepr(x)) to integer", at: ctx.rangeOf(0)) }
        return .int(Int(x.rounded(rule)))
      }
    }
    for name in ["isnan", "isinf", "isfinite"] {
      let doc = FunctionDoc("math.\(name)(x)", "whether a Python number is \(name.dropFirst(2))", "math.\(name)(float(\"nan\"))")
      t["math." + name, doc] = { ctx in
        let x = try ctx.double(try ctx.required(0, "x"), "math.\(name)() argument", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        return .bool(name == "isnan" ? x.isNaN : (name == "isinf" ? x.isInfinite : x.isFinite))
      }
    }
    let pairWhat = ["pow": "x ** y", "atan2": "arctangent of x/y, in the right quadrant", "hypot": "sqrt(x*x + y*y)"]
    for name in ["pow", "atan2", "hypot"] {
      let doc = FunctionDoc("math.\(name)(x, y)", "\(pairWhat[name]!) for Python numbers, as a float", "math.\(name)(3.0, 4.0)")
      t["math." + name, doc] = { ctx in
        let x = try ctx.double(try ctx.required(0, "x"), "math.\(name)() argument", at: ctx.rangeOf(0))
        let y = try ctx.double(try ctx.required(1, "y"), "math.\(name)() argument", at: ctx.rangeOf(1))
        try ctx.finish(maxPositional: 2)
        switch name {
        case "pow": return .float(Foundation.pow(x, y))
        case "atan2": return .float(Foundation.atan2(x, y))
        default: return .float(Foundation.hypot(x, y))
        }
      }
    }
    return t
  }

  // MARK: Helpers

  static func closeArguments(_ ctx: inout CallContext) throws(ShellError) -> (NDArray, NDArray, Double, Double, Bool) {
    let a = try ctx.array(0, "a"), b = try ctx.array(1, "b")
    let rtol = try ctx.number(2, "rtol", default: 1e-5)
    let atol = try ctx.number(3, "atol", default: 1e-8)
    let equalNaN = try ctx.flag(4, "equal_nan", default: false)
    try ctx.finish(maxPositional: 5)
    return (a, b, rtol, atol, equalNaN)
  }

  /// `np.isclose`: |a - b| <= atol + rtol·|b| (with infinities equal only to themselves).
  static func isclose(_ a: NDArray, _ b: NDArray, rtol: Double, atol: Double, equalNaN: Bool, at range: SourceRange) throws(ShellError) -> NDArray {
    guard let out = broadcastShapes([a.shape, b.shape]) else { throw Ufunc.broadcastError([a.shape, b.shape], at: range) }
    try Allocation.check(out, .float64, at: range)
    if a.dtype.isComplex || b.dtype.isComplex {
      // numpy: |a - b| <= atol + rtol * |b| with complex moduli, b finite (both parts), or a == b.
      let v = broadcastMap(a.complexValues, a.shape, b.complexValues, b.shape, to: out) { x, y -> Bool in
        if x == y { return true }
        if x.isNaN || y.isNaN { return equalNaN && x.isNaN && y.isNaN }
        return (x - y).magnitude <= atol + rtol * y.magnitude && y.isFinite
      }
      return NDArray(shape: out, storage: .bool(v))
    }
    let v = broadcastMap(a.doubleValues, a.shape, b.doubleValues, b.shape, to: out) { x, y -> Bool in
      if x == y { return true }
      if x.isNaN || y.isNaN { return equalNaN && x.isNaN && y.isNaN }
      return Swift.abs(x - y) <= atol + rtol * Swift.abs(y) && y.isFinite
    }
    return NDArray(shape: out, storage: .bool(v))
  }

  /// The indices of nonzero elements, one int64 array per dimension (`np.nonzero`).
  static func nonzero(_ a: NDArray) -> [NDArray] {
    let rank = Swift.max(a.rank, 1)
    let shape = a.rank == 0 ? [1] : a.shape
    let strides = cStrides(shape)
    var coords = [[Int64]](repeating: [], count: rank)
    for (flat, b) in a.boolValues.enumerated() where b {
      var r = flat
      for d in 0..<rank {
        coords[d].append(Int64(r / strides[d]))
        r %= strides[d]
      }
    }
    return coords.map { NDArray(shape: [$0.count], storage: .int64($0)) }
  }

  /// `np.where(cond, x, y)`.
  static func select(_ cond: NDArray, _ x: Operand, _ y: Operand, at range: SourceRange) throws(ShellError) -> NDArray {
    guard let out = broadcastShapes([cond.shape, x.shape, y.shape]) else {
      throw Ufunc.broadcastError([cond.shape, x.shape, y.shape], at: range)
    }
    try Allocation.check(out, .float64, at: range)
    let t = Promotion.result([x, y])
    let c = cond.boolValues
    let co = broadcastOffsets(cond.shape, to: out)
    let xo = broadcastOffsets(x.shape, to: out), yo = broadcastOffsets(y.shape, to: out)
    let xa = x.array.cast(t), ya = y.array.cast(t)
    func pick<T>(_ xv: [T], _ yv: [T]) -> [T] {
      (0..<co.count).map { i in c[co[i]] ? xv[xo[i]] : yv[yo[i]] }
    }
    switch (xa.storage, ya.storage) {
    case (.float64(let p), .float64(let q)): return NDArray(shape: out, storage: .float64(pick(p, q)))
    case (.float32(let p), .float32(let q)): return NDArray(shape: out, storage: .float32(pick(p, q)))
    case (.float16(let p), .float16(let q)): return NDArray(shape: out, storage: .float16(pick(p, q)))
    case (.int64(let p), .int64(let q)): return NDArray(shape: out, storage: .int64(pick(p, q)))
    case (.bool(let p), .bool(let q)): return NDArray(shape: out, storage: .bool(pick(p, q)))
    case (.complex64(let p), .complex64(let q)): return NDArray(shape: out, storage: .complex64(pick(p, q)))
    case (.complex128(let p), .complex128(let q)): return NDArray(shape: out, storage: .complex128(pick(p, q)))
    default: throw ShellError("internal error: where dtypes", at: range)
    }
  }

  /// `np.clip(a, lo, hi)` (either bound may be None).
  static func clip(_ a: Operand, _ lo: Value?, _ hi: Value?, _ ctx: CallContext) throws(ShellError) -> NDArray {
    if lo == nil && hi == nil { throw ShellError("One of max or min must be given", at: ctx.range) }
    var r = a
    if let lo { r = Operand(try Ufunc.binary(.maximum, r, try NumpyOps.operand(lo, at: ctx.rangeOf(1)), at: ctx.range)) }
    if let hi { r = Operand(try Ufunc.binary(.minimum, r, try NumpyOps.operand(hi, at: ctx.rangeOf(2)), at: ctx.range)) }
    return r.array
  }

  /// `np.round(a, decimals)`: numpy multiplies by 10**decimals in the array's type, rounds half
  /// to even, and divides back.
  static func round(_ a: NDArray, decimals: Int, at range: SourceRange) throws(ShellError) -> NDArray {
    if a.dtype.isComplex {
      // numpy rounds the real and imaginary parts separately.
      let re = try round(ComplexParts.real(a), decimals: decimals, at: range)
      let im = try round(ComplexParts.imag(a), decimals: decimals, at: range)
      return NDArray(shape: a.shape, complex: zip(re.doubleValues, im.doubleValues).map { Complex128($0, $1) }, dtype: a.dtype)
    }
    if a.dtype.kind != .float {
      if decimals >= 0 { return a.dtype == .bool ? a.cast(.int64) : a }
      let f = Operand(.scalar(int: Int64(Foundation.pow(10.0, Double(-decimals)))), weak: .int)
      let q = try Ufunc.binary(.divide, Operand(a), f, at: range)
      return try Ufunc.binary(.multiply, Operand(try Ufunc.unary(.rint, q, at: range)), f, at: range).cast(.int64)
    }
    if decimals == 0 { return try Ufunc.unary(.rint, a, at: range) }
    let f = Operand(.scalar(Foundation.pow(10.0, Double(Swift.abs(decimals)))), weak: .float)
    if decimals > 0 {
      let y = try Ufunc.binary(.multiply, Operand(a), f, at: range)
      return try Ufunc.binary(.divide, Operand(try Ufunc.unary(.rint, y, at: range)), f, at: range)
    }
    let y = try Ufunc.binary(.divide, Operand(a), f, at: range)
    return try Ufunc.binary(.multiply, Operand(try Ufunc.unary(.rint, y, at: range)), f, at: range)
  }
}
