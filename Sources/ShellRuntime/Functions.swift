import ArrayIO
import KSDiagnostics
import ShellSyntax

/// A function written in the script: a `def` or a `lambda`, with the scope it closes over.
public final class FunctionValue: ShellObject, @unchecked Sendable {
  /// What runs when the function is called.
  enum Body {
    case statements([Statement])
    case expression(Expr)
  }

  /// The function's name (`<lambda>` for a lambda).
  public let name: String
  let parameters: [Parameter]
  /// The default values, evaluated when the `def` ran, by parameter name.
  let defaults: [String: Value]
  let body: Body
  /// The docstring, if the body starts with one.
  public let docstring: String?
  /// The text the function was written in (its errors point there).
  let source: SourceText
  /// The scope it was defined in (nil: the session's variables).
  let closure: Scope?
  let declarations: ScopeDeclarations

  init(
    name: String, parameters: [Parameter], defaults: [String: Value], body: Body, docstring: String?,
    source: SourceText, closure: Scope?
  ) {
    self.name = name
    self.parameters = parameters
    self.defaults = defaults
    self.body = body
    self.docstring = docstring
    self.source = source
    self.closure = closure
    switch body {
    case .statements(let statements): declarations = ScopeDeclarations(statements)
    case .expression: declarations = ScopeDeclarations([])
    }
  }

  public var typeName: String { "function" }

  public func repr(with options: PrintOptions) -> String { "<function \(name)>" }

  /// `name(a, b=1, *args, c, **kw)`: the signature as written.
  public var signature: String {
    var parts: [String] = []
    var starred = false
    for p in parameters {
      let value = defaults[p.name].map { "=" + $0.repr } ?? ""
      switch p.kind {
      case .positionalOnly, .positionalOrKeyword: parts.append(p.name + value)
      case .variadicPositional:
        parts.append("*" + p.name)
        starred = true
      case .keywordOnly:
        if !starred {
          parts.append("*")
          starred = true
        }
        parts.append(p.name + value)
      case .variadicKeyword: parts.append("**" + p.name)
      }
    }
    if let last = parameters.lastIndex(where: { $0.kind == .positionalOnly }) {
      parts.insert("/", at: last + 1)
    }
    return "\(name)(" + parts.joined(separator: ", ") + ")"
  }

  public func attribute(_ attribute: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    switch attribute {
    case "__name__": return .str(name)
    case "__doc__": return docstring.map { .str($0) } ?? Value.none
    default: return nil
    }
  }

  public func call(_ ctx: inout CallContext) throws -> Value {
    try ctx.interpreter.callFunction(self, &ctx)
  }

  /// Binds call arguments to parameters as Python does, with Python's messages.
  func bindArguments(_ ctx: CallContext) throws(ShellError) -> [String: Value] {
    var bound: [String: Value] = [:]
    let positionalParameters = parameters.filter { $0.kind == .positionalOnly || $0.kind == .positionalOrKeyword }
    let variadic = parameters.first { $0.kind == .variadicPositional }
    let variadicKeywords = parameters.first { $0.kind == .variadicKeyword }
    for (k, v) in ctx.positional.enumerated() where k < positionalParameters.count {
      bound[positionalParameters[k].name] = v
    }
    if ctx.positional.count > positionalParameters.count {
      let extra = Array(ctx.positional[positionalParameters.count...])
      guard let variadic else {
        let n = positionalParameters.count
        let required = positionalParameters.filter { defaults[$0.name] == nil }.count
        let takes = required == n ? "\(n)" : "from \(required) to \(n)"
        throw ShellError(
          "\(name)() takes \(takes) positional argument\(n == 1 ? "" : "s") but \(ctx.positional.count) \(ctx.positional.count == 1 ? "was" : "were") given",
          type: "TypeError", at: ctx.rangeOf(positionalParameters.count))
      }
      bound[variadic.name] = .tuple(extra)
    }
    var extraKeywords: [(Value, Value)] = []
    for kw in ctx.keywords {
      if let p = parameters.first(where: { $0.name == kw.name && ($0.kind == .positionalOrKeyword || $0.kind == .keywordOnly) }) {
        if bound[p.name] != nil {
          throw ShellError("\(name)() got multiple values for argument '\(kw.name)'", type: "TypeError", at: kw.range)
        }
        bound[p.name] = kw.value
      } else if variadicKeywords != nil {
        extraKeywords.append((.str(kw.name), kw.value))
      } else if parameters.contains(where: { $0.name == kw.name && $0.kind == .positionalOnly }) {
        throw ShellError(
          "\(name)() got some positional-only arguments passed as keyword arguments: '\(kw.name)'", type: "TypeError",
          at: kw.range)
      } else {
        throw ShellError("\(name)() got an unexpected keyword argument '\(kw.name)'", type: "TypeError", at: kw.range)
      }
    }
    if let variadic, bound[variadic.name] == nil { bound[variadic.name] = .tuple([]) }
    if let variadicKeywords { bound[variadicKeywords.name] = .dict(extraKeywords) }
    var missing: [String] = []
    var missingKeywordOnly: [String] = []
    for p in parameters where bound[p.name] == nil {
      if let d = defaults[p.name] {
        bound[p.name] = d
      } else if p.kind == .keywordOnly {
        missingKeywordOnly.append(p.name)
      } else {
        missing.append(p.name)
      }
    }
    for (names, what) in [(missing, "positional"), (missingKeywordOnly, "keyword-only")] where !names.isEmpty {
      let quoted = names.map { "'\($0)'" }
      let list = quoted.count == 1 ? quoted[0] : quoted.dropLast().joined(separator: ", ") + " and " + quoted.last!
      throw ShellError(
        "\(name)() missing \(names.count) required \(what) argument\(names.count == 1 ? "" : "s"): \(list)",
        type: "TypeError", at: ctx.range)
    }
    return bound
  }
}

