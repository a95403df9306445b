import KSDiagnostics

/// Parses `.ks` scripts (a Python 3 subset plus meta-commands and `alias`) into syntax trees.
///
/// Follows Python's grammar and operator precedence. Every syntax error is thrown as a
/// `Diagnostic` whose range points at the offending token.
public struct ScriptParser: Sendable {
  /// The text being parsed.
  public let source: SourceText

  /// A parser for `source`.
  public init(source: SourceText) {
    self.source = source
  }

  /// Parses the whole text as a sequence of statements.
  public func parse() throws(Diagnostic) -> [Statement] {
    var engine = ScriptParserEngine(source: source)
    return try engine.parseFile()
  }

  /// Parses the whole text as one expression (or a bare tuple `a, b`); line breaks are allowed
  /// anywhere, as inside brackets.
  public func parseExpression() throws(Diagnostic) -> Expr {
    let bytes = Array(source.text.utf8)
    let lexer = Lexer(source: source, bytes: bytes, range: 0..<bytes.count, insideBrackets: true)
    var engine = ScriptParserEngine(source: source, bytes: bytes, lex: lexer.scan())
    let expression = try engine.parseStarExpressions()
    try engine.rejectBareStarred(expression)
    try engine.expectEndOfInput()
    return expression
  }
}

/// The parser's state: the tokens and a cursor into them.
struct ScriptParserEngine {
  let source: SourceText
  let bytes: [UInt8]
  let tokens: [Token]
  /// The lexical error the tokens stop at, reported when the parser reaches the final token.
  let lexError: Diagnostic?
  var position = 0
  /// The end of the last consumed real token (not NEWLINE, INDENT, DEDENT or end of input).
  var previousEnd: Int
  /// How many loops enclose the current statement (reset inside a function body).
  var loopDepth = 0
  /// How many function definitions enclose the current statement.
  var functionDepth = 0
  /// The brackets open around the current position (for error messages).
  var openBrackets: [Token] = []
  /// Set when parsing failed because the input ended right after a block header (REPL support).
  var endedExpectingBlock = false

  init(source: SourceText) {
    let bytes = Array(source.text.utf8)
    let lexer = Lexer(source: source, bytes: bytes, range: 0..<bytes.count, insideBrackets: false)
    self.init(source: source, bytes: bytes, lex: lexer.scan())
  }

  init(source: SourceText, bytes: [UInt8], lex: LexResult) {
    self.source = source
    self.bytes = bytes
    self.tokens = lex.tokens
    self.lexError = lex.error
    self.previousEnd = lex.tokens.first?.range.start ?? 0
  }

  // MARK: Token cursor

  var current: Token { tokens[position] }

  func peek(_ k: Int) -> Token { tokens[min(position + k, tokens.count - 1)] }

  @discardableResult
  mutating func advance() -> Token {
    let token = tokens[position]
    if position < tokens.count - 1 { position += 1 }
    switch token.kind {
    case .newline, .indent, .dedent, .endOfInput: break
    default: previousEnd = token.range.end
    }
    return token
  }

  func at(_ symbol: String) -> Bool { current.isPunctuation(symbol) }

  func atKeyword(_ word: String) -> Bool { current.isKeyword(word) }

  mutating func accept(_ symbol: String) -> Token? {
    at(symbol) ? advance() : nil
  }

  mutating func acceptKeyword(_ word: String) -> Token? {
    atKeyword(word) ? advance() : nil
  }

  // MARK: Errors

  /// An error at `token`, or the pending lexical error when `token` is where lexing stopped.
  func failure(_ message: String, at token: Token) -> Diagnostic {
    if token.kind == .endOfInput, let lexError { return lexError }
    return Diagnostic(message, at: token.range)
  }

  func failure(_ message: String, at range: SourceRange) -> Diagnostic {
    Diagnostic(message, at: range)
  }

  static let equalsMessage = "invalid syntax: '=' here; did you mean '=='?"

  /// How a token is named in messages.
  func describe(_ token: Token) -> String {
    switch token.kind {
    case .name: return "name '\(token.text)'"
    case .keyword: return "keyword '\(token.text)'"
    case .integer, .float, .imaginary: return "number '\(token.text)'"
    case .string: return "string literal"
    case .punctuation: return "'\(token.text)'"
    case .metaCommand: return "meta-command"
    case .newline: return "end of line"
    case .indent: return "indent"
    case .dedent: return "end of block"
    case .endOfInput: return "end of input"
    }
  }

  static let closers: [String: String] = ["(": ")", "[": "]", "{": "}"]

