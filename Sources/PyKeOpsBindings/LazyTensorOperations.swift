import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

// LazyTensor's operators and methods, with PyKeOps' names, shortcuts and checks.

extension LazyTensorObject {
  public func binary(
    _ op: BinaryOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter
  ) throws -> Value? {
    if case .object(let o) = other, !(o is LazyTensorObject) { return nil }
    if isComplex || isComplexOperand(other) {
      return try complexBinary(op, other, reflected: reflected, at: range, in: interpreter)
    }
    switch op {
    case .add:
      if isScalar(other, equalTo: 0) { return .object(self) }
      return .object(try binary(other, "+", infix: true, reversed: reflected, at: range, in: interpreter))
    case .subtract:
      if isScalar(other, equalTo: 0) { return .object(reflected ? unary("Minus") : self) }
      return .object(try binary(other, "-", infix: true, reversed: reflected, at: range, in: interpreter))
    case .multiply:
      if isScalar(other, equalTo: 0) { return .int(0) }
      if isScalar(other, equalTo: 1) { return .object(self) }
      if isScalar(other, equalTo: -1) { return .object(unary("Minus")) }
      return .object(try binary(other, "*", infix: true, reversed: reflected, at: range, in: interpreter))
    case .divide:
      if reflected {
        if isScalar(other, equalTo: 0) { return .int(0) }
        if isScalar(other, equalTo: 1) { return .object(unary("Inv")) }
      } else if isScalar(other, equalTo: 1) {
        return .object(self)
      }
      return .object(try binary(other, "/", infix: true, reversed: reflected, at: range, in: interpreter))
    case .bitwiseOr:
      return .object(try binary(other, "|", infix: true, dim: 1, check: .same, reversed: reflected, at: range, in: interpreter))
    case .power:
      guard !reflected else {
        let base = try Self.make(other, axis: nil, at: range, in: interpreter)
        return try base.binary(.power, .object(self), reflected: false, at: range, in: interpreter)
      }
      return .object(try power(other, at: range, in: interpreter))
    case .matrixMultiply:
      guard !reflected else { return nil }
      return try matmul(other, ctxRange: range, in: interpreter)
    default:
      return nil
    }
  }

  /// `x ** y`: `Square` for 2, `Pow` for other integers, `Sqrt`/`Rsqrt` for ±0.5, else `Powf`.
  func power(_ other: Value, at range: SourceRange, in interpreter: Interpreter) throws -> LazyTensorObject {
    switch other {
    case .int(let n): return n == 2 ? unary("Square") : unary("Pow", parameters: [String(n)])
    case .float(0.5): return unary("Sqrt")
    case .float(-0.5): return unary("Rsqrt")
    default:
      let e = try Self.make(other, axis: nil, at: range, in: interpreter)
      guard e.ndim == 1 || e.ndim == ndim else {
        throw ShellError(
          "incompatible dimensions for the LazyTensor and its exponent: \(ndim) and \(e.ndim)", type: "ValueError", at: range)
      }
      return try binary(.object(e), "Powf", check: .none, at: range, in: interpreter)
    }
  }

  public func unary(_ op: UnaryOperator, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    switch op {
    case .negate: return .object(unary("Minus"))
    case .plus: return .object(self)
    default: return nil
    }
  }

  public func compare(
    _ op: ComparisonOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter
  ) throws -> Value? {
    if case .object(let o) = other, !(o is LazyTensorObject) { return nil }
    if isComplex || isComplexOperand(other) {
      throw ShellError("complex LazyTensors cannot be compared with \(op.symbol)", type: "TypeError", at: range)
    }
    // `2 < x` is `x > 2` (Python tries the reflected method of the right operand).
    let flipped: ComparisonOperator
    switch (op, reflected) {
    case (.less, true): flipped = .greater
    case (.greater, true): flipped = .less
    case (.lessOrEqual, true): flipped = .greaterOrEqual
    case (.greaterOrEqual, true): flipped = .lessOrEqual
    default: flipped = op
    }
    switch flipped {
    case .equal: return .object(try binary(other, "Equal", at: range, in: interpreter))
    case .notEqual: return .object(try binary(other, "NotEqual", at: range, in: interpreter))
    case .less: return .object(try binary(other, "<", infix: true, at: range, in: interpreter))
    case .greater: return .object(try binary(other, ">", infix: true, at: range, in: interpreter))
    case .lessOrEqual: return .object(try binary(other, "<=", infix: true, at: range, in: interpreter))
    case .greaterOrEqual: return .object(try binary(other, ">=", infix: true, at: range, in: interpreter))
    default: return nil
    }
  }

