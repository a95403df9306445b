import Synchronization
import ArrayIO
import Dispatch
import FormulaLanguage

/// The reference engine: a Swift interpreter of the validated formula tree, the oracle every other
/// engine is tested against.
///
/// It runs in parallel over output rows; within a row it evaluates each tree node over a block of
/// reduced indices at a time, so the interpretation cost is paid once per block, not per pair.
/// Memory is O(M + N): the M x N matrix is never built. Arithmetic is done in Double and rounded to
/// the plan's compute and accumulator precisions after every operation, which reproduces float32
/// arithmetic (exactly for + - * / and sqrt).
public struct ReferenceEngine: KernelEngine {
  public let name = "reference"
  /// Points per evaluation block.
  public var blockSize: Int

  public init(blockSize: Int = 256) {
    self.blockSize = blockSize
  }

  public func reduce(
    _ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?
  ) throws(EngineError) -> [Double] {
    let reduced = plan.formula.reducedCategory
    let program = FormulaProgram(plan.mapFormula, reducedCategory: reduced)
    let rootDim = program.steps[program.root].dim
    let rawDim = plan.formula.rawDimension
    let m = arguments.outputRows, n = arguments.reducedRows
    // Block-sparse mode: the block of each output row (-1: none) and the reduced intervals.
    let ranges = arguments.ranges
    if let ranges {
      do { try ranges.validate(outputRows: m, reducedRows: n) } catch { throw .failed("ranges: \(error.message)") }
    }
    let rowBlock = ranges?.blockOfRow(outputRows: m) ?? []
    // Inputs as contiguous doubles (O(M + N)).
    let data: [[Double]] = arguments.arrays.map { $0.toDoubles() }
    var output = [Double](repeating: 0, count: m * rawDim)
    if m == 0 { return output }

    let workers = max(1, min(m, ProcessInfoCores.count * 4))
    let rowsPerChunk = (m + workers - 1) / workers
    let chunks = (m + rowsPerChunk - 1) / rowsPerChunk
    let blockSize = self.blockSize
    let dataPrecision = Precision(plan.dataType)

    output.withUnsafeMutableBufferPointer { outBuffer in
      nonisolated(unsafe) let out = outBuffer.baseAddress!
      // Stable copies of the inputs for the worker threads, freed after the loop.
      let copies: [UnsafeMutableBufferPointer<Double>] = data.map { values in
        let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, values.count))
        _ = b.initialize(from: values)
        return b
      }
      defer { copies.forEach { $0.deallocate() } }
      do {
        nonisolated(unsafe) let args: [UnsafePointer<Double>] = copies.map { UnsafePointer($0.baseAddress!) }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
          let start = chunk * rowsPerChunk
          let end = min(m, start + rowsPerChunk)
          if start >= end { return }
          var state = ProgramState(
            program: program, blockSize: blockSize, round: plan.computePrecision,
            parameters: { args[$0] })
          defer { state.release() }
          var accumulator = Accumulator(
            kind: plan.formula.reduction, formulaDim: rootDim, scheme: plan.sumScheme,
            compute: plan.computePrecision, accumulate: plan.accumulatorPrecision, reducedRows: n,
            periodicFlush: ranges == nil)
          for i in start..<end {
            if let c = cancel, c.isCancelled { return }
            accumulator.reset()
            // The reduced intervals of this row: all of [0, n), or its block's (in order).
            var intervals: [(Int, Int)] = [(0, n)]
            if let ranges {
              let k = rowBlock[i]
              if k < 0 {
                // Not covered: KeOps' InitializeReduction then FinalizeOutput.
                accumulator.finish(into: out + i * rawDim, data: dataPrecision, finalOperation: false)
                continue
              }
              intervals = ranges.intervals(ofBlock: k).map { (ranges.reducedRanges[2 * $0], ranges.reducedRanges[2 * $0 + 1]) }
            }
            for (s, step) in program.steps.enumerated() {
              if case .variable(let arg, let cat) = step.kind, cat == plan.formula.outputCategory {
                state.bind(step: s, base: args[arg] + i * step.dim, stride: 0)
              }
            }
            state.run(count: 1, uniformOnly: true)
            for (lower, upper) in intervals {
              var j0 = lower
              while j0 < upper {
                let count = min(blockSize, upper - j0)
                for (s, step) in program.steps.enumerated() {
                  if case .variable(let arg, let cat) = step.kind, cat == reduced {
                    state.bind(step: s, base: args[arg] + j0 * step.dim, stride: step.dim)
                  }
                }
                state.run(count: count, uniformOnly: false)
                let root = state.operands[program.root]
                for p in 0..<count {
                  accumulator.add(root.base + p * root.stride, index: j0 + p)
                }
                j0 += count
              }
            }
            accumulator.finish(into: out + i * rawDim, data: dataPrecision)
          }
        }
      }
    }
    if let c = cancel, c.isCancelled { throw .cancelled }
    return output
  }
}

/// The number of CPU cores available to ks.
public enum ProcessInfoCores {
  /// The worker threads one process should use: the host's cores divided among the processes of
  /// one job that share the host (`sharedBy`, set when ks runs under mpirun), at least 1.
  public static var count: Int { max(1, sysconfNProcessors() / max(1, sharedBy)) }
  /// The host's cores, whatever `sharedBy` is.
  public static var hostCount: Int { max(1, sysconfNProcessors()) }
  /// How many processes of this job share the host's cores (1 outside MPI).
  public static var sharedBy: Int {
    get { shared.load(ordering: .relaxed) }
    set { shared.store(max(1, newValue), ordering: .relaxed) }
  }
  private static let shared = Atomic<Int>(1)
}
