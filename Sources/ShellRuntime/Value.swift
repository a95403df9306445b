import ArrayIO
import KSDiagnostics
import ShellSyntax

/// Where a string value was written, so errors inside a formula string can point into the script.
public struct StringOrigin: Sendable, Equatable {
  public var source: SourceText
  /// Byte offset of the string's first content byte in `source`.
  public var offset: Int
}

/// A string and, when it came straight from a literal, where it was written.
public struct StringValue: Sendable, Equatable {
  public var text: String
  public var origin: StringOrigin?

  public init(_ text: String, origin: StringOrigin? = nil) {
    self.text = text
    self.origin = origin
  }

  public static func == (a: StringValue, b: StringValue) -> Bool { a.text == b.text }
}

/// A built-in function or method of the shell language.
public struct BuiltinFunction: Sendable {
  public var name: String
  /// Its help (`help(f)`, `:help name`), written where the function is declared.
  public var doc: FunctionDoc?
  public var call: @Sendable (inout CallContext) throws(ShellError) -> Value

  public init(
    _ name: String, doc: FunctionDoc? = nil, _ call: @escaping @Sendable (inout CallContext) throws(ShellError) -> Value
  ) {
    self.name = name
    self.doc = doc
    self.call = call
  }
}

/// A function's help: its signature, a one-line summary and an example.
public struct FunctionDoc: Sendable, Equatable {
  public var signature: String
  public var summary: String
  public var example: String

  public init(_ signature: String, _ summary: String, _ example: String) {
    self.signature = signature
    self.summary = summary
    self.example = example
  }
}

/// A value of the `.ks` language: Python scalars and containers, numpy arrays, and KeOps objects.
public indirect enum Value: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  /// A Python complex number (real part, imaginary part).
  case complex(Double, Double)
  case string(StringValue)
  case list([Value])
  case tuple([Value])
  case dict([(Value, Value)])
  case array(NDArray)
  case dtype(DType)
  /// A value of a library's own type (Genred, KernelSolve, LazyTensor).
  case object(any ShellObject)
  /// A namespace such as `np`, `np.random`, `np.linalg`.
  case module(String)
  case builtin(BuiltinFunction)
  /// A method bound to its receiver, e.g. `x.reshape`.
  case method(receiver: Box, name: String)
  case slice(start: Int?, stop: Int?, step: Int?)
  case ellipsis

  /// A reference wrapper so that `Value` can hold itself inside a method.
  public final class Box: Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
  }

  public static func str(_ s: String) -> Value { .string(StringValue(s)) }

  /// Python's type name, for error messages.
  public var typeName: String {
    switch self {
    case .none: return "NoneType"
    case .bool: return "bool"
    case .int: return "int"
    case .float: return "float"
    case .complex: return "complex"
    case .string: return "str"
    case .list: return "list"
    case .tuple: return "tuple"
    case .dict: return "dict"
    case .array: return "ndarray"
    case .dtype: return "dtype"
    case .object(let o): return o.typeName
    case .module: return "module"
    case .builtin: return "builtin_function"
    case .method: return "method"
    case .slice: return "slice"
    case .ellipsis: return "ellipsis"
    }
  }
}

/// A failed statement: one or more located diagnostics (the statement's place, and possibly the
/// place inside a formula string written elsewhere).
public struct ShellError: Error, Sendable {
  public var message: String
  public var range: SourceRange?
  /// Diagnostics already placed in some source text (used for formula errors).
  public var located: [LocatedDiagnostic]
  public var notes: [String]
  /// True when the statement was stopped by the user (Ctrl-C).
  public var interrupted: Bool
  /// A variable to bind even though the statement failed (the last CG iterate).
  public var keep: (name: String, value: Value)?
  /// Python's exception class for the error when the thrower knows it (`IndexError`); otherwise
  /// `pythonType` infers it from the message.
  public var exceptionType: String?
  /// The exception object a script raised (`raise ValueError("...")`), bound by `except ... as e`.
  public var exceptionValue: Value?

  public init(_ message: String, at range: SourceRange? = nil, notes: [String] = []) {
    self.message = message
    self.range = range
    self.located = []
    self.notes = notes
    self.interrupted = false
    self.keep = nil
  }

  /// An error of Python class `type`, e.g. `ShellError("list index out of range", type: "IndexError", at: r)`.
  public init(_ message: String, type: String, at range: SourceRange? = nil, notes: [String] = []) {
    self.init(message, at: range, notes: notes)
    self.exceptionType = type
  }

  public init(located: [LocatedDiagnostic]) {
    self.message = located.first?.diagnostic.message ?? "error"
    self.range = nil
    self.located = located
    self.notes = []
    self.interrupted = false
    self.keep = nil
  }

  public static func interrupted(at range: SourceRange?) -> ShellError {
    var e = ShellError("interrupted", at: range)
    e.interrupted = true
    return e
  }

  /// The same error, placed at `range` if it has no place yet.
  public func placed(at range: SourceRange) -> ShellError {
    var e = self
    if e.range == nil && e.located.isEmpty { e.range = range }
    return e
  }
}

extension Value {
  /// Whether the value is `None`.
  public var isNone: Bool {
    if case .none = self { return true }
    return false
  }
}