  func isCloser(_ token: Token) -> Bool {
    token.kind == .punctuation && (token.text == ")" || token.text == "]" || token.text == "}")
  }

  /// Where `open` is, relative to the line of `other`: "column 12" or "line 3, column 12".
  func place(of open: Token, from other: Token) -> String {
    let (openLine, openColumn) = source.location(of: open.range.start)
    let (otherLine, _) = source.location(of: other.range.start)
    return openLine == otherLine ? "column \(openColumn)" : "line \(openLine), column \(openColumn)"
  }

  /// The error for a token found where bracket `open` should have been closed.
  func closeError(_ open: Token, found: Token) -> Diagnostic {
    if found.kind == .endOfInput, let lexError { return lexError }
    if found.isPunctuation("=") { return failure(Self.equalsMessage, at: found) }
    switch found.kind {
    case .name, .integer, .float, .string:
      return failure("invalid syntax; perhaps you forgot a comma?", at: found)
    case .keyword where ["True", "False", "None"].contains(found.text):
      return failure("invalid syntax; perhaps you forgot a comma?", at: found)
    default:
      let closer = Self.closers[open.text] ?? ")"
      return failure(
        "expected '\(closer)' to close '\(open.text)' opened at \(place(of: open, from: found))", at: found)
    }
  }

  /// The error for `token` where nothing more specific applies.
  func unexpected(_ token: Token) -> Diagnostic {
    if token.kind == .endOfInput, let lexError { return lexError }
    if token.kind == .indent { return unexpectedIndent() }
    if token.isPunctuation("=") { return failure(Self.equalsMessage, at: token) }
    if isCloser(token) {
      if let open = openBrackets.last { return closeError(open, found: token) }
      return failure("unmatched '\(token.text)'", at: token)
    }
    return failure("invalid syntax: unexpected \(describe(token))", at: token)
  }

  /// "unexpected indent", pointing at the first token of the indented line.
  func unexpectedIndent() -> Diagnostic {
    let next = tokens[min(position + 1, tokens.count - 1)]
    return failure("unexpected indent", at: next.range)
  }

  func expectedExpression(_ token: Token) -> Diagnostic {
    if token.kind == .endOfInput, let lexError { return lexError }
    if token.kind == .indent { return unexpectedIndent() }
    if token.kind == .keyword && Lexer.unsupportedKeywords.contains(token.text) {
      return failure("'\(token.text)' is not supported in ks scripts", at: token)
    }
    if isCloser(token) {
      if let open = openBrackets.last, Self.closers[open.text] != token.text {
        return closeError(open, found: token)
      }
      if openBrackets.isEmpty { return failure("unmatched '\(token.text)'", at: token) }
    }
    return failure("expected an expression, found \(describe(token))", at: token)
  }

  mutating func expectEndOfInput() throws(Diagnostic) {
    if current.kind == .endOfInput {
      if let lexError { throw lexError }
      return
    }
    throw unexpected(current)
  }

  /// Consumes the closer of `open` or reports the mismatch.
  mutating func expectClose(_ open: Token) throws(Diagnostic) {
    let closer = Self.closers[open.text] ?? ")"
    if accept(closer) != nil {
      if !openBrackets.isEmpty { openBrackets.removeLast() }
      return
    }
    throw closeError(open, found: current)
  }

  mutating func openBracket() -> Token {
    let open = advance()
    openBrackets.append(open)
    return open
  }

  // MARK: Statements

  mutating func parseFile() throws(Diagnostic) -> [Statement] {
    var statements: [Statement] = []
    while true {
      switch current.kind {
      case .endOfInput:
        if let lexError { throw lexError }
        return statements
      case .newline:
        advance()
      case .indent:
        throw unexpectedIndent()
      default:
        statements += try parseStatement()
      }
    }
  }

  mutating func parseStatement() throws(Diagnostic) -> [Statement] {
    if atKeyword("if") { return [try parseIf()] }
    if atKeyword("for") { return [try parseFor()] }
    if atKeyword("while") { return [try parseWhile()] }
    if atKeyword("def") { return [try parseFunctionDefinition()] }
    if atKeyword("try") { return [try parseTry()] }
    return try parseSimpleStatements()
  }

  /// Parses `stmt (; stmt)* [;] NEWLINE`.
  mutating func parseSimpleStatements() throws(Diagnostic) -> [Statement] {
    var result: [Statement] = []
    while true {
      let first = current
      let kind = try parseSimpleStatement()
      var statement = Statement(kind: kind, range: SourceRange(first.range.start, previousEnd))
      if accept(";") != nil {
        statement.isQuiet = true
        result.append(statement)
        if current.kind == .newline || current.kind == .endOfInput { break }
        continue
      }
      result.append(statement)
      break
    }
    if current.kind == .newline {
      advance()
      return result
    }
    throw statementEndError(after: result[result.count - 1])
  }

