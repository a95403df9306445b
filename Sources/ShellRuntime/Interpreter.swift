import ArrayIO
import FormulaLanguage
import KSDiagnostics
import KernelEngines
import ShellSyntax

/// The session's state: what a failed statement must leave untouched.
public struct SessionState: Sendable {
  /// Variables by name.
  public var variables: [String: Value] = [:]
  /// Aliases declared with `alias x = Vi(3)`, in declaration order: (name, definition text).
  public var aliases: [(name: String, definition: String)] = []
  /// The random generator (seeded with `np.random.seed(n)`).
  public var random = RandomState(seed: 0)
  /// The seed last set (saved at the top of `:save` files).
  public var seed: UInt64 = 0
  /// The engine used when a call does not name one (`:engine`).
  public var engine = "auto"
  /// How arrays print (`np.set_printoptions`, `:set precision 4`).
  public var printOptions = PrintOptions.defaults

  public init() {}
}

/// Runs statements of the `.ks` language against a session.
///
/// Each statement runs on a copy of the state that is committed only when it succeeds, so a
/// failed statement leaves every variable as it was.
public final class Interpreter {
  public var state = SessionState()
  /// Where printed output goes.
  public var output: (String) -> Void
  /// Set by Ctrl-C; long computations poll it.
  public let cancel = CancellationToken()
  /// Receives what long computations report while they run (a solver's iterations, its summary);
  /// nil shows nothing.
  public var events: ((any RuntimeEvent) -> Void)?
  /// The installed libraries (Python's builtins first, then numpy, PyKeOps).
  public let libraries: LibrarySet
  /// Whether expression statements echo their value.
  public var echoValues = true
  /// The source of the statement running now.
  public internal(set) var currentSource = SourceText(name: "<stdin>", text: "")

  /// An interpreter with Python's builtins and `libraries`.
  public init(libraries: [ShellLibrary] = [], output: @escaping (String) -> Void) {
    self.libraries = LibrarySet([Builtins.library] + libraries)
    self.output = output
  }

  /// The installed array semantics (numpy), or an error at `range` when none is installed.
  public func arrays(at range: SourceRange) throws(ShellError) -> any ArraySemantics {
    guard let a = libraries.arrays else { throw ShellError("arrays need the numpy library, which is not installed", at: range) }
    return a
  }

  /// Calls function `name` of module `module` with the arguments of `ctx` (a builtin handing an
  /// array to numpy: `abs(a)`, `sum(a)`).
  public func callLibraryFunction(_ module: String, _ name: String, _ ctx: inout CallContext) throws -> Value {
    guard let f = libraries.member(of: module, name) else {
      throw ShellError("\(module).\(name) is not available", at: ctx.range)
    }
    return try invoke(f, &ctx)
  }

  // MARK: - Statements

  /// Runs one top-level statement transactionally.
  public func execute(_ statement: Statement, in source: SourceText) throws(ShellError) {
    currentSource = source
    let saved = state
    do {
      try run(statement)
    } catch {
      state = saved
      if let (name, value) = error.keep { state.variables[name] = value }
      throw error
    }
  }

  enum Flow: Error { case breakLoop, continueLoop }

  func run(_ statement: Statement) throws(ShellError) {
    do {
      try runBody(statement)
    } catch let flow as Flow {
      _ = flow
      throw ShellError("'break' or 'continue' outside a loop", at: statement.range)
    } catch let e as ShellError {
      throw e
    } catch {
      throw ShellError("\(error)", at: statement.range)
    }
  }

