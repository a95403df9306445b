import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// Elementwise functions of one argument (numpy's unary ufuncs).
enum UnaryMath: String, CaseIterable {
  case sqrt, exp, exp2, expm1, log, log10, log2, log1p
  case sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh, arcsinh, arccosh, arctanh
  case cbrt, deg2rad, rad2deg
  case floor, ceil, trunc, rint
  case absolute, sign, square, reciprocal, negative, positive
  case isnan, isinf, isfinite, logicalNot, invert

  /// Functions whose result is always floating point (integers become float64, bool float16).
  var alwaysFloat: Bool {
    switch self {
    case .floor, .ceil, .trunc, .rint, .absolute, .sign, .square, .reciprocal, .negative, .positive,
      .isnan, .isinf, .isfinite, .logicalNot, .invert:
      return false
    default: return true
    }
  }

  /// numpy's name (for error messages).
  var ufuncName: String {
    switch self {
    case .logicalNot: return "logical_not"
    default: return rawValue
    }
  }
}

/// Elementwise functions of two arguments (numpy's binary ufuncs).
enum BinaryMath: String {
  case add, subtract, multiply, divide, floorDivide = "floor_divide", remainder, power
  case maximum, minimum, fmax, fmin, arctan2, hypot, copysign
  case bitwiseAnd = "bitwise_and", bitwiseOr = "bitwise_or", bitwiseXor = "bitwise_xor"
  case leftShift = "left_shift", rightShift = "right_shift"
  case logicalAnd = "logical_and", logicalOr = "logical_or", logicalXor = "logical_xor"

  init?(_ op: BinaryOperator) {
    switch op {
    case .add: self = .add
    case .subtract: self = .subtract
    case .multiply: self = .multiply
    case .divide: self = .divide
    case .floorDivide: self = .floorDivide
    case .modulo: self = .remainder
    case .power: self = .power
    case .bitwiseAnd: self = .bitwiseAnd
    case .bitwiseOr: self = .bitwiseOr
    case .bitwiseXor: self = .bitwiseXor
    case .leftShift: self = .leftShift
    case .rightShift: self = .rightShift
    case .matrixMultiply: return nil
    }
  }
}

/// The floating-point types ks computes in, with their C math functions (float32 uses the `f`
/// functions, as numpy does).
protocol NumpyFloat: BinaryFloatingPoint where Self.RawSignificand: FixedWidthInteger {
  static func unaryFunction(_ f: UnaryMath) -> (Self) -> Self
  static func pow(_ a: Self, _ b: Self) -> Self
  static func fmod(_ a: Self, _ b: Self) -> Self
  static func atan2(_ a: Self, _ b: Self) -> Self
  static func hypot(_ a: Self, _ b: Self) -> Self
}