  func statementEndError(after statement: Statement) -> Diagnostic {
    let token = current
    if case .expression(let e) = statement.kind, e.kind == .name("print") {
      switch token.kind {
      case .name, .integer, .float, .string:
        return failure("missing parentheses in call to 'print'; did you mean print(...)?", at: token)
      default: break
      }
    }
    return unexpected(token)
  }

  mutating func parseSimpleStatement() throws(Diagnostic) -> StatementKind {
    let token = current
    switch token.kind {
    case .metaCommand(let name, let argument):
      advance()
      return .metaCommand(name: name, argument: argument)
    case .indent:
      throw unexpectedIndent()
    case .keyword:
      switch token.text {
      case "pass":
        advance()
        return .pass
      case "break", "continue":
        advance()
        if loopDepth == 0 { throw failure("'\(token.text)' outside loop", at: token) }
        return token.text == "break" ? .breakLoop : .continueLoop
      case "import":
        return try parseImport()
      case "from":
        return try parseFromImport()
      case "if", "for", "while", "def", "try":
        throw failure("invalid syntax: an '\(token.text)' statement must start its own line", at: token)
      case "elif":
        throw failure("invalid syntax: 'elif' does not follow an 'if' block at this indentation", at: token)
      case "else":
        throw failure(
          "invalid syntax: 'else' does not follow an 'if', 'for', 'while' or 'try' block at this indentation",
          at: token)
      default:
        if let kind = try parseFunctionStatement(token) { return kind }
        if Lexer.unsupportedKeywords.contains(token.text) {
          throw failure("'\(token.text)' is not supported in ks scripts", at: token)
        }
      }
    case .name where token.text == "alias" && peek(1).isName && peek(2).isPunctuation("="):
      return try parseAlias()
    default:
      break
    }
    return try parseExpressionStatement()
  }

  static let augmentedOperators: [String: BinaryOperator] = [
    "+=": .add, "-=": .subtract, "*=": .multiply, "/=": .divide, "//=": .floorDivide, "%=": .modulo,
    "@=": .matrixMultiply, "**=": .power, "<<=": .leftShift, ">>=": .rightShift, "&=": .bitwiseAnd,
    "|=": .bitwiseOr, "^=": .bitwiseXor,
  ]

  mutating func parseExpressionStatement() throws(Diagnostic) -> StatementKind {
    let first = try parseStarExpressions()
    if current.kind == .punctuation, let op = Self.augmentedOperators[current.text] {
      try checkTarget(first, context: .augmented)
      advance()
      let value = try parseStarExpressions()
      try rejectBareStarred(value)
      return .augmentedAssignment(target: first, op: op, value: value)
    }
    if at("=") {
      var items = [first]
      while accept("=") != nil {
        items.append(try parseStarExpressions())
      }
      let value = items.removeLast()
      for target in items { try checkTarget(target, context: .assignment) }
      try rejectBareStarred(value)
      return .assignment(targets: items, value: value)
    }
    if at(":=") { throw failure("':=' is not supported in ks scripts", at: current) }
    try rejectBareStarred(first)
    return .expression(first)
  }

  func rejectBareStarred(_ e: Expr) throws(Diagnostic) {
    if case .starred = e.kind { throw failure("cannot use starred expression here", at: e.range) }
  }

  enum TargetContext {
    case assignment, augmented, loop
  }

  /// Checks that `e` can be assigned to.
  func checkTarget(_ e: Expr, context: TargetContext) throws(Diagnostic) {
    switch e.kind {
    case .name, .attribute, .subscripted:
      return
    case .tuple(let items), .list(let items):
      if context == .augmented {
        let what = e.kind == .tuple(items) ? "tuple" : "list"
        throw failure("'\(what)' is an illegal expression for augmented assignment", at: e.range)
      }
      var starred = 0
      for item in items {
        if case .starred(let inner) = item.kind {
          starred += 1
          if starred > 1 { throw failure("multiple starred expressions in assignment", at: item.range) }
          try checkTarget(inner, context: context)
        } else {
          try checkTarget(item, context: context)
        }
      }
    case .starred:
      throw failure("starred assignment target must be in a list or tuple", at: e.range)
    default:
      let what = targetDescription(e)
      switch context {
      case .assignment:
        throw failure("cannot assign to \(what) here; did you mean '=='?", at: e.range)
      case .augmented:
        throw failure("'\(what)' is an illegal expression for augmented assignment", at: e.range)
      case .loop:
        throw failure("cannot assign to \(what)", at: e.range)
      }
    }
  }

