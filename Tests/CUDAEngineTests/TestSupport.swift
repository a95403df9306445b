import ArrayIO
import FormulaLanguage
import Glibc
import KernelEngines
import Synchronization
import Testing

@testable import CUDAEngine
import _KSTestSupport

/// Paths of the test target, resolved through symlinks (so scratch packages find the repository).
enum TestPaths {
  /// This test target's folder.
  static let directory: String = {
    let file = #filePath
    let dir = String(file[..<file.lastIndex(of: "/")!])
    guard let r = realpath(dir, nil) else { return dir }
    defer { free(r) }
    return String(cString: r)
  }()

  /// The repository root (two levels up).
  static var repository: String { directory + "/../.." }

  static var emulationHeader: String { directory + "/Emulation/cuda_emu.h" }
  static var mockSource: String { directory + "/Emulation/mock_cuda.cpp" }
  static var goldens: String { directory + "/Golden" }

  /// The shared conformance cases, when the repository sits beside `shared/`.
  static var conformanceCases: String { repository + "/../shared/conformance/cases" }
}

/// The NVRTC library the tests use, or nil: `$NVRTC_LIBRARY`, else the pip wheel in the
/// repository's `.cuda-venv` (what `.ci/run` installs), else the engine's own search.
func testNVRTCPath() -> String? {
  if let p = environment("NVRTC_LIBRARY") { return p }
  let venv = globPaths(TestPaths.repository + "/.cuda-venv/lib/python3*/site-packages/nvidia/cu13/lib/libnvrtc.so.13")
  if let p = venv.first { return p }
  return (try? NVRTC.load())?.path
}

/// NVRTC for the tests, or a failure that says how to install it (these tests must not pass silently).
func requireNVRTC() throws -> NVRTC {
  guard let path = testNVRTCPath() else {
    Issue.record(
      """
      NVRTC is missing: the CUDA tests compile every kernel with it. Install it with
        python3 -m venv .cuda-venv && .cuda-venv/bin/pip install nvidia-cuda-nvrtc==13.5.37
      (in the repository root), or set NVRTC_LIBRARY to a libnvrtc.so.
      """)
    throw TestFailure("NVRTC missing")
  }
  return try NVRTC.load(path: path)
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
  let path: String

  init(_ label: String = "ks-cuda-tests") throws {
    var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
    guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw TestFailure("mkdtemp failed")
    }
    path = String(cString: p)
  }

  func remove() { _ = run("/bin/rm", ["-rf", path]) }

  /// Removes the directory when the test process exits (for directories whose libraries stay loaded).
  func removeAtExit() {
    exitCleanup.withLock { paths in
      if paths.isEmpty {
        atexit {
          for p in exitCleanup.withLock({ $0 }) { _ = run("/bin/rm", ["-rf", p]) }
        }
      }
      paths.append(path)
    }
  }
}

private let exitCleanup = Mutex<[String]>([])

/// Runs a program; returns its exit status and combined output.
@discardableResult
func run(_ program: String, _ arguments: [String], environment extra: [String: String] = [:]) -> (status: Int32, output: String) {
  let outPath = "/tmp/ks-cuda-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).log"
  defer { unlink(outPath) }
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  posix_spawn_file_actions_adddup2(&actions, 1, 2)
  let argv = ([program] + arguments).map { strdup($0) } + [nil]
  defer { argv.forEach { free($0) } }
  var env: [UnsafeMutablePointer<CChar>?] = []
  var e = environ
  while let p = e.pointee {
    let s = String(cString: p)
    if let eq = s.firstIndex(of: "="), extra[String(s[..<eq])] != nil {} else { env.append(strdup(p)) }
    e += 1
  }
  for (k, v) in extra { env.append(strdup("\(k)=\(v)")) }
  env.append(nil)
  defer { env.forEach { free($0) } }
  var pid: pid_t = 0
  let rc = posix_spawnp(&pid, program, &actions, nil, argv, env)
  guard rc == 0 else { return (127, "cannot run \(program): \(String(cString: strerror(rc)))") }
  var status: Int32 = 0
  while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
  let output = CUBINCache.readFile(outPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
  let exited = (status & 0x7f) == 0
  return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
}

/// Writes `text` to `path`.
func writeFile(_ path: String, _ text: String) throws {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  guard fd >= 0 else { throw TestFailure("cannot write \(path)") }
  defer { close(fd) }
  let bytes = Array(text.utf8)
  var off = 0
  while off < bytes.count {
    let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { throw TestFailure("write failed for \(path)") }
    off += n
  }
}

func readText(_ path: String) -> String? {
  CUBINCache.readFile(path).map { String(decoding: $0, as: UTF8.self) }
}