  /// `x[k]` (Elem) and `x[a:b]` (Extract), also written `x[:, :, k]`.
  public func getItem(_ index: [Value], at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    if isComplex {
      throw ShellError("indexing a complex LazyTensor is not supported (KeOps has no complex Elem)", type: "TypeError", at: range)
    }
    var key = index
    if key.count > 1 {
      let full = key.dropLast().allSatisfy { if case .slice(nil, nil, nil) = $0 { return true } else { return false } }
      guard key.count == 3, full else {
        throw ShellError("LazyTensors only support indexing with respect to their last dimension", type: "ValueError", at: range)
      }
      key = [key[2]]
    }
    switch key[0] {
    case .int(let k): return .object(try elem(k, at: range))
    case .slice(let start, let stop, let step):
      guard step == nil || step == 1 else {
        throw ShellError("LazyTensors do not support sliced indexing with stepsizes > 1", type: "ValueError", at: range)
      }
      let a = start ?? 0
      let b = stop ?? ndim
      return .object(try extract(a, b - a, at: range))
    default:
      throw ShellError("LazyTensors only support indexing with integers and plain slices", type: "ValueError", at: range)
    }
  }

  func elem(_ k: Int, at range: SourceRange) throws -> LazyTensorObject {
    guard k >= 0 && k < ndim else {
      throw ShellError("index i=\(k) is out of bounds [0,D) = [0,\(ndim))", type: "IndexError", at: range)
    }
    return unary("Elem", dim: 1, parameters: [String(k)])
  }

  func extract(_ start: Int, _ length: Int, at range: SourceRange) throws -> LazyTensorObject {
    guard start >= 0 && start < ndim else { throw ShellError("starting index is out of bounds", type: "IndexError", at: range) }
    guard length >= 1 && start + length <= ndim else {
      throw ShellError("slice dimension is out of bounds", type: "IndexError", at: range)
    }
    return unary("Extract", dim: length, parameters: [String(start), String(length)])
  }

  /// `K @ v`: the matrix-vector (or matrix) product with an array, a Sum reduction over j.
  func matmul(_ v: Value, ctxRange range: SourceRange, in interpreter: Interpreter) throws -> Value {
    var ctx = CallContext.synthetic(name: "matmul", range: range, interpreter: interpreter)
    return try matmul(v, &ctx)
  }

  /// `K @ v` with the reduction's keywords (`K.__matmul__(v, backend=..., out=...)`).
  func matmul(_ v: Value, _ ctx: inout CallContext) throws -> Value {
    let range = ctx.range
    let interpreter = ctx.interpreter
    guard ndim == 1 else {
      throw ShellError(
        "the 'K @ v' syntax is only supported for LazyTensors K whose trailing dimension is 1; here K.shape = \(tupleShape(shape))",
        type: "ValueError", at: range)
    }
    guard case .array(let a) = v, a.rank >= 1 else {
      throw ShellError("K @ v needs an array v", type: "TypeError", at: range)
    }
    // v (N,) or (..., N, E) becomes the j-variable v[..., None, :, :].
    let column = a.rank == 1 ? a.reshaped([1, a.shape[0], 1]) : a.reshaped(Array(a.shape.dropLast(2)) + [1] + a.shape.suffix(2))
    let product = try binary(.object(try Self.fromArray(column, axis: nil, at: range)), "*", infix: true, at: range, in: interpreter)
    let result = try product.reduce("Sum", axis: product.fullRank - 2, ctx: &ctx)
    if a.rank == 1, case .array(let r) = result { return .array(r.reshaped([r.count])) }
    return result
  }