extension Double: NumpyFloat {
  static func unaryFunction(_ f: UnaryMath) -> (Double) -> Double {
    switch f {
    case .sqrt: return { $0.squareRoot() }
    case .exp: return { Foundation.exp($0) }
    case .exp2: return { Foundation.exp2($0) }
    case .expm1: return { Foundation.expm1($0) }
    case .log: return { Foundation.log($0) }
    case .log10: return { Foundation.log10($0) }
    case .log2: return { Foundation.log2($0) }
    case .log1p: return { Foundation.log1p($0) }
    case .sin: return { Foundation.sin($0) }
    case .cos: return { Foundation.cos($0) }
    case .tan: return { Foundation.tan($0) }
    case .arcsin: return { Foundation.asin($0) }
    case .arccos: return { Foundation.acos($0) }
    case .arctan: return { Foundation.atan($0) }
    case .sinh: return { Foundation.sinh($0) }
    case .cosh: return { Foundation.cosh($0) }
    case .tanh: return { Foundation.tanh($0) }
    case .arcsinh: return { Foundation.asinh($0) }
    case .arccosh: return { Foundation.acosh($0) }
    case .arctanh: return { Foundation.atanh($0) }
    case .cbrt: return { Foundation.cbrt($0) }
    default: return genericFunction(f)
    }
  }
  static func pow(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
  static func fmod(_ a: Double, _ b: Double) -> Double { Foundation.fmod(a, b) }
  static func atan2(_ a: Double, _ b: Double) -> Double { Foundation.atan2(a, b) }
  static func hypot(_ a: Double, _ b: Double) -> Double { Foundation.hypot(a, b) }
}

extension Float: NumpyFloat {
  static func unaryFunction(_ f: UnaryMath) -> (Float) -> Float {
    switch f {
    case .sqrt: return { $0.squareRoot() }
    case .exp: return { expf($0) }
    case .exp2: return { exp2f($0) }
    case .expm1: return { expm1f($0) }
    case .log: return { logf($0) }
    case .log10: return { log10f($0) }
    case .log2: return { log2f($0) }
    case .log1p: return { log1pf($0) }
    case .sin: return { sinf($0) }
    case .cos: return { cosf($0) }
    case .tan: return { tanf($0) }
    case .arcsin: return { asinf($0) }
    case .arccos: return { acosf($0) }
    case .arctan: return { atanf($0) }
    case .sinh: return { sinhf($0) }
    case .cosh: return { coshf($0) }
    case .tanh: return { tanhf($0) }
    case .arcsinh: return { asinhf($0) }
    case .arccosh: return { acoshf($0) }
    case .arctanh: return { atanhf($0) }
    case .cbrt: return { cbrtf($0) }
    default: return genericFunction(f)
    }
  }
  static func pow(_ a: Float, _ b: Float) -> Float { powf(a, b) }
  static func fmod(_ a: Float, _ b: Float) -> Float { fmodf(a, b) }
  static func atan2(_ a: Float, _ b: Float) -> Float { atan2f(a, b) }
  static func hypot(_ a: Float, _ b: Float) -> Float { hypotf(a, b) }
}

extension NumpyFloat {
  /// The functions that need no C library.
  static func genericFunction(_ f: UnaryMath) -> (Self) -> Self {
    switch f {
    case .floor: return { $0.rounded(.down) }
    case .ceil: return { $0.rounded(.up) }
    case .trunc: return { $0.rounded(.towardZero) }
    case .rint: return { $0.rounded(.toNearestOrEven) }
    case .absolute: return { Swift.abs($0) }
    case .sign: return { $0.isNaN ? $0 : ($0 > 0 ? 1 : ($0 < 0 ? -1 : 0)) }
    case .square: return { $0 * $0 }
    case .reciprocal: return { 1 / $0 }
    case .negative: return { -$0 }
    case .positive: return { $0 }
    case .deg2rad: return { $0 * (Self.pi / 180) }
    case .rad2deg: return { $0 * (180 / Self.pi) }
    default: return { $0 }
    }
  }

  /// numpy's `npy_divmod`: Python's floor division and remainder for floats.
  static func divmod(_ a: Self, _ b: Self) -> (Self, Self) {
    var mod = fmod(a, b)
    if b == 0 { return (a / b, mod) }
    var div = (a - mod) / b
    if mod != 0 {
      if (b < 0) != (mod < 0) {
        mod += b
        div -= 1
      }
    } else {
      mod = Self(signOf: b, magnitudeOf: 0)
    }
    var floordiv: Self
    if div != 0 {
      floordiv = div.rounded(.down)
      if div - floordiv > 0.5 { floordiv += 1 }
    } else {
      floordiv = Self(signOf: a / b, magnitudeOf: 0)
    }
    return (floordiv, mod)
  }

  static func floorDivide(_ a: Self, _ b: Self) -> Self { b == 0 ? a / b : divmod(a, b).0 }
  static func remainder(_ a: Self, _ b: Self) -> Self { b == 0 ? fmod(a, b) : divmod(a, b).1 }

  static func binaryFunction(_ op: BinaryMath) -> ((Self, Self) -> Self)? {
    switch op {
    case .add: return { $0 + $1 }
    case .subtract: return { $0 - $1 }
    case .multiply: return { $0 * $1 }
    case .divide: return { $0 / $1 }
    case .floorDivide: return { floorDivide($0, $1) }
    case .remainder: return { remainder($0, $1) }
    case .power: return { pow($0, $1) }
    case .maximum: return { ($0 >= $1 || $0.isNaN) ? $0 : $1 }
    case .minimum: return { ($0 <= $1 || $0.isNaN) ? $0 : $1 }
    case .fmax: return { ($0 >= $1 || $1.isNaN) ? $0 : $1 }
    case .fmin: return { ($0 <= $1 || $1.isNaN) ? $0 : $1 }
    case .arctan2: return { atan2($0, $1) }
    case .hypot: return { hypot($0, $1) }
    case .copysign: return { Self(signOf: $1, magnitudeOf: $0) }
    default: return nil
    }
  }
}

/// numpy's integer kernels (wrapping arithmetic; division by zero gives 0, as numpy does with a
/// warning).
enum IntKernels {
  static func power(_ base: Int64, _ exp: Int64) -> Int64 {
    var e = exp, b = base
    if e == 0 || b == 1 { return 1 }
    var out: Int64 = (e & 1) != 0 ? b : 1
    e >>= 1
    while e > 0 {
      b = b &* b
      if (e & 1) != 0 { out = out &* b }
      e >>= 1
    }
    return out
  }

