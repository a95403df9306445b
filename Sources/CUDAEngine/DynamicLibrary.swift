import Glibc
import KernelEngines

/// A shared library opened with `dlopen`, kept open for the life of the process.
final class DynamicLibrary: @unchecked Sendable {
  let path: String
  let handle: UnsafeMutableRawPointer

  private init(path: String, handle: UnsafeMutableRawPointer) {
    self.path = path
    self.handle = handle
  }

  /// Opens the first candidate that loads; on failure returns `dlerror()` of the first candidate.
  static func open(_ candidates: [String]) -> Result<DynamicLibrary, LoadError> {
    var first: String?
    for name in candidates where !name.isEmpty {
      if let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
        return .success(DynamicLibrary(path: name, handle: h))
      }
      let why = dlerror().map { String(cString: $0) } ?? "cannot open \(name)"
      if first == nil { first = why }
    }
    return .failure(LoadError(message: first ?? "no candidate"))
  }

  struct LoadError: Error {
    var message: String
  }

  /// The symbol `name` as a C function of type `T`, or nil when the library lacks it.
  func optionalSymbol<T>(_ name: String, as: T.Type) -> T? {
    guard let p = dlsym(handle, name) else { return nil }
    return unsafeBitCast(p, to: T.self)
  }

  /// The symbol `name` as a C function of type `T`.
  func symbol<T>(_ name: String, as type: T.Type) throws(EngineError) -> T {
    guard let f = optionalSymbol(name, as: type) else {
      throw .unavailable("\(path) has no symbol \(name)")
    }
    return f
  }
}

/// Expands shell-style wildcards (`*`) in `pattern` to the existing paths, sorted.
func globPaths(_ pattern: String) -> [String] {
  var g = glob_t()
  defer { globfree(&g) }
  guard glob(pattern, 0, nil, &g) == 0 else { return [] }
  var out: [String] = []
  for k in 0..<Int(g.gl_pathc) {
    if let p = g.gl_pathv[k] { out.append(String(cString: p)) }
  }
  return out.sorted()
}

/// The value of an environment variable, nil when unset or empty.
func environment(_ name: String) -> String? {
  guard let v = getenv(name) else { return nil }
  let s = String(cString: v)
  return s.isEmpty ? nil : s
}

