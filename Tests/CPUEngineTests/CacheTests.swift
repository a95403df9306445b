import ArrayIO
import Foundation
import FormulaLanguage
import KernelEngines
import Synchronization
import Testing

@testable import CPUEngine
import _KSTestSupport

/// A formula no other test compiles (a unique constant), so its kernel is new.
private func freshPlan(_ tag: Double) throws -> KernelPlan {
  try makePlan("Exp(-\(tag)*SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], dtype: .float32)
}

private func libraries(_ dir: TemporaryDirectory) -> [String] {
  dir.contents().filter { $0.hasPrefix("ks-") && $0.hasSuffix(".so") }
}

@Suite struct KernelCacheTests {
  @Test func concurrentCompilationsOfTheSameKernelBothSucceed() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let plan = try freshPlan(0.375)
    let source = KernelSource.generate(for: plan)
    let compiler = try Compiler.find(nil)
    let key = "0123456789abcdef0123456789abcdef"
    let path = dir.path + "/ks-\(key).so"
    // Two threads compile the same source to the same library at once, as two ks processes would.
    let failures = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 2) { _ in
      do throws(EngineError) {
        try KernelCache.compile(source: source, to: path, key: key, compiler: compiler)
      } catch {
        failures.withLock { $0.append(error.description) }
      }
    }
    #expect(failures.withLock { $0 } == [])
    #expect(libraries(dir) == ["ks-\(key).so"])
    #expect(dir.contents().count == 1, "temporary files left: \(dir.contents())")
    guard case .success(let k) = KernelCache.open(path) else {
      Issue.record("the library does not load")
      return
    }
    #expect(k.scratchBytes(10) > 0)

    // The same through the engine: two threads, one new formula, one library in the cache.
    let engine = CPUKernelEngine(cacheDirectory: dir.path)
    let plan2 = try freshPlan(0.625)
    let args = randomArguments(plan2, nI: 9, nJ: 17)
    let results = Mutex<[[Double]]>([])
    DispatchQueue.concurrentPerform(iterations: 2) { _ in
      if let r = try? engine.reduce(plan2, args, cancel: nil) { results.withLock { $0.append(r) } }
    }
    let r = results.withLock { $0 }
    #expect(r.count == 2 && r[0] == r[1])
    #expect(libraries(dir).count == 2)
    #expect(dir.contents().allSatisfy { !$0.hasPrefix(".ks-tmp-") })
  }

  @Test func truncatedOrForeignLibraryIsRebuilt() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let engine = CPUKernelEngine(cacheDirectory: dir.path)
    let plan = try freshPlan(0.875)
    let args = randomArguments(plan, nI: 9, nJ: 17)
    let first = try engine.reduce(plan, args, cancel: nil)
    let names = libraries(dir)
    #expect(names.count == 1)
    let path = dir.path + "/" + names[0]
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)

    for damage in ["truncated", "empty", "foreign"] {
      CPUKernelEngine.forgetKernels(in: dir.path)
      let original = try Data(contentsOf: URL(fileURLWithPath: path))
      switch damage {
      case "truncated": try original.prefix(original.count / 3).write(to: URL(fileURLWithPath: path))
      case "empty": try Data().write(to: URL(fileURLWithPath: path))
      default: try Data("not a library\n".utf8).write(to: URL(fileURLWithPath: path))
      }
      let again = try engine.reduce(plan, args, cancel: nil)
      #expect(again == first, "\(damage)")
      let rebuilt = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
      #expect(rebuilt == size, "\(damage): the library was not rebuilt")
    }
  }

  @Test func listAndClear() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let engine = CPUKernelEngine(cacheDirectory: dir.path + "/nested/ks")
    try engine.prepare(try freshPlan(1.125))
    try engine.prepare(try makePlan("SqDist(x,y)", ["x = Vi(2)", "y = Vj(2)"], reduction: .min))
    let entries = KernelCache.list(directory: dir.path + "/nested/ks")
    #expect(entries.count == 2)
    #expect(entries.allSatisfy { $0.bytes > 0 && $0.name.hasPrefix("ks-") })
    // The directory ks created is private.
    var st = stat()
    #expect(stat(dir.path + "/nested/ks", &st) == 0)
    #expect(st.st_mode & 0o777 == 0o700)
    #expect(try KernelCache.clear(directory: dir.path + "/nested/ks") == 2)
    #expect(KernelCache.list(directory: dir.path + "/nested/ks").isEmpty)
    #expect(KernelCache.list(directory: dir.path + "/missing").isEmpty)
  }

  @Test func cacheDirectoryFromEnvironment() {
    #expect(KernelCache.directory(environment: ["KS_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/b", "HOME": "/h"]) == "/a")
    #expect(KernelCache.directory(environment: ["XDG_CACHE_HOME": "/b", "HOME": "/h"]) == "/b/ks")
    #expect(KernelCache.directory(environment: ["KS_CACHE_DIR": "", "HOME": "/h"]) == "/h/.cache/ks")
  }

  @Test func missingCompilerIsUnavailable() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    for cc in ["ks-no-such-compiler", "/nonexistent/bin/cc"] {
      let engine = CPUKernelEngine(cacheDirectory: dir.path, compiler: cc)
      #expect {
        try engine.prepare(try freshPlan(1.375))
      } throws: { error in
        guard case EngineError.unavailable(let message) = error else { return false }
        return message.contains("C compiler") && !message.contains("\n")
      }
    }
  }

  /// A kernel already loaded is found in the process's table: later calls neither compile nor
  /// read the cache directory (the speed of such calls is measured by `ks bench`, not here).
  @Test func cachedCallsNeitherCompileNorReadTheCache() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let engine = CPUKernelEngine(cacheDirectory: dir.path)
    let plan = try freshPlan(2.625)
    let args = randomArguments(plan, nI: 5, nJ: 7)
    let first = try engine.reduce(plan, args, cancel: nil)
    #expect(libraries(dir).count == 1)
    for name in dir.contents() { try FileManager.default.removeItem(atPath: dir.path + "/" + name) }
    for _ in 0..<50 { #expect(try engine.reduce(plan, args, cancel: nil) == first) }
    #expect(dir.contents() == [], "a cached call wrote to the cache directory")
  }
}

