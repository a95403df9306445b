import Foundation
import KernelEngines
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A compiled kernel library, loaded with `dlopen` and kept for the life of the process.
final class CompiledKernel: @unchecked Sendable {
  typealias CancelCallback = @convention(c) (UnsafeMutableRawPointer?) -> Int32
  typealias Reduce =
    @convention(c) (
      UnsafePointer<UnsafeRawPointer?>?, Int, Int, Int, Int, UnsafeRawPointer?, UnsafeMutablePointer<Double>?,
      CancelCallback?, UnsafeMutableRawPointer?
    ) -> Int32
  typealias ReduceRanges =
    @convention(c) (
      UnsafePointer<UnsafeRawPointer?>?, Int, Int, Int, Int, UnsafePointer<Int>?, UnsafePointer<Int>?,
      UnsafePointer<Int>?, UnsafeRawPointer?, UnsafeMutablePointer<Double>?, CancelCallback?, UnsafeMutableRawPointer?
    ) -> Int32
  typealias ScratchBytes = @convention(c) (Int) -> Int
  typealias Prepare = @convention(c) (UnsafePointer<UnsafeRawPointer?>?, Int, UnsafeMutableRawPointer?) -> Void

  let path: String
  let handle: UnsafeMutableRawPointer
  let reduce: Reduce
  let scratchBytes: ScratchBytes
  let prepare: Prepare
  /// `ks_reduce_ranges`, present in the block-sparse libraries (`KernelSource.generateRanged`).
  let reduceRanges: ReduceRanges?

  init(
    path: String, handle: UnsafeMutableRawPointer, reduce: Reduce, scratchBytes: ScratchBytes, prepare: Prepare,
    reduceRanges: ReduceRanges? = nil
  ) {
    self.reduceRanges = reduceRanges
    self.path = path
    self.handle = handle
    self.reduce = reduce
    self.scratchBytes = scratchBytes
    self.prepare = prepare
  }
}

/// The on-disk cache of compiled kernels (`ks cache list|clear`).
///
/// Libraries live in `$KS_CACHE_DIR`, else `$XDG_CACHE_HOME/ks`, else `~/.cache/ks` (created with
/// mode 0700), named `ks-<key>.so` where the key is the SHA-256 of the generated C source, the
/// compiler's identity (`cc --version`, first line), the flags and the CPU's feature flags.
/// Compilation goes to a unique temporary name in the same directory, then `rename(2)` publishes
/// it atomically: concurrent processes compiling the same kernel both succeed and leave one file.
/// A library is checked before use (non-empty, ELF magic, `ks_kernel_abi()` answering the
/// expected version); a truncated or foreign file is deleted and rebuilt.
public enum KernelCache {
  /// One cached library.
  public struct Entry: Sendable, Equatable {
    public var name: String
    public var path: String
    public var bytes: Int
    public var modified: Date
  }

  /// The flags every kernel is compiled with, before the contraction mode `flags(for:)` adds. No
  /// `-ffast-math`, which would reorder the sum schemes.
  static let baseFlags = [
    "-std=gnu11", "-O3", "-march=native", "-fPIC", "-shared", "-fopenmp-simd", "-fno-math-errno",
    "-fno-trapping-math", "-w",
  ]

  /// The flags for a generated source. The exact kernel gets `-ffp-contract=off`, which keeps a*b+c
  /// unfused (the reference rounds the product); the vectorized kernel, not bit-identical anyway,
  /// gets `-ffp-contract=fast` (fused distances and accumulation: fewer operations, no larger
  /// error) and `-fno-tree-slp-vectorize`: its pair loops are explicit vectors or `omp simd`
  /// loops, and the SLP vectorizer packed the scalar tails of a tile's rows (or of a row's
  /// components) into vectors with other fusions than a lone row gets, so a row's value depended
  /// on its tile, hence on the thread count and on the rows an MPI rank holds. The flags are part
  /// of the cache key.
  static func flags(for source: String) -> [String] {
    baseFlags
      + (KernelSource.isVectorized(source: source) ? ["-ffp-contract=fast", "-fno-tree-slp-vectorize"] : ["-ffp-contract=off"])
  }

