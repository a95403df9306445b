import Foundation
import Glibc

// Helpers that run the built `ks` binary: on a pseudo-terminal (driven like a user), or with its
// standard streams in files. Both spawn with posix_spawn and reset the signal mask and the
// dispositions of SIGINT and friends: Swift Testing runs tests on threads that block SIGINT, and
// a child would inherit that mask and ignore Ctrl-C.

/// The path of a product built next to the test bundle (`.build/<triple>/debug/ks`).
func productPath(_ name: String) -> String {
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
}

/// A fresh, empty directory under the temporary directory.
func temporaryDirectory(_ label: String) throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Spawn attributes with an empty signal mask and default dispositions for the job-control signals.
private func withSpawnAttributes<T>(_ body: (inout posix_spawnattr_t) -> T) -> T {
  var attr = posix_spawnattr_t()
  posix_spawnattr_init(&attr)
  defer { posix_spawnattr_destroy(&attr) }
  var empty = sigset_t()
  sigemptyset(&empty)
  var defaults = sigset_t()
  sigemptyset(&defaults)
  for s in [SIGINT, SIGQUIT, SIGTSTP, SIGPIPE, SIGWINCH] { sigaddset(&defaults, s) }
  posix_spawnattr_setsigmask(&attr, &empty)
  posix_spawnattr_setsigdefault(&attr, &defaults)
  posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
  return body(&attr)
}

/// The variables a sanitized test run must hand to its `ks` children, which otherwise get a
/// clean environment: the sanitizers' options (`ASAN_OPTIONS=detect_leaks=0`, ...) and the
/// library path (the NVRTC wheel's directory in the AddressSanitizer run), when set.
func inheritedSanitizerEnvironment() -> [String] {
  let names = ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS", "LD_LIBRARY_PATH"]
  let env = ProcessInfo.processInfo.environment
  return names.compactMap { name in env[name].map { "\(name)=\($0)" } }
}

/// Spawns `argv` with `environment`; the file actions set up its standard streams.
private func spawn(_ argv: [String], environment: [String], actions: inout posix_spawn_file_actions_t) throws -> pid_t {
  var cargv = argv.map { strdup($0) } + [nil]
  var cenv = environment.map { strdup($0) } + [nil]
  defer {
    cargv.forEach { free($0) }
    cenv.forEach { free($0) }
  }
  var pid: pid_t = 0
  let rc = withSpawnAttributes { attr in posix_spawn(&pid, argv[0], &actions, &attr, &cargv, &cenv) }
  guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
  return pid
}

/// The exit status of a finished child: its exit code, or 128 + the signal that killed it.
func waitForExit(_ pid: pid_t) -> Int32 {
  var status: Int32 = 0
  while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
  if status & 0x7f == 0 { return (status >> 8) & 0xff }
  return 128 + (status & 0x7f)
}

/// The result of running `ks` with its streams in files.
struct RunResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// A `ks` process whose stdin, stdout and stderr are files (stdin is never a terminal).
final class BatchProcess {
  let pid: pid_t
  let directory: String

  /// Starts `ks arguments...` in `directory` with `stdin` as its standard input.
  init(_ arguments: [String], stdin: String = "", directory: String? = nil, environment: [String] = []) throws {
    self.directory = try directory ?? temporaryDirectory("ks-batch")
    let inPath = self.directory + "/.stdin", outPath = self.directory + "/.stdout", errPath = self.directory + "/.stderr"
    try stdin.write(toFile: inPath, atomically: true, encoding: .utf8)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let env = ["HOME=\(self.directory)", "TERM=dumb", "PATH=/usr/bin:/bin"] + inheritedSanitizerEnvironment() + environment
    // `env -C` runs ks in the directory (and execs it: the pid is ks's).
    pid = try spawn(["/usr/bin/env", "-C", self.directory, productPath("ks")] + arguments, environment: env, actions: &actions)
  }

  /// What the process has written to stdout so far.
  var stdout: String { (try? String(contentsOfFile: directory + "/.stdout", encoding: .utf8)) ?? "" }
  /// What the process has written to stderr so far.
  var stderr: String { (try? String(contentsOfFile: directory + "/.stderr", encoding: .utf8)) ?? "" }

