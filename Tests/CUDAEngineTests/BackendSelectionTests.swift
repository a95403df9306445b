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