  /// The cache directory from the process environment.
  /// Read with `getenv` at each call: `ProcessInfo.environment` copies the whole environment into a
  /// dictionary (about 35 microseconds, a third of a small cached Genred call).
  public static var defaultDirectory: String {
    var env: [String: String] = [:]
    for name in ["KS_CACHE_DIR", "XDG_CACHE_HOME", "HOME"] {
      if let value = getenv(name) { env[name] = String(cString: value) }
    }
    return directory(environment: env)
  }

  /// The cache directory for an environment: `$KS_CACHE_DIR`, else `$XDG_CACHE_HOME/ks`, else
  /// `$HOME/.cache/ks`.
  public static func directory(environment env: [String: String]) -> String {
    if let d = env["KS_CACHE_DIR"], !d.isEmpty { return d }
    if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/ks" }
    let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.cache/ks"
  }

  /// The cached libraries, by name.
  public static func list(directory: String? = nil) -> [Entry] {
    let dir = directory ?? defaultDirectory
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasPrefix("ks-") && $0.hasSuffix(".so") }.sorted().compactMap { name in
      let path = dir + "/" + name
      var st = stat()
      guard stat(path, &st) == 0 else { return nil }
      let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
      return Entry(name: name, path: path, bytes: Int(st.st_size), modified: modified)
    }
  }

  /// Removes every cached library (and leftover temporary files); returns how many libraries went.
  /// Kernels already loaded in this process keep working.
  @discardableResult
  public static func clear(directory: String? = nil) throws -> Int {
    let dir = directory ?? defaultDirectory
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return 0 }
    var removed = 0
    for name in names where (name.hasPrefix("ks-") && name.hasSuffix(".so")) || name.hasPrefix(".ks-tmp-") {
      try FileManager.default.removeItem(atPath: dir + "/" + name)
      if !name.hasPrefix(".") { removed += 1 }
    }
    return removed
  }

  // MARK: - Lookup, compilation, loading

  /// Loaded libraries by path.
  private static let loaded = Mutex<[String: CompiledKernel]>([:])

  /// The kernel for `source`: from this process, else from the cache directory, else compiled.
  static func kernel(source: String, directory: String, compiler: Compiler) throws(EngineError) -> CompiledKernel {
    let kernelFlags = Self.flags(for: source)
    var hasher = SHA256()
    hasher.update(source)
    hasher.update("\u{0}compiler: \(compiler.identity)\u{0}flags: \(kernelFlags.joined(separator: " "))\u{0}cpu: \(cpuFlags)")
    let key = hasher.finalize().prefix(16).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    let path = directory + "/ks-\(key).so"
    if let k = loaded.withLock({ $0[path] }) { return k }

    try ensureDirectory(directory)
    if FileManager.default.fileExists(atPath: path) {
      switch open(path) {
      case .success(let k): return remember(k)
      case .failure:
        // Truncated, foreign or stale: rebuild it.
        unlink(path)
      }
    }
    try compile(source: source, to: path, key: key, flags: kernelFlags, compiler: compiler)
    switch open(path) {
    case .success(let k): return remember(k)
    case .failure(let why): throw .failed("the compiled kernel \(path) cannot be loaded: \(why)")
    }
  }

  private static func remember(_ k: CompiledKernel) -> CompiledKernel {
    loaded.withLock { table in
      if let existing = table[k.path] { return existing }
      table[k.path] = k
      return k
    }
  }

  /// Forgets and unloads the libraries this process loaded from `directory`, so the next lookup
  /// reads the directory again. Only safe while no kernel from that directory runs (tests).
  static func unload(directory: String) {
    let prefix = directory + "/"
    let gone = loaded.withLock { table in
      let keys = table.keys.filter { $0.hasPrefix(prefix) }
      return keys.compactMap { table.removeValue(forKey: $0) }
    }
    for k in gone { dlclose(k.handle) }
  }

  static func ensureDirectory(_ directory: String) throws(EngineError) {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
      if isDir.boolValue { return }
      throw .failed("the kernel cache path \(directory) exists and is not a directory")
    }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      // Another process may have created it meanwhile.
      if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue { return }
      throw .failed("cannot create the kernel cache directory \(directory): \(error.localizedDescription)")
    }
  }

  /// Compiles to a unique temporary name next to `path`, then renames it into place.
  /// `flags` defaults to `flags(for: source)`.
  static func compile(
    source: String, to path: String, key: String, flags: [String]? = nil, compiler: Compiler
  ) throws(EngineError) {
    let dir = (path as NSString).deletingLastPathComponent
    let unique = "\(getpid())-\(UUID().uuidString.prefix(8))"
    let tempSource = dir + "/.ks-tmp-\(key)-\(unique).c"
    let tempLibrary = dir + "/.ks-tmp-\(key)-\(unique).so"
    defer {
      unlink(tempSource)
      unlink(tempLibrary)
    }
    guard FileManager.default.createFile(atPath: tempSource, contents: Data(source.utf8)) else {
      throw .failed("cannot write a kernel source into the cache directory \(dir)")
    }
    let result = compiler.run((flags ?? Self.flags(for: source)) + [tempSource, "-o", tempLibrary, "-lm"])
    guard result.status == 0 else {
      let lines = result.stderr.split(separator: "\n").prefix(6).joined(separator: "\n")
      throw .failed("the C compiler failed on a generated kernel (a bug in ks):\n\(lines)")
    }
    guard rename(tempLibrary, path) == 0 else {
      throw .failed("cannot move the compiled kernel into \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Validates and loads a library. Everything `dlopen` would map is checked first: mapping a
  /// truncated ELF file kills the process with SIGBUS instead of failing.
  static func open(_ path: String) -> Result<CompiledKernel, LoadFailure> {
    guard let data = FileManager.default.contents(atPath: path) else { return .failure(LoadFailure("unreadable")) }
    if let problem = elfProblem(data) { return .failure(LoadFailure(problem)) }
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
      return .failure(LoadFailure(dlerror().map { String(cString: $0) } ?? "dlopen failed"))
    }
    func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }
    guard let abi = symbol("ks_kernel_abi"), let reduce = symbol("ks_reduce"),
      let scratch = symbol("ks_scratch_bytes"), let prepare = symbol("ks_prepare")
    else {
      dlclose(handle)
      return .failure(LoadFailure("missing ks_* symbols"))
    }
    typealias ABI = @convention(c) () -> Int32
    guard unsafeBitCast(abi, to: ABI.self)() == KernelSource.abiVersion else {
      dlclose(handle)
      return .failure(LoadFailure("kernel ABI version mismatch"))
    }
    return .success(
      CompiledKernel(
        path: path, handle: handle, reduce: unsafeBitCast(reduce, to: CompiledKernel.Reduce.self),
        scratchBytes: unsafeBitCast(scratch, to: CompiledKernel.ScratchBytes.self),
        prepare: unsafeBitCast(prepare, to: CompiledKernel.Prepare.self),
        reduceRanges: symbol("ks_reduce_ranges").map { unsafeBitCast($0, to: CompiledKernel.ReduceRanges.self) }))
  }

  /// Why `data` is not a complete 64-bit little-endian ELF shared object, or nil when it is: the
  /// magic, and every program segment and the section table lying inside the file.
  static func elfProblem(_ data: Data) -> String? {
    let bytes = [UInt8](data)
    guard !bytes.isEmpty else { return "empty file" }
    guard bytes.count >= 64, Array(bytes[0..<4]) == [0x7f, 0x45, 0x4c, 0x46] else { return "not an ELF file" }
    guard bytes[4] == 2, bytes[5] == 1 else { return "not a 64-bit little-endian ELF file" }
    func u(_ at: Int, _ n: Int) -> Int? {
      guard at >= 0, at + n <= bytes.count else { return nil }
      var v = 0
      for k in (0..<n).reversed() { v = v << 8 | Int(bytes[at + k]) }
      return v
    }
    guard let type = u(16, 2), type == 3 else { return "not a shared object" }
    guard let phoff = u(32, 8), let shoff = u(40, 8), let phentsize = u(54, 2), let phnum = u(56, 2),
      let shentsize = u(58, 2), let shnum = u(60, 2)
    else { return "truncated header" }
    let size = bytes.count
    guard phentsize >= 56, phoff + phnum * phentsize <= size else { return "truncated program headers" }
    guard shoff + shnum * shentsize <= size else { return "truncated section headers" }
    for k in 0..<phnum {
      let h = phoff + k * phentsize
      guard let kind = u(h, 4), let offset = u(h + 8, 8), let fileSize = u(h + 32, 8) else { return "truncated" }
      if kind == 1 && offset + fileSize > size { return "truncated segment" }  // PT_LOAD
    }
    return nil
  }

  struct LoadFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
  }

  /// The `flags` line of /proc/cpuinfo (the instruction sets `-march=native` may use).
  static let cpuFlags: String = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    for line in text.split(separator: "\n") where line.hasPrefix("flags") {
      return String(line)
    }
    return "unknown"
  }()
}