  static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    if b == 0 { return 0 }
    if b == -1 { return 0 &- a }
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  static func remainder(_ a: Int64, _ b: Int64) -> Int64 {
    if b == 0 || b == -1 { return 0 }
    let r = a % b
    return (r != 0 && (r < 0) != (b < 0)) ? r + b : r
  }

  static func function(_ op: BinaryMath) -> ((Int64, Int64) -> Int64)? {
    switch op {
    case .add: return { $0 &+ $1 }
    case .subtract: return { $0 &- $1 }
    case .multiply: return { $0 &* $1 }
    case .floorDivide: return { floorDivide($0, $1) }
    case .remainder: return { remainder($0, $1) }
    case .power: return { power($0, $1) }
    case .maximum, .fmax: return { Swift.max($0, $1) }
    case .minimum, .fmin: return { Swift.min($0, $1) }
    case .bitwiseAnd: return { $0 & $1 }
    case .bitwiseOr: return { $0 | $1 }
    case .bitwiseXor: return { $0 ^ $1 }
    case .leftShift: return { ($1 < 0 || $1 >= 64) ? 0 : $0 << $1 }
    case .rightShift: return { ($1 < 0 || $1 >= 64) ? ($0 < 0 ? -1 : 0) : $0 >> $1 }
    default: return nil
    }
  }
}

/// numpy's ufunc machinery for ks arrays: type resolution, broadcasting, typed kernels.
enum Ufunc {
  static func broadcastError(_ shapes: [[Int]], at range: SourceRange) -> ShellError {
    ShellError(
      "operands could not be broadcast together with shapes " + shapes.map(compactShape).joined(separator: " "), at: range)
  }

  static func notSupported(_ name: String, at range: SourceRange) -> ShellError {
    ShellError(
      "ufunc '\(name)' not supported for the input types, and the inputs could not be safely coerced to any supported types according to the casting rule ''safe''",
      at: range)
  }

  /// A binary ufunc applied to two operands.
  static func binary(_ op: BinaryMath, _ x: Operand, _ y: Operand, at range: SourceRange) throws(ShellError) -> NDArray {
    guard let out = broadcastShapes([x.shape, y.shape]) else { throw broadcastError([x.shape, y.shape], at: range) }
    try Allocation.check(out, .float64, at: range)
    let t = Promotion.result([x, y])
    if t.kind == .complex && op != .logicalAnd && op != .logicalOr && op != .logicalXor {
      return try complexBinary(op, x.array, y.array, out, t, at: range)
    }

    switch op {
    case .logicalAnd, .logicalOr, .logicalXor:
      let f: (Bool, Bool) -> Bool = op == .logicalAnd ? { $0 && $1 } : (op == .logicalOr ? { $0 || $1 } : { $0 != $1 })
      return NDArray(shape: out, storage: .bool(broadcastMap(x.array.boolValues, x.shape, y.array.boolValues, y.shape, to: out, f)))
    case .bitwiseAnd, .bitwiseOr, .bitwiseXor, .leftShift, .rightShift:
      if t.kind == .float { throw notSupported(op.rawValue, at: range) }
      if t == .bool && (op == .bitwiseAnd || op == .bitwiseOr || op == .bitwiseXor) {
        return boolBinary(op, x.array, y.array, out)
      }
      return try typed(op, x.array, y.array, out, .int64, at: range)
    case .add, .multiply, .maximum, .minimum, .fmax, .fmin:
      if t == .bool { return boolBinary(op, x.array, y.array, out) }
      return try typed(op, x.array, y.array, out, t, at: range)
    case .subtract:
      if t == .bool {
        throw ShellError(
          "numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` operator, or the logical_xor function instead.",
          at: range)
      }
      return try typed(op, x.array, y.array, out, t, at: range)
    case .divide, .arctan2, .hypot, .copysign:
      let f: DType = t.kind == .float ? t : (t == .bool && op != .divide ? .float16 : .float64)
      return try typed(op, x.array, y.array, out, f, at: range)
    case .floorDivide, .remainder:
      return try typed(op, x.array, y.array, out, t == .bool ? .int64 : t, at: range)
    case .power:
      // numpy's fast paths for `float_array ** 2`, `** -1`, `** 0.5` (square, reciprocal, sqrt).
      if x.weak == nil, x.array.dtype.kind == .float, y.weak != nil, y.weak != .bool, y.array.count == 1 {
        let e = y.array.doubleValues[0]
        if y.weak == .int && e == 2 { return try unary(.square, x.array, at: range) }
        if y.weak == .int && e == -1 { return try unary(.reciprocal, x.array, at: range) }
        if y.weak == .float && e == 0.5 { return try unary(.sqrt, x.array, at: range) }
      }
      let pt: DType = t == .bool ? .int64 : t
      if pt == .int64 && y.array.int64Values.contains(where: { $0 < 0 }) {
        throw ShellError("Integers to negative integer powers are not allowed.", at: range)
      }
      return try typed(op, x.array, y.array, out, pt, at: range)
    }
  }

