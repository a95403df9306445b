import Foundation
import ArrayIO
import KSDiagnostics
import KSShell
import ShellRuntime
import ShellSyntax
import Testing

/// The directory of the built products (`.build/<triple>/debug`), where `ks` is.
private func productPath(_ name: String) -> String {
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
}

/// Runs `ks arguments...` and returns its exit status and output.
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

/// `np.set_printoptions`, `np.get_printoptions` and `:set precision 4` (and friends): the print
/// options live in the session state, print as numpy prints under them, and survive `:save`.
@Suite("print options")
struct PrintOptionsTests {
  static let arrays = [
    "np.linspace(0, 1, 7)", "np.array([[1.23456, -2.5], [1e-5, 3.0]])", "np.array([1.0, 2.0, 3.0], dtype=np.float32) / 3",
    "np.arange(30)", "np.arange(30).reshape(5, 6) * 0.5", "np.arange(11.0)", "np.arange(2 * 3 * 6).reshape(2, 3, 6)",
    "np.linspace(0, 1, 12)", "np.arange(20).reshape(2, 10) * 1000", "np.array([1e-6, 1.0, 1e5])", "np.array([np.nan, 0.5, 2.25])",
    "np.array([1.5])", "np.float64(1.23456789)", "[np.array([0.5, 1.0 / 3])]", "np.get_printoptions()",
  ]

  @Test("np.set_printoptions prints as numpy: precision 3")
  func precision() {
    NumpyHarness.compare(setup: "np.set_printoptions(precision=3)", expressions: Self.arrays)
  }

  @Test("np.set_printoptions prints as numpy: threshold 10, edgeitems 2")
  func thresholdAndEdgeItems() {
    NumpyHarness.compare(setup: "np.set_printoptions(threshold=10, edgeitems=2)", expressions: Self.arrays)
  }

  @Test("np.set_printoptions prints as numpy: linewidth 40")
  func lineWidth() {
    NumpyHarness.compare(setup: "np.set_printoptions(linewidth=40)", expressions: Self.arrays)
  }

  @Test("np.set_printoptions prints as numpy: all at once, suppress, positional arguments")
  func combined() {
    NumpyHarness.compare(setup: "np.set_printoptions(3, 10, 2, 40)", expressions: Self.arrays)
    NumpyHarness.compare(setup: "np.set_printoptions(precision=4, suppress=True)", expressions: Self.arrays)
    NumpyHarness.compare(setup: "np.set_printoptions(edgeitems=0, threshold=5)", expressions: Self.arrays)
  }

  @Test("f-strings, str.format, str() and print use the options")
  func everyPrintingPath() {
    NumpyHarness.compare(
      setup: "np.set_printoptions(precision=2, linewidth=30)\na = np.linspace(0, 1, 9)",
      expressions: ["f'{a}'", "'{}'.format(a)", "'{!r}'.format(a)", "str(a)", "repr(a)", "(a, 1)", "{'a': a}"])
  }

  @Test(":set changes the options as np.set_printoptions does")
  func metaCommandMatchesNumpy() {
    let body = Self.arrays.map { "print(\($0))\nprint(repr(\($0)))\n" }.joined()
    guard
      let expected = NumpyHarness.python(
        "import numpy as np\nnp.set_printoptions(precision=3, threshold=10, edgeitems=2, linewidth=40)\n" + body)
    else { return }
    let run = NumpyHarness.ks(
      "import numpy as np\n:set precision 3\n:set threshold 10\n:set edgeitems=2 linewidth=40\n" + body)
    #expect(run.errors == "")
    #expect(run.output == "precision: 3\nthreshold: 10\nedgeitems: 2, linewidth: 40\n" + expected)
  }

  @Test(":set lists the options and the other settings")
  func listing() {
    let s = SessionRecorder()
    s.submit(":set precision 4")
    let listing = s.printed(":set")
    #expect(listing.contains("precision  4 "))
    #expect(listing.contains("threshold  1000 "))
    #expect(listing.contains("edgeitems  3 "))
    #expect(listing.contains("linewidth  75 "))
    #expect(listing.contains("suppress   False "))
    #expect(listing.contains("progress   0 "))
    #expect(listing.contains("engine     auto\n"))
  }

