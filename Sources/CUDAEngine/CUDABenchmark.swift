import ArrayIO
import FormulaLanguage
import Glibc
import KernelEngines

/// The GPU benchmark behind `ks bench --gpu`: the Gaussian kernel sum `Exp(-SqDist(x,y))*b`
/// (axis=1, M = N, D = 3 by default) on the CUDA engine, in both schemes and both precisions,
/// reported as time per call and pairs (i, j) per second, then a table beside KeOps' published
/// GPU figures.
///
/// Each configuration is compiled and run once untimed (the CUBIN cache is warm afterwards), then
/// timed up to `repetitions` times (fewer when a call takes seconds); the best time is reported.
/// A time covers a whole `reduce` call: copies to the device, the kernels, the copy back. Every
/// configuration's result is checked against the reference engine on rows from the start, the
/// middle and the end of the output (so every 1D launch chunk of a large case is covered); a
/// result off by more than `tolerance(for:)`, or a failed call, makes the report fail.
public enum CUDABenchmark {
  /// What a benchmark run found.
  public struct Report: Sendable {
    /// The lines printed, in order.
    public var lines: [String] = []
    /// One line per failed configuration (a failed call or a wrong result), naming it.
    public var failures: [String] = []
    /// Whether a GPU could be used at all.
    public var gpuAvailable = true
    /// Seconds per call, by "N dtype scheme" (e.g. "10000 float32 1D").
    public var times: [String: Double] = [:]

    /// True when the GPU was there and every configuration ran and was right.
    public var passed: Bool { gpuAvailable && failures.isEmpty }
    public var text: String { lines.joined(separator: "\n") + "\n" }
  }

  /// KeOps' published GPU times for this benchmark (RTX 2080 Ti, float32, D=3, M=N), by N.
  public static let keopsReference: [Int: Double] = [10_000: 0.7e-3, 100_000: 15e-3, 1_000_000: 1.39]

  /// The largest relative error accepted against the reference engine (float32 is compiled with
  /// fast math: `__expf`).
  public static func tolerance(for dtype: DType) -> Double { dtype == .float64 ? 1e-11 : 2e-5 }

  /// Runs the benchmark; `progress` gets each line as it is found.
  public static func run(
    sizes: [Int] = [10_000, 100_000, 1_000_000], dimension: Int = 3, dtypes: [DType] = [.float32, .float64],
    schemes: [CUDAScheme] = [.oneD, .twoD], repetitions: Int = 3, deviceID: Int = -1,
    driverLibrary: String? = nil, nvrtcLibrary: String? = nil, cacheDirectory: String? = nil,
    progress: ((String) -> Void)? = nil
  ) -> Report {
    var report = Report()
    func emit(_ line: String) {
      report.lines.append(line)
      progress?(line)
    }
    func fail(_ line: String) {
      report.failures.append(line)
      emit(line)
    }
    func engine(_ scheme: CUDAScheme?) -> CUDAKernelEngine {
      CUDAKernelEngine(
        deviceID: deviceID, scheme: scheme, driverLibrary: driverLibrary, nvrtcLibrary: nvrtcLibrary,
        cacheDirectory: cacheDirectory)
    }
    do throws(EngineError) {
      let device = try CUDADevice.open(try CUDADriver.load(path: driverLibrary), ordinal: max(0, deviceID))
      let info = device.info
      let nvrtc = try engine(nil).nvrtc(for: device)
      let driver = device.driver.version
      emit(
        "GPU \(info.ordinal): \(info.name), sm_\(info.architecture), \(info.multiprocessors) SMs, "
          + "\(formatBytes(info.totalMemory)); driver CUDA \(driver.major).\(driver.minor); "
          + "NVRTC \(nvrtc.version.major).\(nvrtc.version.minor) (\(nvrtc.path))")
    } catch {
      report.gpuAvailable = false
      emit("GPU benchmark unavailable: \(error.description)")
      return report
    }
    emit("Gaussian sum Exp(-SqDist(x,y))*b, D=\(dimension), M=N, best of up to \(repetitions), copies included")
    for n in sizes {
      for dtype in dtypes {
        let plan: KernelPlan
        do {
          plan = try gaussianPlan(dimension: dimension, dtype: dtype)
        } catch {
          fail("cannot build the Gaussian plan: \(error.diagnostic.message)")
          return report
        }
        let args = gaussianArguments(n: n, dimension: dimension, dtype: dtype)
        let rows = checkRows(n)
        var expected: [Double]?
        for scheme in schemes {
          let label = "N=\(pad(String(n), 8)) \(pad(dtype.rawValue, 7)) GPU_\(scheme.rawValue)"
          do throws(EngineError) {
            let e = engine(scheme)
            let first = try e.reduce(plan, args, cancel: nil)
            if expected == nil { expected = try reference(plan, args, rows: rows) }
            let err = maxRelativeError(rows.map { first[$0] }, expected!)
            var best = Double.infinity
            var spent = 0.0
            for _ in 0..<max(1, repetitions) {
              let t0 = now()
              _ = try e.reduce(plan, args, cancel: nil)
              let t = now() - t0
              best = min(best, t)
              spent += t
              if spent > 2 { break }
            }
            report.times["\(n) \(dtype.rawValue) \(scheme.rawValue)"] = best
            let pairs = Double(n) * Double(n)
            let line =
              "\(label)  \(pad(formatSeconds(best), 9))  \(formatScientific(pairs / best)) pairs/s  "
              + "max rel. error \(formatScientific(err)) on \(rows.count) rows"
            if err.isNaN || err > tolerance(for: dtype) {
              fail("\(line)  FAIL: wrong result (tolerance \(formatScientific(tolerance(for: dtype))))")
            } else {
              emit(line)
            }
          } catch {
            fail("\(label)  FAIL: \(error.description)")
          }
        }
      }
    }
    emit("")
    emit(comparisonTable(report, sizes: sizes, dtypes: dtypes, schemes: schemes))
    emit("gpu benchmark: \(report.failures.isEmpty ? "PASS" : "FAIL (\(report.failures.count) failed)")")
    return report
  }

