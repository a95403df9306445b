import Foundation
import Glibc

/// Writes text to a file descriptor with `write(2)`, unbuffered, retrying after `EINTR`.
///
/// All of ks's terminal output goes through these writers (never `print`), so results, errors and
/// the live progress line come out in the order they were written even when stdout is a pipe.
public struct FileOutput: Sendable {
  /// The file descriptor: 1 for stdout, 2 for stderr.
  public let fd: Int32

  /// Creates a writer for `fd`.
  public init(fd: Int32) {
    self.fd = fd
  }

  /// Standard output.
  public static let standardOutput = FileOutput(fd: STDOUT_FILENO)
  /// Standard error.
  public static let standardError = FileOutput(fd: STDERR_FILENO)

  /// Writes all of `text`; a closed pipe or other error drops the rest silently.
  public func write(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n > 0 {
        offset += n
      } else if n < 0 && errno == EINTR {
        continue
      } else {
        return
      }
    }
  }

  /// Whether the descriptor is a terminal.
  public var isTerminal: Bool { isatty(fd) != 0 }
}

/// What ks needs to know about a terminal: its width and whether to use color.
public enum TerminalInfo {
  /// The terminal's width in columns: `TIOCGWINSZ`, else `$COLUMNS`, else 80.
  ///
  /// Cheap enough (one `ioctl`) to ask before every redraw, which follows window resizes without
  /// a `SIGWINCH` handler.
  public static func columns(_ fd: Int32) -> Int {
    var size = winsize()
    if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap({ Int($0) }), c > 0 { return c }
    return 80
  }

  /// Whether to color output written to `fd`: only on a terminal, never when `NO_COLOR` is set to
  /// a non-empty value (no-color.org), never when `TERM` is `dumb`.
  public static func useColor(fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    useColor(isTerminal: isatty(fd) != 0, environment: environment)
  }

  /// Whether escape sequences (the live progress line's `\r ESC[2K`) may be written to `fd`: only
  /// on a terminal whose `TERM` is set and not `dumb`. Elsewhere the solver prints plain lines.
  public static func allowsEscapes(fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    allowsEscapes(isTerminal: isatty(fd) != 0, environment: environment)
  }

  /// The escape policy on its own (testable).
  public static func allowsEscapes(isTerminal: Bool, environment: [String: String]) -> Bool {
    guard isTerminal, let term = environment["TERM"], !term.isEmpty else { return false }
    return term != "dumb"
  }

  /// The color policy on its own (testable): terminal, `NO_COLOR` empty or unset, `TERM` not dumb.
  public static func useColor(isTerminal: Bool, environment: [String: String]) -> Bool {
    guard isTerminal else { return false }
    if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
    if environment["TERM"] == "dumb" { return false }
    return true
  }
}

/// Turns the terminal's echo off while a statement runs, so keys typed ahead do not mix with the
/// live progress line; the line editor shows them when it reads them at the next prompt.
/// Signals (Ctrl-C) still work: only `ECHO` is cleared.
struct EchoSuppression {
  private let fd: Int32
  private let saved: termios?

  /// Clears `ECHO` on `fd` if it is a terminal.
  init(fd: Int32 = STDIN_FILENO) {
    self.fd = fd
    var t = termios()
    guard isatty(fd) != 0, tcgetattr(fd, &t) == 0, t.c_lflag & tcflag_t(ECHO) != 0 else {
      saved = nil
      return
    }
    saved = t
    t.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(fd, TCSANOW, &t)
  }

  /// Puts the echo setting back.
  func restore() {
    guard var t = saved else { return }
    tcsetattr(fd, TCSANOW, &t)
  }
}