/// Cancelling a kernel that would run for half an hour or more ends it: the test finishing at all
/// (its time limit only guards against a hang, and leaves room for a sanitized build on a busy
/// machine) shows the kernel stopped early. No clock is read.
@Test(.timeLimit(.minutes(10))) func cancellationStopsTheKernel() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  // The exact kernel (kahan, sin): 20000 x 16000 pairs of 900 sines each, 3e11 sines; a chunk of
  // 16 rows (where the kernel asks the token) is 2e8 of them.
  let plan = try makePlan(
    "Sum(Sin(TensorProd(x, y)))*b", ["x = Vi(30)", "y = Vj(30)", "b = Vj(1)"], scheme: .kahanScheme)
  let args = randomArguments(plan, nI: 20_000, nJ: 16_000)
  try engine.prepare(plan)

  let early = CancellationToken()
  early.cancel()
  #expect(throws: EngineError.cancelled) { try engine.reduce(plan, args, cancel: early) }

  let token = CancellationToken()
  // A plain thread (as a signal handler would be): the dispatch pool is busy running the kernel.
  Thread {
    Thread.sleep(forTimeInterval: 0.2)
    token.cancel()
  }.start()
  #expect(throws: EngineError.cancelled) { try engine.reduce(plan, args, cancel: token) }
}

