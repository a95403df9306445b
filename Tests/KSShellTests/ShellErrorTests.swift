import KSDiagnostics
import KSShell
import ShellRuntime
import ShellSyntax
import Testing

/// Errors in scripts: `FILE:LINE:COL: error:`, the source line and a caret under the exact span,
/// including spans inside formula strings, wherever the string was written.
@Suite struct ShellErrorTests {
  func errors(of script: String) -> String {
    var errors = ""
    let session = Session(output: { _ in }, errors: { errors += $0 }, status: { _ in })
    _ = session.run(SourceText(name: "demo.ks", text: script))
    return errors
  }

  @Test func unknownOperationInAFormulaLiteral() {
    let e = errors(of: """
      aliases = ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"]
      K = Genred("Exp(-Norm3(x - y)) * a", aliases, axis=1)
      """)
    #expect(e == """
      demo.ks:2:18: error: unknown operation 'Norm3'; did you mean 'Norm2'?
        2 | K = Genred("Exp(-Norm3(x - y)) * a", aliases, axis=1)
          |                  ^~~~~

      """)
  }

  /// A formula kept in a variable is still reported where it was written.
  @Test func formulaErrorsPointWhereTheStringWasWritten() {
    let e = errors(of: """
      formula = "Exp(-SqDist(x, z)) * a"
      aliases = ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"]
      K = Genred(formula, aliases, axis=1)
      """)
    #expect(e.hasPrefix("demo.ks:1:27: error: unknown name 'z'; did you mean 'a'?\n"))
    #expect(e.contains("  1 | formula = \"Exp(-SqDist(x, z)) * a\"\n    |                           ^\n"))
  }

  @Test func aliasErrorsPointIntoTheAliasString() {
    let e = errors(of: """
      K = Genred("SqDist(x, y)", ["x = Vi(3)", "y = Vk(3)"], axis=1)
      """)
    #expect(e.hasPrefix("demo.ks:1:47: error: unknown variable type 'Vk'; did you mean 'Vi'?"))
    #expect(e.contains("    |                                               ^~\n"))
  }

  @Test func nonLinearKernelSolveIsRefusedWithACaret() {
    let e = errors(of: """
      K = KernelSolve("Exp(-SqDist(x,y))*Square(a)", ["x = Vi(3)", "y = Vj(3)", "a = Vj(1)"], "a", axis=1)
      """)
    #expect(e == """
      demo.ks:1:36: error: KernelSolve needs a formula linear in "a", but this Square(...) is not linear in it
        1 | K = KernelSolve("Exp(-SqDist(x,y))*Square(a)", ["x = Vi(3)", "y = Vj(3)", "a = Vj(1)"], "a", axis=1)
          |                                    ^~~~~~~~~

      """)
  }

  @Test func optionErrorsPointAtTheKeyword() {
    let e = errors(of: """
      K = Genred("SqDist(x, y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="MinArgMin", axis=1)
      """)
    #expect(e.hasPrefix("demo.ks:1:56: error: unknown reduction \"MinArgMin\"; did you mean \"Min_ArgMin\"?"))
  }

  /// A failed statement leaves the session's variables as they were, even one that assigned
  /// before failing.
  @Test func failedStatementsChangeNothing() {
    var out = ""
    let session = Session(output: { out += $0 }, errors: { _ in }, status: { _ in })
    _ = session.run(SourceText(name: "a.ks", text: "x = 1\n"))
    let outcome = session.run(SourceText(name: "b.ks", text: "for i in range(3):\n    x = i + 10\n    y = undefined_name\n"))
    #expect(outcome.exitCode == 1)
    _ = session.run(SourceText(name: "c.ks", text: "print(x)\n"))
    #expect(out == "1\n")
  }
}

/// `ranges=` through a script: block-sparse sums, and errors at the keyword.
@Suite struct ShellRangesTests {
  @Test func blockSparseSumInAScript() {
    var out = "", errors = ""
    let session = Session(output: { out += $0 }, errors: { errors += $0 }, status: { _ in })
    _ = session.run(SourceText(name: "r.ks", text: """
      import numpy as np
      K = Genred("x*y", ["x = Vi(1)", "y = Vj(1)"], axis=1)
      x = np.array([[1.0], [2.0], [3.0]])
      y = np.array([[1.0], [10.0], [100.0]])
      r = (np.array([[0, 2]]), np.array([1]), np.array([[1, 3]]), np.array([[0, 3]]), np.array([1]), np.array([[0, 3]]))
      print(K(x, y, ranges=r)[:, 0])
      print(K(x, y, ranges=[[[0, 3]], [2], [[0, 1], [0, 3]], [[0, 3]], [1], [[0, 3]]])[:, 0])
      """))
    #expect(errors == "")
    #expect(out == "[110. 220.   0.]\n[112. 224. 336.]\n")
  }

  @Test func rangesErrorsPointAtTheKeyword() {
    var errors = ""
    let session = Session(output: { _ in }, errors: { errors += $0 }, status: { _ in })
    _ = session.run(SourceText(name: "r.ks", text: """
      import numpy as np
      K = Genred("x*y", ["x = Vi(1)", "y = Vj(1)"], axis=1)
      x = np.array([[1.0], [2.0]])
      K(x, x, ranges=([[0, 2]], [1], [[0, 5]], [[0, 2]], [1], [[0, 2]]))
      """))
    #expect(errors.hasPrefix("r.ks:4:9: error: redranges_j[0] = [0, 5) is not a range of reduced rows"), "\(errors)")
    errors = ""
    _ = session.run(SourceText(name: "s.ks", text: "K(x, x, ranges=3)\n"))
    #expect(errors.hasPrefix("s.ks:1:9: error: ranges must be a tuple of 6 int64 arrays"), "\(errors)")
  }
}
