import KSDiagnostics
import ShellSyntax
import Testing

// MARK: - Helpers

private func source(_ text: String) -> SourceText { SourceText(name: "script.ks", text: text) }

/// The statements of `text`, or the error.
private func parse(_ text: String) -> Result<[Statement], Diagnostic> {
  do throws(Diagnostic) {
    return .success(try ScriptParser(source: source(text)).parse())
  } catch {
    return .failure(error)
  }
}

/// The S-expressions of `text`'s statements, one per line, or `error: message`.
private func tree(_ text: String) -> String {
  switch parse(text) {
  case .success(let statements): return statements.map(\.treeDescription).joined(separator: "\n")
  case .failure(let error): return "error: \(error.message)"
  }
}

/// The parse error's message for `text`, or "no error".
private func message(_ text: String) -> String {
  switch parse(text) {
  case .success: return "no error"
  case .failure(let error): return error.message
  }
}

/// The rendered diagnostic for `text`, as the shell prints it.
private func rendered(_ text: String) -> String {
  switch parse(text) {
  case .success: return "no error"
  case .failure(let error): return DiagnosticRenderer().render(error, in: source(text))
  }
}

/// The single expression of an expression statement.
private func expression(_ text: String) throws -> Expr {
  let statements = try #require(try? parse(text).get())
  guard statements.count == 1, case .expression(let e) = statements[0].kind else {
    Issue.record("not a single expression statement: \(text)")
    throw Diagnostic("not an expression", at: nil)
  }
  return e
}

private func text(_ range: SourceRange, in string: String) -> String {
  String(decoding: Array(string.utf8)[range.start..<range.end], as: UTF8.self)
}

// MARK: - Expressions

@Suite("Parser: expressions")
struct ExpressionParsingTests {
  @Test(arguments: [
    ("a + b * c", "(+ a (* b c))"),
    ("(a + b) * c", "(* (+ a b) c)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a / b / c", "(/ (/ a b) c)"),
    ("2 ** 3 ** 2", "(** 2 (** 3 2))"),
    ("-x ** 2", "(neg (** x 2))"),
    ("2 ** -1", "(** 2 (neg 1))"),
    ("-x ** -y ** 2", "(neg (** x (neg (** y 2))))"),
    ("a ** b * c", "(* (** a b) c)"),
    ("a // b % c @ d * e", "(* (@ (% (// a b) c) d) e)"),
    ("a | b ^ c & d", "(| a (^ b (& c d)))"),
    ("a & b << c", "(& a (<< b c))"),
    ("a << 1 + 2 >> 3", "(>> (<< a (+ 1 2)) 3)"),
    ("~a + -b - +c", "(- (+ (~ a) (neg b)) (pos c))"),
    ("- - x", "(neg (neg x))"),
    ("x | y == z", "(cmp (| x y) == z)"),
    ("not a == b", "(not (cmp a == b))"),
    ("not not a", "(not (not a))"),
    ("a < b <= c != d", "(cmp a < b <= c != d)"),
    ("a > b >= c == d", "(cmp a > b >= c == d)"),
    ("a not in b", "(cmp a not in b)"),
    ("a in b", "(cmp a in b)"),
    ("a is not None", "(cmp a is not None)"),
    ("a is b", "(cmp a is b)"),
    ("x in y and not z or w", "(or (and (cmp x in y) (not z)) w)"),
    ("a or b or c", "(or (or a b) c)"),
    ("a and b and c", "(and (and a b) c)"),
    ("a or b and c", "(or a (and b c))"),
    ("a if c else b", "(if c a b)"),
    ("a if b else c if d else e", "(if b a (if d c e))"),
    ("a or b if c and d else e", "(if (and c d) (or a b) e)"),
    ("True and False or None", "(or (and True False) None)"),
    ("a @ b.T", "(@ a (. b T))"),
    ("1_000 + 0x1f", "(+ 1000 31)"),
    ("1.5 + .1 + 1e-6 + 2.", "(+ (+ (+ 1.5 0.1) 1e-06) 2.0)"),
  ])
  func precedence(source: String, expected: String) {
    #expect(tree(source) == expected)
  }

  @Test(arguments: [
    ("a.b.c(d)[e]", "(index (call (. (. a b) c) d) e)"),
    ("f()", "(call f)"),
    ("f(a,)", "(call f a)"),
    ("f(a, b, k=v, *args, **kw)", "(call f a b (kw k v) (* args) (** kw))"),
    ("f(*a, k=1, *b, **c)", "(call f (* a) (kw k 1) (* b) (** c))"),
    ("np.exp(-x**2 / 2)", "(call (. np exp) (/ (neg (** x 2)) 2))"),
    ("f(a)(b)", "(call (call f a) b)"),
    ("f(a == 1)", "(call f (cmp a == 1))"),
    ("Genred(formula, aliases, reduction_op='Sum', axis=1)", "(call Genred formula aliases (kw reduction_op \"Sum\") (kw axis 1))"),
    ("sum(x for x in xs)", "(call sum (gen x (for x xs)))"),
    ("f(\n  a,\n  b,\n)", "(call f a b)"),
  ])
  func callsAndAttributes(source: String, expected: String) {
    #expect(tree(source) == expected)
  }

