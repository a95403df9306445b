import ArrayIO
import Dispatch
import FormulaLanguage
import KernelEngines
import Synchronization

/// The compiled CPU engine (`backend="CPU"`): each plan becomes C source (`KernelSource`), compiled
/// once with the system C compiler into a cached shared library (`KernelCache`), loaded with
/// `dlopen` and run in parallel over output rows.
///
/// Results: bit-identical to `ReferenceEngine` for every plan except Sum with `direct_sum` or
/// `block_sum` over SIMD-friendly formulas, which get the vectorized kernel (differences within
/// ~1e-6 of sum_j |F| in float32 and ~1e-13 in float64; see `KernelSource.vectorizedNotes`), and
/// the Max_SumShiftExp family (LogSumExp, SumSoftMaxWeight, ...), whose SIMD kernel differs
/// from the reference by rounding likewise (`KernelShape.simdShift`).
///
/// Parallelism: output rows are split into chunks handed to `threads` Dispatch workers (the C code
/// uses `-fopenmp-simd` for vectorization only, no OpenMP runtime). Cancellation: the kernel asks
/// the `CancellationToken` through a C callback once per chunk of rows (16 rows in the exact
/// kernel, 64 in the vectorized one) and stops with `EngineError.cancelled`.
///
/// ```swift
/// let engine = CPUKernelEngine()
/// let out = try engine.reduce(plan, arguments, cancel: nil)
/// ```
public struct CPUKernelEngine: KernelEngine {
  public let name = "CPU"
  /// Where libraries are cached; nil means `KernelCache.defaultDirectory` (read at each call).
  public let cacheDirectory: String?
  /// The compiler command; nil means `$CC`, else `cc`.
  public let compiler: String?
  /// Worker threads (default: the number of cores).
  public let threads: Int

  public init(cacheDirectory: String? = nil, compiler: String? = nil, threads: Int? = nil) {
    self.cacheDirectory = cacheDirectory
    self.compiler = compiler
    self.threads = max(1, threads ?? ProcessInfoCores.count)
  }

  /// Compiles (or finds in the caches) the kernel of `plan` without running it.
  public func prepare(_ plan: KernelPlan) throws(EngineError) {
    _ = try kernel(for: plan)
  }

  public func reduce(
    _ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?
  ) throws(EngineError) -> [Double] {
    if let ranges = arguments.ranges {
      do {
        try ranges.validate(outputRows: arguments.outputRows, reducedRows: arguments.reducedRows)
      } catch { throw .failed("ranges: \(error.message)") }
      let k = try kernel(for: plan, ranged: true)
      return try runRanged(k, plan, arguments, ranges, cancel: cancel)
    }
    let k = try kernel(for: plan)
    return try run(k, plan, arguments, cancel: cancel)
  }

  // MARK: - Kernel lookup

  /// What determines a kernel's source, plus where it is cached: the in-process memo key.
  struct PlanKey: Hashable {
    var plan: KernelPlan.Identity
    var directory: String
    var compiler: String?
    /// The block-sparse library (`KernelSource.generateRanged`) rather than the dense one.
    var ranged = false
  }

  private static let memo = Mutex<[PlanKey: CompiledKernel]>([:])

  func kernel(for plan: KernelPlan, ranged: Bool = false) throws(EngineError) -> CompiledKernel {
    let directory = cacheDirectory ?? KernelCache.defaultDirectory
    let key = PlanKey(plan: plan.identity, directory: directory, compiler: compiler, ranged: ranged)
    if let k = Self.memo.withLock({ $0[key] }) { return k }
    let cc = try Compiler.find(compiler)
    let source = ranged ? KernelSource.generateRanged(for: plan) : KernelSource.generate(for: plan)
    let k = try KernelCache.kernel(source: source, directory: directory, compiler: cc)
    if ranged && k.reduceRanges == nil { throw .failed("the block-sparse CPU kernel \(k.path) lacks ks_reduce_ranges") }
    Self.memo.withLock { $0[key] = k }
    return k
  }

  /// Forgets the kernels this process loaded from `directory` (tests only: none may be running).
  static func forgetKernels(in directory: String) {
    memo.withLock { table in
      for key in table.keys where key.directory == directory { table.removeValue(forKey: key) }
    }
    KernelCache.unload(directory: directory)
  }

