import KSDiagnostics
import Testing

@testable import FormulaLanguage

/// The trees the differential operators build: KeOps' simplifications, dimensions and errors.
@Suite struct DerivativeFormulaTests {
  /// Every operation name in a tree, with repetitions.
  private func operations(_ n: FormulaNode) -> [String] {
    (n.operation.map { [$0.name] } ?? []) + n.children.flatMap(operations)
  }

  @Test func simplificationsKeepTreesSmall() {
    // Constants fold, zeros vanish, a repeated scalar meets its vector.
    #expect(outcome("Grad(2*x, x, y)") == "Mult(IntCst(2),y)")
    #expect(outcome("Grad(x*y, x, IntCst(1))") == "y")
    #expect(outcome("Grad(x - x, x, y)") == "Zero(3)")
    #expect(outcome("Grad(SqNorm2(x), x, b)") == "Mult(IntCst(2),Mult(b,x))")
    #expect(outcome("Divergence(x, x)") == "IntCst(3)")
    #expect(outcome("Grad(Exp(-SqDist(x,y)), x, b)") == "Mult(IntCst(-2),Mult(Mult(b,Exp(Minus(SqDist(x,y)))),Subtract(x,y)))")
    #expect(outcome("Diff(Exp(-SqDist(x,y)), x, z)") == "Mult(IntCst(-2),Mult(Sum(Mult(z,Subtract(x,y))),Exp(Minus(SqDist(x,y)))))")
    #expect(outcome("GradMatrix(x*y, x)") == "Concat(Concat(ElemT(Elem(y,0),3,0),ElemT(Elem(y,1),3,1)),ElemT(Elem(y,2),3,2))")
  }

  /// PyKeOps' test_formula_simplification.
  @Test func secondGradientOfAnAffineFormulaIsTheZeroFormula() throws {
    #expect(outcome("Grad(Grad(x + Var(1,3,1), x, Var(2,3,0)), x, Var(3,3,0))") == "Zero(3)")
  }

  @Test func derivativesAreTreesOfTableOperations() throws {
    for formula in [
      "Laplacian(Exp(-SqDist(x,y)), x)", "Grad(Grad(Exp(-SqDist(x,y))*b, x, b), y, x)", "Diff(Normalize(x)*b, x, y)",
      "GradMatrix(Sin(x)*Sum(y), x)", "Divergence(MatVecMult(m, x), x)",
    ] {
      let tree = try build(formula)
      let names = operations(tree)
      #expect(names.allSatisfy { Operation.named($0) != nil })
      // No zero vectors or temporary variables are left inside a nonzero result.
      #expect(!names.contains("Zero"), "\(formula): \(pretty(tree))")
      #expect(tree.variables.allSatisfy { $0.index >= 0 }, "\(formula): \(pretty(tree))")
    }
    #expect(try build("Laplacian(Exp(-SqDist(x,y)), x)").dim == 1)
    #expect(try build("GradMatrix(Sin(x)*Sum(w), x)").dim == 9)
    #expect(try build("Grad(Sin(x)*Sum(w), w, x)").dim == 2)
    #expect(try build("Diff(Sin(x)*Sum(w), w, w)").dim == 3)
    #expect(try build("AdjointOperator(MatVecMult(a, w), w, x)").dim == 2)
  }

  @Test func gradWithoutInputCreatesKeOpsVariable() throws {
    var builder = FormulaBuilder(names: ["x": Variable(index: 0, dim: 3, category: .i), "y": Variable(index: 1, dim: 3, category: .j)])
    let tree = try builder.build(try FormulaParser.parse("Grad(SqDist(x, y), x)"))
    // Position 1 + the largest in the formula, dimension of the formula, category 1 - cat(x).
    let e = Variable(index: 2, dim: 1, category: .j)
    #expect(builder.inlineVariables.map(\.0) == [e])
    #expect(tree.variables.contains(e))
    // GradFromPos(f, v, n): Var(n, dim(f), output category).
    var b2 = FormulaBuilder(names: ["x": Variable(index: 0, dim: 3, category: .i), "y": Variable(index: 1, dim: 3, category: .j)])
    b2.outputCategory = .j
    _ = try b2.build(try FormulaParser.parse("GradFromPos(SqDist(x, y), y, 4)"))
    #expect(b2.inlineVariables.map(\.0) == [Variable(index: 4, dim: 1, category: .j)])
  }

  @Test func errorsPointAtTheArgument() {
    let missing = failure("Grad(Exp(-SqDist(x,y)), z, b)")
    #expect(missing?.message == "Grad is taken with respect to 'z', which does not appear in the formula")
    #expect(missing?.range == SourceRange(24, 25))
    let notVariable = failure("Grad(Exp(x), 2*x, x)")
    #expect(notVariable?.message == "the second argument of Grad must be a variable (an alias or Var(pos, dim, cat))")
    #expect(notVariable?.range == SourceRange(13, 16))
    let wrongE = failure("Grad(x, x, w)")
    #expect(wrongE?.message == "the gradient input e has dimension 2, but the formula has dimension 3")
    #expect(wrongE?.range == SourceRange(11, 12))
    #expect(failure("Diff(x, x, w)")?.message == "the direction u has dimension 2, but the variable has dimension 3")
    #expect(failure("Laplacian(x, x)")?.message == "Laplacian needs a scalar formula (dimension 1), not dimension 3")
    #expect(failure("Divergence(w*b, x)")?.message == "Grad is taken with respect to 'x', which does not appear in the formula".replacingOccurrences(of: "Grad", with: "Divergence"))
    #expect(failure("Divergence(x*Sum(w), w)")?.message.hasPrefix("Divergence needs a formula of the variable's dimension") == true)
    #expect(failure("TraceOperator(Exp(x), x)")?.message == "TraceOperator needs a formula linear in Var(0,3,0), but this one is not")
    #expect(failure("AdjointOperator(x*x, x, y)")?.message == "AdjointOperator needs a formula linear in Var(0,3,0), but this one is not")
    let notDifferentiable = failure("Grad(BSpline(a, b, 2), b, y)")
    #expect(notDifferentiable?.message == "BSpline is not differentiable: KeOps' B-splines are not differentiable")
    #expect(notDifferentiable?.range == SourceRange(5, 21))
    // SoftDTW_SqDist: differentiable in its sequences (through GradSoftDTW_SqDist), not in gamma.
    let gamma = failure("Grad(SoftDTW_SqDist(x, w, p*p), p, b)")
    #expect(gamma?.message == "SoftDTW_SqDist is not differentiable with respect to gamma (KeOps 2.3 refuses it too)")
    #expect(gamma?.range == SourceRange(5, 30))
    #expect(outcome("Grad(SoftDTW_SqDist(x, w, p), w, b)").contains("GradSoftDTW_SqDist(x,w,p)"))
    // Through an operation that does not depend on v, the gradient does not need it.
    #expect(outcome("Grad(BSpline(a, b, 2) * x, x, y)") == "Mult(y,BSpline(a,b,2))")
    let arity = failure("Grad(x)")
    #expect(arity?.message == "Grad takes 2 or 3 arguments, got 1")
    #expect(arity?.notes == ["usage: Grad(f, v, e)"])
    #expect(failure("Grad(x*p, p)")?.message.hasPrefix("Grad(f, v) without e needs an i- or j-variable") == true)
  }
}
