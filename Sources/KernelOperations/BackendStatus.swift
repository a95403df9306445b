import CPUEngine
import CUDAEngine

extension Backend {
  /// Whether the CUDA engine can run here (a driver, a GPU, and an NVRTC for it): PyKeOps'
  /// `pykeops.config.gpu_available`.
  public static var gpuAvailable: Bool {
    if case .success = CUDAKernelEngine.probe() { return true }
    return false
  }

  /// The number of GPUs the CUDA driver sees (`get_gpu_number()`); 0 without one.
  public static var gpuCount: Int { gpuAvailable ? CUDAKernelEngine.deviceCount() : 0 }

  /// Removes every compiled kernel from the cache (CPU libraries and CUDA CUBINs), as
  /// `ks cache clear` and `pykeops.clean_pykeops()` do; the number of files removed.
  public static func clearKernelCaches() throws -> Int {
    try KernelCache.clear() + CUBINCache.clear()
  }
}
