import Foundation
import Glibc
import KernelEngines
import Synchronization

/// The process group ks runs in: nil outside `mpirun`/`srun`, else the MPI world, plus what the
/// layers above need to know about it (only rank 0 prints; `--verbose` reports; the statement
/// running, for messages).
///
/// Started once by the executable before any script runs (`start(environment:)`), finished once
/// after the script (`finish(status:)`): that last exchange is itself checked against the other
/// ranks' calls, so a rank that stops early cannot leave the others waiting.
public enum Distributed {
  nonisolated(unsafe) private static var worldStorage: (any Communicator)?
  private static let state = Mutex(State())

  struct State {
    var verbose = false
    var location = ""
    var lastReported: [UInt64] = []
    var rankErrorText = ""
    var failedStatements = 0
  }

  /// The MPI world, or nil when ks runs as one process.
  public static var world: (any Communicator)? { worldStorage }
  /// The number of processes taking part (1 without MPI).
  public static var size: Int { worldStorage?.size ?? 1 }
  public static var rank: Int { worldStorage?.rank ?? 0 }

  /// `--verbose`: each rank reports the rows it computes, on standard error.
  public static var verbose: Bool {
    get { state.withLock { $0.verbose } }
    set { state.withLock { $0.verbose = newValue } }
  }

  /// Where the running statement is (`script.ks:12`), for messages about diverging ranks.
  public static var location: String {
    get { state.withLock { $0.location } }
    set { state.withLock { $0.location = newValue } }
  }

  /// The standard error of this rank: ranks other than 0 have their stdout and stderr sent to
  /// /dev/null, and write rank-specific lines (`--verbose`, their own errors) here.
  nonisolated(unsafe) static var rankErrorDescriptor: Int32 = 2

  /// Writes one line to this rank's own standard error (every rank's, not only rank 0's).
  public static func reportLine(_ line: String) {
    let text = line.hasSuffix("\n") ? line : line + "\n"
    _ = text.withCString { write(rankErrorDescriptor, $0, strlen($0)) }
  }

  /// Whether the environment says this process was started by `mpirun`/`mpiexec` (Open MPI sets
  /// `OMPI_COMM_WORLD_SIZE`) or by a PMIx launcher such as Slurm's `srun --mpi=pmix` (`PMIX_RANK`).
  /// `KS_MPI=0` runs each process alone; `KS_MPI=1` starts MPI whatever the environment says.
  public static func launchedByMPI(_ environment: [String: String]) -> Bool {
    switch environment["KS_MPI"] {
    case "0": return false
    case "1": return true
    default: return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }
  }

  /// A warning for `srun` without an MPI plugin: Slurm started several tasks, but none of them
  /// can join an MPI job, so each would run the whole script alone (nil when that is not the case).
  public static func unjoinedLauncherWarning(_ environment: [String: String]) -> String? {
    guard !launchedByMPI(environment), environment["KS_MPI"] != "0",
      let tasks = environment["SLURM_NTASKS"].flatMap(Int.init), tasks > 1, environment["SLURM_PROCID"] != nil
    else { return nil }
    return "ks: warning: srun started \(tasks) tasks but gave them no MPI environment (no PMIX_RANK): each runs the whole script alone; use srun --mpi=pmix (or KS_MPI=0 to silence this)"
  }

  /// Starts MPI when `launchedByMPI(environment)`: loads Open MPI with `dlopen`, initializes it,
  /// divides the host's cores among the ranks on it, and silences the standard output and error
  /// of every rank but 0. Returns false (and does nothing) outside MPI.
  @discardableResult
  public static func start(environment: [String: String]) throws(MPIError) -> Bool {
    guard worldStorage == nil else { return true }
    guard launchedByMPI(environment) else { return false }
    let world = try MPICommunicator.start(environment: environment)
    install(world)
    return true
  }

  /// Makes `world` the process group (`start` does it for MPI; tests may pass their own).
  public static func install(_ world: any Communicator) {
    worldStorage = world
    ProcessInfoCores.sharedBy = world.localSize
    if world.rank != 0 {
      fflush(nil)
      let saved = dup(2)
      let null = open("/dev/null", O_WRONLY)
      if saved >= 0 && null >= 0 {
        rankErrorDescriptor = saved
        dup2(null, 1)
        dup2(null, 2)
        close(null)
      }
    }
  }

  /// Counts a failed statement of this rank and keeps its error text: a rank other than 0 prints
  /// it (on its own standard error) only when rank 0 did not fail the same way.
  public static func noteFailure(_ errorText: String) {
    state.withLock {
      $0.failedStatements += 1
      $0.rankErrorText += errorText
    }
  }

  /// The last exchange of a run: every rank says it finished with `status` (0 ok, 1 a statement
  /// failed, 130 interrupted). A rank that failed when rank 0 did not prints its own error; rank 0
  /// names the ranks that ended differently. Then MPI is finalized. Returns the status to exit with.
  public static func finish(status: Int32) -> Int32 {
    guard let world = worldStorage else { return status }
    let failures = state.withLock { $0.failedStatements }
    let record = CallRecord.finished(status: status, failures: failures, location: location)
    let records: [CallRecord]
    do {
      records = try world.allgather(record.bytes).map(CallRecord.init(bytes:))
    } catch {
      reportLine("ks: rank \(world.rank): \(error.message)")
      world.abort(status == 0 ? 1 : status)
    }
    if let problem = CallRecord.mismatch(records, rankNames: nil) {
      reportDivergence(problem, records: records, world: world)
      world.finalize()
      return status == 0 ? 1 : status
    }
    var code = status
    let mine = records[world.rank], first = records[0]
    if world.rank != 0 && (mine.status != first.status || mine.failures != first.failures) {
      let text = state.withLock { $0.rankErrorText }
      for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
        reportLine("ks: rank \(world.rank): \(line)")
      }
    }
    if world.rank == 0 {
      let differing = records.indices.filter { records[$0].status != first.status || records[$0].failures != first.failures }
      if !differing.isEmpty {
        reportLine(
          "ks: error: rank\(differing.count == 1 ? "" : "s") \(differing.map(String.init).joined(separator: ", ")) ended differently from rank 0 (\(differing.map { records[$0].summary }.joined(separator: "; "))); their errors are above")
      }
    }
    if records.contains(where: { $0.status != 0 }) && code == 0 { code = 1 }
    world.finalize()
    return code
  }

  /// Prints why the ranks diverged: rank 0 the common message; a rank that stopped on an error
  /// of its own, that error. Every rank sees the same records, so every rank stops.
  static func reportDivergence(_ problem: String, records: [CallRecord], world: any Communicator) {
    let mine = records[world.rank]
    if world.rank != 0 && mine.kind == .finished && mine.status != 0 {
      let text = state.withLock { $0.rankErrorText }
      for line in text.split(separator: "\n") { reportLine("ks: rank \(world.rank): \(line)") }
    }
    if world.rank == 0 { reportLine("ks: error: \(problem)") }
  }

  /// Stops this rank after a divergence that every rank detected in the same exchange: finalize
  /// (the others do the same) and exit 1.
  static func stopDiverged(_ problem: String, records: [CallRecord], world: any Communicator) -> Never {
    reportDivergence(problem, records: records, world: world)
    world.finalize()
    exit(1)
  }

  /// Remembers `key` as the last call reported by `--verbose`; false when it was already the last
  /// (a solver's repeated operator applications are reported once).
  static func shouldReport(_ key: [UInt64]) -> Bool {
    state.withLock { s in
      if s.lastReported == key { return false }
      s.lastReported = key
      return true
    }
  }
}
