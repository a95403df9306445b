import KSDiagnostics
import ShellSyntax

/// The local variables of one function call (or one comprehension), with Python's scoping rules.
///
/// A name assigned anywhere in a function body is local to it (unless declared `global` or
/// `nonlocal`); other names are looked up in the enclosing function scopes (closures keep them
/// alive, and see later changes: Python's cells), then in the session's variables, then in the
/// builtins. Scopes are reference objects because closures share them.
public final class Scope: @unchecked Sendable {
  /// The variables bound so far.
  var variables: [String: Value]
  /// The scope of the function this one's function was defined in (nil: module level).
  let enclosing: Scope?
  /// Names local to this scope (parameters and every assigned name).
  let locals: Set<String>
  /// Names declared `global`.
  let globals: Set<String>
  /// Names declared `nonlocal`.
  let nonlocals: Set<String>

  init(
    variables: [String: Value], enclosing: Scope?, locals: Set<String>, globals: Set<String> = [],
    nonlocals: Set<String> = []
  ) {
    self.variables = variables
    self.enclosing = enclosing
    self.locals = locals
    self.globals = globals
    self.nonlocals = nonlocals
  }

  /// The scope along the enclosing chain that owns `name` for a `nonlocal` declaration.
  func owner(of name: String) -> Scope? {
    var s = enclosing
    while let scope = s {
      if scope.locals.contains(name) && !scope.nonlocals.contains(name) && !scope.globals.contains(name) { return scope }
      s = scope.enclosing
    }
    return nil
  }
}

/// What a function body declares: its local names, and its `global` / `nonlocal` names.
struct ScopeDeclarations {
  var assigned: Set<String> = []
  var globals: Set<String> = []
  var nonlocals: Set<String> = []

  /// The declarations of `body` (nested functions' bodies excluded: they have their own scope).
  init(_ body: [Statement]) {
    for s in body { collect(s) }
  }

  /// The local names: assigned ones that are not declared `global` or `nonlocal`.
  var locals: Set<String> { assigned.subtracting(globals).subtracting(nonlocals) }

  mutating func collect(_ s: Statement) {
    switch s.kind {
    case .assignment(let targets, _):
      for t in targets { collectTarget(t) }
    case .augmentedAssignment(let target, _, _):
      collectTarget(target)
    case .importModules(let modules):
      for m in modules { assigned.insert(m.boundName) }
    case .importFrom(_, _, let names):
      for n in names where n.name != "*" { assigned.insert(n.boundName) }
    case .ifStatement(let branches, let orElse):
      for b in branches { for x in b.body { collect(x) } }
      for x in orElse ?? [] { collect(x) }
    case .forLoop(let target, _, let body, let orElse):
      collectTarget(target)
      for x in body + (orElse ?? []) { collect(x) }
    case .whileLoop(_, let body, let orElse):
      for x in body + (orElse ?? []) { collect(x) }
    case .functionDefinition(let f):
      assigned.insert(f.name)
    case .global(let names):
      globals.formUnion(names)
    case .nonlocal(let names):
      nonlocals.formUnion(names)
    case .tryStatement(let t):
      for x in t.body + (t.orElse ?? []) + (t.finally ?? []) { collect(x) }
      for h in t.handlers {
        if let n = h.name { assigned.insert(n) }
        for x in h.body { collect(x) }
      }
    case .delete(let targets):
      for t in targets { collectTarget(t) }
    case .expression, .pass, .breakLoop, .continueLoop, .metaCommand, .alias, .returnStatement, .raise, .assert:
      break
    }
  }

  mutating func collectTarget(_ e: Expr) {
    switch e.kind {
    case .name(let n): assigned.insert(n)
    case .tuple(let items), .list(let items): for i in items { collectTarget(i) }
    case .starred(let inner): collectTarget(inner)
    default: break
    }
  }
}

extension Interpreter {
  /// The value of variable `name`, following Python's scoping rules, or nil when it is unbound
  /// everywhere (an unbound local is an error).
  func lookup(_ name: String, at range: SourceRange) throws(ShellError) -> Value? {
    if let frame = frames.last {
      if frame.globals.contains(name) { return state.variables[name] ?? libraries.global(name) }
      if frame.nonlocals.contains(name) {
        if let v = frame.owner(of: name)?.variables[name] { return v }
        throw unboundFree(name, at: range)
      }
      if frame.locals.contains(name) {
        if let v = frame.variables[name] { return v }
        var e = ShellError("cannot access local variable '\(name)' where it is not associated with a value", at: range)
        e.exceptionType = "UnboundLocalError"
        throw e
      }
      var s = frame.enclosing
      while let scope = s {
        if let v = scope.variables[name], !scope.globals.contains(name) { return v }
        if scope.locals.contains(name) && !scope.nonlocals.contains(name) && !scope.globals.contains(name) {
          throw unboundFree(name, at: range)
        }
        s = scope.enclosing
      }
    }
    return state.variables[name] ?? libraries.global(name)
  }

  func unboundFree(_ name: String, at range: SourceRange) -> ShellError {
    var e = ShellError(
      "cannot access free variable '\(name)' where it is not associated with a value in enclosing scope", at: range)
    e.exceptionType = "NameError"
    return e
  }

  /// Binds `name` in the scope Python would: the current function's locals, a `global`, or the
  /// enclosing function's variable for a `nonlocal`.
  func bind(_ name: String, _ value: Value) {
    guard let frame = frames.last else {
      state.variables[name] = value
      return
    }
    if frame.globals.contains(name) {
      state.variables[name] = value
    } else if frame.nonlocals.contains(name), let owner = frame.owner(of: name) {
      owner.variables[name] = value
    } else {
      frame.variables[name] = value
    }
  }

  /// Removes the binding of `name` (`del name`); false when it was not bound.
  func unbind(_ name: String) -> Bool {
    guard let frame = frames.last else { return state.variables.removeValue(forKey: name) != nil }
    if frame.globals.contains(name) { return state.variables.removeValue(forKey: name) != nil }
    if frame.nonlocals.contains(name), let owner = frame.owner(of: name) {
      return owner.variables.removeValue(forKey: name) != nil
    }
    return frame.variables.removeValue(forKey: name) != nil
  }

  /// Every name visible from here (for did-you-mean suggestions).
  var visibleNames: [String] {
    var names = Array(state.variables.keys) + libraries.globalNames
    var s = frames.last
    while let scope = s {
      names += scope.variables.keys
      s = scope.enclosing
    }
    return names
  }
}
