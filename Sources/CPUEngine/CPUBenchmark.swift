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
    var reduction: ReductionKind = .sum
    var formula2: String? = nil
    var softMax = false
  }

  /// One of the reductions of issue 11's targets: float32, Genred's defaults, M = N = `size`,
  /// standard normal data (the D = 64 coordinates scaled by sqrt(3/64)).
  public struct ReductionWorkload: Sendable {
    /// The short name `ks bench --workload` and `scripts/bench-compare.sh` use.
    public var key: String
    var workload: Workload
    var size: Int
    var scale: Double
    /// Output rows when they differ from `size` (M = rows, N = size).
    var rows: Int? = nil
  }

  /// The reduction workloads, in the order `ks bench` prints them.
  public static let reductionWorkloads: [ReductionWorkload] = {
    let xy3 = ["x = Vi(3)", "y = Vj(3)"], xy64 = ["x = Vi(64)", "y = Vj(64)"]
    func w(_ key: String, _ name: String, _ formula: String, _ aliases: [String], _ r: ReductionKind, flops: Double,
      size: Int = 30_000, formula2: String? = nil, softMax: Bool = false, scale: Double = 1, rows: Int? = nil
    ) -> ReductionWorkload {
      ReductionWorkload(
        key: key,
        workload: Workload(
          name: name, formula: formula, aliases: aliases, flopsPerPair: flops, reduction: r, formula2: formula2,
          softMax: softMax),
        size: size, scale: scale, rows: rows)
    }
    let gauss = "Exp(-SqDist(x,y)/2)*b", b = ["b = Vj(1)"]
    return [
      w("min3", "Min SqDist(x,y), D=3", "SqDist(x,y)", xy3, .min, flops: 9),
      w("knn3", "ArgKMin K=10 SqDist(x,y), D=3", "SqDist(x,y)", xy3, .argKMin(10), flops: 9),
      w("knn64", "ArgKMin K=10 SqDist(x,y), D=64", "SqDist(x,y)", xy64, .argKMin(10), flops: 193, size: 20_000,
        scale: (3.0 / 64).squareRoot()),
      w("lse3", "LogSumExp -SqDist(x,y), D=3", "-SqDist(x,y)", xy3, .maxSumShiftExpWeight, flops: 12),
      w("ssmw3", "SumSoftMaxWeight -SqDist(x,y), b, D=3", "-SqDist(x,y)", xy3 + ["b = Vj(1)"], .maxSumShiftExpWeight,
        flops: 14, formula2: "b", softMax: true),
      w("gauss3", "Sum Exp(-SqDist(x,y)/2)*b, D=3", gauss, xy3 + b, .sum, flops: 12),
      w("gauss64", "Sum Exp(-SqDist(x,y)/2)*b, D=64", gauss, xy64 + b, .sum, flops: 195, size: 20_000,
        scale: (3.0 / 64).squareRoot()),
      w("rows100", "Sum Exp(-SqDist(x,y)/2)*b, M=100 N=1e6", gauss, xy3 + b, .sum, flops: 12, size: 1_000_000, rows: 100),
      w("laplace3", "Sum Exp(-Sqrt(SqDist(x,y)))*b, D=3", "Exp(-Sqrt(SqDist(x,y)))*b", xy3 + b, .sum, flops: 13),
      w("cauchy3", "Sum Inv(1+SqDist(x,y))*b, D=3", "Inv(IntCst(1)+SqDist(x,y))*b", xy3 + b, .sum, flops: 11),
    ]
  }()

  /// Times the reduction workloads whose keys are in `only` (all when empty): one line each, the
  /// median of `repeats` runs, in the format of `run`.
  public static func runReductions(
    only: [String] = [], repeats: Int = 3, engine: CPUKernelEngine = CPUKernelEngine()
  ) -> String {
    var lines: [String] = []
    for r in reductionWorkloads where only.isEmpty || only.contains(r.key) {
      lines.append(
        pad(r.key, 9)
          + measure(r.workload, n: r.size, dtype: .float32, repeats: repeats, engine: engine, scale: r.scale, rows: r.rows))
    }
    return lines.joined(separator: "\n")
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

  static func measure(
    _ w: Workload, n: Int, dtype: DType, repeats: Int, engine: CPUKernelEngine, scale: Double? = nil, rows: Int? = nil
  ) -> String {
    let label = pad(w.name, 40) + pad(dtype.rawValue, 9) + pad(rows.map { "\(count($0))x\(count(n))" } ?? count(n), 9)
    do {
      let p = try plan(w.formula, w.aliases, dtype: dtype, reduction: w.reduction, formula2: w.formula2, softMax: w.softMax)
      let args = try scale.map { try normalArguments(p, n: n, scale: $0, rows: rows) } ?? arguments(p, n: n)
      try engine.prepare(p)
      var times: [Double] = []
      for _ in 0..<max(1, repeats) {
        let t0 = now()
        _ = try engine.reduce(p, args, cancel: nil)
        times.append(now() - t0)
      }
      times.sort()
      let t = times[times.count / 2]
      let pairs = Double(rows ?? n) * Double(n)
      return label + pad(seconds(t), 12) + pad(String(format: "%.3g", pairs / t), 11)
        + String(format: "%.1f", pairs * w.flopsPerPair / t / 1e9)
    } catch {
      return label + "failed: \(error)"
    }
  }

  /// The plan Genred would build with its defaults (reduction over j, block_sum for the sum-type
  /// reductions, accumulator of the data type).
  static func plan(
    _ formula: String, _ aliases: [String], dtype: DType, reduction: ReductionKind = .sum, formula2: String? = nil,
    softMax: Bool = false
  ) throws -> KernelPlan {
    let reduced = try ReducedFormula.compile(
      formula: formula, aliases: aliases, reduction: reduction, formula2: formula2, axis: 1, softMaxWeight: softMax)
    let precision: Precision = dtype == .float64 ? .float64 : .float32
    return KernelPlan(
      formula: reduced, dataType: dtype, computePrecision: precision, accumulatorPrecision: precision,
      sumScheme: reduction.isSumType ? .blockSum : .directSum)
  }

  /// Standard normal data (Box-Muller on a fixed stream) times `scale` for the points x and y
  /// (every variable but `b`), N = n reduced rows and M = `rows` (default n) output rows.
  static func normalArguments(_ plan: KernelPlan, n: Int, scale: Double, rows: Int? = nil) throws -> KernelArguments {
    let m = rows ?? n
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    func uniform() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Double(state >> 11) + 0.5) / 9_007_199_254_740_992
    }
    func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
    let arrays = plan.formula.arguments.enumerated().map { (k, v) -> NDArray in
      let shape = v.category == .parameter ? [v.dim] : [v.category == plan.formula.outputCategory ? m : n, v.dim]
      let factor = plan.formula.argumentNames[k] == "b" ? 1 : scale
      return NDArray(shape: shape, doubles: (0..<shape.reduce(1, *)).map { _ in normal() * factor }, dtype: plan.dataType)
    }
    return KernelArguments(arrays: arrays, outputRows: m, reducedRows: n)
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
