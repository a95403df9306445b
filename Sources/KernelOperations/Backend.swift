import CPUEngine
import CUDAEngine
import Foundation
import Synchronization
import KernelEngines
import MessagePassing

/// The engines ks can run on, chosen by `backend=` (KeOps' names plus "reference").
///
/// - `"reference"`: the Swift interpreter (`ReferenceEngine`), the oracle.
/// - `"CPU"`: the compiled CPU engine (`CPUKernelEngine`); without a C compiler, a one-line error.
/// - `"GPU"`, `"GPU_1D"`, `"GPU_2D"`: the CUDA engine; `"GPU"` picks the scheme per call
///   (`CUDALaunchPolicy.preferredScheme`). KeOps' `_host`/`_device` suffixes are accepted and
///   mean the same (ks always copies the arrays from the host).
/// - `"auto"`: the CUDA engine when an NVIDIA GPU and an NVRTC that pairs with its driver are
///   present (probed once per process), else the CPU engine, falling back (with one warning) to
///   the reference engine when no C compiler is found. A GPU that ks cannot use (no NVRTC for
///   its driver's CUDA version, CUBINs the driver refuses) gives one warning and the CPU engine.
public enum Backend {
  /// The values `backend=` accepts.
  public static let names = ["auto", "CPU", "GPU", "GPU_1D", "GPU_2D", "reference"]


  /// Resolves a backend name to an engine, or explains in one line why it cannot be used.
  ///
  /// - Parameter deviceID: the GPU to use (`device_id`); -1 means device 0. A device that does
  ///   not exist is reported when the engine runs.
  public static func engine(named name: String, deviceID: Int = -1) throws(OperationError) -> any KernelEngine {
    try engine(named: name, deviceID: deviceID, blockSparse: false)
  }

  /// As `engine(named:deviceID:)`, for a call that needs the capabilities `needs` (`.blockSparse`
  /// for a `ranges=` call), checked against what the engines declare (`EngineRegistry`): a named
  /// backend whose engine lacks one is refused with one line; `"auto"` passes over such engines.
  ///
  /// Under MPI (`Distributed.world`), the engine is wrapped in a `DistributedEngine` that splits
  /// each reduction's output rows across the ranks, and `deviceID` -1 means the GPU numbered by
  /// the rank's position on its host (modulo the GPUs there): one rank per GPU.
  public static func engine(named name: String, deviceID: Int, blockSparse: Bool) throws(OperationError) -> any KernelEngine {
    try engine(named: name, deviceID: deviceID, needs: blockSparse ? [.blockSparse] : [])
  }

  /// See `engine(named:deviceID:blockSparse:)`.
  public static func engine(
    named name: String, deviceID: Int, needs: Set<EngineCapability>, registry: EngineRegistry = .standard
  ) throws(OperationError) -> any KernelEngine {
    try registry.require(needs, backend: name)
    let world = Distributed.world
    guard world != nil || Distributed.verbose else {
      return try localEngine(named: name, deviceID: deviceID, needs: needs, registry: registry)
    }
    var device = deviceID
    if device == -1, let world, world.localSize > 1, name != "CPU", name != "reference" {
      let count = hostGPUs.withLock { cached in
        if cached == nil { cached = CUDAKernelEngine.deviceCount() }
        return cached!
      }
      if count > 0 { device = world.localRank % count }
    }
    let local = try localEngine(named: name, deviceID: device, needs: needs, registry: registry)
    let threads = ProcessInfoCores.count
    let detail =
      local.name == "GPU" || local.name.hasPrefix("GPU")
      ? "\(local.name) device \(max(device, 0))" : "\(local.name), \(threads) thread\(threads == 1 ? "" : "s")"
    return DistributedEngine(local: local, world: world, engineDetail: detail)
  }

  /// The GPUs on this host, counted once (for one rank per GPU).
  private static let hostGPUs = Mutex<Int?>(nil)