  func targetDescription(_ e: Expr) -> String {
    switch e.kind {
    case .call: return "function call"
    case .integer, .float, .string: return "literal"
    case .formattedString: return "f-string expression"
    case .boolean(let b): return b ? "True" : "False"
    case .noneLiteral: return "None"
    case .ellipsis: return "ellipsis"
    case .dictionary: return "dict literal"
    case .listComprehension: return "list comprehension"
    case .generator: return "generator expression"
    case .comparison: return "comparison"
    case .conditional: return "conditional expression"
    default: return "expression"
    }
  }

  // MARK: Compound statements

  /// Parses `: NEWLINE INDENT statements DEDENT` or `: simple_statements` after a block header.
  mutating func parseBlock(after keyword: Token, what: String) throws(Diagnostic) -> [Statement] {
    guard accept(":") != nil else {
      if at("=") { throw failure(Self.equalsMessage, at: current) }
      throw failure("expected ':'", at: current)
    }
    guard current.kind == .newline else {
      return try parseSimpleStatements()
    }
    advance()
    guard current.kind == .indent else {
      if current.kind == .endOfInput && lexError == nil { endedExpectingBlock = true }
      let line = source.location(of: keyword.range.start).line
      throw failure("expected an indented block after \(what) on line \(line)", at: current)
    }
    advance()
    var body: [Statement] = []
    while current.kind != .dedent {
      switch current.kind {
      case .endOfInput: throw unexpected(current)
      case .indent: throw unexpectedIndent()
      default: body += try parseStatement()
      }
    }
    advance()
    return body
  }

  /// Where a block's text ends: the end of its last statement (a trailing `;` excluded).
  func blockEnd(_ block: [Statement]) -> Int {
    block.last?.range.end ?? previousEnd
  }

  mutating func parseIf() throws(Diagnostic) -> Statement {
    let ifToken = advance()
    var branches: [ConditionalBranch] = []
    let condition = try parseTest()
    let body = try parseBlock(after: ifToken, what: "'if' statement")
    branches.append(ConditionalBranch(condition: condition, body: body, keywordRange: ifToken.range))
    while let elifToken = acceptKeyword("elif") {
      let condition = try parseTest()
      let body = try parseBlock(after: elifToken, what: "'elif' statement")
      branches.append(ConditionalBranch(condition: condition, body: body, keywordRange: elifToken.range))
    }
    var orElse: [Statement]?
    if let elseToken = acceptKeyword("else") {
      orElse = try parseBlock(after: elseToken, what: "'else' statement")
    }
    let last = orElse ?? branches[branches.count - 1].body
    return Statement(
      kind: .ifStatement(branches: branches, orElse: orElse),
      range: SourceRange(ifToken.range.start, blockEnd(last)))
  }

  mutating func parseFor() throws(Diagnostic) -> Statement {
    let forToken = advance()
    let target = try parseTargetList()
    try checkTarget(target, context: .loop)
    guard acceptKeyword("in") != nil else { throw failure("expected 'in'", at: current) }
    let iterable = try parseStarExpressions()
    try rejectBareStarred(iterable)
    loopDepth += 1
    let body = try parseBlock(after: forToken, what: "'for' statement")
    loopDepth -= 1
    var orElse: [Statement]?
    if let elseToken = acceptKeyword("else") {
      orElse = try parseBlock(after: elseToken, what: "'else' statement")
    }
    return Statement(
      kind: .forLoop(target: target, iterable: iterable, body: body, orElse: orElse),
      range: SourceRange(forToken.range.start, blockEnd(orElse ?? body)))
  }

  mutating func parseWhile() throws(Diagnostic) -> Statement {
    let whileToken = advance()
    let condition = try parseTest()
    loopDepth += 1
    let body = try parseBlock(after: whileToken, what: "'while' statement")
    loopDepth -= 1
    var orElse: [Statement]?
    if let elseToken = acceptKeyword("else") {
      orElse = try parseBlock(after: elseToken, what: "'else' statement")
    }
    return Statement(
      kind: .whileLoop(condition: condition, body: body, orElse: orElse),
      range: SourceRange(whileToken.range.start, blockEnd(orElse ?? body)))
  }

  // MARK: Imports and aliases

  mutating func parseDottedName() throws(Diagnostic) -> [String] {
    guard current.isName else { throw failure("expected a module name", at: current) }
    var parts = [advance().text]
    while accept(".") != nil {
      guard current.isName else { throw failure("expected a module name after '.'", at: current) }
      parts.append(advance().text)
    }
    return parts
  }

