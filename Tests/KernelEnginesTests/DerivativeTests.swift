import ArrayIO
import Foundation
import FormulaLanguage
import Testing

@testable import KernelEngines

/// A differentiable formula checked against finite differences on the reference engine.
struct GradientCase: Sendable, CustomTestStringConvertible {
  var formula: String
  /// Each input: name, dimension and the interval its random values are drawn from.
  var inputs: [(String, Int, ClosedRange<Double>)]
  /// The finite-difference step and the relative tolerance.
  var h = 1e-6
  var tolerance = 2e-6
  var testDescription: String { formula }
}

private func g(_ formula: String, _ inputs: (String, Int, ClosedRange<Double>)...) -> GradientCase {
  GradientCase(formula: formula, inputs: inputs)
}

private let x3 = ("x", 3, -1.5...1.5)
private let y3 = ("y", 3, -1.5...1.5)
private let s1 = ("s", 1, 0.5...2.0)
private let pos3 = ("x", 3, 0.2...2.0)

/// Formulas using every differentiable operation of the table, away from its kinks.
let gradientCases: [GradientCase] = [
  g("Minus(x) * Inv(y)", x3, ("y", 3, 0.5...2.0)),
  g("Exp(x) + Log(y) + XLogX(y)", x3, ("y", 3, 0.2...2.0)),
  g("Sin(x) * Cos(y) + SinXDivX(x + y)", x3, y3),
  g("Asin(x) + Acos(y) + Atan(x * y)", ("x", 3, -0.8...0.8), ("y", 3, -0.8...0.8)),
  g("Sqrt(x) + Rsqrt(y) + Abs(x - y)", pos3, ("y", 3, 3.0...4.0)),
  g("Sign(x) + Step(x) + ReLU(x) + Floor(x) + Round(x, 1)", ("x", 3, 0.11...0.14)),
  g("Square(x) * Pow(y, 3) + Pow(x, -2) + Pow(y, 2) + Pow(x, 1)", pos3, y3),
  g("ClampInt(x, -1, 1) * y", ("x", 3, -0.9...0.9), y3),
  g("ClampInt(3 * x, -1, 1)", ("x", 3, 0.5...1.5)),
  g("Add(x, s) - Subtract(y, s) + Mult(x, y) / Divide(y, s)", x3, ("y", 3, 0.5...2.0), s1),
  g("Atan2(x, y) * y", x3, ("y", 3, 0.5...2.0)),
  // Powf is computed in single precision (as KeOps does): a coarse step and tolerance.
  GradientCase(formula: "Powf(y, x)", inputs: [x3, ("y", 3, 0.5...2.0)], h: 1e-2, tolerance: 2e-3),
  g("LessThan(x, y) + LessOrEqual(x, y) + Equal(x, y) + NotEqual(x, y) + x", x3, y3),
  g("IfElse(x, y * x, Exp(y)) + IfElse(y, s, x)", x3, y3, s1),
  g("Clamp(x, y, y + s)", x3, y3, s1),
  g("Mod(x, s + 2, y)", x3, y3, s1),
  g("Sum(x * y) + SumT(Sum(x), 3) * y", x3, y3),
  g("Max(x * y) + Min(x - y) + ArgMax(x) + ArgMin(y)", x3, y3),
  g("Scalprod(x, y) + (s | x) + SqNorm2(x) * Norm2(y)", x3, y3, s1),
  g("Normalize(x - y) * SqDist(x, y)", x3, y3),
  g("SqNormIso(s, x) + SqNormDiag(y, x) + SymSqNorm(m, x)", x3, y3, s1, ("m", 9, -1...1)),
  g("WeightedSqNorm(s, x) + WeightedSqNorm(y, x) + WeightedSqNorm(m, y)", x3, y3, s1, ("m", 9, -1...1)),
  g("WeightedSqDist(s, x, y) + WeightedSqDist(y, x, s) + WeightedSqDist(m, x, y)", x3, y3, s1, ("m", 9, -1...1)),
  g("Concat(Elem(x, 1), ElemT(Elem(y, 0), 2, 1)) * Extract(Concat(x, y), 2, 3) + ExtractT(Elem(x, 0), 1, 3)", x3, y3),
  g("OneHot(s, 3) * x + MatVecMult(m, x) + VecMatMult(y, m)", x3, y3, ("s", 1, 0.8...1.2), ("m", 9, -1...1)),
  g("Extract(TensorProd(x, y), 2, 3) + x * IntCst(2) * RatCst(1, 3) * IntInv(7) + Zero(3)", x3, y3),
  g(
    "TensorDot(m, x, (3,3), (3,), (1,), (0,)) * TensorDot(x, y, (3,), (3,), (0,), (0,)) + TensorDot(m, m, (3,3), (3,3), (0,1), (1,0))",
    x3, y3, ("m", 9, -1...1)),
  g(
    "Concat(TensorDot(m, n, (3,1,3), (3,2), (2,), (0,), (2,0,1)), Kron(x, y, (3,), (3,)) * Sum(Kron(n, x, (2,3), (3,1))))",
    ("m", 9, -1...1), ("n", 6, -1...1), x3, y3),
  g(
    "ComplexMult(z, w) + ComplexAdd(z, c) - ComplexSubtract(c, w) + ComplexScal(c, z) + Conj(ComplexMult(c, w))",
    ("z", 4, -1...1), ("w", 4, -1...1), ("c", 2, -1...1)),
  g(
    "ComplexDivide(z, w) + ComplexDivide(c, z) + ComplexDivide(z, c) + ComplexExp(z)",
    ("z", 4, 0.3...1.5), ("w", 4, 0.3...1.5), ("c", 2, 0.3...1.5)),
  g(
    "ComplexReal(z) * ComplexImag(w) + ComplexAbs(z) + ComplexSquareAbs(w) + ComplexAngle(z)",
    ("z", 4, 0.3...1.5), ("w", 4, -1...1)),
  g(
    "Real2Complex(x) + Imag2Complex(x) * ComplexExp1j(x) + ComplexSumT(ComplexSum(z), 6) + ComplexRealScal(s, Real2Complex(x)) + ComplexRealScal(Imag2Complex(x), s)",
    x3, ("z", 4, -1...1), s1),
  // gamma a constant: SoftDTW_SqDist is differentiable in its sequences only.
  g("SoftDTW_SqDist(x, w, RatCst(7, 10)) * Sum(y)", ("x", 4, -1...1), ("w", 3, -1...1), y3),
  g("Exp(-SqDist(x, y)) * s", x3, y3, s1),
  g("Grad(Exp(-SqDist(x, y)) * s, x, s)", x3, y3, s1),
  g("Grad(Grad(Sin(x) * Sum(y * x), x, y), y, x)", x3, y3),
]

