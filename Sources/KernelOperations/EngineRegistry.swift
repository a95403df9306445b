import CPUEngine
import CUDAEngine
import KernelEngines

/// The engines and what each declares it can run (`EngineCapabilities`), in `backend="auto"`'s
/// order of preference. Backend selection reads it: a named backend that lacks a capability the
/// call needs is refused with one line naming the engine, the capability and the backends that
/// have it; `"auto"` passes over such engines.
public struct EngineRegistry: Sendable {
  public var entries: [EngineCapabilities]

  public init(entries: [EngineCapabilities]) { self.entries = entries }

  /// The engines of this build: CUDA, the compiled CPU engine, the reference engine.
  public static let standard = EngineRegistry(
    entries: [CUDAKernelEngine.capabilities, CPUKernelEngine.capabilities, ReferenceEngine.capabilities])

  /// The entry `backend=name` selects, or nil ("auto", or an unknown name).
  public func entry(forBackend name: String) -> EngineCapabilities? {
    entries.first { $0.backends.contains(name) }
  }

  /// Whether the engine `backend=name` selects runs calls that need `needs` (true for names
  /// no entry declares).
  public func supports(backend name: String, _ needs: Set<EngineCapability>) -> Bool {
    entry(forBackend: name)?.missing(needs).isEmpty ?? true
  }

  /// Throws, for a backend whose engine lacks part of `needs`, the one-line refusal.
  public func require(_ needs: Set<EngineCapability>, backend name: String) throws(OperationError) {
    guard let entry = entry(forBackend: name) else { return }
    let missing = entry.missing(needs)
    guard let first = missing.first else { return }
    let others = entries.filter { $0.missing(needs).isEmpty }.flatMap { $0.backends.prefix(1) }
    let alternatives = (["auto"] + others).map { "\"\($0)\"" }
    let list = missing.map(\.description).joined(separator: ", ")
    throw .option(
      name: "backend",
      message: "backend=\"\(name)\" (\(entry.engine)) does not support \(missing.count == 1 ? first.description : list); "
        + "use \(alternatives.dropLast().joined(separator: ", ")) or \(alternatives.last!)")
  }
}