  mutating func parseAsName() throws(Diagnostic) -> String? {
    guard acceptKeyword("as") != nil else { return nil }
    guard current.isName else { throw failure("expected a name after 'as'", at: current) }
    return advance().text
  }

  mutating func parseImport() throws(Diagnostic) -> StatementKind {
    advance()
    var modules: [ImportedModule] = []
    repeat {
      let start = current.range.start
      let path = try parseDottedName()
      let alias = try parseAsName()
      modules.append(ImportedModule(module: path, alias: alias, range: SourceRange(start, previousEnd)))
    } while accept(",") != nil
    return .importModules(modules)
  }

  mutating func parseFromImport() throws(Diagnostic) -> StatementKind {
    advance()
    if at(".") || at("...") { throw failure("relative imports are not supported", at: current) }
    let moduleStart = current.range.start
    let module = try parseDottedName()
    let moduleRange = SourceRange(moduleStart, previousEnd)
    guard acceptKeyword("import") != nil else { throw failure("expected 'import'", at: current) }
    var names: [ImportedName] = []
    if let star = accept("*") {
      names.append(ImportedName(name: "*", alias: nil, range: star.range))
      return .importFrom(module: module, moduleRange: moduleRange, names: names)
    }
    let open = at("(") ? openBracket() : nil
    repeat {
      if open != nil && at(")") { break }
      guard current.isName else {
        if let open, isCloser(current) || current.kind == .endOfInput {
          throw closeError(open, found: current)
        }
        throw failure("expected a name to import", at: current)
      }
      let nameToken = advance()
      let alias = try parseAsName()
      names.append(
        ImportedName(
          name: nameToken.text, alias: alias, range: SourceRange(nameToken.range.start, previousEnd)))
    } while accept(",") != nil
    if let open { try expectClose(open) }
    return .importFrom(module: module, moduleRange: moduleRange, names: names)
  }

  mutating func parseAlias() throws(Diagnostic) -> StatementKind {
    advance()
    var bindings: [AliasBinding] = []
    repeat {
      guard current.isName else { throw failure("expected an alias name", at: current) }
      let nameToken = advance()
      guard accept("=") != nil else {
        throw failure("expected '=' after alias name '\(nameToken.text)'", at: current)
      }
      let definitionStart = current.range.start
      let expression = try parseTest()
      let definitionRange = SourceRange(definitionStart, previousEnd)
      bindings.append(
        AliasBinding(
          name: nameToken.text, nameRange: nameToken.range,
          definition: source.syntaxSlice(definitionRange), definitionRange: definitionRange,
          expression: expression))
    } while accept(",") != nil
    return .alias(bindings)
  }

  // MARK: Expressions

  func canStartExpression(_ token: Token) -> Bool {
    switch token.kind {
    case .name, .integer, .float, .string: return true
    case .keyword: return ["not", "True", "False", "None", "lambda", "yield", "await"].contains(token.text)
    case .punctuation: return ["(", "[", "{", "-", "+", "~", "*", "..."].contains(token.text)
    default: return false
    }
  }

  /// `star_expressions`: one expression, or a bare tuple `a, *b, c,`.
  mutating func parseStarExpressions() throws(Diagnostic) -> Expr {
    let start = current.range.start
    let first = try parseStarOrTest()
    guard at(",") else { return first }
    var items = [first]
    while accept(",") != nil {
      guard canStartExpression(current) else { break }
      items.append(try parseStarOrTest())
    }
    return Expr(.tuple(items), SourceRange(start, previousEnd))
  }

  mutating func parseStarOrTest() throws(Diagnostic) -> Expr {
    if let star = accept("*") {
      let inner = try parseBitOr()
      return Expr(.starred(inner), SourceRange(star.range.start, previousEnd))
    }
    return try parseTest()
  }

  /// A target list of a `for` loop or comprehension: `a`, `a, b`, `(a, b), *c`.
  mutating func parseTargetList() throws(Diagnostic) -> Expr {
    let start = current.range.start
    let first = try parseStarOrBitOr()
    guard at(",") else { return first }
    var items = [first]
    while accept(",") != nil {
      if atKeyword("in") || at("=") { break }
      items.append(try parseStarOrBitOr())
    }
    return Expr(.tuple(items), SourceRange(start, previousEnd))
  }

  mutating func parseStarOrBitOr() throws(Diagnostic) -> Expr {
    if let star = accept("*") {
      let inner = try parseBitOr()
      return Expr(.starred(inner), SourceRange(star.range.start, previousEnd))
    }
    return try parseBitOr()
  }

