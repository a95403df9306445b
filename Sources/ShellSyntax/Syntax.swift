import KSDiagnostics

// The syntax tree of `.ks` scripts: a Python 3 subset plus meta-commands and `alias`.
//
// Every node carries the UTF-8 byte range of its source text. The parser has already checked
// everything that is purely syntactic (assignment targets, `break` outside a loop, argument
// order), so the interpreter only has to check meaning.

// MARK: - Statements

/// One statement of a script, with its place in the source.
public struct Statement: Sendable, Equatable {
  /// What the statement does.
  public var kind: StatementKind
  /// The statement's exact span: from its first token to its last (for a compound statement, the
  /// end of its last body statement); it excludes a trailing `;`, comments and the line break.
  public var range: SourceRange
  /// Whether a `;` followed the statement: the shell should not echo its value (Julia-style).
  public var isQuiet: Bool

  /// Creates a statement.
  public init(kind: StatementKind, range: SourceRange, isQuiet: Bool = false) {
    self.kind = kind
    self.range = range
    self.isQuiet = isQuiet
  }

  /// The statement's exact source text (what `range` covers), e.g. to save it to a `.ks` file;
  /// append `;` when `isQuiet` to keep it quiet.
  public func sourceText(in source: SourceText) -> String {
    source.syntaxSlice(range)
  }
}

/// The kinds of statements.
public indirect enum StatementKind: Sendable, Equatable {
  /// An expression evaluated for its value, echoed unless the statement is quiet, e.g. `f(x)`.
  case expression(Expr)
  /// `a = b = value`: the targets from left to right (names, attributes, subscripts, tuples or
  /// lists of targets, with at most one starred target per tuple/list), then the value.
  case assignment(targets: [Expr], value: Expr)
  /// `target op= value`; the target is a name, attribute or subscript; `op` is the binary operator.
  case augmentedAssignment(target: Expr, op: BinaryOperator, value: Expr)
  /// `import numpy as np, os.path`: one entry per imported module.
  case importModules([ImportedModule])
  /// `from pykeops.numpy import Genred, KernelSolve as KS` (`*` is one name `"*"`).
  case importFrom(module: [String], moduleRange: SourceRange, names: [ImportedName])
  /// `pass`.
  case pass
  /// `break` (the parser has checked it is inside a loop).
  case breakLoop
  /// `continue` (the parser has checked it is inside a loop).
  case continueLoop
  /// `if c: ... elif d: ... else: ...`: the `if` and `elif` branches in order, then the `else` body.
  case ifStatement(branches: [ConditionalBranch], orElse: [Statement]?)
  /// `for target in iterable: body else: orElse`; the target is a name or a tuple/list of targets.
  case forLoop(target: Expr, iterable: Expr, body: [Statement], orElse: [Statement]?)
  /// `while condition: body else: orElse`.
  case whileLoop(condition: Expr, body: [Statement], orElse: [Statement]?)
  /// A meta-command line `:name argument`, e.g. `:help Genred` (argument is the trimmed rest of the line).
  case metaCommand(name: String, argument: String)
  /// `alias x = Vi(0, 3), y = Vj(3)`: one binding per declared alias.
  case alias([AliasBinding])
  /// `def name(parameters): body`.
  case functionDefinition(FunctionDefinition)
  /// `return` or `return value` (the parser has checked it is inside a function).
  case returnStatement(Expr?)
  /// `global a, b`.
  case global([String])
  /// `nonlocal a, b` (the parser has checked it is inside a function).
  case nonlocal([String])
  /// `try: body except ...: ... else: ... finally: ...`.
  case tryStatement(TryStatement)
  /// `raise`, `raise E`, `raise E from cause`.
  case raise(exception: Expr?, cause: Expr?)
  /// `assert condition, message`.
  case assert(condition: Expr, message: Expr?)
  /// `del a, b[i], c.d`.
  case delete([Expr])
}

/// A `def` statement.
public struct FunctionDefinition: Sendable, Equatable {
  /// The function's name.
  public var name: String
  /// The range of the name.
  public var nameRange: SourceRange
  /// The parameters in order.
  public var parameters: [Parameter]
  /// The body.
  public var body: [Statement]
  /// The docstring: the body's first statement when it is a string literal.
  public var docstring: String?

