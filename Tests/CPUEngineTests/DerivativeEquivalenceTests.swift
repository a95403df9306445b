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

/// Complex operations, TensorDot and Kron, and their gradients, on the CPU engine and the reference.
@Test func complexAndTensorDotMatchReference() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  let f =
    "Concat(ComplexMult(z, w) + ComplexAdd(z, c) + ComplexSubtract(c, w) + ComplexScal(c, z)"
    + " + ComplexDivide(z, ComplexExp(w)) + Conj(w) + ComplexRealScal(s, z) + ComplexRealScal(w, s)"
    + " + ComplexSumT(ComplexSum(w), 4) + Real2Complex(ComplexReal(z)) + Imag2Complex(ComplexImag(w))"
    + " + ComplexExp1j(ComplexAbs(z) + ComplexSquareAbs(w) + ComplexAngle(z)),"
    + " TensorDot(a, x, (3,3), (3,), (1,), (0,)) + Kron(x, Elem(y, 0), (3,), (1,)) + TensorDot(a, y, (3,1,3), (3,), (0,), (0,), (1,0)))"
  let aliases = ["z = Vi(4)", "w = Vj(4)", "c = Pm(2)", "s = Vj(1)", "x = Vi(3)", "y = Vj(3)", "a = Pm(9)", "e = Vi(7)"]
  let sequences = "Concat(BSpline(a, Elem(x, 0), 2), SoftDTW_SqDist(x, w, Elem(s, 0)*s + IntCst(1))) * Sum(y)"
  let softDTW = "SoftDTW_SqDist(x, w, Elem(s, 0)*s + IntCst(1)) * Sum(y)"
  let softDTWGradients = "Concat(Grad(\(softDTW), x, Elem(e, 0)), Grad(\(softDTW), w, Elem(e, 1)))"
  for formula in [f, "Grad(\(f), z, e) + Grad(\(f), w, e)", "Grad(\(f), a, Elem(e, 0))", sequences, softDTWGradients] {
    for dtype in [DType.float64, .float32] {
      for axis in [0, 1] {
        let plan = try makePlan(formula, aliases, axis: axis, dtype: dtype)
        let failure = try compareWithReference(plan, randomArguments(plan, nI: 29, nJ: 41), engine: engine)
        #expect(failure == nil, "\(formula) \(dtype) axis \(axis): \(failure ?? "")")
      }
    }
  }
}
