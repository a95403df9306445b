import Glibc
import KernelEngines
import Synchronization

/// NVIDIA's runtime compiler (libnvrtc), loaded with `dlopen`: ks has no link-time CUDA dependency.
///
/// ```swift
/// let nvrtc = try NVRTC.load()
/// let cubin = try nvrtc.compileCUBIN(source, architecture: 90)   // sm_90
/// ```
public final class NVRTC: @unchecked Sendable {
  typealias Version = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
  typealias CreateProgram =
    @convention(c) (
      UnsafeMutablePointer<OpaquePointer?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32,
      UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
    ) -> Int32
  typealias CompileProgram = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
  typealias GetSize = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> Int32
  typealias GetBytes = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int32
  typealias DestroyProgram = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Int32
  typealias ErrorString = @convention(c) (Int32) -> UnsafePointer<CChar>?
  typealias NumArchs = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
  typealias Archs = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32

  /// The library that was loaded (a name from the search list or a path).
  public let path: String
  /// NVRTC's version, e.g. (13, 5).
  public let version: (major: Int, minor: Int)
  /// The `sm_XY` architectures this NVRTC compiles for, as XY (e.g. 90); empty when it cannot say.
  public let supportedArchitectures: [Int]

  private let library: DynamicLibrary
  private let createProgram: CreateProgram
  private let compileProgram: CompileProgram
  private let logSize: GetSize
  private let log: GetBytes
  private let cubinSize: GetSize
  private let cubin: GetBytes
  private let destroyProgram: DestroyProgram
  private let errorString: ErrorString

  private init(library: DynamicLibrary) throws(EngineError) {
    self.library = library
    path = library.path
    let versionFunction = try library.symbol("nvrtcVersion", as: Version.self)
    createProgram = try library.symbol("nvrtcCreateProgram", as: CreateProgram.self)
    compileProgram = try library.symbol("nvrtcCompileProgram", as: CompileProgram.self)
    logSize = try library.symbol("nvrtcGetProgramLogSize", as: GetSize.self)
    log = try library.symbol("nvrtcGetProgramLog", as: GetBytes.self)
    cubinSize = try library.symbol("nvrtcGetCUBINSize", as: GetSize.self)
    cubin = try library.symbol("nvrtcGetCUBIN", as: GetBytes.self)
    destroyProgram = try library.symbol("nvrtcDestroyProgram", as: DestroyProgram.self)
    errorString = try library.symbol("nvrtcGetErrorString", as: ErrorString.self)
    var major: Int32 = 0, minor: Int32 = 0
    _ = versionFunction(&major, &minor)
    version = (Int(major), Int(minor))
    var archs: [Int] = []
    if let num = library.optionalSymbol("nvrtcGetNumSupportedArchs", as: NumArchs.self),
      let list = library.optionalSymbol("nvrtcGetSupportedArchs", as: Archs.self)
    {
      var n: Int32 = 0
      if num(&n) == 0 && n > 0 {
        var values = [Int32](repeating: 0, count: Int(n))
        if list(&values) == 0 { archs = values.map(Int.init) }
      }
    }
    supportedArchitectures = archs
  }

  private static let loaded = Mutex<[String: NVRTC]>([:])

  /// The library names and paths tried, in order: `$NVRTC_LIBRARY`, the loader's search path
  /// (`libnvrtc.so`, `.so.13`, `.so.12`), the CUDA toolkit (`$CUDA_HOME`, `/usr/local/cuda`), then
  /// the pip wheels `nvidia-cuda-nvrtc` (13.x: `nvidia/cu13/lib/libnvrtc.so.13`) and
  /// `nvidia-cuda-nvrtc-cu12` (`nvidia/cuda_nvrtc/lib/libnvrtc.so.12`) in the active virtualenv or
  /// conda environment, the user site and the system site-packages.
  public static func searchList() -> [String] {
    var names: [String] = []
    if let p = environment("NVRTC_LIBRARY") { names.append(p) }
    names += ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"]
    for root in [environment("CUDA_HOME"), environment("CUDA_PATH"), "/usr/local/cuda"].compactMap({ $0 }) {
      names += globPaths(root + "/lib64/libnvrtc.so.1[0-9]*").filter { !$0.contains("alt") }
    }
    var sites: [String] = []
    for prefix in [environment("VIRTUAL_ENV"), environment("CONDA_PREFIX")].compactMap({ $0 }) {
      sites += globPaths(prefix + "/lib/python3*/site-packages")
    }
    if let home = environment("HOME") { sites += globPaths(home + "/.local/lib/python3*/site-packages") }
    sites += globPaths("/usr/local/lib/python3*/dist-packages") + globPaths("/usr/local/lib/python3*/site-packages")
    sites += globPaths("/usr/lib/python3/dist-packages") + globPaths("/opt/conda/lib/python3*/site-packages")
    for site in sites {
      names += globPaths(site + "/nvidia/cu1[0-9]/lib/libnvrtc.so.1[0-9]").reversed()
      names += globPaths(site + "/nvidia/cuda_nvrtc/lib/libnvrtc.so.1[0-9]").reversed()
    }
    return names
  }

