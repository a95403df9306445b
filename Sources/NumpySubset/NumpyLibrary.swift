import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// The numpy subset as a library of the language: the `numpy` modules, Python's `math`, the
/// functions ks offers without `np.` (`sqrt`, `zeros`, `load`, ...), and numpy's array semantics.
public enum NumpyLibrary {
  /// The library to install into an interpreter.
  public static let library = ShellLibrary(
    globals: globals(),
    modules: [
      ShellModule("numpy", memberNames: { numpyNames() }, member: { numpyMember($0) }),
      ShellModule(
        "numpy.random", memberNames: { prefixed("random.") }, member: { NumpyFunctions.function("random." + $0) }),
      ShellModule(
        "numpy.linalg", memberNames: { prefixed("linalg.") }, member: { NumpyFunctions.function("linalg." + $0) }),
      ShellModule("math", memberNames: { ["pi", "e", "inf", "nan"] + prefixed("math.") }, member: { mathMember($0) }),
    ],
    arrays: NumpyArraySemantics())

  static func globals() -> [String: Value] {
    var g: [String: Value] = [:]
    // `np` needs no import in ks (a script's own `import numpy as np` binds the same module).
    g["np"] = .module("numpy")
    g["load"] = Builtins.anyFn("load", doc: FunctionDoc("load(path)", "read a .npy or .csv file into an array", "x = load(\"x.npy\")")) { ctx in try IOBuiltins.load(&ctx) }
    g["save"] = Builtins.anyFn("save", doc: FunctionDoc("save(array, path)", "write an array to .npy or .csv, atomically", "save(a, \"a.npy\")")) { ctx in try IOBuiltins.save(&ctx, valueFirst: true) }
    for name in NumpyFunctions.bareNames { g[name] = NumpyFunctions.function(name) }
    return g
  }

  static func prefixed(_ prefix: String) -> [String] {
    NumpyFunctions.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
  }

  static func numpyNames() -> [String] {
    NumpyFunctions.names.filter { !$0.contains(".") } + [
      "newaxis", "ndarray", "pi", "e", "inf", "nan", "float16", "float32", "float64", "int64", "bool_", "load", "save",
    ]
  }

  /// `np.X`.
  static func numpyMember(_ name: String) -> Value? {
    switch name {
    case "newaxis": return Value.none
    case "pi": return .float(Double.pi)
    case "e": return .float(M_E)
    case "inf": return .float(.infinity)
    case "nan": return .float(.nan)
    case "load": return Builtins.anyFn("load", doc: FunctionDoc("np.load(path)", "read a .npy file (or a .csv file) into an array", "x = np.load(\"x.npy\")")) { ctx in try IOBuiltins.load(&ctx) }
    case "ndarray":
      // The array type, for isinstance(x, np.ndarray); arrays are made with np.array/np.zeros.
      return Builtins.anyFn("ndarray", doc: FunctionDoc("np.ndarray", "the array type, for isinstance(x, np.ndarray); make arrays with np.array or np.zeros", "isinstance(x, np.ndarray)")) { ctx in
        throw ShellError("np.ndarray(...) is not supported in ks; use np.array, np.zeros or np.empty", type: "TypeError", at: ctx.range)
      }
    case "save": return Builtins.anyFn("save", doc: FunctionDoc("np.save(path, array)", "write an array to a .npy file, atomically", "np.save(\"a.npy\", a)")) { ctx in try IOBuiltins.save(&ctx, valueFirst: false) }
    default:
      if let d = DType(name: name), ["float16", "float32", "float64", "int64", "bool_", "complex64", "complex128"].contains(name) { return .dtype(d) }
      return NumpyFunctions.constant(name) ?? NumpyFunctions.function(name)
    }
  }

  /// `math.X`: Python's math module (functions that differ from numpy's return Python numbers).
  static func mathMember(_ name: String) -> Value? {
    switch name {
    case "pi": return .float(Double.pi)
    case "e": return .float(M_E)
    case "inf": return .float(.infinity)
    case "nan": return .float(.nan)
    default: return NumpyFunctions.function("math." + name) ?? NumpyFunctions.function(name)
    }
  }
}

/// numpy's behaviour of arrays in operators, subscripts and methods.
struct NumpyArraySemantics: ArraySemantics {
  func unary(_ op: UnaryOperator, _ a: NDArray, at range: SourceRange) throws -> Value {
    .array(try NumpyOps.unary(op, a, at: range))
  }
  func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    try NumpyOps.binary(op, a, b, at: range)
  }
  func augmented(_ op: BinaryOperator, _ a: NDArray, _ b: Value, at range: SourceRange) throws -> Value {
    try NumpyOps.augmented(op, a, b, at: range)
  }
  func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    try NumpyOps.compare(op, a, b, at: range)
  }
  func getItem(_ a: NDArray, _ index: [Value], at range: SourceRange, itemRanges: [SourceRange]) throws -> Value {
    try NumpyOps.getItem(a, index, at: range, itemRanges: itemRanges)
  }
  func setItem(_ a: NDArray, _ index: [Value], _ value: Value, at range: SourceRange, itemRanges: [SourceRange])
    throws -> NDArray
  {
    try NumpyOps.setItem(a, index, value, at: range, itemRanges: itemRanges)
  }
  func pythonIndex(_ v: Value) -> Value { NumpyOps.pythonIndex(v) }
  func row(_ a: NDArray, _ i: Int) -> Value { NumpyOps.row(a, i) }
  func attribute(_ a: NDArray, _ name: String, at range: SourceRange) throws -> Value? {
    try ArrayMethods.attribute(a, name, at: range)
  }
  func callMethod(_ a: NDArray, _ name: String, _ ctx: inout CallContext) throws -> Value {
    try ArrayMethods.call(a, name, &ctx)
  }
  func callDType(_ d: DType, _ ctx: inout CallContext) throws -> Value {
    try NumpyFunctions.callDType(d, &ctx)
  }
  func array(from v: Value, at range: SourceRange) throws(ShellError) -> NDArray {
    try NumpyOps.array(from: v, dtype: nil, at: range)
  }
}
