/// A feature a reduction may need from an engine.
public enum EngineCapability: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// `ranges=`: block-sparse reductions (keops-semantics.md section 4.4).
  case blockSparse = "ranges= (block-sparse reductions)"
  case float16Data = "float16 data"
  case float32Data = "float32 data"
  case float64Data = "float64 data"
  /// `sum_scheme="kahan_scheme"`.
  case kahanSum = "sum_scheme=\"kahan_scheme\""
  /// `sum_scheme="block_sum"`.
  case blockSum = "sum_scheme=\"block_sum\""
  /// `dtype_acc="float16"`.
  case float16Accumulator = "dtype_acc=\"float16\""
  /// Min, Max, ArgMin, ArgMax, Min_ArgMin, Max_ArgMax.
  case selectionReductions = "the Min/Max/ArgMin/ArgMax reductions"
  /// KMin, ArgKMin, KMin_ArgKMin.
  case kMinReductions = "the KMin/ArgKMin reductions"
  /// LogSumExp, SumSoftMaxWeight, Max_SumShiftExp(Weight).
  case shiftExpReductions = "the LogSumExp/SumSoftMaxWeight reductions"

  public var description: String { rawValue }

  /// The capability data of `dtype` needs.
  public static func data(_ p: Precision) -> EngineCapability {
    switch p {
    case .float16: return .float16Data
    case .float32: return .float32Data
    case .float64: return .float64Data
    }
  }
}

/// What one engine can run, declared by the engine (`ReferenceEngine.capabilities`,
/// `CPUKernelEngine.capabilities`, `CUDAKernelEngine.capabilities`) and read by backend selection
/// (`EngineRegistry` in KernelOperations), which refuses an unsupported combination with one line
/// naming the engine and what it lacks, and lets `backend="auto"` pass over such an engine.
public struct EngineCapabilities: Sendable {
  /// The engine's name in messages ("the CUDA engine").
  public var engine: String
  /// The `backend=` values that select it.
  public var backends: [String]
  public var supported: Set<EngineCapability>

  public init(engine: String, backends: [String], supported: Set<EngineCapability>) {
    self.engine = engine
    self.backends = backends
    self.supported = supported
  }

  /// The capabilities of `needs` this engine lacks, in declaration order.
  public func missing(_ needs: Set<EngineCapability>) -> [EngineCapability] {
    EngineCapability.allCases.filter { needs.contains($0) && !supported.contains($0) }
  }
}

extension ReferenceEngine {
  /// The Swift interpreter runs everything.
  public static let capabilities = EngineCapabilities(
    engine: "the reference engine", backends: ["reference"], supported: Set(EngineCapability.allCases))
}
