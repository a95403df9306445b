import KernelEngines

/// The engines ks can run on, chosen by `backend=` (KeOps' names plus "reference").
public enum Backend {
  /// The values `backend=` accepts.
  public static let names = ["auto", "CPU", "GPU", "GPU_1D", "GPU_2D", "reference"]

  /// Resolves a backend name to an engine, or explains why it cannot be used.
  public static func engine(named name: String) throws(OperationError) -> any KernelEngine {
    switch name {
    case "reference":
      return ReferenceEngine()
    case "auto":
      return ReferenceEngine()
    case "CPU":
      throw .option(
        name: "backend",
        message: "the compiled CPU engine is not available in this build; use backend=\"reference\" or \"auto\"")
    case "GPU", "GPU_1D", "GPU_2D", "GPU_1D_host", "GPU_2D_host", "GPU_1D_device", "GPU_2D_device":
      throw .option(
        name: "backend",
        message: "backend \"\(name)\" needs the CUDA engine, which is not available in this build; use \"auto\" or \"CPU\"")
    default:
      throw .option(name: "backend", message: "unknown backend \"\(name)\"; expected one of \(names.map { "\"\($0)\"" }.joined(separator: ", "))")
    }
  }
}
