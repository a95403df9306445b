import ArrayIO
import Dispatch
import Foundation
import FormulaLanguage
import KernelEngines

/// Timings of the compiled CPU engine, for `ks bench`.
public enum CPUBenchmark {
  /// One timed workload: `formula` over M = N = `size` points.
  struct Workload {
    var name: String
    var formula: String
    var aliases: [String]
    /// Floating-point operations per (i, j) pair, counting exp and sqrt as one.
    var flopsPerPair: Double
  }

  /// Runs the benchmark and returns a report, one line per measurement: the median time of
  /// `repeats` runs, pairs per second and GFLOP/s.
  ///
  /// - Parameters:
  ///   - sizes: M = N for the Gaussian kernel (D = 3).
  ///   - highDimensionSize: M = N for the D = 64 Gaussian.
  ///   - repeats: runs per measurement (the median is reported).
  ///   - engine: the engine to time (its cache directory is used for the compile-time probe).
  public static func run(
    sizes: [Int] = [10_000, 100_000], highDimensionSize: Int = 20_000, repeats: Int = 3,
    engine: CPUKernelEngine = CPUKernelEngine()
  ) -> String {
    let gaussian = Workload(
      name: "Gaussian Exp(-SqDist(x,y))*b, D=3", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], flopsPerPair: 12)
    let doc = Workload(
      name: "Exp(-Norm2(x-y))*a, D=3, dim(a)=2", formula: "Exp(-Norm2(x-y))*a",
      aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"], flopsPerPair: 15)
    let high = Workload(
      name: "Gaussian Exp(-SqDist(x,y))*b, D=64", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(64)", "y = Vj(64)", "b = Vj(1)"], flopsPerPair: 195)

    var lines = ["ks CPU engine benchmark (\(ProcessInfoCores.count) cores, \(engine.threads) threads, median of \(repeats))"]
    lines.append(pad("workload", 40) + pad("dtype", 9) + pad("M = N", 9) + pad("time", 12) + pad("pairs/s", 11) + "GFLOP/s")
    var jobs: [(Workload, Int)] = sizes.map { (gaussian, $0) }
    jobs.append((doc, sizes.max() ?? 10_000))
    jobs.append((high, highDimensionSize))
    for (w, n) in jobs {
      for dtype in [DType.float32, .float64] {
        lines.append(measure(w, n: n, dtype: dtype, repeats: repeats, engine: engine))
      }
    }

    // First call of a formula no cache has seen: code generation, compilation and loading.
    let tag = Double(UInt32.random(in: 1...UInt32.max)) / 4_294_967_296 + 1
    if let plan = try? plan("Exp(-\(tag)*SqDist(x,y))*b", gaussian.aliases, dtype: .float32) {
      let t0 = now()
      do {
        try engine.prepare(plan)
        lines.append("first call of a new formula (generate + compile + load): \(seconds(now() - t0))")
      } catch {
        lines.append("first call of a new formula: failed: \(error)")
      }
      // A cached call: memo lookup, argument binding and a 1 x 1 reduction.
      if let args = try? arguments(plan, n: 1) {
        var times: [Double] = []
        for _ in 0..<201 {
          let t = now()
          _ = try? engine.reduce(plan, args, cancel: nil)
          times.append(now() - t)
        }
        times.sort()
        lines.append("cached call overhead (1 x 1 reduction, median of 201): \(seconds(times[100]))")
      }
    }
    return lines.joined(separator: "\n")
  }

  static func measure(_ w: Workload, n: Int, dtype: DType, repeats: Int, engine: CPUKernelEngine) -> String {
    let label = pad(w.name, 40) + pad(dtype.rawValue, 9) + pad(count(n), 9)
    do {
      let p = try plan(w.formula, w.aliases, dtype: dtype)
      let args = try arguments(p, n: n)
      try engine.prepare(p)
      var times: [Double] = []
      for _ in 0..<max(1, repeats) {
        let t0 = now()
        _ = try engine.reduce(p, args, cancel: nil)
        times.append(now() - t0)
      }
      times.sort()
      let t = times[times.count / 2]
      let pairs = Double(n) * Double(n)
      return label + pad(seconds(t), 12) + pad(String(format: "%.3g", pairs / t), 11)
        + String(format: "%.1f", pairs * w.flopsPerPair / t / 1e9)
    } catch {
      return label + "failed: \(error)"
    }
  }

  /// The plan Genred would build (Sum over j, block_sum, accumulator of the data type).
  static func plan(_ formula: String, _ aliases: [String], dtype: DType) throws -> KernelPlan {
    let reduced = try ReducedFormula.compile(formula: formula, aliases: aliases, reduction: .sum, axis: 1)
    let precision: Precision = dtype == .float64 ? .float64 : .float32
    return KernelPlan(
      formula: reduced, dataType: dtype, computePrecision: precision, accumulatorPrecision: precision, sumScheme: .blockSum)
  }

  /// Uniform [0, 1) data with M = N = n.
  static func arguments(_ plan: KernelPlan, n: Int) throws -> KernelArguments {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / 9_007_199_254_740_992
    }
    let arrays = plan.formula.arguments.map { v -> NDArray in
      let shape = v.category == .parameter ? [v.dim] : [n, v.dim]
      return NDArray(shape: shape, doubles: (0..<shape.reduce(1, *)).map { _ in next() }, dtype: plan.dataType)
    }
    return KernelArguments(arrays: arrays, outputRows: n, reducedRows: n)
  }

  static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

  static func seconds(_ t: Double) -> String {
    if t < 1e-3 { return String(format: "%.1f us", t * 1e6) }
    if t < 1 { return String(format: "%.2f ms", t * 1e3) }
    return String(format: "%.3f s", t)
  }

  static func count(_ n: Int) -> String {
    n % 1000 == 0 && n >= 1000 ? (n % 1_000_000 == 0 ? "\(n / 1_000_000)e6" : "\(n / 1000)e3") : "\(n)"
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
  }
}