extension Interpreter {
  /// The deepest nesting of script function calls before `RecursionError` (Python's default).
  public static let recursionLimit = 1000

  /// `def name(...): ...`: evaluates the defaults and binds the function.
  func define(_ f: FunctionDefinition) throws {
    let defaults = try evaluateDefaults(f.parameters)
    let function = FunctionValue(
      name: f.name, parameters: f.parameters, defaults: defaults, body: .statements(f.body), docstring: f.docstring,
      source: currentSource, closure: frames.last)
    bind(f.name, .object(function))
  }

  /// `lambda parameters: body`.
  func makeLambda(_ parameters: [Parameter], _ body: Expr) throws -> Value {
    let defaults = try evaluateDefaults(parameters)
    return .object(
      FunctionValue(
        name: "<lambda>", parameters: parameters, defaults: defaults, body: .expression(body), docstring: nil,
        source: currentSource, closure: frames.last))
  }

  func evaluateDefaults(_ parameters: [Parameter]) throws -> [String: Value] {
    var defaults: [String: Value] = [:]
    for p in parameters { if let d = p.defaultValue { defaults[p.name] = try evaluate(d) } }
    return defaults
  }

  /// Runs a script function: binds the arguments in a new scope, runs the body, and places any
  /// error that escapes in the function's own text, noting where it was called.
  func callFunction(_ f: FunctionValue, _ ctx: inout CallContext) throws -> Value {
    let arguments = try f.bindArguments(ctx)
    guard frames.count < Self.recursionLimit else {
      throw ShellError("maximum recursion depth exceeded (\(Self.recursionLimit) nested calls)", type: "RecursionError", at: ctx.range)
    }
    try checkCancelled(ctx.range)
    let scope = Scope(
      variables: arguments, enclosing: f.closure,
      locals: f.declarations.locals.union(f.parameters.map(\.name)), globals: f.declarations.globals,
      nonlocals: f.declarations.nonlocals)
    let callerSource = currentSource
    frames.append(scope)
    currentSource = f.source
    defer {
      frames.removeLast()
      currentSource = callerSource
    }
    do {
      switch f.body {
      case .expression(let e):
        return try evaluate(e)
      case .statements(let statements):
        for s in statements { try runBody(s) }
        return .none
      }
    } catch Flow.returnValue(let v) {
      return v
    } catch let e as ShellError {
      throw located(e, in: f.source, calledAs: f.name, from: callerSource, at: ctx.range)
    }
  }

  /// An error raised in `source` (a function's text), placed there, with a note naming the call.
  func located(_ e: ShellError, in source: SourceText, calledAs name: String, from caller: SourceText, at call: SourceRange)
    -> ShellError
  {
    var out = e
    if out.located.isEmpty, let range = out.range {
      out.located = [LocatedDiagnostic(Diagnostic(out.message, at: range, notes: out.notes), in: source)]
      out.notes = []
    }
    let (line, column) = caller.location(of: call.start)
    let note = "in \(name)(), called at \(caller.name):\(line):\(column)"
    // A recursion repeats the same call: say how often instead of printing it a thousand times.
    if let last = out.notes.last, last == note || last.hasPrefix(note + " [") {
      let repeats = Int(last.dropFirst(note.count + 2).prefix { $0.isNumber }) ?? 0
      out.notes[out.notes.count - 1] = note + " [\(repeats + 1) more times]"
    } else {
      out.notes.append(note)
    }
    return out
  }
}
