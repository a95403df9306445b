import KSDiagnostics
import Testing

@testable import FormulaLanguage

/// Dimension inference, broadcasting and index bounds (keops-semantics.md 1.2-1.8).
/// x, y, z: dim 3; b, p: dim 1; w: dim 2; a: dim 6; m: dim 9.
@Suite struct DimensionTests {
  @Test(arguments: [
    // Broadcasting: {d} or {1, d}.
    ("x+y", 3), ("x+b", 3), ("b+x", 3), ("b*p", 1), ("x*2", 3), ("x*0.5", 3), ("-x", 3), ("Exp(x)", 3),
    ("IfElse(x,b,y)", 3), ("IfElse(b,b,x)", 3), ("Clamp(x,b,p)", 3), ("Mod(x,3,1)", 3), ("Atan2(b,x)", 3),
    ("Powf(x,b)", 3), ("Pow(x,3)", 3), ("Round(w,2)", 2), ("ClampInt(w,0,1)", 2), ("x<b", 3),
    // Reductions of a vector.
    ("Sum(x)", 1), ("Max(x)", 1), ("Min(w)", 1), ("ArgMax(x)", 1), ("ArgMin(x)", 1), ("SqNorm2(x)", 1),
    ("Norm2(x)", 1), ("Normalize(x)", 3), ("SqDist(x,y)", 1), ("SqDist(x,b)", 1),
    ("(x|y)", 1), ("(x|b)", 1), ("(b|x)", 1), ("SumT(b,5)", 5), ("SumT(Sum(x),2)", 2),
    // Weighted norms.
    ("SqNormIso(b,x)", 1), ("SqNormDiag(y,x)", 1), ("SymSqNorm(m,x)", 1),
    ("WeightedSqNorm(b,x)", 1), ("WeightedSqNorm(y,x)", 1), ("WeightedSqNorm(m,x)", 1),
    ("WeightedSqDist(b,x,y)", 1), ("WeightedSqDist(z,x,y)", 1), ("WeightedSqDist(m,x,y)", 1),
    // Indexing.
    ("Elem(x,0)", 1), ("Elem(x,2)", 1), ("ElemT(b,4,0)", 4), ("ElemT(b,4,3)", 4),
    ("Extract(x,0,3)", 3), ("Extract(x,1,2)", 2), ("Extract(a,5,1)", 1),
    ("ExtractT(x,0,3)", 3), ("ExtractT(w,1,5)", 5), ("ExtractT(w,3,5)", 5),
    ("Concat(x,w)", 5), ("Concat(b,Concat(x,w))", 6), ("OneHot(b,4)", 4), ("OneHot(Elem(x,1),1)", 1),
    // Small linear algebra.
    ("MatVecMult(a,w)", 3), ("MatVecMult(a,x)", 2), ("MatVecMult(m,x)", 3), ("MatVecMult(x,b)", 3),
    ("VecMatMult(w,a)", 3), ("VecMatMult(x,a)", 2), ("VecMatMult(x,m)", 3),
    ("TensorProd(x,w)", 6), ("TensorProd(w,x)", 6), ("TensorProd(b,x)", 3),
    // Constants.
    ("IntCst(3)", 1), ("RatCst(1,3)", 1), ("IntInv(4)", 1), ("Zero(4)", 4), ("x+Zero(3)", 3),
  ])
  func inferredDimension(_ formula: String, _ dim: Int) {
    do throws(Diagnostic) {
      #expect(try build(formula).dim == dim, "\(formula)")
    } catch {
      Issue.record("\(formula) failed: \(error.message)")
    }
  }

  @Test(arguments: [
    ("x+w", "Add: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)"),
    ("x-w", "Subtract: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)"),
    ("w*x", "Mult: dimensions 2 and 3 are not compatible (only 1 broadcasts against d)"),
    ("x/w", "Divide: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)"),
    ("IfElse(x,w,b)", "IfElse: dimensions 3 and 2 and 1 are not compatible (only 1 broadcasts against d)"),
    ("x<w", "LessThan: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)"),
    ("x>w", "LessThan: dimensions 2 and 3 are not compatible (only 1 broadcasts against d)"),
    ("SqDist(x,w)", "SqDist: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)"),
    ("(x|w)", "Scalprod: the arguments have dimensions 3 and 2; they must be equal"),
    ("SumT(x,3)", "SumT: the argument must have dimension 1, not 3"),
    ("SumT(b,0)", "SumT: d must be at least 1, not 0"),
    ("SqNormIso(w,x)", "SqNormIso: the weight s must have dimension 1, not 2"),
    ("SqNormDiag(w,x)", "SqNormDiag: the weight has dimension 2 and the vector 3; they must be equal"),
    ("SymSqNorm(a,x)", "SymSqNorm: the matrix has dimension 6; expected 9 = 3^2"),
    ("WeightedSqNorm(w,x)", "WeightedSqNorm: the weight has dimension 2; expected 1, 3 or 9 for vectors of dimension 3"),
    ("WeightedSqDist(w,x,y)", "WeightedSqDist: the weight has dimension 2; expected 1, 3 or 9 for vectors of dimension 3"),
    ("WeightedSqDist(b,x,w)", "WeightedSqDist: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)"),
    // Index bounds are checked when the formula is built.
    ("Elem(x,3)", "Elem: index 3 is out of range for dimension 3 (valid: 0...2)"),
    ("Elem(x,-1)", "Elem: index -1 is out of range for dimension 3 (valid: 0...2)"),
    ("Elem(b,1)", "Elem: index 1 is out of range for dimension 1 (valid: 0...0)"),
    ("ElemT(b,4,4)", "ElemT: position 4 is out of range for dimension 4"),
    ("ElemT(b,4,-1)", "ElemT: position -1 is out of range for dimension 4"),
    ("ElemT(x,4,0)", "ElemT: the argument must have dimension 1, not 3"),
    ("Extract(x,2,2)", "Extract: components 2..<4 are out of range for dimension 3"),
    ("Extract(x,-1,2)", "Extract: components -1..<1 are out of range for dimension 3"),
    ("Extract(x,0,0)", "Extract: components 0..<0 are out of range for dimension 3"),
    ("ExtractT(x,3,5)", "ExtractT: a vector of dimension 3 placed at 3 does not fit in dimension 5"),
    ("ExtractT(x,-1,5)", "ExtractT: a vector of dimension 3 placed at -1 does not fit in dimension 5"),
    ("ExtractT(x,0,2)", "ExtractT: a vector of dimension 3 placed at 0 does not fit in dimension 2"),
    ("OneHot(x,4)", "OneHot: the argument must have dimension 1, not 3"),
    ("OneHot(b,0)", "OneHot: D must be at least 1, not 0"),
    ("MatVecMult(a,Concat(w,x))", "MatVecMult: dim(A) = 6 is not a multiple of dim(v) = 5"),
    ("VecMatMult(Concat(w,x),a)", "VecMatMult: dim(A) = 6 is not a multiple of dim(v) = 5"),
    ("Zero(0)", "Zero: d must be at least 1, not 0"),
    ("RatCst(1,0)", "RatCst: the denominator is zero"),
    ("IntInv(0)", "IntInv: 1/0 is not a constant"),
  ])
  func dimensionErrors(_ formula: String, _ message: String) {
    #expect(outcome(formula) == "error: \(message)", "\(formula)")
  }