  /// Creates a definition.
  public init(name: String, nameRange: SourceRange, parameters: [Parameter], body: [Statement], docstring: String?) {
    self.name = name
    self.nameRange = nameRange
    self.parameters = parameters
    self.body = body
    self.docstring = docstring
  }
}

/// One parameter of a `def` or `lambda`.
public struct Parameter: Sendable, Equatable {
  /// How arguments bind to a parameter.
  public enum Kind: Sendable, Equatable {
    /// Before a `/`: by position only.
    case positionalOnly
    /// By position or keyword.
    case positionalOrKeyword
    /// `*args`.
    case variadicPositional
    /// After `*` or `*args`: by keyword only.
    case keywordOnly
    /// `**kwargs`.
    case variadicKeyword
  }

  /// The parameter's name.
  public var name: String
  /// How it binds.
  public var kind: Kind
  /// The default value's expression, evaluated when the `def` runs.
  public var defaultValue: Expr?
  /// The range of the parameter.
  public var range: SourceRange

  /// Creates a parameter.
  public init(name: String, kind: Kind, defaultValue: Expr?, range: SourceRange) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
    self.range = range
  }
}

/// A `try` statement.
public struct TryStatement: Sendable, Equatable {
  /// The guarded statements.
  public var body: [Statement]
  /// The `except` clauses in order.
  public var handlers: [ExceptHandler]
  /// The `else` block, run when the body raised nothing.
  public var orElse: [Statement]?
  /// The `finally` block, run in every case.
  public var finally: [Statement]?

  /// Creates a `try` statement.
  public init(body: [Statement], handlers: [ExceptHandler], orElse: [Statement]?, finally: [Statement]?) {
    self.body = body
    self.handlers = handlers
    self.orElse = orElse
    self.finally = finally
  }
}

/// One `except [type [as name]]:` clause.
public struct ExceptHandler: Sendable, Equatable {
  /// The exception type (or tuple of types) matched; nil for a bare `except:`.
  public var type: Expr?
  /// The name bound to the exception.
  public var name: String?
  /// The handler's statements.
  public var body: [Statement]
  /// The range of the `except` keyword.
  public var keywordRange: SourceRange

  /// Creates a handler.
  public init(type: Expr?, name: String?, body: [Statement], keywordRange: SourceRange) {
    self.type = type
    self.name = name
    self.body = body
    self.keywordRange = keywordRange
  }
}

/// One `if` or `elif` branch.
public struct ConditionalBranch: Sendable, Equatable {
  /// The condition.
  public var condition: Expr
  /// The statements run when the condition is true.
  public var body: [Statement]
  /// The range of the `if` or `elif` keyword.
  public var keywordRange: SourceRange

  /// Creates a branch.
  public init(condition: Expr, body: [Statement], keywordRange: SourceRange) {
    self.condition = condition
    self.body = body
    self.keywordRange = keywordRange
  }
}

/// One module of an `import` statement: `numpy.linalg as la`.
public struct ImportedModule: Sendable, Equatable {
  /// The dotted module path, e.g. `["numpy", "linalg"]`.
  public var module: [String]
  /// The `as` name, if any.
  public var alias: String?
  /// The range of this entry (`numpy.linalg as la`).
  public var range: SourceRange

  /// Creates an entry.
  public init(module: [String], alias: String?, range: SourceRange) {
    self.module = module
    self.alias = alias
    self.range = range
  }

  /// The dotted module name, e.g. `numpy.linalg`.
  public var dottedName: String { module.joined(separator: ".") }
  /// The variable Python binds: the alias, or else the first component (`import a.b` binds `a`).
  public var boundName: String { alias ?? module[0] }
}

/// One name of a `from ... import` statement: `KernelSolve as KS`.
public struct ImportedName: Sendable, Equatable {
  /// The imported name (`"*"` for `from m import *`).
  public var name: String
  /// The `as` name, if any.
  public var alias: String?
  /// The range of this entry.
  public var range: SourceRange

  /// Creates an entry.
  public init(name: String, alias: String?, range: SourceRange) {
    self.name = name
    self.alias = alias
    self.range = range
  }