  static func boolBinary(_ op: BinaryMath, _ a: NDArray, _ b: NDArray, _ out: [Int]) -> NDArray {
    let f: (Bool, Bool) -> Bool
    switch op {
    case .add, .maximum, .fmax, .bitwiseOr: f = { $0 || $1 }
    case .multiply, .minimum, .fmin, .bitwiseAnd: f = { $0 && $1 }
    default: f = { $0 != $1 }
    }
    return NDArray(shape: out, storage: .bool(broadcastMap(a.boolValues, a.shape, b.boolValues, b.shape, to: out, f)))
  }

  /// Casts both arrays to `dtype` and applies the kernel of `op` for that type.
  static func typed(_ op: BinaryMath, _ a: NDArray, _ b: NDArray, _ out: [Int], _ dtype: DType, at range: SourceRange) throws(ShellError) -> NDArray {
    switch dtype {
    case .complex64, .complex128:
      return try complexBinary(op, a, b, out, dtype, at: range)
    case .float64:
      guard let f = Double.binaryFunction(op) else { throw notSupported(op.rawValue, at: range) }
      return NDArray(shape: out, storage: .float64(broadcastMap(a.doubleValues, a.shape, b.doubleValues, b.shape, to: out, f)))
    case .float32, .float16:
      guard let f = Float.binaryFunction(op) else { throw notSupported(op.rawValue, at: range) }
      // float16 operands are rounded to float16 first, computed in float32, rounded back.
      let x = dtype == .float16 ? a.cast(.float16) : a, y = dtype == .float16 ? b.cast(.float16) : b
      let r = NDArray(shape: out, storage: .float32(broadcastMap(x.floatValues, x.shape, y.floatValues, y.shape, to: out, f)))
      return dtype == .float16 ? r.cast(.float16) : r
    case .int64:
      guard let f = IntKernels.function(op) else { throw notSupported(op.rawValue, at: range) }
      return NDArray(shape: out, storage: .int64(broadcastMap(a.int64Values, a.shape, b.int64Values, b.shape, to: out, f)))
    case .bool:
      return boolBinary(op, a, b, out)
    }
  }

