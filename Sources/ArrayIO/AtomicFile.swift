#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An error reading, writing or decoding an array file; the message names the file and the problem.
///
/// ```swift
/// // "cannot open 'x.npy': No such file or directory"
/// ```
public struct ArrayIOError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The full, user-facing message.
  public let message: String

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

/// Whole-file reads and crash-safe whole-file writes.
///
/// `write` never leaves a half-written target behind: the bytes go to a temporary file in the
/// target's directory, which is flushed to disk and then renamed over the target.
public enum AtomicFile {
  /// Atomically replaces (or creates) the file at `path` with `data`.
  ///
  /// The data goes to `.<name>.tmp.<pid>.<random>` next to the target, is fsynced, and is renamed
  /// over `path`; on any failure the temporary file is removed and the target is left untouched.
  /// An existing target keeps its permission bits; a new file gets `0666` less the umask.
  /// If `path` is a symbolic link, the link itself is replaced by a regular file.
  public static func write(_ data: some Collection<UInt8>, to path: String) throws {
    let bytes = data as? [UInt8] ?? Array(data)
    let (directory, name) = split(path)
    guard !name.isEmpty, name != ".", name != ".." else {
      throw ArrayIOError("cannot write '\(path)': not a file name")
    }

    var fd: Int32 = -1
    var tempPath = ""
    for _ in 0..<16 {
      let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
      tempPath = joined(directory, ".\(name).tmp.\(getpid()).\(suffix)")
      fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else { throw failure("cannot write", path) }

    var closed = false
    do {
      // Keep the permissions of the file being replaced.
      var old = stat()
      if stat(path, &old) == 0, (old.st_mode & S_IFMT) == S_IFREG {
        _ = fchmod(fd, old.st_mode & 0o7777)
      }
      try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
          let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
          if n < 0 {
            if errno == EINTR { continue }
            throw failure("cannot write", path)
          }
          offset += n
        }
      }
      if fsync(fd) != 0 { throw failure("cannot write", path) }
      closed = true
      if close(fd) != 0 { throw failure("cannot write", path) }
      if rename(tempPath, path) != 0 { throw failure("cannot write", path) }
    } catch {
      if !closed { _ = close(fd) }
      _ = unlink(tempPath)
      throw error
    }

    // Make the rename itself durable; failure here does not undo a completed write.
    let dirFD = open(directory, O_RDONLY | O_CLOEXEC)
    if dirFD >= 0 {
      _ = fsync(dirFD)
      _ = close(dirFD)
    }
  }

  /// Reads the whole file at `path`.
  public static func read(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw failure("cannot open", path) }
    defer { _ = close(fd) }

    var info = stat()
    let sizeHint = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
    var result: [UInt8] = []
    result.reserveCapacity(sizeHint + 1)
    var chunk = [UInt8](repeating: 0, count: max(65536, min(sizeHint + 1, 1 << 24)))
    while true {
      let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw failure("cannot read", path)
      }
      if n == 0 { break }
      result.append(contentsOf: chunk[0..<n])
    }
    return result
  }

  // MARK: - Helpers

  /// The directory (for `open`/`fsync`) and the last path component.
  static func split(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let name = String(path[path.index(after: slash)...])
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    return (directory, name)
  }

  static func joined(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  /// An error for the current `errno`: "cannot open 'x.npy': No such file or directory".
  static func failure(_ action: String, _ path: String) -> ArrayIOError {
    let code = errno
    let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
    return ArrayIOError("\(action) '\(path)': \(reason)")
  }
}

// `read`/`write` are shadowed inside `AtomicFile` by its own static methods.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, buffer, count)
}

@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(fd, buffer, count)
}