@Test("the vectorized exp is within 2 ulp", arguments: [DType.float32, .float64])
func vectorizedExpAccuracy(_ dtype: DType) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  // Sum over a single j of Exp(x_i): the output is the kernel's exp of x_i, rounded once.
  let plan = try makePlan("Exp(x)", ["x = Vi(1)"], dtype: dtype)
  #expect(KernelSource.usesVectorizedKernel(plan))
  let (lo, hi) = dtype == .float32 ? (-104.0, 89.0) : (-746.0, 710.0)
  var rng = SplitMix64(seed: 7)
  var xs = (0..<200_000).map { _ in Double.random(in: lo...hi, using: &rng) }
  xs += (0..<50_000).map { _ in Double.random(in: -2...2, using: &rng) }
  xs += [0, -0.0, 1, -1, 88.72, 88.73, -87.33, -103.9, 709.78, 709.79, -745.1, -708.4, .infinity, -.infinity, .nan]
  let x = NDArray(shape: [xs.count, 1], doubles: xs, dtype: dtype)
  let out = try CPUKernelEngine(cacheDirectory: dir.path).reduce(
    plan, KernelArguments(arrays: [x], outputRows: xs.count, reducedRows: 1), cancel: nil)
  var worst = 0.0
  for (k, v) in x.toDoubles().enumerated() {
    let want = Foundation.exp(v)
    if !want.isFinite || want == 0 {
      #expect(same(out[k], dtype == .float32 ? Double(Float(want)) : want) || out[k] < 1e-300, "exp(\(v))")
      continue
    }
    let rounded = dtype == .float32 ? Double(Float(want)) : want
    if rounded.isInfinite { #expect(out[k].isInfinite); continue }
    let ulp = dtype == .float32 ? Double(Float(rounded).ulp) : rounded.ulp
    worst = max(worst, abs(out[k] - want) / ulp)
  }
  #expect(worst <= 2, "max error \(worst) ulp")
}


@Test(
  "the explicit-vector exp of the Sum kernel is within 2 ulp",
  arguments: [(DType.float32, "Exp(x - y) * b", 1.0), (.float64, "Exp(x - y) * b", 1.0),
    (.float32, "Exp(-(x - y) / IntCst(4)) * b", -0.25), (.float64, "Exp(-(x - y) / IntCst(4)) * b", -0.25)])
func vectorLoopExpAccuracy(_ dtype: DType, _ formula: String, _ scale: Double) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  // 64 reduced rows, y = 0 everywhere and b = 1 at j = 5 only: every row sums one exp and zeros,
  // all in the explicit-vector loop, so the output is that loop's exp of scale * x_i.
  let plan = try makePlan(formula, ["x = Vi(1)", "y = Vj(1)", "b = Vj(1)"], dtype: dtype)
  let source = KernelSource.generate(for: plan)
  #expect(source.contains("ks_vexp_rows(8, "), "eight rows per tile, each exp step for all of them")
  #expect(source.contains("(ks_t)\(cDoubleLiteral(scale)), 0)"), "the scale is taken into the exp; two-sided clamp")
  let (lo, hi) = dtype == .float32 ? (-104.0, 88.7) : (-745.5, 709.7)
  var rng = SplitMix64(seed: 11)
  var args = (0..<100_000).map { _ in Double.random(in: lo...hi, using: &rng) / scale }
  args += (0..<20_000).map { _ in Double.random(in: -2...2, using: &rng) }
  args += [0, -0.0, 1, -1, -87.33, -103.9, -708.4, -745.1, -.infinity, .nan].map { $0 / scale }
  let x = NDArray(shape: [args.count, 1], doubles: args, dtype: dtype)
  let y = NDArray(shape: [64, 1], doubles: [Double](repeating: 0, count: 64), dtype: dtype)
  let b = NDArray(shape: [64, 1], doubles: (0..<64).map { $0 == 5 ? 1 : 0 }, dtype: dtype)
  let out = try CPUKernelEngine(cacheDirectory: dir.path).reduce(
    plan, KernelArguments(arrays: [x, y, b], outputRows: args.count, reducedRows: 64), cancel: nil)
  // v * scale is exact in the data type (a power of two)
  let worst = x.toDoubles().enumerated().map { expError(out[$0.offset], exp: $0.element * scale, dtype) }.max() ?? 0
  #expect(worst <= 2, "max error \(worst) ulp")
}

