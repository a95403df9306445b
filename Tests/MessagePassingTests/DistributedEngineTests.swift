import Synchronization
import ArrayIO
import CPUEngine
import Foundation
import KernelEngines
import KernelOperations
import Testing

@testable import MessagePassing

/// An in-process stand-in for an MPI world: `size` threads, one `ThreadCommunicator` each,
/// exchanging through a shared rendezvous (the same collective semantics as MPI's allgather).
final class ThreadGroup: @unchecked Sendable {
  let size: Int
  private let condition = NSCondition()
  private var slots: [[UInt8]?]
  private var arrived = 0
  private var generation = 0
  private var results: [[UInt8]] = []

  init(size: Int) {
    self.size = size
    slots = Array(repeating: nil, count: size)
  }

  func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
    condition.lock()
    defer { condition.unlock() }
    let mine = generation
    slots[rank] = bytes
    arrived += 1
    if arrived == size {
      results = slots.map { $0! }
      slots = Array(repeating: nil, count: size)
      arrived = 0
      generation += 1
      condition.broadcast()
    } else {
      while generation == mine { condition.wait() }
    }
    return results
  }

  /// Runs `body(communicator)` on `size` threads and returns their results in rank order.
  func run<T: Sendable>(_ body: @escaping @Sendable (ThreadCommunicator) -> T) -> [T] {
    let out = Mutex<[Int: T]>([:])
    let threads = (0..<size).map { r in
      Thread { [self] in
        let value = body(ThreadCommunicator(rank: r, group: self))
        out.withLock { $0[r] = value }
      }
    }
    threads.forEach { $0.start() }
    while out.withLock({ $0.count }) < size { usleep(1000) }
    return (0..<size).map { r in out.withLock { $0[r]! } }
  }
}

final class ThreadCommunicator: Communicator, @unchecked Sendable {
  let rank: Int
  let group: ThreadGroup
  var size: Int { group.size }
  var localRank: Int { rank }
  var localSize: Int { group.size }
  var hostName: String { "test" }

  init(rank: Int, group: ThreadGroup) {
    self.rank = rank
    self.group = group
  }

  func allgather(_ record: [UInt8]) throws(MPIError) -> [[UInt8]] { group.exchange(rank: rank, record) }

  func allgatherv(_ local: [Double], counts: [Int], width: Int) throws(MPIError) -> [Double] {
    let bytes = local.withUnsafeBytes { Array($0) }
    let all = group.exchange(rank: rank, bytes)
    var out: [Double] = []
    for (r, b) in all.enumerated() {
      #expect(b.count == counts[r] * width * 8)
      out += b.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }
    return out
  }

  func finalize() {}
  func abort(_ code: Int32) -> Never { fatalError("abort(\(code)) in a test") }
}



/// An engine that fails on one rank: what a rank whose GPU runs out of memory looks like.
struct FailingOnRank: KernelEngine {
  let rank: Int
  let failingRank: Int
  let inner: any KernelEngine
  var name: String { inner.name }
  func reduce(_ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?) throws(EngineError) -> [Double] {
    if rank == failingRank { throw .failed("out of memory on this rank") }
    return try inner.reduce(plan, arguments, cancel: cancel)
  }
}

