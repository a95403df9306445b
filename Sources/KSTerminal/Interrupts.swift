import Glibc
import KernelEngines
import Synchronization

/// Ctrl-C (`SIGINT`) handling: a signal handler that only touches atomics.
///
/// * At the prompt, the handler is installed without `SA_RESTART`, so libedit's `read` fails
///   with `EINTR`, `readline` returns, and the shell clears the line (`takePending()` is true).
/// * During a computation, the shell *arms* the interpreter's `CancellationToken`: the handler
///   cancels it, the reference engine and the conjugate gradient see it at their next check, and
///   the statement fails as "interrupted" (rolled back). Pressing Ctrl-C `forceExitCount` times
///   during one computation (one that does not poll the token) exits with status 130.
public enum Interrupts {
  /// Interrupts received since the last `takePending()` or `arm`.
  static let pending = Atomic<Int>(0)
  /// The address of the armed token (unretained; its owner outlives the arming), or 0.
  static let armedToken = Atomic<UInt>(0)
  /// How many interrupts during one armed computation force an exit (0: never).
  static let forceExitCount = Atomic<Int>(0)

  /// The handler: count, cancel the armed token, maybe exit. Only atomics and `write`/`_exit`.
  private static let handler: @convention(c) (Int32) -> Void = { _ in
    let count = Interrupts.pending.wrappingAdd(1, ordering: .relaxed).newValue
    let raw = Interrupts.armedToken.load(ordering: .acquiring)
    guard raw != 0, let pointer = UnsafeRawPointer(bitPattern: raw) else { return }
    Unmanaged<CancellationToken>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.cancel() }
    let limit = Interrupts.forceExitCount.load(ordering: .relaxed)
    if limit > 0 && count >= limit {
      let message: StaticString = "\nks: interrupted again; exiting\n"  // no allocation in a handler
      _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
      _exit(130)
    }
  }

  /// Installs the handler. `restartSystemCalls` is false for the interactive shell (so that
  /// Ctrl-C ends `readline`) and true for scripts. `forceExitAfter` interrupts during one
  /// computation end the process with status 130 (0: never).
  public static func install(restartSystemCalls: Bool, forceExitAfter: Int) {
    // Initialize the globals now: lazy initialization inside a signal handler could deadlock.
    pending.store(0, ordering: .relaxed)
    armedToken.store(0, ordering: .relaxed)
    forceExitCount.store(forceExitAfter, ordering: .relaxed)
    var action = sigaction()
    action.__sigaction_handler.sa_handler = handler
    sigemptyset(&action.sa_mask)
    action.sa_flags = restartSystemCalls ? SA_RESTART : 0
    sigaction(SIGINT, &action, nil)
  }

  /// Routes Ctrl-C to `token` until `disarm()`; clears interrupts received before.
  public static func arm(_ token: CancellationToken) {
    pending.store(0, ordering: .relaxed)
    armedToken.store(UInt(bitPattern: Unmanaged.passUnretained(token).toOpaque()), ordering: .releasing)
  }

  /// Stops routing Ctrl-C to a token.
  public static func disarm() {
    armedToken.store(0, ordering: .releasing)
  }

  /// Whether Ctrl-C was pressed since the last call; clears the count.
  public static func takePending() -> Bool {
    pending.exchange(0, ordering: .relaxed) > 0
  }
}
