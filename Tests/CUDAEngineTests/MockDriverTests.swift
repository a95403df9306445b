import ArrayIO
import FormulaLanguage
import Glibc
import KernelEngines
import Testing

@testable import CUDAEngine
import _KSTestSupport

/// A plan, its data and how close the CUDA result must be to the reference engine.
struct EmulationCase: Sendable, CustomStringConvertible {
  var name: String
  var formula: String
  var aliases: [String]
  var reduction: ReductionKind = .sum
  var axis = 1
  var formula2: String?
  var softMax = false
  var dtype: DType = .float64
  var accumulator: Precision?
  var scheme: SumScheme?
  var nI = 201
  var nJ = 397
  /// Integer-valued data (ties, exact arithmetic): the result must then match exactly.
  var integers = false
  /// Largest relative error allowed, relative to |reference| + 0.01 max|reference| (sums cancel).
  var tolerance: Double?
  /// A looser bound for the 2D scheme, whose partial sums associate differently (float16
  /// accumulators: the reference itself is ~7% off the exact sum there, and 2D as much).
  var tolerance2D: Double?

  var description: String { name }

  func plan() throws -> KernelPlan {
    try makePlan(
      formula, aliases, reduction: reduction, axis: axis, formula2: formula2, softMax: softMax, dtype: dtype,
      accumulator: accumulator, scheme: scheme)
  }

  var allowedError: Double {
    if let t = tolerance { return t }
    if integers { return 0 }
    switch dtype {
    case .float64: return 1e-12
    case .float32: return 2e-5
    default: return 3e-3
    }
  }

  static let xyb = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"]
  static let xy = ["x = Vi(3)", "y = Vj(3)"]
  static let xyw = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"]
  static let gauss = "Exp(-SqDist(x,y))*b"

