import Foundation

extension Double {
  fileprivate func log10() -> Double { Foundation.log10(self) }
}
import KSDiagnostics
import KSShell
import KernelOperations
import ShellRuntime
import ShellSyntax
import Testing

/// Every teaching demo in `sessions/` replays to its golden transcript (`sessions/NAME.out`):
/// each statement echoed with its prompt, then what it printed, as `ks run FILE --echo` shows it.
///
/// Goldens hold no timings and no color. Two things are masked before comparing, because they
/// depend on the last bits of floating-point rounding of the machine's vector code: the iteration
/// count and residual of solver summary lines (`CG converged in ...`, `PCG (Nyström, 1000 centres)
/// converged in ...`, `Direct (Cholesky, 500 x 500) solved`, of which the method is kept) (iteration counts are tested against PyKeOps in
/// KernelSolveTests), and full-precision floats (8 or more significant digits), compared by their
/// order of magnitude. `UPDATE_GOLDENS=1 swift test --filter SessionTranscript` rewrites them.
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
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var transcript = ""
    let session = Session(output: { transcript += $0 })
    session.interpreter.events = { event in
      guard let report = event as? SolveReport else { return }
      let what =
        report.direct
        ? (report.converged ? "solved" : "stopped above eps")
        : "\(report.converged ? "converged in" : "stopped after") \(report.iterations) iterations"
      transcript += "\(report.method) \(what), rms \(Session.scientific(report.rmsResidual))\n"
    }
    let outcome = session.run(SourceText(name: "sessions/\(name)", text: text), echo: true)
    #expect(outcome.exitCode == 0, "\(name) failed:\n\(transcript)")
    let goldenPath = Self.sessions.appendingPathComponent(name.replacingOccurrences(of: ".ks", with: ".out")).path
    if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
      try transcript.write(toFile: goldenPath, atomically: true, encoding: .utf8)
      return
    }
    guard let golden = try? String(contentsOfFile: goldenPath, encoding: .utf8) else {
      Issue.record("missing golden \(goldenPath); run UPDATE_GOLDENS=1 swift test --filter SessionTranscript")
      return
    }
    let want = Self.mask(golden), got = Self.mask(transcript)
    if want != got {
      let w = want.split(separator: "\n", omittingEmptySubsequences: false)
      let g = got.split(separator: "\n", omittingEmptySubsequences: false)
      let first = (0..<min(w.count, g.count)).first { w[$0] != g[$0] } ?? min(w.count, g.count)
      Issue.record(
        "\(name): transcript differs from the golden at line \(first + 1):\n  golden: \(first < w.count ? String(w[first]) : "<end>")\n  actual: \(first < g.count ? String(g[first]) : "<end>")")
    }
  }

  /// Masks the machine-dependent digits (see the suite's comment).
  static func mask(_ text: String) -> String {
    var lines: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      // Solver summaries: the method (centre counts masked) and whether it converged.
      if let r = line.range(of: #"^(Direct \(|CG |PCG \().*(converged in|stopped after|solved|stopped above eps)"#, options: .regularExpression)
      {
        let kept = String(line[r]).replacingOccurrences(of: #"[0-9]+ (centres|x [0-9]+)"#, with: "N", options: .regularExpression)
          .replacingOccurrences(of: " converged in", with: " converged").replacingOccurrences(of: " stopped after", with: " stopped")
        lines.append(kept)
        continue
      }
      lines.append(maskLongFloats(String(line)))
    }
    return lines.joined(separator: "\n")
  }

  static func maskLongFloats(_ line: String) -> String {
    let pattern = try! NSRegularExpression(pattern: "-?[0-9]+\\.[0-9]+(e[-+][0-9]+)?")
    var out = line
    let ns = line as NSString
    for m in pattern.matches(in: line, range: NSRange(location: 0, length: ns.length)).reversed() {
      let token = ns.substring(with: m.range)
      let mantissa = token.split(separator: "e").first.map(String.init) ?? token
      guard mantissa.filter({ $0.isNumber }).drop(while: { $0 == "0" }).count >= 8, let v = Double(token) else { continue }
      // Only the order of magnitude of such a number is stable across vector units.
      let exponent = v == 0 ? 0 : Int((abs(v)).log10().rounded(.down))
      let r = (out as NSString).replacingCharacters(in: m.range, with: "~1e\(exponent)")
      out = r
    }
    return out
  }
}