  /// Loads NVRTC from `path`, or else from the first loadable entry of `searchList()`; loaded
  /// libraries are kept for the life of the process.
  public static func load(path: String? = nil) throws(EngineError) -> NVRTC {
    let candidates = path.map { [$0] } ?? searchList()
    let key = candidates.joined(separator: "\n")
    if let n = loaded.withLock({ $0[key] }) { return n }
    switch DynamicLibrary.open(candidates) {
    case .success(let lib):
      let n = try NVRTC(library: lib)
      loaded.withLock { $0[key] = n }
      return n
    case .failure(let e):
      let tried =
        path.map { "tried \($0)" }
        ?? "tried $NVRTC_LIBRARY, libnvrtc.so, libnvrtc.so.13, libnvrtc.so.12, the CUDA toolkit and pip's nvidia-cuda-nvrtc"
      throw .unavailable(
        "no NVRTC: libnvrtc not found (\(tried): \(e.message)); "
          + "install it with `pip install nvidia-cuda-nvrtc` or set NVRTC_LIBRARY")
    }
  }

  // MARK: Pairing with the driver

  /// How well an NVRTC of version `nvrtc` pairs with a driver that supports CUDA `driver`, lower
  /// is better; nil when its CUBINs cannot load there.
  ///
  /// - 0: the same major version, not newer than the driver (what the driver was released with);
  /// - 1: the same major version, a newer minor (CUBINs load under CUDA's minor-version
  ///   compatibility);
  /// - 2: an older major version (a newer driver loads older CUBINs);
  /// - nil: a newer major version (a CUDA 12 driver refuses every CUBIN of NVRTC 13).
  public static func pairingRank(nvrtc: (major: Int, minor: Int), driver: (major: Int, minor: Int)) -> Int? {
    if nvrtc.major > driver.major { return nil }
    if nvrtc.major == driver.major { return nvrtc.minor <= driver.minor ? 0 : 1 }
    return 2
  }

  /// The index of the NVRTC to use among `candidates` (in search order) for a driver of CUDA
  /// version `driver` and a GPU `sm_<architecture>`: the best `pairingRank` among those that
  /// compile for the architecture (an empty architecture list means "unknown": accepted), the
  /// newest version within a rank, the earlier candidate on ties. Nil when none pairs.
  public static func choose(
    _ candidates: [(version: (major: Int, minor: Int), architectures: [Int])], driver: (major: Int, minor: Int),
    architecture: Int
  ) -> Int? {
    var best: (index: Int, rank: Int, version: (Int, Int))?
    for (k, c) in candidates.enumerated() {
      if !c.architectures.isEmpty && !c.architectures.contains(architecture) { continue }
      guard let rank = pairingRank(nvrtc: c.version, driver: driver) else { continue }
      let v = (c.version.major, c.version.minor)
      if let b = best, rank > b.rank || (rank == b.rank && v <= b.version) { continue }
      best = (k, rank, v)
    }
    return best?.index
  }

  private static let paired = Mutex<[String: NVRTC]>([:])

