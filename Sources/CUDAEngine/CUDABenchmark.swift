import ArrayIO
import FormulaLanguage
import Glibc
import KernelEngines

/// The GPU benchmark behind `ks bench --gpu`: the Gaussian kernel sum `Exp(-SqDist(x,y))*b`
/// (axis=1, M = N, D = 3 by default) on the CUDA engine, in both schemes and both precisions,
/// reported as pairs (i, j) per second.
///
/// Each configuration is compiled and run once untimed (the CUBIN cache is warm afterwards), then
/// timed `repetitions` times; the best time is reported. A time covers a whole `reduce` call:
/// copies to the device, the kernels, the copy back. For the smallest size the first rows are
/// also compared with the reference engine.
public enum CUDABenchmark {
  /// Runs the benchmark and returns its report (one line per configuration), or the one-line
  /// reason the GPU cannot be used.
  public static func run(
    sizes: [Int] = [10_000, 100_000, 1_000_000], dimension: Int = 3, dtypes: [DType] = [.float32, .float64],
    schemes: [CUDAScheme] = [.oneD, .twoD], repetitions: Int = 3, deviceID: Int = -1,
    progress: ((String) -> Void)? = nil
  ) -> String {
    var lines: [String] = []
    func emit(_ line: String) {
      lines.append(line)
      progress?(line)
    }
    let probe = CUDAKernelEngine(deviceID: deviceID)
    let info: CUDADeviceInfo
    do {
      info = try probe.deviceInfo()
      let nvrtc = try NVRTC.load()
      let driver = try CUDADriver.load()
      emit(
        "GPU \(info.ordinal): \(info.name), sm_\(info.architecture), \(info.multiprocessors) SMs, "
          + "\(formatBytes(info.totalMemory)); driver CUDA \(driver.version.major).\(driver.version.minor); "
          + "NVRTC \(nvrtc.version.major).\(nvrtc.version.minor) (\(nvrtc.path))")
    } catch {
      emit("GPU benchmark unavailable: \(error.description)")
      return lines.joined(separator: "\n") + "\n"
    }
    emit("Gaussian sum Exp(-SqDist(x,y))*b, D=\(dimension), M=N, best of \(repetitions), copies included")
    for n in sizes {
      for dtype in dtypes {
        let plan: KernelPlan
        do {
          let reduced = try ReducedFormula.compile(
            formula: "Exp(-SqDist(x,y))*b", aliases: ["x = Vi(\(dimension))", "y = Vj(\(dimension))", "b = Vj(1)"],
            reduction: .sum, axis: 1)
          let p: Precision = dtype == .float64 ? .float64 : .float32
          plan = KernelPlan(formula: reduced, dataType: dtype, computePrecision: p, accumulatorPrecision: p, sumScheme: .blockSum)
        } catch {
          emit("cannot build the Gaussian plan: \(error.diagnostic.message)")
          return lines.joined(separator: "\n") + "\n"
        }
        let args = gaussianArguments(n: n, dimension: dimension, dtype: dtype)
        for scheme in schemes {
          let engine = CUDAKernelEngine(deviceID: deviceID, scheme: scheme)
          let label = "N=\(pad(String(n), 8)) \(pad(dtype.rawValue, 7)) GPU_\(scheme.rawValue)"
          do {
            let first = try engine.reduce(plan, args, cancel: nil)
            var best = Double.infinity
            for _ in 0..<max(1, repetitions) {
              let t0 = now()
              _ = try engine.reduce(plan, args, cancel: nil)
              best = min(best, now() - t0)
            }
            let pairs = Double(n) * Double(n)
            var line = "\(label)  \(pad(formatSeconds(best), 9))  \(formatScientific(pairs / best)) pairs/s"
            if n == sizes.min() {
              line += "  (max rel. error vs reference on 64 rows: \(formatScientific(try checkAgainstReference(plan, args, first))))"
            }
            emit(line)
          } catch {
            emit("\(label)  failed: \(error.description)")
          }
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
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

  /// The largest relative error of the first 64 output rows against the reference engine.
  static func checkAgainstReference(_ plan: KernelPlan, _ args: KernelArguments, _ got: [Double]) throws(EngineError) -> Double {
    let rows = min(64, args.outputRows)
    var head = args
    let x = args.arrays[0]
    let d = x.shape[1]
    head.arrays[0] = NDArray(shape: [rows, d], doubles: Array(x.toDoubles()[0..<(rows * d)]), dtype: x.dtype)
    head.outputRows = rows
    let expected = try ReferenceEngine().reduce(plan, head, cancel: nil)
    var worst = 0.0
    for k in 0..<expected.count { worst = max(worst, abs(got[k] - expected[k]) / max(abs(expected[k]), 1e-300)) }
    return worst
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