  @Test(arguments: [
    ("x[0]", "(index x 0)"),
    ("x[-1]", "(index x (neg 1))"),
    ("x[1:2]", "(index x (slice 1 2 _))"),
    ("x[1:]", "(index x (slice 1 _ _))"),
    ("x[:2]", "(index x (slice _ 2 _))"),
    ("x[:]", "(index x (slice _ _ _))"),
    ("x[::2]", "(index x (slice _ _ 2))"),
    ("x[::]", "(index x (slice _ _ _))"),
    ("x[1:-1:2]", "(index x (slice 1 (neg 1) 2))"),
    ("x[:, 0]", "(index x (slice _ _ _) 0)"),
    ("x[:, None, :]", "(index x (slice _ _ _) None (slice _ _ _))"),
    ("x[..., 0]", "(index x ... 0)"),
    ("x[i, j]", "(index x i j)"),
    ("x[i,]", "(index x i)"),
    ("x[a:b, ::-1]", "(index x (slice a b _) (slice _ _ (neg 1)))"),
    ("x[x > 0]", "(index x (cmp x > 0))"),
    ("x[0][1]", "(index (index x 0) 1)"),
  ])
  func subscriptsAndSlices(source: String, expected: String) {
    #expect(tree(source) == expected)
  }

  @Test(arguments: [
    ("[1, 2, 3]", "[1 2 3]"),
    ("[1, 2,]", "[1 2]"),
    ("[]", "[]"),
    ("[[1], [2, 3]]", "[[1] [2 3]]"),
    ("[*a, *b]", "[(* a) (* b)]"),
    ("(1,)", "(tuple 1)"),
    ("()", "(tuple)"),
    ("(1, 2)", "(tuple 1 2)"),
    ("(1)", "1"),
    ("((1))", "1"),
    ("1, 2", "(tuple 1 2)"),
    ("1,", "(tuple 1)"),
    ("{'a': 1, 'b': [2]}", "(dict (\"a\" 1) (\"b\" [2]))"),
    ("{'a': 1,}", "(dict (\"a\" 1))"),
    ("{}", "(dict)"),
    ("True, False, None, ...", "(tuple True False None ...)"),
    ("[f(a) for a in xs if c]", "(listcomp (call f a) (for a xs (if c)))"),
    ("[x * y for x in a for y in b if x if y]", "(listcomp (* x y) (for x a) (for y b (if x) (if y)))"),
    ("[(i, j) for i, j in pairs]", "(listcomp (tuple i j) (for (tuple i j) pairs))"),
    ("[a if c else b for a in xs]", "(listcomp (if c a b) (for a xs))"),
    ("[x for x in a or b if x if not x]", "(listcomp x (for x (or a b) (if x) (if (not x))))"),
    ("(x for x in xs)", "(gen x (for x xs))"),
  ])
  func displaysAndComprehensions(source: String, expected: String) {
    #expect(tree(source) == expected)
  }

  @Test func rangesCoverTheirSource() throws {
    let src = "a + b * c"
    let e = try expression(src)
    #expect(e.range == SourceRange(0, 9))
    guard case .binary(.add, let lhs, let rhs) = e.kind else {
      Issue.record("expected +")
      return
    }
    #expect(lhs.range == SourceRange(0, 1))
    #expect(text(rhs.range, in: src) == "b * c")
  }

  @Test func rangesOfPrimariesAndTuples() throws {
    let src = "np.linalg.norm(x[:, 0], axis=1), (1, 2)"
    let e = try expression(src)
    guard case .tuple(let items) = e.kind, case .call(let callee, let arguments) = items[0].kind,
      case .attribute(_, let name, let nameRange) = callee.kind
    else {
      Issue.record("unexpected tree \(e.treeDescription)")
      return
    }
    #expect(text(e.range, in: src) == src)
    #expect(text(items[0].range, in: src) == "np.linalg.norm(x[:, 0], axis=1)")
    #expect(text(items[1].range, in: src) == "(1, 2)")
    #expect(name == "norm" && text(nameRange, in: src) == "norm")
    #expect(text(arguments[0].range, in: src) == "x[:, 0]")
    #expect(text(arguments[1].range, in: src) == "axis=1")
    guard case .subscripted(_, let indexItems) = arguments[0].value.kind, case .slice(let slice) = indexItems[0] else {
      Issue.record("expected a slice")
      return
    }
    #expect(text(slice.range, in: src) == ":")
    if case .keyword(let keyword, let keywordRange, _) = arguments[1].kind {
      #expect(keyword == "axis" && text(keywordRange, in: src) == "axis")
    } else {
      Issue.record("expected a keyword argument")
    }
  }

  @Test func parenthesesAreNotPartOfTheInnerRange() throws {
    let src = "(a + b) * c"
    let e = try expression(src)
    guard case .binary(.multiply, let lhs, _) = e.kind else {
      Issue.record("expected *")
      return
    }
    #expect(text(e.range, in: src) == src)
    #expect(text(lhs.range, in: src) == "a + b")
  }

  @Test func parseExpressionEntryPoint() throws {
    let e = try ScriptParser(source: source("f(a,\n  b) + 1")).parseExpression()
    #expect(e.treeDescription == "(+ (call f a b) 1)")
    #expect(throws: Diagnostic.self) { try ScriptParser(source: source("a b")).parseExpression() }
  }
}