  static let all: [EmulationCase] = [
    EmulationCase(name: "gauss_f64_block", formula: gauss, aliases: xyb),
    EmulationCase(name: "gauss_f64_direct", formula: gauss, aliases: xyb, scheme: .directSum),
    EmulationCase(name: "gauss_f64_kahan", formula: gauss, aliases: xyb, scheme: .kahanScheme),
    EmulationCase(name: "gauss_f32_block", formula: gauss, aliases: xyb, dtype: .float32),
    EmulationCase(name: "gauss_f32_direct", formula: gauss, aliases: xyb, dtype: .float32, scheme: .directSum),
    EmulationCase(name: "gauss_f32_kahan", formula: gauss, aliases: xyb, dtype: .float32, scheme: .kahanScheme),
    EmulationCase(
      name: "gauss_f32_acc64", formula: gauss, aliases: xyb, dtype: .float32, accumulator: .float64, scheme: .directSum),
    EmulationCase(name: "gauss_f16", formula: gauss, aliases: xyw, dtype: .float16),
    EmulationCase(name: "gauss_f16_acc16", formula: gauss, aliases: xyb, dtype: .float16, accumulator: .float16, tolerance: 5e-3,
      tolerance2D: 0.15),
    EmulationCase(name: "gauss_axis0", formula: gauss, aliases: ["x = Vj(3)", "y = Vi(3)", "b = Vi(1)"], axis: 0),
    EmulationCase(name: "gauss_param", formula: "Exp(-g*SqDist(x,y))*b", aliases: ["g = Pm(1)"] + xyb),
    EmulationCase(name: "argmin_ties", formula: "SqDist(x,y)", aliases: xy, reduction: .argMin, integers: true),
    EmulationCase(
      name: "min_argmin_f32_ties", formula: "SqDist(x,y)", aliases: xy, reduction: .minArgMin, dtype: .float32,
      integers: true),
    EmulationCase(name: "argmax_ties", formula: "x-y", aliases: xy, reduction: .argMax, integers: true),
    EmulationCase(name: "max_argmax", formula: "x*y", aliases: xy, reduction: .maxArgMax, integers: true),
    EmulationCase(name: "kmin_argkmin_ties", formula: "SqDist(x,y)", aliases: xy, reduction: .kMinArgKMin(3), integers: true),
    EmulationCase(name: "kmin_f32", formula: "x-y", aliases: xy, reduction: .kMin(2), dtype: .float32, integers: true),
    EmulationCase(name: "argkmin", formula: "SqDist(x,y)", aliases: xy, reduction: .argKMin(4), integers: true),
    EmulationCase(name: "max", formula: "x-y", aliases: xy, reduction: .max),
    EmulationCase(name: "min_f32", formula: "Sin(x*y)", aliases: xy, reduction: .min, dtype: .float32),
    EmulationCase(
      name: "lse_direct", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight, formula2: "b",
      scheme: .directSum),
    EmulationCase(
      name: "lse_block", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight, formula2: "b"),
    EmulationCase(
      name: "lse_kahan", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight, formula2: "b",
      scheme: .kahanScheme),
    EmulationCase(
      name: "lse_f32_block", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight, formula2: "b",
      dtype: .float32),
    EmulationCase(
      name: "lse_f32_kahan_acc64", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight,
      formula2: "b", dtype: .float32, accumulator: .float64, scheme: .kahanScheme),
    EmulationCase(
      name: "lse_f16_acc16", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight, formula2: "b",
      dtype: .float16, accumulator: .float16, tolerance: 5e-3, tolerance2D: 0.15),
    EmulationCase(
      name: "softmax", formula: "-SqDist(x,y)", aliases: xyw, reduction: .maxSumShiftExpWeight, formula2: "b",
      softMax: true),
    EmulationCase(name: "logsumexp", formula: "-SqDist(x,y)", aliases: xy, reduction: .maxSumShiftExpWeight),
    EmulationCase(
      name: "unary_ops", formula: NVRTCCompileTests.operationFormulas[0].0, aliases: NVRTCCompileTests.operationFormulas[0].1),
    EmulationCase(
      name: "binary_ops", formula: NVRTCCompileTests.operationFormulas[1].0, aliases: NVRTCCompileTests.operationFormulas[1].1),
    EmulationCase(
      name: "binary_ops_f32", formula: NVRTCCompileTests.operationFormulas[1].0,
      aliases: NVRTCCompileTests.operationFormulas[1].1, dtype: .float32),
    EmulationCase(
      name: "vector_ops", formula: NVRTCCompileTests.operationFormulas[2].0, aliases: NVRTCCompileTests.operationFormulas[2].1),
    EmulationCase(
      name: "vector_ops_f32", formula: NVRTCCompileTests.operationFormulas[2].0,
      aliases: NVRTCCompileTests.operationFormulas[2].1, dtype: .float32),
    EmulationCase(
      name: "layout_ops", formula: NVRTCCompileTests.operationFormulas[3].0, aliases: NVRTCCompileTests.operationFormulas[3].1),
    EmulationCase(
      name: "grad_gauss_x", formula: NVRTCCompileTests.derivativeFormulas[0].0, aliases: NVRTCCompileTests.derivativeFormulas[0].1),
    EmulationCase(
      name: "grad_gauss_y_axis0", formula: NVRTCCompileTests.derivativeFormulas[1].0,
      aliases: NVRTCCompileTests.derivativeFormulas[1].1, axis: 0),
    EmulationCase(
      name: "laplacian", formula: NVRTCCompileTests.derivativeFormulas[2].0, aliases: NVRTCCompileTests.derivativeFormulas[2].1),
    EmulationCase(
      name: "nested_derivatives", formula: NVRTCCompileTests.derivativeFormulas[3].0,
      aliases: NVRTCCompileTests.derivativeFormulas[3].1),
    EmulationCase(
      name: "grad_matrix_parameter", formula: NVRTCCompileTests.derivativeFormulas[4].0,
      aliases: NVRTCCompileTests.derivativeFormulas[4].1, dtype: .float32),
    EmulationCase(
      name: "complex_tensordot_ops", formula: NVRTCCompileTests.operationFormulas[4].0,
      aliases: NVRTCCompileTests.operationFormulas[4].1),
    EmulationCase(
      name: "complex_tensordot_gradients", formula: NVRTCCompileTests.derivativeFormulas[5].0,
      aliases: NVRTCCompileTests.derivativeFormulas[5].1),
    EmulationCase(
      name: "bspline_softdtw", formula: NVRTCCompileTests.operationFormulas[5].0, aliases: NVRTCCompileTests.operationFormulas[5].1),
    EmulationCase(
      name: "softdtw_gradients", formula: NVRTCCompileTests.derivativeFormulas[6].0,
      aliases: NVRTCCompileTests.derivativeFormulas[6].1),
    EmulationCase(name: "no_reduced_variable", formula: "x*IntCst(2)", aliases: ["x = Vi(2)"]),
    EmulationCase(name: "empty_sum", formula: gauss, aliases: xyb, nJ: 0),
    EmulationCase(name: "empty_kmin", formula: "SqDist(x,y)", aliases: xy, reduction: .kMinArgKMin(2), nJ: 0),
    EmulationCase(name: "one_by_one", formula: gauss, aliases: xyb, nI: 1, nJ: 1),
    EmulationCase(name: "block_edges", formula: gauss, aliases: xyb, nI: 192, nJ: 385),
    EmulationCase(name: "wide_rows", formula: gauss, aliases: ["x = Vi(40)", "y = Vj(40)", "b = Vj(1)"], nI: 150, nJ: 300),
  ]
}

