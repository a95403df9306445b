import Foundation
import KSDiagnostics
import KSShell
import KernelOperations
import ShellRuntime
import ShellSyntax
import Testing

/// Every teaching demo in `sessions/` replays to its golden transcript (`sessions/NAME.out`):
/// each statement echoed with its prompt, then what it printed, as `ks run FILE --echo` shows it.
///
/// Goldens hold no color and no wall-clock figures: the solver summary's seconds, and the rest of
/// any printed line that starts with "timing: ", are cut before comparing and writing; they are
/// the only things left out. Demos too slow for the suite run a smaller problem here
/// (`scaledDown`: one line of the script replaced, and the golden records that run). Everything
/// else is compared by
/// `TranscriptComparison`: text exactly, integers exactly, iteration counts within 3, floats to
/// 1e-6 relative plus one unit of the last printed digit (values at most 1e-12 are rounding noise),
/// a CG/PCG final residual within a factor 10. `UPDATE_GOLDENS=1 swift test --filter
/// SessionTranscript` rewrites the goldens.
@Suite(.serialized) struct SessionTranscriptTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let sessions = root.appendingPathComponent("sessions")

  static var scripts: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: sessions.path)) ?? []
    return names.filter { $0.hasSuffix(".ks") }.sorted()
  }

  @Test func thereAreDemos() {
    #expect(Self.scripts.count >= 6, "sessions/ should hold the six teaching demos")
  }

  @Test(arguments: scripts)
  func replaysToGolden(_ name: String) throws {
    let path = Self.sessions.appendingPathComponent(name).path
    var text = try String(contentsOfFile: path, encoding: .utf8)
    if let (line, replacement) = Self.scaledDown[name] {
      #expect(text.contains("\n" + line + "\n"), "\(name) no longer has the line \(line)")
      text = text.replacingOccurrences(of: "\n" + line + "\n", with: "\n" + replacement + "\n")
    }
    var transcript = ""
    let session = Session(output: { transcript += $0 })
    session.interpreter.events = { event in
      guard let report = event as? SolveReport else { return }
      // The session's summary line (it names the method), without its wall-clock time.
      let line = Session.summary(of: report).replacingOccurrences(
        of: #", [0-9]+\.[0-9]+ s"#, with: "", options: .regularExpression)
      transcript += line + "\n"
    }
    let outcome = session.run(SourceText(name: "sessions/\(name)", text: text), echo: true)
    #expect(outcome.exitCode == 0, "\(name) failed:\n\(transcript)")
    transcript = transcript.replacingOccurrences(
      of: #"(?m)^timing: .*$"#, with: "timing: (wall clock, not compared)", options: .regularExpression)
    let goldenPath = Self.sessions.appendingPathComponent(name.replacingOccurrences(of: ".ks", with: ".out")).path
    if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
      try transcript.write(toFile: goldenPath, atomically: true, encoding: .utf8)
      return
    }
    guard let golden = try? String(contentsOfFile: goldenPath, encoding: .utf8) else {
      Issue.record("missing golden \(goldenPath); run UPDATE_GOLDENS=1 swift test --filter SessionTranscript")
      return
    }
    let tolerance = Self.tolerances[name] ?? .float64
    if let why = TranscriptComparison.mismatch(golden: golden, actual: transcript, tolerance: tolerance) {
      Issue.record("sessions/\(name): the transcript differs from its golden at \(why)")
    }
  }

  /// Sessions whose printed values come from float32 arithmetic in the compiled kernels use
  /// `.float32`; every other one `.float64`. (The float32 values of the other demos come from the
  /// reference engine, whose float32 rounding is the same on every machine.) The documentation
  /// example's solve uses float32 products (mixed precision, docs/solvers.md): its solution, hence
  /// the printed mean residual (~5e-7), depends on the machine's float32 summation order.
  static let tolerances: [String: TranscriptComparison.Tolerance] = [
    "block_sparse.ks": .float32, "kernelsolve_doc_example.ks": .float32,
  ]

  /// Demos whose full size takes minutes: (line of the script, the line the test runs instead).
  static let scaledDown: [String: (String, String)] = ["block_sparse.ks": ("N = 1000000", "N = 20000")]
}