@Suite struct DistributedEngineTests {
  static func arrays(_ m: Int, _ n: Int, seed: UInt64) -> (NDArray, NDArray, NDArray) {
    var state = seed
    func next() -> Double {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
    let x = NDArray(shape: [m, 3], float64: (0..<(3 * m)).map { _ in next() })
    let y = NDArray(shape: [n, 3], float64: (0..<(3 * n)).map { _ in next() })
    let b = NDArray(shape: [n, 2], float64: (0..<(2 * n)).map { _ in next() })
    return (x, y, b)
  }

  /// The Gaussian Sum (the vectorized kernel) and ArgKMin, split over 2 and 3 ranks with uneven
  /// blocks, give every rank the one-process result bit for bit.
  @Test(arguments: [2, 3])
  func splitReductionsAreBitwiseTheOneProcessResult(ranks: Int) throws {
    let (x, y, b) = Self.arrays(1000, 700, seed: 7)
    var sum = GenredOptions(); sum.axis = 1
    var knn = GenredOptions(); knn.axis = 1; knn.reductionOp = "ArgKMin"; knn.optArg = 5
    let cases: [(Genred, [NDArray])] = [
      (try Genred(formula: "Exp(-SqDist(x, y)) * b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], options: sum), [x, y, b]),
      (try Genred(formula: "SqDist(x, y)", aliases: ["x = Vi(3)", "y = Vj(3)"], options: knn), [x, y]),
    ]
    for (g, args) in cases {
      let (plan, prepared) = try g.prepare(args)
      let expected = try CPUKernelEngine().reduce(plan, prepared, cancel: nil)
      let results = ThreadGroup(size: ranks).run { comm in
        Result { () throws(EngineError) in
          try DistributedEngine(local: CPUKernelEngine(threads: 1), world: comm, engineDetail: "CPU")
            .reduce(plan, prepared, cancel: nil)
        }
      }
      for (r, result) in results.enumerated() {
        let got = try result.get()
        #expect(got.count == expected.count)
        let differing = zip(got, expected).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "rank \(r) of \(ranks), \(g.reductionOp): \(differing) values differ from one process's")
      }
    }
  }

  /// Block-sparse ranges are shifted and clipped to each rank's rows.
  @Test func rangesFollowTheRowBlocks() throws {
    let (x, y, b) = Self.arrays(300, 200, seed: 3)
    var o = GenredOptions(); o.axis = 1
    let g = try Genred(formula: "Exp(-SqDist(x, y)) * b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], options: o)
    func ints(_ v: [Int64], _ shape: [Int]) -> NDArray { NDArray(shape: shape, int64: v) }
    // Output blocks [0,50), [50,250), [250,300) reduced over [0,100), [100,200), [0,200).
    let ranges = [
      ints([0, 50, 50, 250, 250, 300], [3, 2]), ints([1, 2, 3], [3]), ints([0, 100, 100, 200, 0, 200], [3, 2]),
      ints([0, 200], [1, 2]), ints([1], [1]), ints([0, 300], [1, 2]),
    ]
    let (plan, prepared) = try g.prepare([x, y, b], ranges: ranges)
    let expected = try ReferenceEngine().reduce(plan, prepared, cancel: nil)
    let results = ThreadGroup(size: 3).run { comm in
      Result { () throws(EngineError) in
        try DistributedEngine(local: ReferenceEngine(), world: comm, engineDetail: "reference").reduce(plan, prepared, cancel: nil)
      }
    }
    for result in results { #expect(try result.get() == expected) }
    #expect(rowBlock(rows: 300, rank: 1, ranks: 3) == 128..<256)
  }

  /// One rank's engine failing fails the call on every rank (nobody waits in the gather), and the
  /// other ranks' errors name it.
  @Test func aRankFailureFailsTheCallEverywhere() throws {
    let (x, y, b) = Self.arrays(200, 100, seed: 5)
    var o = GenredOptions(); o.axis = 1
    let g = try Genred(formula: "Exp(-SqDist(x, y)) * b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], options: o)
    let (plan, prepared) = try g.prepare([x, y, b])
    let results = ThreadGroup(size: 3).run { comm in
      Result { () throws(EngineError) in
        let local = FailingOnRank(rank: comm.rank, failingRank: 1, inner: ReferenceEngine())
        return try DistributedEngine(local: local, world: comm, engineDetail: "reference").reduce(plan, prepared, cancel: nil)
      }
    }
    let errors = results.map { r -> String in
      if case .failure(let e) = r { return e.description }
      return "no error"
    }
    #expect(errors == ["rank 1 failed: out of memory on this rank", "out of memory on this rank", "rank 1 failed: out of memory on this rank"])
  }

  @Test func recordsRoundTripAndNameTheDifference() throws {
    let (x, y, b) = Self.arrays(50, 40, seed: 1)
    var o = GenredOptions(); o.axis = 1
    let g = try Genred(formula: "Exp(-SqDist(x, y)) * b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], options: o)
    let (plan, prepared) = try g.prepare([x, y, b])
    let rec = CallRecord.reduction(plan, prepared, location: "demo.ks:7")
    #expect(rec.bytes.count == CallRecord.byteCount)
    #expect(CallRecord(bytes: rec.bytes) == rec)
    #expect(rec.text == "Sum reduction of Mult(Exp(Minus(SqDist(x,y))),b)")
    #expect(CallRecord.mismatch([rec, rec, rec], rankNames: plan.formula.argumentNames) == nil)

    var other = prepared
    other.arrays[2] = NDArray(shape: [40, 2], float64: b.toDoubles().map { $0 * 2 })
    let changed = CallRecord.reduction(plan, other, location: "demo.ks:7")
    #expect(
      CallRecord.mismatch([rec, rec, changed], rankNames: plan.formula.argumentNames)
        == "rank 2's 'b' (argument 2) of Sum reduction of Mult(Exp(Minus(SqDist(x,y))),b) (demo.ks:7) differs from rank 0's: every rank must hold the same arrays (seed the random generator with np.random.seed, load the same files)")

    let failed = CallRecord.finished(status: 1, failures: 1, location: "demo.ks:3")
    #expect(
      CallRecord.mismatch([rec, failed], rankNames: nil)
        == "rank 1 stopped on an error at demo.ks:3 (its error follows) while rank 0 is at Sum reduction of Mult(Exp(Minus(SqDist(x,y))),b) (demo.ks:7); stopping every rank")
    let done = CallRecord.finished(status: 0, failures: 0, location: "demo.ks:9")
    #expect(CallRecord.mismatch([done, rec], rankNames: nil)?.hasPrefix("the ranks ran different statements: rank 0 finished the script while rank 1 is at Sum reduction") == true)
    #expect(CallRecord.mismatch([done, done], rankNames: nil) == nil)
  }

  @Test func mpiStartsOnlyUnderALauncher() {
    #expect(!Distributed.launchedByMPI([:]))
    #expect(Distributed.launchedByMPI(["OMPI_COMM_WORLD_SIZE": "2"]))
    #expect(Distributed.launchedByMPI(["PMIX_RANK": "0"]))
    #expect(!Distributed.launchedByMPI(["OMPI_COMM_WORLD_SIZE": "2", "KS_MPI": "0"]))
    #expect(Distributed.launchedByMPI(["KS_MPI": "1"]))
    #expect(Distributed.unjoinedLauncherWarning(["SLURM_NTASKS": "4", "SLURM_PROCID": "0"])?.contains("use srun --mpi=pmix") == true)
    #expect(Distributed.unjoinedLauncherWarning(["SLURM_NTASKS": "4", "SLURM_PROCID": "0", "PMIX_RANK": "0"]) == nil)
    #expect(Distributed.unjoinedLauncherWarning(["SLURM_NTASKS": "1", "SLURM_PROCID": "0"]) == nil)
    if case .failure(let e) = OpenMPI.load(["/nonexistent/libmpi.so.40"]) {
      #expect(e.message.hasPrefix("Open MPI's library cannot be loaded: /nonexistent/libmpi.so.40"))
    } else {
      Issue.record("a missing library loaded")
    }
  }
}

@Suite struct ArrayHashTests {
  /// Large arrays are hashed from a sample: equal arrays agree, arrays of other random data do not.
  @Test func largeArraysAreHashedFromASample() {
    var state: UInt64 = 42
    func next() -> Double {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return Double(state >> 11) / Double(1 << 53)
    }
    let a = NDArray(shape: [100_000, 3], float64: (0..<300_000).map { _ in next() })
    let b = NDArray(shape: [100_000, 3], float64: (0..<300_000).map { _ in next() })
    #expect(CallRecord.arrayHash(a) == CallRecord.arrayHash(NDArray(shape: [100_000, 3], float64: a.toDoubles())))
    #expect(CallRecord.arrayHash(a) != CallRecord.arrayHash(b))
    #expect(CallRecord.arrayHash(a) != CallRecord.arrayHash(a.reshaped([300_000, 1])))
    var last = a.toDoubles()
    last[last.count - 1] += 1
    #expect(CallRecord.arrayHash(a) != CallRecord.arrayHash(NDArray(shape: [100_000, 3], float64: last)))
  }
}