  /// A comparison, giving a bool array.
  static func compare(_ op: ComparisonOperator, _ x: Operand, _ y: Operand, at range: SourceRange) throws(ShellError) -> NDArray {
    guard let out = broadcastShapes([x.shape, y.shape]) else { throw broadcastError([x.shape, y.shape], at: range) }
    try Allocation.check(out, .float64, at: range)
    let t = Promotion.result([x, y])
    func run<T: Comparable>(_ a: [T], _ b: [T]) -> [Bool] {
      switch op {
      case .less: return broadcastMap(a, x.shape, b, y.shape, to: out) { $0 < $1 }
      case .lessOrEqual: return broadcastMap(a, x.shape, b, y.shape, to: out) { $0 <= $1 }
      case .greater: return broadcastMap(a, x.shape, b, y.shape, to: out) { $0 > $1 }
      case .greaterOrEqual: return broadcastMap(a, x.shape, b, y.shape, to: out) { $0 >= $1 }
      case .equal: return broadcastMap(a, x.shape, b, y.shape, to: out) { $0 == $1 }
      default: return broadcastMap(a, x.shape, b, y.shape, to: out) { $0 != $1 }
      }
    }
    let values: [Bool]
    switch t {
    case .float64: values = run(x.array.doubleValues, y.array.doubleValues)
    case .float32: values = run(x.array.floatValues, y.array.floatValues)
    case .float16: values = run(x.array.cast(.float16).floatValues, y.array.cast(.float16).floatValues)
    case .int64, .bool: values = run(x.array.int64Values, y.array.int64Values)
    case .complex64, .complex128:
      let a = x.array.complexValues, b = y.array.complexValues
      switch op {
      case .equal: values = broadcastMap(a, x.shape, b, y.shape, to: out) { $0 == $1 }
      case .notEqual: values = broadcastMap(a, x.shape, b, y.shape, to: out) { $0 != $1 }
      default:
        // numpy orders complex numbers lexicographically; NaN compares false.
        values = broadcastMap(a, x.shape, b, y.shape, to: out) { p, q in
          if p.isNaN || q.isNaN { return false }
          let c = complexLess(p, q) ? -1 : (complexLess(q, p) ? 1 : 0)
          switch op {
          case .less: return c < 0
          case .lessOrEqual: return c <= 0
          case .greater: return c > 0
          default: return c >= 0
          }
        }
      }
    }
    return NDArray(shape: out, storage: .bool(values))
  }

