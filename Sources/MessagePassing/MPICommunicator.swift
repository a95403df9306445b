import Glibc

/// The world communicator of an Open MPI job, through `OpenMPI`'s `dlopen`ed functions.
public final class MPICommunicator: Communicator, @unchecked Sendable {
  let mpi: OpenMPI
  public let rank: Int
  public let size: Int
  public private(set) var localRank = 0
  public private(set) var localSize = 1
  public let hostName: String
  private var finished = false

  /// Loads Open MPI and initializes it (`MPI_Init_thread`, serialized calls), then learns which
  /// ranks share this host by exchanging host names.
  public static func start(environment: [String: String]) throws(MPIError) -> MPICommunicator {
    let mpi: OpenMPI
    switch OpenMPI.load(OpenMPI.candidates(environment: environment)) {
    case .success(let m): mpi = m
    case .failure(let e): throw e
    }
    var flag: Int32 = 0
    _ = mpi.initialized(&flag)
    if flag == 0 {
      var provided: Int32 = 0
      let rc = mpi.initThread(nil, nil, OpenMPI.threadSerialized, &provided)
      guard rc == 0 else { throw MPIError("MPI_Init_thread failed (error \(rc))") }
    }
    var r: Int32 = 0, s: Int32 = 0
    _ = mpi.commRank(mpi.commWorld, &r)
    _ = mpi.commSize(mpi.commWorld, &s)
    var name = [CChar](repeating: 0, count: 256)
    gethostname(&name, 255)
    let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let c = MPICommunicator(mpi: mpi, rank: Int(r), size: Int(s), hostName: host)
    var record = [UInt8](repeating: 0, count: 64)
    for (k, b) in host.utf8.prefix(63).enumerated() { record[k] = b }
    let hosts = try c.allgather(record)
    c.localRank = hosts[0..<c.rank].filter { $0 == record }.count
    c.localSize = hosts.filter { $0 == record }.count
    return c
  }

  init(mpi: OpenMPI, rank: Int, size: Int, hostName: String) {
    self.mpi = mpi
    self.rank = rank
    self.size = size
    self.hostName = hostName
  }

  public func allgather(_ record: [UInt8]) throws(MPIError) -> [[UInt8]] {
    let n = record.count
    var all = [UInt8](repeating: 0, count: n * size)
    let rc = record.withUnsafeBytes { send in
      all.withUnsafeMutableBytes { recv in
        mpi.allgather(send.baseAddress, Int32(n), mpi.byte, recv.baseAddress, Int32(n), mpi.byte, mpi.commWorld)
      }
    }
    guard rc == 0 else { throw MPIError("MPI_Allgather failed (error \(rc))") }
    return (0..<size).map { Array(all[($0 * n)..<(($0 + 1) * n)]) }
  }

  public func allgatherv(_ local: [Double], counts: [Int], width: Int) throws(MPIError) -> [Double] {
    precondition(counts.count == size && local.count == counts[rank] * width)
    let total = counts.reduce(0, +)
    var all = [Double](repeating: 0, count: total * width)
    if total == 0 || width == 0 { return all }
    guard total <= Int(Int32.max) else { throw MPIError("\(total) rows are too many for one MPI_Allgatherv (at most \(Int32.max))") }
    // One element = one row of `width` doubles, so the counts are rows (int32 holds 2^31 rows).
    var rowType: OpenMPI.Handle? = nil
    guard mpi.typeContiguous(Int32(width), mpi.double, &rowType) == 0, mpi.typeCommit(&rowType) == 0, let type = rowType
    else { throw MPIError("MPI_Type_contiguous(\(width), MPI_DOUBLE) failed") }
    defer { _ = mpi.typeFree(&rowType) }
    let counts32 = counts.map { Int32($0) }
    var displacements = [Int32](repeating: 0, count: size)
    for k in 1..<max(1, size) { displacements[k] = displacements[k - 1] + counts32[k - 1] }
    let rc = local.withUnsafeBytes { send in
      all.withUnsafeMutableBytes { recv in
        mpi.allgatherv(send.baseAddress, counts32[rank], type, recv.baseAddress, counts32, displacements, type, mpi.commWorld)
      }
    }
    guard rc == 0 else { throw MPIError("MPI_Allgatherv failed (error \(rc))") }
    return all
  }

  public func finalize() {
    if finished { return }
    finished = true
    var flag: Int32 = 0
    _ = mpi.finalized(&flag)
    if flag == 0 { _ = mpi.finalize() }
  }

  public func abort(_ code: Int32) -> Never {
    _ = mpi.abort(mpi.commWorld, code)
    exit(code)
  }
}
