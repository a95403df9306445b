import Foundation
import KSDiagnostics
import ShellSyntax

/// Python's `time` module: wall-clock and monotonic time, and an interruptible `sleep`.
enum TimeModule {
  static let module = ShellModule(
    "time",
    members: [
      "time": Builtins.anyFn("time", doc: FunctionDoc("time.time()", "seconds since the Unix epoch, as a float", "t0 = time.time()")) { ctx in
        try ctx.finish(maxPositional: 0)
        return .float(Date().timeIntervalSince1970)
      },
      "perf_counter": Builtins.anyFn("perf_counter", doc: FunctionDoc("time.perf_counter()", "a monotonic clock in seconds, for timing code", "t0 = time.perf_counter()")) { ctx in
        try ctx.finish(maxPositional: 0)
        return .float(monotonicSeconds())
      },
      "monotonic": Builtins.anyFn("monotonic", doc: FunctionDoc("time.monotonic()", "a clock that never goes back, in seconds", "time.monotonic()")) { ctx in
        try ctx.finish(maxPositional: 0)
        return .float(monotonicSeconds())
      },
      "sleep": Builtins.anyFn("sleep", doc: FunctionDoc("time.sleep(secs)", "wait that many seconds (Ctrl-C stops it)", "time.sleep(0.5)")) { ctx in
        let seconds = try ctx.double(try ctx.required(0, "secs"), "sleep length", at: ctx.rangeOf(0))
        try ctx.finish(maxPositional: 1)
        guard seconds >= 0, seconds.isFinite else {
          throw ShellError("sleep length must be non-negative", type: "ValueError", at: ctx.rangeOf(0))
        }
        // Sleep in short steps so that Ctrl-C stops it.
        let end = monotonicSeconds() + seconds
        while true {
          try ctx.interpreter.checkCancelled(ctx.range)
          let left = end - monotonicSeconds()
          if left <= 0 { break }
          Thread.sleep(forTimeInterval: min(left, 0.05))
        }
        return .none
      },
    ])

  static func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
  }
}
