import Glibc
import KernelEngines
import Testing

@testable import CUDAEngine

/// The mock `libcuda.so.1` (Emulation/mock_cuda.cpp), built with g++ once per test process, and
/// the CPU emulation of generated kernels (Emulation/cuda_emu.h) it can run.
///
/// The file is named libcuda.so.1 in a private directory, but its SONAME is different: the loader
/// matches already-loaded libraries by SONAME, so with the real one every later
/// `dlopen("libcuda.so.1")` in the test process (the `auto` backend's probe, NVRTC's own cache
/// lookup) would get the mock.
final class MockCUDA: @unchecked Sendable {
  typealias Set = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void
  typealias Log = @convention(c) () -> UnsafePointer<CChar>?
  typealias Live = @convention(c) () -> Int

  let directory: String
  /// The mock's path: give it to `CUDAKernelEngine(driverLibrary:)`.
  let driverPath: String
  private let setFunction: Set
  private let logFunction: Log
  private let liveFunction: Live

  private init(directory: String) throws {
    self.directory = directory
    driverPath = directory + "/libcuda.so.1"
    let r = run(
      "g++", ["-std=c++17", "-O1", "-fPIC", "-shared", "-Wl,-soname,libks_mock_cuda.so", "-o", driverPath, TestPaths.mockSource])
    guard r.status == 0 else { throw TestFailure("building the mock libcuda failed:\n\(r.output)") }
    guard let h = dlopen(driverPath, RTLD_NOW | RTLD_LOCAL) else { throw TestFailure("cannot load the mock libcuda") }
    setFunction = unsafeBitCast(dlsym(h, "mock_cuda_set"), to: Set.self)
    logFunction = unsafeBitCast(dlsym(h, "mock_cuda_log"), to: Log.self)
    liveFunction = unsafeBitCast(dlsym(h, "mock_cuda_live_allocations"), to: Live.self)
  }

  private static let built: Result<MockCUDA, TestFailure> = {
    do {
      let dir = try TemporaryDirectory("ks-cuda-mock")
      dir.removeAtExit()
      return .success(try MockCUDA(directory: dir.path))
    } catch let e as TestFailure {
      return .failure(e)
    } catch {
      return .failure(TestFailure("\(error)"))
    }
  }()

  /// The process-wide mock (built on first use).
  static func shared() throws -> MockCUDA { try built.get() }

  func set(_ key: String, _ value: String) { setFunction(key, value) }

  /// Resets the mock to one healthy device (CUDA 13.0, 132 SMs of 2048 threads, occupancy from
  /// the thread limit) and an empty log.
  func reset() {
    set("devices", "1")
    set("driver_version", "13000")
    set("multiprocessors", "132")
    set("threads_per_sm", "2048")
    set("occupancy", "0")
    set("fault_next_launch", "0")
    set("heal", "")
    CUDADevice.forgetAll(driverPath: driverPath)
    set("oom_above", "")
    set("pattern", "")
    set("emulation", "")
    set("prefix", "")
    set("reset_log", "")
  }

  /// Sets `key` to `value`, then makes the engine read the device's properties and load its
  /// modules again (for "multiprocessors", "threads_per_sm", "occupancy").
  func setDevice(_ key: String, _ value: String) {
    set(key, value)
    CUDADevice.forgetAll(driverPath: driverPath)
  }

  /// The calls recorded since the last reset, one per line.
  var log: [String] { logFunction().map { String(cString: $0) }?.split(separator: "\n").map(String.init) ?? [] }

  /// Device allocations not freed yet.
  var liveAllocations: Int { liveFunction() }

  /// An engine on the mock, with a private CUBIN cache in the mock's directory.
  func engine(scheme: CUDAScheme? = nil, deviceID: Int = -1) -> CUDAKernelEngine {
    CUDAKernelEngine(
      deviceID: deviceID, scheme: scheme, driverLibrary: driverPath, nvrtcLibrary: testNVRTCPath(),
      cacheDirectory: directory + "/cache")
  }
}

/// Compiles generated kernels for the CPU: each source in its own namespace, its entry points
/// renamed with a prefix, plus `extern "C" emu_<prefix><entry>(grid, block, params)` wrappers
/// that the mock's `cuLaunchKernel` calls.
enum Emulation {
  /// The C++ translation unit of one kernel.
  static func translationUnit(prefix: String, source: CUDAKernelSource, sourcePath: String) -> String {
    var s = "#include \"cuda_emu.h\"\nnamespace \(prefix) {\n"
    for e in CUDAKernelSource.EntryPoint.allCases { s += "#define \(e.rawValue) \(prefix)\(e.rawValue)\n" }
    s += "#include \"\(sourcePath)\"\n"
    for e in CUDAKernelSource.EntryPoint.allCases { s += "#undef \(e.rawValue)\n" }
    for e in source.entryPoints {
      let args = source.parameterTypes(of: e).enumerated().map { "*(\($0.element) *)p[\($0.offset)]" }
      s += """
        extern "C" void emu_\(prefix)\(e.rawValue)(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, void **p) {
          cuda_emu::launch(dim3(gx, gy, gz), dim3(bx, by, bz), [&] { \(prefix)\(e.rawValue)(\(args.joined(separator: ", "))); });
        }

        """
    }
    return s + "}\n"
  }

  /// Builds one shared library holding the emulation of every source (2 compilers in parallel).
  static func build(_ kernels: [(prefix: String, source: CUDAKernelSource)], in directory: String) throws -> String {
    var units: [String] = []
    for (prefix, source) in kernels {
      let cu = "\(directory)/\(prefix).cu"
      try writeFile(cu, source.text)
      let unit = "\(directory)/\(prefix)_emu.cpp"
      try writeFile(unit, translationUnit(prefix: prefix, source: source, sourcePath: cu))
      units.append(unit)
    }
    let include = String(TestPaths.emulationHeader.dropLast("/cuda_emu.h".count))
    let flags = ["-std=c++17", "-O1", "-g", "-fPIC", "-ffp-contract=off", "-fno-fast-math", "-Wall", "-Wno-unused", "-I", include]
    let script = """
      set -e
      cd '\(directory)'
      printf '%s\\n' \(units.map { "'\($0)'" }.joined(separator: " ")) | xargs -P 2 -I{} g++ \(flags.map { "'\($0)'" }.joined(separator: " ")) -c {} -o {}.o
      g++ -shared -o libks_emu.so *_emu.cpp.o

      """
    try writeFile(directory + "/build.sh", script)
    let r = run("/bin/sh", [directory + "/build.sh"])
    guard r.status == 0 else { throw TestFailure("building the kernel emulation failed:\n\(r.output)") }
    return directory + "/libks_emu.so"
  }
}