/// Deterministic pseudo-random values (a 64-bit LCG), so that failures reproduce.
struct Draws {
  var state: UInt64
  mutating func next(_ r: ClosedRange<Double>) -> Double {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    let u = Double(state >> 11) / Double(1 << 53)
    return r.lowerBound + u * (r.upperBound - r.lowerBound)
  }
}

/// Values of `formula` at each point (inputs as Vi variables).
private func values(_ formula: String, _ inputs: [PointInput]) throws -> [[Double]] {
  try evaluatePointwise(formula, inputs).uniform
}

private func randomInputs(_ c: GradientCase, points: Int, seed: UInt64) -> [PointInput] {
  var draws = Draws(state: seed)
  return c.inputs.map { name, dim, range in
    PointInput(name: name, dim: dim, rows: (0..<points).map { _ in (0..<dim).map { _ in draws.next(range) } })
  }
}

/// Central differences of `formula` with respect to input `v`, component `k`, at every point.
private func finiteDifference(_ formula: String, _ inputs: [PointInput], _ v: Int, _ k: Int, h: Double) throws -> [[Double]] {
  var plus = inputs, minus = inputs
  for p in 0..<inputs[v].rows.count {
    plus[v].rows[p][k] += h
    minus[v].rows[p][k] -= h
  }
  let fp = try values(formula, plus), fm = try values(formula, minus)
  return zip(fp, fm).map { a, b in zip(a, b).map { ($0 - $1) / (2 * h) } }
}

