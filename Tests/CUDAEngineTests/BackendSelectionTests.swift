import ArrayIO
import KernelEngines
import KernelOperations
import Testing

@testable import CUDAEngine

/// `backend=` names and the CUDA engine, on a machine with or without a GPU.
@Suite struct BackendSelectionTests {
  static var hasGPU: Bool {
    if case .success = CUDAKernelEngine.probe() { return true }
    return false
  }

  @Test(.enabled(if: !BackendSelectionTests.hasGPU, "checks the message given without a GPU"))
  func gpuBackendsWithoutAGPUSayWhyInOneLine() throws {
    guard case .failure(let why) = CUDAKernelEngine.probe() else { return }
    for name in ["GPU", "GPU_1D", "GPU_2D", "GPU_2D_device"] {
      do {
        _ = try Backend.engine(named: name)
        Issue.record("backend \(name) resolved without a GPU")
      } catch {
        guard case .option(let option, let message) = error else {
          Issue.record("expected an option error, got \(error)")
          continue
        }
        #expect(option == "backend")
        #expect(message == "\(why.description) (backend=\"\(name)\" needs an NVIDIA GPU; use \"CPU\" or \"auto\")")
        #expect(!message.contains("\n"))
      }
    }
    if !why.description.contains("NVRTC") {
      #expect(why == .unavailable("no NVIDIA driver: libcuda.so.1 not found"))
    }
  }

  @Test func autoUsesTheGPUOnlyWhenPresent() throws {
    let engine = try Backend.engine(named: "auto")
    #expect((engine is CUDAKernelEngine) == Self.hasGPU)
    if !Self.hasGPU { #expect(engine.name != "GPU") }
  }

  @Test(.enabled(if: BackendSelectionTests.hasGPU, "needs an NVIDIA GPU"))
  func gpuSchemesAndDevice() throws {
    let one = try #require(try Backend.engine(named: "GPU_1D", deviceID: 0) as? CUDAKernelEngine)
    #expect(one.scheme == .oneD && one.deviceID == 0)
    let two = try #require(try Backend.engine(named: "GPU_2D_host") as? CUDAKernelEngine)
    #expect(two.scheme == .twoD)
    let auto = try #require(try Backend.engine(named: "GPU") as? CUDAKernelEngine)
    #expect(auto.scheme == nil)
  }

  @Test(.enabled(if: !BackendSelectionTests.hasGPU, "checks the failure without a GPU"))
  func genredOnTheGPUBackendFailsCleanlyWithoutAGPU() throws {
    var o = GenredOptions()
    o.axis = 1
    let g = try Genred(formula: "SqDist(x,y)", aliases: ["x = Vi(3)", "y = Vj(3)"], options: o)
    let x = NDArray(shape: [2, 3], float64: [1, 2, 3, 4, 5, 6])
    do {
      _ = try g.call([x, x], backend: "GPU")
      Issue.record("ran on a GPU that is not there")
    } catch {
      #expect(error.description.hasPrefix("backend: no "))
      #expect(!error.description.contains("\n"))
    }
  }
}

/// The capability registry: what the engines declare, and what backend selection does with it.
@Suite struct EngineRegistryTests {
  /// The standard registry with the CUDA engine lacking `lacking`.
  static func registry(cudaLacking lacking: Set<EngineCapability>, cpuLacking: Set<EngineCapability> = []) -> EngineRegistry {
    var r = EngineRegistry.standard
    r.entries = r.entries.map { e in
      var e = e
      if e.backends.contains("GPU") { e.supported.subtract(lacking) }
      if e.backends.contains("CPU") { e.supported.subtract(cpuLacking) }
      return e
    }
    return r
  }

  @Test func everyBackendNameHasAnEntryAndEveryEngineRunsRanges() {
    let r = EngineRegistry.standard
    for name in Backend.names where name != "auto" {
      #expect(r.entry(forBackend: name) != nil, "\(name)")
    }
    for name in ["GPU_1D_host", "GPU_2D_device"] { #expect(r.entry(forBackend: name)?.engine == "the CUDA engine") }
    #expect(r.entry(forBackend: "auto") == nil)
    for e in r.entries { #expect(e.missing(Set(EngineCapability.allCases)).isEmpty, "\(e.engine)") }
    #expect(r.supports(backend: "GPU", [.blockSparse]))
  }

  @Test func aMissingCapabilityIsRefusedNamingTheEngineAndTheCapability() {
    let r = Self.registry(cudaLacking: [.blockSparse, .float16Data])
    do {
      _ = try Backend.engine(named: "GPU_1D", deviceID: -1, needs: [.blockSparse], registry: r)
      Issue.record("GPU_1D accepted ranges= though its engine lacks them")
    } catch {
      guard case .option(let name, let message) = error else {
        Issue.record("expected an option error, got \(error)")
        return
      }
      #expect(name == "backend")
      #expect(
        message == "backend=\"GPU_1D\" (the CUDA engine) does not support ranges= (block-sparse reductions); "
          + "use \"auto\", \"CPU\" or \"reference\"")
    }
    do {
      _ = try Backend.engine(named: "GPU", deviceID: -1, needs: [.float16Data, .blockSparse], registry: r)
      Issue.record("GPU accepted what it lacks")
    } catch {
      #expect(error.description.contains("does not support ranges= (block-sparse reductions), float16 data;"), "\(error)")
    }
    // Capabilities the engine has, or calls that need none, pass the check.
    #expect(throws: Never.self) { try r.require([.float32Data, .kahanSum], backend: "GPU") }
    #expect(throws: Never.self) { try r.require([.blockSparse], backend: "CPU") }
  }

  @Test func autoPassesOverEnginesThatLackACapability() throws {
    let noGPU = Self.registry(cudaLacking: [.blockSparse])
    let a = try Backend.engine(named: "auto", deviceID: -1, needs: [.blockSparse], registry: noGPU)
    #expect(!(a is CUDAKernelEngine) && a.name == "CPU")
    let neither = Self.registry(cudaLacking: [.blockSparse], cpuLacking: [.blockSparse])
    let b = try Backend.engine(named: "auto", deviceID: -1, needs: [.blockSparse], registry: neither)
    #expect(b is ReferenceEngine)
    // Without the need, the same registry picks the usual engine.
    let c = try Backend.engine(named: "auto", deviceID: -1, needs: [], registry: neither)
    #expect(c.name == (BackendSelectionTests.hasGPU ? "GPU" : "CPU"))
  }
}