/// The error in ulps of `got` as exp(argument) in `dtype`; 0 (with an issue recorded when wrong)
/// where the argument is NaN or exp underflows to 0 in the data type.
private func expError(_ got: Double, exp argument: Double, _ dtype: DType, _ note: String = "") -> Double {
  if argument.isNaN {
    #expect(got.isNaN, "exp(NaN) = \(got) \(note)")
    return 0
  }
  let want = Foundation.exp(argument)
  let rounded = dtype == .float32 ? Double(Float(want)) : want
  if rounded == 0 {
    #expect(got == 0 || abs(got) <= (dtype == .float32 ? Double(Float.leastNonzeroMagnitude) : 5e-324), "exp(\(argument)) = \(got) \(note)")
    return 0
  }
  let ulp = dtype == .float32 ? Double(Float(rounded).ulp) : rounded.ulp
  return abs(got - want) / ulp
}

/// The compilers the explicit-vector Sum kernel is checked with: the machine's, and on x86-64
/// the same without AVX-512 and without AVX (the other code paths of `ks_vexp_rows`, `ks_vhsum`).
private let sumKernelCompilers: [String] = {
  let cc = ProcessInfo.processInfo.environment["CC"].flatMap { $0.isEmpty ? nil : $0 } ?? "cc"
  #if arch(x86_64)
  return [cc, "\(cc) -mno-avx512f", "\(cc) -mno-avx"]
  #else
  return [cc]
  #endif
}()

@Test("the Sum kernels of 8, 4 and 1 rows per tile match the reference, with and without AVX-512", arguments: sumKernelCompilers)
func sumKernelsWithEachInstructionSet(_ compiler: String) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path, compiler: compiler)
  // d = 1 (8-row tiles, the exp of all rows at once), d = 3 (4-row tiles), a D = 64 distance; 67
  // rows leave a remainder of 4- and 1-row tiles, 530 and 1000 reduced indices leave partial
  // vectors, 20011 make several 128 KiB chunks of sum blocks, the last one partial.
  let cases: [(String, [String], DType)] = [
    ("Exp(-SqDist(x,y)/2)*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], .float32),
    ("Exp(-SqDist(x,y)/2)*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], .float64),
    ("Exp(-SqDist(x,y)*IntCst(4))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(3)"], .float32),
    ("Exp(x - y) * b + Sqrt(Abs(x - y))", ["x = Vi(1)", "y = Vj(1)", "b = Vj(1)"], .float64),
    ("Exp(-SqDist(x,y)/IntCst(16))*b", ["x = Vi(64)", "y = Vj(64)", "b = Vj(1)"], .float32),
  ]
  for (formula, aliases, dtype) in cases {
    let plan = try makePlan(formula, aliases, dtype: dtype)
    for (nI, nJ) in [(67, 530), (130, 1000), (13, 20011)] {
      let failure = try compareWithReference(plan, randomArguments(plan, nI: nI, nJ: nJ, seed: 5), engine: engine)
      #expect(failure == nil, "\(compiler) \(formula) \(dtype) \(nI)x\(nJ): \(failure ?? "")")
    }
  }
}

