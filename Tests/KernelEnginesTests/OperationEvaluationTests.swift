import ArrayIO
import Foundation
import FormulaLanguage
import Testing

@testable import KernelEngines

/// One operation checked at a few points against hand-computed values.
struct OperationCase: Sendable, CustomTestStringConvertible {
  /// The operation of `Operation.table` this case is about.
  var operation: String
  var formula: String
  var inputs: [PointInput]
  var expected: [[Double]]
  var tolerance: Double

  var testDescription: String { "\(operation): \(formula)" }
}

private let pi = Double.pi

private func op(
  _ operation: String, _ formula: String, _ inputs: [PointInput], _ expected: [[Double]], tol: Double = 0
) -> OperationCase {
  OperationCase(operation: operation, formula: formula, inputs: inputs, expected: expected, tolerance: tol)
}

/// A unary scalar case: f(x) at each value of x.
private func unary(_ operation: String, _ formula: String, _ x: [Double], _ fx: [Double], tol: Double = 0) -> OperationCase {
  op(operation, formula, [scalars("x", x)], fx.map { [$0] }, tol: tol)
}

/// A binary scalar case: f(x, y) at each pair.
private func binary(_ operation: String, _ formula: String, _ xy: [(Double, Double)], _ f: [Double], tol: Double = 0) -> OperationCase {
  op(operation, formula, [scalars("x", xy.map(\.0)), scalars("y", xy.map(\.1))], f.map { [$0] }, tol: tol)
}

private let ulp = 1e-15

