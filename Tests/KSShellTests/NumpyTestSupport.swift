import Foundation
import KSDiagnostics
import KSShell
import ShellRuntime
import ShellSyntax
import Testing

/// Runs `.ks` scripts through the interpreter and the same text through python3 + numpy, so
/// tests can compare what both print.
enum NumpyHarness {
  /// What a script printed, and the rendered errors (the run goes on after a failed statement).
  struct Run {
    var output: String
    var errors: String
    var status: Int32
  }

  /// Runs `text` through a fresh interpreter.
  /// Runs `text` in a session; `onCallerThread` keeps task-local overrides visible to it.
  static func ks(_ text: String, keepGoing: Bool = true, onCallerThread: Bool = false) -> Run {
    var output = ""
    var errors = ""
    let session = Session(output: { output += $0 }, errors: { errors += $0 }, status: { _ in })
    if onCallerThread { session.interpreter.statementStackSize = nil }
    let status = session.run(SourceText(name: "test.ks", text: text), keepGoing: keepGoing).exitCode
    return Run(output: output, errors: errors, status: status)
  }

  /// Runs `text` with python3; nil (and a recorded issue) when python3 or numpy is missing.
  static func python(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", text]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do {
      try process.run()
    } catch {
      Issue.record(
        "python3 with numpy 2.x is required by the numpy comparison tests but could not be started: \(error)",
        sourceLocation: sourceLocation)
      return nil
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let stderr = String(decoding: errData, as: UTF8.self)
    if process.terminationStatus != 0 {
      Issue.record(
        "python3 with numpy 2.x is required by the numpy comparison tests (install numpy: pip install 'numpy>=2'); python3 failed:\n\(stderr)",
        sourceLocation: sourceLocation)
      return nil
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// The numpy version python3 sees, or nil (with a recorded issue) when unavailable.
  static func numpyVersion(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    python("import numpy; print(numpy.__version__)", sourceLocation: sourceLocation)?
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// One comparison: statements to run first, then an expression whose `str` and `repr` are
  /// compared.
  struct Case: CustomStringConvertible {
    var setup: String
    var expression: String

    var description: String { setup.isEmpty ? expression : "\(setup); \(expression)" }
  }

  /// Prints every case's `str` and `repr` in numpy and in ks and records each difference.
  static func compare(
    setup: String = "", _ cases: [Case], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    var lines = ["import numpy as np"]
    if !setup.isEmpty { lines.append(setup) }
    for (k, c) in cases.enumerated() {
      lines.append("print('@@\(k)')")
      if !c.setup.isEmpty { lines.append(c.setup) }
      lines.append("print(\(c.expression))")
      lines.append("print(repr(\(c.expression)))")
    }
    let script = lines.joined(separator: "\n") + "\n"
    guard let expected = python(script, sourceLocation: sourceLocation) else { return }
    let actual = ks(script)
    let want = split(expected), got = split(actual.output)
    var mismatches = 0
    for (k, c) in cases.enumerated() where want[k] != got[k] {
      mismatches += 1
      Issue.record(
        """
        ks differs from numpy for: \(c)
        --- numpy:
        \(want[k] ?? "<nothing>")
        --- ks:
        \(got[k] ?? "<nothing>")
        """, sourceLocation: sourceLocation)
    }
    if mismatches > 0 && !actual.errors.isEmpty {
      Issue.record("ks errors:\n\(actual.errors)", sourceLocation: sourceLocation)
    }
  }

  /// Cases from expressions without their own setup.
  static func compare(setup: String = "", expressions: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    compare(setup: setup, expressions.map { Case(setup: "", expression: $0) }, sourceLocation: sourceLocation)
  }

  /// The output of each case, keyed by its number.
  static func split(_ text: String) -> [Int: String] {
    var out: [Int: [Substring]] = [:]
    var current: Int?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("@@"), let k = Int(line.dropFirst(2)) {
        current = k
        out[k] = []
      } else if let c = current {
        out[c]?.append(line)
      }
    }
    return out.mapValues { $0.joined(separator: "\n").trimmingCharacters(in: .newlines) }
  }

  /// The first error message ks reports for `text` (the rendered diagnostic).
  static func error(_ text: String, onCallerThread: Bool = false) -> String {
    ks("import numpy as np\n" + text, keepGoing: false, onCallerThread: onCallerThread).errors
  }
}

/// What a script printed, its errors, and its exit code.
typealias ScriptRun = (output: String, errors: String, status: Int32)

/// Runs a script in a fresh session, named `name` in its error messages.
func runScript(_ text: String, name: String) -> ScriptRun {
  var output = ""
  var errors = ""
  let session = Session(output: { output += $0 }, errors: { errors += $0 }, status: { _ in })
  let status = session.run(SourceText(name: name, text: text)).exitCode
  return (output, errors, status)
}
