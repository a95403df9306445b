// Compact S-expression renderings of syntax trees, for tests, debugging and a possible `:ast` command.

extension Statement {
  /// The statement as an S-expression, e.g. `(= x (+ a 1))`; a quiet statement ends with `;`.
  public var treeDescription: String {
    kind.treeDescription + (isQuiet ? ";" : "")
  }
}

extension StatementKind {
  /// The statement kind as an S-expression.
  public var treeDescription: String {
    func block(_ statements: [Statement]) -> String {
      "[" + statements.map(\.treeDescription).joined(separator: " ") + "]"
    }
    switch self {
    case .expression(let e):
      return e.treeDescription
    case .assignment(let targets, let value):
      return "(= " + (targets + [value]).map(\.treeDescription).joined(separator: " ") + ")"
    case .augmentedAssignment(let target, let op, let value):
      return "(\(op.symbol)= \(target.treeDescription) \(value.treeDescription))"
    case .importModules(let modules):
      let items = modules.map { m in m.alias.map { "(\(m.dottedName) as \($0))" } ?? m.dottedName }
      return "(import " + items.joined(separator: " ") + ")"
    case .importFrom(let module, _, let names):
      let items = names.map { n in n.alias.map { "(\(n.name) as \($0))" } ?? n.name }
      return "(from \(module.joined(separator: ".")) import " + items.joined(separator: " ") + ")"
    case .pass:
      return "pass"
    case .breakLoop:
      return "break"
    case .continueLoop:
      return "continue"
    case .ifStatement(let branches, let orElse):
      var parts: [String] = []
      for (index, branch) in branches.enumerated() {
        parts.append(index == 0 ? "if" : "elif")
        parts.append(branch.condition.treeDescription)
        parts.append(block(branch.body))
      }
      if let orElse { parts += ["else", block(orElse)] }
      return "(" + parts.joined(separator: " ") + ")"
    case .forLoop(let target, let iterable, let body, let orElse):
      let tail = orElse.map { " else " + block($0) } ?? ""
      return "(for \(target.treeDescription) \(iterable.treeDescription) \(block(body))\(tail))"
    case .whileLoop(let condition, let body, let orElse):
      let tail = orElse.map { " else " + block($0) } ?? ""
      return "(while \(condition.treeDescription) \(block(body))\(tail))"
    case .metaCommand(let name, let argument):
      return "(:\(name) \(argument.debugDescription))"
    case .alias(let bindings):
      let rendered = bindings.map { "\($0.name) \($0.definition.debugDescription)" }
      return "(alias " + rendered.joined(separator: " ") + ")"
    case .functionDefinition(let f):
      return "(def \(f.name) (" + f.parameters.map(\.treeDescription).joined(separator: " ") + ") \(block(f.body)))"
    case .returnStatement(let value):
      return value.map { "(return \($0.treeDescription))" } ?? "(return)"
    case .global(let names):
      return "(global " + names.joined(separator: " ") + ")"
    case .nonlocal(let names):
      return "(nonlocal " + names.joined(separator: " ") + ")"
    case .tryStatement(let t):
      var parts = ["try", block(t.body)]
      for h in t.handlers {
        var head = "except"
        if let type = h.type { head += " " + type.treeDescription }
        if let name = h.name { head += " as " + name }
        parts.append("(\(head) \(block(h.body)))")
      }
      if let orElse = t.orElse { parts += ["else", block(orElse)] }
      if let finally = t.finally { parts += ["finally", block(finally)] }
      return "(" + parts.joined(separator: " ") + ")"
    case .raise(let exception, let cause):
      var s = "(raise"
      if let exception { s += " " + exception.treeDescription }
      if let cause { s += " from " + cause.treeDescription }
      return s + ")"
    case .assert(let condition, let message):
      return "(assert \(condition.treeDescription)" + (message.map { " " + $0.treeDescription } ?? "") + ")"
    case .delete(let targets):
      return "(del " + targets.map(\.treeDescription).joined(separator: " ") + ")"
    }
  }
}

extension Parameter {
  /// The parameter as written: `x`, `x=1`, `*args`, `**kw`; keyword-only and positional-only
  /// parameters are marked `kw:` and `pos:`.
  public var treeDescription: String {
    let value = defaultValue.map { "=" + $0.treeDescription } ?? ""
    switch kind {
    case .positionalOnly: return "pos:" + name + value
    case .positionalOrKeyword: return name + value
    case .variadicPositional: return "*" + name
    case .keywordOnly: return "kw:" + name + value
    case .variadicKeyword: return "**" + name
    }
  }
}

