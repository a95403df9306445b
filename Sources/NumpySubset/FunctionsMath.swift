import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Elementwise functions: ufuncs, `where`, `clip`, `round`, `isclose`, and Python's `math`.
  static func mathFunctions() -> [String: Body] {
    var t: [String: Body] = [:]

    func unary(_ f: UnaryMath) -> Body {
      { ctx in
        let x = try ctx.array(0, "x")
        try ctx.finish(maxPositional: 1)
        return .array(try Ufunc.unary(f, x, at: ctx.rangeOf(0)))
      }
    }
    for f in UnaryMath.allCases where f != .logicalNot { t[f.rawValue] = unary(f) }
    t["logical_not"] = unary(.logicalNot)
    t["abs"] = unary(.absolute)
    t["fabs"] = unary(.absolute)
    t["bitwise_not"] = unary(.invert)
    t["radians"] = unary(.deg2rad)
    t["degrees"] = unary(.rad2deg)
    t["fix"] = unary(.trunc)

    func binary(_ op: BinaryMath) -> Body {
      { ctx in
        let x = try ctx.operand(0, "x1"), y = try ctx.operand(1, "x2")
        try ctx.finish(maxPositional: 2)
        return .array(try Ufunc.binary(op, x, y, at: ctx.range))
      }
    }
    for op: BinaryMath in [
      .add, .subtract, .multiply, .divide, .floorDivide, .remainder, .power, .maximum, .minimum, .fmax, .fmin, .arctan2,
      .hypot, .copysign, .bitwiseAnd, .bitwiseOr, .bitwiseXor, .leftShift, .rightShift, .logicalAnd, .logicalOr,
      .logicalXor,
    ] {
      t[op.rawValue] = binary(op)
    }
    t["true_divide"] = binary(.divide)
    t["mod"] = binary(.remainder)

    func comparison(_ op: ComparisonOperator) -> Body {
      { ctx in
        let x = try ctx.operand(0, "x1"), y = try ctx.operand(1, "x2")
        try ctx.finish(maxPositional: 2)
        return .array(try Ufunc.compare(op, x, y, at: ctx.range))
      }
    }
    t["equal"] = comparison(.equal)
    t["not_equal"] = comparison(.notEqual)
    t["less"] = comparison(.less)
    t["less_equal"] = comparison(.lessOrEqual)
    t["greater"] = comparison(.greater)
    t["greater_equal"] = comparison(.greaterOrEqual)

    t["where"] = { ctx in
      let cond = try ctx.array(0, "condition")
      let x = try ctx.optional(1, "x"), y = try ctx.optional(2, "y")
      try ctx.finish(maxPositional: 3)
      guard let x, let y else {
        if x != nil || y != nil { throw ShellError("either both or neither of x and y should be given", at: ctx.range) }
        return .tuple(nonzero(cond).map { .array($0) })
      }
      return .array(try select(cond, try NumpyOps.operand(x, at: ctx.rangeOf(1)), try NumpyOps.operand(y, at: ctx.rangeOf(2)), at: ctx.range))
    }
    t["nonzero"] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .tuple(nonzero(a).map { .array($0) })
    }
    t["flatnonzero"] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(nonzero(a.withShape([a.count]))[0])
    }
    t["clip"] = { ctx in
      let a = try ctx.operand(0, "a")
      let lo = try ctx.present(1, "a_min") ?? ctx.present(nil, "min")
      let hi = try ctx.present(2, "a_max") ?? ctx.present(nil, "max")
      try ctx.finish(maxPositional: 3)
      return .array(try clip(a, lo, hi, ctx))
    }
    for name in ["round", "around"] {
      t[name] = { ctx in
        let a = try ctx.array(0, "a")
        let d = try ctx.integer(1, "decimals", default: 0)
        try ctx.finish(maxPositional: 2)
        return .array(try round(a, decimals: d, at: ctx.range))
      }
    }
    t["isclose"] = { ctx in
      let (a, b, rtol, atol, equalNaN) = try closeArguments(&ctx)
      return .array(try isclose(a, b, rtol: rtol, atol: atol, equalNaN: equalNaN, at: ctx.range))
    }
    t["allclose"] = { ctx in
      let (a, b, rtol, atol, equalNaN) = try closeArguments(&ctx)
      return .bool(!(try isclose(a, b, rtol: rtol, atol: atol, equalNaN: equalNaN, at: ctx.range)).boolValues.contains(false))
    }
    t["array_equal"] = { ctx in
      let a = try ctx.array(0, "a1"), b = try ctx.array(1, "a2")
      try ctx.finish(maxPositional: 2)
      if a.shape != b.shape { return .bool(false) }
      return .bool(!(try Ufunc.compare(.equal, Operand(a), Operand(b), at: ctx.range)).boolValues.contains(false))
    }

    // Python's math module: Python numbers in and out.
    func mathUnary(_ name: String, _ f: @escaping @Sendable (Double) -> Double) {
      t["math." + name] = { ctx in
        let x = try ctx.double(try ctx.required(0, "x"), "math.\(name)() argument", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        let r = f(x)
        if r.isNaN && !x.isNaN { throw ShellError("math domain error", at: ctx.rangeOf(0)) }
        return .float(r)
      }
    }
    mathUnary("sqrt") { $0.squareRoot() }
    mathUnary("exp") { Foundation.exp($0) }
    mathUnary("log10") { Foundation.log10($0) }
    mathUnary("log2") { Foundation.log2($0) }
    mathUnary("sin") { Foundation.sin($0) }
    mathUnary("cos") { Foundation.cos($0) }
    mathUnary("tan") { Foundation.tan($0) }
    mathUnary("asin") { Foundation.asin($0) }
    mathUnary("acos") { Foundation.acos($0) }
    mathUnary("atan") { Foundation.atan($0) }
    mathUnary("sinh") { Foundation.sinh($0) }
    mathUnary("cosh") { Foundation.cosh($0) }
    mathUnary("tanh") { Foundation.tanh($0) }
    mathUnary("fabs") { Swift.abs($0) }
    t["math.log"] = { ctx in
      let x = try ctx.double(try ctx.required(0, "x"), "math.log() argument", at: ctx.rangeOf(0))
      let base = try ctx.optional(1, "base")
      try ctx.finish(maxPositional: 2)
      if x <= 0 { throw ShellError("math domain error", at: ctx.rangeOf(0)) }
      if let base { return .float(Foundation.log(x) / Foundation.log(try ctx.double(base, "base", at: ctx.rangeOf(1)))) }
      return .float(Foundation.log(x))
    }
    for (name, rule) in [("floor", FloatingPointRoundingRule.down), ("ceil", .up), ("trunc", .towardZero)] {
      t["math." + name] = { ctx in
        let v = try ctx.required(0, "x")
        try ctx.finish(maxPositional: 1)
        if case .int = v { return v }
        let x = try ctx.double(v, "math.\(name)() argument", at: ctx.rangeOf(0))
        guard x.isFinite else { throw ShellError("cannot convert float \(pythonFloatRepr(x)) to integer", at: ctx.rangeOf(0)) }
        return .int(Int(x.rounded(rule)))
      }
    }
    for name in ["isnan", "isinf", "isfinite"] {
      t["math." + name] = { ctx in
        let x = try ctx.double(try ctx.required(0, "x"), "math.\(name)() argument", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        return .bool(name == "isnan" ? x.isNaN : (name == "isinf" ? x.isInfinite : x.isFinite))
      }
    }
    for name in ["pow", "atan2", "hypot"] {
      t["math." + name] = { ctx in
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