  /// The variable bound: the alias, or else the name.
  public var boundName: String { alias ?? name }
}

/// One alias of an `alias` declaration: `x = Vi(0, 3)`.
public struct AliasBinding: Sendable, Equatable {
  /// The alias name, e.g. `x`.
  public var name: String
  /// The range of the name.
  public var nameRange: SourceRange
  /// The raw source text of the right-hand side, e.g. `Vi(0, 3)`.
  public var definition: String
  /// The range of the right-hand side.
  public var definitionRange: SourceRange
  /// The right-hand side parsed as an expression.
  public var expression: Expr

  /// Creates a binding.
  public init(
    name: String, nameRange: SourceRange, definition: String, definitionRange: SourceRange,
    expression: Expr
  ) {
    self.name = name
    self.nameRange = nameRange
    self.definition = definition
    self.definitionRange = definitionRange
    self.expression = expression
  }
}

// MARK: - Expressions

/// An expression with its place in the source.
public struct Expr: Sendable, Equatable {
  /// What the expression is.
  public var kind: ExprKind
  /// The expression's span (a parenthesized expression's span excludes its parentheses; a
  /// tuple's includes them when it has them).
  public var range: SourceRange

  /// Creates an expression.
  public init(_ kind: ExprKind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
  }
}

/// The kinds of expressions.
public indirect enum ExprKind: Sendable, Equatable {
  /// A variable reference, e.g. `x`.
  case name(String)
  /// An integer literal (`1_000`, `0x1f`).
  case integer(Int)
  /// A floating-point literal (`1.5`, `.1`, `1e-6`, `2.`).
  case float(Double)
  /// An imaginary literal (`1j`, `2.5e-3J`): the imaginary part.
  case imaginary(Double)
  /// A string literal, possibly several adjacent ones concatenated (`"a" 'b'`).
  case string(StringLiteral)
  /// An f-string (or adjacent literals at least one of which is an f-string): literal text and fields.
  case formattedString([FormattedStringPart])
  /// `True` or `False`.
  case boolean(Bool)
  /// `None`.
  case noneLiteral
  /// `...` (Ellipsis).
  case ellipsis
  /// A list display `[a, b]`; elements may be `starred`.
  case list([Expr])
  /// A tuple `(a, b)`, `(a,)`, `()` or bare `a, b`; elements may be `starred`.
  case tuple([Expr])
  /// A dict display `{k: v, ...}`.
  case dictionary([DictionaryEntry])
  /// A list comprehension `[element for t in xs if c ...]`.
  case listComprehension(element: Expr, clauses: [ComprehensionClause])
  /// A generator expression `(element for t in xs if c)`, also as a sole call argument `sum(x for x in xs)`.
  case generator(element: Expr, clauses: [ComprehensionClause])
  /// `*x` inside a list or tuple display or an assignment target.
  case starred(Expr)
  /// Attribute access `base.name`.
  case attribute(base: Expr, name: String, nameRange: SourceRange)
  /// A call `callee(arguments...)`.
  case call(callee: Expr, arguments: [CallArgument])
  /// Subscription `base[i]`, `base[1:2]`, `base[:, None, ...]`: one item per comma-separated index.
  case subscripted(base: Expr, items: [IndexItem])
  /// A unary operation `-x`, `+x`, `~x`, `not x`.
  case unary(UnaryOperator, Expr)
  /// A binary arithmetic or bitwise operation `lhs op rhs` (including `**` and `@`).
  case binary(BinaryOperator, Expr, Expr)
  /// A short-circuit `lhs and rhs` / `lhs or rhs` (left-associative: `a or b or c` is `(a or b) or c`).
  case logical(LogicalOperator, Expr, Expr)
  /// A comparison chain `first op1 e1 op2 e2 ...` meaning `first op1 e1 and e1 op2 e2 ...`.
  case comparison(first: Expr, rest: [ComparisonLink])
  /// A conditional expression `then if condition else otherwise`.
  case conditional(condition: Expr, then: Expr, otherwise: Expr)
  /// `lambda parameters: body`.
  case lambda(parameters: [Parameter], body: Expr)
}