@Suite struct DerivativeTests {
  static let points = 4

  /// Grad(F, v, e) against Σ_c e_c (F_c(v + h δ_k) - F_c(v - h δ_k)) / 2h, for every input v.
  @Test(arguments: gradientCases)
  func gradientMatchesFiniteDifferences(_ c: GradientCase) throws {
    var inputs = randomInputs(c, points: Self.points, seed: 7)
    let fdim = try values(c.formula, inputs)[0].count
    var draws = Draws(state: 99)
    inputs.append(PointInput(name: "e", dim: fdim, rows: (0..<Self.points).map { _ in (0..<fdim).map { _ in draws.next(-1...1) } }))
    let e = inputs.last!
    for (v, (name, dim, _)) in c.inputs.enumerated() {
      let grad = try values("Grad(\(c.formula), \(name), e)", inputs)
      #expect(grad[0].count == dim)
      for k in 0..<dim {
        let fd = try finiteDifference(c.formula, inputs, v, k, h: c.h)
        for p in 0..<Self.points {
          let expected = zip(fd[p], e.rows[p]).reduce(0) { $0 + $1.0 * $1.1 }
          #expect(
            close(grad[p][k], expected, tolerance: c.tolerance),
            "d/d\(name)[\(k)] at point \(p): Grad gives \(grad[p][k]), finite differences \(expected)")
        }
      }
    }
  }

  /// Every operation with a derivative rule (or a zero gradient) is differentiated above.
  @Test func everyDifferentiableOperationIsCovered() throws {
    var used = Set<String>()
    func walk(_ n: FormulaNode) {
      if let o = n.operation { used.insert(o.name) }
      n.children.forEach(walk)
    }
    for c in gradientCases {
      let r = try ReducedFormula.compile(
        formula: c.formula, aliases: c.inputs.map { "\($0.0) = Vi(\($0.1))" }, reduction: .sum, axis: 1)
      walk(r.formula)
    }
    let missing = Operation.table.filter {
      if case .none = $0.differentiability { return false }
      return !used.contains($0.name)
    }.map(\.name)
    #expect(missing.isEmpty, "differentiable operations without a finite-difference test: \(missing)")
  }

  /// Diff(F, v, u) against (F(v + h u) - F(v - h u)) / 2h.
  @Test(arguments: [
    "Exp(-SqDist(x, y)) * y", "Sin(x) * Sum(x * y)", "Normalize(x) * Norm2(y)", "MatVecMult(m, x) * Sum(x)",
    "Grad(Exp(-SqDist(x, y)), x, IntCst(1))",
  ])
  func diffMatchesFiniteDifferences(_ formula: String) throws {
    let c = GradientCase(formula: formula, inputs: [x3, y3, ("m", 9, -1...1)])
    var inputs = randomInputs(c, points: Self.points, seed: 11)
    var draws = Draws(state: 5)
    inputs.append(PointInput(name: "u", dim: 3, rows: (0..<Self.points).map { _ in (0..<3).map { _ in draws.next(-1...1) } }))
    let diff = try values("Diff(\(formula), x, u)", inputs)
    let h = 1e-6
    var plus = inputs, minus = inputs
    for p in 0..<Self.points {
      for k in 0..<3 {
        plus[0].rows[p][k] += h * inputs[3].rows[p][k]
        minus[0].rows[p][k] -= h * inputs[3].rows[p][k]
      }
    }
    let fp = try values(formula, plus), fm = try values(formula, minus)
    for p in 0..<Self.points {
      #expect(diff[p].count == fp[p].count)
      for c in 0..<fp[p].count {
        let expected = (fp[p][c] - fm[p][c]) / (2 * h)
        #expect(close(diff[p][c], expected, tolerance: 2e-6), "\(formula) component \(c): \(diff[p][c]) vs \(expected)")
      }
    }
  }

  /// Divergence, Laplacian and GradMatrix against finite differences of the Jacobian.
  @Test func secondOrderOperatorsMatchFiniteDifferences() throws {
    let c = GradientCase(formula: "", inputs: [x3, y3])
    let inputs = randomInputs(c, points: Self.points, seed: 3)
    let h = 1e-5
    // The Jacobian J[p][row][col] = d F_row / d x_col of a 3-vector formula.
    func jacobian(_ formula: String) throws -> [[[Double]]] {
      let columns = try (0..<3).map { k in try finiteDifference(formula, inputs, 0, k, h: h) }
      return (0..<Self.points).map { p in (0..<3).map { row in (0..<3).map { col in columns[col][p][row] } } }
    }
    let field = "Sin(x) * Exp(-SqDist(x, y)) + x * Sum(y * x)"
    let jf = try jacobian(field)
    let divergence = try values("Divergence(\(field), x)", inputs)
    let gradMatrix = try values("GradMatrix(\(field), x)", inputs)
    let trace = try values("TraceOperator(MatVecMult(m, x), x)", inputs + [PointInput(name: "m", dim: 9, rows: Array(repeating: (1...9).map(Double.init), count: Self.points))])
    for p in 0..<Self.points {
      let tr = (0..<3).reduce(0) { $0 + jf[p][$1][$1] }
      #expect(close(divergence[p][0], tr, tolerance: 1e-6), "Divergence \(divergence[p][0]) vs \(tr)")
      for row in 0..<3 {
        for col in 0..<3 {
          // GradMatrix is the transposed Jacobian: block row (of dim(x)) = Grad(f, x, e_row).
          #expect(close(gradMatrix[p][row * 3 + col], jf[p][row][col], tolerance: 1e-6))
        }
      }
      #expect(trace[p][0] == 1 + 5 + 9)
    }
    // The Laplacian of a scalar: the divergence of its gradient, by second differences.
    let scalar = "Exp(-SqDist(x, y)) * Sum(Sin(x))"
    let laplacian = try values("Laplacian(\(scalar), x)", inputs)
    let f0 = try values(scalar, inputs)
    var second = Array(repeating: 0.0, count: Self.points)
    let h2 = 1e-4
    for k in 0..<3 {
      var plus = inputs, minus = inputs
      for p in 0..<Self.points {
        plus[0].rows[p][k] += h2
        minus[0].rows[p][k] -= h2
      }
      let fp = try values(scalar, plus), fm = try values(scalar, minus)
      for p in 0..<Self.points { second[p] += (fp[p][0] - 2 * f0[p][0] + fm[p][0]) / (h2 * h2) }
    }
    for p in 0..<Self.points {
      #expect(close(laplacian[p][0], second[p], tolerance: 1e-5), "Laplacian \(laplacian[p][0]) vs \(second[p])")
    }
  }

  /// PyKeOps' test_formula_simplification: the second gradient of an affine formula is the zero
  /// formula, and its Sum reduction is zeros.
  @Test func secondGradientOfAnAffineFormulaIsZero() throws {
    let formula = "Grad(Grad(x + Var(1,3,1), x, Var(2,3,0)), x, Var(3,3,0))"
    let reduced = try ReducedFormula.compile(formula: formula, aliases: ["x = Vi(0, 3)"], reduction: .sum, axis: 1)
    #expect(reduced.formula.description == "Zero(3)")
    #expect(reduced.arguments.count == 4)
    let m = 5, n = 4
    var draws = Draws(state: 1)
    let arrays = reduced.arguments.map { v in
      let rows = v.category == .i ? m : n
      return NDArray(shape: [rows, v.dim], doubles: (0..<(rows * v.dim)).map { _ in draws.next(-1...1) }, dtype: .float64)
    }
    let out = try runReference(
      formula, aliases: ["x = Vi(0, 3)"], arrays: arrays, axis: 1, outputRows: m, reducedRows: n)
    #expect(out.count == m * 3)
    #expect(out.allSatisfy { $0 == 0 })
  }
}
