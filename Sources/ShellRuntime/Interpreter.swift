import ArrayIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif
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
  /// What libraries keep between statements, by library (matplotlib's open figures): rolled back
  /// with the variables when a statement fails.
  public var libraryState: [String: any Sendable] = [:]

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
  /// Where the echoed value of an expression statement goes (a notebook records it apart from
  /// what the statement printed); nil sends it to `output`.
  public var echoOutput: ((String) -> Void)?
  /// The source of the statement running now.
  /// The scopes of the script functions running now, innermost last (empty at top level).
  var frames: [Scope] = []
  /// The errors being handled by `except` blocks now, innermost last (for a bare `raise`).
  var handling: [ShellError] = []
  /// The modules written in the shell language that have run, by name: their variables.
  var scriptModules: [String: Scope] = [:]
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
    frames = []
    handling = []
    do {
      try onLargeStack { () throws(ShellError) in try run(statement) }
    } catch {
      state = saved
      frames = []
      handling = []
      if let (name, value) = error.keep { state.variables[name] = value }
      throw error
    }
  }

  /// The stack size of the thread statements run on: deep enough for `recursionLimit` nested
  /// script calls (each takes a few tens of kilobytes of native stack in a debug build).
  public static let defaultStackSize = 1 << 30
  /// The stack size statements run with, on a thread of their own; nil runs them on the caller's
  /// thread (where task-local values, e.g. in tests, stay visible) with the caller's stack.
  public var statementStackSize: Int? = Interpreter.defaultStackSize

  /// Runs `body` on a thread with a large stack and waits for it, so that deep recursion in a
  /// script ends in `RecursionError`, not in a crash of the shell.
  func onLargeStack(_ body: () throws(ShellError) -> Void) throws(ShellError) {
    guard let stackSize = statementStackSize else { return try body() }
    final class Job {
      let run: () throws(ShellError) -> Void
      var error: ShellError?
      init(_ run: @escaping () throws(ShellError) -> Void) { self.run = run }
    }
    var failure: ShellError?
    withoutActuallyEscaping(body) { body in
      let job = Job(body)
      var attributes = pthread_attr_t()
      pthread_attr_init(&attributes)
      defer { pthread_attr_destroy(&attributes) }
      pthread_attr_setstacksize(&attributes, stackSize)
      var thread = pthread_t()
      let context = Unmanaged.passRetained(job).toOpaque()
      let started = pthread_create(&thread, &attributes, { context in
        let job = Unmanaged<Job>.fromOpaque(context!).takeRetainedValue()
        do { try job.run() } catch { job.error = error as? ShellError ?? ShellError("\(error)") }
        return nil
      }, context)
      if started != 0 {
        // No thread could be made: run here, with the ordinary stack.
        let job = Unmanaged<Job>.fromOpaque(context).takeRetainedValue()
        do { try job.run() } catch { job.error = error as? ShellError ?? ShellError("\(error)") }
      } else {
        pthread_join(thread, nil)
      }
      failure = job.error
    }
    if let failure { throw failure }
  }

  /// Non-local exits: `break`, `continue`, `return`.
  enum Flow: Error { case breakLoop, continueLoop, returnValue(Value) }

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
      // Only statements of the session echo, not those inside a function (as in Python's REPL).
      guard frames.isEmpty else { return }
      if case .none = v { return }
      state.variables["_"] = v
      if echoValues && !statement.isQuiet { (echoOutput ?? output)(display(v) + "\n") }
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
          throw ShellError("no module named '\(m.dottedName)' (ks knows numpy, math, pykeops.numpy and matplotlib.pyplot)", at: m.range)
        }
        bind(m.boundName, .module(m.alias == nil ? m.module[0] : m.dottedName))
      }
    case .importFrom(let module, let moduleRange, let names):
      let dotted = module.joined(separator: ".")
      guard libraries.modules[dotted] != nil else {
        throw ShellError("no module named '\(dotted)' (ks knows numpy, math, pykeops.numpy and matplotlib.pyplot)", at: moduleRange)
      }
      for n in names where n.name != "*" {
        bind(n.boundName, try attribute(of: .module(dotted), n.name, at: n.range))
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
    case .functionDefinition(let f):
      try define(f)
    case .returnStatement(let value):
      throw Flow.returnValue(try value.map { try evaluate($0) } ?? .none)
    case .global, .nonlocal:
      // Declarations: the function's scope was built from them before its body ran.
      break
    case .tryStatement(let t):
      try runTry(t)
    case .raise(let exception, _):
      try raise(exception, at: statement.range)
    case .assert(let condition, let message):
      guard try truth(try evaluate(condition), at: condition.range) else {
        let text = try message.map { try evaluate($0).str(with: state.printOptions) }
        var e = ShellError(text.map { "AssertionError: \($0)" } ?? "AssertionError", type: "AssertionError", at: statement.range)
        e.exceptionValue = .object(ExceptionObject(className: "AssertionError", args: text.map { [.str($0)] } ?? []))
        throw e
      }
    case .delete(let targets):
      for t in targets { try delete(t) }
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
      bind(n, value)
    case .tuple(let items), .list(let items):
      let values = try iterate(value, at: target.range)
      if let star = items.firstIndex(where: { if case .starred = $0.kind { return true } else { return false } }) {
        // `a, *rest, b = values`: the starred target takes a list of what the others leave.
        let after = items.count - star - 1
        guard values.count >= items.count - 1 else {
          throw ShellError(
            "not enough values to unpack (expected at least \(items.count - 1), got \(values.count))", at: target.range)
        }
        for k in 0..<star { try assign(items[k], values[k]) }
        if case .starred(let inner) = items[star].kind {
          try assign(inner, .list(Array(values[star..<(values.count - after)])))
        }
        for k in 0..<after { try assign(items[star + 1 + k], values[values.count - after + k]) }
        return
      }
      guard values.count == items.count else {
        throw ShellError(
          values.count > items.count
            ? "too many values to unpack (expected \(items.count))"
            : "not enough values to unpack (expected \(items.count), got \(values.count))", at: target.range)
      }
      for (t, v) in zip(items, values) { try assign(t, v) }
    case .subscripted(let base, let items):
      // Containers are values in ks: `a[i][j] = v` rebuilds `a[i]` and assigns it back to `a[i]`.
      let current = try evaluate(base)
      try assign(base, try setItem(current, items, value, at: target.range))
    case .attribute(let base, let name, let nameRange):
      // `K.backend = "CPU"`: objects are values too; the changed object is stored back in `K`.
      let current = try evaluate(base)
      guard case .object(let o) = current,
        let updated = try o.settingAttribute(name, value, at: nameRange, in: self)
      else {
        throw ShellError(
          "'\(current.typeName)' object attribute '\(name)' cannot be set", type: "AttributeError", at: target.range)
      }
      try assign(base, .object(updated))
    default:
      throw ShellError("cannot assign to this expression", at: target.range)
    }
  }

  /// `del target`: unbinds a name, or removes an item of a list or dict.
  func delete(_ target: Expr) throws {
    switch target.kind {
    case .name(let n):
      guard unbind(n) else { throw ShellError("name '\(n)' is not defined", type: "NameError", at: target.range) }
    case .tuple(let items), .list(let items):
      for t in items { try delete(t) }
    case .subscripted(let base, let items):
      let container = try evaluate(base)
      let index = try indexValues(items)
      switch container {
      case .list(var xs):
        guard index.count == 1 else { throw ShellError("list indices must be integers or slices, not tuple", type: "TypeError", at: target.range) }
        switch index[0] {
        case .int(var k):
          if k < 0 { k += xs.count }
          guard k >= 0 && k < xs.count else { throw ShellError("list assignment index out of range", type: "IndexError", at: target.range) }
          xs.remove(at: k)
        case .slice(let a, let b, let c):
          let drop = Set(sliceIndices(count: xs.count, a, b, c))
          xs = xs.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        default:
          throw ShellError("list indices must be integers or slices, not \(index[0].typeName)", type: "TypeError", at: target.range)
        }
        try assign(base, .list(xs))
      case .dict(var entries):
        guard index.count == 1, let at = entries.firstIndex(where: { valuesEqual($0.0, index[0]) }) else {
          throw ShellError("key \(index.first?.repr ?? "()") not found", type: "KeyError", at: target.range)
        }
        entries.remove(at: at)
        try assign(base, .dict(entries))
      default:
        throw ShellError("'\(container.typeName)' object doesn't support item deletion", type: "TypeError", at: target.range)
      }
    default:
      throw ShellError("cannot delete this expression", at: target.range)
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

/// Rich output that a statement produces besides text, such as a figure shown by `plt.show()`:
/// one representation per MIME type, as Jupyter stores them ("image/svg+xml": the SVG text,
/// "image/png": the PNG bytes in base64, "text/plain": a one-line fallback). Libraries send it
/// through `Interpreter.events`; the session passes it to whoever records or shows outputs.
public struct DisplayData: RuntimeEvent, Equatable {
  public var data: [String: String]
  public init(data: [String: String]) { self.data = data }
}

/// A warning a library gives without failing the statement (a matplotlib call ks ignores); the
/// session prints it with the diagnostics, as `warning: MESSAGE`.
public struct ShellWarning: RuntimeEvent, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}
