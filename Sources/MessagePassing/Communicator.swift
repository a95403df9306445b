/// The collective operations ks's distributed reductions use, over a fixed group of ranks.
///
/// Every rank must call the same operations in the same order with matching sizes (MPI's rule);
/// `DistributedEngine` checks the call signatures first so that diverging scripts stop with a
/// clear error instead of a hang.
public protocol Communicator: AnyObject, Sendable {
  var rank: Int { get }
  var size: Int { get }
  /// This rank's position among the ranks on its host, and how many ranks share the host.
  var localRank: Int { get }
  var localSize: Int { get }
  /// A short name of where the rank runs (the host name).
  var hostName: String { get }
  /// Every rank's `record` (all records have the same length), in rank order.
  func allgather(_ record: [UInt8]) throws(MPIError) -> [[UInt8]]
  /// The concatenation, in rank order, of every rank's `local` values: rank r sends
  /// `counts[r] * width` doubles (`counts` is the same on every rank).
  func allgatherv(_ local: [Double], counts: [Int], width: Int) throws(MPIError) -> [Double]
  /// Ends the process group (every rank must call it); later calls are not allowed.
  func finalize()
  /// Stops every rank at once with exit status `code` (a failure that the others cannot learn of).
  func abort(_ code: Int32) -> Never
}