/// A string literal's value, and where its content lies in the source when that is exact.
public struct StringLiteral: Sendable, Equatable {
  /// The decoded value (escapes applied, adjacent literals joined).
  public var value: String
  /// The byte offset where the content starts in the source, set only when the content's bytes
  /// are the source's bytes one for one: a single literal (raw, or without any backslash).
  /// Byte `k` of `value.utf8` is then source byte `contentOffset + k`.
  public var contentOffset: Int?

  /// Creates a literal.
  public init(value: String, contentOffset: Int?) {
    self.value = value
    self.contentOffset = contentOffset
  }
}

/// A piece of an f-string.
public enum FormattedStringPart: Sendable, Equatable {
  /// Literal text (escapes applied, `{{` and `}}` turned into braces) and its source range.
  case literal(String, SourceRange)
  /// A replacement field `{expression!conversion:spec}`.
  case field(ReplacementField)
}

/// A replacement field of an f-string: `{x:.3f}`, `{y!r}`, `{z=}`.
public struct ReplacementField: Sendable, Equatable {
  /// The expression to format.
  public var expression: Expr
  /// For a self-documenting field `{x = }`, the text to print before the value (`"x = "`).
  public var debugText: String?
  /// The conversion `!s`, `!r`, `!a`; a self-documenting field with neither conversion nor spec
  /// gets `.repr`, as in Python.
  public var conversion: FormatConversion?
  /// The format spec text after `:`, e.g. `.3f`, or `nil` when there is no `:`.
  public var formatSpec: String?
  /// The range of the format spec text.
  public var formatSpecRange: SourceRange?
  /// The range of the whole field, braces included.
  public var range: SourceRange

  /// Creates a field.
  public init(
    expression: Expr, debugText: String? = nil, conversion: FormatConversion? = nil,
    formatSpec: String? = nil, formatSpecRange: SourceRange? = nil, range: SourceRange
  ) {
    self.expression = expression
    self.debugText = debugText
    self.conversion = conversion
    self.formatSpec = formatSpec
    self.formatSpecRange = formatSpecRange
    self.range = range
  }
}

/// The conversion of an f-string field.
public enum FormatConversion: String, Sendable, Equatable {
  /// `!s`: `str(value)`.
  case str = "s"
  /// `!r`: `repr(value)`.
  case repr = "r"
  /// `!a`: `ascii(value)`.
  case ascii = "a"
}

/// One `key: value` entry of a dict display.
public struct DictionaryEntry: Sendable, Equatable {
  /// The key.
  public var key: Expr
  /// The value.
  public var value: Expr

  /// Creates an entry.
  public init(key: Expr, value: Expr) {
    self.key = key
    self.value = value
  }
}

/// One `for target in iterable if c1 if c2` clause of a comprehension.
public struct ComprehensionClause: Sendable, Equatable {
  /// The loop target: a name or a tuple/list of targets.
  public var target: Expr
  /// The iterated expression.
  public var iterable: Expr
  /// The `if` filters, all of which must hold.
  public var conditions: [Expr]
  /// The range of the clause, from `for` to the end of its last condition.
  public var range: SourceRange

  /// Creates a clause.
  public init(target: Expr, iterable: Expr, conditions: [Expr], range: SourceRange) {
    self.target = target
    self.iterable = iterable
    self.conditions = conditions
    self.range = range
  }
}

/// One argument of a call.
public struct CallArgument: Sendable, Equatable {
  /// What kind of argument it is.
  public var kind: CallArgumentKind
  /// The argument's range (including `name=`, `*` or `**`).
  public var range: SourceRange

  /// Creates an argument.
  public init(_ kind: CallArgumentKind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
  }

  /// The argument's value expression, whatever its kind.
  public var value: Expr {
    switch kind {
    case .positional(let e), .keyword(_, _, let e), .unpacked(let e), .unpackedKeywords(let e): e
    }
  }
}

/// The kinds of call arguments.
public enum CallArgumentKind: Sendable, Equatable {
  /// A positional argument `f(x)`.
  case positional(Expr)
  /// A keyword argument `f(name=value)` (the parser has checked names are not repeated).
  case keyword(name: String, nameRange: SourceRange, value: Expr)
  /// An unpacked sequence `f(*args)`.
  case unpacked(Expr)
  /// An unpacked mapping `f(**kwargs)`.
  case unpackedKeywords(Expr)
}