  /// A unary ufunc.
  static func unary(_ f: UnaryMath, _ a: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    if a.dtype.isComplex { return try complexUnary(f, a, at: range) }
    switch f {
    case .isnan, .isinf, .isfinite:
      let v: [Bool]
      switch a.storage {
      case .float64(let x):
        v = f == .isnan ? x.map { $0.isNaN } : (f == .isinf ? x.map { $0.isInfinite } : x.map { $0.isFinite })
      default:
        if a.dtype.kind == .float {
          let x = a.floatValues
          v = f == .isnan ? x.map { $0.isNaN } : (f == .isinf ? x.map { $0.isInfinite } : x.map { $0.isFinite })
        } else {
          v = [Bool](repeating: f == .isfinite, count: a.count)
        }
      }
      return NDArray(shape: a.shape, storage: .bool(v))
    case .logicalNot:
      return NDArray(shape: a.shape, storage: .bool(a.boolValues.map { !$0 }))
    case .invert:
      switch a.storage {
      case .bool(let x): return NDArray(shape: a.shape, storage: .bool(x.map { !$0 }))
      case .int64(let x): return NDArray(shape: a.shape, storage: .int64(x.map { ~$0 }))
      default: throw notSupported("invert", at: range)
      }
    default: break
    }
    if case .bool(let x) = a.storage, !f.alwaysFloat {
      switch f {
      case .negative:
        throw ShellError(
          "The numpy boolean negative, the `-` operator, is not supported, use the `~` operator or the logical_not function instead.",
          at: range)
      case .sign, .reciprocal:
        throw ShellError("ufunc '\(f.rawValue)' did not contain a loop with signature matching types bool", at: range)
      case .square: return NDArray(shape: a.shape, storage: .int64(x.map { $0 ? 1 : 0 }))
      default: return a
      }
    }
    if case .int64(let x) = a.storage, !f.alwaysFloat {
      let v: [Int64]
      switch f {
      case .absolute: v = x.map { $0 < 0 ? 0 &- $0 : $0 }
      case .sign: v = x.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
      case .square: v = x.map { $0 &* $0 }
      case .negative: v = x.map { 0 &- $0 }
      case .reciprocal: v = x.map { $0 == 0 ? Int64.min : 1 / $0 }
      default: v = x
      }
      return NDArray(shape: a.shape, storage: .int64(v))
    }
    switch a.storage {
    case .float64(let x): return NDArray(shape: a.shape, storage: .float64(x.map(Double.unaryFunction(f))))
    case .float32(let x): return NDArray(shape: a.shape, storage: .float32(x.map(Float.unaryFunction(f))))
    case .float16(let x):
      let g = Float.unaryFunction(f)
      return NDArray(shape: a.shape, storage: .float16(x.map { Float16(g(Float($0))) }))
    case .bool:
      let g = Float.unaryFunction(f)
      return NDArray(shape: a.shape, storage: .float16(a.floatValues.map { Float16(g($0)) }))
    case .int64:
      return NDArray(shape: a.shape, storage: .float64(a.doubleValues.map(Double.unaryFunction(f))))
    case .complex64, .complex128:
      return try complexUnary(f, a, at: range)
    }
  }
}

// MARK: - Complex

extension Ufunc {
  /// A binary ufunc on complex operands, computed in `dtype` (complex64 in float arithmetic, as
  /// numpy does).
  static func complexBinary(
    _ op: BinaryMath, _ a: NDArray, _ b: NDArray, _ out: [Int], _ dtype: DType, at range: SourceRange
  ) throws(ShellError) -> NDArray {
    func kernel<T>(_ type: T.Type) throws(ShellError) -> (Complex<T>, Complex<T>) -> Complex<T> {
      switch op {
      case .add: return { $0 + $1 }
      case .subtract: return { $0 - $1 }
      case .multiply: return { $0 * $1 }
      case .divide: return { $0 / $1 }
      case .maximum: return { p, q in p.isNaN ? p : (q.isNaN ? q : (complexLess(p, q) ? q : p)) }
      case .minimum: return { p, q in p.isNaN ? p : (q.isNaN ? q : (complexLess(q, p) ? q : p)) }
      case .fmax: return { p, q in q.isNaN ? p : (p.isNaN ? q : (complexLess(p, q) ? q : p)) }
      case .fmin: return { p, q in q.isNaN ? p : (p.isNaN ? q : (complexLess(q, p) ? q : p)) }
      case .power:
        return { p, q in
          if q.re == 0 && q.im == 0 { return Complex(1, 0) }
          if p.re == 0 && p.im == 0 { return q.re > 0 && q.im == 0 ? Complex(0, 0) : Complex(.nan, .nan) }
          if q.im == 0 && q.re == 1 { return p }
          if q.im == 0 && q.re == 2 { return p * p }
          let r = Complex128.pow(Complex128(Double(p.re), Double(p.im)), Complex128(Double(q.re), Double(q.im)))
          return Complex(T(r.re), T(r.im))
        }
      default:
        throw ShellError(
          "ufunc '\(op.rawValue)' not supported for complex inputs (numpy refuses it too)", type: "TypeError", at: range)
      }
    }
    if dtype == .complex64 {
      let x = a.cast(.complex64), y = b.cast(.complex64)
      guard case .complex64(let p) = x.storage, case .complex64(let q) = y.storage else { return a }
      return NDArray(shape: out, storage: .complex64(broadcastMap(p, x.shape, q, y.shape, to: out, try kernel(Float.self))))
    }
    let f = try kernel(Double.self)
    return NDArray(shape: out, storage: .complex128(broadcastMap(a.complexValues, a.shape, b.complexValues, b.shape, to: out, f)))
  }

