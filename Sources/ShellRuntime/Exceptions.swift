import ArrayIO
import KSDiagnostics
import ShellSyntax

/// Python's built-in exception classes, as far as ks raises them or scripts name them.
public enum ExceptionClasses {
  /// Each class's base class.
  static let parents: [String: String] = [
    "Exception": "BaseException", "KeyboardInterrupt": "BaseException", "SystemExit": "BaseException",
    "ArithmeticError": "Exception", "ZeroDivisionError": "ArithmeticError", "OverflowError": "ArithmeticError",
    "FloatingPointError": "ArithmeticError", "LookupError": "Exception", "IndexError": "LookupError",
    "KeyError": "LookupError", "ValueError": "Exception", "TypeError": "Exception", "NameError": "Exception",
    "UnboundLocalError": "NameError", "AttributeError": "Exception", "RuntimeError": "Exception",
    "RecursionError": "RuntimeError", "NotImplementedError": "RuntimeError", "MemoryError": "Exception",
    "AssertionError": "Exception", "StopIteration": "Exception", "OSError": "Exception",
    "FileNotFoundError": "OSError", "ImportError": "Exception", "ModuleNotFoundError": "ImportError",
    "UserWarning": "Warning", "Warning": "Exception", "RuntimeWarning": "Warning",
  ]

  /// Every class name, `BaseException` included.
  public static var names: [String] { Array(parents.keys) + ["BaseException"] }

  /// Whether class `a` is `b` or derives from it.
  public static func isSubclass(_ a: String, of b: String) -> Bool {
    var c: String? = a
    while let name = c {
      if name == b { return true }
      c = parents[name]
    }
    return false
  }

  /// The classes as global values.
  static var globals: [String: Value] {
    Dictionary(uniqueKeysWithValues: names.map { ($0, Value.object(ExceptionClass(name: $0))) })
  }
}

/// An exception class as a value (`ValueError`): called, it makes an exception object.
public struct ExceptionClass: ShellObject {
  public var name: String

  public var typeName: String { "type" }
  public func repr(with options: PrintOptions) -> String { "<class '\(name)'>" }

  public func call(_ ctx: inout CallContext) throws -> Value {
    try ctx.finish(maxPositional: Int.max)
    return .object(ExceptionObject(className: name, args: ctx.positional))
  }

  public func attribute(_ attribute: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    attribute == "__name__" ? .str(name) : nil
  }
}

/// An exception object: its class and the arguments it was made with.
public struct ExceptionObject: ShellObject {
  public var className: String
  public var args: [Value]

  public var typeName: String { className }

  public func repr(with options: PrintOptions) -> String {
    args.count == 1
      ? "\(className)(\(args[0].repr(with: options)))"
      : "\(className)(" + args.map { $0.repr(with: options) }.joined(separator: ", ") + ")"
  }

  /// `str(e)`: the message.
  public func str(with options: PrintOptions) -> String {
    switch args.count {
    case 0: return ""
    case 1: return args[0].str(with: options)
    default: return Value.tuple(args).repr(with: options)
    }
  }

  public func attribute(_ attribute: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    attribute == "args" ? .tuple(args) : nil
  }
}

extension ShellError {
  /// Python's exception class of the error: the one its thrower gave, or else the one Python
  /// would raise for such a message (`ValueError` for the rest: shapes, dtypes, formulas).
  public var pythonType: String {
    if let exceptionType { return exceptionType }
    if interrupted { return "KeyboardInterrupt" }
    let m = message
    func has(_ s: String) -> Bool { m.contains(s) }
    if m.hasPrefix("name '") && has("is not defined") { return "NameError" }
    if has("division by zero") || has("modulo by zero") || has("float modulo") { return "ZeroDivisionError" }
    if has("index") && (has("out of range") || has("out of bounds")) { return "IndexError" }
    if m.hasPrefix("key ") && has("not found") { return "KeyError" }
    if has("has no attribute") { return "AttributeError" }
    if has("unable to allocate") || m.hasPrefix("MemoryError") { return "MemoryError" }
    if has("no module named") { return "ModuleNotFoundError" }
    if has("recursion depth") { return "RecursionError" }
    if has("overflow") { return "OverflowError" }
    let typeWords = [
      "unsupported operand", "not callable", "positional argument", "keyword argument", "missing required argument",
      "must be", "not supported between", "not iterable", "not subscriptable", "bad operand type",
      "does not support item", "unhashable", "argument after",
    ]
    if typeWords.contains(where: has) { return "TypeError" }
    return "ValueError"
  }

  /// The exception object `except ... as e` binds.
  public var exceptionObject: Value {
    exceptionValue ?? .object(ExceptionObject(className: pythonType, args: [.str(message)]))
  }
}

extension Interpreter {
  /// `raise`, `raise E`, `raise E(...)`, `raise E from cause`.
  func raise(_ exception: Expr?, at range: SourceRange) throws -> Never {
    guard let exception else {
      guard let current = handling.last else {
        throw ShellError("No active exception to reraise", type: "RuntimeError", at: range)
      }
      throw current
    }
    var value = try evaluate(exception)
    if case .object(let c as ExceptionClass) = value { value = .object(ExceptionObject(className: c.name, args: [])) }
    guard case .object(let e as ExceptionObject) = value else {
      throw ShellError("exceptions must derive from BaseException", type: "TypeError", at: exception.range)
    }
    let text = e.str(with: state.printOptions)
    var error = ShellError(text.isEmpty ? e.className : "\(e.className): \(text)", type: e.className, at: range)
    error.exceptionValue = value
    throw error
  }

  /// Whether handler type `type` (a class or a tuple of classes) catches `error`.
  func handles(_ type: Value, _ error: ShellError, at range: SourceRange) throws -> Bool {
    switch type {
    case .object(let c as ExceptionClass): return ExceptionClasses.isSubclass(error.pythonType, of: c.name)
    case .tuple(let items): return try items.contains { try handles($0, error, at: range) }
    default:
      throw ShellError("catching classes that do not inherit from BaseException is not allowed", type: "TypeError", at: range)
    }
  }

  /// Python's `try` statement; `return`, `break` and `continue` pass through `finally`.
  func runTry(_ t: TryStatement) throws {
    var pending: Error?
    do {
      var raised = false
      do {
        for s in t.body { try runBody(s) }
      } catch let flow as Flow {
        throw flow
      } catch {
        raised = true
        let shellError = error as? ShellError ?? ShellError("\(error)")
        guard let handler = try t.handlers.first(where: { h in
          guard let type = h.type else { return true }
          return try handles(try evaluate(type), shellError, at: type.range)
        }) else { throw error }
        if shellError.interrupted { cancel.reset() }
        if let name = handler.name { bind(name, shellError.exceptionObject) }
        handling.append(shellError)
        defer {
          handling.removeLast()
          if let name = handler.name { _ = unbind(name) }
        }
        for s in handler.body { try runBody(s) }
      }
      if !raised { for s in t.orElse ?? [] { try runBody(s) } }
    } catch {
      pending = error
    }
    if let finallyBlock = t.finally {
      for s in finallyBlock { try runBody(s) }
    }
    if let pending { throw pending }
  }
}