/// Hand-computed values for every operation, with KeOps' special values (keops-semantics.md 1.3-1.8).
let operationCases: [OperationCase] = [
  // MARK: Elementwise unary
  unary("Minus", "Minus(x)", [1.5, -2, 0], [-1.5, 2, 0]),
  unary("Minus", "-x", [3], [-3]),
  unary("Inv", "Inv(x)", [2, -4, 0.5], [0.5, -0.25, 2]),
  unary("Inv", "1/x", [0], [.infinity]),
  unary("Exp", "Exp(x)", [0, 1, -1], [1, 2.718281828459045, 0.36787944117144233], tol: ulp),
  unary("Log", "Log(x)", [1, 2.718281828459045, 10], [0, 1, 2.302585092994046], tol: ulp),
  unary("XLogX", "XLogX(x)", [0, 1, 2, 0.5], [0, 0, 1.3862943611198906, -0.34657359027997264], tol: ulp),
  unary("Sin", "Sin(x)", [0, pi / 2, pi / 6, -pi / 2], [0, 1, 0.5, -1], tol: ulp),
  unary("Cos", "Cos(x)", [0, pi, pi / 3], [1, -1, 0.5], tol: ulp),
  unary("SinXDivX", "SinXDivX(x)", [0, pi / 2, -pi / 2, 1e-200], [1, 2 / pi, 2 / pi, 1], tol: ulp),
  unary("Asin", "Asin(x)", [0, 1, 0.5, -1], [0, pi / 2, pi / 6, -pi / 2], tol: ulp),
  unary("Acos", "Acos(x)", [1, 0, -1, 0.5], [0, pi / 2, pi, pi / 3], tol: ulp),
  unary("Atan", "Atan(x)", [0, 1, -1], [0, pi / 4, -pi / 4], tol: ulp),
  unary("Sqrt", "Sqrt(x)", [4, 2, 0, 0.25], [2, 1.4142135623730951, 0, 0.5]),
  unary("Sqrt", "x**0.5", [9], [3]),
  unary("Rsqrt", "Rsqrt(x)", [4, 0, 0.25, 2], [0.5, 0, 2, 0.7071067811865475], tol: ulp),
  unary("Abs", "Abs(x)", [-3, 0, 2.5], [3, 0, 2.5]),
  unary("Sign", "Sign(x)", [-3, 0, 2.5, -1e-300], [-1, 0, 1, -1]),
  unary("Step", "Step(x)", [-3, 0, 2.5, -1e-300], [0, 1, 1, 0]),
  unary("ReLU", "ReLU(x)", [-3, 0, 2.5], [0, 0, 2.5]),
  unary("Floor", "Floor(x)", [2.7, -2.2, 3, -0.5], [2, -3, 3, -1]),
  unary("Square", "Square(x)", [3, -2, 0.5], [9, 4, 0.25]),
  unary("Square", "x**2", [-3], [9]),
  unary("Pow", "Pow(x,3)", [2, -3, 0.5], [8, -27, 0.125]),
  unary("Pow", "Pow(x,-2)", [2, -4], [0.25, 0.0625]),
  unary("Pow", "Pow(x,0)", [5, 0], [1, 1]),
  unary("Pow", "x**3", [-2], [-8]),
  unary("Round", "Round(x,3)", [2.0005, -2.0005, 1.23449, 7], [2.001, -2.001, 1.234, 7]),
  unary("Round", "Round(x,0)", [2.5, -2.5, 0.49], [3, -3, 0]),
  unary("Round", "Round(x,-1)", [15, 14], [20, 10]),
  unary("ClampInt", "ClampInt(x,0,2)", [-1, 0.5, 3, 2], [0, 0.5, 2, 2]),
  unary("ClampInt", "ClampInt(x,-1,-1)", [-5, 5], [-1, -1]),

  // MARK: Elementwise binary and ternary
  op("Add", "Add(x,y)", [vectors("x", [[1, 2, 3]]), vectors("y", [[10, 20, 30]])], [[11, 22, 33]]),
  op("Add", "x+b", [vectors("x", [[1, 2, 3]]), scalars("b", [10])], [[11, 12, 13]]),
  op("Subtract", "x-b", [vectors("x", [[1, 2, 3]]), scalars("b", [10])], [[-9, -8, -7]]),
  op("Subtract", "b-x", [vectors("x", [[1, 2, 3]]), scalars("b", [10])], [[9, 8, 7]]),
  op("Mult", "x*y", [vectors("x", [[1, 2, 3]]), vectors("y", [[10, 20, 30]])], [[10, 40, 90]]),
  op("Mult", "x*0.5", [vectors("x", [[1, 2, 3]])], [[0.5, 1, 1.5]]),
  op("Divide", "x/y", [vectors("x", [[1, 2, 3]]), vectors("y", [[10, 20, 30]])], [[0.1, 0.1, 0.1]]),
  op("Divide", "x/2", [vectors("x", [[1, 2, 3]])], [[0.5, 1, 1.5]]),
  binary("Atan2", "Atan2(x,y)", [(1, 1), (1, -1), (0, -1), (-1, 0)], [pi / 4, 3 * pi / 4, pi, -pi / 2], tol: ulp),
  binary("Powf", "Powf(x,y)", [(2, 3), (4, 0.5), (2, -1)], [8, 2, 0.5]),
  binary("LessThan", "LessThan(x,y)", [(1, 2), (2, 2), (3, 2)], [1, 0, 0]),
  binary("LessThan", "x>y", [(1, 2), (2, 2), (3, 2)], [0, 0, 1]),
  binary("LessOrEqual", "LessOrEqual(x,y)", [(1, 2), (2, 2), (3, 2)], [1, 1, 0]),
  binary("LessOrEqual", "x>=y", [(1, 2), (2, 2), (3, 2)], [0, 1, 1]),
  binary("Equal", "Equal(x,y)", [(1, 2), (2, 2), (-0.0, 0)], [0, 1, 1]),
  binary("NotEqual", "NotEqual(x,y)", [(1, 2), (2, 2)], [1, 0]),
  op(
    "IfElse", "IfElse(f,g,h)", [scalars("f", [1, 0, -1, -1e-300]), scalars("g", [10, 10, 10, 10]), scalars("h", [20, 20, 20, 20])],
    [[10], [10], [20], [20]]),
  op(
    "IfElse", "IfElse(x,y,b)", [vectors("x", [[1, -1, 0]]), vectors("y", [[4, 5, 6]]), scalars("b", [9])], [[4, 9, 6]]),
  unary("Clamp", "Clamp(x,0,2)", [-1, 0.5, 3], [0, 0.5, 2]),
  op(
    "Clamp", "Clamp(x,a,b)", [scalars("x", [-1, 5]), scalars("a", [0, 0]), scalars("b", [2, 3])], [[0], [3]]),
  unary("Mod", "Mod(x,3,1)", [-1.5, 7.25, 1, 4, 0.999], [1.5, 1.25, 1, 1, 3.999], tol: ulp),

  // MARK: Vector operations
  op("Sum", "Sum(x)", [vectors("x", [[1, 2, 3], [-1, 0.5, 0.25]])], [[6], [-0.25]]),
  op("SumT", "SumT(b,3)", [scalars("b", [2, -1])], [[2, 2, 2], [-1, -1, -1]]),
  op("Max", "Max(x)", [vectors("x", [[1, 5, 5, 2], [-3, -1, -2, -1], [7, 0, 0, 7]])], [[5], [-1], [7]]),
  op("Min", "Min(x)", [vectors("x", [[1, 5, 5, 2], [-3, -1, -2, -1], [7, 0, 0, 7]])], [[1], [-3], [0]]),
  // Ties: the first index wins.
  op("ArgMax", "ArgMax(x)", [vectors("x", [[1, 5, 5, 2], [-3, -1, -2, -1], [7, 0, 0, 7]])], [[1], [1], [0]]),
  op("ArgMin", "ArgMin(x)", [vectors("x", [[1, 5, 5, 2], [-3, -1, -2, -3], [7, 0, 0, 7]])], [[0], [0], [1]]),
  op("Scalprod", "(x|y)", [vectors("x", [[1, 2, 3]]), vectors("y", [[4, 5, 6]])], [[32]]),
  op("Scalprod", "Scalprod(x,b)", [vectors("x", [[1, 2, 3]]), scalars("b", [2])], [[12]]),
  op("SqNorm2", "SqNorm2(x)", [vectors("x", [[1, 2, 3], [0, 0, 0]])], [[14], [0]]),
  op("Norm2", "Norm2(x)", [vectors("x", [[3, 4], [0, 0]])], [[5], [0]]),
  op("Normalize", "Normalize(x)", [vectors("x", [[3, 4], [0, 0], [0, -2]])], [[0.6, 0.8], [0, 0], [0, -1]], tol: ulp),
  op("SqDist", "SqDist(x,y)", [vectors("x", [[1, 2, 3]]), vectors("y", [[4, 6, 3]])], [[25]]),
  op("SqDist", "SqDist(x,b)", [vectors("x", [[1, 2, 3]]), scalars("b", [1])], [[5]]),
  op("SqNormIso", "SqNormIso(s,x)", [scalars("s", [2]), vectors("x", [[1, 2, 3]])], [[28]]),
  op("SqNormDiag", "SqNormDiag(s,x)", [vectors("s", [[1, 2, 3]]), vectors("x", [[1, 1, 2]])], [[15]]),
  op("SymSqNorm", "SymSqNorm(A,v)", [vectors("A", [[1, 2, 3, 4]]), vectors("v", [[1, 10]])], [[451]]),
  // WeightedSqNorm dispatches on dim(s): 1 -> Iso, d -> Diag, d*d -> Sym.
  op("WeightedSqNorm", "WeightedSqNorm(s,v)", [scalars("s", [2]), vectors("v", [[1, 2]])], [[10]]),
  op("WeightedSqNorm", "WeightedSqNorm(s,v)", [vectors("s", [[1, 3]]), vectors("v", [[1, 2]])], [[13]]),
  op("WeightedSqNorm", "WeightedSqNorm(s,v)", [vectors("s", [[1, 2, 3, 4]]), vectors("v", [[1, 10]])], [[451]]),
  op(
    "WeightedSqDist", "WeightedSqDist(s,f,g)",
    [scalars("s", [2]), vectors("f", [[1, 3]]), vectors("g", [[0, 1]])], [[10]]),
  op(
    "WeightedSqDist", "WeightedSqDist(s,f,g)",
    [vectors("s", [[1, 3]]), vectors("f", [[1, 3]]), vectors("g", [[0, 1]])], [[13]]),
  op(
    "WeightedSqDist", "WeightedSqDist(s,f,g)",
    [vectors("s", [[1, 2, 3, 4]]), vectors("f", [[2, 10]]), vectors("g", [[1, 0]])], [[451]]),

  // MARK: Indexing, padding, concatenation
  op("Elem", "Elem(x,2)", [vectors("x", [[1, 2, 3], [4, 5, 6]])], [[3], [6]]),
  op("Elem", "Elem(x,0)", [vectors("x", [[1, 2, 3]])], [[1]]),
  op("ElemT", "ElemT(b,4,1)", [scalars("b", [5])], [[0, 5, 0, 0]]),
  op("ElemT", "ElemT(b,3,2)", [scalars("b", [-1])], [[0, 0, -1]]),
  op("Extract", "Extract(x,1,2)", [vectors("x", [[1, 2, 3, 4]])], [[2, 3]]),
  op("ExtractT", "ExtractT(w,1,5)", [vectors("w", [[7, 8]])], [[0, 7, 8, 0, 0]]),
  op("Concat", "Concat(x,b)", [vectors("x", [[1, 2, 3]]), scalars("b", [9])], [[1, 2, 3, 9]]),
  op("Concat", "Concat(b,x)", [vectors("x", [[1, 2, 3]]), scalars("b", [9])], [[9, 1, 2, 3]]),
  op(
    "OneHot", "OneHot(b,4)", [scalars("b", [2, 1.6, 1.4, 0, 3.4, 7])],
    [[0, 0, 1, 0], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]),

  // MARK: Small linear algebra (row-major)
  op("MatVecMult", "MatVecMult(A,v)", [vectors("A", [[0, 1, 2, 3, 4, 5]]), vectors("v", [[1, 10]])], [[10, 32, 54]]),
  op("VecMatMult", "VecMatMult(v,A)", [vectors("v", [[1, 10]]), vectors("A", [[0, 1, 2, 3, 4, 5]])], [[30, 41, 52]]),
  op(
    "TensorProd", "TensorProd(u,v)", [vectors("u", [[1, 2]]), vectors("v", [[1, 10, 100]])],
    [[1, 10, 100, 2, 20, 200]]),
  // KeOps' documented example: a 2x3 matrix times a 3-vector.
  op(
    "TensorDot", "TensorDot(A, v, (2,3), (3,), (1,), (0,))", [vectors("A", [[0, 1, 2, 3, 4, 5]]), vectors("v", [[1, 10, 100]])],
    [[210, 543]]),
  // A B = [[13, 16], [40, 52]]; permute (1, 0) sends the kept axis 0 to position 1: the transpose.
  op(
    "TensorDot", "TensorDot(A, B, [2,3], [3,2], [1], [0])",
    [vectors("A", [[0, 1, 2, 3, 4, 5]]), vectors("B", [[1, 2, 3, 4, 5, 6]])], [[13, 16, 40, 52]]),
  op(
    "TensorDot", "TensorDot(A, B, (2,3), (3,2), (1,), (0,), (1,0))",
    [vectors("A", [[0, 1, 2, 3, 4, 5]]), vectors("B", [[1, 2, 3, 4, 5, 6]])], [[13, 40, 16, 52]]),
  // Full contraction: the Frobenius product.
  op(
    "TensorDot", "TensorDot(A, B, (2,3), (2,3), (0,1), (0,1))",
    [vectors("A", [[0, 1, 2, 3, 4, 5]]), vectors("B", [[1, 2, 3, 4, 5, 6]])], [[70]]),
  // np.kron([[1,2],[3,4]], [[0,5],[6,7]]).
  op(
    "TensorDot", "Kron(A, B, (2,2), (2,2))", [vectors("A", [[1, 2, 3, 4]]), vectors("B", [[0, 5, 6, 7]])],
    [[0, 5, 0, 10, 6, 7, 12, 14, 0, 15, 0, 20, 18, 21, 24, 28]]),

  // MARK: Complex numbers, (re, im) pairs: z = (3+4i, 1-2i)
  op("ComplexReal", "ComplexReal(z)", [vectors("z", [[3, 4, 1, -2]])], [[3, 1]]),
  op("ComplexImag", "ComplexImag(z)", [vectors("z", [[3, 4, 1, -2]])], [[4, -2]]),
  op("Real2Complex", "Real2Complex(x)", [vectors("x", [[3, -1]])], [[3, 0, -1, 0]]),
  op("Imag2Complex", "Imag2Complex(x)", [vectors("x", [[3, -1]])], [[0, 3, 0, -1]]),
  op("Conj", "Conj(z)", [vectors("z", [[3, 4, 1, -2]])], [[3, -4, 1, 2]]),
  op("ComplexAbs", "ComplexAbs(z)", [vectors("z", [[3, 4, 0, 0]])], [[5, 0]]),
  op("ComplexSquareAbs", "ComplexSquareAbs(z)", [vectors("z", [[3, 4, 1, -2]])], [[25, 5]]),
  op("ComplexAngle", "ComplexAngle(z)", [vectors("z", [[0, 1, -1, 0, 1, 1]])], [[pi / 2, pi, pi / 4]], tol: ulp),
  op("ComplexSum", "ComplexSum(z)", [vectors("z", [[3, 4, 1, -2]])], [[4, 2]]),
  op("ComplexSumT", "ComplexSumT(c, 4)", [vectors("c", [[1, 2]])], [[1, 2, 1, 2]]),
  op("ComplexAdd", "ComplexAdd(z, w)", [vectors("z", [[3, 4]]), vectors("w", [[1, -2]])], [[4, 2]]),
  op("ComplexAdd", "ComplexAdd(c, z)", [vectors("c", [[1, 1]]), vectors("z", [[3, 4, 1, -2]])], [[4, 5, 2, -1]]),
  op("ComplexSubtract", "ComplexSubtract(z, w)", [vectors("z", [[3, 4]]), vectors("w", [[1, -2]])], [[2, 6]]),
  op("ComplexMult", "ComplexMult(z, w)", [vectors("z", [[3, 4]]), vectors("w", [[1, -2]])], [[11, -2]]),
  op("ComplexMult", "ComplexMult(z, c)", [vectors("z", [[3, 4, 1, -2]]), vectors("c", [[0, 1]])], [[-4, 3, 2, 1]]),
  op("ComplexScal", "ComplexScal(c, z)", [vectors("c", [[0, 1]]), vectors("z", [[3, 4, 1, -2]])], [[-4, 3, 2, 1]]),
  op("ComplexDivide", "ComplexDivide(z, w)", [vectors("z", [[3, 4]]), vectors("w", [[1, -2]])], [[-1, 2]], tol: ulp),
  op("ComplexRealScal", "ComplexRealScal(s, z)", [scalars("s", [2]), vectors("z", [[3, 4, 1, -2]])], [[6, 8, 2, -4]]),
  op("ComplexRealScal", "ComplexRealScal(z, s)", [scalars("s", [2]), vectors("z", [[3, 4, 1, -2]])], [[6, 8, 2, -4]]),
  op("ComplexExp", "ComplexExp(z)", [vectors("z", [[0, pi, 1, 0]])], [[-1, 0, 2.718281828459045, 0]], tol: ulp),
  op("ComplexExp1j", "ComplexExp1j(x)", [vectors("x", [[0, pi / 2]])], [[1, 0, 0, 1]], tol: ulp),

  // MARK: Sequences
  // Quadratic B-splines on the knots 0..5 at 2.5: the cardinal quadratic at 2.5, 1.5, 0.5.
  op("BSpline", "BSpline(t, x, 2)", [vectors("t", [[0, 1, 2, 3, 4, 5]]), scalars("x", [2.5])], [[0.125, 0.75, 0.125]]),
  // Order 0: the indicator of the knot interval holding x (t_j <= x < t_j+1).
  op("BSpline", "BSpline(t, x, 0)", [vectors("t", [[0, 1, 2, 3]]), scalars("x", [1])], [[0, 1, 0]]),
  op("SoftDTW_SqDist", "SoftDTW_SqDist(x, y, g)", [vectors("x", [[0]]), vectors("y", [[2]]), scalars("g", [1])], [[4]]),
  op("SoftDTW_SqDist", "SoftDTW_SqDist(x, y, g)", [vectors("x", [[0, 1]]), vectors("y", [[0]]), scalars("g", [1])], [[1]]),
  // Three equal paths of cost 0: softmin_1(0, 0, 0) = -log 3.
  op(
    "SoftDTW_SqDist", "SoftDTW_SqDist(x, y, g)", [vectors("x", [[0, 0]]), vectors("y", [[0, 0]]), scalars("g", [1])],
    [[-1.0986122886681098]], tol: ulp),
  // One cell: d/dx (x - y)^2 = 2(x - y), d/dy = -2(x - y).
  op("GradSoftDTW_SqDist", "GradSoftDTW_SqDist(x, y, g)", [vectors("x", [[0]]), vectors("y", [[2]]), scalars("g", [1])], [[-4, 4]]),
  // A first column: R = (x0 - y0)^2 + (x1 - y0)^2, both cells on the only path.
  op(
    "GradSoftDTW_SqDist", "GradSoftDTW_SqDist(x, y, g)", [vectors("x", [[0, 1]]), vectors("y", [[0]]), scalars("g", [1])],
    [[0, 2, -2]]),

  // MARK: Constants
  op("IntCst", "IntCst(7)", [scalars("x", [1, 2])], [[7], [7]]),
  op("IntCst", "x*IntCst(-3)", [scalars("x", [2])], [[-6]]),
  op("RatCst", "RatCst(3,4)", [scalars("x", [1])], [[0.75]]),
  op("RatCst", "RatCst(-1,3)", [scalars("x", [1])], [[-1.0 / 3]]),
  op("IntInv", "IntInv(4)", [scalars("x", [1])], [[0.25]]),
  op("Zero", "Zero(3)", [scalars("x", [1])], [[0, 0, 0]]),
  op("Zero", "x+Zero(2)", [vectors("x", [[1, 2]])], [[1, 2]]),
]