  /// `expression`: a conditional expression `a if c else b`, or an `or` test.
  mutating func parseTest() throws(Diagnostic) -> Expr {
    if atKeyword("lambda") { return try parseLambda() }
    let start = current.range.start
    let body = try parseOrTest()
    guard acceptKeyword("if") != nil else { return body }
    let condition = try parseOrTest()
    guard acceptKeyword("else") != nil else {
      if at("=") { throw failure(Self.equalsMessage, at: current) }
      throw failure("expected 'else' after 'if' expression", at: current)
    }
    let otherwise = try parseTest()
    return Expr(
      .conditional(condition: condition, then: body, otherwise: otherwise), SourceRange(start, previousEnd))
  }

  mutating func parseOrTest() throws(Diagnostic) -> Expr {
    let start = current.range.start
    var lhs = try parseAndTest()
    while acceptKeyword("or") != nil {
      let rhs = try parseAndTest()
      lhs = Expr(.logical(.or, lhs, rhs), SourceRange(start, previousEnd))
    }
    return lhs
  }

  mutating func parseAndTest() throws(Diagnostic) -> Expr {
    let start = current.range.start
    var lhs = try parseNotTest()
    while acceptKeyword("and") != nil {
      let rhs = try parseNotTest()
      lhs = Expr(.logical(.and, lhs, rhs), SourceRange(start, previousEnd))
    }
    return lhs
  }

  mutating func parseNotTest() throws(Diagnostic) -> Expr {
    if let notToken = acceptKeyword("not") {
      let operand = try parseNotTest()
      return Expr(.unary(.not, operand), SourceRange(notToken.range.start, previousEnd))
    }
    return try parseComparison()
  }

  static let comparisonSymbols: [String: ComparisonOperator] = [
    "<": .less, ">": .greater, "<=": .lessOrEqual, ">=": .greaterOrEqual, "==": .equal, "!=": .notEqual,
  ]

  /// Consumes a comparison operator (`<`, `not in`, `is not`, ...) if one is next.
  mutating func acceptComparisonOperator() -> ComparisonOperator? {
    if current.kind == .punctuation, let op = Self.comparisonSymbols[current.text] {
      advance()
      return op
    }
    if acceptKeyword("in") != nil { return .isIn }
    if atKeyword("not") && peek(1).isKeyword("in") {
      advance()
      advance()
      return .notIn
    }
    if acceptKeyword("is") != nil {
      return acceptKeyword("not") != nil ? .notIdentical : .identical
    }
    return nil
  }

  mutating func parseComparison() throws(Diagnostic) -> Expr {
    let start = current.range.start
    let first = try parseBitOr()
    var links: [ComparisonLink] = []
    while let op = acceptComparisonOperator() {
      links.append(ComparisonLink(op: op, operand: try parseBitOr()))
    }
    if links.isEmpty { return first }
    return Expr(.comparison(first: first, rest: links), SourceRange(start, previousEnd))
  }

  /// Binary operator levels from loosest to tightest: `|`, `^`, `&`, shifts, `+ -`, `* / // % @`.
  static let binaryLevels: [[String: BinaryOperator]] = [
    ["|": .bitwiseOr],
    ["^": .bitwiseXor],
    ["&": .bitwiseAnd],
    ["<<": .leftShift, ">>": .rightShift],
    ["+": .add, "-": .subtract],
    ["*": .multiply, "/": .divide, "//": .floorDivide, "%": .modulo, "@": .matrixMultiply],
  ]

  mutating func parseBitOr() throws(Diagnostic) -> Expr {
    try parseBinary(level: 0)
  }

  mutating func parseBinary(level: Int) throws(Diagnostic) -> Expr {
    if level == Self.binaryLevels.count { return try parseFactor() }
    let start = current.range.start
    var lhs = try parseBinary(level: level + 1)
    while current.kind == .punctuation, let op = Self.binaryLevels[level][current.text] {
      advance()
      let rhs = try parseBinary(level: level + 1)
      lhs = Expr(.binary(op, lhs, rhs), SourceRange(start, previousEnd))
    }
    return lhs
  }

  static let unarySymbols: [String: UnaryOperator] = ["-": .negate, "+": .plus, "~": .invert]

  mutating func parseFactor() throws(Diagnostic) -> Expr {
    if current.kind == .punctuation, let op = Self.unarySymbols[current.text] {
      let opToken = advance()
      let operand = try parseFactor()
      return Expr(.unary(op, operand), SourceRange(opToken.range.start, previousEnd))
    }
    return try parsePower()
  }