@Test("a row's Sum does not depend on the tile it falls in", arguments: sumKernelCompilers)
func sumRowsIndependentOfTiling(_ compiler: String) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path, compiler: compiler)
  // The rows without their first 3 (or 4) land in other tiles (8-, 4- and 1-row tiles, other
  // chunks of rows): the same bits, so results do not depend on the thread count or on the rows
  // an MPI rank holds. 1999 reduced indices leave a tail after the vector loop in every block.
  for (formula, aliases, dtype) in [
    ("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], DType.float64),
    ("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], .float32),
    ("Exp(-SqDist(x,y)/IntCst(4))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], .float32),
  ] {
    let plan = try makePlan(formula, aliases, dtype: dtype)
    let args = randomArguments(plan, nI: 301, nJ: 1999, seed: 9)
    let full = try engine.reduce(plan, args, cancel: nil)
    let d = full.count / 301, dim = 3
    for shift in [3, 4] {
      var shifted = args
      let xs = args.arrays[0].toDoubles()
      shifted.arrays[0] = NDArray(shape: [301 - shift, dim], doubles: Array(xs[(shift * dim)...]), dtype: dtype)
      shifted.outputRows = 301 - shift
      let part = try engine.reduce(plan, shifted, cancel: nil)
      let differing = (0..<part.count).filter { !same(part[$0], full[shift * d + $0]) }
      #expect(differing.isEmpty, "\(compiler) \(formula) \(dtype) shift \(shift): \(differing.count) values differ, first at \(differing.first ?? -1)")
    }
  }
}

@Test("the exp of a sum of squares clamps one side only and stays within 2 ulp",
  arguments: [DType.float32, .float64], sumKernelCompilers)
func vectorLoopExpOfSquaresAccuracy(_ dtype: DType, _ compiler: String) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  // exp(-SqDist(x, y) / 2) with y = 0 and b = 1 at j = 5 only: every row is exp(-x_i^2 / 2) with
  // x_i^2 rounded to the data type, from the explicit-vector loop's one-sided clamp (the argument
  // of the exp is known to be >= 0 or NaN). Huge x (x^2 overflows to inf), inf and NaN included.
  let plan = try makePlan("Exp(-SqDist(x, y) / IntCst(2)) * b", ["x = Vi(1)", "y = Vj(1)", "b = Vj(1)"], dtype: dtype)
  let source = KernelSource.generate(for: plan)
  #expect(source.contains("(ks_t)-0x1.0000000000000p-1, 1)"), "the argument is a sum of squares: one bound")
  var rng = SplitMix64(seed: 12)
  let top = dtype == .float32 ? 14.5 : 38.7  // x^2 / 2 up to 105 (float) or 749 (double): past underflow
  var args = (0..<60_000).map { _ in Double.random(in: -top...top, using: &rng) }
  args += [0, -0.0, 1e-20, 13.2, 13.3, 14.4, 38.5, 1e19, -1e30, 1e200, .infinity, -.infinity, .nan]
  let x = NDArray(shape: [args.count, 1], doubles: args, dtype: dtype)
  let y = NDArray(shape: [64, 1], doubles: [Double](repeating: 0, count: 64), dtype: dtype)
  let b = NDArray(shape: [64, 1], doubles: (0..<64).map { $0 == 5 ? 1 : 0 }, dtype: dtype)
  let out = try CPUKernelEngine(cacheDirectory: dir.path, compiler: compiler).reduce(
    plan, KernelArguments(arrays: [x, y, b], outputRows: args.count, reducedRows: 64), cancel: nil)
  let worst = x.toDoubles().enumerated().map { k, v in
    let square = dtype == .float32 ? Double(Float(v * v)) : v * v
    return expError(out[k], exp: -square / 2, dtype, "x = \(v), \(compiler)")
  }.max() ?? 0
  #expect(worst <= 2, "\(compiler): max error \(worst) ulp")
}

/// The resident set size of this process in bytes (Linux), nil elsewhere.
private func residentBytes() -> Int? {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
  for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
    let kb = line.split(separator: " ").compactMap { Int($0) }.first
    return kb.map { $0 * 1024 }
  }
  return nil
}

@Test("repeated calls of one plan keep memory flat")
func repeatedCallsDoNotGrowMemory() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  // 2e5 output rows: each call returns 1.6 MB of doubles (and binds 2.4 MB of float data). A leak
  // of one output per call would add 320 MB over the 200 calls measured.
  let plan = try makePlan("Exp(-SqDist(x,y)/2)*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], dtype: .float32)
  let args = randomArguments(plan, nI: 200_000, nJ: 16)
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  for _ in 0..<20 { _ = try engine.reduce(plan, args, cancel: nil) }
  guard let before = residentBytes() else { return }
  for _ in 0..<200 { _ = try engine.reduce(plan, args, cancel: nil) }
  let after = residentBytes() ?? before
  #expect(after - before < 40_000_000, "RSS grew by \(after - before) bytes over 200 calls")
}