/// The Swift launch path against the mock driver: memory copies, launch shapes, parameters,
/// errors, and (with the kernels emulated on the CPU) results against the reference engine.
/// Serialized: the mock is process-wide state.
@Suite(.serialized) struct MockDriverTests {
  /// The emulation of every case's kernel, built once.
  static let emulation: Result<String, TestFailure> = {
    do {
      let temporary = try TemporaryDirectory("ks-cuda-emu")
      temporary.removeAtExit()
      let dir = temporary.path
      var kernels = try EmulationCase.all.enumerated().map { (k, c) in
        // Block-sparse sources: every entry point, for the dense and the ranged tests.
        (prefix: "k\(k)_", source: try CUDAKernelSource.generate(for: try c.plan(), blockSparse: true))
      }
      // The plans of `ks bench --gpu`.
      for dtype in [DType.float32, .float64] {
        let plan = try CUDABenchmark.gaussianPlan(dimension: 3, dtype: dtype)
        kernels.append((prefix: "bench_\(dtype.rawValue)_", source: try CUDAKernelSource.generate(for: plan)))
      }
      return .success(try Emulation.build(kernels, in: dir))
    } catch let e as TestFailure {
      return .failure(e)
    } catch {
      return .failure(TestFailure("\(error)"))
    }
  }()

  @Test(arguments: EmulationCase.all)
  func emulatedKernelMatchesReference(_ c: EmulationCase) throws {
    let launches = try compareEmulated(c, ranges: false)
    for (scheme, log) in launches where c.nI > 0 {
      #expect(log.first?.contains(scheme == .oneD ? "ks_reduce_1d" : "ks_reduce_2d") == true, "\(log)")
    }
  }

