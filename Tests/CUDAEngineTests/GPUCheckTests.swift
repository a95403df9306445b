import Glibc
import Testing

@testable import CUDAEngine

/// The `ks` executable built beside this test bundle (`swift test` builds every product).
func ksExecutable() throws -> String {
  var buffer = [CChar](repeating: 0, count: 4096)
  let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
  guard n > 0 else { throw TestFailure("cannot read /proc/self/exe") }
  let exe = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  let path = String(exe[..<exe.lastIndex(of: "/")!]) + "/ks"
  guard access(path, X_OK) == 0 else { throw TestFailure("no ks executable at \(path) (swift build builds it)") }
  return path
}

/// The ks binary and scripts/gpu-check.sh on the failure paths a GPU run must not hide: no GPU,
/// a wrong result, an old driver. The GPU is the mock `libcuda.so.1`, found by the child
/// processes on LD_LIBRARY_PATH (MOCK_CUDA_PATTERN fills every output with a constant, so results
/// are wrong; MOCK_CUDA_DRIVER_VERSION sets the driver's CUDA version).
@Suite struct GPUCheckTests {
  /// The environment of a ks child process on the mock GPU.
  static func mockEnvironment(_ extra: [String: String]) throws -> [String: String] {
    let nvrtc = try requireNVRTC()
    let mock = try MockCUDA.shared()
    let cache = try TemporaryDirectory("ks-gpu-check-cache")
    cache.removeAtExit()
    // The mock driver first; then NVRTC's own directory and the inherited path (a sanitized run
    // puts the NVRTC wheel's directory there so that NVRTC finds its builtins library).
    let nvrtcDirectory = nvrtc.path.lastIndex(of: "/").map { String(nvrtc.path[..<$0]) }
    let path = ([mock.directory] + [nvrtcDirectory, environment("LD_LIBRARY_PATH")].compactMap { $0 }).joined(separator: ":")
    return ["LD_LIBRARY_PATH": path, "NVRTC_LIBRARY": nvrtc.path, "KS_CACHE_DIR": cache.path].merging(extra) { $1 }
  }

  static var hasRealDriver: Bool { dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD) != nil || dlopen("libcuda.so.1", RTLD_LAZY) != nil }

  // On a GPU machine the script runs for real there (scripts/gpu-check.sh).
  @Test(.enabled(if: !GPUCheckTests.hasRealDriver, "checks the failure without an NVIDIA driver"))
  func gpuCheckWithoutAGPUFailsWithOneLine() throws {
    let ks = try ksExecutable()
    let r = run("/bin/bash", [TestPaths.repository + "/scripts/gpu-check.sh", "all"], environment: ["KS": ks])
    #expect(r.status == 1)
    let lines = r.output.split(separator: "\n")
    #expect(lines.count == 1, "\(r.output)")
    #expect(lines.first?.hasPrefix("gpu-check: FAIL: no usable GPU: no NVIDIA driver: libcuda.so.1 not found") == true, "\(r.output)")
    #expect(!r.output.contains("PASS"))
  }

  @Test func gpuCheckNamesWrongResults() throws {
    let ks = try ksExecutable()
    // float64 results right for the preflight's one-value outputs (2.0), wrong for everything else.
    let env = try Self.mockEnvironment(["KS": ks, "MOCK_CUDA_PATTERN": "f64:2"])
    let r = run("/bin/bash", [TestPaths.repository + "/scripts/gpu-check.sh", "quick"], environment: env)
    #expect(r.status == 1, "\(r.output)")
    #expect(r.output.contains("quick float64 Sum GPU_1D max rel err"), "\(r.output)")
    let last = r.output.split(separator: "\n").last.map(String.init) ?? ""
    #expect(last.hasPrefix("gpu-check: FAIL (1): quick check (exit 1): quick float32 Sum GPU_1D;"), "\(last)")
    #expect(last.contains("quick large-M float64 GPU_1D"))
    #expect(!r.output.contains("gpu-check: PASS"))
  }

  @Test func ksBenchGPUExitsOneOnAWrongResultOrWithoutAGPU() throws {
    let ks = try ksExecutable()
    let env = try Self.mockEnvironment(["MOCK_CUDA_PATTERN": "f32:1.5"])
    let r = run(ks, ["bench", "--gpu", "--sizes", "200", "--repeats", "1"], environment: env)
    #expect(r.status == 1, "\(r.output)")
    #expect(r.output.contains("N=200      float32 GPU_1D"))
    #expect(r.output.contains("FAIL: wrong result"))
    #expect(r.output.contains("gpu benchmark: FAIL (4 failed)"), "\(r.output)")
    if !Self.hasRealDriver {
      let none = run(ks, ["bench", "--gpu", "--sizes", "200"])
      #expect(none.status == 1)
      #expect(none.output.hasPrefix("GPU benchmark unavailable: no NVIDIA driver"), "\(none.output)")
    }
  }

  /// `backend="auto"` on a GPU whose driver is older than every NVRTC: one warning, and the CPU
  /// engine computes the right result; on a driver that pairs, the (mock) GPU runs.
  @Test func autoFallsBackToTheCPUWithOneWarningOnAnOldDriver() throws {
    let ks = try ksExecutable()
    let nvrtc = try requireNVRTC()
    let script = """
      import numpy as np
      np.random.seed(1)
      x = np.random.rand(40, 3)
      y = np.random.rand(30, 3)
      b = np.random.rand(30, 1)
      g = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)
      ref = g(x, y, b, backend="reference")
      for k in range(3):
          print("auto max abs err", float(np.abs(g(x, y, b) - ref).max()))
      """
    let old = nvrtc.version.major - 1
    let env = try Self.mockEnvironment(["MOCK_CUDA_PATTERN": "f64:7", "MOCK_CUDA_DRIVER_VERSION": "\(old * 1000 + 20)"])
    let r = run(ks, ["-c", script], environment: env)
    #expect(r.status == 0, "\(r.output)")
    let lines = r.output.split(separator: "\n").map(String.init)
    let warnings = lines.filter { $0.hasPrefix("ks: warning:") }
    #expect(warnings.count == 1, "\(r.output)")
    #expect(
      warnings.first?.hasPrefix("ks: warning: no NVRTC pairs with the NVIDIA driver (CUDA \(old).2, sm_90): NVRTC ") == true)
    #expect(warnings.first?.hasSuffix("; using the CPU engine") == true, "\(warnings)")
    let errors = lines.filter { $0.hasPrefix("auto max abs err") }.compactMap { Double($0.split(separator: " ").last!) }
    #expect(errors.count == 3 && errors.allSatisfy { $0 < 1e-12 }, "\(r.output)")
    // The same mock with a driver that pairs: auto runs on the (mock) GPU, which writes 7s.
    let paired = try Self.mockEnvironment(["MOCK_CUDA_PATTERN": "f64:7", "MOCK_CUDA_DRIVER_VERSION": "\(nvrtc.version.major * 1000)"])
    let p = run(ks, ["-c", script], environment: paired)
    #expect(p.status == 0)
    #expect(!p.output.contains("warning"), "\(p.output)")
    #expect(!p.output.contains("auto max abs err 0.0"), "\(p.output)")
  }
}
