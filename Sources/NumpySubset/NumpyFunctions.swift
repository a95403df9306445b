import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// numpy functions of the shell (`np.zeros`, `np.random.randn`, `np.linalg.solve`, ...).
///
/// The table is keyed by name; `random.` / `linalg.` prefixes name the submodules, and `math.`
/// the functions of Python's `math` module that differ from numpy's (they return Python numbers).
/// The entries live in `Numpy/Functions*.swift`.
enum NumpyFunctions {
  typealias Body = @Sendable (inout CallContext) throws -> Value

  /// Every name, with `random.` / `linalg.` prefixes for the submodules.
  static let names: [String] = Array(table.keys).filter { !$0.hasPrefix("math.") }
  /// Names also available without `np.`.
  static let bareNames = [
    "sqrt", "exp", "log", "sin", "cos", "mean", "array", "zeros", "ones", "eye", "linspace", "arange", "concatenate", "sort",
    "argsort", "randn", "rand", "seed",
  ]

  /// numpy's constants and type names beyond those `Builtins` knows (`np.True_`, `np.int_`).
  static func constant(_ name: String) -> Value? {
    switch name {
    case "True_": return .array(.scalar(bool: true))
    case "False_": return .array(.scalar(bool: false))
    case "bool": return .dtype(.bool)
    case "int_", "intp": return .dtype(.int64)
    case "double": return .dtype(.float64)
    case "single": return .dtype(.float32)
    case "half": return .dtype(.float16)
    case "euler_gamma": return .float(0.5772156649015329)
    default: return nil
    }
  }

  static func function(_ name: String) -> Value? {
    guard let body = table[name] else { return nil }
    return Builtins.anyFn(name, doc: table.docs[name]) { ctx in
      try ComplexParts.check(name, ctx)
      return try body(&ctx)
    }
  }

  static func call(_ name: String, _ ctx: inout CallContext) throws -> Value {
    guard let body = table[name] else { throw ShellError("numpy function '\(name)' is not available", at: ctx.range) }
    try ComplexParts.check(name, ctx)
    return try body(&ctx)
  }

  static let table: FunctionTable = {
    var t = FunctionTable()
    for part in [complexFunctions(), mathFunctions(), reductionFunctions(), creationFunctions(), shapeFunctions(), linalgFunctions(), randomFunctions(), printFunctions(),
      typeFunctions(), tilingFunctions(), countingFunctions(), sequenceFunctions(),
    ] {
      t.merge(part)
    }
    return t
  }()

  /// The functions by name, each with its help: `t["zeros", FunctionDoc(...)] = { ctx in ... }`
  /// declares a function and its doc together.
  struct FunctionTable {
    var bodies: [String: Body] = [:]
    var docs: [String: FunctionDoc] = [:]

    var keys: Dictionary<String, Body>.Keys { bodies.keys }

    subscript(name: String) -> Body? {
      get { bodies[name] }
      set { bodies[name] = newValue }
    }

    subscript(name: String, doc: FunctionDoc?) -> Body? {
      get { bodies[name] }
      set {
        bodies[name] = newValue
        docs[name] = doc
      }
    }

    /// Adds `other`'s functions; a name already here keeps its function and doc.
    mutating func merge(_ other: FunctionTable) {
      bodies.merge(other.bodies) { a, _ in a }
      docs.merge(other.docs) { a, _ in a }
    }
  }

  /// `np.float64(x)`, `np.float32(x)`, `np.int64(x)`, `np.bool_(x)`: a numpy scalar, or an array
  /// converted.
  static func callDType(_ d: DType, _ ctx: inout CallContext) throws -> Value {
    let v = try ctx.optional(0, "x") ?? .int(0)
    try ctx.finish(maxPositional: 1)
    if case .string(let s) = v, d.isComplex {
      guard let z = parseComplex(s.text) else {
        throw ShellError("complex() arg is a malformed string", type: "ValueError", at: ctx.rangeOf(0))
      }
      return .array(NDArray.scalar(complex: z, d))
    }
    if case .string(let s) = v {
      guard let x = Double(s.text.trimmingCharacters(in: .whitespaces)) else {
        throw ShellError("could not convert string to \(d.rawValue): \(pythonStringRepr(s.text))", at: ctx.rangeOf(0))
      }
      return .array(NDArray.scalar(x, d))
    }
    return .array(try NumpyOps.array(from: v, dtype: d, at: ctx.rangeOf(0)))
  }

  static func dtypeArgument(_ v: Value, at range: SourceRange) throws(ShellError) -> DType {
    switch v {
    case .dtype(let d): return d
    case .string(let s):
      guard let d = DType(name: s.text) else { throw ShellError("data type '\(s.text)' not understood", at: range) }
      return d
    case .builtin(let b) where b.name == "float": return .float64
    case .builtin(let b) where b.name == "int": return .int64
    case .builtin(let b) where b.name == "bool": return .bool
    case .builtin(let b) where b.name == "complex": return .complex128
    default: throw ShellError("data type \(v.repr) not understood", at: range)
    }
  }
}