  /// A unary ufunc on a complex array.
  static func complexUnary(_ f: UnaryMath, _ a: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    let z = a.complexValues
    let realType = a.dtype.realPart
    switch f {
    case .isnan: return NDArray(shape: a.shape, storage: .bool(z.map { $0.isNaN }))
    case .isinf: return NDArray(shape: a.shape, storage: .bool(z.map { $0.re.isInfinite || $0.im.isInfinite }))
    case .isfinite: return NDArray(shape: a.shape, storage: .bool(z.map { $0.isFinite }))
    case .logicalNot: return NDArray(shape: a.shape, storage: .bool(z.map { $0.isZero }))
    case .absolute:
      if case .complex64(let v) = a.storage {
        return NDArray(shape: a.shape, storage: .float32(v.map { Foundation.hypotf($0.re, $0.im) }))
      }
      return NDArray(shape: a.shape, doubles: z.map { $0.magnitude }, dtype: realType)
    case .negative:
      if case .complex64(let v) = a.storage { return NDArray(shape: a.shape, storage: .complex64(v.map { -$0 })) }
      return NDArray(shape: a.shape, storage: .complex128(z.map { -$0 }))
    case .positive: return a
    case .square:
      if case .complex64(let v) = a.storage { return NDArray(shape: a.shape, storage: .complex64(v.map { $0 * $0 })) }
      return NDArray(shape: a.shape, storage: .complex128(z.map { $0 * $0 }))
    case .reciprocal:
      if case .complex64(let v) = a.storage { return NDArray(shape: a.shape, storage: .complex64(v.map { Complex(1, 0) / $0 })) }
      return NDArray(shape: a.shape, storage: .complex128(z.map { Complex(1, 0) / $0 }))
    case .sign:
      // numpy 2: z / |z| (0 for 0).
      return NDArray(shape: a.shape, complex: z.map { $0.isZero ? Complex(0, 0) : (($0.isNaN) ? Complex(.nan, .nan) : Complex($0.re / $0.magnitude, $0.im / $0.magnitude)) }, dtype: a.dtype)
    default: break
    }
    // complex64 is computed in float32 with the float functions, as numpy's npy_cexpf etc.
    if case .complex64(let v) = a.storage {
      guard let g = complexKernel(f, Float.self) else { throw complexUnsupported(f, at: range) }
      return NDArray(shape: a.shape, storage: .complex64(v.map(g)))
    }
    guard let g = complexKernel(f, Double.self) else { throw complexUnsupported(f, at: range) }
    return NDArray(shape: a.shape, storage: .complex128(z.map(g)))
  }

  static func complexUnsupported(_ f: UnaryMath, at range: SourceRange) -> ShellError {
    ShellError("ufunc '\(f.ufuncName)' is not supported for complex arrays in ks", type: "TypeError", at: range)
  }

  /// The complex transcendental functions, from the real ones of `T` (C99 Annex G formulas).
  static func complexKernel<T: NumpyFloat & Sendable & BitwiseCopyable>(
    _ f: UnaryMath, _: T.Type
  ) -> ((Complex<T>) -> Complex<T>)? {
    let exp = T.unaryFunction(.exp), log = T.unaryFunction(.log)
    let sin = T.unaryFunction(.sin), cos = T.unaryFunction(.cos)
    let sinh = T.unaryFunction(.sinh), cosh = T.unaryFunction(.cosh)
    func cexp(_ z: Complex<T>) -> Complex<T> {
      if z.im == 0 && !z.re.isNaN { return Complex(exp(z.re), z.im) }
      let r = exp(z.re)
      return Complex(r * cos(z.im), r * sin(z.im))
    }
    func clog(_ z: Complex<T>) -> Complex<T> { Complex(log(T.hypot(z.re, z.im)), T.atan2(z.im, z.re)) }
    func csin(_ z: Complex<T>) -> Complex<T> { Complex(sin(z.re) * cosh(z.im), cos(z.re) * sinh(z.im)) }
    func ccos(_ z: Complex<T>) -> Complex<T> { Complex(cos(z.re) * cosh(z.im), -(sin(z.re) * sinh(z.im))) }
    func csinh(_ z: Complex<T>) -> Complex<T> { Complex(sinh(z.re) * cos(z.im), cosh(z.re) * sin(z.im)) }
    func ccosh(_ z: Complex<T>) -> Complex<T> { Complex(cosh(z.re) * cos(z.im), sinh(z.re) * sin(z.im)) }
    switch f {
    case .exp: return cexp
    case .log: return clog
    case .log10:
      let k = T(M_LN10)
      return { z in let l = clog(z); return Complex(l.re / k, l.im / k) }
    case .log2:
      let k = T(M_LN2)
      return { z in let l = clog(z); return Complex(l.re / k, l.im / k) }
    case .sqrt:
      return { z in
        if z.re == 0 && z.im == 0 { return Complex(0, z.im) }
        if z.im.isInfinite { return Complex(.infinity, z.im) }
        let t = ((Swift.abs(z.re) + T.hypot(z.re, z.im)) / 2).squareRoot()
        if z.re >= 0 { return Complex(t, z.im / (2 * t)) }
        return Complex(Swift.abs(z.im) / (2 * t), T(signOf: z.im, magnitudeOf: t))
      }
    case .sin: return csin
    case .cos: return ccos
    case .sinh: return csinh
    case .cosh: return ccosh
    case .tan: return { z in csin(z) / ccos(z) }
    case .tanh: return { z in csinh(z) / ccosh(z) }
    default: return nil
    }
  }
}
