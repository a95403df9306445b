import KSShell
import ShellRuntime
import ShellSyntax
import Testing

/// KeOps reductions and solvers checked against dense numpy computations written in the same
/// `.ks` script (broadcasting, `np.linalg.solve`, `np.argsort`).
@Suite("KeOps against dense numpy")
struct CrossCheckTests {
  /// The printed lines of a script run through the interpreter; records the errors.
  private func run(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    let r = NumpyHarness.ks(script, keepGoing: false)
    #expect(r.errors == "", "the script failed:\n\(r.errors)", sourceLocation: sourceLocation)
    #expect(r.status == 0, sourceLocation: sourceLocation)
    return r.output.split(separator: "\n").map(String.init)
  }

  @Test("the acceptance script's KernelSolve residual is small")
  func acceptance() throws {
    let lines = run(
      """
      import numpy as np
      formula = "Exp(-Norm2(x - y)) * a"
      aliases = ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"]
      K = Genred(formula, aliases, axis = 1)
      K_inv = KernelSolve(formula, aliases, "a", axis = 1)
      x = np.random.randn(300, 3)
      b = np.random.randn(300, 2)
      a = K_inv(x, x, b, alpha = .1)
      print(a.shape)
      print( ( np.sum( np.sqrt( ( .1 * a + K(x,x,a) - b)**2 ) ) / len(x) ).item() )
      """)
    try #require(lines.count == 2)
    #expect(lines[0] == "(300, 2)")
    let residual = try #require(Double(lines[1]))
    #expect(residual < 1e-4, "mean residual \(residual)")
  }

  @Test("KernelSolve in float32 matches np.linalg.solve on the dense Gaussian kernel matrix")
  func denseSolve() throws {
    let lines = run(
      """
      import numpy as np
      np.random.seed(0)
      N = 300
      x = np.random.randn(N, 3).astype(np.float32)
      b = np.random.randn(N, 2).astype(np.float32)
      alpha = 0.1
      K_inv = KernelSolve("Exp(-SqDist(x, y)) * a", ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"], "a", axis=1, dtype="float32")
      a = K_inv(x, x, b, alpha=alpha)
      print(a.dtype, a.shape)
      xd = x.astype(np.float64)
      Kxx = np.exp(-((xd[:, None, :] - xd[None, :, :]) ** 2).sum(-1))
      a_np = np.linalg.solve(alpha * np.eye(N) + Kxx, b.astype(np.float64))
      err = np.linalg.norm(a - a_np) / np.linalg.norm(a_np)
      print(err)
      """)
    try #require(lines.count == 2)
    #expect(lines[0] == "float32 (300, 2)")
    let err = try #require(Double(lines[1]))
    #expect(err < 1e-4, "relative error \(err) between KernelSolve and np.linalg.solve")
  }

  @Test("ArgKMin matches np.argsort of the dense distance matrix")
  func nearestNeighbours() throws {
    let lines = run(
      """
      import numpy as np
      np.random.seed(1)
      x = np.random.randn(300, 3)
      y = np.random.randn(400, 3)
      K = 5
      knn = Genred("SqDist(x, y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="ArgKMin", axis=1, opt_arg=K)
      ind = knn(x, y)
      D = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
      ind_np = np.argsort(D, axis=1)[:, :K]
      print(ind.shape, ind_np.shape)
      print((ind == ind_np).all())
      print((ind == ind_np).mean())
      """)
    #expect(lines == ["(300, 5) (300, 5)", "True", "1.0"])
  }
}
