import Foundation
import KSShell
import ShellRuntime
import ShellSyntax
import KernelOperations

/// The live solver display: one status line redrawn in place on a terminal.
///
/// Each redraw is `\r ESC[2K` followed by the text, clipped to the width minus one (a wrapped
/// line could not be erased by `\r`), with no newline. Redraws are throttled to 20 per second.
/// `clear()` erases the line before anything else is printed, so the session's summary
/// (`CG converged in 88 iterations, rms 8.1e-07, 0.41 s`) replaces it.
///
/// The rate is the geometric mean decrease of the RMS residual over the last `window`
/// iterations, and the time left extrapolates it to the target (eps):
///
/// ```
/// PCG (Nyström, 800 centres) iteration 41  rms 3.2e-04 -> 1e-06  -8.8%/it  ~1.9 s left  0.12 s
/// ```
public final class ProgressLine: ProgressDisplay {
  let output: FileOutput
  let minimumInterval: UInt64
  /// Returns the width in columns (asked before each redraw, to follow resizes).
  let width: () -> Int
  private var drawn = false
  private var lastDraw: UInt64 = 0
  /// The last samples (every iteration, drawn or not), for the smoothed rate.
  private var samples: [Sample] = []
  /// Iterations the rate is smoothed over.
  public static let window = 20

  struct Sample {
    var iteration: Int
    var rms: Double
    var elapsed: Double?
  }

  /// A display on `output`, redrawn at most every `interval` seconds.
  public init(output: FileOutput, interval: Double = 0.05, width: (() -> Int)? = nil) {
    self.output = output
    minimumInterval = UInt64(interval * 1e9)
    let fd = output.fd
    self.width = width ?? { TerminalInfo.columns(fd) }
  }

  public func update(_ progress: SolveProgress) {
    if let last = samples.last, progress.iteration <= last.iteration { samples = [] }  // a new solve
    samples.append(Sample(iteration: progress.iteration, rms: progress.rmsResidual, elapsed: progress.elapsed))
    if samples.count > Self.window + 1 { samples.removeFirst(samples.count - Self.window - 1) }
    let now = DispatchTime.now().uptimeNanoseconds
    if drawn && now - lastDraw < minimumInterval { return }
    lastDraw = now
    var text = Self.text(progress, since: samples.count > 1 ? samples.first : nil)
    let columns = width() - 1
    // The residual's recent history as a sparkline, when the line has room for it.
    let spark = Self.sparkline(samples.suffix(12).map(\.rms))
    if spark.count >= 4 && text.count + 2 + spark.count <= columns { text += "  " + spark }
    output.write("\r\u{1B}[2K" + Self.clip(text, to: columns))
    drawn = true
  }

  public func clear() {
    samples = []
    guard drawn else { return }
    output.write("\r\u{1B}[2K")
    drawn = false
  }

  /// The status text with the rate measured since `previous`.
  static func text(_ p: SolveProgress, previous: (iteration: Int, rms: Double)?) -> String {
    text(p, since: previous.map { Sample(iteration: $0.iteration, rms: $0.rms, elapsed: nil) })
  }

  /// The status text: method, iteration, RMS residual and its target, the rate of decrease per
  /// iteration since the sample `since`, the estimated time left, and the elapsed time.
  static func text(_ p: SolveProgress, since: Sample?) -> String {
    var out = "\(p.method) iteration \(p.iteration)  rms \(Session.scientific(p.rmsResidual))"
    if p.target > 0 { out += " -> \(target(p.target))" }
    if let prev = since, p.iteration > prev.iteration, prev.rms > 0, p.rmsResidual > 0 {
      let factor = pow(p.rmsResidual / prev.rms, 1 / Double(p.iteration - prev.iteration))
      out += String(format: "  %+.1f%%/it", (factor - 1) * 100)
      if p.target > 0, p.rmsResidual > p.target, factor < 1, let t0 = prev.elapsed, p.elapsed > t0 {
        let left = Foundation.log(p.target / p.rmsResidual) / Foundation.log(factor)
        let perIteration = (p.elapsed - t0) / Double(p.iteration - prev.iteration)
        out += "  ~" + duration(left * perIteration) + " left"
      }
    }
    out += String(format: "  %.2f s", p.elapsed)
    return out
  }

  /// eps as written: `1e-06`, or `2.5e-07` when one digit does not say it.
  static func target(_ x: Double) -> String {
    let short = String(format: "%.0e", x)
    return Double(short) == x ? short : Session.scientific(x)
  }

  /// `4.2 s`, `3 min 10 s`, `2 h 5 min`.
  static func duration(_ s: Double) -> String {
    if !s.isFinite { return "?" }
    if s < 60 { return String(format: "%.1f s", s) }
    if s < 3600 { return "\(Int(s) / 60) min \(Int(s) % 60) s" }
    return "\(Int(s) / 3600) h \(Int(s) % 3600 / 60) min"
  }

  /// The values (positive residuals, oldest first) as a row of block characters `▁▂▃▄▅▆▇█`,
  /// scaled logarithmically between their smallest and largest: a solve that converges steadily
  /// draws a falling staircase. Empty when fewer than two values are positive.
  static func sparkline(_ values: [Double]) -> String {
    let logs = values.filter { $0 > 0 && $0.isFinite }.map { Foundation.log10($0) }
    guard logs.count >= 2, let lo = logs.min(), let hi = logs.max() else { return "" }
    let blocks = Array("▁▂▃▄▅▆▇█")
    return String(logs.map { v in
      hi > lo ? blocks[min(7, Int((v - lo) / (hi - lo) * 7.999))] : blocks[3]
    })
  }

  /// `text` cut to `columns` characters (at least 1).
  static func clip(_ text: String, to columns: Int) -> String {
    String(text.prefix(max(1, columns)))
  }
}
