import Glibc
import KernelEngines

/// The on-disk cache of compiled CUBINs.
///
/// Files live in `$KS_CACHE_DIR/cuda`, else `$XDG_CACHE_HOME/ks/cuda`, else `~/.cache/ks/cuda`
/// (directories created with mode 0700), named `<key>.cubin` where the key is the SHA-256 of the
/// generated source, the target architecture, NVRTC's version and the compile options. A CUBIN is
/// written to a unique temporary name in the same directory and published with `rename(2)`, so
/// concurrent processes never see a partial file. A file that is not an ELF image is ignored (and
/// replaced on the next store).
public enum CUBINCache {
  /// The cache directory for the current environment.
  public static var defaultDirectory: String {
    directory(environment: { environment($0) })
  }

  /// The cache directory for an environment lookup: `$KS_CACHE_DIR/cuda`, else
  /// `$XDG_CACHE_HOME/ks/cuda`, else `$HOME/.cache/ks/cuda`.
  public static func directory(environment env: (String) -> String?) -> String {
    if let d = env("KS_CACHE_DIR") { return d + "/cuda" }
    if let x = env("XDG_CACHE_HOME") { return x + "/ks/cuda" }
    let home = env("HOME") ?? homeFromPasswd() ?? "/tmp"
    return home + "/.cache/ks/cuda"
  }

  /// The key of a CUBIN: SHA-256 over everything that determines its bytes.
  public static func key(source: String, architecture: Int, nvrtcVersion: (Int, Int), options: [String]) -> String {
    let header = "ks-cuda-cubin-1\nsm_\(architecture)\nnvrtc \(nvrtcVersion.0).\(nvrtcVersion.1)\n"
      + options.joined(separator: " ") + "\n"
    return SHA256.hex(bytes: Array((header + source).utf8))
  }

  /// The path of the CUBIN with `key` in `directory`.
  public static func path(key: String, directory: String) -> String { "\(directory)/\(key).cubin" }

  /// The cached CUBIN for `key`, or nil when absent or not an ELF image.
  public static func load(key: String, directory: String) -> [UInt8]? {
    guard let bytes = readFile(path(key: key, directory: directory)), bytes.count > 64,
      bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46
    else { return nil }
    return bytes
  }

  /// Stores a CUBIN atomically. Returns false (and leaves no temporary file) when the directory
  /// cannot be written: the cache is an optimization, a failure to store is not an error.
  @discardableResult
  public static func store(_ bytes: [UInt8], key: String, directory: String) -> Bool {
    guard makeDirectories(directory) else { return false }
    let final = path(key: key, directory: directory)
    let temporary = "\(directory)/.\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return false }
    var ok = bytes.withUnsafeBytes { raw -> Bool in
      var offset = 0
      while offset < raw.count {
        let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
      }
      return true
    }
    ok = ok && fsync(fd) == 0
    ok = close(fd) == 0 && ok
    if ok && rename(temporary, final) == 0 { return true }
    unlink(temporary)
    return false
  }

  /// The cached CUBIN files (paths, sorted), for `ks cache list`.
  public static func list(directory: String? = nil) -> [String] {
    globPaths((directory ?? defaultDirectory) + "/*.cubin")
  }

  /// Removes every cached CUBIN (and stale temporary files); returns how many CUBINs were removed.
  @discardableResult
  public static func clear(directory: String? = nil) -> Int {
    let dir = directory ?? defaultDirectory
    let files = list(directory: dir)
    for f in files + globPaths(dir + "/.*.tmp") { unlink(f) }
    return files.count
  }

  /// `mkdir -p` with mode 0700 for the directories it creates.
  static func makeDirectories(_ path: String) -> Bool {
    var st = stat()
    if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR }
    var prefix = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      prefix += "/" + part
      if stat(prefix, &st) == 0 { continue }
      if mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
    }
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  static func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return nil }
      if n == 0 { return out }
      out += buffer[0..<n]
    }
  }

  private static func homeFromPasswd() -> String? {
    guard let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir else { return nil }
    return String(cString: dir)
  }
}
