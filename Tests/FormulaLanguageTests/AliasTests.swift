import KSDiagnostics
import Testing

@testable import FormulaLanguage

/// Alias strings and KeOps' argument-order rules (keops-semantics.md 2.1).
@Suite struct AliasParsingTests {
  private func parse(_ text: String, _ position: Int? = 0) -> Result<AliasDeclaration, Diagnostic> {
    do throws(Diagnostic) {
      return .success(try AliasDeclaration.parse(text, positionInList: position))
    } catch {
      return .failure(error)
    }
  }

  private func declaration(_ text: String, _ position: Int? = 0, sourceLocation: SourceLocation = #_sourceLocation)
    -> AliasDeclaration?
  {
    switch parse(text, position) {
    case .success(let d): return d
    case .failure(let e):
      Issue.record("'\(text)' failed: \(e.message)", sourceLocation: sourceLocation)
      return nil
    }
  }

  private func error(_ text: String, _ position: Int? = 0, sourceLocation: SourceLocation = #_sourceLocation) -> Diagnostic? {
    switch parse(text, position) {
    case .success(let d):
      Issue.record("'\(text)' must fail, got \(d)", sourceLocation: sourceLocation)
      return nil
    case .failure(let e): return e
    }
  }

  @Test func namedWithImplicitPosition() {
    let d = declaration("x = Vi(3)", 2)
    #expect(d == AliasDeclaration(name: "x", variable: Variable(index: 2, dim: 3, category: .i), explicitPosition: false))
  }

  @Test func namedWithExplicitPosition() {
    let d = declaration("x=Vi(0,3)", 5)
    #expect(d == AliasDeclaration(name: "x", variable: Variable(index: 0, dim: 3, category: .i), explicitPosition: true))
  }

  @Test func whitespaceIsIgnored() {
    #expect(declaration("  y   =  Vj ( 1 , 4 )  ", 0)?.variable == Variable(index: 1, dim: 4, category: .j))
    #expect(declaration("\tb=Pm( 2 )", 7)?.variable == Variable(index: 7, dim: 2, category: .parameter))
    #expect(declaration("  y   =  Vj ( 1 , 4 )  ", 0)?.name == "y")
  }

  @Test func anonymous() {
    #expect(declaration("Vi(3)", 1) == AliasDeclaration(name: nil, variable: Variable(index: 1, dim: 3, category: .i), explicitPosition: false))
    #expect(declaration("Vj(0,2)", 1) == AliasDeclaration(name: nil, variable: Variable(index: 0, dim: 2, category: .j), explicitPosition: true))
    #expect(declaration("Var(3,1,1)", 0) == AliasDeclaration(name: nil, variable: Variable(index: 3, dim: 1, category: .j), explicitPosition: true))
  }

  @Test func varWithEveryCategory() {
    #expect(declaration("a=Var(0,3,0)")?.variable == Variable(index: 0, dim: 3, category: .i))
    #expect(declaration("a=Var(1,3,1)")?.variable == Variable(index: 1, dim: 3, category: .j))
    #expect(declaration("a=Var(2,1,2)")?.variable == Variable(index: 2, dim: 1, category: .parameter))
  }

  @Test func legacyVxVy() {
    #expect(declaration("x = Vx(3)", 0)?.variable == Variable(index: 0, dim: 3, category: .i))
    #expect(declaration("y = Vy(1,3)", 0)?.variable == Variable(index: 1, dim: 3, category: .j))
  }

  @Test func parameter() {
    #expect(declaration("p = Pm(1)", 4)?.variable == Variable(index: 4, dim: 1, category: .parameter))
    #expect(declaration("p = Pm(0,2)", 4)?.variable == Variable(index: 0, dim: 2, category: .parameter))
  }

  @Test func namesMayHaveDigitsAndUnderscores() {
    #expect(declaration("_x1 = Vi(3)")?.name == "_x1")
    #expect(declaration("sigma_2 = Pm(1)")?.name == "sigma_2")
  }

  @Test func badCategory() {
    let e = error("x = Vk(3)")
    #expect(e?.message == "unknown variable type 'Vk'; did you mean 'Vi'?")
    #expect(e?.range == SourceRange(4, 6))
    #expect(e?.notes == ["expected Vi(dim), Vj(dim), Pm(dim), Vi(pos, dim) or Var(pos, dim, cat)"])
    #expect(error("x = Foo(3)")?.message == "unknown variable type 'Foo'")
    #expect(error("x = Var(0,3,3)")?.message == "category 3 is invalid: 0 (Vi), 1 (Vj) or 2 (Pm)")
  }

  @Test func shadowingAnOperationName() {
    let e = error("Exp = Vi(3)")
    #expect(e?.message == "alias name 'Exp' shadows the operation of the same name")
    #expect(e?.range == SourceRange(0, 3))
    #expect(error("  SqDist = Vj(3)")?.range == SourceRange(2, 8))
    #expect(error("Var = Vi(3)")?.message == "alias name 'Var' shadows the operation of the same name")
    #expect(error("Vi = Vi(3)")?.message == "alias name 'Vi' shadows the operation of the same name")
    // Operations ks does not implement yet are still KeOps names.
    #expect(error("Grad = Vi(3)")?.message == "alias name 'Grad' shadows the operation of the same name")
  }

  @Test func malformed() {
    #expect(error("1x = Vi(3)")?.message == "'1x' is not a valid alias name")
    #expect(error("x y = Vi(3)")?.message == "'x y' is not a valid alias name")
    #expect(error(" = Vi(3)")?.message == "missing alias name before '='")
    let doubled = error("x == Vi(3)")
    #expect(doubled?.message == "an alias is written 'name = Vi(dim)', with a single '='")
    #expect(doubled?.range == SourceRange(2, 4))
    #expect(error("x = 3")?.message == "invalid alias: expected Vi(dim), Vj(dim), Pm(dim), Vi(pos, dim) or Var(pos, dim, cat)")
    #expect(error("x = Vi(0)")?.message == "dimension must be at least 1, not 0")
    #expect(error("x = Vi(1,2,3)")?.message == "Vi takes (dim) or (pos, dim), got 3 arguments")
    #expect(error("x = Vi()")?.message == "Vi takes (dim) or (pos, dim), got 0 arguments")
    #expect(error("x = Var(0,3)")?.message == "Var takes (pos, dim, cat), got 2 arguments")
    #expect(error("x = Vi(y)")?.message == "alias arguments must be integer literals")
    #expect(error("x = Vi(3)", nil)?.message == "this alias needs an explicit position, e.g. Vi(0, 3)")
  }

  @Test func parseErrorsAreShiftedIntoTheAliasString() {
    let e = error("x = Vi(3")
    #expect(e?.message == "expected ')' to close '(' of Vi(...)")
    #expect(e?.range == SourceRange(6, 7))
  }
}

/// Building whole definitions: argument slots, duplicates, conflicts.
@Suite struct ArgumentOrderTests {
  private func compile(
    _ formula: String, _ aliases: [String], reduction: ReductionKind = .sum, formula2: String? = nil, axis: Int = 1
  ) -> Result<ReducedFormula, FormulaError> {
    do throws(FormulaError) {
      return .success(
        try ReducedFormula.compile(formula: formula, aliases: aliases, reduction: reduction, formula2: formula2, axis: axis))
    } catch {
      return .failure(error)
    }
  }