  @Test("bad values are refused with a caret on the value")
  func badValues() {
    let s = SessionRecorder()
    #expect(s.submit(":set precision -1") == .failed)
    #expect(s.errors.contains("error: precision must be a non-negative integer\n  1 | :set precision -1\n    |                ^~\n"))
    s.errors = ""
    #expect(s.submit(":set linewidth 0") == .failed)
    #expect(s.errors.contains("linewidth must be a positive integer"))
    #expect(s.submit(":set edgeitems lots") == .failed)
    #expect(s.errors.contains("edgeitems must be a non-negative integer"))
    #expect(s.submit(":set precison 3") == .failed)
    #expect(s.errors.contains("unknown setting 'precison'; did you mean 'precision'?"))
    #expect(s.submit(":set threshold") == .failed)
    #expect(s.errors.contains("usage: :set threshold N"))
    s.errors = ""
    s.submit("import numpy as np")
    #expect(s.submit("np.set_printoptions(precision=-1)") == .failed)
    #expect(s.errors.contains("precision must be a non-negative integer, not -1\n"))
    #expect(s.errors.contains("7 | np.set_printoptions(precision=-1)\n    |                     ^~~~~~~~~~~~\n"))
    #expect(s.submit("np.set_printoptions(precision=2.5)") == .failed)
    #expect(s.errors.contains("precision must be a non-negative integer, not float"))
    #expect(s.submit("np.set_printoptions(sign='+')") == .failed)
    #expect(s.errors.contains("ks does not support sign='+'"))
    #expect(s.submit("np.set_printoptions(nothing=1)") == .failed)
    #expect(s.errors.contains("unexpected keyword argument 'nothing'"))
    #expect(s.printed("np.get_printoptions()['precision'], np.get_printoptions()['linewidth']") == "(8, 75)\n")
  }

  @Test("a failed statement leaves the options unchanged")
  func rollback() {
    let s = SessionRecorder()
    s.submit("import numpy as np")
    s.submit("a = np.linspace(0, 1, 4)")
    let before = s.printed("a")
    #expect(s.submit("np.set_printoptions(precision=2) or undefined_name") == .failed)
    #expect(s.submit("for p in [2, -1]:\n    np.set_printoptions(precision=p)\n") == .failed)
    // Several settings on one line are all or nothing.
    #expect(s.submit(":set precision 2 threshold -5") == .failed)
    #expect(s.printed("a") == before)
    #expect(s.printed("np.get_printoptions()['precision']") == "8\n")
    #expect(s.session.interpreter.state.printOptions == PrintOptions.defaults)
    // Only the failed statement is undone.
    #expect(s.submit("np.set_printoptions(precision=2); undefined_name") == .failed)
    #expect(s.printed("a") == "array([0.  , 0.33, 0.67, 1.  ])\n")
  }

  @Test(":reset restores the default options")
  func reset() {
    let s = SessionRecorder()
    s.submit("import numpy as np")
    let before = s.printed("np.linspace(0, 1, 4)")
    s.submit(":set precision 2 threshold 3 edgeitems 1 linewidth 20 suppress True")
    #expect(s.printed("np.linspace(0, 1, 4)") != before)
    #expect(s.printed(":reset").contains("default print options"))
    #expect(s.session.interpreter.state.printOptions == PrintOptions.defaults)
    s.submit("import numpy as np")
    #expect(s.printed("np.linspace(0, 1, 4)") == before)
    #expect(!s.session.savedScript().contains(":set"))
  }

  @Test(":save keeps the options: ks run of the saved file prints the same")
  func saveAndReplay() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ks-printoptions-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let s = SessionRecorder()
    let inputs = [
      "import numpy as np",
      "a = np.arange(40) / 7",
      "a",
      ":set precision 3",
      "a",
      ":set precision -1",  // fails: nothing changes, nothing recorded
      ":set threshold=10 edgeitems=2",
      "print(a)",
      "np.set_printoptions(linewidth=40)",
      "np.set_printoptions(linewidth=0)",  // fails
      "a.reshape(5, 8)",
      "print(f'{a[:6]}')",
      "np.get_printoptions()",
    ]
    var printed = ""
    for input in inputs { printed += s.printed(input) }
    let path = dir + "/session.ks"
    #expect(s.printed(":save \(path)") == "saved 11 statements to \(path)\n")
    let saved = try String(contentsOfFile: path, encoding: .utf8)
    #expect(saved.contains("\n:set precision 3\n"))
    #expect(saved.contains("\n:set threshold 10 edgeitems 2\n"))
    #expect(saved.contains("\nnp.set_printoptions(linewidth=40)\n"))
    #expect(saved.contains("# failed: np.set_printoptions(linewidth=0)\n"))
    #expect(!saved.contains("precision -1"))

    let replay = try runKS(["run", path])
    #expect(replay.status == 0)
    #expect(replay.stderr == "")
    #expect(replay.stdout == printed)
  }
}
