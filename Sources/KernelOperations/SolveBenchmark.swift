import ArrayIO
import Dispatch
import Foundation

/// `ks bench solve`: iterations and times of KernelSolve's methods (plain CG, Jacobi, Nyström,
/// direct) on two systems at several sizes, on the engine `backend=` selects.
///
/// - `doc`: PyKeOps' documentation example, `Exp(-Norm2(x - y)) * a`, x ~ N(0, 1) in 3-D, two
///   right-hand sides, alpha = 0.1;
/// - `krr`: Gaussian kernel ridge regression, `Exp(-g * SqDist(x, y)) * a` with g = 50 (bandwidth
///   0.1), x uniform in the unit cube, one right-hand side, alpha = N * 1e-4.
///
/// Methods whose estimated time is over `budget` seconds (from the iterations and seconds per
/// iteration measured at the previous size) are skipped with that estimate.
public enum SolveBenchmark {
  public static let cases = ["doc", "krr"]
  public static let methods = ["none", "jacobi", "nystrom", "nystrom64", "direct", "auto"]

  public static func run(
    sizes: [Int], cases: [String], methods: [String], budget: Double, backend: String, output: (String) -> Void
  ) {
    output("ks bench solve: eps = 1e-6, backend \(backend); times include the preconditioner set-up (in brackets)")
    for name in cases {
      output(name == "doc"
        ? "\ndoc: Exp(-Norm2(x - y)) * a, x ~ N(0,1) in 3-D, 2 right-hand sides, alpha = 0.1"
        : "\nkrr: Exp(-g * SqDist(x, y)) * a, g = 50, x uniform in [0,1]^3, 1 right-hand side, alpha = N * 1e-4")
      var perIteration: [String: (iterations: Int, seconds: Double, n: Int)] = [:]
      for n in sizes {
        let (solver, args, alpha) = system(name, n: n)
        var reference: [Double]?
        for method in methods {
          var options = SolverOptions()
          switch method {
          case "none": options = .keops
          case "jacobi": options.preconditioner = .jacobi; options.method = .cg
          case "nystrom": options.preconditioner = .nystrom; options.method = .cg
          case "nystrom64": options.preconditioner = .nystrom; options.method = .cg; options.mixedPrecision = false
          case "direct": options.method = .direct
          default: break
          }
          let label = "  N=\(n)".padding(toLength: 10, withPad: " ", startingAt: 0) + method.padding(toLength: 9, withPad: " ", startingAt: 0)
          if method == "direct", n * n * 8 > options.memoryBudget {
            output(label + "skipped: the \(n) x \(n) matrix needs \(n * n * 8 >> 20) MiB")
            continue
          }
          if let prev = perIteration[method] {
            // Iterations grow slowly with N; the cost per iteration like N^2 (N^3 for direct).
            let scale = Double(n) / Double(prev.n)
            let estimate = method == "direct" ? prev.seconds * scale * scale * scale : prev.seconds * scale * scale
            if estimate > budget {
              output(label + "skipped: about \(Int(estimate)) s estimated (--budget \(Int(budget)))")
              continue
            }
          }
          do {
            let (a, report) = try solver.solve(args, alpha: alpha, eps: 1e-6, backend: backend, options: options)
            perIteration[method] = (report.iterations, report.elapsed, n)
            let values = a.toDoubles()
            var diff = ""
            if let ref = reference {
              var num = 0.0, den = 0.0
              for k in 0..<values.count { num = max(num, abs(values[k] - ref[k])); den = max(den, abs(ref[k])) }
              diff = String(format: "  max|a - a_first|/max|a| %.1e", num / max(den, 1e-300))
            } else {
              reference = values
            }
            let iterations = report.direct ? "direct" : "\(report.iterations) it"
            output(
              label + iterations.padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(format: "%8.2f s  [%6.2f s]  rms %.1e  ", report.elapsed, report.setup, report.rmsResidual)
                + report.method + diff)
          } catch {
            output(label + "failed: \(error)")
          }
        }
      }
    }
  }

  /// The solver, its arguments and alpha for a case at size n (seeded data).
  static func system(_ name: String, n: Int) -> (KernelSolve, [NDArray], Double) {
    var rng = CentreRandom(seed: 12345 &+ UInt64(n))
    func normal() -> Double {
      let u = rng.uniform(), v = rng.uniform()
      return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
    if name == "doc" {
      let x = NDArray(shape: [n, 3], float64: (0..<(3 * n)).map { _ in normal() })
      let b = NDArray(shape: [n, 2], float64: (0..<(2 * n)).map { _ in normal() })
      let s = try! KernelSolve(
        formula: "Exp(-Norm2(x - y)) * a", aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"], varinvalias: "a", axis: 1)
      return (s, [x, x, b], 0.1)
    }
    let xv = (0..<(3 * n)).map { _ in rng.uniform() }
    var yv = [Double](repeating: 0, count: n)
    for i in 0..<n {
      yv[i] = Foundation.sin(6 * xv[3 * i]) * Foundation.cos(4 * xv[3 * i + 1]) + xv[3 * i + 2] + 0.1 * normal()
    }
    let s = try! KernelSolve(
      formula: "Exp(-g * SqDist(x, y)) * a", aliases: ["g = Pm(1)", "x = Vi(3)", "y = Vj(3)", "a = Vj(1)"], varinvalias: "a",
      axis: 1)
    let x = NDArray(shape: [n, 3], float64: xv)
    return (s, [NDArray(shape: [1], float64: [50]), x, x, NDArray(shape: [n, 1], float64: yv)], Double(n) * 1e-4)
  }
}