  private func ok(_ formula: String, _ aliases: [String], sourceLocation: SourceLocation = #_sourceLocation) -> ReducedFormula? {
    switch compile(formula, aliases) {
    case .success(let r): return r
    case .failure(let e):
      Issue.record("'\(formula)' failed: \(e.diagnostic.message)", sourceLocation: sourceLocation)
      return nil
    }
  }

  private func fail(_ formula: String, _ aliases: [String], sourceLocation: SourceLocation = #_sourceLocation) -> FormulaError? {
    switch compile(formula, aliases) {
    case .success:
      Issue.record("'\(formula)' with \(aliases) must fail", sourceLocation: sourceLocation)
      return nil
    case .failure(let e): return e
    }
  }

  @Test func aliasesBindInListOrder() {
    let r = ok("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"])
    #expect(r?.arguments == [
      Variable(index: 0, dim: 3, category: .i), Variable(index: 1, dim: 3, category: .j),
      Variable(index: 2, dim: 1, category: .j),
    ])
    #expect(r?.argumentNames == ["x", "y", "b"])
    #expect(r?.sizeOrder == [0, 1, 2])
    #expect(r?.formula.dim == 1)
  }

  @Test func unusedAliasesStillTakeASlot() {
    #expect(ok("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"])?.arguments.count == 3)
  }

  @Test func explicitPositionsReorderTheSlots() {
    let r = ok("SqDist(x,y)", ["y = Vj(1,3)", "x = Vi(0,3)"])
    #expect(r?.arguments == [Variable(index: 0, dim: 3, category: .i), Variable(index: 1, dim: 3, category: .j)])
    #expect(r?.argumentNames == ["x", "y"])
    // Sizes are taken in alias-list order: y's slot first.
    #expect(r?.sizeOrder == [1, 0])
  }

  @Test func anonymousAliasesAreUsableThroughVar() {
    let r = ok("SqDist(Var(0,3,0),Var(1,3,1))", ["Vi(3)", "Vj(3)"])
    #expect(r?.arguments.count == 2)
    #expect(r?.argumentNames == [nil, nil])
  }

  @Test func varBeyondTheAliasListAddsAnArgument() {
    // pykeops/test/test_numpy.py::test_heterogeneous_var_aliases: 4 arguments.
    let r = ok("Square(p-Var(3,1,1))*Exp(-SqNorm2(y-x))", ["p=Pm(0,1)", "x=Vi(1,3)", "y=Vj(2,3)"])
    #expect(r?.arguments.count == 4)
    #expect(r?.arguments[3] == Variable(index: 3, dim: 1, category: .j))
    #expect(r?.argumentNames == ["p", "x", "y", nil])
    #expect(r?.arguments[0] == Variable(index: 0, dim: 1, category: .parameter))
    #expect(r?.formula.dim == 1)
  }

  @Test func varInFormula2AddsAnArgument() throws {
    let r = try ReducedFormula.compile(
      formula: "-SqDist(x,y)", aliases: ["x=Vi(3)", "y=Vj(3)"], reduction: .maxSumShiftExpWeight,
      formula2: "Var(2,2,1)", axis: 1)
    #expect(r.arguments.count == 3)
    #expect(r.weight?.dim == 2)
    #expect(r.rawDimension == 3)
  }

  @Test func varMatchingAnAliasIsTheSameArgument() {
    let r = ok("x - Var(0,3,0)", ["x = Vi(3)"])
    #expect(r?.arguments == [Variable(index: 0, dim: 3, category: .i)])
  }

  @Test func duplicateAliasName() {
    let e = fail("x", ["x = Vi(3)", "x = Vj(3)"])
    #expect(e?.diagnostic.message == "alias 'x' is declared twice")
    #expect(e?.origin == .alias(1))
  }

  @Test func conflictingPositions() {
    let e = fail("x+y", ["x = Vi(0,3)", "y = Vj(0,3)"])
    #expect(e?.diagnostic.message == "position 0 is already Var(0,3,0) but this alias declares Var(0,3,1)")
    #expect(e?.origin == .alias(1))
    let implicit = fail("x", ["x = Vi(3)", "y = Vj(0,2)"])
    #expect(implicit?.diagnostic.message == "position 0 is already Var(0,3,0) but this alias declares Var(0,2,1)")
  }

  @Test func inlineVarConflictingWithAnAlias() {
    let e = fail("x + Var(0,3,1)", ["x = Vi(3)"])
    #expect(e?.diagnostic.message == "Var(0,3,1) conflicts with alias 'x' = Var(0,3,0) at the same position")
    #expect(e?.origin == .formula)
    #expect(e?.diagnostic.range == SourceRange(4, 14))
  }

  @Test func gapsInPositions() {
    let e = fail("x+y", ["x = Vi(0,3)", "y = Vj(2,3)"])
    #expect(
      e?.diagnostic.message
        == "no alias or Var(...) declares argument position 1 (positions must be 0 ..< 3 without gaps)")
  }

  @Test func errorsKnowWhichStringTheyAreIn() {
    #expect(fail("x", ["x = Vi(3)", "y = Vk(3)"])?.origin == .alias(1))
    #expect(fail("x +", ["x = Vi(3)"])?.origin == .formula)
    if case .failure(let e) = compile("-SqDist(x,y)", ["x=Vi(3)", "y=Vj(3)"], reduction: .maxSumShiftExpWeight, formula2: "y +") {
      #expect(e.origin == .formula2)
    } else {
      Issue.record("a bad formula2 must fail")
    }
  }

  @Test func shiftExpReductionsNeedAScalarFormula() {
    guard case .failure(let e) = compile("x-y", ["x=Vi(3)", "y=Vj(3)"], reduction: .maxSumShiftExpWeight) else {
      Issue.record("a vector formula must be refused")
      return
    }
    #expect(e.diagnostic.message == "this reduction needs a scalar formula (dimension 1), but the formula has dimension 3")
  }

  @Test func rawDimensions() {
    let d2 = ["x=Vi(2)", "y=Vj(2)"]
    func raw(_ k: ReductionKind, _ f: String = "x-y", formula2: String? = nil) -> Int? {
      try? compile(f, d2, reduction: k, formula2: formula2).get().rawDimension
    }
    #expect(raw(.sum) == 2)
    #expect(raw(.argMin) == 2)
    #expect(raw(.minArgMin) == 4)
    #expect(raw(.kMin(3)) == 6)
    #expect(raw(.argKMin(3)) == 6)
    #expect(raw(.kMinArgKMin(3)) == 12)
    #expect(raw(.maxSumShiftExpWeight, "SqDist(x,y)") == 2)
    #expect(raw(.maxSumShiftExpWeight, "SqDist(x,y)", formula2: "y") == 3)
  }

  @Test func axisChoosesTheOutputCategory() {
    #expect((try? compile("x", ["x=Vi(1)"], axis: 1).get().outputCategory) == .i)
    #expect((try? compile("x", ["x=Vi(1)"], axis: 0).get().outputCategory) == .j)
    #expect((try? compile("x", ["x=Vi(1)"], axis: 0).get().reducedCategory) == .i)
  }

  @Test func didYouMeanForUnknownNamesIsDeterministic() {
    // Two aliases are one edit from 'zz': the suggestion must not depend on dictionary order
    // (the first in sorted order wins, as in the note listing the aliases).
    var messages: Set<String> = []
    for _ in 0..<40 {
      if case .failure(let e) = compile("x - zz", ["xx = Vi(3)", "zy = Vj(3)", "zx = Vj(3)", "x = Vi(3)"]) {
        messages.insert(e.diagnostic.message)
      }
    }
    #expect(messages == ["unknown name 'zz'; did you mean 'zx'?"], "\(messages)")
  }
}