  /// Waits until stdout contains `text` (polling), at most `timeout` seconds.
  func waitForOutput(_ text: String, timeout: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if stdout.contains(text) { return true }
      usleep(20_000)
    }
    return false
  }

  /// Waits for the exit and collects the output.
  func finish() -> RunResult {
    let status = waitForExit(pid)
    return RunResult(status: status, stdout: stdout, stderr: stderr)
  }
}

/// Runs `ks arguments...` to completion with its streams in files.
func runKS(_ arguments: [String], stdin: String = "", directory: String? = nil) throws -> RunResult {
  try BatchProcess(arguments, stdin: stdin, directory: directory).finish()
}

/// A `ks` process on a new pseudo-terminal, driven like a user (shared/design notes, part A.2).
final class PtyProcess {
  let master: Int32
  let pid: pid_t
  /// Everything the process has written to the terminal.
  private(set) var transcript = ""
  /// `expect` searches only after the previous match.
  private var consumed = 0

  /// Starts `ks` on a pty of `columns` columns, as the session leader with the pty as its
  /// controlling terminal (via `setsid -c`), so that `\u{3}` becomes SIGINT. `term` is its `TERM`.
  init(arguments: [String] = [], columns: UInt16 = 120, home: String, term: String = "xterm") throws {
    var master: Int32 = -1
    var slave: Int32 = -1
    var size = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
    guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw POSIXError(.ENOTTY) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd in 0...2 { posix_spawn_file_actions_adddup2(&actions, slave, Int32(fd)) }
    posix_spawn_file_actions_addclose(&actions, master)
    posix_spawn_file_actions_addclose(&actions, slave)
    let env = ["TERM=\(term)", "HOME=\(home)", "PATH=/usr/bin:/bin"] + inheritedSanitizerEnvironment()
    do {
      pid = try spawn(["/usr/bin/setsid", "-c", productPath("ks")] + arguments, environment: env, actions: &actions)
    } catch {
      close(slave)
      close(master)
      throw error
    }
    close(slave)
    self.master = master
  }

  private var exited = false

  deinit {
    if !exited {
      kill(pid, SIGKILL)
      _ = waitForExit(pid)
    }
    close(master)
  }

  /// Waits until the line editor has put the terminal in raw mode (typeahead sent earlier would be
  /// echoed by the kernel's line discipline instead). On Linux, `tcgetattr` on the master reports
  /// the slave's settings.
  @discardableResult
  func waitForRawMode(timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    var t = termios()
    while Date() < deadline {
      if tcgetattr(master, &t) == 0, t.c_lflag & tcflag_t(ICANON) == 0 { return true }
      usleep(2_000)
    }
    return false
  }

  /// Waits for `prompt`, then for raw mode, then types `keys`.
  @discardableResult
  func type(_ keys: String, after prompt: String, timeout: Double = 10) -> Bool {
    let seen = expect(prompt, timeout: timeout)
    waitForRawMode()
    send(keys)
    return seen
  }

  /// Writes `keys` to the terminal.
  func send(_ keys: String) {
    let bytes = Array(keys.utf8)
    _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
  }

  /// Reads until `needle` appears after the previous match; false on timeout or end of output.
  @discardableResult
  func expect(_ needle: String, timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    var buffer = [UInt8](repeating: 0, count: 4096)
    func found() -> Bool {
      let tail = String(decoding: transcript.utf8.dropFirst(consumed), as: UTF8.self)
      guard let r = tail.range(of: needle) else { return false }
      consumed += tail[..<r.upperBound].utf8.count
      return true
    }
    while !found() {
      let left = deadline.timeIntervalSinceNow
      if left <= 0 { return false }
      var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
      guard poll(&pfd, 1, Int32(left * 1000)) > 0 else { continue }
      let n = read(master, &buffer, buffer.count)
      if n <= 0 { return found() }  // EIO: the child closed the terminal
      transcript += String(decoding: buffer[0..<n], as: UTF8.self)
    }
    return true
  }

  /// Waits for the process to exit and returns its status.
  func wait() -> Int32 {
    // Drain the terminal so the child never blocks writing to it.
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
      guard poll(&pfd, 1, 5000) > 0 else { break }
      let n = read(master, &buffer, buffer.count)
      if n <= 0 { break }
      transcript += String(decoding: buffer[0..<n], as: UTF8.self)
    }
    exited = true
    return waitForExit(pid)
  }
}