  // MARK: - Attributes and methods

  public func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    switch name {
    case "shape": return .tuple(shape.map { .int($0) })
    case "ndim": return .int(ndim)
    case "dtype": return reportedDType.map { .dtype($0) } ?? Value.none
    case "real" where isComplex: return .object(complexUnary("ComplexReal", dim: ndim / 2, complexResult: false))
    case "imag" where isComplex: return .object(complexUnary("ComplexImag", dim: ndim / 2, complexResult: false))
    case "is_complex": return .bool(isComplex)
    case "nbatchdims": return .int(batchdims.count)
    case "formula": return .str(formulaText)
    case "T": return .object(transposed)
    case "backend": return backend ?? Value.none
    case "ranges": return ranges ?? Value.none
    default: break
    }
    guard let body = method(name) else { return nil }
    return Builtins.anyFn(name) { ctx in try body(&ctx) }
  }

  public func settingAttribute(_ name: String, _ new: Value, at range: SourceRange, in interpreter: Interpreter) throws
    -> (any ShellObject)?
  {
    var out = self
    switch name {
    case "backend":
      guard new.isNone || { if case .string = new { return true } else { return false } }() else {
        throw ShellError("backend must be a string such as \"CPU\" or None", type: "TypeError", at: range)
      }
      out.backend = new.isNone ? nil : new
    case "ranges":
      out.ranges = new.isNone ? nil : new
    default:
      return nil
    }
    return out
  }

  /// Element-wise unary methods: name -> KeOps operation.
  static let unaryMethods: [String: String] = [
    "exp": "Exp", "log": "Log", "xlogx": "XLogX", "cos": "Cos", "sin": "Sin", "sinxdivx": "SinXDivX", "asin": "Asin",
    "acos": "Acos", "atan": "Atan", "sqrt": "Sqrt", "rsqrt": "Rsqrt", "abs": "Abs", "sign": "Sign", "step": "Step",
    "relu": "ReLU", "square": "Square", "inverse": "Inv", "inv": "Inv", "floor": "Floor", "normalize": "Normalize",
  ]

  /// The names of the methods a LazyTensor has (for `help(x)` and `:help lazytensor`).
  public static let methodNames: [String] = {
    let probe = LazyTensorObject(formula: .integer(0), variables: [], ndim: 1)
    var candidates = Array(unaryMethods.keys) + [
      "sqnorm2", "norm2", "norm", "sinc", "round", "power", "sqdist", "atan2", "concat", "matvecmult", "vecmatmult",
      "tensorprod", "weightedsqnorm", "weightedsqdist", "elem", "extract", "one_hot", "clamp", "ifelse", "mod", "grad", "t",
      "matvec", "rmatvec", "solve", "real2complex", "imag2complex", "exp1j",
    ]
    for base in ["sum", "min", "max", "argmin", "argmax", "min_argmin", "max_argmax", "Kmin", "argKmin", "Kmin_argKmin", "logsumexp", "sumsoftmaxweight"] {
      candidates += [base, base + "_reduction"]
    }
    return Array(Set(candidates.filter { probe.method($0) != nil })).sorted()
  }()

  /// The method called `name`, as a function of its call.
  func method(_ name: String) -> (@Sendable (inout CallContext) throws -> Value)? {
    let me = self
    if isComplex {
      if let body = complexMethod(name) { return body }
      guard Self.methodNames.contains(name) || ["real2complex", "imag2complex", "exp1j", "__matmul__"].contains(name) else { return nil }
      return { ctx in throw me.complexMethodError(name, at: ctx.range) }
    }
    switch name {
    case "real2complex", "imag2complex", "exp1j":
      let op = ["real2complex": "Real2Complex", "imag2complex": "Imag2Complex", "exp1j": "ComplexExp1j"][name]!
      return { ctx in
        try ctx.finish(maxPositional: 0)
        return .object(me.complexUnary(op, dim: 2 * me.ndim, complexResult: true))
      }
    default: break
    }
    if let op = Self.unaryMethods[name] {
      return { ctx in
        try ctx.finish(maxPositional: 0)
        return .object(me.unary(op))
      }
    }
    switch name {
    case "sqnorm2", "norm2":
      return { ctx in
        try ctx.finish(maxPositional: 0)
        return .object(me.unary(name == "sqnorm2" ? "SqNorm2" : "Norm2", dim: 1))
      }
    case "norm":
      return { ctx in
        let d = try ctx.int(try ctx.required(0, "dim"), "dim", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        guard d == -1 || d == me.fullRank - 1 else {
          throw ShellError("KeOps only supports norms over the last dimension", type: "ValueError", at: ctx.rangeOf(0))
        }
        return .object(me.unary("Norm2", dim: 1))
      }
    case "sinc":
      return { ctx in
        try ctx.finish(maxPositional: 0)
        let scaled = try me.binary(.float(Double.pi), "*", infix: true, reversed: true, at: ctx.range, in: ctx.interpreter)
        return .object(scaled.unary("SinXDivX"))
      }
    case "round":
      return { ctx in
        let d = try ctx.optional(0, "decimals").map { try ctx.int($0, "decimals", at: ctx.rangeOf(0)) } ?? 0
        try ctx.finish(maxPositional: 1)
        return .object(me.unary("Round", parameters: [String(d)]))
      }
    case "power":
      return { ctx in
        let e = try ctx.required(0, "other")
        try ctx.finish(maxPositional: 1)
        return .object(try me.power(e, at: ctx.range, in: ctx.interpreter))
      }
    case "sqdist", "atan2", "concat", "matvecmult", "vecmatmult", "tensorprod", "weightedsqnorm":
      return { ctx in
        let other = try ctx.required(0, "other")
        try ctx.finish(maxPositional: 1)
        return .object(try me.binaryMethod(name, other, at: ctx.range, in: ctx.interpreter))
      }
    case "weightedsqdist":
      return { ctx in
        let g = try ctx.required(0, "g")
        let s = try ctx.required(1, "s")
        try ctx.finish(maxPositional: 2)
        let difference = try me.binary(g, "-", infix: true, at: ctx.range, in: ctx.interpreter)
        return .object(try difference.binaryMethod("weightedsqnorm", s, at: ctx.range, in: ctx.interpreter))
      }
    case "elem":
      return { ctx in
        let k = try ctx.int(try ctx.required(0, "i"), "i", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        return .object(try me.elem(k, at: ctx.rangeOf(0)))
      }
    case "extract":
      return { ctx in
        let start = try ctx.int(try ctx.required(0, "i"), "i", at: ctx.rangeOf(0))
        let length = try ctx.int(try ctx.required(1, "d"), "d", at: ctx.rangeOf(1))
        try ctx.finish(maxPositional: 2)
        return .object(try me.extract(start, length, at: ctx.range))
      }
    case "one_hot":
      return { ctx in
        let d = try ctx.int(try ctx.required(0, "D"), "D", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        guard me.ndim == 1 else {
          throw ShellError("one-hot encoding is only supported for scalar formulas", type: "ValueError", at: ctx.range)
        }
        return .object(me.unary("OneHot", dim: d, parameters: [String(d)]))
      }
    case "clamp", "ifelse":
      return { ctx in
        let a = try ctx.required(0, "a")
        let b = try ctx.required(1, "b")
        try ctx.finish(maxPositional: 2)
        if name == "clamp", case .int(let lo) = a, case .int(let hi) = b {
          return .object(me.unary("ClampInt", parameters: [String(lo), String(hi)]))
        }
        return .object(try me.ternary(a, b, name == "clamp" ? "Clamp" : "IfElse", at: ctx.range, in: ctx.interpreter))
      }
    case "mod":
      return { ctx in
        let modulus = try ctx.required(0, "modulus")
        let offset = try ctx.optional(1, "offset") ?? .int(0)
        try ctx.finish(maxPositional: 2)
        return .object(try me.ternary(modulus, offset, "Mod", at: ctx.range, in: ctx.interpreter))
      }
    case "grad":
      // PyKeOps' K.grad(x, e): the formula Grad(K, x, e), of x's dimension (x a variable of K).
      return { ctx in
        let v = try Self.make(try ctx.required(0, "other"), axis: nil, at: ctx.rangeOf(0), in: ctx.interpreter)
        let e = try Self.make(try ctx.required(1, "gradin"), axis: nil, at: ctx.rangeOf(1), in: ctx.interpreter)
        try ctx.finish(maxPositional: 2)
        guard e.ndim == me.ndim || e.ndim == 1 else {
          throw ShellError(
            "the gradient input has dimension \(e.ndim), but the LazyTensor has dimension \(me.ndim)", type: "ValueError",
            at: ctx.rangeOf(1))
        }
        var out = try me.joined(try v.joined(e, at: ctx.range), at: ctx.range)
        out.ndim = v.ndim
        out.formula = .call("Grad", [me.formula, v.formula, e.formula], parameters: [])
        return .object(out)
      }
    case "t":
      return { ctx in
        try ctx.finish(maxPositional: 0)
        return .object(me.transposed)
      }
    case "matvec", "rmatvec":
      return { ctx in
        let v = try ctx.required(0, "v")
        try ctx.finish(maxPositional: 1)
        return try (name == "matvec" ? me : me.transposed).matmul(v, ctxRange: ctx.range, in: ctx.interpreter)
      }
    case "solve":
      return { ctx in try me.solve(&ctx) }
    case "__matmul__":
      return { ctx in
        let v = try ctx.required(0, "v")
        ctx.positional = []
        ctx.positionalRanges = []
        return try me.matmul(v, &ctx)
      }
    default:
      return reductionMethod(name)
    }
  }

  /// Binary methods whose result dimension depends on both operands.
  func binaryMethod(_ name: String, _ other: Value, at range: SourceRange, in interpreter: Interpreter) throws -> LazyTensorObject {
    let o = try Self.make(other, axis: nil, at: range, in: interpreter)
    let value = Value.object(o)
    switch name {
    case "sqdist": return try binary(value, "SqDist", dim: 1, at: range, in: interpreter)
    case "atan2": return try binary(value, "Atan2", at: range, in: interpreter)
    case "concat": return try binary(value, "Concat", dim: ndim + o.ndim, check: .none, at: range, in: interpreter)
    case "matvecmult":
      return try binary(value, "MatVecMult", dim: ndim / max(o.ndim, 1), check: .none, at: range, in: interpreter)
    case "vecmatmult":
      return try binary(value, "VecMatMult", dim: o.ndim / max(ndim, 1), check: .none, at: range, in: interpreter)
    case "tensorprod": return try binary(value, "TensorProd", dim: ndim * o.ndim, check: .none, at: range, in: interpreter)
    default:  // weightedsqnorm: the weights come first in KeOps' WeightedSqNorm(s, x)
      guard [1, ndim, ndim * ndim].contains(o.ndim) else {
        throw ShellError(
          "squared norm weights should be of size 1 (scalar), D (diagonal) or D^2 (full symmetric tensor), but received \(o.ndim) with D=\(ndim)",
          type: "ValueError", at: range)
      }
      return try binary(value, "WeightedSqNorm", dim: 1, check: .none, reversed: true, at: range, in: interpreter)
    }
  }
}

extension CallContext {
  /// A call with no arguments, for operations a LazyTensor runs on its own behalf (`K @ v`).
  static func synthetic(name: String, range: SourceRange, interpreter: Interpreter) -> CallContext {
    CallContext(name: name, positional: [], positionalRanges: [], keywords: [], range: range, interpreter: interpreter)
  }
}

/// The `LazyTensor` class itself: calling it makes a LazyTensor; its attributes are the methods,
/// unbound (`LazyTensor.sum(x, axis=2)` is `x.sum(axis=2)`), and the static `concatenate`/`cat`.
public struct LazyTensorClass: ShellObject {
  /// `ComplexLazyTensor` rather than `LazyTensor`: its values are complex.
  var complex = false

  public var typeName: String { "type" }
  public func repr(with options: PrintOptions) -> String {
    "<class 'pykeops.numpy.\(complex ? "ComplexLazyTensor" : "LazyTensor")'>"
  }

  /// `LazyTensor(x, axis=None, is_complex=False)` and `ComplexLazyTensor(x, axis=None)`: complex
  /// data (or `is_complex=True`, or the ComplexLazyTensor class) makes a complex LazyTensor.
  public func call(_ ctx: inout CallContext) throws -> Value {
    var x = try ctx.required(0, "x")
    let axis = try ctx.optional(1, "axis").flatMap { $0.isNone ? nil : $0 }
    let flag = complex ? nil : try ctx.optional(2, "is_complex")
    try ctx.finish(maxPositional: complex ? 2 : 3)
    let a = try axis.map { try ctx.int($0, "axis", at: ctx.rangeOf(1, "axis")) }
    let wantsComplex = try complex || flag.map { try ctx.interpreter.truth($0, at: ctx.rangeOf(2, "is_complex")) } ?? false
    if wantsComplex {
      switch x {
      case .array(let arr) where !arr.dtype.isComplex:
        x = .array(arr.cast(arr.dtype == .float32 || arr.dtype == .float16 ? .complex64 : .complex128))
      case .int(let n): x = .complex(Double(n), 0)
      case .float(let d): x = .complex(d, 0)
      case .list(let items): x = .list(items.map { v in if case .complex = v { return v }; return .complex(ctx.interpreter.doubleValue(v), 0) })
      case .object(let lt as LazyTensorObject) where !lt.isComplex:
        throw ShellError("ComplexLazyTensor needs complex data, not a real LazyTensor; use x.real2complex()", type: "TypeError", at: ctx.rangeOf(0))
      default: break
      }
    }
    return .object(try LazyTensorObject.make(x, axis: a, at: ctx.rangeOf(0), in: ctx.interpreter))
  }

  public func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    if name == "concatenate" || name == "cat" {
      return Builtins.anyFn(name) { ctx in
        let items = try ctx.interpreter.iterate(try ctx.required(0, "tuple_of_lt"), at: ctx.rangeOf(0))
        let axis = try ctx.optional(1, name == "cat" ? "dim" : "axis").map { try ctx.int($0, "axis", at: ctx.rangeOf(1)) } ?? -1
        try ctx.finish(maxPositional: 2)
        guard var result = items.first else {
          throw ShellError("received an empty tuple of LazyTensors", type: "ValueError", at: ctx.rangeOf(0))
        }
        for item in items.dropFirst() {
          let lt = try LazyTensorObject.make(result, axis: nil, at: ctx.rangeOf(0), in: ctx.interpreter)
          guard axis == -1 || axis == lt.fullRank - 1 else {
            throw ShellError("LazyTensor only supports concatenation along the last axis", type: "ValueError", at: ctx.rangeOf(1))
          }
          result = .object(try lt.binaryMethod("concat", item, at: ctx.range, in: ctx.interpreter))
        }
        return result
      }
    }
    // An unbound method: the first argument is the LazyTensor.
    let probe = LazyTensorObject(formula: .integer(0), variables: [], ndim: 1)
    guard probe.method(name) != nil || ["__matmul__"].contains(name) else { return nil }
    return Builtins.anyFn(name) { ctx in
      let selfValue = try ctx.required(0, "self")
      let me = try LazyTensorObject.make(selfValue, axis: nil, at: ctx.rangeOf(0), in: ctx.interpreter)
      ctx.positional.removeFirst()
      ctx.positionalRanges.removeFirst()
      guard let body = me.method(name) else {
        throw ShellError("'LazyTensor' object has no attribute '\(name)'", type: "AttributeError", at: ctx.range)
      }
      return try body(&ctx)
    }
  }
}
