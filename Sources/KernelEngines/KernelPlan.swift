import ArrayIO
import FormulaLanguage
import Synchronization

/// A floating-point format used for computing or accumulating.
public enum Precision: String, Sendable, Hashable {
  case float16, float32, float64

  /// Rounds a double to this format (the reference engine's emulation of float arithmetic).
  @inline(__always) public func round(_ x: Double) -> Double {
    switch self {
    case .float64: return x
    case .float32: return Double(Float(x))
    case .float16: return Double(Float16(Float(x)))
    }
  }

  public init(_ dtype: DType) {
    switch dtype {
    case .float16: self = .float16
    case .float32: self = .float32
    default: self = .float64
    }
  }
}

/// How sums are accumulated (keops-semantics.md section 4.3).
public enum SumScheme: String, Sendable, Hashable, CaseIterable {
  case directSum = "direct_sum"
  case blockSum = "block_sum"
  case kahanScheme = "kahan_scheme"
}

/// Everything an engine needs to run one reduction, with every option already resolved.
public struct KernelPlan: Sendable {
  public var formula: ReducedFormula
  /// The dtype of the input and output arrays.
  public var dataType: DType
  /// The precision formulas are evaluated in: float32 for float16 and float32 data.
  public var computePrecision: Precision
  /// The precision of the accumulator (dtype_acc).
  public var accumulatorPrecision: Precision
  public var sumScheme: SumScheme

  public init(
    formula: ReducedFormula, dataType: DType, computePrecision: Precision,
    accumulatorPrecision: Precision, sumScheme: SumScheme
  ) {
    self.formula = formula
    self.dataType = dataType
    self.computePrecision = computePrecision
    self.accumulatorPrecision = accumulatorPrecision
    self.sumScheme = sumScheme
  }

  /// Everything that determines a generated kernel: compiled engines memoize kernels by it.
  public struct Identity: Hashable, Sendable {
    public var formula: FormulaNode
    public var weight: FormulaNode?
    public var reduction: ReductionKind
    public var output: VariableCategory
    public var argumentCount: Int
    public var dataType: DType
    public var compute: Precision
    public var accumulator: Precision
    public var scheme: SumScheme
  }

  public var identity: Identity {
    Identity(
      formula: formula.formula, weight: formula.weight, reduction: formula.reduction,
      output: formula.outputCategory, argumentCount: formula.arguments.count, dataType: dataType,
      compute: computePrecision, accumulator: accumulatorPrecision, scheme: sumScheme)
  }

  /// The map formula the engine evaluates per (i, j): F, or Concat(f, g) for Max_SumShiftExpWeight.
  public var mapFormula: FormulaNode {
    if let g = formula.weight, formula.reduction == .maxSumShiftExpWeight,
      let concat = try? FormulaNode.make(Operation.named("Concat")!, [formula.formula, g])
    {
      return concat
    }
    return formula.formula
  }
}

/// The arrays of one call, checked against the plan: argument k is `arguments[k]`, with
/// `outputRows` rows in the output category and `reducedRows` in the reduced one.
public struct KernelArguments: Sendable {
  public var arrays: [NDArray]
  public var outputRows: Int
  public var reducedRows: Int
  /// Block-sparse mode (KeOps' `ranges=`), or nil for the dense reduction. Only the reference
  /// engine supports it; the others report `.unavailable`.
  public var ranges: BlockRanges?

  public init(arrays: [NDArray], outputRows: Int, reducedRows: Int, ranges: BlockRanges? = nil) {
    self.arrays = arrays
    self.outputRows = outputRows
    self.reducedRows = reducedRows
    self.ranges = ranges
  }
}

/// A flag polled by long computations; set it (from a signal handler or another thread) to stop them.
public final class CancellationToken: Sendable {
  private let flag = Atomic<Bool>(false)

  public init() {}

  public func cancel() { flag.store(true, ordering: .relaxed) }
  public func reset() { flag.store(false, ordering: .relaxed) }
  public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Errors an engine reports.
public enum EngineError: Error, Sendable, CustomStringConvertible, Equatable {
  case cancelled
  case unavailable(String)
  case failed(String)

  public var description: String {
    switch self {
    case .cancelled: return "interrupted"
    case .unavailable(let why): return why
    case .failed(let why): return why
    }
  }
}

/// A way to run reductions: the reference interpreter, compiled C, CUDA.
public protocol KernelEngine: Sendable {
  /// The name users select it by (`reference`, `CPU`, `GPU`).
  var name: String { get }
  /// Computes the raw reduction output, `outputRows x plan.formula.rawDimension` values in row-major
  /// order, each already rounded to the data dtype (KeOps' cast of the accumulator to TYPE).
  func reduce(_ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?) throws(EngineError) -> [Double]
}
