import ArrayIO
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine
import _KSTestSupport

/// Formulas with symbolic derivatives (expanded into table operations before code generation)
/// give the reference engine's values on the compiled CPU engine.
@Test(arguments: [
  ("Grad(Exp(-SqDist(x,y))*b, x, e)", 1),
  ("Grad(Exp(-SqDist(x,y))*b, y, e)", 0),
  ("Laplacian(Exp(-SqDist(x,y)), x)*b", 1),
  ("Grad(Grad(Exp(-SqDist(x,y))*b, x, e), y, x)", 1),
  ("Concat(Diff(Normalize(x-y)*Norm2(x), x, y), GradMatrix(Sin(x)*b, x))", 1),
  ("Grad(WeightedSqDist(s, x, y)*b, s, e) + Divergence(MatVecMult(s, x)*b, x)", 0),
])
func derivativesMatchReference(_ c: (String, Int)) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  let aliases = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "e = Vi(1)", "s = Pm(9)"]
  for dtype in [DType.float64, .float32] {
    let plan = try makePlan(c.0, aliases, axis: c.1, dtype: dtype)
    let failure = try compareWithReference(plan, randomArguments(plan, nI: 37, nJ: 53), engine: engine)
    #expect(failure == nil, "\(c.0) \(dtype): \(failure ?? "")")
  }
}
