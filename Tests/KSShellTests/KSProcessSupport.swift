import Foundation

/// Runs the built `ks` as a child process, for the tests that must see a whole process: exit
/// status, the signal that killed it, or that it did not finish in time.
struct KSProcessResult {
  var status: Int32
  /// True when the process ended by a signal (a trap, an abort): never acceptable.
  var killedBySignal: Bool
  /// True when it was still running at the deadline (and was then killed).
  var timedOut: Bool
  var stdout: String
  var stderr: String
}

enum KSProcess {
  /// The `ks` next to the test bundle (`.build/<triple>/debug/ks`).
  static var executable: String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("ks").path
  }

  /// Runs `ks arguments...` with extra environment variables, killing it after `timeout` seconds.
  static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> KSProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["TERM"] = "dumb"
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("ks-out-\(UUID().uuidString)")
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("ks-err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outFile.path, contents: nil)
    FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: outFile)
      try? FileManager.default.removeItem(at: errFile)
    }
    let out = try FileHandle(forWritingTo: outFile), err = try FileHandle(forWritingTo: errFile)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    var timedOut = false
    if done.wait(timeout: .now() + timeout) == .timedOut {
      timedOut = true
      process.terminate()
      if done.wait(timeout: .now() + 5) == .timedOut { kill(process.processIdentifier, SIGKILL); done.wait() }
    }
    try out.close()
    try err.close()
    let stdout = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
    return KSProcessResult(
      status: process.terminationStatus, killedBySignal: !timedOut && process.terminationReason == .uncaughtSignal,
      timedOut: timedOut, stdout: stdout, stderr: stderr)
  }

  /// Writes `text` to a temporary `.ks` file and returns its path.
  static func script(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ks-test-\(UUID().uuidString).ks").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }
}
