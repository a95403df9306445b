import Foundation
import KSShell
import ShellRuntime
import ShellSyntax
import KernelOperations

/// The live conjugate-gradient display: one status line redrawn in place on a terminal.
///
/// Each redraw is `\r ESC[2K` followed by the text, clipped to the width minus one (a wrapped
/// line could not be erased by `\r`), with no newline. Redraws are throttled to 20 per second.
/// `clear()` erases the line before anything else is printed, so the session's summary
/// (`CG converged in 88 iterations, rms 8.1e-07, 0.41 s`) replaces it.
///
/// ```
/// CG iteration 41  rms 3.2e-04  -8.8%/it  0.12 s
/// ```
public final class ProgressLine: ProgressDisplay {
  let output: FileOutput
  let minimumInterval: UInt64
  /// Returns the width in columns (asked before each redraw, to follow resizes).
  let width: () -> Int
  private var drawn = false
  private var lastDraw: UInt64 = 0
  /// The sample at the previous redraw, for the rate of decrease.
  private var previous: (iteration: Int, rms: Double)?

  /// A display on `output`, redrawn at most every `interval` seconds.
  public init(output: FileOutput, interval: Double = 0.05, width: (() -> Int)? = nil) {
    self.output = output
    minimumInterval = UInt64(interval * 1e9)
    let fd = output.fd
    self.width = width ?? { TerminalInfo.columns(fd) }
  }

  public func update(_ progress: SolveProgress) {
    let now = DispatchTime.now().uptimeNanoseconds
    if drawn && now - lastDraw < minimumInterval { return }
    lastDraw = now
    let text = Self.text(progress, previous: previous)
    previous = (progress.iteration, progress.rmsResidual)
    output.write("\r\u{1B}[2K" + Self.clip(text, to: width() - 1))
    drawn = true
  }

  public func clear() {
    guard drawn else { return }
    output.write("\r\u{1B}[2K")
    drawn = false
    previous = nil
  }

  /// The status text: iteration, RMS residual, its rate of decrease per iteration since the
  /// previous redraw, and the elapsed time.
  static func text(_ p: SolveProgress, previous: (iteration: Int, rms: Double)?) -> String {
    var out = "CG iteration \(p.iteration)  rms \(Session.scientific(p.rmsResidual))"
    if let prev = previous, p.iteration > prev.iteration, prev.rms > 0, p.rmsResidual > 0 {
      let factor = pow(p.rmsResidual / prev.rms, 1 / Double(p.iteration - prev.iteration))
      out += String(format: "  %+.1f%%/it", (factor - 1) * 100)
    }
    out += String(format: "  %.2f s", p.elapsed)
    return out
  }

  /// `text` cut to `columns` characters (at least 1).
  static func clip(_ text: String, to columns: Int) -> String {
    String(text.prefix(max(1, columns)))
  }
}