  /// The number of processes a reduction is split across (1 without MPI).
  public static var ranks: Int { Distributed.size }

  static func localEngine(
    named name: String, deviceID: Int, needs: Set<EngineCapability>, registry: EngineRegistry
  ) throws(OperationError) -> any KernelEngine {
    let cpuFits = registry.supports(backend: "CPU", needs)
    switch name {
    case "reference":
      return ReferenceEngine()
    case "auto":
      let cpu: any KernelEngine =
        cpuFits
        ? FallbackEngine(primary: CPUKernelEngine(), fallback: ReferenceEngine(), fallbackName: "the reference engine")
        : ReferenceEngine()
      if !registry.supports(backend: "GPU", needs) { return cpu }
      let probe = CUDAKernelEngine.probeDetail()
      switch probe.result {
      case .success:
        return FallbackEngine(
          primary: CUDAKernelEngine(deviceID: deviceID), fallback: cpu,
          fallbackName: cpuFits ? "the CPU engine" : "the reference engine", sticky: true)
      case .failure(let why):
        // A GPU is there but ks cannot use it: say why, once. No GPU at all: the CPU, silently.
        if probe.gpuFound { FallbackEngine.warnOnce("ks: warning: \(why.description); using the CPU engine") }
        return cpu
      }
    case "CPU":
      // Without a C compiler the engine fails on its first call with a one-line reason.
      return CPUKernelEngine()
    case "GPU", "GPU_1D", "GPU_2D", "GPU_1D_host", "GPU_2D_host", "GPU_1D_device", "GPU_2D_device":
      if case .failure(let why) = CUDAKernelEngine.probe() {
        throw .option(
          name: "backend", message: "\(why.description) (backend=\"\(name)\" needs an NVIDIA GPU; use \"CPU\" or \"auto\")")
      }
      let scheme: CUDAScheme? = name.hasPrefix("GPU_1D") ? .oneD : (name.hasPrefix("GPU_2D") ? .twoD : nil)
      return CUDAKernelEngine(deviceID: deviceID, scheme: scheme)
    default:
      throw .option(name: "backend", message: "unknown backend \"\(name)\"; expected one of \(names.map { "\"\($0)\"" }.joined(separator: ", "))")
    }
  }
}

/// Runs `primary`, and when it is unavailable (no C compiler; a GPU whose driver refuses the
/// CUBINs), warns once on standard error and runs `fallback` instead: what `backend="auto"` does
/// with the CPU and CUDA engines. With `sticky`, once `primary` was unavailable the later calls go
/// straight to `fallback` (a GPU that cannot load one kernel cannot load the next).
struct FallbackEngine: KernelEngine {
  let primary: any KernelEngine
  let fallback: any KernelEngine
  var fallbackName = "the reference engine"
  var sticky = false
  var name: String { primary.name }

  private static let warned = Mutex<Set<String>>([])
  private static let givenUp = Mutex<Set<String>>([])

  /// Writes `line` to standard error, the first time only.
  static func warnOnce(_ line: String) {
    let first = warned.withLock { $0.insert(line).inserted }
    if first { FileHandle.standardError.write(Data((line + "\n").utf8)) }
  }

  func reduce(_ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?) throws(EngineError) -> [Double] {
    if sticky && Self.givenUp.withLock({ $0.contains(primary.name) }) {
      return try fallback.reduce(plan, arguments, cancel: cancel)
    }
    do {
      return try primary.reduce(plan, arguments, cancel: cancel)
    } catch {
      guard case .unavailable(let why) = error else { throw error }
      if sticky { _ = Self.givenUp.withLock { $0.insert(primary.name) } }
      let first = Self.warned.withLock { $0.insert("fallback:" + primary.name).inserted }
      if first {
        FileHandle.standardError.write(Data("ks: warning: \(why); using \(fallbackName)\n".utf8))
      }
      return try fallback.reduce(plan, arguments, cancel: cancel)
    }
  }
}
