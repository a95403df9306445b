import KSDiagnostics
import Testing

@testable import FormulaLanguage

/// Operator precedence and the operators' meanings (keops-semantics.md 1.1), checked on the built
/// tree's description. Test variables: x = Vi(3), y, z = Vj(3), b = Vj(1), w = Vj(2), p = Pm(1).
@Suite struct ParserPrecedenceTests {
  @Test(arguments: [
    // Unary minus binds looser than **: -x**2 is -(x**2).
    ("-x**2", "Minus(Square(x))"),
    ("(-x)**2", "Square(Minus(x))"),
    ("-x*y", "Mult(Minus(x),y)"),
    ("x*-y", "Mult(x,Minus(y))"),
    ("--x", "Minus(Minus(x))"),
    ("+x", "x"),
    // Left associativity of + - * /.
    ("x-y-z", "Subtract(Subtract(x,y),z)"),
    ("x-(y-z)", "Subtract(x,Subtract(y,z))"),
    ("x/y/z", "Divide(Divide(x,y),z)"),
    ("x*y*z", "Mult(Mult(x,y),z)"),
    ("x+y*z", "Add(x,Mult(y,z))"),
    ("(x+y)*z", "Mult(Add(x,y),z)"),
    ("x-y*b+z", "Add(Subtract(x,Mult(y,b)),z)"),
    // | binds looser than + - * / and tighter than comparisons.
    ("(x|y)*b", "Mult(Scalprod(x,y),b)"),
    ("x+y|z", "Scalprod(Add(x,y),z)"),
    ("x|y<b", "LessThan(Scalprod(x,y),b)"),
    ("(x|y)", "Scalprod(x,y)"),
    // Comparisons: > and >= swap their arguments.
    ("x<y", "LessThan(x,y)"),
    ("x>y", "LessThan(y,x)"),
    ("x<=y", "LessOrEqual(x,y)"),
    ("x>=y", "LessOrEqual(y,x)"),
    ("x==y", "Equal(x,y)"),
    ("x!=y", "NotEqual(x,y)"),
    ("x+b>y*b", "LessThan(Mult(y,b),Add(x,b))"),
    // Division: 1/f is Inv, anything else is Divide.
    ("1/x", "Inv(x)"),
    ("1/(x-y)", "Inv(Subtract(x,y))"),
    ("2/x", "Divide(IntCst(2),x)"),
    ("x/2", "Divide(x,IntCst(2))"),
    ("x/y", "Divide(x,y)"),
    // Powers: **2 Square, **int Pow, **0.5 Sqrt, other reals Powf, right-associative.
    ("x**2", "Square(x)"),
    ("x**3", "Pow(x,3)"),
    ("x**-1", "Pow(x,-1)"),
    ("x**0", "Pow(x,0)"),
    ("x**0.5", "Sqrt(x)"),
    ("x**1.5", "Powf(x,Real(1.5))"),
    ("x**b", "Powf(x,b)"),
    ("x**(1+1)", "Square(x)"),
    ("x**2**2", "Pow(x,4)"),
    ("(x**2)**2", "Square(Square(x))"),
    // Numbers meeting formulas become IntCst, real literals real constants.
    ("x*0.5", "Mult(x,Real(0.5))"),
    ("0.5*x", "Mult(Real(0.5),x)"),
    ("x*.25", "Mult(x,Real(0.25))"),
    ("x*1e-3", "Mult(x,Real(0.001))"),
    ("x*3.", "Mult(x,Real(3.0))"),
    ("2*x", "Mult(IntCst(2),x)"),
    ("-2*x", "Mult(IntCst(-2),x)"),
    ("x-1", "Subtract(x,IntCst(1))"),
    ("x+1_000", "Add(x,IntCst(1000))"),
    // Python arithmetic between numbers happens before they meet the formula.
    ("x*2**-1", "Mult(x,Real(0.5))"),
    ("x*2**3**2", "Mult(x,IntCst(512))"),
    ("x*(7-2*3)", "Mult(x,IntCst(1))"),
    ("x*(1/2)", "Mult(x,Real(0.5))"),
    ("x*(1+0.5)", "Mult(x,Real(1.5))"),
    ("x*-(2)", "Mult(x,IntCst(-2))"),
    ("x*-2**2", "Mult(x,IntCst(-4))"),
    ("x*(7/2)", "Mult(x,Real(3.5))"),
    // Calls and whitespace.
    ("Exp(-SqDist(x,y))*b", "Mult(Exp(Minus(SqDist(x,y))),b)"),
    ("  Exp ( - SqDist ( x , y ) ) * b  ", "Mult(Exp(Minus(SqDist(x,y))),b)"),
    ("Pow(x, 3)", "Pow(x,3)"),
    ("Pow(x, 1+2)", "Pow(x,3)"),
    ("Elem(x, -1+1)", "Elem(x,0)"),
    ("SqDist(x,y,)", "SqDist(x,y)"),
    ("IntCst(3)", "IntCst(3)"),
    ("Var(0,3,0)+y", "Add(x,y)"),
    ("Vi(0,3)-Vj(1,3)", "Subtract(x,y)"),
    ("Pm(5,1)*x", "Mult(p,x)"),
  ])
  func precedence(_ formula: String, _ expected: String) {
    #expect(outcome(formula) == expected, "\(formula)")
  }

