import ArrayIO
import KSDiagnostics

/// numpy functions of the shell (`np.zeros`, `np.random.randn`, `np.linalg.solve`, ...).
enum NumpyFunctions {
  /// Every name, with `random.` / `linalg.` prefixes for the submodules.
  static let names: [String] = Array(table.keys)
  /// Names also available without `np.`.
  static let bareNames = ["sqrt", "exp", "log", "sin", "cos", "mean", "array", "zeros", "ones", "eye", "linspace", "arange", "concatenate", "sort", "argsort", "randn", "rand", "seed"]

  static func function(_ name: String) -> Value? {
    guard let body = table[name] else { return nil }
    return Builtins.anyFn(name) { ctx in try body(&ctx) }
  }

  static func call(_ name: String, _ ctx: inout CallContext) throws -> Value {
    guard let body = table[name] else { throw ShellError("numpy function '\(name)' is not available", at: ctx.range) }
    return try body(&ctx)
  }

  typealias Body = @Sendable (inout CallContext) throws -> Value

  static let table: [String: Body] = [
    "random.seed": { ctx in
      let v = try ctx.required(0, "seed")
      let s = try ctx.int(v, "seed", at: ctx.rangeOf(0))
      try ctx.finish(maxPositional: 1)
      ctx.interpreter.state.random = RandomState(seed: UInt64(bitPattern: Int64(s)))
      ctx.interpreter.state.seed = UInt64(bitPattern: Int64(s))
      return .none
    },
    "seed": { ctx in try call("random.seed", &ctx) },
    "random.randn": { ctx in
      let shape = try ctx.positional.enumerated().map { try ctx.int($0.element, "dimension", at: ctx.rangeOf($0.offset)) }
      try ctx.finish(maxPositional: Int.max)
      let n = shape.reduce(1, *)
      var values = [Double](repeating: 0, count: n)
      for k in 0..<n { values[k] = ctx.interpreter.state.random.normal() }
      if shape.isEmpty { return .float(values[0]) }
      return .array(NDArray(shape: shape, float64: values))
    },
    "randn": { ctx in try call("random.randn", &ctx) },
    "random.rand": { ctx in
      let shape = try ctx.positional.enumerated().map { try ctx.int($0.element, "dimension", at: ctx.rangeOf($0.offset)) }
      try ctx.finish(maxPositional: Int.max)
      let n = shape.reduce(1, *)
      var values = [Double](repeating: 0, count: n)
      for k in 0..<n { values[k] = ctx.interpreter.state.random.uniform() }
      if shape.isEmpty { return .float(values[0]) }
      return .array(NDArray(shape: shape, float64: values))
    },
    "rand": { ctx in try call("random.rand", &ctx) },
    "array": { ctx in
      let v = try ctx.required(0, "object")
      var dtype: DType?
      if let d = try ctx.optional(1, "dtype") { dtype = try dtypeArgument(d, ctx, at: ctx.rangeOf(1, "dtype")) }
      try ctx.finish(maxPositional: 2)
      if case .array(let a) = v { return .array(dtype.map { a.converted(to: $0) } ?? a) }
      return .array(try NumpyOps.array(from: v, dtype: dtype, at: ctx.rangeOf(0)))
    },
  ]

  static func dtypeArgument(_ v: Value, _ ctx: CallContext, at range: SourceRange) throws -> DType {
    switch v {
    case .dtype(let d): return d
    case .string(let s):
      guard let d = DType(name: s.text) else { throw ShellError("data type '\(s.text)' not understood", at: range) }
      return d
    case .builtin(let b) where b.name == "float": return .float64
    case .builtin(let b) where b.name == "int": return .int64
    case .builtin(let b) where b.name == "bool": return .bool
    default: throw ShellError("data type \(v.repr) not understood", at: range)
    }
  }
}