// MARK: - Literals

@Suite("Parser: string literals")
struct StringLiteralTests {
  @Test(arguments: [
    (#"'abc'"#, "abc"),
    (#""abc""#, "abc"),
    (#"'a"b'"#, "a\"b"),
    (#""it's""#, "it's"),
    (#"'a\nb\tc\\d\'e\"f'"#, "a\nb\tc\\d'e\"f"),
    (#"'\x41\u00e9\U0001F600\101\0'"#, "Aé😀A\0"),
    (#"'\d\q'"#, "\\d\\q"),
    (#"r'\d+\n'"#, "\\d+\\n"),
    (#"R"\"""#, "\\\""),
    (#"u'x'"#, "x"),
    (#"'a' "b" 'c'"#, "abc"),
    (#"'a' r'\n'"#, "a\\n"),
    ("'''one\ntwo'''", "one\ntwo"),
    ("\"\"\"say \"hi\" \"\"\"", "say \"hi\" "),
    ("'line \\\ncontinued'", "line continued"),
    ("('implicit'\n 'concat')", "implicitconcat"),
  ])
  func values(source: String, expected: String) throws {
    let e = try expression(source)
    guard case .string(let literal) = e.kind else {
      Issue.record("not a string: \(e.treeDescription)")
      return
    }
    #expect(literal.value == expected)
  }

  @Test func contentOffsetForAPlainLiteral() throws {
    let src = #"op = Genred("Exp(-Norm3(x-y))", aliases)"#
    let statements = try #require(try? parse(src).get())
    guard case .assignment(_, let value) = statements[0].kind, case .call(_, let arguments) = value.kind,
      case .string(let formula) = arguments[0].value.kind
    else {
      Issue.record("unexpected tree")
      return
    }
    let offset = try #require(formula.contentOffset)
    #expect(offset == 13)
    #expect(text(SourceRange(offset, offset + formula.value.utf8.count), in: src) == formula.value)
    // A formula error at bytes 5..<10 of the formula ("Norm3") lands under "Norm3" in the script.
    let formulaError = Diagnostic("unknown operation 'Norm3'; did you mean 'Norm2'?", at: SourceRange(5, 10))
    let out = DiagnosticRenderer().render(formulaError.shifted(by: offset), in: source(src))
    #expect(
      out == """
        script.ks:1:19: error: unknown operation 'Norm3'; did you mean 'Norm2'?
          1 | op = Genred("Exp(-Norm3(x-y))", aliases)
            |                   ^~~~~

        """)
  }

  @Test func contentOffsetOnLaterLinesAndWithNonASCIIText() throws {
    let src = "x = 1\ny = f('σ·Exp(a)')"
    let statements = try #require(try? parse(src).get())
    guard case .assignment(_, let value) = statements[1].kind, case .call(_, let arguments) = value.kind,
      case .string(let literal) = arguments[0].value.kind
    else {
      Issue.record("unexpected tree")
      return
    }
    let offset = try #require(literal.contentOffset)
    #expect(text(SourceRange(offset, offset + literal.value.utf8.count), in: src) == "σ·Exp(a)")
  }

  @Test(arguments: [
    (#"r'\d(x)'"#, true),
    ("'''a\nb'''", true),
    (#"'plain'"#, true),
    (#"''"#, true),
    (#"'a\nb'"#, false),
    (#"'a\\b'"#, false),
    (#"'a' 'b'"#, false),
    ("'a\\\nb'", false),
  ])
  func contentOffsetIsSetOnlyWhenExact(source: String, hasOffset: Bool) throws {
    let e = try expression(source)
    guard case .string(let literal) = e.kind else {
      Issue.record("not a string")
      return
    }
    #expect((literal.contentOffset != nil) == hasOffset)
    if let offset = literal.contentOffset {
      #expect(text(SourceRange(offset, offset + literal.value.utf8.count), in: source) == literal.value)
    }
  }

  @Test(arguments: [
    (#"f"{x:.3f} and {y}""#, #"(f {x :.3f} " and " {y})"#),
    (#"f'{{literal}} {x!r}'"#, #"(f "{literal} " {x !r})"#),
    (#"f"{x=}""#, #"(f {x "x=" !r})"#),
    (#"f"{x = :.2f}""#, #"(f {x "x = " :.2f})"#),
    (#"f"{x=!s}""#, #"(f {x "x=" !s})"#),
    (#"f"{x!r:>10}""#, #"(f {x !r :>10})"#),
    (#"f"{d['a']}""#, #"(f {(index d "a")})"#),
    (#"f"{a, b}""#, #"(f {(tuple a b)})"#),
    (#"f"{a!=b}""#, #"(f {(cmp a != b)})"#),
    (#"f"{a == b}""#, #"(f {(cmp a == b)})"#),
    (#"f"{f(x, y=1):>10}""#, #"(f {(call f x (kw y 1)) :>10})"#),
    (#"f"{ {'a': 1}['a'] }""#, #"(f {(index (dict ("a" 1)) "a")})"#),
    (#""a" f"{x}" 'c'"#, #"(f "a" {x} "c")"#),
    (#"rf"\d{x}""#, #"(f "\\d" {x})"#),
    (#"f"tab\t{x}""#, #"(f "tab\t" {x})"#),
    (#"f"{x:%Y-%m-%d}""#, #"(f {x :%Y-%m-%d})"#),
    (#"f"""{x}\n{y}""""#, #"(f {x} "\n" {y})"#),
    (#"f''"#, "(f )"),
  ])
  func formattedStrings(source: String, expected: String) {
    #expect(tree(source) == expected)
  }

  @Test func formattedStringFieldRanges() throws {
    let src = #"msg = f"value {x + y:.3f}!""#
    let statements = try #require(try? parse(src).get())
    guard case .assignment(_, let value) = statements[0].kind, case .formattedString(let parts) = value.kind,
      case .literal(let literal, let literalRange) = parts[0], case .field(let field) = parts[1]
    else {
      Issue.record("unexpected tree")
      return
    }
    #expect(literal == "value " && text(literalRange, in: src) == "value ")
    #expect(text(field.range, in: src) == "{x + y:.3f}")
    #expect(text(field.expression.range, in: src) == "x + y")
    let specRange = try #require(field.formatSpecRange)
    #expect(field.formatSpec == ".3f" && text(specRange, in: src) == ".3f")
  }

  @Test(arguments: [
    (#"f"{}""#, "f-string: empty expression not allowed"),
    (#"f"{ }""#, "f-string: empty expression not allowed"),
    (#"f"a}b""#, "f-string: single '}' is not allowed"),
    (#"f"{x""#, "f-string: expecting '}'"),
    (#"f"{x!z}""#, "f-string: invalid conversion character: expected 's', 'r', or 'a'"),
    (#"f"{x!r extra}""#, "f-string: expecting '}'"),
    (#"f"{x:{w}}""#, "nested replacement fields in f-string format specs are not supported"),
    (#"f"{a b}""#, "invalid syntax: unexpected name 'b'"),
    (#"f"{*a}""#, "cannot use starred expression here"),
    (#"'\x4'"#, #"invalid \x escape: expected 2 hexadecimal digits"#),
    (#"'\u12'"#, #"invalid \u escape: expected 4 hexadecimal digits"#),
    (#"'\UFFFFFFFF'"#, #"invalid \U escape: not a Unicode character"#),
    (#"'\N{BULLET}'"#, #"\N{...} escapes are not supported"#),
  ])
  func stringErrors(source: String, expected: String) {
    #expect(message(source) == expected)
  }

  @Test func formattedStringErrorPointsIntoTheString() {
    #expect(
      rendered(#"print(f"total: {n +}")"#) == """
        script.ks:1:20: error: expected an expression, found end of input
          1 | print(f"total: {n +}")
            |                    ^

        """)
  }
}

// MARK: - Statements

@Suite("Parser: statements")
struct StatementParsingTests {
  @Test(arguments: [
    ("x = 1", "(= x 1)"),
    ("a = b = f(x)", "(= a b (call f x))"),
    ("a, b = 1, 2", "(= (tuple a b) (tuple 1 2))"),
    ("(a, b) = t", "(= (tuple a b) t)"),
    ("[a, b] = t", "(= [a b] t)"),
    ("a, (b, c) = t", "(= (tuple a (tuple b c)) t)"),
    ("a, *rest = t", "(= (tuple a (* rest)) t)"),
    ("x = *a, b", "(= x (tuple (* a) b))"),
    ("x[0] = v", "(= (index x 0) v)"),
    ("x[:, 1] = v", "(= (index x (slice _ _ _) 1) v)"),
    ("obj.attr = 3", "(= (. obj attr) 3)"),
    ("x = 1, 2", "(= x (tuple 1 2))"),
    ("x = y == z", "(= x (cmp y == z))"),
    ("x += 1", "(+= x 1)"),
    ("x -= 1", "(-= x 1)"),
    ("x *= 2", "(*= x 2)"),
    ("x /= 2", "(/= x 2)"),
    ("x //= 2", "(//= x 2)"),
    ("x %= 2", "(%= x 2)"),
    ("x **= 2", "(**= x 2)"),
    ("m @= w", "(@= m w)"),
    ("x[0] += 1, 2", "(+= (index x 0) (tuple 1 2))"),
    ("a.b |= c", "(|= (. a b) c)"),
    ("import numpy as np", "(import (numpy as np))"),
    ("import numpy", "(import numpy)"),
    ("import os.path, numpy as np", "(import os.path (numpy as np))"),
    ("from pykeops.numpy import Genred, KernelSolve", "(from pykeops.numpy import Genred KernelSolve)"),
    ("from pykeops.numpy import Genred as G, LazyTensor", "(from pykeops.numpy import (Genred as G) LazyTensor)"),
    ("from a import (b,\n  c as d,)", "(from a import b (c as d))"),
    ("from numpy import *", "(from numpy import *)"),
    ("pass", "pass"),
    (":help Genred", "(:help \"Genred\")"),
    (":save out.ks", "(:save \"out.ks\")"),
    (":engine cpu", "(:engine \"cpu\")"),
    (":quit", "(:quit \"\")"),
    ("alias x = Vi(3), y = Vj(3), b = Vj(1)", "(alias x \"Vi(3)\" y \"Vj(3)\" b \"Vj(1)\")"),
    ("alias p = Pm(2)", "(alias p \"Pm(2)\")"),
    ("alias x = Vi(0, 3)", "(alias x \"Vi(0, 3)\")"),
    ("alias v = Var(3, 1, 1)", "(alias v \"Var(3, 1, 1)\")"),
    ("alias = 3", "(= alias 3)"),
    ("alias(x)", "(call alias x)"),
    ("alias", "alias"),
    ("alias.x = 1", "(= (. alias x) 1)"),
    ("x", "x"),
    ("print(x)", "(call print x)"),
  ])
  func simpleStatements(source: String, expected: String) {
    #expect(tree(source) == expected)
  }

  @Test func aliasBindingsRecordRawTextAndRanges() throws {
    let src = "alias x = Vi(0,  3), y=Vj(3)  # comment"
    let statements = try #require(try? parse(src).get())
    guard case .alias(let bindings) = statements[0].kind else {
      Issue.record("not an alias")
      return
    }
    #expect(bindings.count == 2)
    #expect(bindings[0].name == "x" && text(bindings[0].nameRange, in: src) == "x")
    #expect(bindings[0].definition == "Vi(0,  3)" && text(bindings[0].definitionRange, in: src) == "Vi(0,  3)")
    #expect(bindings[0].expression.treeDescription == "(call Vi 0 3)")
    #expect(bindings[1].name == "y" && bindings[1].definition == "Vj(3)")
    #expect(statements[0].sourceText(in: source(src)) == "alias x = Vi(0,  3), y=Vj(3)")
  }

  @Test func semicolonsSeparateAndQuietStatements() {
    #expect(tree("x = 1;") == "(= x 1);")
    #expect(tree("a = 1; b = 2") == "(= a 1);\n(= b 2)")
    #expect(tree("f(x); g(y);") == "(call f x);\n(call g y);")
    #expect(tree("x = 1 ;  # quiet\ny") == "(= x 1);\ny")
  }

  @Test func statementRangesAndSourceText() throws {
    let src = "x = 1; y = f(2)  # c\n\nfor a in xs:\n    print(a)\n\n# end\nz = (1,\n     2)\n"
    let statements = try #require(try? parse(src).get())
    let texts = statements.map { $0.sourceText(in: source(src)) }
    #expect(texts == ["x = 1", "y = f(2)", "for a in xs:\n    print(a)", "z = (1,\n     2)"])
    #expect(statements.map(\.isQuiet) == [true, false, false, false])
    let (line, column) = source(src).location(of: statements[2].range.start)
    #expect(line == 3 && column == 1)
  }

  @Test func compoundStatementRangesEndAtTheirLastBodyStatement() throws {
    let src = "for a in xs: f(a);\nif x:\n    y = 1\nelse:\n    y = 2;  # quiet\n\nz"
    let statements = try #require(try? parse(src).get())
    let texts = statements.map { $0.sourceText(in: source(src)) }
    #expect(texts == ["for a in xs: f(a)", "if x:\n    y = 1\nelse:\n    y = 2", "z"])
  }

  @Test func importRecordsNamesAndBindings() throws {
    let statements = try #require(try? parse("import numpy.linalg, numpy as np\nfrom pykeops.numpy import Genred as G").get())
    guard case .importModules(let modules) = statements[0].kind,
      case .importFrom(let module, _, let names) = statements[1].kind
    else {
      Issue.record("unexpected tree")
      return
    }
    #expect(modules.map(\.boundName) == ["numpy", "np"])
    #expect(modules[0].dottedName == "numpy.linalg")
    #expect(module == ["pykeops", "numpy"])
    #expect(names.map(\.boundName) == ["G"] && names[0].name == "Genred")
  }
}

// MARK: - Blocks

@Suite("Parser: blocks")
struct BlockParsingTests {
  @Test func ifElifElse() {
    let src = """
      if x > 0:
          s = 1
      elif x < 0:
          s = -1
      else:
          s = 0
      print(s)
      """
    #expect(tree(src) == "(if (cmp x > 0) [(= s 1)] elif (cmp x < 0) [(= s (neg 1))] else [(= s 0)])\n(call print s)")
  }

  @Test func forLoopsWithTargetsBreakAndContinue() {
    let src = """
      for i, (a, b) in enumerate(pairs):
          if a:
              continue
          for c in b:
              break
      else:
          pass
      """
    #expect(tree(src) == "(for (tuple i (tuple a b)) (call enumerate pairs) [(if a [continue]) (for c b [break])] else [pass])")
  }

  @Test func whileLoop() {
    #expect(tree("while n > 1:\n    n //= 2\n    count += 1") == "(while (cmp n > 1) [(//= n 2) (+= count 1)])")
  }

  @Test func oneLineBodies() {
    #expect(tree("for a in xs: print(a)") == "(for a xs [(call print a)])")
    #expect(tree("if x: a = 1; b = 2;\nelse: pass") == "(if x [(= a 1); (= b 2);] else [pass])")
    #expect(tree("while True: break") == "(while True [break])")
  }

  @Test func functionsAndLambdas() {
    #expect(
      tree("def f(a, b=1, /, c=2, *args, d, e=3, **kw):\n    \"doc\"\n    return a")
        == "(def f (pos:a pos:b=1 c=2 *args kw:d kw:e=3 **kw) [\"doc\" (return a)])")
    #expect(tree("def g(x: int, *, y=0) -> float: return") == "(def g (x kw:y=0) [(return)])")
    #expect(tree("f = lambda x, y=2: x + y") == "(= f (lambda (x y=2) (+ x y)))")
    #expect(tree("key = lambda: 0") == "(= key (lambda () 0))")
    #expect(tree("sorted(xs, key=lambda t: t[1])") == "(call sorted xs (kw key (lambda (t) (index t 1))))")
    #expect(tree("def h():\n    global n\n    def k():\n        nonlocal m\n        return n, m") ==
      "(def h () [(global n) (def k () [(nonlocal m) (return (tuple n m))])])")
  }

  @Test func exceptionsAndSmallStatements() {
    let src = """
      try:
          x = 1 / 0
      except (ValueError, ZeroDivisionError) as e:
          raise RuntimeError("bad") from e
      except KeyError:
          raise
      else:
          pass
      finally:
          del x, y[0]
      """
    #expect(
      tree(src)
        == "(try [(= x (/ 1 0))] (except (tuple ValueError ZeroDivisionError) as e [(raise (call RuntimeError \"bad\") from e)]) (except KeyError [(raise)]) else [pass] finally [(del x (index y 0))])")
    #expect(tree("assert x > 0, \"positive\"") == "(assert (cmp x > 0) \"positive\")")
    #expect(tree("try:\n  f()\nfinally:\n  g()") == "(try [(call f)] finally [(call g)])")
  }

  @Test func deeplyNestedBlocksDedentSeveralLevelsAtOnce() {
    let src = "if a:\n  if b:\n    if c:\n      x = 1\ny = 2\n"
    #expect(tree(src) == "(if a [(if b [(if c [(= x 1)])])])\n(= y 2)")
  }

  @Test func commentsAndBlankLinesInsideBlocks() {
    let src = "for a in xs:\n\n    # comment\n  # odd comment\n    x = a\n\n    y = a\n"
    #expect(tree(src) == "(for a xs [(= x a) (= y a)])")
  }

  @Test func tabIndentation() {
    #expect(tree("for a in xs:\n\tif a:\n\t\tprint(a)") == "(for a xs [(if a [(call print a)])])")
  }

  @Test func forIterableMayBeABareTuple() {
    #expect(tree("for a in 1, 2, 3:\n  pass") == "(for a (tuple 1 2 3) [pass])")
  }

  @Test func blocksMayContainMetaCommands() {
    #expect(tree("if verbose:\n    :engine cpu\n") == "(if verbose [(:engine \"cpu\")])")
  }

  @Test func pykeopsExampleParses() {
    let src = """
      import numpy as np
      from pykeops.numpy import Genred

      M, N, D = 1000, 2000, 3
      x = np.random.rand(M, D)
      y = np.random.rand(N, D)
      b = np.random.rand(N, 1)
      formula = "Exp(-SqDist(x, y)) * b"
      variables = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"]
      op = Genred(formula, variables, reduction_op="Sum", axis=1)
      a = op(x, y, b, backend="CPU")
      print(f"{a.shape=}, max {np.abs(a).max():.3e}")
      """
    switch parse(src) {
    case .success(let statements): #expect(statements.count == 11)
    case .failure(let error): Issue.record("\(DiagnosticRenderer().render(error, in: source(src)))")
    }
  }
}

// MARK: - Errors

@Suite("Parser: errors")
struct ParseErrorTests {
  @Test(arguments: [
    ("f(a, b", "'(' was never closed"),
    ("x = (1, 2]", "expected ')' to close '(' opened at column 5"),
    ("x = [1, 2)", "expected ']' to close '[' opened at column 5"),
    ("x = {'a': 1]", "expected '}' to close '{' opened at column 5"),
    ("print(a b)", "invalid syntax; perhaps you forgot a comma?"),
    ("[1 2]", "invalid syntax; perhaps you forgot a comma?"),
    ("f(x, 'a' 1)", "invalid syntax; perhaps you forgot a comma?"),
    ("x = 'abc", "unterminated string literal"),
    ("x = '''abc", "unterminated triple-quoted string literal"),
    ("  x = 1", "unexpected indent"),
    ("x = 1\n    y = 2", "unexpected indent"),
    ("if x:\n  a = 1\n    b = 2", "unexpected indent"),
    ("if x = 1:\n  pass", "invalid syntax: '=' here; did you mean '=='?"),
    ("while a = b:\n  pass", "invalid syntax: '=' here; did you mean '=='?"),
    ("f(x.y=1)", "invalid syntax: '=' here; did you mean '=='?"),
    ("x = [a = 1]", "invalid syntax: '=' here; did you mean '=='?"),
    ("y = a if b = c else d", "invalid syntax: '=' here; did you mean '=='?"),
    ("if x\n  pass", "expected ':'"),
    ("for a in xs\n  pass", "expected ':'"),
    ("if x:\npass", "expected an indented block after 'if' statement on line 1"),
    ("if x:\n  pass\nelse:\nz", "expected an indented block after 'else' statement on line 3"),
    ("x = 1\nfor a in b:\n", "expected an indented block after 'for' statement on line 2"),
    ("for i in range(3):\n    x = 1\n  y = 2", "unindent does not match any outer indentation level"),
    ("f(x) = 1", "cannot assign to function call here; did you mean '=='?"),
    ("1 = x", "cannot assign to literal here; did you mean '=='?"),
    ("a + 1 = 2", "cannot assign to expression here; did you mean '=='?"),
    ("x = f() = 2", "cannot assign to function call here; did you mean '=='?"),
    ("True = 1", "cannot assign to True here; did you mean '=='?"),
    ("a, f() = t", "cannot assign to function call here; did you mean '=='?"),
    ("a + 1 += 2", "'expression' is an illegal expression for augmented assignment"),
    ("a, b += 1", "'tuple' is an illegal expression for augmented assignment"),
    ("for f() in x: pass", "cannot assign to function call"),
    ("[1 for 2 in x]", "cannot assign to literal"),
    ("*a = 1", "starred assignment target must be in a list or tuple"),
    ("a, *b, *c = d", "multiple starred expressions in assignment"),
    ("*a", "cannot use starred expression here"),
    ("x = *a", "cannot use starred expression here"),
    ("[*a for a in b]", "iterable unpacking cannot be used in comprehension"),
    ("break", "'break' outside loop"),
    ("continue", "'continue' outside loop"),
    ("for a in b:\n  pass\nelse:\n  break", "'break' outside loop"),
    ("x = ", "expected an expression, found end of line"),
    ("x = 1 +", "expected an expression, found end of line"),
    ("x = )", "unmatched ')'"),
    ("x = 1)", "unmatched ')'"),
    ("f(1, ]", "expected ')' to close '(' opened at column 2"),
    ("x[]", "expected an expression, found ']'"),
    ("(1 + )", "expected an expression, found ')'"),
    ("[x for x in]", "expected an expression, found ']'"),
    ("[x for x xs]", "expected 'in'"),
    ("for x xs: pass", "expected 'in'"),
    ("class A: pass", "'class' is not supported in ks scripts"),
    ("return 1", "'return' outside function"),
    ("nonlocal x", "nonlocal declaration not allowed at module level"),
    ("def f(a=1, b): pass", "parameter without a default follows parameter with a default"),
    ("def f(a, a): pass", "duplicate argument 'a' in function definition"),
    ("def f(*): pass", "named arguments must follow bare *"),
    ("def f(**k, a): pass", "arguments cannot follow var-keyword argument"),
    ("try:\n  pass\nx = 1", "expected 'except' or 'finally' block"),
    ("try:\n  pass\nexcept:\n  pass\nexcept ValueError:\n  pass", "default 'except:' must be last"),
    ("try:\n  pass\nexcept A, B:\n  pass", "multiple exception types must be parenthesized"),
    ("except ValueError:\n  pass", "invalid syntax: 'except' does not follow a 'try' block at this indentation"),
    ("for x in y:\n  def f():\n    break", "'break' outside loop"),
    ("del f()", "cannot delete function call"),
    ("f(a=1, b)", "positional argument follows keyword argument"),
    ("f(**a, b)", "positional argument follows keyword argument unpacking"),
    ("f(**a, *b)", "iterable argument unpacking follows keyword argument unpacking"),
    ("f(a=1, a=2)", "keyword argument repeated: 'a'"),
    ("f(x for x in y, 1)", "generator expression must be parenthesized"),
    ("f(1, x for x in y)", "generator expression must be parenthesized"),
    ("x = 1 if y", "expected 'else' after 'if' expression"),
    ("print 'hi'", "missing parentheses in call to 'print'; did you mean print(...)?"),
    ("a b", "invalid syntax: unexpected name 'b'"),
    ("x = 1 2", "invalid syntax: unexpected number '2'"),
    ("x.1", "invalid syntax: unexpected number '.1'"),
    ("x.if", "expected an attribute name after '.'"),
    ("x = 012", "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers"),
    ("x = $", "invalid character '$' (U+0024)"),
    ("x = {1, 2}", "set literals are not supported"),
    ("x = {a: b for a in c}", "dict comprehensions are not supported"),
    ("x = {**a}", "dictionary unpacking is not supported"),
    ("x = {'a' 1}", "expected ':' after dictionary key"),
    ("x = b'abc'", "bytes literals are not supported"),
    ("else:\n  pass", "invalid syntax: 'else' does not follow an 'if', 'for', 'while' or 'try' block at this indentation"),
    ("elif x:\n  pass", "invalid syntax: 'elif' does not follow an 'if' block at this indentation"),
    ("if x: for y in z: pass", "invalid syntax: an 'for' statement must start its own line"),
    ("x = 1; if y: pass", "invalid syntax: an 'if' statement must start its own line"),
    ("x = 1 \\ y", "unexpected character after line continuation character"),
    ("from . import x", "relative imports are not supported"),
    ("import", "expected a module name"),
    ("import a.", "expected a module name after '.'"),
    ("import a as", "expected a name after 'as'"),
    ("from a b", "expected 'import'"),
    ("from a import", "expected a name to import"),
    ("from a import (b, c", "'(' was never closed"),
    ("alias x = ", "expected an expression, found end of line"),
    ("alias x = Vi(3), Vj(3)", "expected '=' after alias name 'Vj'"),
    ("alias x = Vi(3),", "expected an alias name"),
    ("x := 1", "':=' is not supported in ks scripts"),
    ("f(a)\n  g(b)", "unexpected indent"),
  ])
  func messages(source: String, expected: String) {
    #expect(message(source) == expected)
  }

  @Test func unclosedBracketPointsAtTheOpener() {
    #expect(
      rendered(#"op = Genred("Exp(-Norm2(x-y))", aliases"#) == """
        script.ks:1:12: error: '(' was never closed
          1 | op = Genred("Exp(-Norm2(x-y))", aliases
            |            ^

        """)
  }

  @Test func mismatchedCloser() {
    #expect(
      rendered("x = (1, 2]") == """
        script.ks:1:10: error: expected ')' to close '(' opened at column 5
          1 | x = (1, 2]
            |          ^

        """)
  }

  @Test func mismatchedCloserOnALaterLine() {
    #expect(
      rendered("x = f(a,\n      b]\n") == """
        script.ks:2:8: error: expected ')' to close '(' opened at line 1, column 6
          2 |       b]
            |        ^

        """)
  }

  @Test func unterminatedString() {
    #expect(
      rendered("s = \"abc\nt = 1") == """
        script.ks:1:5: error: unterminated string literal
          1 | s = "abc
            |     ^~~~

        """)
  }

  @Test func unexpectedIndent() {
    #expect(
      rendered("x = 1\n    y = 2\n") == """
        script.ks:2:5: error: unexpected indent
          2 |     y = 2
            |     ^

        """)
  }

  @Test func assignmentInCondition() {
    #expect(
      rendered("if x = 1:\n    pass") == """
        script.ks:1:6: error: invalid syntax: '=' here; did you mean '=='?
          1 | if x = 1:
            |      ^

        """)
  }

  @Test func missingColonPointsAfterTheLastToken() {
    #expect(
      rendered("if x > 1   # check\n    pass") == """
        script.ks:1:9: error: expected ':'
          1 | if x > 1   # check
            |         ^

        """)
  }

  @Test func missingIndentedBlock() {
    #expect(
      rendered("for a in xs:\nprint(a)") == """
        script.ks:2:1: error: expected an indented block after 'for' statement on line 1
          2 | print(a)
            | ^~~~~

        """)
  }

  @Test func invalidAssignmentTarget() {
    #expect(
      rendered("f(x) = 3") == """
        script.ks:1:1: error: cannot assign to function call here; did you mean '=='?
          1 | f(x) = 3
            | ^~~~

        """)
  }

  @Test func forgottenComma() {
    #expect(
      rendered("Genred(formula variables)") == """
        script.ks:1:16: error: invalid syntax; perhaps you forgot a comma?
          1 | Genred(formula variables)
            |                ^~~~~~~~~

        """)
  }

  @Test func errorsReportTheFirstLineNumberOfTheSource() {
    let text = "x = (1,"
    let src = SourceText(name: "<stdin>", text: text, firstLine: 7)
    do throws(Diagnostic) {
      _ = try ScriptParser(source: src).parse()
      Issue.record("expected an error")
    } catch {
      #expect(
        DiagnosticRenderer().render(error, in: src) == """
          <stdin>:7:5: error: '(' was never closed
            7 | x = (1,
              |     ^

          """)
    }
  }

  @Test func earlierSyntaxErrorWinsOverALaterLexicalError() {
    #expect(message("x = = 1\ny = 'unterminated") == "expected an expression, found '='")
  }
}

// MARK: - Completeness

@Suite("Input completeness")
struct CompletenessTests {
  @Test(arguments: [
    ("x = 1", InputCompleteness.complete),
    ("", .complete),
    ("   ", .complete),
    ("# comment", .complete),
    (":help Genred", .complete),
    ("x = a if b else c", .complete),
    ("f(a,", .incomplete(prompt: "(")),
    ("x = [1,\n 2", .incomplete(prompt: "[")),
    ("d = {", .incomplete(prompt: "{")),
    ("f([1, 2", .incomplete(prompt: "[")),
    ("s = \"\"\"abc", .incomplete(prompt: "\"\"\"")),
    ("s = '''abc\ndef", .incomplete(prompt: "'''")),
    ("x = 1 + \\", .incomplete(prompt: "\\")),
    ("for a in xs:", .incomplete(prompt: ":")),
    ("for a in xs:\n    print(a)", .incomplete(prompt: ":")),
    ("for a in xs:\n    print(a)\n", .complete),
    ("for a in xs:\n    print(a)\n   ", .complete),
    ("for a in xs: print(a)", .incomplete(prompt: ":")),
    ("for a in xs: print(a)\n", .complete),
    ("if x:\n  a\nelse:", .incomplete(prompt: ":")),
    ("if x:\n  y = (1,", .incomplete(prompt: "(")),
    ("if x:\n", .invalid),
    ("x = 'abc", .invalid),
    ("x = )", .invalid),
    ("if x = 1:", .invalid),
    ("x = ", .invalid),
    ("  x = 1", .invalid),
  ])
  func completeness(text: String, expected: InputCompleteness) {
    #expect(checkCompleteness(text) == expected)
  }
}
