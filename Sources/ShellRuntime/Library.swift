import ArrayIO
import KSDiagnostics
import ShellSyntax

// The runtime knows Python; what numpy and PyKeOps add to the language reaches it through the
// three extension points of this file, installed by the modules above it:
//
// - a `ShellLibrary` brings global names and importable modules;
// - `ArraySemantics` says how numpy arrays behave in operators, subscripts and methods;
// - a `ShellObject` is a value of a library's own type (a Genred, a LazyTensor) that decides how it
//   prints, calls, and combines with other values.

/// What a library module adds to the language: global names and importable modules.
public struct ShellLibrary: Sendable {
  /// Names visible without an import (`print`, `Genred`, `sqrt`).
  public var globals: [String: Value]
  /// Modules by dotted name (`numpy`, `numpy.random`, `pykeops.numpy`).
  public var modules: [String: ShellModule]
  /// How arrays behave (numpy); at most one installed library brings it.
  public var arrays: (any ArraySemantics)?

  /// Creates a library.
  public init(globals: [String: Value] = [:], modules: [ShellModule] = [], arrays: (any ArraySemantics)? = nil) {
    self.globals = globals
    self.modules = Dictionary(modules.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
    self.arrays = arrays
  }
}

/// An importable module: its members by name.
public struct ShellModule: Sendable {
  /// The dotted name, e.g. `numpy.linalg`.
  public var name: String
  /// The member called `name`, or nil.
  public var member: @Sendable (_ name: String) -> Value?
  /// Every member's name (completion, did-you-mean).
  public var memberNames: @Sendable () -> [String]
  /// For a module written in the shell language: its source, run once per interpreter on first
  /// use; its members are the names it binds (besides `member`'s).
  public var source: String?

  /// Creates a module from a lookup function.
  public init(
    _ name: String, memberNames: @escaping @Sendable () -> [String],
    member: @escaping @Sendable (_ name: String) -> Value?
  ) {
    self.name = name
    self.member = member
    self.memberNames = memberNames
  }

  /// Creates a module from a fixed table.
  public init(_ name: String, members: [String: Value]) {
    self.init(name, memberNames: { Array(members.keys) }, member: { members[$0] })
  }

  /// Creates a module written in the shell language; `names` are the names it defines.
  public init(_ name: String, source: String, names: [String]) {
    self.init(name, memberNames: { names }, member: { _ in nil })
    self.source = source
  }
}

/// The libraries one interpreter runs with, merged: later libraries win on a name clash.
public struct LibrarySet: Sendable {
  public private(set) var globals: [String: Value] = [:]
  public private(set) var modules: [String: ShellModule] = [:]
  public private(set) var arrays: (any ArraySemantics)?

  /// Merges `libraries` in order.
  public init(_ libraries: [ShellLibrary]) {
    for l in libraries {
      globals.merge(l.globals) { _, b in b }
      modules.merge(l.modules) { _, b in b }
      if let a = l.arrays { arrays = a }
    }
  }

  /// The global called `name`.
  public func global(_ name: String) -> Value? { globals[name] }

  /// Every global name.
  public var globalNames: [String] { Array(globals.keys) }

  /// Member `name` of module `module`.
  public func member(of module: String, _ name: String) -> Value? {
    if let m = modules[module]?.member(name) { return m }
    // A submodule: `np.linalg` is the module `numpy.linalg`.
    if modules[module + "." + name] != nil { return .module(module + "." + name) }
    return nil
  }

  /// Every member name of `module`, submodules included.
  public func memberNames(of module: String) -> [String] {
    let prefix = module + "."
    let subs = modules.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains(".") }
      .map { String($0.dropFirst(prefix.count)) }
    return (modules[module]?.memberNames() ?? []) + subs
  }
}