/// One comma-separated item of a subscript.
public enum IndexItem: Sendable, Equatable {
  /// An ordinary index expression (`0`, `None`, `...`, `mask`).
  case expression(Expr)
  /// A slice `start:stop:step`, any part optional.
  case slice(SliceItem)
}

/// A slice `start:stop:step` inside a subscript.
public struct SliceItem: Sendable, Equatable {
  /// The start, if given.
  public var start: Expr?
  /// The stop, if given.
  public var stop: Expr?
  /// The step, if given.
  public var step: Expr?
  /// The slice's range.
  public var range: SourceRange

  /// Creates a slice.
  public init(start: Expr?, stop: Expr?, step: Expr?, range: SourceRange) {
    self.start = start
    self.stop = stop
    self.step = step
    self.range = range
  }
}

/// One `op operand` link of a comparison chain.
public struct ComparisonLink: Sendable, Equatable {
  /// The comparison operator.
  public var op: ComparisonOperator
  /// The right-hand operand.
  public var operand: Expr

  /// Creates a link.
  public init(op: ComparisonOperator, operand: Expr) {
    self.op = op
    self.operand = operand
  }
}

// MARK: - Operators

/// Binary arithmetic and bitwise operators, by Python's names.
public enum BinaryOperator: String, Sendable, Equatable, CaseIterable {
  /// `+`
  case add = "+"
  /// `-`
  case subtract = "-"
  /// `*`
  case multiply = "*"
  /// `/` (true division)
  case divide = "/"
  /// `//` (floor division)
  case floorDivide = "//"
  /// `%`
  case modulo = "%"
  /// `@` (matrix multiplication)
  case matrixMultiply = "@"
  /// `**` (right-associative)
  case power = "**"
  /// `<<`
  case leftShift = "<<"
  /// `>>`
  case rightShift = ">>"
  /// `&`
  case bitwiseAnd = "&"
  /// `|`
  case bitwiseOr = "|"
  /// `^`
  case bitwiseXor = "^"

  /// The operator as written, e.g. `//`.
  public var symbol: String { rawValue }
}

/// Unary operators.
public enum UnaryOperator: String, Sendable, Equatable, CaseIterable {
  /// `-x`
  case negate = "-"
  /// `+x`
  case plus = "+"
  /// `~x`
  case invert = "~"
  /// `not x`
  case not = "not"

  /// The operator as written.
  public var symbol: String { rawValue }
}

/// Short-circuit boolean operators.
public enum LogicalOperator: String, Sendable, Equatable, CaseIterable {
  /// `and`
  case and
  /// `or`
  case or

  /// The operator as written.
  public var symbol: String { rawValue }
}

/// Comparison operators.
public enum ComparisonOperator: String, Sendable, Equatable, CaseIterable {
  /// `<`
  case less = "<"
  /// `>`
  case greater = ">"
  /// `<=`
  case lessOrEqual = "<="
  /// `>=`
  case greaterOrEqual = ">="
  /// `==`
  case equal = "=="
  /// `!=`
  case notEqual = "!="
  /// `in`
  case isIn = "in"
  /// `not in`
  case notIn = "not in"
  /// `is`
  case identical = "is"
  /// `is not`
  case notIdentical = "is not"

  /// The operator as written.
  public var symbol: String { rawValue }
}

// MARK: - Source helpers

extension SourceText {
  /// The text of `range` (UTF-8 byte offsets), clamped to the text.
  func syntaxSlice(_ range: SourceRange) -> String {
    let utf8 = text.utf8
    let lower = max(0, min(range.start, utf8.count))
    let upper = max(lower, min(range.end, utf8.count))
    let from = utf8.index(utf8.startIndex, offsetBy: lower)
    let to = utf8.index(from, offsetBy: upper - lower)
    return String(decoding: utf8[from..<to], as: UTF8.self)
  }
}

extension IndexItem {
  /// Where the index item was written.
  public var range: SourceRange {
    switch self {
    case .expression(let e): return e.range
    case .slice(let s): return s.range
    }
  }
}