extension Expr {
  /// The expression as an S-expression, e.g. `(+ a (* b c))`, `(call f 1 (kw k v))`.
  public var treeDescription: String { kind.treeDescription }
}

extension ExprKind {
  /// The expression kind as an S-expression.
  public var treeDescription: String {
    func list(_ items: [Expr]) -> String { items.map(\.treeDescription).joined(separator: " ") }
    func clauses(_ clauses: [ComprehensionClause]) -> String {
      clauses.map { c in
        "(for \(c.target.treeDescription) \(c.iterable.treeDescription)"
          + c.conditions.map { " (if \($0.treeDescription))" }.joined() + ")"
      }.joined(separator: " ")
    }
    func optional(_ e: Expr?) -> String { e?.treeDescription ?? "_" }
    switch self {
    case .name(let name): return name
    case .integer(let value): return String(value)
    case .float(let value): return "\(value)"
    case .imaginary(let value): return "\(value)j"
    case .string(let literal): return literal.value.debugDescription
    case .formattedString(let parts):
      let rendered = parts.map { part -> String in
        switch part {
        case .literal(let text, _): return text.debugDescription
        case .field(let field):
          var s = "{" + field.expression.treeDescription
          if let debug = field.debugText { s += " \(debug.debugDescription)" }
          if let conversion = field.conversion { s += " !\(conversion.rawValue)" }
          if let spec = field.formatSpec { s += " :\(spec)" }
          return s + "}"
        }
      }
      return "(f " + rendered.joined(separator: " ") + ")"
    case .boolean(let value): return value ? "True" : "False"
    case .noneLiteral: return "None"
    case .ellipsis: return "..."
    case .list(let items): return "[" + list(items) + "]"
    case .tuple(let items): return items.isEmpty ? "(tuple)" : "(tuple " + list(items) + ")"
    case .dictionary(let entries):
      let rendered = entries.map { " (\($0.key.treeDescription) \($0.value.treeDescription))" }
      return "(dict" + rendered.joined() + ")"
    case .listComprehension(let element, let cs):
      return "(listcomp \(element.treeDescription) \(clauses(cs)))"
    case .generator(let element, let cs): return "(gen \(element.treeDescription) \(clauses(cs)))"
    case .starred(let e): return "(* \(e.treeDescription))"
    case .attribute(let base, let name, _): return "(. \(base.treeDescription) \(name))"
    case .call(let callee, let arguments):
      let rendered = arguments.map { argument -> String in
        switch argument.kind {
        case .positional(let e): return e.treeDescription
        case .keyword(let name, _, let e): return "(kw \(name) \(e.treeDescription))"
        case .unpacked(let e): return "(* \(e.treeDescription))"
        case .unpackedKeywords(let e): return "(** \(e.treeDescription))"
        }
      }
      return "(call " + ([callee.treeDescription] + rendered).joined(separator: " ") + ")"
    case .subscripted(let base, let items):
      let rendered = items.map { item -> String in
        switch item {
        case .expression(let e): return e.treeDescription
        case .slice(let s): return "(slice \(optional(s.start)) \(optional(s.stop)) \(optional(s.step)))"
        }
      }
      return "(index " + ([base.treeDescription] + rendered).joined(separator: " ") + ")"
    case .unary(let op, let operand):
      let name: String
      switch op {
      case .negate: name = "neg"
      case .plus: name = "pos"
      case .invert: name = "~"
      case .not: name = "not"
      }
      return "(\(name) \(operand.treeDescription))"
    case .binary(let op, let lhs, let rhs):
      return "(\(op.symbol) \(lhs.treeDescription) \(rhs.treeDescription))"
    case .logical(let op, let lhs, let rhs):
      return "(\(op.symbol) \(lhs.treeDescription) \(rhs.treeDescription))"
    case .comparison(let first, let rest):
      let links = rest.map { " \($0.op.symbol) \($0.operand.treeDescription)" }
      return "(cmp \(first.treeDescription)" + links.joined() + ")"
    case .conditional(let condition, let then, let otherwise):
      return "(if \(condition.treeDescription) \(then.treeDescription) \(otherwise.treeDescription))"
    case .lambda(let parameters, let body):
      return "(lambda (" + parameters.map(\.treeDescription).joined(separator: " ") + ") \(body.treeDescription))"
    }
  }
}
