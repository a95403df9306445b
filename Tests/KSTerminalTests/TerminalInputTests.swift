import Foundation
import KSShell
import Testing

@testable import KSTerminal

/// Auto-indent, the escape policy, and Ctrl-D / paste handling at the interactive prompt.
@Suite struct AutoIndentAndEscapePolicyTests {
  @Test func continuationLinesIndentOneLevelAfterAColon() {
    #expect(Repl.autoIndent(after: "for k in range(4):", open: ":") == "    ")
    #expect(Repl.autoIndent(after: "    if k > 1:  # comment", open: ":") == "        ")
    #expect(Repl.autoIndent(after: "    total += k", open: ":") == "    ")
    #expect(Repl.autoIndent(after: "print(total,", open: "(") == "")
    #expect(Repl.autoIndent(after: "   ", open: ":") == "")
  }

  @Test func escapesOnlyOnATerminalWithAUsableTerm() {
    #expect(TerminalInfo.allowsEscapes(isTerminal: true, environment: ["TERM": "xterm-256color"]))
    #expect(!TerminalInfo.allowsEscapes(isTerminal: true, environment: ["TERM": "dumb"]))
    #expect(!TerminalInfo.allowsEscapes(isTerminal: true, environment: [:]))
    #expect(!TerminalInfo.allowsEscapes(isTerminal: false, environment: ["TERM": "xterm"]))
  }
}

@Suite(.serialized) struct TerminalInputPtyTests {
  static let ctrlD = "\u{04}"

  @Test func ctrlDOnAContinuationLineCancelsTheBlockAndKeepsTheSession() throws {
    let ks = try PtyProcess(home: try temporaryDirectory("ks-pty"))
    ks.type("total = 5\r", after: "ks[1]> ")
    ks.type("for k in range(4):\r", after: "ks[2]> ")
    // The continuation line starts auto-indented; Ctrl-D there cancels the block.
    ks.type(Self.ctrlD, after: "...> ")
    ks.type("print(total * 7)\r", after: "ks[2]> ")
    #expect(ks.expect("35"), "the cancelled block did not run and the session is intact")
    ks.type(Self.ctrlD, after: "ks[3]> ")
    #expect(ks.wait() == 0)
  }

  @Test func autoIndentedBlockRuns() throws {
    let ks = try PtyProcess(home: try temporaryDirectory("ks-pty"))
    ks.type("total = 0\r", after: "ks[1]> ")
    ks.type("for k in range(4):\r", after: "ks[2]> ")
    // No indentation typed: the shell supplies it.
    ks.type("total += k\r", after: "...> ")
    ks.type("\r", after: "...> ")
    ks.type("print(total)\r", after: "ks[3]> ")
    #expect(ks.expect("6"))
    ks.type(Self.ctrlD, after: "ks[4]> ")
    #expect(ks.wait() == 0)
  }

  @Test func aPastedBlockIsOneInput() throws {
    let ks = try PtyProcess(home: try temporaryDirectory("ks-pty"))
    #expect(ks.expect("ks[1]> "))
    // Pasted at once, with its own indentation and a blank line inside: one input, run whole.
    ks.send("s = 0\rfor k in range(3):\r    s += k\r\rprint('sum', s)\r")
    #expect(ks.expect("sum 3"))
    ks.type(Self.ctrlD, after: "ks[2]> ")
    #expect(ks.wait() == 0)
  }

  /// Statements that color an error and draw the solver's live line on an xterm: an error, then a
  /// CG solve on the reference engine (it draws its line from the first iteration).
  static let coloredInputs = [
    "import numpy as np\r",
    "y = 1 + undefined_thing\r",
    "x = np.random.rand(400, 3); b = np.random.rand(400, 1)\r",
    "Kinv = KernelSolve(\"Exp(-SqDist(x, y)) * a\", [\"x = Vi(3)\", \"y = Vj(3)\", \"a = Vj(1)\"], \"a\", axis=1)\r",
    "a = Kinv(x, x, b, alpha=1.0, eps=1e-6, backend=\"reference\", precond=None)\r",
  ]

  @Test func aDumbTerminalGetsNoEscapeSequences() throws {
    let ks = try PtyProcess(home: try temporaryDirectory("ks-pty"), term: "dumb")
    for (k, input) in Self.coloredInputs.enumerated() { ks.type(input, after: "ks[\(k + 1)]> ") }
    #expect(ks.expect("CG converged in", timeout: 120))
    ks.type(Self.ctrlD, after: "ks[5]> ")
    #expect(ks.wait() == 0)
    #expect(ks.transcript.contains("name 'undefined_thing' is not defined"))
    #expect(!ks.transcript.contains("\u{1B}"), "escape sequences with TERM=dumb:\n\(ks.transcript.debugDescription)")
  }

  @Test func theLogIsPlainTextOnAColorTerminal() throws {
    let home = try temporaryDirectory("ks-pty")
    let ks = try PtyProcess(home: home)
    ks.type(":log \(home)/session.log\r", after: "ks[1]> ")
    for (k, input) in Self.coloredInputs.enumerated() { ks.type(input, after: "ks[\(k + 1)]> ") }
    #expect(ks.expect("CG iteration", timeout: 120), "the live line is drawn on the terminal")
    #expect(ks.expect("CG converged in", timeout: 120))
    ks.type(":log off\r", after: "ks[5]> ")
    ks.type(Self.ctrlD, after: "ks[5]> ")
    #expect(ks.wait() == 0)
    #expect(ks.transcript.contains("\u{1B}["), "the terminal itself gets color")
    let log = try String(contentsOfFile: home + "/session.log", encoding: .utf8)
    #expect(log.contains("y = 1 + undefined_thing\n"))
    #expect(log.contains("name 'undefined_thing' is not defined"))
    #expect(log.contains("# CG converged in"))
    #expect(!log.contains("CG iteration"), "the live line is not logged")
    #expect(!log.contains("\u{1B}"), "escape sequences in the log:\n\(log.debugDescription)")
  }
}