  /// Runs case `c` (with `ranges`: over `testRanges`) through the Swift launch path and the
  /// emulated kernels with each scheme, checks the results against the reference engine, and
  /// returns the launches of each scheme.
  func compareEmulated(_ c: EmulationCase, ranges: Bool) throws -> [CUDAScheme: [String]] {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    let library = try Self.emulation.get()
    let index = EmulationCase.all.firstIndex { $0.name == c.name }!
    let plan = try c.plan()
    var args = randomArguments(
      plan, nI: c.nI, nJ: c.nJ, seed: UInt64(index + (ranges ? 101 : 1)), range: c.integers ? -3...3 : -1...1,
      integers: c.integers)
    if ranges { args.ranges = testRanges(outputRows: args.outputRows, reducedRows: args.reducedRows) }
    let expected = try ReferenceEngine().reduce(plan, args, cancel: nil)
    let scale = 1e-2 * (expected.lazy.filter { $0.isFinite }.map { abs($0) }.max() ?? 0) + 1e-300
    var launches: [CUDAScheme: [String]] = [:]
    for scheme in CUDAScheme.allCases {
      mock.reset()
      mock.set("emulation", library)
      mock.set("prefix", "k\(index)_")
      let got = try mock.engine(scheme: scheme).reduce(plan, args, cancel: nil)
      #expect(got.count == expected.count)
      guard got.count == expected.count else { continue }
      // Ranges run the 1D scheme whatever was asked.
      let allowed = scheme == .twoD && !ranges ? c.tolerance2D ?? c.allowedError : c.allowedError
      let err = maxRelativeError(got, expected, scale: scale)
      #expect(err <= allowed, "\(c.name)\(ranges ? " ranges" : "") \(scheme.rawValue): relative error \(err)")
      if err > allowed,
        let k = Array(zip(got, expected)).firstIndex(where: { abs($0 - $1) / (abs($1) + scale) > allowed || $0.isNaN != $1.isNaN })
      {
        Issue.record("first difference at \(k): got \(got[k]), expected \(expected[k])")
      }
      launches[scheme] = mock.log.filter { $0.hasPrefix("launch") }
      #expect(launches[scheme]!.allSatisfy { !$0.contains("no emulated kernel") })
      #expect(mock.liveAllocations == 0)
    }
    return launches
  }

