import ArrayIO
import KSDiagnostics
import ShellSyntax

extension Interpreter {
  /// Evaluates an expression.
  public func evaluate(_ e: Expr) throws -> Value {
    switch e.kind {
    case .name(let n):
      if let v = try lookup(n, at: e.range) { return v }
      let hint = Suggestions.closest(to: n, among: visibleNames).map { "; did you mean '\($0)'?" } ?? ""
      throw ShellError("name '\(n)' is not defined\(hint)", type: "NameError", at: e.range)
    case .integer(let i): return .int(i)
    case .float(let x): return .float(x)
    case .imaginary(let y): return .complex(0, y)
    case .string(let s):
      return .string(StringValue(s.value, origin: s.contentOffset.map { StringOrigin(source: currentSource, offset: $0) }))
    case .formattedString(let parts):
      var out = ""
      for p in parts {
        switch p {
        case .literal(let text, _): out += text
        case .field(let f):
          let v = try evaluate(f.expression)
          let options = state.printOptions
          if let d = f.debugText { out += d }
          var text: String
          switch f.conversion {
          case .repr?, .ascii?: text = v.repr(with: options)
          case .str?: text = v.str(with: options)
          case nil: text = v.str(with: options)
          }
          if let spec = f.formatSpec {
            text = try Format.apply(spec, to: v, options: options, at: f.formatSpecRange ?? f.range)
          } else if f.debugText != nil && f.conversion == nil {
            text = v.repr(with: options)
          }
          out += text
        }
      }
      return .str(out)
    case .boolean(let b): return .bool(b)
    case .noneLiteral: return .none
    case .ellipsis: return .ellipsis
    case .list(let items): return .list(try evaluateItems(items))
    case .tuple(let items): return .tuple(try evaluateItems(items))
    case .dictionary(let entries):
      var out: [(Value, Value)] = []
      for en in entries { out.append((try evaluate(en.key), try evaluate(en.value))) }
      return .dict(out)
    case .listComprehension(let element, let clauses), .generator(let element, let clauses):
      // A comprehension has its own scope: its loop variables do not leak.
      var targets = ScopeDeclarations([])
      for c in clauses { targets.collectTarget(c.target) }
      frames.append(Scope(variables: [:], enclosing: frames.last, locals: targets.assigned))
      defer { frames.removeLast() }
      var out: [Value] = []
      try comprehend(element, clauses[...], into: &out)
      return .list(out)
    case .starred:
      throw ShellError("can't use starred expression here", at: e.range)
    case .attribute(let base, let name, let nameRange):
      return try attribute(of: try evaluate(base), name, at: nameRange)
    case .call(let callee, let arguments):
      return try call(callee, arguments, at: e.range)
    case .subscripted(let base, let items):
      return try getItem(try evaluate(base), items, at: e.range)
    case .unary(let op, let operand):
      let v = try evaluate(operand)
      return try unary(op, v, at: e.range)
    case .binary(let op, let lhs, let rhs):
      return try binary(op, try evaluate(lhs), try evaluate(rhs), at: e.range)
    case .logical(let op, let lhs, let rhs):
      let a = try evaluate(lhs)
      let t = try truth(a, at: lhs.range)
      switch op {
      case .and: return t ? try evaluate(rhs) : a
      case .or: return t ? a : try evaluate(rhs)
      }
    case .comparison(let first, let rest):
      var left = try evaluate(first)
      var result: Value = .bool(true)
      for link in rest {
        let right = try evaluate(link.operand)
        result = try compare(link.op, left, right, at: e.range)
        if case .array = result { if rest.count == 1 { return result } }
        if !(try truth(result, at: e.range)) { return result }
        left = right
      }
      return result
    case .conditional(let condition, let then, let otherwise):
      return try truth(try evaluate(condition), at: condition.range) ? try evaluate(then) : try evaluate(otherwise)
    case .lambda(let parameters, let body):
      return try makeLambda(parameters, body)
    }
  }

  func evaluateItems(_ items: [Expr]) throws -> [Value] {
    var out: [Value] = []
    for item in items {
      if case .starred(let inner) = item.kind {
        out += try iterate(try evaluate(inner), at: inner.range)
      } else {
        out.append(try evaluate(item))
      }
    }
    return out
  }

  func comprehend(_ element: Expr, _ clauses: ArraySlice<ComprehensionClause>, into out: inout [Value]) throws {
    guard let clause = clauses.first else {
      out.append(try evaluate(element))
      return
    }
    for item in try iterate(try evaluate(clause.iterable), at: clause.iterable.range) {
      try assign(clause.target, item)
      var ok = true
      for c in clause.conditions where !(try truth(try evaluate(c), at: c.range)) { ok = false; break }
      if ok { try comprehend(element, clauses.dropFirst(), into: &out) }
    }
  }

  // MARK: - Calls

