import Foundation
import KSShell
import KernelOperations
import ShellRuntime
import ShellSyntax
import Testing

/// A session driven in process: everything it writes, by stream.
final class SessionRecorder {
  var output = ""
  var errors = ""
  var status = ""
  let session: Session

  init() {
    let box = Box()
    session = Session(
      output: { box.recorder?.output += $0 }, errors: { box.recorder?.errors += $0 },
      status: { box.recorder?.status += $0 })
    box.recorder = self
  }

  private final class Box { weak var recorder: SessionRecorder? }

  @discardableResult
  func submit(_ text: String) -> SessionOutcome { session.submit(text) }

  /// Runs `text` and returns what it printed (the captured output is then cleared).
  func printed(_ text: String) -> String {
    output = ""
    session.submit(text)
    defer { output = "" }
    return output
  }
}

/// The directory of the built products (`.build/<triple>/debug`), where `ks` is.
private func productPath(_ name: String) -> String {
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
}

private func temporaryDirectory() throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("ks-session-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Runs `ks arguments...` and returns its exit status and standard output.
private func runKS(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: productPath("ks"))
  process.arguments = arguments
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let stdout = out.fileHandleForReading.readDataToEndOfFile()
  let stderr = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite struct SessionTests {
  @Test func failedStatementsChangeNothing() {
    let s = SessionRecorder()
    s.submit("x = 1")
    #expect(s.submit("x = undefined_name + 1") == .failed)
    #expect(s.printed("x") == "1\n")
    // Statements before the failing one in the same input are kept.
    #expect(s.submit("y = 2; x = 5 + undefined_name; z = 3") == .failed)
    #expect(s.printed("print(x, y)") == "1 2\n")
    #expect(s.submit("z") == .failed)
  }

  @Test func inputNIsLineNOfStdin() {
    let s = SessionRecorder()
    s.submit("a = 1")
    s.submit("   ")  // blank input is not counted
    s.submit("b = 2")
    s.submit("c = a +  zzzzzz")
    #expect(s.errors.hasPrefix("<stdin>:3:10: error: name 'zzzzzz' is not defined\n  3 | c = a +  zzzzzz\n"))
    #expect(s.session.inputCount == 3)
  }

  @Test func lastResultIsUnderscore() {
    let s = SessionRecorder()
    s.submit("6 * 7")
    #expect(s.printed("_ + 1") == "43\n")
  }

  @Test func saveThenRunReproducesThePrintedOutput() throws {
    let dir = try temporaryDirectory()
    let s = SessionRecorder()
    let inputs = [
      "import numpy as np",
      ":engine reference",
      "u = np.random.rand(3)",  // drawn from the initial seed 0
      "u",
      "w = np.random.randn(5) + undefined_name",  // fails: its draws are rolled back
      "v = np.random.randn(2, 3); v",
      "quiet = 5;",
      "alias x = Vi(2), y = Vj(2)",
      "np.random.seed(7)",
      "p = np.random.randn(20, 2)",
      "b = np.random.randn(20, 1)",
      "K = Genred(\"Exp(-SqDist(x, y)) * b\", [\"x = Vi(2)\", \"y = Vj(2)\", \"b = Vj(1)\"], axis=1)",
      "print(K(p, p, b))",
      "Kinv = KernelSolve(\"Exp(-SqDist(x, y)) * b\", [\"x = Vi(2)\", \"y = Vj(2)\", \"b = Vj(1)\"], \"b\", axis=1)",
      "a = Kinv(p, p, b, alpha=0.5)",
      "print(a)",
      "total = 0\nfor k in range(4):\n    total += k\n",
      "print(\"total\", total, quiet)",
      "_",
    ]
    var printed = ""
    for input in inputs { printed += s.printed(input) }
    #expect(s.errors.contains("undefined_name"))
    #expect(s.status.hasPrefix("Direct (Cholesky, 20 x 20) solved, rms "))  // auto factors small systems
    let path = dir + "/session.ks"
    #expect(s.printed(":save \(path)") == "saved 20 statements to \(path)\n")

    let saved = try String(contentsOfFile: path, encoding: .utf8)
    #expect(saved.contains("np.random.seed(0)\n"))
    #expect(saved.contains("# failed: w = np.random.randn(5) + undefined_name\n"))
    #expect(saved.contains("alias x = Vi(2), y = Vj(2)\n"))
    #expect(saved.contains(":engine reference\n"))
    #expect(saved.contains("quiet = 5;\n"))

    let replay = try runKS(["run", path])
    #expect(replay.status == 0)
    #expect(replay.stdout == printed)
    #expect(replay.stderr.hasPrefix("Direct (Cholesky, 20 x 20) solved, rms "))
  }

  @Test func metaCommands() throws {
    let s = SessionRecorder()
    s.submit("import numpy as np")
    s.submit("x = np.random.randn(1000, 3)")
    s.submit("n = 3")
    s.submit("alias p = Vi(3), q = Vj(3)")
    #expect(s.printed(":history 2") == "4  alias p = Vi(3), q = Vj(3)\n5  :history 2\n")
    let vars = s.printed(":vars")
    #expect(vars.contains("name  type     shape      dtype      memory\n"))
    #expect(vars.contains("x     ndarray  (1000, 3)  float64  23.4 KiB\n"))
    #expect(vars.contains("n     int\n"))
    #expect(s.printed(":aliases") == "alias p = Vi(3)\nalias q = Vj(3)\n")
    #expect(s.printed(":help SqDist").contains("SqDist(f, g)\n      squared distance"))
    #expect(s.printed(":help LogSumExp").contains("reduction_op=\"LogSumExp\""))
    #expect(s.printed(":help KernelSolve").contains("conjugate gradient"))
    #expect(s.printed(":time m = n * 2").hasPrefix("time: "))
    #expect(s.printed("m") == "6\n")
    #expect(s.printed(":engine reference") == "engine: reference\n")
    #expect(s.submit(":engine warp") == .failed)
    #expect(s.errors.contains("unknown engine 'warp'"))
    #expect(s.printed(":set progress 10") == "progress: every 10 iterations\n")
    #expect(s.session.progressEvery == 10)
    #expect(s.submit(":nope") == .failed)
    #expect(s.errors.contains("unknown meta-command ':nope'"))
    #expect(s.printed(":reset").hasPrefix("session reset"))
    #expect(s.printed(":vars") == "no variables\n")
    #expect(s.submit(":quit") == .quit)
    #expect(s.session.quitRequested)
  }

  @Test func helpAloneIsAShortOverviewAndTopicsListEverything() {
    let s = SessionRecorder()
    let overview = s.printed(":help")
    #expect(overview.split(separator: "\n").count < 40, "the overview is short")
    for topic in ["builtins", "numpy", "operations", "reductions", "commands", "lazytensor"] {
      #expect(overview.contains(":help \(topic)"), "\(topic) is missing from the overview")
    }
    let lists = [":help builtins", ":help numpy", ":help operations", ":help reductions", ":help commands", ":help lazytensor"]
      .map { s.printed($0) }.joined()
    for name in ["SqDist(f, g)", "Exp(f)", "Pow(f, m)", "LogSumExp", "ArgKMin", "print(", "Genred(", "np.random.randn(", ":vars", "sqnorm2"] {
      #expect(lists.contains(name), "\(name) is missing from the help topics")
    }
    #expect(s.submit(":help Sqdist") == .failed)
    #expect(s.errors.contains("did you mean 'SqDist'?"))
  }

  @Test func everyCallableGlobalAndModuleMemberHasOneDoc() {
    let libraries = Session.installed
    var missing: [String] = []
    var callables: [(String, Value)] = libraries.globalNames.compactMap { n in libraries.global(n).map { (n, $0) } }
    for module in libraries.modules.keys {
      for name in libraries.memberNames(of: module) {
        if let v = libraries.member(of: module, name) { callables.append((module + "." + name, v)) }
      }
    }
    var count = 0
    for (name, value) in callables {
      if case .builtin(let b) = value {
        count += 1
        guard let doc = b.doc else { missing.append(name); continue }
        if doc.signature.isEmpty || doc.summary.isEmpty || doc.example.isEmpty || doc.summary.contains("no description") {
          missing.append(name)
        }
      } else if case .object(let f as FunctionValue) = value, f.docstring == nil {
        missing.append(name)
      }
    }
    #expect(count > 200)
    #expect(missing.isEmpty, "no doc: \(missing.sorted())")
    let s = SessionRecorder()
    s.session.helpWidth = { 10_000 }
    let listed = [":help builtins", ":help numpy"].map { s.printed($0) }.joined()
    #expect(!listed.contains("(...)"))
    let signatures = listed.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("      ") }
    #expect(signatures.count > 200)
    let duplicates = Dictionary(grouping: signatures, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
    #expect(duplicates.isEmpty, "listed twice: \(duplicates)")
  }

  @Test func helpOfValuesAndQuestionMark() {
    let s = SessionRecorder()
    #expect(s.printed("help(np.zeros)") == "  np.zeros(shape, dtype=float64)\n      an array of zeros; e.g. np.zeros((3, 2))\n")
    #expect(s.printed("?np.zeros") == "  np.zeros(shape, dtype=float64)\n      an array of zeros; e.g. np.zeros((3, 2))\n")
    #expect(s.printed("?  len").contains("len(obj)\n      number of items"))
    #expect(s.printed("help(len)").contains("len(obj)"))
    let linalg = s.printed("help(np.linalg)")
    #expect(linalg.contains("np.linalg.norm(") && linalg.contains("np.linalg.solve("))
    s.submit("def f(a, b=2):\n    \"\"\"Adds b to a.\"\"\"\n    return a + b\n")
    #expect(s.printed("help(f)") == "  f(a, b=2)\n      Adds b to a.\n")
    s.submit("x = LazyTensor(np.zeros((3, 1, 2)))")
    let methods = s.printed("help(x)")
    #expect(methods.contains("Methods of a LazyTensor") && methods.contains("sqnorm2") && methods.contains("logsumexp"))
    s.session.helpWidth = { 200 }
    #expect(s.printed(":help KernelSolve").contains("maxiter=10000, precond='auto', method='auto'"))
    #expect(s.submit("?nosuchthing") == .failed)
    #expect(s.errors.contains("no help for 'nosuchthing'"))
  }

  @Test func helpWrapsToTheWidth() {
    let s = SessionRecorder()
    for width in [40, 60, 100] {
      s.session.helpWidth = { width }
      let text = s.printed(":help KernelSolve") + s.printed("help(np.linalg.norm)") + s.printed(":help")
      let lines = text.split(separator: "\n")
      #expect(lines.allSatisfy { $0.count <= width || !$0.contains(" ") }, "a line is wider than \(width)")
      #expect(lines.contains { $0.count > width - 20 }, "lines fill the width")
    }
    s.session.helpWidth = { 40 }
    #expect(
      s.printed("help(np.linalg.norm)")
        == "  np.linalg.norm(x, ord=None, axis=None,\n      keepdims=False)\n      vector or matrix norm (Euclidean /\n"
        + "        Frobenius by default); e.g.\n        np.linalg.norm(a - b)\n")
  }

  @Test func timeReportsErrorsInTheTypedLine() {
    let s = SessionRecorder()
    #expect(s.submit(":time y = 1 + missing") == .failed)
    #expect(s.errors.contains("<stdin>:1:15: error: name 'missing' is not defined\n  1 | :time y = 1 + missing\n"))
  }

  @Test func readEchoesAndLogRecords() throws {
    let dir = try temporaryDirectory()
    try "a = 2\nprint(a * 21)\n".write(toFile: dir + "/part.ks", atomically: true, encoding: .utf8)
    let s = SessionRecorder()
    s.submit(":log \(dir)/log.ks")
    #expect(s.printed(":read \(dir)/part.ks") == "ks> a = 2\nks> print(a * 21)\n42\n")
    s.submit("a + 1")
    s.submit(":log off")
    let log = try String(contentsOfFile: dir + "/log.ks", encoding: .utf8)
    #expect(log == "# logging inputs and outputs to \(dir)/log.ks\n:read \(dir)/part.ks\n# ks> a = 2\n# ks> print(a * 21)\n# 42\na + 1\n# 3\n:log off\n")
    // The statements :read ran are saved, not the :read itself.
    #expect(s.session.savedScript().contains("a = 2\nprint(a * 21)\na + 1\n"))
  }

  @Test func progressLinesEveryNIterationsWithoutATerminal() {
    let s = SessionRecorder()
    s.submit(":set progress 2")
    s.submit("import numpy as np")
    s.submit("p = np.random.randn(30, 2)")
    s.submit("b = np.random.randn(30, 1)")
    s.submit("Kinv = KernelSolve(\"Exp(-SqDist(x, y)) * b\", [\"x = Vi(2)\", \"y = Vj(2)\", \"b = Vj(1)\"], \"b\", axis=1)")
    #expect(s.submit("a = Kinv(p, p, b, alpha=0.1, precond=None)") == .ok)
    #expect(s.status.hasPrefix("CG iteration 2: rms "))
    #expect(s.status.contains("\nCG converged in "))
    s.status = ""
    #expect(s.submit("a = Kinv(p, p, b, alpha=0.1, precond=\"nystrom\", method=\"cg\", centres=5)") == .ok)
    #expect(s.status.hasPrefix("PCG (Nyström, 5 centres) iteration 2: rms "), "\(s.status)")
    #expect(s.status.contains("\nPCG (Nyström, 5 centres) converged in "))
    #expect(s.submit("print(_last_solve[\"method\"], len(_last_solve[\"residuals\"]) == _last_solve[\"iterations\"] + 1)") == .ok)
    // One process: no rank count in the summary.
    #expect(!s.status.contains("ranks"))
  }

  /// Under mpirun the summary names the ranks that took part; one process says nothing of them.
  @Test func solverSummaryNamesTheRanks() {
    var report = SolveReport(iterations: 12, rmsResidual: 8.1e-7, elapsed: 0.41, converged: true)
    #expect(Session.summary(of: report) == "CG converged in 12 iterations, rms 8.1e-07, 0.41 s")
    report.ranks = 3
    #expect(Session.summary(of: report) == "CG converged in 12 iterations, rms 8.1e-07, 0.41 s on 3 ranks")
    report.note = "N = 30 is small"
    #expect(Session.summary(of: report) == "CG converged in 12 iterations, rms 8.1e-07, 0.41 s on 3 ranks (N = 30 is small)")
  }
}