  /// The table of ks' times next to KeOps' published ones.
  static func comparisonTable(_ report: Report, sizes: [Int], dtypes: [DType], schemes: [CUDAScheme]) -> String {
    var columns: [(String, String)] = []
    for dtype in dtypes {
      for scheme in schemes {
        columns.append(("ks GPU_\(scheme.rawValue) \(dtype == .float64 ? "f64" : "f32")", "\(dtype.rawValue) \(scheme.rawValue)"))
      }
    }
    let width = 15
    var s = "Time per call (M = N, D = 3) beside KeOps' published GPU times (RTX 2080 Ti, float32):\n"
    s += pad("N", 9) + pad("KeOps 2080 Ti", width) + columns.map { pad($0.0, width) }.joined() + "\n"
    for n in sizes {
      s += pad(String(n), 9) + pad(keopsReference[n].map(formatSeconds) ?? "-", width)
      s += columns.map { pad(report.times["\(n) \($0.1)"].map(formatSeconds) ?? "failed", width) }.joined()
      s += "\n"
    }
    return String(s.dropLast())
  }

  /// The output rows checked against the reference: up to 32 at the start, the middle and the end.
  static func checkRows(_ n: Int) -> [Int] {
    var rows = Set<Int>()
    for start in [0, n / 2, max(0, n - 32)] {
      for i in start..<min(n, start + 32) { rows.insert(i) }
    }
    return rows.sorted()
  }

  /// The reference engine's output for `rows` of `args` (axis=1: x is argument 0).
  static func reference(_ plan: KernelPlan, _ args: KernelArguments, rows: [Int]) throws(EngineError) -> [Double] {
    var sub = args
    let x = args.arrays[0]
    let d = x.shape[1]
    let values = x.toDoubles()
    var picked: [Double] = []
    for i in rows { picked += values[(i * d)..<((i + 1) * d)] }
    sub.arrays[0] = NDArray(shape: [rows.count, d], doubles: picked, dtype: x.dtype)
    sub.outputRows = rows.count
    return try ReferenceEngine().reduce(plan, sub, cancel: nil)
  }

  /// The largest |got - expected| / |expected| (NaN when a value is NaN or the counts differ).
  static func maxRelativeError(_ got: [Double], _ expected: [Double]) -> Double {
    guard got.count == expected.count else { return .nan }
    var worst = 0.0
    for (g, e) in zip(got, expected) {
      let r = abs(g - e) / max(abs(e), 1e-300)
      if r.isNaN { return .nan }
      worst = max(worst, r)
    }
    return worst
  }

  /// The benchmark's plan: `Exp(-SqDist(x,y))*b`, x = Vi(D), y = Vj(D), b = Vj(1), Sum over j,
  /// `block_sum`, computed and accumulated in the data type.
  static func gaussianPlan(dimension: Int, dtype: DType) throws(FormulaError) -> KernelPlan {
    let reduced = try ReducedFormula.compile(
      formula: "Exp(-SqDist(x,y))*b", aliases: ["x = Vi(\(dimension))", "y = Vj(\(dimension))", "b = Vj(1)"],
      reduction: .sum, axis: 1)
    let p: Precision = dtype == .float64 ? .float64 : .float32
    return KernelPlan(formula: reduced, dataType: dtype, computePrecision: p, accumulatorPrecision: p, sumScheme: .blockSum)
  }

  /// x, y uniform in [0, 1)^D, b uniform in [0, 1), N rows each (a fixed seed).
  static func gaussianArguments(n: Int, dimension d: Int, dtype: DType) -> KernelArguments {
    var state: UInt64 = 0x6b73_6265_6e63_6821
    func next() -> Double {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    func array(_ rows: Int, _ cols: Int) -> NDArray {
      NDArray(shape: [rows, cols], doubles: (0..<(rows * cols)).map { _ in next() }, dtype: dtype)
    }
    return KernelArguments(arrays: [array(n, d), array(n, d), array(n, 1)], outputRows: n, reducedRows: n)
  }

  static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
  }

  /// `12.3 ms`, `1.23 s`, `456 us`.
  static func formatSeconds(_ t: Double) -> String {
    if t >= 1 { return "\(fixed(t, 3)) s" }
    if t >= 1e-3 { return "\(fixed(t * 1e3, t >= 0.1 ? 0 : 1)) ms" }
    return "\(fixed(t * 1e6, 0)) us"
  }

  /// `x` with `digits` decimals (no Foundation formatting).
  static func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let v = Int64((x * scale).rounded())
    if digits == 0 { return String(v) }
    let s = String(abs(v))
    let padded = String(repeating: "0", count: max(0, digits + 1 - s.count)) + s
    return (v < 0 ? "-" : "") + padded.dropLast(digits) + "." + padded.suffix(digits)
  }

  /// `1.23e+09` style, 3 significant digits.
  static func formatScientific(_ x: Double) -> String {
    if x == 0 { return "0" }
    if !x.isFinite { return "\(x)" }
    var e = Int(Glibc.floor(Glibc.log10(abs(x))))
    var m = x / Glibc.pow(10, Double(e))
    if abs(m) >= 9.995 {
      m /= 10
      e += 1
    }
    return "\(fixed(m, 2))e\(e < 0 ? "-" : "+")\(abs(e) < 10 ? "0" : "")\(abs(e))"
  }
}