  /// `primary ['**' factor]`: right-associative, and tighter than a unary minus on its left.
  mutating func parsePower() throws(Diagnostic) -> Expr {
    let start = current.range.start
    let base = try parsePrimary()
    guard accept("**") != nil else { return base }
    let exponent = try parseFactor()
    return Expr(.binary(.power, base, exponent), SourceRange(start, previousEnd))
  }

  mutating func parsePrimary() throws(Diagnostic) -> Expr {
    let start = current.range.start
    var e = try parseAtom()
    while true {
      if accept(".") != nil {
        guard current.isName else { throw failure("expected an attribute name after '.'", at: current) }
        let nameToken = advance()
        e = Expr(
          .attribute(base: e, name: nameToken.text, nameRange: nameToken.range),
          SourceRange(start, previousEnd))
      } else if at("(") {
        e = try parseCall(e, start: start)
      } else if at("[") {
        e = try parseSubscript(e, start: start)
      } else {
        return e
      }
    }
  }

  mutating func parseAtom() throws(Diagnostic) -> Expr {
    let token = current
    switch token.kind {
    case .name:
      advance()
      return Expr(.name(token.text), token.range)
    case .integer(let value):
      advance()
      return Expr(.integer(value), token.range)
    case .float(let value):
      advance()
      return Expr(.float(value), token.range)
    case .imaginary(let value):
      advance()
      return Expr(.imaginary(value), token.range)
    case .string:
      return try parseStrings()
    case .keyword:
      switch token.text {
      case "True", "False":
        advance()
        return Expr(.boolean(token.text == "True"), token.range)
      case "None":
        advance()
        return Expr(.noneLiteral, token.range)
      default:
        throw expectedExpression(token)
      }
    case .punctuation:
      switch token.text {
      case "(": return try parseParenthesized()
      case "[": return try parseListDisplay()
      case "{": return try parseDictionaryDisplay()
      case "...":
        advance()
        return Expr(.ellipsis, token.range)
      default:
        throw expectedExpression(token)
      }
    default:
      throw expectedExpression(token)
    }
  }

  mutating func parseParenthesized() throws(Diagnostic) -> Expr {
    let open = openBracket()
    if let close = accept(")") {
      openBrackets.removeLast()
      return Expr(.tuple([]), open.range.union(close.range))
    }
    let first = try parseStarOrTest()
    if atKeyword("for") {
      try rejectStarredInComprehension(first)
      let clauses = try parseComprehensionClauses()
      try expectClose(open)
      return Expr(
        .generator(element: first, clauses: clauses), SourceRange(open.range.start, previousEnd))
    }
    if at(",") {
      var items = [first]
      while accept(",") != nil {
        if at(")") { break }
        items.append(try parseStarOrTest())
      }
      try expectClose(open)
      return Expr(.tuple(items), SourceRange(open.range.start, previousEnd))
    }
    try expectClose(open)
    try rejectBareStarred(first)
    return first
  }

  func rejectStarredInComprehension(_ e: Expr) throws(Diagnostic) {
    if case .starred = e.kind {
      throw failure("iterable unpacking cannot be used in comprehension", at: e.range)
    }
  }

  mutating func parseListDisplay() throws(Diagnostic) -> Expr {
    let open = openBracket()
    if let close = accept("]") {
      openBrackets.removeLast()
      return Expr(.list([]), open.range.union(close.range))
    }
    let first = try parseStarOrTest()
    if atKeyword("for") {
      try rejectStarredInComprehension(first)
      let clauses = try parseComprehensionClauses()
      try expectClose(open)
      return Expr(
        .listComprehension(element: first, clauses: clauses), SourceRange(open.range.start, previousEnd))
    }
    var items = [first]
    while accept(",") != nil {
      if at("]") { break }
      items.append(try parseStarOrTest())
    }
    try expectClose(open)
    return Expr(.list(items), SourceRange(open.range.start, previousEnd))
  }

  mutating func parseDictionaryDisplay() throws(Diagnostic) -> Expr {
    let open = openBracket()
    if let close = accept("}") {
      openBrackets.removeLast()
      return Expr(.dictionary([]), open.range.union(close.range))
    }
    var entries: [DictionaryEntry] = []
    repeat {
      if at("}") && !entries.isEmpty { break }
      if at("**") { throw failure("dictionary unpacking is not supported", at: current) }
      if at("*") { throw failure("set literals are not supported", at: open) }
      let key = try parseTest()
      guard accept(":") != nil else {
        if entries.isEmpty && (at(",") || at("}") || atKeyword("for")) {
          throw failure("set literals are not supported", at: open)
        }
        if at("=") { throw failure("expected ':' after dictionary key, not '='", at: current) }
        if current.kind == .endOfInput, let lexError { throw lexError }
        throw failure("expected ':' after dictionary key", at: current)
      }
      let value = try parseTest()
      if atKeyword("for") { throw failure("dict comprehensions are not supported", at: current) }
      entries.append(DictionaryEntry(key: key, value: value))
    } while accept(",") != nil
    try expectClose(open)
    return Expr(.dictionary(entries), SourceRange(open.range.start, previousEnd))
  }

