import KSDiagnostics

// Functions, exceptions and the small statements that go with them: `def`, `lambda`, `return`,
// `global`, `nonlocal`, `try`/`except`/`else`/`finally`, `raise`, `assert`, `del`.

extension ScriptParserEngine {
  // MARK: def and lambda

  mutating func parseFunctionDefinition() throws(Diagnostic) -> Statement {
    let defToken = advance()
    guard current.isName else { throw failure("expected a function name after 'def'", at: current) }
    let nameToken = advance()
    guard let open = accept("(") else { throw failure("expected '(' after the function name", at: current) }
    openBrackets.append(open)
    let parameters = try parseParameters(until: ")", annotations: true)
    try expectClose(open)
    if accept("->") != nil { _ = try parseTest() }
    // A function body starts its own loop context and may `return`.
    let savedLoops = loopDepth
    loopDepth = 0
    functionDepth += 1
    let body = try parseBlock(after: defToken, what: "function definition")
    functionDepth -= 1
    loopDepth = savedLoops
    var docstring: String?
    if case .expression(let e)? = body.first?.kind, case .string(let literal) = e.kind { docstring = literal.value }
    let definition = FunctionDefinition(
      name: nameToken.text, nameRange: nameToken.range, parameters: parameters, body: body, docstring: docstring)
    return Statement(kind: .functionDefinition(definition), range: SourceRange(defToken.range.start, blockEnd(body)))
  }

  mutating func parseLambda() throws(Diagnostic) -> Expr {
    let lambdaToken = advance()
    let parameters = try parseParameters(until: ":", annotations: false)
    guard accept(":") != nil else { throw failure("expected ':' after the lambda's parameters", at: current) }
    let body = try parseTest()
    return Expr(.lambda(parameters: parameters, body: body), SourceRange(lambdaToken.range.start, previousEnd))
  }

  /// Parses a parameter list up to (not including) `terminator`, with Python's rules on order.
  mutating func parseParameters(until terminator: String, annotations: Bool) throws(Diagnostic) -> [Parameter] {
    var parameters: [Parameter] = []
    var names: Set<String> = []
    var sawStar = false
    var sawDefault = false
    var bareStar: Token?
    while !at(terminator) {
      let start = current.range.start
      if let slash = accept("/") {
        if sawStar || parameters.contains(where: { $0.kind == .positionalOnly }) || parameters.isEmpty {
          throw failure("'/' must follow at least one positional parameter and come before '*'", at: slash)
        }
        for k in parameters.indices { parameters[k].kind = .positionalOnly }
      } else if accept("**") != nil {
        let name = try parameterName(&names)
        try skipAnnotation(annotations)
        parameters.append(Parameter(name: name, kind: .variadicKeyword, defaultValue: nil, range: SourceRange(start, previousEnd)))
        bareStar = nil
        _ = accept(",")
        guard at(terminator) else { throw failure("arguments cannot follow var-keyword argument", at: current) }
        break
      } else if let star = accept("*") {
        if sawStar { throw failure("* argument may appear only once", at: star) }
        sawStar = true
        if current.isName {
          let name = try parameterName(&names)
          try skipAnnotation(annotations)
          parameters.append(
            Parameter(name: name, kind: .variadicPositional, defaultValue: nil, range: SourceRange(start, previousEnd)))
        } else {
          bareStar = star
        }
      } else {
        guard current.isName else { throw failure("expected a parameter name, found \(describe(current))", at: current) }
        let name = try parameterName(&names)
        try skipAnnotation(annotations)
        var defaultValue: Expr?
        if accept("=") != nil { defaultValue = try parseTest() }
        if defaultValue != nil {
          sawDefault = true
        } else if sawDefault && !sawStar {
          throw failure("parameter without a default follows parameter with a default", at: SourceRange(start, previousEnd))
        }
        parameters.append(
          Parameter(
            name: name, kind: sawStar ? .keywordOnly : .positionalOrKeyword, defaultValue: defaultValue,
            range: SourceRange(start, previousEnd)))
        bareStar = nil
      }
      if accept(",") == nil { break }
    }
    if let bareStar { throw failure("named arguments must follow bare *", at: bareStar) }
    return parameters
  }

  mutating func parameterName(_ names: inout Set<String>) throws(Diagnostic) -> String {
    guard current.isName else { throw failure("expected a parameter name, found \(describe(current))", at: current) }
    let token = advance()
    if !names.insert(token.text).inserted {
      throw failure("duplicate argument '\(token.text)' in function definition", at: token)
    }
    return token.text
  }

