/// Why MPI could not be started or a collective operation failed.
public struct MPIError: Error, Sendable, CustomStringConvertible, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