  @Test func pipeWithoutParenthesesIsADimensionErrorAsInKeOps() {
    // KeOps (verified): x|y*b parses as x|(y*b). With b of dimension 2 the product y*b (3 and 2)
    // is refused; with parentheses (x|y)*b is fine.
    let names: [String: Variable] = [
      "x": Variable(index: 0, dim: 3, category: .i), "y": Variable(index: 1, dim: 3, category: .j),
      "b": Variable(index: 2, dim: 2, category: .j),
    ]
    #expect(
      outcome("x|y*b", names)
        == "error: Mult: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)")
    #expect(outcome("(x|y)*b", names) == "Mult(Scalprod(x,y),b)")
    #expect((try? build("(x|y)*b", names).dim) == 2)
  }

  @Test func numbersAloneStayNumbers() {
    // The whole formula may be a number: it becomes a constant node.
    #expect(outcome("2*3") == "IntCst(6)")
    #expect(outcome("0.25") == "Real(0.25)")
    #expect(outcome("-4") == "IntCst(-4)")
  }

  @Test(arguments: [
    ("", "empty formula"),
    ("   ", "empty formula"),
    ("x +", "unexpected end of formula: an operand is missing"),
    ("x +* y", "expected an operand, found '*'"),
    ("x y", "unexpected name 'y' after the end of the expression"),
    ("x)", "unmatched ')'"),
    ("(x", "'(' is never closed"),
    ("(x y)", "expected ')', found name 'y'"),
    ("Exp(x-y", "expected ')' to close '(' of Exp(...)"),
    ("Exp(x y)", "expected ',' or ')' in the arguments of Exp, found name 'y'"),
    ("x ^ y", "unexpected character '^' in formula; write powers with '**' or Pow(f, n)"),
    ("x = y", "unexpected character '=' in formula; did you mean '=='?"),
    ("x $ y", "unexpected character '$' in formula"),
    ("x + é", "unexpected character 'é' in formula"),
    ("1x", "invalid number literal"),
    ("x<y<z", "chained comparisons are not supported in formulas; use parentheses"),
  ])
  func syntaxErrors(_ formula: String, _ message: String) {
    #expect(outcome(formula) == "error: \(message)", "\(formula)")
  }

  @Test(arguments: [
    ("Exp", "'Exp' is an operation; call it as Exp(f)"),
    ("SqDist", "'SqDist' is an operation; call it as SqDist(f, g)"),
    ("Sum_Reduction(x,0)", "reductions are chosen with reduction_op=..., not written in the formula"),
    ("Factorize(x,x)", "operation 'Factorize' is not supported by ks yet"),
    ("x*3-2", "Subtract(Mult(x,IntCst(3)),IntCst(2))"),
    ("[1,2]", "a list is not a formula"),
    ("x + [1,2]", "a list is not a formula"),
    ("2 < 3", "'<' between two numbers is not a formula; write a formula on at least one side"),
    ("x*(1/0)", "division by zero"),
    // Python raises on these powers; they must not become inf or nan constants.
    ("x*0**-1", "0 cannot be raised to a negative power"),
    ("x*(-8)**(1/3)", "a negative number raised to a fractional power is not a real number"),
    ("x*10.0**400", "the power is too large"),
    ("x*(-8)**2", "Mult(x,IntCst(64))"),
    ("x*(-8.0)**2", "Mult(x,Real(64.0))"),
    ("x*4**0.5", "Mult(x,Real(2.0))"),
    ("x*2**-2", "Mult(x,Real(0.25))"),
    ("Var(0,3)", "Var takes (pos, dim, cat) with cat 0 (Vi), 1 (Vj) or 2 (Pm)"),
    ("Var(0,3,3)", "Var takes (pos, dim, cat) with cat 0 (Vi), 1 (Vj) or 2 (Pm)"),
    ("Vi(3)", "inside a formula, Vi needs an explicit position: Vi(pos, dim)"),
    ("Vj(0,0)", "Vj needs pos >= 0 and dim >= 1"),
    ("Var(x,3,0)", "Var takes integer arguments"),
  ])
  func semanticErrors(_ formula: String, _ expected: String) {
    let got = outcome(formula)
    #expect(got == expected || got == "error: \(expected)", "\(formula): \(got)")
  }

  @Test func syntaxRangesPointAtTheOffendingToken() throws {
    #expect(failure("x +* y")?.range == SourceRange(3, 4))
    #expect(failure("Exp(x-y")?.range == SourceRange(3, 4))
    #expect(failure("x +")?.range == SourceRange(3, 3))
    #expect(failure("x + é")?.range == SourceRange(4, 6))
    #expect(failure("(x")?.range == SourceRange(0, 1))
  }

  @Test func rangesOfBuiltNodes() throws {
    let node = try build("Exp(-SqDist(x,y))*b")
    #expect(node.range == SourceRange(0, 19))
    #expect(node.children[0].range == SourceRange(0, 17))
    #expect(node.children[0].children[0].range == SourceRange(4, 16))
    #expect(node.children[1].range == SourceRange(18, 19))
  }

  @Test func syntaxTreeOfAPower() throws {
    let tree = try FormulaParser.parse("-x**2")
    guard case .unary("-", let operand, let r) = tree else {
      Issue.record("expected a unary minus at the top, got \(tree)")
      return
    }
    #expect(r == SourceRange(0, 5))
    guard case .binary("**", .name("x", _), .integer(2, _), _, _) = operand else {
      Issue.record("expected x**2 under the minus, got \(operand)")
      return
    }
  }

  @Test func inlineVariablesAreRecorded() throws {
    var builder = FormulaBuilder(names: [:])
    _ = try builder.build(try FormulaParser.parse("Var(0,3,0) - Vj(1,3) + Var(0,3,0)"))
    #expect(builder.inlineVariables.map(\.0) == [
      Variable(index: 0, dim: 3, category: .i), Variable(index: 1, dim: 3, category: .j),
      Variable(index: 0, dim: 3, category: .i),
    ])
  }
}
