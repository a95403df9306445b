import Foundation
import KSShell
import ShellRuntime
import Testing

// Notebooks: what the session records of each statement, the .ipynb and .md files `:export` and
// `ks run --notebook` write, nbformat's validator on them, and a replay of their code cells.

/// A figure a test library "shows": what a plotting library sends when `plt.show()` runs.
private let testFigure = DisplayData(data: [
  "image/svg+xml": "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><title>fit</title><path d=\"M0 20L40 0\"/></svg>\n",
  "image/png": Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).base64EncodedString(),
  "text/plain": "<Figure size 40x20 with 1 Axes>",
])

/// `show_test_figure()`: sends `testFigure` through the interpreter's events, as `plt.show()` does.
private let figureLibrary = ShellLibrary(globals: [
  "show_test_figure": Builtins.anyFn("show_test_figure") { ctx in
    try ctx.finish(maxPositional: 0)
    ctx.interpreter.events?(testFigure)
    return .none
  }
])

/// A session with the test figure library, and what it wrote to each stream.
private final class NotebookSession {
  var output = ""
  var errors = ""
  var status = ""
  private(set) var session: Session!

  init() {
    session = Session(
      output: { [unowned self] in output += $0 }, errors: { [unowned self] in errors += $0 },
      status: { [unowned self] in status += $0 }, extraLibraries: [figureLibrary])
  }

  @discardableResult
  func submit(_ text: String) -> SessionOutcome { session.submit(text) }
}