@Suite struct OperationEvaluationTests {
  @Test(arguments: operationCases)
  func evaluate(_ c: OperationCase) throws {
    let (uniform, blocked) = try evaluatePointwise(c.formula, c.inputs)
    #expect(close(uniform, c.expected, tolerance: c.tolerance), "\(c.formula): got \(uniform), expected \(c.expected)")
    // The masked, block-evaluated path needs finite values (0 * inf is NaN).
    if c.expected.allSatisfy({ $0.allSatisfy(\.isFinite) }) {
      #expect(close(blocked, c.expected, tolerance: c.tolerance), "\(c.formula) (blocks): got \(blocked), expected \(c.expected)")
    }
  }

  @Test func powfIsSinglePrecisionEvenForDoubleData() throws {
    let x = 1.1, y = 2.7
    let (uniform, blocked) = try evaluatePointwise("Powf(x,y)", [scalars("x", [x]), scalars("y", [y])])
    let single = Double(Foundation.powf(Float(x), Float(y)))
    let double = Foundation.pow(x, y)
    #expect(uniform[0][0] == single)
    #expect(blocked[0][0] == single)
    let relative = Swift.abs(uniform[0][0] - double) / double
    #expect(relative > 1e-10 && relative < 1e-6, "relative difference \(relative)")
    // Pow, by contrast, is double precision on the CPU.
    let (pow3, _) = try evaluatePointwise("Pow(x,3)", [scalars("x", [x])])
    #expect(pow3[0][0] == Foundation.pow(x, 3))
  }

