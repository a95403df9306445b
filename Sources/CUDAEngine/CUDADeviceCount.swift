import KernelEngines

extension CUDAKernelEngine {
  /// The number of CUDA devices the driver sees (0 without a driver or a GPU).
  public static func deviceCount(driverLibrary: String? = nil) -> Int {
    do throws(EngineError) {
      return try CUDADriver.load(path: driverLibrary).initialize()
    } catch {
      return 0
    }
  }
}
