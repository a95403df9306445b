import Foundation
import Testing

/// The compiled-kernel cache seen from real `ks` processes (issue: two processes compiling the
/// same new formula at once both succeed; a truncated library is rebuilt).
@Suite(.serialized) struct KernelCacheProcessTests {
  /// A formula no other test uses, with a per-run constant so the kernel is new every time.
  func script(_ tag: Int) -> String {
    """
    import numpy as np
    x = np.ones((3, 2))
    op = Genred("Exp(-SqDist(x, y)) * IntCst(\(tag))", ["x = Vi(2)", "y = Vj(2)"], axis=1)
    print(op(x, x, backend="CPU").ravel())
    """
  }

  func libraries(in dir: String) -> [String] {
    let all = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []
    return all.filter { $0.hasSuffix(".so") }
  }

  @Test func twoProcessesCompileTheSameFormulaAtOnce() throws {
    let cache = try temporaryDirectory("ks-cache")
    defer { try? FileManager.default.removeItem(atPath: cache) }
    let tag = Int.random(in: 1000..<1_000_000)
    let env = ["KS_CACHE_DIR=\(cache)"]
    let a = try BatchProcess(["-c", script(tag)], environment: env)
    let b = try BatchProcess(["-c", script(tag)], environment: env)
    let ra = a.finish(), rb = b.finish()
    #expect(ra.status == 0, "first process: \(ra.stderr)")
    #expect(rb.status == 0, "second process: \(rb.stderr)")
    let expected = "[\(tag * 3). \(tag * 3). \(tag * 3).]\n"
    #expect(ra.stdout == expected)
    #expect(rb.stdout == expected)
    #expect(libraries(in: cache).count == 1, "cache holds \(libraries(in: cache))")
    let leftovers = ((FileManager.default.enumerator(atPath: cache)?.allObjects as? [String]) ?? []).filter { $0.contains("tmp") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
  }

  @Test func aTruncatedLibraryIsRebuilt() throws {
    let cache = try temporaryDirectory("ks-cache")
    defer { try? FileManager.default.removeItem(atPath: cache) }
    let tag = Int.random(in: 1000..<1_000_000)
    let env = ["KS_CACHE_DIR=\(cache)"]
    let first = try BatchProcess(["-c", script(tag)], environment: env).finish()
    #expect(first.status == 0, "\(first.stderr)")
    let libs = libraries(in: cache)
    try #require(libs.count == 1)
    let path = cache + "/" + libs[0]
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    #expect(size > 1000)
    // Cut the library in half, as a crash during a copy would.
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: UInt64(size / 2))
    try handle.close()
    let second = try BatchProcess(["-c", script(tag)], environment: env).finish()
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stdout == first.stdout)
    let rebuilt = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    #expect(rebuilt == size, "the library should be rebuilt to its full size")
  }
}