  // MARK: - Running

  func run(
    _ k: CompiledKernel, _ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?
  ) throws(EngineError) -> [Double] {
    let m = arguments.outputRows, n = arguments.reducedRows
    let rawDim = plan.formula.rawDimension
    var output = [Double](repeating: 0, count: m * rawDim)
    if m == 0 || rawDim == 0 { return output }
    let double = plan.computePrecision == .float64
    let threads = self.threads
    let status: Int32 = output.withUnsafeMutableBufferPointer { outBuffer in
      Self.withArgumentPointers(arguments.arrays, double: double) { pointers in
        let scratchBytes = max(1, k.scratchBytes(n))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        defer { scratch.deallocate() }
        pointers.withUnsafeBufferPointer { k.prepare($0.baseAddress, n, scratch) }

        nonisolated(unsafe) let out = outBuffer.baseAddress!
        nonisolated(unsafe) let args = pointers
        nonisolated(unsafe) let scratchPointer = UnsafeRawPointer(scratch)
        let callback: CompiledKernel.CancelCallback? = cancel == nil ? nil : { ctx in
          Unmanaged<CancellationToken>.fromOpaque(ctx!).takeUnretainedValue().isCancelled ? 1 : 0
        }
        nonisolated(unsafe) let context = cancel.map { Unmanaged.passUnretained($0).toOpaque() }
        let call: @Sendable (Int, Int) -> Int32 = { i0, i1 in
          args.withUnsafeBufferPointer { k.reduce($0.baseAddress, m, n, i0, i1, scratchPointer, out, callback, context) }
        }

        // Small problems run on the calling thread; others in chunks of rows handed out dynamically.
        let pairs = Double(m) * Double(max(n, 1))
        if threads == 1 || m < 8 || pairs < 2e5 { return call(0, m) }
        let chunkRows = max(4, (m + threads * 16 - 1) / (threads * 16) + 3) / 4 * 4
        let chunks = (m + chunkRows - 1) / chunkRows
        let next = Atomic<Int>(0)
        let stop = Atomic<Int32>(0)
        DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
          while stop.load(ordering: .relaxed) == 0 {
            let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if c >= chunks { return }
            let rc = call(c * chunkRows, min(m, (c + 1) * chunkRows))
            if rc != 0 { stop.store(rc, ordering: .relaxed) }
          }
        }
        return stop.load(ordering: .relaxed)
      }
    }
    if status == 1 || cancel?.isCancelled == true { throw .cancelled }
    if status != 0 { throw .failed("the CPU kernel failed (status \(status))") }
    return output
  }

  /// Runs the block-sparse kernel: rows in chunks handed out dynamically, as `run`, each row
  /// reduced over the intervals of its block (rows of no block get the initial value). The SIMD
  /// kernels tile the rows of a block, so chunks are cut at block boundaries where they fall.
  func runRanged(
    _ k: CompiledKernel, _ plan: KernelPlan, _ arguments: KernelArguments, _ ranges: BlockRanges,
    cancel: CancellationToken?
  ) throws(EngineError) -> [Double] {
    let m = arguments.outputRows, n = arguments.reducedRows
    let rawDim = plan.formula.rawDimension
    var output = [Double](repeating: 0, count: m * rawDim)
    if m == 0 || rawDim == 0 { return output }
    guard let reduceRanges = k.reduceRanges else { throw .failed("the CPU kernel lacks ks_reduce_ranges") }
    // The block of each row (-1: none) and the number of pairs the blocks cover.
    var rowBlock = [Int](repeating: -1, count: m)
    var pairs = 0.0
    for b in 0..<ranges.blockCount {
      let lo = ranges.outputRanges[2 * b], hi = ranges.outputRanges[2 * b + 1]
      for i in lo..<hi { rowBlock[i] = b }
      var width = 0
      for l in (b == 0 ? 0 : ranges.sliceEnds[b - 1])..<ranges.sliceEnds[b] {
        width += ranges.reducedRanges[2 * l + 1] - ranges.reducedRanges[2 * l]
      }
      pairs += Double(hi - lo) * Double(width)
    }
    let double = plan.computePrecision == .float64
    let threads = self.threads
    let status: Int32 = output.withUnsafeMutableBufferPointer { outBuffer in
      rowBlock.withUnsafeBufferPointer { rowBlockBuffer in
        ranges.sliceEnds.withUnsafeBufferPointer { slicesBuffer in
          ranges.reducedRanges.withUnsafeBufferPointer { redBuffer in
            Self.withArgumentPointers(arguments.arrays, double: double) { pointers in
              // The SIMD kernels read the reduced variables from the scratch `ks_prepare` fills.
              let scratchBytes = max(1, k.scratchBytes(n))
              let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
              defer { scratch.deallocate() }
              pointers.withUnsafeBufferPointer { k.prepare($0.baseAddress, n, scratch) }
              nonisolated(unsafe) let scratchPointer = UnsafeRawPointer(scratch)
              nonisolated(unsafe) let out = outBuffer.baseAddress!
              nonisolated(unsafe) let args = pointers
              nonisolated(unsafe) let rows = rowBlockBuffer.baseAddress
              nonisolated(unsafe) let slices = slicesBuffer.baseAddress
              nonisolated(unsafe) let red = redBuffer.baseAddress
              let callback: CompiledKernel.CancelCallback? = cancel == nil ? nil : { ctx in
                Unmanaged<CancellationToken>.fromOpaque(ctx!).takeUnretainedValue().isCancelled ? 1 : 0
              }
              nonisolated(unsafe) let context = cancel.map { Unmanaged.passUnretained($0).toOpaque() }
              let call: @Sendable (Int, Int) -> Int32 = { i0, i1 in
                args.withUnsafeBufferPointer {
                  reduceRanges($0.baseAddress, m, n, i0, i1, rows, slices, red, scratchPointer, out, callback, context)
                }
              }
              if threads == 1 || m < 8 || pairs < 2e5 { return call(0, m) }
              // Smaller chunks than the dense kernel's: the work per row varies with its block.
              let chunkRows = max(1, (m + threads * 64 - 1) / (threads * 64))
              let chunks = (m + chunkRows - 1) / chunkRows
              let next = Atomic<Int>(0)
              let stop = Atomic<Int32>(0)
              DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
                while stop.load(ordering: .relaxed) == 0 {
                  let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                  if c >= chunks { return }
                  let rc = call(c * chunkRows, min(m, (c + 1) * chunkRows))
                  if rc != 0 { stop.store(rc, ordering: .relaxed) }
                }
              }
              return stop.load(ordering: .relaxed)
            }
          }
        }
      }
    }
    if status == 1 || cancel?.isCancelled == true { throw .cancelled }
    if status != 0 { throw .failed("the CPU kernel failed (status \(status))") }
    return output
  }

  /// Calls `body` with a pointer per argument to its values in the compute type (`double` or
  /// `float`), converting only the arrays whose storage differs (float16 data becomes float).
  static func withArgumentPointers<R>(
    _ arrays: [NDArray], double: Bool, _ body: ([UnsafeRawPointer?]) -> R
  ) -> R {
    var pointers: [UnsafeRawPointer?] = []
    func bind(_ k: Int) -> R {
      if k == arrays.count { return body(pointers) }
      func next(_ raw: UnsafeRawBufferPointer) -> R {
        pointers.append(raw.baseAddress)
        defer { pointers.removeLast() }
        return bind(k + 1)
      }
      switch arrays[k].storage {
      case .float64(let a) where double: return a.withUnsafeBytes(next)
      case .float32(let a) where !double: return a.withUnsafeBytes(next)
      default:
        let values = arrays[k].toDoubles()
        if double { return values.withUnsafeBytes(next) }
        return values.map { Float($0) }.withUnsafeBytes(next)
      }
    }
    return bind(0)
  }
}

extension CPUKernelEngine {
  /// The compiled CPU engine runs every reduction, dtype and sum scheme, dense or block-sparse
  /// (`KernelSource.generateRanged`).
  public static let capabilities = EngineCapabilities(
    engine: "the compiled CPU engine", backends: ["CPU"], supported: Set(EngineCapability.allCases))
}
