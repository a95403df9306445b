import Glibc

/// Open MPI's C library, opened with `dlopen` when ks runs under `mpirun` or `srun`: nothing in
/// ks links against MPI, so a ks built on a machine without Open MPI runs there unchanged.
///
/// Open MPI's handles (`MPI_COMM_WORLD`, `MPI_DOUBLE`, `MPI_SUM`...) are the addresses of its
/// predefined objects (`ompi_mpi_comm_world`...), so `dlsym` of those names gives the handles.
final class OpenMPI: @unchecked Sendable {
  typealias Handle = UnsafeMutableRawPointer

  let path: String
  let commWorld: Handle
  let byte: Handle
  let double: Handle
  let int64: Handle
  let opSum: Handle
  let opMax: Handle

  let initThread: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32
  let initialized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
  let finalized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
  let finalize: @convention(c) () -> Int32
  let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
  let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
  let allgather: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle) -> Int32
  let allgatherv: @convention(c) (
    UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>, Handle, Handle
  ) -> Int32
  let allreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
  let abort: @convention(c) (Handle, Int32) -> Int32
  let typeContiguous: @convention(c) (Int32, Handle, UnsafeMutablePointer<Handle?>) -> Int32
  let typeCommit: @convention(c) (UnsafeMutablePointer<Handle?>) -> Int32
  let typeFree: @convention(c) (UnsafeMutablePointer<Handle?>) -> Int32

  /// `MPI_THREAD_SERIALIZED` in Open MPI's enumeration (SINGLE, FUNNELED, SERIALIZED, MULTIPLE).
  static let threadSerialized: Int32 = 2

  /// The library names tried in order: `$KS_MPI_LIBRARY`, then Open MPI 4 and 5's soname.
  static func candidates(environment: [String: String]) -> [String] {
    [environment["KS_MPI_LIBRARY"] ?? "", "libmpi.so.40", "libmpi.so"].filter { !$0.isEmpty }
  }

  /// Opens the first candidate that loads and has every symbol ks uses, or says why none did.
  static func load(_ candidates: [String]) -> Result<OpenMPI, MPIError> {
    var first: String?
    for name in candidates {
      // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve their symbols against libmpi's.
      guard let h = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
        if first == nil { first = dlerror().map { String(cString: $0) } ?? "cannot open \(name)" }
        continue
      }
      do {
        return .success(try OpenMPI(path: name, handle: h))
      } catch {
        if first == nil { first = error.message }
      }
    }
    return .failure(MPIError("Open MPI's library cannot be loaded: \(first ?? "no candidate")"))
  }

  private init(path: String, handle h: UnsafeMutableRawPointer) throws(MPIError) {
    self.path = path
    func object(_ name: String) throws(MPIError) -> Handle {
      guard let p = dlsym(h, name) else { throw MPIError("\(path) has no symbol \(name) (not Open MPI?)") }
      return p
    }
    func function<T>(_ name: String, _ type: T.Type) throws(MPIError) -> T {
      unsafeBitCast(try object(name), to: T.self)
    }
    commWorld = try object("ompi_mpi_comm_world")
    byte = try object("ompi_mpi_byte")
    double = try object("ompi_mpi_double")
    int64 = try object("ompi_mpi_int64_t")
    opSum = try object("ompi_mpi_op_sum")
    opMax = try object("ompi_mpi_op_max")
    initThread = try function("MPI_Init_thread", type(of: initThread))
    initialized = try function("MPI_Initialized", type(of: initialized))
    finalized = try function("MPI_Finalized", type(of: finalized))
    finalize = try function("MPI_Finalize", type(of: finalize))
    commRank = try function("MPI_Comm_rank", type(of: commRank))
    commSize = try function("MPI_Comm_size", type(of: commSize))
    allgather = try function("MPI_Allgather", type(of: allgather))
    allgatherv = try function("MPI_Allgatherv", type(of: allgatherv))
    allreduce = try function("MPI_Allreduce", type(of: allreduce))
    abort = try function("MPI_Abort", type(of: abort))
    typeContiguous = try function("MPI_Type_contiguous", type(of: typeContiguous))
    typeCommit = try function("MPI_Type_commit", type(of: typeCommit))
    typeFree = try function("MPI_Type_free", type(of: typeFree))
  }
}