/// The C compiler: `$CC` (possibly with arguments), else `cc`, found on `PATH`.
struct Compiler: Sendable {
  /// The command words, the first resolved to an absolute path.
  let command: [String]
  /// `--version`'s first line.
  let identity: String

  private static let resolved = Mutex<[String: Compiler]>([:])

  /// The compiler for an explicit command, or `$CC`, or `cc`.
  static func find(_ explicit: String?) throws(EngineError) -> Compiler {
    let env = ProcessInfo.processInfo.environment
    let spec = explicit ?? env["CC"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } ?? "cc"
    if let c = resolved.withLock({ $0[spec] }) { return c }
    var words = spec.split(separator: " ").map(String.init)
    guard let first = words.first, let exe = locate(first, path: env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
      let name = spec.split(separator: " ").first.map(String.init) ?? spec
      throw .unavailable(
        "the CPU backend needs a C compiler, but '\(name)' was not found (install gcc or set CC); use backend=\"reference\" meanwhile")
    }
    words[0] = exe
    let probe = Compiler(command: words, identity: "")
    let version = probe.run(["--version"])
    guard version.status == 0 else {
      throw .unavailable("the C compiler '\(spec)' does not run (\(version.stderr.split(separator: "\n").first ?? "no output"))")
    }
    let identity = version.stdout.split(separator: "\n").first.map(String.init) ?? spec
    let c = Compiler(command: words, identity: identity)
    resolved.withLock { $0[spec] = c }
    return c
  }

  static func locate(_ name: String, path: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    for dir in path.split(separator: ":") where !dir.isEmpty {
      let candidate = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Runs the compiler with extra arguments; returns the exit status and both outputs.
  func run(_ arguments: [String]) -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: command[0])
    p.arguments = Array(command.dropFirst()) + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    do { try p.run() } catch { return (127, "", "\(error)") }
    // Drain stderr on another thread so neither pipe can fill up and block the compiler.
    nonisolated(unsafe) var errBytes: [UInt8] = []
    let errFD = err.fileHandleForReading.fileDescriptor
    let group = DispatchGroup()
    group.enter()
    Thread {
      errBytes = Self.readAll(errFD)
      group.leave()
    }.start()
    let outBytes = Self.readAll(out.fileHandleForReading.fileDescriptor)
    group.wait()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: outBytes, as: UTF8.self), String(decoding: errBytes, as: UTF8.self))
  }

  /// Reads a descriptor to its end, retrying interrupted reads (FileHandle traps on EINTR, which
  /// other children exiting can cause).
  static func readAll(_ fd: Int32) -> [UInt8] {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        result += buffer[0..<n]
      } else if n == 0 || errno != EINTR {
        return result
      }
    }
  }
}
