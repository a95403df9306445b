import Foundation
import Testing

/// The interactive shell, driven through a pseudo-terminal like a user at the keyboard.
///
/// These tests run the built `ks` binary out of process (libedit's readline layer is global
/// state) and one at a time, since each one drives a whole terminal session.
@Suite(.serialized) struct PtyTests {
  static let up = "\u{1B}[A"
  static let ctrlC = "\u{03}"
  static let ctrlD = "\u{04}"

  @Test func historyCompletionAndInterruptedSolve() throws {
    let home = try temporaryDirectory("ks-pty")
    let ks = try PtyProcess(home: home)

    // A statement, then recalled with Up.
    ks.type("n = 3000\r", after: "ks[1]> ")
    ks.type("n * 3\r", after: "ks[2]> ")
    #expect(ks.expect("9000"))
    ks.type(Self.up + "\r", after: "ks[3]> ")
    #expect(ks.expect("9000"), "Up should recall `n * 3`")

    // Tab inside a formula string completes an operation name.
    ks.type("f = \"Exp(-SqD\t", after: "ks[4]> ")
    ks.send("(x, y)) * a\"\r")
    ks.type("f\r", after: "ks[5]> ")
    #expect(ks.expect("'Exp(-SqDist(x, y)) * a'"))

    // Ctrl-C at the prompt discards the line.
    ks.type("junk" + Self.ctrlC, after: "ks[6]> ")
    #expect(ks.expect("^C"))
    ks.type("print(6 * 7)\r", after: "ks[6]> ")
    #expect(ks.expect("42"))

    // A long solve on the reference engine shows the live line; Ctrl-C stops it and the earlier
    // variables are intact.
    ks.type("import numpy as np\r", after: "ks[7]> ")
    ks.type("x = np.random.randn(n, 3)\r", after: "ks[8]> ")
    ks.type("b = np.random.randn(n, 1)\r", after: "ks[9]> ")
    ks.type(
      "Kinv = KernelSolve(f, [\"x = Vi(3)\", \"y = Vj(3)\", \"a = Vj(1)\"], \"a\", axis=1)\r", after: "ks[10]> ")
    ks.type("a = Kinv(x, x, b, alpha=1e-6, eps=1e-12, backend=\"reference\", precond=None)\r", after: "ks[11]> ")
    #expect(ks.expect("CG iteration", timeout: 120), "the live status line should appear")
    ks.send(Self.ctrlC)
    #expect(ks.expect("interrupted", timeout: 60))
    ks.type("print(x.shape, n, b.shape)\r", after: "ks[12]> ")
    #expect(ks.expect("(3000, 3) 3000 (3000, 1)"))
    ks.type("a\r", after: "ks[13]> ")
    #expect(ks.expect("name 'a' is not defined"), "the interrupted assignment is rolled back")

    ks.type(":quit\r", after: "ks[14]> ")
    #expect(ks.wait() == 0)

    // The history was saved, and a new session recalls it.
    let history = try String(contentsOfFile: home + "/.ks_history", encoding: .utf8)
    #expect(history.contains("print(x.shape,"))
    let again = try PtyProcess(home: home)
    again.type(Self.up + Self.up + "\r", after: "ks[1]> ")  // the last input was `:quit`
    #expect(again.expect("name 'a' is not defined"), "Up in a new session recalls the earlier inputs")
    again.type(Self.ctrlD, after: "ks[2]> ")
    #expect(again.wait() == 0)
  }

  /// On a terminal, `plt.show()` draws the figure as a braille plot with its title, ticks and
  /// legend, and `:plot residuals` after a solve draws the convergence curve.
  @Test func plotShowAndResidualsDrawInTheTerminal() throws {
    let ks = try PtyProcess(columns: 100, home: try temporaryDirectory("ks-pty"))
    ks.type("import matplotlib.pyplot as plt\r", after: "ks[1]> ")
    ks.type("t = np.linspace(0, 6, 200)\r", after: "ks[2]> ")
    ks.type("_ = plt.plot(t, np.sin(t), label=\"sine wave\")\r", after: "ks[3]> ")
    ks.type("_ = plt.title(\"Braille check\")\r", after: "ks[4]> ")
    ks.type("_ = plt.legend()\r", after: "ks[5]> ")
    ks.type("plt.show()\r", after: "ks[6]> ")
    #expect(ks.expect("Braille check"))
    #expect(ks.expect("sine wave"), "the legend")
    #expect(ks.expect("└"), "the axes' frame")
    let plotted = ks.transcript.unicodeScalars.filter { $0.value > 0x2800 && $0.value <= 0x28FF }.count
    #expect(plotted > 50, "the curve in braille dots")
    #expect(ks.transcript.contains("\u{1B}[38;2;31;119;180m"), "the curve in its color (C0)")

    ks.type("x = np.random.rand(300, 2)\r", after: "ks[7]> ")
    ks.type("b = np.random.rand(300, 1)\r", after: "ks[8]> ")
    ks.type(
      "K = KernelSolve(\"Exp(-SqDist(x, y) * 20) * a\", [\"x = Vi(2)\", \"y = Vj(2)\", \"a = Vj(1)\"], \"a\", axis=1)\r",
      after: "ks[9]> ")
    ks.type("c = K(x, x, b, alpha=0.01, precond=None, eps=1e-9, backend=\"reference\")\r", after: "ks[10]> ")
    #expect(ks.expect("CG converged", timeout: 120))
    let before = ks.transcript.unicodeScalars.filter { $0.value > 0x2800 && $0.value <= 0x28FF }.count
    ks.type(":plot residuals\r", after: "ks[11]> ")
    #expect(ks.expect("RMS residual"))
    #expect(ks.expect("iteration"))
    #expect(ks.expect("ks[12]> "))
    let after = ks.transcript.unicodeScalars.filter { $0.value > 0x2800 && $0.value <= 0x28FF }.count
    #expect(after - before > 20, "the convergence curve in braille dots")
    #expect(ks.transcript.contains("1e-"), "log-scale tick labels")
    ks.send(":quit\r")
    #expect(ks.wait() == 0)
  }

  @Test func multiLineInputAndErrorsNameTheInput() throws {
    let ks = try PtyProcess(home: try temporaryDirectory("ks-pty"))
    ks.type("total = 0\r", after: "ks[1]> ")
    ks.type("for k in range(4):\r", after: "ks[2]> ")
    ks.type("\ttotal += k\r", after: "...> ")
    ks.type("\r", after: "...> ")
    ks.type("print(total,\r", after: "ks[3]> ")
    ks.type("total * 2)\r", after: "...(> ")
    #expect(ks.expect("6 12"))
    // Input 4 is reported as line 4 of <stdin>; on a terminal the error is colored.
    ks.type("y = 1 +  undefined_thing\r", after: "ks[4]> ")
    #expect(ks.expect("<stdin>:4:10: \u{1B}["))
    #expect(ks.expect("name 'undefined_thing' is not defined"))
    #expect(ks.expect("^~~~~~~~~~~~~~~"))
    ks.type(Self.ctrlD, after: "ks[5]> ")
    #expect(ks.wait() == 0)
  }
}