  /// The launch path with the mock filling outputs: what is copied, launched and freed.
  @Test func launchPathCopiesLaunchesAndFrees() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f32:1.5")
    let plan = try makePlan(EmulationCase.gauss, ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "unused = Vj(4)"], dtype: .float32)
    let args = randomArguments(plan, nI: 1000, nJ: 500)
    let out = try mock.engine(scheme: .oneD).reduce(plan, args, cancel: nil)
    #expect(out == [Double](repeating: 1.5, count: 1000))
    let log = mock.log
    // x, y, b uploaded (float32: 4 bytes per value); the unused argument is not.
    #expect(log.filter { $0.hasPrefix("htod") } == ["htod 12000", "htod 6000", "htod 2000"])
    #expect(log.contains("alloc 4000"))  // the output
    #expect(log.filter { $0.hasPrefix("launch") } == ["launch ks_reduce_1d grid=6,1,1 block=192,1,1"])
    #expect(log.filter { $0.hasPrefix("dtoh") } == ["dtoh 4000"])
    #expect(log.filter { $0.hasPrefix("alloc") }.count == log.filter { $0 == "free" }.count)
    #expect(mock.liveAllocations == 0)
  }

  @Test func twoDimensionalLaunchShapes() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f64:2.25")
    let plan = try makePlan("SqDist(x,y)", EmulationCase.xy, reduction: .kMinArgKMin(2))
    let args = randomArguments(plan, nI: 300, nJ: 5000)
    let out = try mock.engine(scheme: .twoD).reduce(plan, args, cancel: nil)
    #expect(out == [Double](repeating: 2.25, count: 300 * 4))
    let source = try CUDAKernelSource.generate(for: plan)
    let split = CUDALaunchPolicy.twoDimensionalSplit(
      outputRows: 300, reducedRows: 5000, partialBytesPerRow: source.accumulatorDimension * source.accumulatorBytes)
    #expect(split.jBlocks == 72 && split.jChunk == 70)  // block_sum's period: floor(sqrt(5000)) = 70
    #expect(
      mock.log.filter { $0.hasPrefix("launch") } == [
        "launch ks_reduce_2d grid=2,72,1 block=192,1,1", "launch ks_finish_2d grid=3,1,1 block=128,1,1",
      ])
    #expect(mock.log.contains("alloc \(72 * 300 * 4 * 8)"))  // the partials: 72 blocks x 300 rows x 4 values
    #expect(mock.liveAllocations == 0)
  }

  @Test func oneDimensionalLaunchesAreChunkedForCancellation() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f64:0")
    let plan = try makePlan("x*y", ["x = Vi(1)", "y = Vj(1)"])
    // 600,000 rows x 20,000 reduced on 16 SMs holding 5 blocks of 192 threads each (the occupancy
    // API's answer): a wave is 15,360 rows; a launch holds 14 waves (2^32 pairs is 214,748 rows).
    mock.setDevice("multiprocessors", "16")
    mock.setDevice("occupancy", "5")
    let args = randomArguments(plan, nI: 600_000, nJ: 20_000)
    _ = try mock.engine(scheme: .oneD).reduce(plan, args, cancel: nil)
    #expect(
      mock.log.filter { $0.hasPrefix("launch") } == [
        "launch ks_reduce_1d grid=1120,1,1 block=192,1,1", "launch ks_reduce_1d grid=1120,1,1 block=192,1,1",
        "launch ks_reduce_1d grid=885,1,1 block=192,1,1",
      ])
    // Many reduced rows: 4 waves per launch (61,440 rows), the last one partial.
    mock.set("reset_log", "")
    _ = try mock.engine(scheme: .oneD).reduce(plan, randomArguments(plan, nI: 130_000, nJ: 100_000), cancel: nil)
    #expect(
      mock.log.filter { $0.hasPrefix("launch") } == [
        "launch ks_reduce_1d grid=320,1,1 block=192,1,1", "launch ks_reduce_1d grid=320,1,1 block=192,1,1",
        "launch ks_reduce_1d grid=38,1,1 block=192,1,1",
      ])
    // Cancelled before the first launch: nothing runs, nothing leaks.
    mock.set("reset_log", "")
    let token = CancellationToken()
    token.cancel()
    #expect(throws: EngineError.cancelled) { try mock.engine(scheme: .oneD).reduce(plan, args, cancel: token) }
    #expect(mock.log.filter { $0.hasPrefix("launch") }.isEmpty)
    #expect(mock.liveAllocations == 0)
  }

  @Test func automaticSchemeChoice() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f64:1")
    let plan = try makePlan(EmulationCase.gauss, EmulationCase.xyb)
    _ = try mock.engine().reduce(plan, randomArguments(plan, nI: 1000, nJ: 10_000), cancel: nil)
    #expect(mock.log.contains { $0.hasPrefix("launch ks_reduce_2d") })
    mock.set("reset_log", "")
    _ = try mock.engine().reduce(plan, randomArguments(plan, nI: 300_000, nJ: 10), cancel: nil)
    #expect(mock.log.contains { $0.hasPrefix("launch ks_reduce_1d") })
    // The resident threads come from the occupancy API: 1 SM x 1 block of 192 is fewer than 1000 rows.
    mock.setDevice("multiprocessors", "1")
    mock.setDevice("occupancy", "1")
    mock.set("reset_log", "")
    _ = try mock.engine().reduce(plan, randomArguments(plan, nI: 1000, nJ: 10_000), cancel: nil)
    #expect(mock.log.contains { $0.hasPrefix("launch ks_reduce_1d") })
  }

  @Test func outOfMemoryIsReportedAndEverythingFreed() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("oom_above", "10000")
    let plan = try makePlan(EmulationCase.gauss, EmulationCase.xyb)
    let args = randomArguments(plan, nI: 100, nJ: 1000)  // y is 24,000 bytes
    do {
      _ = try mock.engine(scheme: .oneD).reduce(plan, args, cancel: nil)
      Issue.record("no error")
    } catch {
      #expect(
        error.description
          == "out of device memory: argument 1 needs 23.4 KiB more after 2.3 KiB on device 0 (Mock GPU 0, 80.0 GiB total)")
    }
    #expect(mock.liveAllocations == 0)
  }

  @Test func deviceErrors() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    let plan = try makePlan(EmulationCase.gauss, EmulationCase.xyb)
    let args = randomArguments(plan, nI: 10, nJ: 10)
    #expect(throws: EngineError.unavailable("device_id=3 but only 1 CUDA device is present (valid: 0...0)")) {
      try mock.engine(deviceID: 3).reduce(plan, args, cancel: nil)
    }
    mock.set("devices", "0")
    #expect(
      throws: EngineError.unavailable(
        "no CUDA device: the NVIDIA driver found no GPU (CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected)")
    ) { try mock.engine().reduce(plan, args, cancel: nil) }
    mock.set("devices", "2")
    mock.set("pattern", "f64:3")
    #expect(try mock.engine(deviceID: 1).reduce(plan, args, cancel: nil) == [Double](repeating: 3, count: 10))
    #expect(mock.log.contains("retain 1"))
    mock.reset()
  }

  @Test func missingLibrariesGiveOneLine() throws {
    let plan = try makePlan(EmulationCase.gauss, EmulationCase.xyb)
    let args = randomArguments(plan, nI: 10, nJ: 10)
    let noDriver = CUDAKernelEngine(driverLibrary: "/nonexistent/libcuda.so.1")
    #expect(throws: EngineError.unavailable("no NVIDIA driver: /nonexistent/libcuda.so.1 not found")) {
      try noDriver.reduce(plan, args, cancel: nil)
    }
    if dlopen("libcuda.so.1", RTLD_LAZY) == nil {  // no real driver here
      #expect(throws: EngineError.unavailable("no NVIDIA driver: libcuda.so.1 not found")) {
        try CUDAKernelEngine().reduce(plan, args, cancel: nil)
      }
    }
    let mock = try MockCUDA.shared()
    mock.reset()
    let noNVRTC = CUDAKernelEngine(driverLibrary: mock.driverPath, nvrtcLibrary: "/nonexistent/libnvrtc.so.13")
    do {
      // A plan no other test compiles, so the module cache cannot answer.
      _ = try noNVRTC.reduce(try makePlan("Exp(-SqDist(x,y))*b*IntCst(7)", EmulationCase.xyb), args, cancel: nil)
      Issue.record("no error")
    } catch {
      let text = "\(error)"
      #expect(text.hasPrefix("no NVRTC: libnvrtc not found (tried /nonexistent/libnvrtc.so.13: "))
      #expect(!text.contains("\n"))
    }
  }

  @Test func cubinsAreCachedOnDisk() throws {
    let nvrtc = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f64:1")
    let cache = try TemporaryDirectory("ks-cuda-cache")
    defer { cache.remove() }
    let plan = try makePlan("Exp(-SqDist(x,y))*b*IntCst(3)", EmulationCase.xyb)
    let engine = CUDAKernelEngine(driverLibrary: mock.driverPath, nvrtcLibrary: nvrtc.path, cacheDirectory: cache.path)
    _ = try engine.reduce(plan, randomArguments(plan, nI: 5, nJ: 5), cancel: nil)
    let source = try CUDAKernelSource.generate(for: plan)
    let key = CUBINCache.key(source: source.text, architecture: 90, nvrtcVersion: nvrtc.version, options: engine.compileOptions)
    let files = globPaths(cache.path + "/*") + globPaths(cache.path + "/.*.tmp")
    #expect(files == [CUBINCache.path(key: key, directory: cache.path)])
    #expect(CUBINCache.load(key: key, directory: cache.path) != nil)
    #expect(CUBINCache.list(directory: cache.path).count == 1)
    #expect(CUBINCache.clear(directory: cache.path) == 1)
    #expect(CUBINCache.list(directory: cache.path).isEmpty)
    // A truncated or foreign file is ignored, and a store replaces it.
    try writeFile(CUBINCache.path(key: "k", directory: cache.path), "not an ELF image")
    #expect(CUBINCache.load(key: "k", directory: cache.path) == nil)
    #expect(CUBINCache.store([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 1, count: 100), key: "k", directory: cache.path))
    #expect(CUBINCache.load(key: "k", directory: cache.path)?.count == 104)
  }

  /// block_sum on both schemes gives the same bits whatever the number of SMs, the same as 1D
  /// (the 2D partials are the reference's period sums), and matches the reference engine.
  @Test(arguments: ["gauss_f32_block", "lse_f32_block", "gauss_f64_block"])
  func blockSumDoesNotDependOnTheNumberOfSMs(_ name: String) throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    let library = try Self.emulation.get()
    let index = EmulationCase.all.firstIndex { $0.name == name }!
    let c = EmulationCase.all[index]
    let plan = try c.plan()
    #expect(plan.sumScheme == .blockSum)
    let args = randomArguments(plan, nI: 250, nJ: 12_000, seed: 77)
    var results: [(String, [Double])] = []
    for sms in [46, 108, 132, 170] {
      for scheme in CUDAScheme.allCases {
        mock.reset()
        mock.set("emulation", library)
        mock.set("prefix", "k\(index)_")
        mock.setDevice("multiprocessors", "\(sms)")
        results.append(("\(scheme.rawValue) on \(sms) SMs", try mock.engine(scheme: scheme).reduce(plan, args, cancel: nil)))
        #expect(mock.log.contains { $0.hasPrefix("launch ks_reduce_\(scheme == .oneD ? "1d" : "2d")") })
      }
    }
    let (firstName, first) = results[0]
    for (label, r) in results.dropFirst() {
      let k = zip(r, first).enumerated().first { $0.element.0 != $0.element.1 }?.offset
      #expect(r.count == first.count && k == nil, "\(name): \(label) differs from \(firstName) at \(k ?? -1)")
    }
    let expected = try ReferenceEngine().reduce(plan, args, cancel: nil)
    let scale = 1e-2 * (expected.map { abs($0) }.max() ?? 0) + 1e-300
    // 12,000 terms of mixed signs: float32's per-term differences (expf against the reference's
    // rounded double exp) add up beyond the small cases' 2e-5.
    let allowed = c.dtype == .float32 ? 1e-4 : c.allowedError
    #expect(maxRelativeError(first, expected, scale: scale) <= allowed)
  }

  /// A kernel fault (a sticky error: the context is dead) fails that call with one line, resets
  /// the context, which frees its memory, and the next call loads the module again and works.
  @Test func aKernelFaultResetsTheContextAndTheNextCallWorks() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f64:2")
    let plan = try makePlan(EmulationCase.gauss, EmulationCase.xyb)
    let args = randomArguments(plan, nI: 50, nJ: 60)
    let engine = mock.engine(scheme: .oneD)
    let twos = [Double](repeating: 2, count: 50)
    #expect(try engine.reduce(plan, args, cancel: nil) == twos)
    mock.set("fault_next_launch", "700")
    mock.set("reset_log", "")
    #expect(
      throws: EngineError.failed(
        "the CUDA kernel failed (CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered); "
          + "the GPU context was reset and the next call starts afresh")
    ) { try engine.reduce(plan, args, cancel: nil) }
    #expect(mock.log.contains("reset 0"))
    #expect(mock.liveAllocations == 0)
    mock.set("reset_log", "")
    #expect(try engine.reduce(plan, args, cancel: nil) == twos)
    let log = mock.log
    #expect(log.contains("retain 0") && log.contains("load cubin"), "\(log)")
    #expect(!log.contains { $0.contains("stale") })
    #expect(mock.liveAllocations == 0)
    // An error that leaves the context healthy (out of memory) resets nothing.
    mock.set("oom_above", "100")
    mock.set("reset_log", "")
    #expect(throws: EngineError.self) { try engine.reduce(plan, args, cancel: nil) }
    #expect(!mock.log.contains { $0.hasPrefix("reset") })
    #expect(mock.liveAllocations == 0)
  }

  /// A driver older than the NVRTC (CUDA 12 against NVRTC 13) cannot load its CUBINs: the engine
  /// says so in one line before compiling anything, and the probe reports a GPU ks cannot use
  /// (for `auto`'s warning); the same NVRTC pairs with a CUDA 13 driver.
  @Test func anOldDriverGetsNoNewerNVRTC() throws {
    let nvrtc = try requireNVRTC()
    let mock = try MockCUDA.shared()
    mock.reset()
    mock.set("pattern", "f64:1")
    let old = nvrtc.version.major - 1
    mock.set("driver_version", "\(old * 1000 + 40)")
    let plan = try makePlan("Exp(-SqDist(x,y))*b*IntCst(11)", EmulationCase.xyb)
    let args = randomArguments(plan, nI: 10, nJ: 10)
    do {
      _ = try mock.engine().reduce(plan, args, cancel: nil)
      Issue.record("an NVRTC \(nvrtc.version.major) CUBIN was used with a CUDA \(old) driver")
    } catch {
      guard case .unavailable(let why) = error else {
        Issue.record("expected .unavailable, got \(error)")
        return
      }
      #expect(
        why.hasPrefix(
          "no NVRTC pairs with the NVIDIA driver (CUDA \(old).4, sm_90): NVRTC \(nvrtc.version.major).\(nvrtc.version.minor) "
            + "(\(nvrtc.path)) is newer than the driver"), "\(why)")
      #expect(!why.contains("\n"))
    }
    #expect(!mock.log.contains("load cubin"))
    let probe = CUDAKernelEngine.probeDetail(deviceID: 0, driverLibrary: mock.driverPath, nvrtcLibrary: nvrtc.path)
    #expect(probe.gpuFound)
    if case .success = probe.result { Issue.record("the probe accepted an NVRTC newer than the driver") }
    mock.set("driver_version", "\(nvrtc.version.major * 1000)")
    #expect(try mock.engine().reduce(plan, args, cancel: nil) == [Double](repeating: 1, count: 10))
  }

  /// `ks bench --gpu`'s benchmark: right results pass; a wrong result fails the report, naming
  /// the configuration.
  @Test func benchmarkChecksEveryResult() throws {
    let nvrtc = try requireNVRTC()
    let mock = try MockCUDA.shared()
    let library = try Self.emulation.get()
    let cache = try TemporaryDirectory("ks-cuda-bench")
    defer { cache.remove() }
    func bench(_ dtype: DType) -> CUDABenchmark.Report {
      CUDABenchmark.run(
        sizes: [300], dtypes: [dtype], repetitions: 1, driverLibrary: mock.driverPath, nvrtcLibrary: nvrtc.path,
        cacheDirectory: cache.path)
    }
    for dtype in [DType.float32, .float64] {
      mock.reset()
      mock.set("emulation", library)
      mock.set("prefix", "bench_\(dtype.rawValue)_")
      let good = bench(dtype)
      #expect(good.passed, "\(good.text)")
      #expect(good.times.count == 2)
      #expect(good.text.contains("KeOps 2080 Ti"))
      #expect(good.lines.last == "gpu benchmark: PASS")
      mock.reset()
      mock.set("pattern", dtype == .float32 ? "f32:1.5" : "f64:1.5")
      let bad = bench(dtype)
      #expect(!bad.passed)
      #expect(bad.failures.count == 2)
      #expect(bad.failures.first?.hasPrefix("N=300      \(dtype.rawValue)") == true, "\(bad.failures)")
      #expect(bad.failures.allSatisfy { $0.contains("FAIL: wrong result") })
      #expect(bad.lines.last == "gpu benchmark: FAIL (2 failed)")
    }
  }

  @Test func cacheDirectoryFollowsTheEnvironment() {
    func dir(_ env: [String: String]) -> String { CUBINCache.directory { env[$0] } }
    #expect(dir(["KS_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/c/cuda")
    #expect(dir(["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/ks/cuda")
    #expect(dir(["HOME": "/h"]) == "/h/.cache/ks/cuda")
    // Nested directories are created on the first store.
    let root = "/tmp/ks-cuda-nested-\(getpid())"
    defer { _ = run("/bin/rm", ["-rf", root]) }
    #expect(CUBINCache.store([1, 2, 3], key: "abc", directory: root + "/a/b/cuda"))
    #expect(CUBINCache.readFile(root + "/a/b/cuda/abc.cubin") == [1, 2, 3])
  }
}