  public func call(_ callee: Expr, _ arguments: [CallArgument], at range: SourceRange) throws -> Value {
    let f = try evaluate(callee)
    var positional: [Value] = []
    var positionalRanges: [SourceRange] = []
    var keywords: [(name: String, value: Value, range: SourceRange)] = []
    for a in arguments {
      switch a.kind {
      case .positional(let e):
        positional.append(try evaluate(e))
        positionalRanges.append(e.range)
      case .keyword(let name, _, let e):
        keywords.append((name, try evaluate(e), a.range))
      case .unpacked(let e):
        for v in try iterate(try evaluate(e), at: e.range) {
          positional.append(v)
          positionalRanges.append(e.range)
        }
      case .unpackedKeywords(let e):
        guard case .dict(let entries) = try evaluate(e) else { throw ShellError("argument after ** must be a dict", at: e.range) }
        for (k, v) in entries {
          guard case .string(let s) = k else { throw ShellError("keywords must be strings", at: e.range) }
          keywords.append((s.text, v, e.range))
        }
      }
    }
    var ctx = CallContext(
      name: calleeName(callee, f), positional: positional, positionalRanges: positionalRanges,
      keywords: keywords, range: range, interpreter: self)
    if case .method(let receiver, let name) = f, ContainerMethods.has(receiver.value, name) {
      let (result, updated) = try ContainerMethods.call(receiver.value, name, &ctx)
      // Store the changed container back where it was read from, when that is a variable or an item.
      if ContainerMethods.mutating.contains(name), case .attribute(let base, _, _) = callee.kind, isAssignable(base) {
        try assign(base, updated)
      }
      return result
    }
    let result = try invoke(f, &ctx)
    // `out=` arrays: ks arrays are values, so the result is stored back into the variable named there.
    for (keyword, value) in ctx.writeBack {
      for a in arguments {
        if case .keyword(let name, _, let e) = a.kind, name == keyword, isAssignable(e) { try assign(e, value) }
      }
    }
    return result
  }

  /// Calls `f` with positional arguments (`key=` functions, `map`).
  public func callValue(_ f: Value, _ arguments: [Value], at range: SourceRange) throws -> Value {
    var ctx = CallContext(
      name: calleeName(Expr(.name("function"), range), f), positional: arguments,
      positionalRanges: Array(repeating: range, count: arguments.count), keywords: [], range: range, interpreter: self)
    return try invoke(f, &ctx)
  }

  func isAssignable(_ e: Expr) -> Bool {
    switch e.kind {
    case .name: return true
    case .subscripted(let base, _): return isAssignable(base)
    default: return false
    }
  }

  func calleeName(_ callee: Expr, _ f: Value) -> String {
    switch callee.kind {
    case .name(let n): return n
    case .attribute(_, let n, _): return n
    default:
      if case .builtin(let b) = f { return b.name }
      return f.typeName
    }
  }

  public func invoke(_ f: Value, _ ctx: inout CallContext) throws -> Value {
    switch f {
    case .builtin(let b):
      return try b.call(&ctx)
    case .object(let o):
      return try o.call(&ctx)
    case .method(let receiver, let name):
      return try Methods.call(receiver.value, name, &ctx)
    case .dtype(let d):
      return try arrays(at: ctx.range).callDType(d, &ctx)
    default:
      throw ShellError("'\(f.typeName)' object is not callable", at: ctx.range)
    }
  }

  // MARK: - Attributes

  public func attribute(of v: Value, _ name: String, at range: SourceRange) throws -> Value {
    if case .module(let m) = v {
      if let member = libraries.member(of: m, name) { return member }
      if let scope = try scriptModule(m, at: range), let member = scope.variables[name] { return member }
      let names = libraries.memberNames(of: m)
      let hint = Suggestions.closest(to: name, among: names).map { "; did you mean '\($0)'?" } ?? ""
      throw ShellError("module '\(m)' has no attribute '\(name)' in ks\(hint)", at: range)
    }
    return try Methods.attribute(v, name, at: range, in: self)
  }

  // MARK: - Truth and iteration

  public func truth(_ v: Value, at range: SourceRange) throws -> Bool {
    switch v {
    case .none: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .float(let x): return x != 0
    case .complex(let re, let im): return re != 0 || im != 0
    case .string(let s): return !s.text.isEmpty
    case .list(let a), .tuple(let a): return !a.isEmpty
    case .dict(let d): return !d.isEmpty
    case .array(let a):
      guard a.count == 1 else {
        throw ShellError("the truth value of an array with more than one element is ambiguous; use a.any() or a.all()", at: range)
      }
      return a.boolValues[0]
    default: return true
    }
  }

  public func iterate(_ v: Value, at range: SourceRange) throws -> [Value] {
    switch v {
    case .list(let a), .tuple(let a): return a
    case .string(let s): return s.text.map { .str(String($0)) }
    case .dict(let d): return d.map { $0.0 }
    case .array(let a):
      guard a.rank >= 1 else { throw ShellError("iteration over a 0-d array", at: range) }
      let arrays = try arrays(at: range)
      return (0..<a.shape[0]).map { arrays.row(a, $0) }
    case .object(let o):
      if let items = try o.items(at: range, in: self) { return items }
      throw ShellError("'\(v.typeName)' object is not iterable", at: range)
    default:
      throw ShellError("'\(v.typeName)' object is not iterable", at: range)
    }
  }
}

extension Interpreter {
  /// The variables of module `name` when it is written in the shell language (run on first use).
  func scriptModule(_ name: String, at range: SourceRange) throws -> Scope? {
    guard let source = libraries.modules[name]?.source else { return nil }
    if let scope = scriptModules[name] { return scope }
    let text = SourceText(name: "<module \(name)>", text: source)
    let statements: [Statement]
    do {
      statements = try ScriptParser(source: text).parse()
    } catch {
      throw ShellError("module \(name) does not parse: \(error.message)", at: range)
    }
    let scope = Scope(variables: [:], enclosing: nil, locals: ScopeDeclarations(statements).locals)
    let (savedFrames, savedSource) = (frames, currentSource)
    frames = [scope]
    currentSource = text
    defer { (frames, currentSource) = (savedFrames, savedSource) }
    for s in statements { try runBody(s) }
    scriptModules[name] = scope
    return scope
  }
}