  func runBody(_ statement: Statement) throws {
    switch statement.kind {
    case .expression(let e):
      let v = try evaluate(e)
      if case .none = v { return }
      state.variables["_"] = v
      if echoValues && !statement.isQuiet { output(display(v) + "\n") }
    case .assignment(let targets, let value):
      let v = try evaluate(value)
      for t in targets { try assign(t, v) }
    case .augmentedAssignment(let target, let op, let value):
      let current = try evaluate(target)
      let rhs = try evaluate(value)
      if case .array(let a) = current {
        // numpy keeps the left array's dtype (and refuses unsafe casts) for in-place operators.
        try assign(target, try arrays(at: statement.range).augmented(op, a, rhs, at: statement.range))
      } else {
        try assign(target, try binary(op, current, rhs, at: statement.range))
      }
    case .importModules(let modules):
      for m in modules {
        guard libraries.modules[m.dottedName] != nil else {
          throw ShellError("no module named '\(m.dottedName)' (ks knows numpy and pykeops.numpy)", at: m.range)
        }
        state.variables[m.boundName] = .module(m.alias == nil ? m.module[0] : m.dottedName)
      }
    case .importFrom(let module, let moduleRange, let names):
      let dotted = module.joined(separator: ".")
      guard libraries.modules[dotted] != nil else {
        throw ShellError("no module named '\(dotted)' (ks knows numpy and pykeops.numpy)", at: moduleRange)
      }
      for n in names where n.name != "*" {
        state.variables[n.boundName] = try attribute(of: .module(dotted), n.name, at: n.range)
      }
    case .pass:
      break
    case .breakLoop: throw Flow.breakLoop
    case .continueLoop: throw Flow.continueLoop
    case .ifStatement(let branches, let orElse):
      for b in branches where try truth(try evaluate(b.condition), at: b.condition.range) {
        for s in b.body { try runBody(s) }
        return
      }
      for s in orElse ?? [] { try runBody(s) }
    case .forLoop(let target, let iterable, let body, let orElse):
      let items = try iterate(try evaluate(iterable), at: iterable.range)
      var next = items.makeIterator()
      try runLoop(body, orElse: orElse, at: statement.range) {
        guard let item = next.next() else { return false }
        try assign(target, item)
        return true
      }
    case .whileLoop(let condition, let body, let orElse):
      try runLoop(body, orElse: orElse, at: statement.range) {
        try truth(try evaluate(condition), at: condition.range)
      }
    case .metaCommand(let name, _):
      throw ShellError("meta-command ':\(name)' is only available in the interactive shell", at: statement.range)
    case .alias(let bindings):
      try declareAliases(bindings)
    }
  }

  /// Python's loop semantics: run `body` while `advance()` says so (a `for` binds its next item
  /// there), `break` skips the `else` block, `continue` goes to the next round; Ctrl-C stops it.
  func runLoop(_ body: [Statement], orElse: [Statement]?, at range: SourceRange, advance: () throws -> Bool) throws {
    loop: while true {
      try checkCancelled(range)
      guard try advance() else { break }
      for s in body {
        do {
          try runBody(s)
        } catch Flow.breakLoop {
          return
        } catch Flow.continueLoop {
          continue loop
        }
      }
    }
    for s in orElse ?? [] { try runBody(s) }
  }

  public func checkCancelled(_ range: SourceRange) throws(ShellError) {
    if cancel.isCancelled { throw ShellError.interrupted(at: range) }
  }

  func declareAliases(_ bindings: [AliasBinding]) throws(ShellError) {
    for b in bindings {
      let text = "\(b.name) = \(b.definition)"
      do {
        _ = try AliasDeclaration.parse(text, positionInList: 0)
      } catch {
        throw ShellError(error.message, at: b.definitionRange)
      }
      state.aliases.removeAll { $0.name == b.name }
      state.aliases.append((b.name, b.definition))
    }
  }

  // MARK: - Assignment

  public func assign(_ target: Expr, _ value: Value) throws {
    switch target.kind {
    case .name(let n):
      state.variables[n] = value
    case .tuple(let items), .list(let items):
      let values = try iterate(value, at: target.range)
      guard values.count == items.count else {
        throw ShellError(
          values.count > items.count
            ? "too many values to unpack (expected \(items.count))"
            : "not enough values to unpack (expected \(items.count), got \(values.count))", at: target.range)
      }
      for (t, v) in zip(items, values) { try assign(t, v) }
    case .subscripted(let base, let items):
      guard case .name(let n) = base.kind, let current = state.variables[n] else {
        throw ShellError("can only assign into an item of a named variable", at: target.range)
      }
      state.variables[n] = try setItem(current, items, value, at: target.range)
    default:
      throw ShellError("cannot assign to this expression", at: target.range)
    }
  }

  // MARK: - Display

  /// The text an expression statement echoes.
  public func display(_ v: Value) -> String {
    v.repr(with: state.printOptions)
  }
}

/// Something a long computation reports while it runs (a solver's iteration, its summary).
public protocol RuntimeEvent: Sendable {}