  @Test func specialValues() throws {
    // keops-semantics.md 1.3, 7.1: the values KeOps' C code gives at singular points.
    let x = [scalars("x", [0])]
    #expect(try evaluatePointwise("Step(x)", x).uniform == [[1]])
    #expect(try evaluatePointwise("Sign(x)", x).uniform == [[0]])
    #expect(try evaluatePointwise("Rsqrt(x)", x).uniform == [[0]])
    #expect(try evaluatePointwise("XLogX(x)", x).uniform == [[0]])
    #expect(try evaluatePointwise("SinXDivX(x)", x).uniform == [[1]])
    #expect(try evaluatePointwise("Normalize(x)", [vectors("x", [[0, 0, 0]])]).uniform == [[0, 0, 0]])
    #expect(try evaluatePointwise("Round(x,3)", [scalars("x", [2.0005])]).uniform == [[2.001]])
    #expect(try evaluatePointwise("Mod(x,3,1)", [scalars("x", [-1.5, 7.25])]).uniform == [[1.5], [1.25]])
    #expect(try evaluatePointwise("ArgMax(x)", [vectors("x", [[2, 7, 7, 7]])]).uniform == [[1]])
  }

  @Test func float32DataIsComputedInSinglePrecision() throws {
    // 2^24 + 1 is not a float: the sum rounds back to 2^24.
    let (sum, sumBlocked) = try evaluatePointwise(
      "x+y", [scalars("x", [16_777_216]), scalars("y", [1])], dtype: .float32)
    #expect(sum == [[16_777_216]])
    #expect(sumBlocked == [[16_777_216]])
    let (e, _) = try evaluatePointwise("Exp(x)", [scalars("x", [0.1])], dtype: .float32)
    #expect(e[0][0] == Double(Float(Foundation.exp(Double(Float(0.1))))))
    // Real constants are rounded to float too.
    let (third, _) = try evaluatePointwise("x*0.1", [scalars("x", [3])], dtype: .float32)
    #expect(third[0][0] == Double(Float(3) * Float(0.1)))
  }

  /// Every operation of the table has at least one case above (or a dedicated test).
  @Test func everyOperationIsCovered() {
    let covered = Set(operationCases.map(\.operation))
    let uncovered = Operation.table.map(\.name).filter { !covered.contains($0) }
    #expect(uncovered.isEmpty, "operations without an evaluation test: \(uncovered.joined(separator: ", "))")
    // And the cases name real operations.
    let unknown = covered.filter { Operation.named($0) == nil }
    #expect(unknown.isEmpty, "cases for unknown operations: \(unknown.sorted())")
  }

  @Test func everyCaseUsesTheOperationItNames() throws {
    for c in operationCases {
      let r = try ReducedFormula.compile(
        formula: c.formula, aliases: c.inputs.map { "\($0.name) = Vi(\($0.dim))" }, reduction: .sum, axis: 1)
      var names: Set<String> = []
      func walk(_ n: FormulaNode) {
        if let o = n.operation { names.insert(o.name) }
        n.children.forEach(walk)
      }
      walk(r.formula)
      #expect(names.contains(c.operation), "\(c.formula) does not use \(c.operation)")
    }
  }
}
