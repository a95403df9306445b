import KSDiagnostics
import Testing

@testable import FormulaLanguage

/// Exact renderings of formula errors, as users see them.
@Suite struct CaretGoldenTests {
  private let aliases = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "z = Vj(2)"]

  private func rendered(_ formula: String, aliases: [String]? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do throws(FormulaError) {
      _ = try ReducedFormula.compile(formula: formula, aliases: aliases ?? self.aliases, reduction: .sum, axis: 1)
      Issue.record("'\(formula)' must fail", sourceLocation: sourceLocation)
      return ""
    } catch {
      #expect(error.origin == .formula, sourceLocation: sourceLocation)
      return DiagnosticRenderer().render(error.diagnostic, in: SourceText(name: "<formula>", text: formula))
    }
  }

  @Test func unknownOperation() {
    #expect(
      rendered("Norm3(x-y)") == """
        <formula>:1:1: error: unknown operation 'Norm3'; did you mean 'Norm2'?
          1 | Norm3(x-y)
            | ^~~~~

        """)
  }

  @Test func unknownOperationInside() {
    #expect(
      rendered("Exp(-SqDsit(x,y))*b") == """
        <formula>:1:6: error: unknown operation 'SqDsit'; did you mean 'SqDist'?
          1 | Exp(-SqDsit(x,y))*b
            |      ^~~~~~

        """)
  }

  @Test func unknownOperationWithoutSuggestion() {
    #expect(
      rendered("Frobnicate(x)") == """
        <formula>:1:1: error: unknown operation 'Frobnicate'
          1 | Frobnicate(x)
            | ^~~~~~~~~~

        """)
  }

  @Test func unknownAliasName() {
    #expect(
      rendered("SqDist(x,yy)*b") == """
        <formula>:1:10: error: unknown name 'yy'; did you mean 'y'?
          1 | SqDist(x,yy)*b
            |          ^~
            = note: declared aliases: b, x, y, z

        """)
  }

  @Test func unknownNameWithoutAliases() {
    #expect(
      rendered("Exp(-q)", aliases: []) == """
        <formula>:1:6: error: unknown name 'q'
          1 | Exp(-q)
            |      ^
            = note: no aliases are declared

        """)
  }

  @Test func unclosedParenthesis() {
    #expect(
      rendered("Exp(x-y") == """
        <formula>:1:4: error: expected ')' to close '(' of Exp(...)
          1 | Exp(x-y
            |    ^

        """)
  }

  @Test func missingOperand() {
    #expect(
      rendered("x +* y") == """
        <formula>:1:4: error: expected an operand, found '*'
          1 | x +* y
            |    ^

        """)
  }

  @Test func wrongArgumentCount() {
    #expect(
      rendered("SqDist(x)") == """
        <formula>:1:1: error: SqDist takes 2 arguments, got 1
          1 | SqDist(x)
            | ^~~~~~~~~
            = note: usage: SqDist(f, g)

        """)
  }

  @Test func elementOutOfRange() {
    #expect(
      rendered("Elem(x, 5)") == """
        <formula>:1:1: error: Elem: index 5 is out of range for dimension 3 (valid: 0...2)
          1 | Elem(x, 5)
            | ^~~~~~~~~~

        """)
  }

  @Test func incompatibleDimensions() {
    #expect(
      rendered("x - z") == """
        <formula>:1:1: error: Subtract: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)
          1 | x - z
            | ^~~~~

        """)
  }

  @Test func incompatibleDimensionsInside() {
    #expect(
      rendered("Exp(-SqNorm2(x - z))*b") == """
        <formula>:1:14: error: Subtract: dimensions 3 and 2 are not compatible (only 1 broadcasts against d)
          1 | Exp(-SqNorm2(x - z))*b
            |              ^~~~~

        """)
  }

  @Test func integerParameterGivenAFormula() {
    #expect(
      rendered("Pow(x, y)") == """
        <formula>:1:8: error: the parameter 'm' of Pow must be an integer literal
          1 | Pow(x, y)
            |        ^
            = note: usage: Pow(f, m)

        """)
  }

  @Test func caretUnderNonASCIIText() {
    #expect(
      rendered("x + é") == """
        <formula>:1:5: error: unexpected character 'é' in formula
          1 | x + é
            |     ^

        """)
  }

  @Test func aliasErrorRenderedInItsString() throws {
    do throws(FormulaError) {
      _ = try ReducedFormula.compile(formula: "x", aliases: ["x = Vi(3)", "Exp = Vj(3)"], reduction: .sum, axis: 1)
      Issue.record("must fail")
    } catch {
      #expect(error.origin == .alias(1))
      #expect(
        DiagnosticRenderer().render(error.diagnostic, in: SourceText(name: "<alias 1>", text: "Exp = Vj(3)")) == """
          <alias 1>:1:1: error: alias name 'Exp' shadows the operation of the same name
            1 | Exp = Vj(3)
              | ^~~

          """)
    }
  }
}