  /// The NVRTC whose CUBINs a driver of CUDA version `driver` loads, for `sm_<architecture>`
  /// (`choose`): `path` alone when given, else every loadable entry of `searchList()` (stopping
  /// at the first one of the driver's own major version that is not newer than it).
  ///
  /// - Throws: `EngineError.unavailable` with one line that names what was found and why it
  ///   cannot be used (newer than the driver, or not compiling for this GPU).
  public static func load(path: String?, driver: (major: Int, minor: Int), architecture: Int) throws(EngineError) -> NVRTC {
    let key = "\(path ?? "")|\(driver.major).\(driver.minor)|\(architecture)"
    if let n = paired.withLock({ $0[key] }) { return n }
    var found: [NVRTC] = []
    var firstError: EngineError?
    for name in path.map({ [$0] }) ?? searchList() where !name.isEmpty {
      do throws(EngineError) {
        let n = try load(path: name)
        if found.contains(where: { $0 === n }) { continue }
        found.append(n)
        let compiles = n.supportedArchitectures.isEmpty || n.supportedArchitectures.contains(architecture)
        if compiles && pairingRank(nvrtc: n.version, driver: driver) == 0 { break }
      } catch {
        if firstError == nil { firstError = error }
      }
    }
    if found.isEmpty {
      if path != nil, let e = firstError { throw e }
      _ = try load(path: nil)  // the usual "no NVRTC" message
    }
    let list = found.map { (version: $0.version, architectures: $0.supportedArchitectures) }
    guard let k = choose(list, driver: driver, architecture: architecture) else {
      let why = found.map { n -> String in
        let v = "NVRTC \(n.version.major).\(n.version.minor) (\(n.path))"
        if pairingRank(nvrtc: n.version, driver: driver) == nil {
          return "\(v) is newer than the driver, whose CUDA \(driver.major) cannot load its CUBINs"
        }
        return "\(v) cannot compile for sm_\(architecture)"
      }
      throw .unavailable(
        "no NVRTC pairs with the NVIDIA driver (CUDA \(driver.major).\(driver.minor), sm_\(architecture)): "
          + why.joined(separator: "; ")
          + "; install the NVRTC of CUDA \(driver.major) (pip install nvidia-cuda-nvrtc"
          + (driver.major == 12 ? "-cu12" : "") + ") or set NVRTC_LIBRARY to it")
    }
    let n = found[k]
    paired.withLock { $0[key] = n }
    return n
  }

  /// Compiles CUDA C++ `source` to a CUBIN for `sm_<architecture>` (e.g. 90).
  ///
  /// - Parameter options: extra NVRTC options (`--use_fast_math`...).
  /// - Throws: `EngineError.failed` with NVRTC's log when the source does not compile.
  public func compileCUBIN(_ source: String, architecture: Int, options: [String] = []) throws(EngineError) -> [UInt8] {
    if !supportedArchitectures.isEmpty && !supportedArchitectures.contains(architecture) {
      let newest = supportedArchitectures.max() ?? 0
      throw .unavailable(
        "NVRTC \(version.major).\(version.minor) (\(path)) cannot compile for sm_\(architecture) (it supports sm_"
          + "\(supportedArchitectures.min() ?? 0) to sm_\(newest)); install a matching nvidia-cuda-nvrtc or set NVRTC_LIBRARY")
    }
    var program: OpaquePointer?
    var rc = createProgram(&program, source, "ks_kernel.cu", 0, nil, nil)
    guard rc == 0, program != nil else { throw .failed("nvrtcCreateProgram failed: \(message(rc))") }
    defer { _ = destroyProgram(&program) }
    let all = ["--gpu-architecture=sm_\(architecture)", "--std=c++17"] + options
    let cStrings = all.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) }
    rc = pointers.withUnsafeBufferPointer { compileProgram(program, Int32(all.count), $0.baseAddress) }
    if rc != 0 {
      throw .failed(
        "CUDA compilation failed (NVRTC \(version.major).\(version.minor), sm_\(architecture)): \(message(rc))\n\(programLog(program))")
    }
    var size = 0
    rc = cubinSize(program, &size)
    guard rc == 0, size > 0 else { throw .failed("nvrtcGetCUBINSize failed: \(message(rc))") }
    var bytes = [UInt8](repeating: 0, count: size)
    rc = bytes.withUnsafeMutableBytes { cubin(program, $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
    guard rc == 0 else { throw .failed("nvrtcGetCUBIN failed: \(message(rc))") }
    return bytes
  }

  private func programLog(_ program: OpaquePointer?) -> String {
    var size = 0
    guard logSize(program, &size) == 0, size > 1 else { return "" }
    var text = [CChar](repeating: 0, count: size + 1)
    guard log(program, &text) == 0 else { return "" }
    let s = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return s.hasSuffix("\n") ? String(s.dropLast()) : s
  }

  private func message(_ rc: Int32) -> String {
    errorString(rc).map { String(cString: $0) } ?? "NVRTC error \(rc)"
  }
}