private func temporaryDirectory() throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("ks-notebook-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Parses a notebook file with Foundation's JSON parser.
private func parseNotebook(_ path: String) throws -> [String: Any] {
  let data = try Data(contentsOf: URL(fileURLWithPath: path))
  return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

private func cells(_ notebook: [String: Any]) -> [[String: Any]] { notebook["cells"] as? [[String: Any]] ?? [] }

/// A cell's source, or an output's text, joined (Jupyter stores them as lists of lines).
private func joined(_ value: Any?) -> String {
  if let s = value as? String { return s }
  return (value as? [String])?.joined() ?? ""
}

private func codeCells(_ notebook: [String: Any]) -> [[String: Any]] {
  cells(notebook).filter { $0["cell_type"] as? String == "code" }
}

/// Validates a notebook with nbformat's validator (python3 -m pip install nbformat), checks that
/// the file is byte for byte what `nbformat.write` would write for it, and returns
/// one line per cell: its type and its outputs' types, e.g. `code stream,execute_result`. A missing
/// nbformat fails the test: CI installs it (scripts/install-deps.sh).
private func validateWithNbformat(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String]? {
  guard let (ok, stdout, stderr) = runNbformat(path, sourceLocation: sourceLocation) else { return nil }
  guard ok else {
    Issue.record(
      "nbformat rejected \(path) (or is not installed: python3 -m pip install nbformat):\n\(stderr)", sourceLocation: sourceLocation)
    return nil
  }
  return stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
}

/// Runs nbformat's validator on a file: whether it passed, its output and its errors; nil (with an
/// issue) when python3 cannot be started.
private func runNbformat(_ path: String, sourceLocation: SourceLocation) -> (Bool, String, String)? {
  let check = """
    import sys
    import nbformat
    nb = nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.nbformat_minor == 5, (nb.nbformat, nb.nbformat_minor)
    with open(sys.argv[1], encoding="utf-8") as f:
        assert f.read() == nbformat.writes(nb) + "\\n", "not written byte for byte as nbformat.write writes it"
    for cell in nb.cells:
        print(cell.cell_type, ",".join(o.output_type for o in cell.get("outputs", [])))
    """
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3", "-c", check, path]
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  do {
    try process.run()
  } catch {
    Issue.record("python3 with nbformat is required to validate notebooks but could not be started: \(error)", sourceLocation: sourceLocation)
    return nil
  }
  let stdout = out.fileHandleForReading.readDataToEndOfFile()
  let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  return (process.terminationStatus == 0, String(decoding: stdout, as: UTF8.self), stderr)
}

@Suite struct NotebookTests {
  // MARK: Recording

  @Test func eachStatementKeepsItsOutputsByKind() throws {
    let s = NotebookSession()
    s.submit("x = np.arange(3)")
    s.submit("print('sum', x.sum())\nx * 2")
    s.submit("show_test_figure()")
    s.submit("y = x + undefined_name")
    s.submit("x.sum();")
    let records = s.session.recorded
    #expect(records.map(\.text) == ["x = np.arange(3)", "print('sum', x.sum())", "x * 2", "show_test_figure()", "y = x + undefined_name", "x.sum();"])
    #expect(records[0].outputs.isEmpty)
    #expect(records[1].outputs == [.printed("sum 3\n")])
    #expect(records[2].outputs == [.value("array([0, 2, 4])\n")])
    #expect(records[3].outputs == [.display(testFigure.data)])
    guard case .error(let type, let message, let rendered)? = records[4].outputs.first else {
      Issue.record("no error output: \(records[4].outputs)")
      return
    }
    #expect(type == "NameError")
    #expect(message == "name 'undefined_name' is not defined")
    #expect(rendered.hasPrefix("<stdin>:4:9: error: name 'undefined_name' is not defined\n  4 | y = x + undefined_name\n"))
    #expect(!records[4].succeeded)
    #expect(records[5].outputs.isEmpty)  // quiet: no value
    // The streams still got everything, the echoed value included.
    #expect(s.output == "sum 3\narray([0, 2, 4])\n")
  }

  @Test func solverSummariesAreStatusOutputs() throws {
    let s = NotebookSession()
    s.submit("p = np.random.randn(30, 2); b = np.random.randn(30, 1)")
    s.submit("Kinv = KernelSolve(\"Exp(-SqDist(x, y)) * b\", [\"x = Vi(2)\", \"y = Vj(2)\", \"b = Vj(1)\"], \"b\", axis=1)")
    s.submit("a = Kinv(p, p, b, alpha=0.5)")
    let solve = try #require(s.session.recorded.last)
    guard case .status(let line)? = solve.outputs.first else {
      Issue.record("no status output: \(solve.outputs)")
      return
    }
    #expect(line == s.status)
    #expect(line.hasPrefix("Direct (Cholesky, 30 x 30) solved, rms "))
  }

  @Test func commentsAboveStatementsAndAtLineEndsAreKept() throws {
    let s = NotebookSession()
    let script = """
      #!/usr/bin/env ks
      # Fit a curve
      # to *noisy* data.

      # ==========
      x = 1  # the count
      y = 2; z = 3
      # The end.
      """
    #expect(s.session.run(.init(name: "fit.ks", text: script)) == .ok)
    let notebook = s.session.notebook(sourceName: "fit.ks")
    let expected: [Notebook.Cell] = [
      .markdown("Fit a curve\nto *noisy* data."),
      .code("x = 1  # the count", executionCount: 1, outputs: [], failed: false),
      .code("y = 2;", executionCount: 2, outputs: [], failed: false),
      .code("z = 3", executionCount: 3, outputs: [], failed: false),
      .markdown("The end."),
    ]
    #expect(Array(notebook.cells.dropFirst()) == expected)
    // A comment typed alone at the prompt is a markdown cell too.
    s.submit("# Now the solve.")
    #expect(s.session.notebook().cells.last == .markdown("Now the solve."))
    // `:save` is unchanged: statements only.
    #expect(s.session.savedScript().hasSuffix("np.random.seed(0)\nx = 1\ny = 2;\nz = 3\n"))
  }

  @Test func metaCommandsBecomeCommentedCellsAndSetBecomesSetPrintoptions() throws {
    let s = NotebookSession()
    s.submit("x = np.array([1.0, 2.0]) / 3")
    s.submit(":set precision 3 suppress True")
    s.submit(":vars")
    s.submit(":engine")
    s.submit(":time y = x * 2")
    s.submit(":save /nonexistent-dir/never.ks")  // not part of the notebook
    let cells = s.session.notebook().cells.dropFirst()
    guard cells.count == 5 else {
      Issue.record("expected 5 cells: \(cells)")
      return
    }
    #expect(cells[cells.startIndex + 1] == .code("np.set_printoptions(precision=3, suppress=True)", executionCount: 2, outputs: [], failed: false))
    guard case .code(let vars, 3, let varsOutputs, false) = cells[cells.startIndex + 2], case .printed(let table)? = varsOutputs.first
    else {
      Issue.record("bad :vars cell: \(cells[cells.startIndex + 2])")
      return
    }
    #expect(vars == "# ks: :vars")
    #expect(table.hasPrefix("name  type     shape  dtype    memory\nx     ndarray  (2,)   float64"))
    #expect(cells[cells.startIndex + 3] == .code("# ks: :engine", executionCount: 4, outputs: [.printed("engine: auto\n")], failed: false))
    guard case .code("y = x * 2", 5, let timed, false) = cells[cells.startIndex + 4], case .printed(let time)? = timed.first else {
      Issue.record("bad :time cell: \(cells[cells.startIndex + 4])")
      return
    }
    #expect(time.hasPrefix("time: "))
  }

  @Test func readGivesTheCellsOfItsFileAndSyntaxErrorsAreErrorOutputs() throws {
    let dir = try temporaryDirectory()
    try "# From the file.\nr = 2\nr * 3\n".write(toFile: dir + "/part.ks", atomically: true, encoding: .utf8)
    try "r = (1,\n".write(toFile: dir + "/broken.ks", atomically: true, encoding: .utf8)
    let s = NotebookSession()
    s.submit(":read \(dir)/part.ks")
    s.submit(":read \(dir)/broken.ks")
    s.submit("q = 1 +* 2")
    let cells = Array(s.session.notebook().cells.dropFirst())
    guard cells.count == 5 else {
      Issue.record("expected 5 cells: \(cells)")
      return
    }
    // The echo `ks> r = 2` that :read prints is not an output of the cell.
    #expect(cells[0] == .markdown("From the file."))
    #expect(cells[1] == .code("r = 2", executionCount: 1, outputs: [], failed: false))
    #expect(cells[2] == .code("r * 3", executionCount: 2, outputs: [.value("6\n")], failed: false))
    guard case .code("# ks: :read \(dir)/broken.ks", 3, let readOutputs, true) = cells[3],
      case .error("SyntaxError", _, let rendered)? = readOutputs.first
    else {
      Issue.record("bad :read cell: \(cells[3])")
      return
    }
    #expect(rendered.hasPrefix("\(dir)/broken.ks:"))
    guard case .code("q = 1 +* 2", 4, let outputs, true) = cells[4], case .error("SyntaxError", let message, _)? = outputs.first else {
      Issue.record("bad syntax error cell: \(cells[4])")
      return
    }
    #expect(!message.isEmpty)
  }

  // MARK: Files

  @Test func exportedNotebookValidatesAndHoldsEveryKindOfOutput() throws {
    let dir = try temporaryDirectory()
    let s = NotebookSession()
    s.session.color = true  // the terminal's colors must not reach the file
    s.submit("# Data")
    s.submit("x = np.linspace(0, 1, 3)")
    s.submit("print('mean', x.mean())")
    s.submit("x")
    s.submit("show_test_figure()")
    s.submit("x[7]")
    #expect(s.errors.contains("\u{1B}["))
    let path = dir + "/session.ipynb"
    #expect(s.submit(":export \(path)") == .ok)
    #expect(s.output.hasSuffix("exported 7 cells to \(path)\n"))
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(!text.contains("\u{1B}"))
    #expect(!text.contains("\\u001b"))

    let shape = try #require(validateWithNbformat(path))
    #expect(shape == ["code", "markdown", "code", "code stream", "code execute_result", "code display_data", "code error"])

    // The same file through Foundation's JSON parser.
    let notebook = try parseNotebook(path)
    #expect(notebook["nbformat"] as? Int == 4)
    #expect(notebook["nbformat_minor"] as? Int == 5)
    let metadata = try #require(notebook["metadata"] as? [String: Any])
    #expect((metadata["kernelspec"] as? [String: Any])?["name"] as? String == "python3")
    #expect((metadata["language_info"] as? [String: Any])?["name"] as? String == "python")
    let all = cells(notebook)
    #expect(Set(all.compactMap { $0["id"] as? String }).count == all.count)
    #expect(joined(all[1]["source"]) == "Data")
    let code = codeCells(notebook)
    #expect(code.map { $0["execution_count"] as? Int } == [nil, 1, 2, 3, 4, 5])
    #expect(joined(code[1]["source"]) == "x = np.linspace(0, 1, 3)")
    let printed = try #require((code[2]["outputs"] as? [[String: Any]])?.first)
    #expect(printed["name"] as? String == "stdout")
    #expect(joined(printed["text"]) == "mean 0.5\n")
    let result = try #require((code[3]["outputs"] as? [[String: Any]])?.first)
    #expect(result["execution_count"] as? Int == code[3]["execution_count"] as? Int)
    #expect(joined((result["data"] as? [String: Any])?["text/plain"]) == "array([0. , 0.5, 1. ])")
    let figure = try #require((code[4]["outputs"] as? [[String: Any]])?.first)
    let data = try #require(figure["data"] as? [String: Any])
    #expect(joined(data["image/svg+xml"]) == testFigure.data["image/svg+xml"])
    #expect(data["image/png"] as? String == testFigure.data["image/png"])
    #expect(joined(data["text/plain"]) == "<Figure size 40x20 with 1 Axes>")
    let error = try #require((code[5]["outputs"] as? [[String: Any]])?.first)
    #expect(error["ename"] as? String == "IndexError")
    #expect((error["evalue"] as? String)?.contains("index 7 is out of bounds") == true)
    let traceback = try #require(error["traceback"] as? [String])
    // The comment typed alone is not an input: `x[7]` was input 5.
    #expect(traceback == ["<stdin>:5:3: error: index 7 is out of bounds for axis 0 with size 3", "  5 | x[7]", "    |   ^"])
    #expect((code[5]["metadata"] as? [String: Any])?["tags"] as? [String] == ["raises-exception"])
  }

  @Test func theValidatorRejectsABrokenNotebook() throws {
    // The check above is not vacuous: nbformat refuses a cell id with a space, and an
    // execute_result without its execution count.
    let dir = try temporaryDirectory()
    let s = NotebookSession()
    s.submit("1 + 1")
    s.submit(":export \(dir)/good.ipynb")
    let good = try String(contentsOfFile: dir + "/good.ipynb", encoding: .utf8)
    #expect(validateWithNbformat(dir + "/good.ipynb") == ["code", "code execute_result"])
    for (name, broken) in [
      ("id", good.replacingOccurrences(of: "\"cell-2\"", with: "\"cell 2\"")),
      ("count", good.replacingOccurrences(of: "\"execution_count\": 1,\n     \"metadata\"", with: "\"metadata\"")),
    ] {
      #expect(broken != good)
      try broken.write(toFile: dir + "/\(name).ipynb", atomically: true, encoding: .utf8)
      let (ok, _, stderr) = try #require(runNbformat(dir + "/\(name).ipynb", sourceLocation: #_sourceLocation))
      #expect(!ok)
      #expect(stderr.contains("ValidationError"))
    }
    // A valid notebook laid out otherwise than nbformat writes it (keys unsorted) is refused too.
    let unsorted = good.replacingOccurrences(of: "\"nbformat\": 4,\n \"nbformat_minor\": 5", with: "\"nbformat_minor\": 5,\n \"nbformat\": 4")
    #expect(unsorted != good)
    try unsorted.write(toFile: dir + "/unsorted.ipynb", atomically: true, encoding: .utf8)
    let (ok, _, stderr) = try #require(runNbformat(dir + "/unsorted.ipynb", sourceLocation: #_sourceLocation))
    #expect(!ok)
    #expect(stderr.contains("not written byte for byte as nbformat.write writes it"))
  }

  @Test func markdownExportWritesFiguresBesideIt() throws {
    let dir = try temporaryDirectory()
    let s = NotebookSession()
    s.submit("# A figure")
    s.submit("print('before')\nshow_test_figure()")
    s.submit("np.zeros(2)")
    #expect(s.submit(":export \(dir)/notes.md") == .ok)
    #expect(s.output.hasSuffix("exported 5 cells to \(dir)/notes.md and 1 figure to notes_files/\n"))
    let markdown = try String(contentsOfFile: dir + "/notes.md", encoding: .utf8)
    #expect(markdown.contains("""
      A figure

      ```python
      print('before')
      ```

      ```text
      before
      ```

      ```python
      show_test_figure()
      ```

      ![<Figure size 40x20 with 1 Axes>](notes_files/figure-1.svg)

      ```python
      np.zeros(2)
      ```

      ```text
      array([0., 0.])
      ```

      """))
    let svg = try String(contentsOfFile: dir + "/notes_files/figure-1.svg", encoding: .utf8)
    #expect(svg == testFigure.data["image/svg+xml"])
  }

  @Test func exportErrorsNameTheProblemAndWriteNothing() throws {
    let dir = try temporaryDirectory()
    let s = NotebookSession()
    s.submit("x = 1")
    #expect(s.submit(":export \(dir)/notes.txt") == .failed)
    #expect(s.errors.contains("cannot tell the format of '\(dir)/notes.txt': name it .ipynb (Jupyter) or .md (Markdown)"))
    #expect(s.submit(":export \(dir)/missing/notes.ipynb") == .failed)
    #expect(s.errors.contains("\(dir)/missing/notes.ipynb"))
    #expect(s.submit(":export") == .failed)
    #expect(s.errors.contains("usage: :export FILE.ipynb | FILE.md"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    // Failed exports are not cells of a later export.
    #expect(s.session.notebook().cells.count == 2)
  }

  @Test func helpDescribesExport() throws {
    let s = NotebookSession()
    s.submit(":help export")
    #expect(s.output.contains(":export FILE.ipynb | FILE.md"))
    #expect(s.output.contains("Jupyter"))
  }

  // MARK: The teaching demos

  static let sessions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("sessions")

  static var demos: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: sessions.path)) ?? []).filter { $0.hasSuffix(".ks") }.sorted()
  }

  /// Every demo in sessions/ exports a notebook that nbformat validates and whose outputs are,
  /// in order, exactly what the session printed and its solver summaries.
  @Test(arguments: demos)
  func everyDemoExportsAValidNotebookHoldingWhatItPrinted(_ name: String) throws {
    let dir = try temporaryDirectory()
    let s = NotebookSession()
    let text = try String(contentsOf: Self.sessions.appendingPathComponent(name), encoding: .utf8)
    #expect(s.session.run(.init(name: name, text: text)) == .ok)
    let notebook = s.session.notebook(sourceName: name)
    var printed = ""
    var status = ""
    var markdown = 0
    for cell in notebook.cells {
      switch cell {
      case .markdown: markdown += 1
      case .code(_, _, let outputs, let failed):
        #expect(!failed)
        for output in outputs {
          switch output {
          case .printed(let t), .value(let t): printed += t
          case .status(let t): status += t
          default: Issue.record("unexpected output \(output)")
          }
        }
      }
    }
    #expect(printed == s.output)
    #expect(status == s.status)
    #expect(markdown > 0, "the demos are commented")
    let path = dir + "/" + name.replacingOccurrences(of: ".ks", with: ".ipynb")
    try notebook.ipynb().write(toFile: path, atomically: true, encoding: .utf8)
    let shape = try #require(validateWithNbformat(path))
    #expect(shape.count == notebook.cells.count)
  }

  // MARK: ks run --notebook

  @Test func runWritesANotebookThatReplaysToTheSameOutputs() throws {
    let dir = try temporaryDirectory()
    let script = dir + "/fit.ks"
    try """
      # Kernel ridge regression on a small problem.
      np.random.seed(3)
      x = np.random.rand(40, 1)
      b = np.sin(6 * x) + 0.1 * np.random.randn(40, 1)
      :set precision 4
      Kinv = KernelSolve("Exp(-SqDist(x, y) * g) * b", ["x = Vi(1)", "y = Vj(1)", "b = Vj(1)", "g = Pm(1)"], "b", axis=1)
      a = Kinv(x, x, b, np.array([20.0]), alpha=0.1)

      # The fit at three points.
      K = Genred("Exp(-SqDist(x, y) * g) * a", ["x = Vi(1)", "y = Vj(1)", "a = Vj(1)", "g = Pm(1)"], axis=1)
      t = np.array([[0.1], [0.5], [0.9]])
      K(t, x, a, np.array([20.0]))
      for k in range(2):
          print("point", k, t[k, 0])
      :engine
      bad = a + missing_name
      print("after the error")
      """.write(toFile: script, atomically: true, encoding: .utf8)
    let first = try KSProcess.run(["run", script, "--keep-going", "--notebook", dir + "/fit.ipynb"])
    #expect(first.status == 1)
    #expect(first.stderr.hasSuffix("exported 16 cells to \(dir)/fit.ipynb\n"))
    #expect(first.stdout.contains("point 1 0.5\n"))
    let shape = try #require(validateWithNbformat(dir + "/fit.ipynb"))
    #expect(shape.filter { $0 == "markdown" }.count == 2)
    #expect(shape.filter { $0.hasPrefix("code") }.map { $0.dropFirst(4).trimmingCharacters(in: .whitespaces) } == [
      "", "", "", "", "", "", "stream", "", "", "execute_result", "stream", "stream", "error", "stream",
    ])

    // Replay: the code cells in order, meta-commands uncommented, run by ks again.
    let notebook = try parseNotebook(dir + "/fit.ipynb")
    let code = codeCells(notebook)
    let replay = code.map { cell -> String in
      joined(cell["source"]).split(separator: "\n", omittingEmptySubsequences: false).map { line in
        line.hasPrefix(Notebook.commandPrefix) ? String(line.dropFirst(Notebook.commandPrefix.count)) : String(line)
      }.joined(separator: "\n")
    }.joined(separator: "\n")
    try replay.write(toFile: dir + "/replay.ks", atomically: true, encoding: .utf8)
    let second = try KSProcess.run(["run", dir + "/replay.ks", "--keep-going", "--notebook", dir + "/replay.ipynb"])
    #expect(second.status == 1)
    // `:set precision 4` became `np.set_printoptions(precision=4)`, which prints nothing.
    #expect(second.stdout == first.stdout.replacingOccurrences(of: "precision: 4\n", with: ""))
    // The replay's cells: its own setup cell, the three statements of the first run's setup cell,
    // then the same code cells with the same outputs (errors compared by class and message: their
    // file and line differ; times masked).
    let replayed = codeCells(try parseNotebook(dir + "/replay.ipynb"))
    #expect(replayed.count == code.count + 3)
    #expect(replayed[1...3].allSatisfy { ($0["outputs"] as? [Any])?.isEmpty == true })
    let original = code.dropFirst()
    #expect(original.count == 13)
    for (a, b) in zip(original, replayed.suffix(original.count)) {
      #expect(joined(a["source"]) == joined(b["source"]))
      #expect(comparable(a["outputs"]) == comparable(b["outputs"]), "cell \(joined(a["source"]))")
    }
    let solve = code.first { joined($0["source"]).hasPrefix("a = Kinv") }
    #expect(comparable(solve?["outputs"]).first?.hasPrefix("stderr: Direct (Cholesky, 40 x 40) solved, rms ") == true)
  }

  /// The issue's end-to-end case: a kernel ridge script that plots its fit and shows it, run with
  /// `--notebook`, gives a notebook that nbformat validates, holding the printed line and the
  /// figure (SVG and PNG) as the display data of the `plt.show()` cell.
  @Test func kernelRidgeScriptWithAFigureRunsToANotebook() throws {
    let dir = try temporaryDirectory()
    try PlottingScriptTests.ridgeScript(in: dir).write(toFile: dir + "/ridge.ks", atomically: true, encoding: .utf8)
    let run = try KSProcess.run(["run", dir + "/ridge.ks", "--notebook", dir + "/ridge.ipynb"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("fit error True"))
    let shape = try #require(validateWithNbformat(dir + "/ridge.ipynb"))
    #expect(shape.contains { $0.contains("display_data") })
    let code = codeCells(try parseNotebook(dir + "/ridge.ipynb"))
    let printed = code.first { joined($0["source"]).hasPrefix("print(\"fit error\"") }
    let printedOutputs = printed?["outputs"] as? [[String: Any]] ?? []
    #expect(printedOutputs.contains { $0["output_type"] as? String == "stream" && joined($0["text"]) == "fit error True\n" })
    let show = try #require(code.first { joined($0["source"]) == "plt.show()" })
    let outputs = show["outputs"] as? [[String: Any]] ?? []
    #expect(outputs.count == 1, "only the figure: the 'not a terminal' line is not part of the notebook")
    let data = try #require(outputs.first?["data"] as? [String: Any])
    #expect(outputs.first?["output_type"] as? String == "display_data")
    #expect(joined(data["image/svg+xml"]).contains("<svg"))
    let png = Data(base64Encoded: joined(data["image/png"]).replacingOccurrences(of: "\n", with: "")) ?? Data()
    #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
    #expect(joined(data["text/plain"]) == "<Figure size 600x400 with 1 Axes>")
  }

  /// Outputs as comparable lines: times (`0.01 s`, `374 µs`) masked, errors by class and message,
  /// results without their execution count (the replay has 3 more cells before).
  private func comparable(_ outputs: Any?) -> [String] {
    (outputs as? [[String: Any]] ?? []).map { o in
      let text: String
      switch o["output_type"] as? String {
      case "stream": text = "\(o["name"] ?? ""): " + joined(o["text"])
      case "execute_result": text = "result: " + joined((o["data"] as? [String: Any])?["text/plain"])
      case "error": text = "error: \(o["ename"] ?? "") \(o["evalue"] ?? "")"
      default: text = "\(o)"
      }
      return text.replacingOccurrences(of: "[0-9.]+ (s|ms|µs)\\b", with: "TIME", options: .regularExpression)
    }
  }

  @Test func aStoppedScriptKeepsTheStatementsAfterTheFailureAsCellsNotRun() throws {
    let dir = try temporaryDirectory()
    let script = dir + "/stops.ks"
    try "x = 1\nprint(x + nothing)\n# later\ny = 2\nprint(y)\n# the end\n".write(toFile: script, atomically: true, encoding: .utf8)
    let run = try KSProcess.run(["run", script, "--notebook", dir + "/stops.md"])
    #expect(run.status == 1)
    #expect(run.stderr.contains("name 'nothing' is not defined"))
    let markdown = try String(contentsOfFile: dir + "/stops.md", encoding: .utf8)
    #expect(markdown.contains("""
      ```python
      print(x + nothing)
      ```

      ```text
      \(script):2:11: error: name 'nothing' is not defined
        2 | print(x + nothing)
          |           ^~~~~~~
      ```

      later

      ```python
      y = 2
      ```

      *(not run: the script stopped at an earlier error)*

      ```python
      print(y)
      ```

      *(not run: the script stopped at an earlier error)*

      the end

      """))
    let ipynb = try KSProcess.run(["run", script, "--notebook", dir + "/stops.ipynb"])
    #expect(ipynb.status == 1)
    let code = codeCells(try parseNotebook(dir + "/stops.ipynb"))
    #expect(code.map { $0["execution_count"] as? Int } == [nil, 1, 2, nil, nil])
    #expect(code.map { ($0["outputs"] as? [Any])?.count } == [0, 0, 1, 0, 0])
    #expect(validateWithNbformat(dir + "/stops.ipynb") != nil)
  }

  @Test func aReadFileThatFailsStopsTheScriptAndBothKeepTheirCellsNotRun() throws {
    let dir = try temporaryDirectory()
    try "u = 1\nu + nothing\nv = 2\n# end of part\n".write(toFile: dir + "/part.ks", atomically: true, encoding: .utf8)
    try "# Main\n:read \(dir)/part.ks\nprint('main')\n".write(toFile: dir + "/main.ks", atomically: true, encoding: .utf8)
    let run = try KSProcess.run(["run", dir + "/main.ks", "--notebook", dir + "/main.ipynb"])
    #expect(run.status == 1)
    #expect(validateWithNbformat(dir + "/main.ipynb") == ["code", "markdown", "code", "code error", "code", "markdown", "code"])
    let all = cells(try parseNotebook(dir + "/main.ipynb"))
    #expect(all.dropFirst().map { joined($0["source"]) } == ["Main", "u = 1", "u + nothing", "v = 2", "end of part", "print('main')"])
    #expect(all.map { $0["execution_count"] as? Int } == [nil, nil, 1, 2, nil, nil, nil])
  }

  @Test func pythonScriptsRecordValuesAsJupyterShowsThem() throws {
    let dir = try temporaryDirectory()
    let script = dir + "/values.py"
    try "import numpy as np\nx = np.arange(4)\nx.sum()\nprint(x[1])\n".write(toFile: script, atomically: true, encoding: .utf8)
    let run = try KSProcess.run(["run", script, "--notebook", dir + "/values.ipynb"])
    #expect(run.status == 0)
    #expect(run.stdout == "1\n")  // python does not print the value of `x.sum()`
    let code = codeCells(try parseNotebook(dir + "/values.ipynb"))
    let result = try #require((code[3]["outputs"] as? [[String: Any]])?.first)
    #expect(result["output_type"] as? String == "execute_result")
    #expect(joined((result["data"] as? [String: Any])?["text/plain"]) == "np.int64(6)")
  }

  @Test func notebookOptionIsCheckedAndDocumented() throws {
    let dir = try temporaryDirectory()
    let script = dir + "/s.ks"
    try "print(1)\n".write(toFile: script, atomically: true, encoding: .utf8)
    let bad = try KSProcess.run(["run", script, "--notebook", dir + "/out.json"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("--notebook \(dir)/out.json: name the file .ipynb (Jupyter) or .md (Markdown)"))
    #expect(bad.stdout.isEmpty)  // checked before the script runs
    let unwritable = try KSProcess.run(["run", script, "--notebook", dir + "/no/such/dir/out.ipynb"])
    #expect(unwritable.status == 2)
    #expect(unwritable.stdout == "1\n")
    #expect(unwritable.stderr.contains("ks: cannot write the notebook: "))
    let help = try KSProcess.run(["run", "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("--notebook <OUT>"))
    #expect(help.stdout.contains("Jupyter notebook"))
  }
}
