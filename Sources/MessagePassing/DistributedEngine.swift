import ArrayIO
import Dispatch
import FormulaLanguage
import KernelEngines

/// An engine that splits a reduction's output rows across the ranks of an MPI job.
///
/// Each call: (1) every rank exchanges a `CallRecord` of the call (plan, sizes, a hash of each
/// array) and all stop with one clear error if they differ; (2) each rank computes its block of
/// rows (`rowBlock`) on its own `local` engine, from the same arrays restricted to those rows;
/// (3) the ranks exchange whether their block succeeded, so that one rank's failure fails the
/// call on every rank instead of leaving them waiting; (4) `MPI_Allgatherv` gives every rank the
/// whole output. Each row is computed by the same code as in a single process, on one rank, so
/// the result is bitwise the single-process result.
///
/// With no world (one process) it runs `local`, reporting the call when `Distributed.verbose`.
public struct DistributedEngine: KernelEngine {
  public let local: any KernelEngine
  public let world: (any Communicator)?
  /// What to say about the local engine in `--verbose` lines (`CPU, 1 thread`).
  public let engineDetail: String

  public init(local: any KernelEngine, world: (any Communicator)?, engineDetail: String) {
    self.local = local
    self.world = world
    self.engineDetail = engineDetail
  }

  public var name: String { local.name }

  public func reduce(_ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?) throws(EngineError) -> [Double] {
    let m = arguments.outputRows
    let width = plan.formula.rawDimension
    guard let world, world.size > 1 else {
      let start = DispatchTime.now().uptimeNanoseconds
      let out = try local.reduce(plan, arguments, cancel: cancel)
      report(plan, arguments, rows: 0..<m, rank: 0, size: 1, start: start)
      return out
    }
    // 1. The same call on every rank?
    let record = CallRecord.reduction(plan, arguments, location: Distributed.location)
    let records: [CallRecord]
    do {
      records = try world.allgather(record.bytes).map(CallRecord.init(bytes:))
    } catch {
      throw .failed(error.message)
    }
    if let problem = CallRecord.mismatch(records, rankNames: plan.formula.argumentNames) {
      Distributed.stopDiverged(problem, records: records, world: world)
    }
    // 2. This rank's rows.
    let block = rowBlock(rows: m, rank: world.rank, ranks: world.size)
    let start = DispatchTime.now().uptimeNanoseconds
    var outcome: Result<[Double], EngineError>
    do {
      outcome = .success(try local.reduce(plan, Self.restrict(arguments, plan: plan, to: block), cancel: cancel))
    } catch {
      outcome = .failure(error)
    }
    if case .success(let v) = outcome, v.count != block.count * width {
      outcome = .failure(.failed("the \(local.name) engine returned \(v.count) values for \(block.count) rows of width \(width)"))
    }
    // 3. Did every rank's block succeed?
    let statuses: [[UInt8]]
    do {
      statuses = try world.allgather(Self.statusRecord(outcome))
    } catch {
      throw .failed(error.message)
    }
    if case .failure(let e) = outcome { throw e }
    for (r, s) in statuses.enumerated() where s[0] != 0 {
      let text = String(decoding: s.dropFirst().prefix { $0 != 0 }, as: UTF8.self)
      throw .failed(s[0] == 2 ? "rank \(r) was interrupted" : "rank \(r) failed: \(text)")
    }
    guard case .success(let mine) = outcome else { throw .failed("internal error: no result") }
    report(plan, arguments, rows: block, rank: world.rank, size: world.size, start: start)
    // 4. Everyone gets every block.
    let counts = (0..<world.size).map { rowBlock(rows: m, rank: $0, ranks: world.size).count }
    do {
      return try world.allgatherv(mine, counts: counts, width: width)
    } catch {
      throw .failed(error.message)
    }
  }

  /// 256 bytes: 0 ok, 1 failed, 2 interrupted, then the error text.
  static func statusRecord(_ outcome: Result<[Double], EngineError>) -> [UInt8] {
    var record = [UInt8](repeating: 0, count: 256)
    if case .failure(let e) = outcome {
      record[0] = e == .cancelled ? 2 : 1
      for (k, b) in e.description.utf8.prefix(254).enumerated() { record[k + 1] = b }
    }
    return record
  }

  /// The call restricted to output rows `rows`: the output-category arrays sliced to those rows,
  /// block-sparse ranges shifted and clipped to them.
  public static func restrict(_ args: KernelArguments, plan: KernelPlan, to rows: Range<Int>) -> KernelArguments {
    if rows == 0..<args.outputRows { return args }
    var out = args
    out.outputRows = rows.count
    let category = plan.formula.outputCategory
    for (k, v) in plan.formula.arguments.enumerated() where v.category == category && k < args.arrays.count {
      out.arrays[k] = sliceRows(args.arrays[k], rows)
    }
    if var b = args.ranges {
      for k in 0..<(b.outputRanges.count / 2) {
        let lo = min(max(b.outputRanges[2 * k] - rows.lowerBound, 0), rows.count)
        let hi = min(max(b.outputRanges[2 * k + 1] - rows.lowerBound, lo), rows.count)
        b.outputRanges[2 * k] = lo
        b.outputRanges[2 * k + 1] = hi
      }
      out.ranges = b
    }
    return out
  }

  /// Rows `rows` of a 2-D array (or the same rows of a 1-D one).
  static func sliceRows(_ a: NDArray, _ rows: Range<Int>) -> NDArray {
    let rowWidth = a.shape.count > 1 ? a.shape.dropFirst().reduce(1, *) : 1
    let range = (rows.lowerBound * rowWidth)..<(rows.upperBound * rowWidth)
    var shape = a.shape
    shape[0] = rows.count
    switch a.storage {
    case .float64(let v): return NDArray(shape: shape, storage: .float64(Array(v[range])))
    case .float32(let v): return NDArray(shape: shape, storage: .float32(Array(v[range])))
    case .float16(let v): return NDArray(shape: shape, storage: .float16(Array(v[range])))
    case .int64(let v): return NDArray(shape: shape, storage: .int64(Array(v[range])))
    case .bool(let v): return NDArray(shape: shape, storage: .bool(Array(v[range])))
    case .complex64(let v): return NDArray(shape: shape, storage: .complex64(Array(v[range])))
    case .complex128(let v): return NDArray(shape: shape, storage: .complex128(Array(v[range])))
    }
  }

  func report(_ plan: KernelPlan, _ args: KernelArguments, rows: Range<Int>, rank: Int, size: Int, start: UInt64) {
    guard Distributed.verbose else { return }
    let key = [
      CallRecord.fnv(Array((CallRecord.planText(plan) + Distributed.location).utf8)), UInt64(args.outputRows),
      UInt64(args.reducedRows),
    ]
    guard Distributed.shouldReport(key) else { return }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let who = size > 1 ? "rank \(rank) of \(size)" : "one process"
    let location = Distributed.location.isEmpty ? "" : " (\(Distributed.location))"
    Distributed.reportLine(
      "ks: \(who), \(engineDetail): rows \(rows.lowerBound)..<\(rows.upperBound) of \(args.outputRows) (x \(args.reducedRows)), \(CallRecord.describe(plan))\(location), \(String(format: "%.3f", seconds)) s")
  }
}
