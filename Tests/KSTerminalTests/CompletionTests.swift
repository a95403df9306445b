import KSShell
import ShellRuntime
import ShellSyntax
import Testing

@testable import KSTerminal
@testable import KernelOperations

/// Context-aware completion, without a terminal.
@Suite struct CompletionTests {
  static var vocabulary: CompletionVocabulary {
    CompletionVocabulary(
      variables: ["x", "xs", "alpha_value", "np"], aliases: ["p"], builtins: ["print", "Genred", "KernelSolve", "len"],
      keywords: ["reduction_op", "axis", "alpha", "backend", "formula2", "opt_arg", "eps"],
      languageKeywords: ["alias", "for", "import", "in"],
      members: { path in
        switch path {
        case "np": ["random", "zeros", "sqrt"]
        case "np.random": ["randn", "rand", "seed"]
        default: nil
        }
      })
  }

  static var completer: Completer {
    Completer(
      vocabulary: vocabulary,
      listDirectory: { directory in
        switch directory {
        case ".": [("data", true), ("demo.ks", false), ("notes.txt", false), (".hidden", false)]
        case "data/": [("x.npy", false), ("y.npy", false)]
        default: []
        }
      })
  }

  func complete(_ text: String) -> Completion { Self.completer.complete(text) }

  @Test func operationInsideAFormulaString() {
    let c = complete("K = Genred(\"Exp(-SqD")
    #expect(c.word == "SqD")
    #expect(c.candidates == ["SqDist"])
    #expect(!c.appendSpace)
    #expect(complete("f = 'Sq").candidates == ["SqDist", "SqNorm2", "SqNormDiag", "SqNormIso", "Sqrt", "Square"])
  }

  @Test func aliasesInsideAFormulaString() {
    // Declared with `alias`, and declared in the alias list of the same call.
    #expect(complete("Genred(\"Exp(p").candidates.contains("p"))
    let c = complete("Genred(\"Exp(-SqDist(pos, y)) * b\", [\"point = Vi(3)\", \"y = Vj(3)\"], axis=1) + \"po")
    #expect(c.candidates.contains("point"))
    #expect(complete("Genred(\"Exp(x)\", [\"x = V").candidates == ["Vi", "Vj"])
  }

  @Test func keywordArgumentsInsideACall() {
    let c = complete("K(x, y, b, al")
    #expect(c.candidates == ["alpha=", "alpha_value"])
    #expect(complete("Genred(f, a, reduction_op=\"LogS").candidates == ["LogSumExp", "LogSumExpWeight"])
    #expect(complete("K(x, backend=\"ref").candidates == ["reference"])
    #expect(complete("al").candidates == ["alias", "alpha_value"], "no keyword arguments outside a call")
    #expect(complete("f(x, al").candidates == ["alpha=", "alpha_value"], "no statement keywords inside a call")
    #expect(complete("for k i").candidates == ["in"])
  }

  @Test func variablesBuiltinsAndMembers() {
    #expect(complete("pri").candidates == ["print"])
    #expect(complete("y = x").candidates == ["x", "xs"])
    #expect(complete("np.ra").candidates == ["random"])
    #expect(complete("z = np.random.r").candidates == ["rand", "randn"])
    #expect(complete("print(3.1").candidates.isEmpty)
    #expect(complete("# a comment pri").candidates.isEmpty)
  }

  @Test func metaCommandsAndTheirArguments() {
    let c = complete(":he")
    #expect(c.candidates == ["help"])
    #expect(c.appendSpace)
    #expect(complete(":e").candidates == ["engine", "exit", "export"])
    #expect(complete(":engine c").candidates == ["cpu", "cuda"])
    #expect(complete(":help SqN").candidates.contains("SqNorm2"))
    #expect(complete(":time y = SqD").candidates.isEmpty)
    #expect(complete(":time y = pri").candidates == ["print"])
  }

  @Test func pathsAfterLoadReadAndSave() {
    #expect(complete(":read d").candidates == ["data/", "demo.ks"])
    #expect(complete(":save ").candidates == ["data/", "demo.ks", "notes.txt"])
    #expect(complete(":export n").candidates == ["notes.txt"])
    #expect(complete("x = load(\"data/").candidates == ["data/x.npy", "data/y.npy"])
    #expect(complete("x = np.load('data/x").candidates == ["data/x.npy"])
  }

  @Test func tabIndentsABlankContinuationLine() {
    #expect(complete("for k in range(3):\n").candidates == ["    "])
    #expect(complete("").candidates.isEmpty)
  }

  @Test func candidatesAreFittedToLibeditsWord() {
    // libedit breaks words at its own characters; the candidates replace its word instead.
    #expect(LineEditor.fit(["SqDist"], word: "SqD", to: "-SqD") == ["-SqDist"])
    #expect(LineEditor.fit(["data/x.npy"], word: "data/x", to: "x") == ["x.npy"])
    #expect(LineEditor.fit(["alpha="], word: "al", to: "al") == ["alpha="])
  }
}

/// The live progress line and the color policy.
@Suite struct TerminalPolicyTests {
  @Test func colorOnlyOnATerminalWithoutNoColor() {
    #expect(TerminalInfo.useColor(isTerminal: true, environment: ["TERM": "xterm"]))
    #expect(!TerminalInfo.useColor(isTerminal: false, environment: ["TERM": "xterm"]))
    #expect(!TerminalInfo.useColor(isTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": "1"]))
    #expect(TerminalInfo.useColor(isTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": ""]))
    #expect(!TerminalInfo.useColor(isTerminal: true, environment: ["TERM": "dumb"]))
  }

  @Test func statusLineTextAndClipping() {
    let p = SolveProgress(iteration: 12, rmsResidual: 2.5e-3, elapsed: 0.25)
    #expect(ProgressLine.text(p, previous: nil) == "CG iteration 12  rms 2.5e-03  0.25 s")
    #expect(ProgressLine.text(p, previous: (iteration: 11, rms: 5e-3)) == "CG iteration 12  rms 2.5e-03  -50.0%/it  0.25 s")
    #expect(ProgressLine.clip("CG iteration 12", to: 6) == "CG ite")
    // With a target: the rate since the sample 10 iterations back, and the time left at that rate.
    let q = SolveProgress(iteration: 20, rmsResidual: 1e-4, elapsed: 2.0, target: 1e-6, method: "PCG (Jacobi)")
    let since = ProgressLine.Sample(iteration: 10, rms: 1e-3, elapsed: 1.0)
    // 10x in 10 iterations (-20.6%/it), 100x to go: 20 iterations of 0.1 s.
    #expect(ProgressLine.text(q, since: since) == "PCG (Jacobi) iteration 20  rms 1.0e-04 -> 1e-06  -20.6%/it  ~2.0 s left  2.00 s")
    #expect(ProgressLine.target(2.5e-7) == "2.5e-07")
  }

  @Test func continuationPromptsAreAsWideAsThePrompt() {
    #expect(Repl.continuationPrompt(open: "(", width: 7) == " ...(> ")
    #expect(Repl.continuationPrompt(open: ":", width: 7) == "  ...> ")
    #expect(Repl.continuationPrompt(open: "\"\"\"", width: 8) == "...\"\"\"> ")
  }
}