/// numpy's arrays in the language: installed by the numpy module, used by the interpreter for
/// every operation whose operand is an array.
public protocol ArraySemantics: Sendable {
  /// `-a`, `+a`, `~a`, `not a`.
  func unary(_ op: UnaryOperator, _ a: NDArray, at range: SourceRange) throws -> Value
  /// `a op b` where at least one side is an array.
  func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value
  /// `a op= b` on an array (keeps its dtype).
  func augmented(_ op: BinaryOperator, _ a: NDArray, _ b: Value, at range: SourceRange) throws -> Value
  /// `a < b` where at least one side is an array.
  func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value
  /// `a[index]`.
  func getItem(_ a: NDArray, _ index: [Value], at range: SourceRange, itemRanges: [SourceRange]) throws -> Value
  /// `a[index] = value`, as a new array.
  func setItem(_ a: NDArray, _ index: [Value], _ value: Value, at range: SourceRange, itemRanges: [SourceRange])
    throws -> NDArray
  /// A 0-d integer array as a Python int, for indexing lists (`xs[np.int64(1)]`).
  func pythonIndex(_ v: Value) -> Value
  /// `a[i]` for iteration.
  func row(_ a: NDArray, _ i: Int) -> Value
  /// `a.name`, or nil when arrays have no such attribute.
  func attribute(_ a: NDArray, _ name: String, at range: SourceRange) throws -> Value?
  /// `a.name(...)`.
  func callMethod(_ a: NDArray, _ name: String, _ ctx: inout CallContext) throws -> Value
  /// `np.float32(x)`: calling a dtype.
  func callDType(_ d: DType, _ ctx: inout CallContext) throws -> Value
  /// A Python value (number, nested list) as an array.
  func array(from v: Value, at range: SourceRange) throws(ShellError) -> NDArray
}

/// A value of a library's own type (Genred, KernelSolve, LazyTensor).
///
/// Every requirement but `typeName` and `repr` has a default that refuses the operation with
/// Python's message; a type implements what it supports. Operator methods return nil when the
/// other operand is of a type they do not combine with.
public protocol ShellObject: Sendable {
  /// Python's type name, for messages (`Genred`, `LazyTensor`).
  var typeName: String { get }
  /// What the shell echoes for the value.
  func repr(with options: PrintOptions) -> String
  /// `str(value)`; defaults to `repr`.
  func str(with options: PrintOptions) -> String
  /// `value.name`, or nil when there is no such attribute.
  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value?
  /// `value(...)`.
  func call(_ ctx: inout CallContext) throws -> Value
  /// `value op other` (or `other op value` when `reflected`).
  func binary(_ op: BinaryOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter)
    throws -> Value?
  /// `-value`, `abs` etc.
  func unary(_ op: UnaryOperator, at range: SourceRange, in interpreter: Interpreter) throws -> Value?
  /// `value op other` for comparisons (`reflected`: `other op value`).
  func compare(
    _ op: ComparisonOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter
  ) throws -> Value?
  /// `value[index]`.
  func getItem(_ index: [Value], at range: SourceRange, in interpreter: Interpreter) throws -> Value?
  /// The items `for item in value` visits, or nil when the value is not iterable.
  func items(at range: SourceRange, in interpreter: Interpreter) throws -> [Value]?
  /// `value.name = new`: the object with the attribute set (objects are values), or nil when it
  /// cannot be set.
  func settingAttribute(_ name: String, _ new: Value, at range: SourceRange, in interpreter: Interpreter) throws
    -> (any ShellObject)?
}

extension ShellObject {
  public func str(with options: PrintOptions) -> String { repr(with: options) }
  public func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? { nil }
  public func call(_ ctx: inout CallContext) throws -> Value {
    throw ShellError("'\(typeName)' object is not callable", at: ctx.range)
  }
  public func binary(
    _ op: BinaryOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter
  ) throws -> Value? { nil }
  public func unary(_ op: UnaryOperator, at range: SourceRange, in interpreter: Interpreter) throws -> Value? { nil }
  public func compare(
    _ op: ComparisonOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter
  ) throws -> Value? { nil }
  public func getItem(_ index: [Value], at range: SourceRange, in interpreter: Interpreter) throws -> Value? { nil }
  public func items(at range: SourceRange, in interpreter: Interpreter) throws -> [Value]? { nil }
  public func settingAttribute(_ name: String, _ new: Value, at range: SourceRange, in interpreter: Interpreter) throws
    -> (any ShellObject)?
  { nil }
}