  mutating func skipAnnotation(_ allowed: Bool) throws(Diagnostic) {
    if allowed && accept(":") != nil { _ = try parseTest() }
  }

  // MARK: try

  mutating func parseTry() throws(Diagnostic) -> Statement {
    let tryToken = advance()
    let body = try parseBlock(after: tryToken, what: "'try' statement")
    var handlers: [ExceptHandler] = []
    while let exceptToken = acceptKeyword("except") {
      if let last = handlers.last, last.type == nil {
        throw failure("default 'except:' must be last", at: last.keywordRange)
      }
      var type: Expr?
      var name: String?
      if !at(":") {
        type = try parseTest()
        if at(",") {
          throw failure("multiple exception types must be parenthesized", at: current)
        }
        if acceptKeyword("as") != nil {
          guard current.isName else { throw failure("expected a name after 'as'", at: current) }
          name = advance().text
        }
      }
      let handlerBody = try parseBlock(after: exceptToken, what: "'except' statement")
      handlers.append(ExceptHandler(type: type, name: name, body: handlerBody, keywordRange: exceptToken.range))
    }
    var orElse: [Statement]?
    if let elseToken = acceptKeyword("else") {
      if handlers.isEmpty { throw failure("an 'else' block needs at least one 'except' clause", at: elseToken) }
      orElse = try parseBlock(after: elseToken, what: "'else' statement")
    }
    var finallyBlock: [Statement]?
    if let finallyToken = acceptKeyword("finally") {
      finallyBlock = try parseBlock(after: finallyToken, what: "'finally' statement")
    }
    if handlers.isEmpty && finallyBlock == nil {
      throw failure("expected 'except' or 'finally' block", at: current)
    }
    let last = finallyBlock ?? orElse ?? handlers.last?.body ?? body
    return Statement(
      kind: .tryStatement(TryStatement(body: body, handlers: handlers, orElse: orElse, finally: finallyBlock)),
      range: SourceRange(tryToken.range.start, blockEnd(last)))
  }

  // MARK: Simple statements

  /// `return`, `global`, `nonlocal`, `raise`, `assert`, `del`; nil for any other keyword.
  mutating func parseFunctionStatement(_ token: Token) throws(Diagnostic) -> StatementKind? {
    switch token.text {
    case "return":
      advance()
      if functionDepth == 0 { throw failure("'return' outside function", at: token) }
      guard canStartExpression(current) else { return .returnStatement(nil) }
      let value = try parseStarExpressions()
      try rejectBareStarred(value)
      return .returnStatement(value)
    case "global", "nonlocal":
      advance()
      if token.text == "nonlocal" && functionDepth == 0 {
        throw failure("nonlocal declaration not allowed at module level", at: token)
      }
      var names: [String] = []
      repeat {
        guard current.isName else { throw failure("expected a name after '\(token.text)'", at: current) }
        names.append(advance().text)
      } while accept(",") != nil
      return token.text == "global" ? .global(names) : .nonlocal(names)
    case "raise":
      advance()
      guard canStartExpression(current) else { return .raise(exception: nil, cause: nil) }
      let exception = try parseTest()
      var cause: Expr?
      if acceptKeyword("from") != nil { cause = try parseTest() }
      return .raise(exception: exception, cause: cause)
    case "assert":
      advance()
      let condition = try parseTest()
      var message: Expr?
      if accept(",") != nil { message = try parseTest() }
      return .assert(condition: condition, message: message)
    case "del":
      advance()
      let target = try parseTargetList()
      var targets: [Expr] = []
      if case .tuple(let items) = target.kind { targets = items } else { targets = [target] }
      for t in targets { try checkDeleteTarget(t) }
      return .delete(targets)
    case "except", "finally":
      throw failure("invalid syntax: '\(token.text)' does not follow a 'try' block at this indentation", at: token)
    default:
      return nil
    }
  }

  func checkDeleteTarget(_ e: Expr) throws(Diagnostic) {
    switch e.kind {
    case .name, .attribute, .subscripted: return
    case .tuple(let items), .list(let items): for i in items { try checkDeleteTarget(i) }
    default: throw failure("cannot delete \(targetDescription(e))", at: e.range)
    }
  }
}
