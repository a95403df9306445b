import Foundation
import KSShell
import Testing

/// Two solver reports of the issue "never mislead" (issue 13): an exact solution is convergence,
/// and residuals print in C's `%.1e` (never `10.0e-01`).
@Suite struct SolverReportTests {
  @Test func residualsUseTheStandardFormat() {
    #expect(Session.scientific(0.99999) == "1.0e+00")
    #expect(Session.scientific(0.996) == "1.0e+00")
    #expect(Session.scientific(0.0994) == "9.9e-02")
    #expect(Session.scientific(0) == "0.0e+00")
    #expect(Session.scientific(1.25e-7) == "1.2e-07")
  }

  /// b = 0: the start (a = 0) is the exact solution, for every method.
  @Test func aZeroResidualIsConvergenceForEveryMethod() throws {
    let path = try KSProcess.script(
      """
      import numpy as np
      x = np.random.randn(50, 3); z = np.zeros((50, 1))
      Kinv = KernelSolve("Exp(-SqDist(x,y)) * b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], "b", axis=1)
      for opts in [dict(precond=None), dict(precond="nystrom"), dict(precond="jacobi"), dict(method="direct")]:
          a = Kinv(x, x, z, alpha=0.1, **opts)
          print(a.shape, np.abs(a).max())
      """)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try KSProcess.run(["run", path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == String(repeating: "(50, 1) 0.0\n", count: 4))
    let summaries = r.stderr.split(separator: "\n").map { $0.replacingOccurrences(of: #", [0-9.]+ s"#, with: "", options: .regularExpression) }
    #expect(
      summaries == [
        "CG converged in 0 iterations, rms 0.0e+00",
        "PCG (Nyström, 49 centres) converged in 0 iterations, rms 0.0e+00",
        "PCG (Jacobi) converged in 0 iterations, rms 0.0e+00",
        "Direct (Cholesky, 50 x 50) solved, rms 0.0e+00",
      ], "\(r.stderr)")
  }
}
