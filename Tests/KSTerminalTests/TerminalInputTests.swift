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
}