  @Test func dimensionErrorsPointAtTheWholeOperation() {
    #expect(failure("Exp(x-w)")?.range == SourceRange(4, 7))
    #expect(failure("Sum(x) + Elem(x, 5)")?.range == SourceRange(9, 19))
    #expect(failure("SqDist(x,w)")?.range == SourceRange(0, 11))
  }

  @Test(arguments: [
    ("SqDist(x)", "SqDist takes 2 arguments, got 1"),
    ("Exp(x,y)", "Exp takes 1 argument, got 2"),
    ("Exp()", "Exp takes 1 argument, got 0"),
    ("Pow(x)", "Pow takes 2 arguments, got 1"),
    ("Elem(x,1,2)", "Elem takes 2 arguments, got 3"),
    ("IfElse(x,y)", "IfElse takes 3 arguments, got 2"),
    ("Zero()", "Zero takes 1 argument, got 0"),
  ])
  func argumentCounts(_ formula: String, _ message: String) {
    let d = failure(formula)
    #expect(d?.message == message, "\(formula)")
    #expect(d?.notes.count == 1)
    #expect(d?.notes.first?.hasPrefix("usage: ") == true)
  }

  @Test(arguments: [
    ("Pow(x,y)", "the parameter 'm' of Pow must be an integer literal"),
    ("Pow(x,0.5)", "the parameter 'm' of Pow must be an integer literal"),
    ("Elem(x,b)", "the parameter 'm' of Elem must be an integer literal"),
    ("Round(x,1.5)", "the parameter 'd' of Round must be an integer literal"),
    ("Extract(x,0,y)", "the parameter 'len' of Extract must be an integer literal"),
    ("ClampInt(x,0,p)", "the parameter 'b' of ClampInt must be an integer literal"),
    ("OneHot(b,[4])", "the parameter 'D' of OneHot must be an integer literal"),
  ])
  func integerParameters(_ formula: String, _ message: String) {
    #expect(outcome(formula) == "error: \(message)", "\(formula)")
  }

  @Test func integerParametersMayBeIntegerExpressions() {
    #expect(outcome("Elem(x,1+1)") == "Elem(x,2)")
    #expect(outcome("Pow(x,-2)") == "Pow(x,-2)")
    #expect(outcome("Round(x,2*2)") == "Round(x,4)")
  }

  @Test func constantsAreScalars() throws {
    #expect(try build("IntCst(7)").params == [7])
    #expect(try build("RatCst(2,4)").params == [2, 4])
    #expect(try build("Zero(3)").dim == 3)
  }

  @Test func makeReportsTheOperationName() {
    let x = FormulaNode(kind: .variable(Vars.x), dim: 3, range: nil)
    let w = FormulaNode(kind: .variable(Vars.w), dim: 2, range: nil)
    do throws(Diagnostic) {
      _ = try FormulaNode.make(Operation.named("Add")!, [x, w], range: SourceRange(1, 2))
      Issue.record("Add(x, w) must fail")
    } catch {
      #expect(error.message == "Add: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)")
      #expect(error.range == SourceRange(1, 2))
    }
  }

  @Test func variablesInFirstUseOrder() throws {
    let node = try build("SqDist(y,x) + (b|b) + x")
    #expect(node.variables == [Vars.y, Vars.x, Vars.b])
  }

  @Test func equalTreesAreEqualAndHashAlike() throws {
    let a = try build("Exp(-SqDist(x,y))")
    let b = try build(" Exp( - SqDist(x , y))")
    #expect(a == b)
    #expect(a.hashValue == b.hashValue)
    #expect(try build("Exp(-SqDist(y,x))") != a)
    #expect(try build("Pow(x,2)") != build("Pow(x,3)"))
  }
}