  /// `(for targets in iterable (if condition)*)+` after a comprehension's element.
  mutating func parseComprehensionClauses() throws(Diagnostic) -> [ComprehensionClause] {
    var clauses: [ComprehensionClause] = []
    while let forToken = acceptKeyword("for") {
      let target = try parseTargetList()
      try checkTarget(target, context: .loop)
      guard acceptKeyword("in") != nil else { throw failure("expected 'in'", at: current) }
      let iterable = try parseOrTest()
      var conditions: [Expr] = []
      while acceptKeyword("if") != nil {
        conditions.append(try parseOrTest())
      }
      clauses.append(
        ComprehensionClause(
          target: target, iterable: iterable, conditions: conditions,
          range: SourceRange(forToken.range.start, previousEnd)))
    }
    return clauses
  }

  mutating func parseCall(_ callee: Expr, start: Int) throws(Diagnostic) -> Expr {
    let open = openBracket()
    var arguments: [CallArgument] = []
    var keywordNames: Set<String> = []
    var sawKeyword = false
    var sawKeywordUnpacking = false
    while !at(")") {
      let argumentStart = current.range.start
      if accept("*") != nil {
        let value = try parseTest()
        if sawKeywordUnpacking {
          throw failure("iterable argument unpacking follows keyword argument unpacking", at: value.range)
        }
        arguments.append(CallArgument(.unpacked(value), SourceRange(argumentStart, previousEnd)))
      } else if accept("**") != nil {
        let value = try parseTest()
        sawKeywordUnpacking = true
        arguments.append(CallArgument(.unpackedKeywords(value), SourceRange(argumentStart, previousEnd)))
      } else if current.isName && peek(1).isPunctuation("=") {
        let nameToken = advance()
        advance()
        if keywordNames.contains(nameToken.text) {
          throw failure("keyword argument repeated: '\(nameToken.text)'", at: nameToken)
        }
        keywordNames.insert(nameToken.text)
        let value = try parseTest()
        sawKeyword = true
        arguments.append(
          CallArgument(
            .keyword(name: nameToken.text, nameRange: nameToken.range, value: value),
            SourceRange(argumentStart, previousEnd)))
      } else {
        var value = try parseTest()
        if atKeyword("for") {
          let clauses = try parseComprehensionClauses()
          value = Expr(
            .generator(element: value, clauses: clauses), SourceRange(argumentStart, previousEnd))
          if !arguments.isEmpty || !at(")") {
            throw failure("generator expression must be parenthesized", at: value.range)
          }
        }
        if at("=") { throw failure(Self.equalsMessage, at: current) }
        if sawKeywordUnpacking {
          throw failure("positional argument follows keyword argument unpacking", at: value.range)
        }
        if sawKeyword { throw failure("positional argument follows keyword argument", at: value.range) }
        arguments.append(CallArgument(.positional(value), SourceRange(argumentStart, previousEnd)))
      }
      if accept(",") == nil { break }
    }
    try expectClose(open)
    return Expr(.call(callee: callee, arguments: arguments), SourceRange(start, previousEnd))
  }

  mutating func parseSubscript(_ base: Expr, start: Int) throws(Diagnostic) -> Expr {
    let open = openBracket()
    var items: [IndexItem] = []
    repeat {
      if at("]") && !items.isEmpty { break }
      items.append(try parseIndexItem())
    } while accept(",") != nil
    try expectClose(open)
    return Expr(.subscripted(base: base, items: items), SourceRange(start, previousEnd))
  }

  /// One subscript item: an expression, or a slice `[start]:[stop][:[step]]`.
  mutating func parseIndexItem() throws(Diagnostic) -> IndexItem {
    let start = current.range.start
    var lower: Expr?
    if !at(":") {
      let e = try parseTest()
      guard at(":") else { return .expression(e) }
      lower = e
    }
    advance()
    var upper: Expr?
    if !at(":") && !at(",") && !at("]") && canStartExpression(current) {
      upper = try parseTest()
    }
    var step: Expr?
    if accept(":") != nil && !at(",") && !at("]") && canStartExpression(current) {
      step = try parseTest()
    }
    return .slice(SliceItem(start: lower, stop: upper, step: step, range: SourceRange(start, previousEnd)))
  }
}
