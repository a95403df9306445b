import Foundation
import KSDiagnostics

// The operation table: one entry per formula operation (KeOps 2.3, keops-semantics.md section 1).
// Special values follow KeOps' C code: Step(0)=1, Rsqrt(0)=0, XLogX(0)=0, SinXDivX(0)=1, Sign(0)=0.

private func unary(
  _ name: String, _ summary: String, c: String, _ d: Differentiability, _ f: @escaping @Sendable (Double) -> Double
) -> Operation {
  Operation(
    name: name, arity: 1, summary: summary, cTemplate: c, dimension: broadcastDimension, evaluation: .unary(f), derivative: d)
}

private func binary(
  _ name: String, _ summary: String, c: String, _ d: Differentiability, _ f: @escaping @Sendable (Double, Double) -> Double
) -> Operation {
  Operation(
    name: name, arity: 2, summary: summary, cTemplate: c, dimension: broadcastDimension, evaluation: .binary(f), derivative: d)
}

private func ternary(
  _ name: String, _ summary: String, c: String, _ d: Differentiability,
  _ f: @escaping @Sendable (Double, Double, Double) -> Double
) -> Operation {
  Operation(
    name: name, arity: 3, summary: summary, cTemplate: c, dimension: broadcastDimension, evaluation: .ternary(f), derivative: d)
}

// MARK: - Derivative rules (see Derivatives.swift)

/// An elementwise operation of one argument: the gradient is e * f'(x), f' given from x and f(x).
private func dx(_ fprime: @escaping @Sendable (_ x: Term, _ value: Term) throws -> Term) -> Differentiability {
  .rule { d in [try d.gradient * fprime(d.arg(0), d.value)] }
}

/// An elementwise operation of several arguments: the gradient is e times each partial derivative.
private func partials(_ f: @escaping @Sendable (_ x: [Term], _ value: Term) throws -> [Term]) -> Differentiability {
  .rule { d in try f(d.node.children.map(Term.init), d.value).map { p in try d.gradient * p } }
}

private func int(_ k: Int) throws -> Term { try Term.int(k) }

/// WeightedSqNorm(s, v) (and WeightedSqDist(s, f, g) with v = f - g), dispatching on dim(s) as the
/// evaluation does: s*|v|^2, sum_k s_k v_k^2 or sum_kl s_kl v_k v_l.
private func weightedSqNormDerivative(difference: Bool) -> Differentiability {
  .rule { d in
    let e = d.gradient, s = d.arg(0)
    let v = difference ? try d.arg(1) - d.arg(2) : d.arg(1)
    let gs: Term, gv: Term
    if s.dim == 1 {
      gs = try e * f("SqNorm2", v)
      gv = try int(2) * e * s * v
    } else if s.dim == v.dim {
      gs = try e * f("Square", v)
      gv = try int(2) * e * s * v
    } else {
      gs = try e * f("TensorProd", v, v)
      gv = try e * (f("MatVecMult", s, v) + f("VecMatMult", v, s))
    }
    return difference ? [gs, gv, try -gv] : [gs, gv]
  }
}
private func f(_ name: String, _ args: Term..., params: [Int] = []) throws -> Term { try Term.make(name, args, params: params) }

/// A block operation written per point: `body(inputs, point, params, out)` fills `out[0..<outDim]`.
private func perPoint(
  _ body: @escaping @Sendable (_ x: [Operand], _ p: Int, _ params: [Int], _ out: UnsafeMutablePointer<Double>, _ outDim: Int) -> Void
) -> Evaluation {
  .block { inputs, params, count, out, outDim in
    for p in 0..<count { body(inputs, p, params, out + p * outDim, outDim) }
  }
}

private func fixed(_ d: Int) -> @Sendable ([Int], [Int]) throws(DimensionError) -> Int {
  { _, _ throws(DimensionError) in d }
}

/// Σ_k w(k) * f_k^2 with broadcasting of a dimension-1 argument.
@inline(__always) private func sumSquares(_ f: Operand, _ p: Int, _ dim: Int) -> Double {
  var s = 0.0
  for k in 0..<dim { let v = f[p, k]; s += v * v }
  return s
}

/// The squared norm of f - g (broadcasting 1 against d), KeOps' SqDist = SqNorm2(f - g).
@inline(__always) private func sqDist(_ f: Operand, _ g: Operand, _ p: Int) -> Double {
  let d = max(f.dim, g.dim)
  var s = 0.0
  for k in 0..<d { let v = f[p, k] - g[p, k]; s += v * v }
  return s
}

/// WeightedSqNorm(s, v) where v = f - g (or f alone when g is nil), dispatching on dim(s).
@inline(__always) private func weightedSqNorm(_ s: Operand, _ f: Operand, _ g: Operand?, _ p: Int, _ d: Int) -> Double {
  @inline(__always) func v(_ k: Int) -> Double { g.map { f[p, k] - $0[p, k] } ?? f[p, k] }
  if s.dim == 1 {
    var acc = 0.0
    for k in 0..<d { let x = v(k); acc += x * x }
    return s[p, 0] * acc
  } else if s.dim == d {
    var acc = 0.0
    for k in 0..<d { let x = v(k); acc += s[p, k] * x * x }
    return acc
  } else {
    var acc = 0.0
    for a in 0..<d { for b in 0..<d { acc += s[p, a * d + b] * v(a) * v(b) } }
    return acc
  }
}

@Sendable private func weightedDim(_ sDim: Int, _ d: Int) throws(DimensionError) {
  if sDim != 1 && sDim != d && sDim != d * d {
    throw DimensionError("the weight has dimension \(sDim); expected 1, \(d) or \(d * d) for vectors of dimension \(d)")
  }
}

extension Operation {
  /// Every operation ks knows, in the order `:help` lists them.
  public static let table: [Operation] = [
    // MARK: Elementwise unary (section 1.3)
    unary("Minus", "-f, elementwise", c: "(-($0))", .rule { d in [try -d.gradient] }) { -$0 },
    unary("Inv", "1/f, elementwise", c: "(($T)1/($0))", dx { _, y in try -f("Square", y) }) { 1 / $0 },
    unary("Exp", "exponential", c: "exp($0)", dx { _, y in y }) { Foundation.exp($0) },
    unary("Log", "natural logarithm", c: "log($0)", .rule { d in [try d.gradient / d.arg(0)] }) { Foundation.log($0) },
    unary("XLogX", "f*log(f), with XLogX(0) = 0", c: "(($0) == 0 ? ($T)0 : ($0) * log($0))", dx { x, _ in try f("Log", x) + int(1) }) { $0 == 0 ? 0 : $0 * Foundation.log($0) },
    unary("Sin", "sine", c: "sin($0)", dx { x, _ in try f("Cos", x) }) { Foundation.sin($0) },
    unary("Cos", "cosine", c: "cos($0)", dx { x, _ in try -f("Sin", x) }) { Foundation.cos($0) },
    unary("SinXDivX", "sin(f)/f, with SinXDivX(0) = 1", c: "(($0) == 0 ? ($T)1 : sin($0) / ($0))", dx { x, _ in try f("Cos", x) / x - f("Sin", x) / f("Square", x) }) { $0 == 0 ? 1 : Foundation.sin($0) / $0 },
    unary("Asin", "arcsine", c: "asin($0)", dx { x, _ in try f("Rsqrt", int(1) - f("Square", x)) }) { Foundation.asin($0) },
    unary("Acos", "arccosine", c: "acos($0)", dx { x, _ in try -f("Rsqrt", int(1) - f("Square", x)) }) { Foundation.acos($0) },
    unary("Atan", "arctangent", c: "atan($0)", dx { x, _ in try f("Inv", int(1) + f("Square", x)) }) { Foundation.atan($0) },
    unary("Sqrt", "square root", c: "sqrt($0)", dx { x, _ in try Term.rational(1, 2) * f("Rsqrt", x) }) { $0.squareRoot() },
    unary("Rsqrt", "1/sqrt(f), with Rsqrt(0) = 0", c: "(($0) == 0 ? ($T)0 : ($T)1 / sqrt($0))", dx { _, y in try Term.rational(-1, 2) * f("Pow", y, params: [3]) }) { $0 == 0 ? 0 : 1 / $0.squareRoot() },
    unary("Abs", "absolute value", c: "fabs($0)", dx { x, _ in try f("Sign", x) }) { Swift.abs($0) },
    unary("Sign", "-1, 0 or 1", c: "(($0) > 0 ? ($T)1 : (($0) < 0 ? ($T)-1 : ($T)0))", .zero) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) },
    unary("Step", "0 if f < 0, else 1 (Step(0) = 1)", c: "(($0) < 0 ? ($T)0 : ($T)1)", .zero) { $0 < 0 ? 0 : 1 },
    unary("ReLU", "max(f, 0)", c: "(($0) < 0 ? ($T)0 : ($0))", dx { x, _ in try f("Step", x) }) { $0 < 0 ? 0 : $0 },
    unary("Floor", "largest integer <= f", c: "floor($0)", .zero) { Foundation.floor($0) },
    unary("Square", "f*f", c: "(($0) * ($0))", dx { x, _ in try int(2) * x }) { $0 * $0 },
    Operation(
      name: "Pow", arity: 1, params: ["m"], summary: "f to the integer power m", cTemplate: "pow($0, ($T)$p0)",
      dimension: broadcastDimension, evaluation: .unaryWithParams { x, p in Foundation.pow(x, Double(p[0])) },
      derivative: .rule { d in
        let m = d.params[0]
        return [try d.gradient * (m == 1 ? int(1) : int(m) * (m == 2 ? d.arg(0) : f("Pow", d.arg(0), params: [m - 1])))]
      }),
    Operation(
      name: "Round", arity: 1, params: ["d"], summary: "round f to d decimals (halves away from zero)",
      cTemplate: "(round(($0) * ($T)$pow10p0) / ($T)$pow10p0)",
      dimension: broadcastDimension,
      evaluation: .unaryWithParams { x, p in
        let scale = Foundation.pow(10.0, Double(p[0]))
        return (x * scale).rounded(.toNearestOrAwayFromZero) / scale
      },
      derivative: .zero),
    Operation(
      name: "ClampInt", arity: 1, params: ["a", "b"], summary: "clamp f to the integers [a, b]",
      cTemplate: "(($0) < ($T)$p0 ? ($T)$p0 : (($0) > ($T)$p1 ? ($T)$p1 : ($0)))",
      dimension: broadcastDimension,
      evaluation: .unaryWithParams { x, p in x < Double(p[0]) ? Double(p[0]) : (x > Double(p[1]) ? Double(p[1]) : x) },
      derivative: .rule { d in
        // 1 on [a, b] (KeOps' DiffClampInt), written with comparisons.
        let inside = try f("LessOrEqual", int(d.params[0]), d.arg(0)) * f("LessOrEqual", d.arg(0), int(d.params[1]))
        return [try d.gradient * inside]
      }),

    // MARK: Elementwise binary and ternary (section 1.4)
    binary("Add", "f + g", c: "(($0) + ($1))", partials { _, _ in [try int(1), try int(1)] }) { $0 + $1 },
    binary("Subtract", "f - g", c: "(($0) - ($1))", .rule { d in [d.gradient, try -d.gradient] }) { $0 - $1 },
    binary("Mult", "f * g", c: "(($0) * ($1))", partials { x, _ in [x[1], x[0]] }) { $0 * $1 },
    binary("Divide", "f / g", c: "(($0) / ($1))", .rule { d in [try d.gradient / d.arg(1), try -(d.gradient * d.value / d.arg(1))] }) { $0 / $1 },
    binary("Atan2", "atan2(f, g)", c: "atan2($0, $1)", partials { x, _ in
      let r2 = try f("Square", x[0]) + f("Square", x[1])
      return [try x[1] / r2, try -(x[0] / r2)]
    }) { Foundation.atan2($0, $1) },
    binary("Powf", "f to the power g, computed in single precision as KeOps does", c: "(($T)powf((float)($0), (float)($1)))", partials { x, y in [try x[1] * f("Powf", x[0], x[1] - int(1)), try f("Log", x[0]) * y] }) {
      Double(Foundation.powf(Float($0), Float($1)))
    },
    binary("LessThan", "1 if f < g, else 0", c: "(($0) < ($1) ? ($T)1 : ($T)0)", .zero) { $0 < $1 ? 1 : 0 },
    binary("LessOrEqual", "1 if f <= g, else 0", c: "(($0) <= ($1) ? ($T)1 : ($T)0)", .zero) { $0 <= $1 ? 1 : 0 },
    binary("Equal", "1 if f == g, else 0", c: "(($0) == ($1) ? ($T)1 : ($T)0)", .zero) { $0 == $1 ? 1 : 0 },
    binary("NotEqual", "1 if f != g, else 0", c: "(($0) != ($1) ? ($T)1 : ($T)0)", .zero) { $0 != $1 ? 1 : 0 },
    ternary("IfElse", "g where f >= 0, else h", c: "(($0) >= 0 ? ($1) : ($2))", .rule { d in
      [.zero(d.dim(0)), try f("IfElse", d.arg(0), d.gradient, .zero(1)), try f("IfElse", d.arg(0), .zero(1), d.gradient)]
    }) { $0 >= 0 ? $1 : $2 },
    ternary("Clamp", "f clamped to [g, h]", c: "(($0) < ($1) ? ($1) : (($0) > ($2) ? ($2) : ($0)))", partials { x, _ in
      // Clamp(f, g, h) moves with f inside [g, h], with g below it, with h above it (KeOps' rule).
      [try f("LessOrEqual", x[1], x[0]) * f("LessOrEqual", x[0], x[2]), try f("LessThan", x[0], x[1]), try f("LessThan", x[2], x[0])]
    }) { $0 < $1 ? $1 : ($0 > $2 ? $2 : $0) },
    ternary("Mod", "f - g*floor((f - h)/g), in [h, h + g)", c: "(($0) - ($1) * floor((($0) - ($2)) / ($1)))", .rule { d in
      [d.gradient, try -(d.gradient * f("Floor", (d.arg(0) - d.arg(2)) / d.arg(1))), .zero(d.dim(2))]
    }) {
      $0 - $1 * Foundation.floor(($0 - $2) / $1)
    },

    // MARK: Vector reductions and norms (section 1.5)
    Operation(
      name: "Sum", arity: 1, summary: "sum of the components", rule: "d -> 1", cEmit: cSum, dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in
        var s = 0.0
        for k in 0..<x[0].dim { s += x[0][p, k] }
        out[0] = s
      },
      derivative: .rule { d in [try d.gradient.fitted(to: d.dim(0))] }),
    Operation(
      name: "SumT", arity: 1, params: ["d"], summary: "a scalar repeated d times (adjoint of Sum)", rule: "1 -> d",
      cEmit: cSumT,
      dimension: { dims, p throws(DimensionError) in
        guard dims[0] == 1 else { throw DimensionError("the argument must have dimension 1, not \(dims[0])") }
        guard p[0] >= 1 else { throw DimensionError("d must be at least 1, not \(p[0])") }
        return p[0]
      },
      evaluation: perPoint { x, p, _, out, d in for k in 0..<d { out[k] = x[0][p, 0] } },
      derivative: .rule { d in [try Term.sum(d.gradient)] }),
    Operation(
      name: "Max", arity: 1, summary: "largest component", rule: "d -> 1", cEmit: cMax, dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in
        var m = x[0][p, 0]
        for k in 1..<max(1, x[0].dim) where x[0][p, k] > m { m = x[0][p, k] }
        out[0] = m
      },
      derivative: .rule { d in [try f("OneHot", f("ArgMax", d.arg(0)), params: [d.dim(0)]) * d.gradient] }),
    Operation(
      name: "Min", arity: 1, summary: "smallest component", rule: "d -> 1", cEmit: cMin, dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in
        var m = x[0][p, 0]
        for k in 1..<max(1, x[0].dim) where x[0][p, k] < m { m = x[0][p, k] }
        out[0] = m
      },
      derivative: .rule { d in [try f("OneHot", f("ArgMin", d.arg(0)), params: [d.dim(0)]) * d.gradient] }),
    Operation(
      name: "ArgMax", arity: 1, summary: "index of the largest component (first on ties), as a float", rule: "d -> 1",
      cEmit: cArgMax,
      dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in
        var m = x[0][p, 0], at = 0
        for k in 1..<max(1, x[0].dim) where x[0][p, k] > m { m = x[0][p, k]; at = k }
        out[0] = Double(at)
      },
      derivative: .zero),
    Operation(
      name: "ArgMin", arity: 1, summary: "index of the smallest component (first on ties), as a float", rule: "d -> 1",
      cEmit: cArgMin,
      dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in
        var m = x[0][p, 0], at = 0
        for k in 1..<max(1, x[0].dim) where x[0][p, k] < m { m = x[0][p, k]; at = k }
        out[0] = Double(at)
      },
      derivative: .zero),
    Operation(
      name: "Scalprod", arity: 2, summary: "scalar product (f|g); a dimension-1 side multiplies the sum of the other", rule: "d, d -> 1 (or 1, d -> 1: the scalar multiplies the sum of the other)",
      cEmit: cScalprod,
      dimension: { d, _ throws(DimensionError) in
        if d[0] != d[1] && d[0] != 1 && d[1] != 1 {
          throw DimensionError("the arguments have dimensions \(d[0]) and \(d[1]); they must be equal")
        }
        return 1
      },
      evaluation: perPoint { x, p, _, out, _ in
        let d = max(x[0].dim, x[1].dim)
        var s = 0.0
        for k in 0..<d { s += x[0][p, k] * x[1][p, k] }
        out[0] = s
      },
      derivative: .rule { d in [try d.gradient * d.arg(1), try d.gradient * d.arg(0)] }),
    Operation(
      name: "SqNorm2", arity: 1, summary: "squared Euclidean norm", rule: "d -> 1", cEmit: cSqNorm2, dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in out[0] = sumSquares(x[0], p, x[0].dim) },
      derivative: .rule { d in [try int(2) * d.gradient * d.arg(0)] }),
    Operation(
      name: "Norm2", arity: 1, summary: "Euclidean norm", rule: "d -> 1", cEmit: cNorm2, dimension: fixed(1),
      evaluation: perPoint { x, p, _, out, _ in out[0] = sumSquares(x[0], p, x[0].dim).squareRoot() },
      derivative: .rule { d in [try d.gradient * f("Rsqrt", f("SqNorm2", d.arg(0))) * d.arg(0)] }),
    Operation(
      name: "Normalize", arity: 1, summary: "f / |f|, with Normalize(0) = 0", rule: "d -> d",
      cEmit: cNormalize,
      dimension: { d, _ throws(DimensionError) in d[0] },
      evaluation: perPoint { x, p, _, out, d in
        let n2 = sumSquares(x[0], p, d)
        let r = n2 == 0 ? 0 : 1 / n2.squareRoot()
        for k in 0..<d { out[k] = r * x[0][p, k] }
      },
      derivative: .rule { d in
        // Normalize(x) = r x with r = Rsqrt(|x|^2): r e - r^3 (x|e) x.
        let x = d.arg(0), r = try f("Rsqrt", f("SqNorm2", x))
        return [try r * d.gradient - f("Pow", r, params: [3]) * Term.scalprod(x, d.gradient) * x]
      }),
    Operation(
      name: "SqDist", arity: 2, summary: "squared distance |f - g|^2", rule: "d, d -> 1 (1 broadcasts against d)",
      cEmit: cSqDist,
      dimension: { d, p throws(DimensionError) in _ = try broadcastDimension(d, p); return 1 },
      evaluation: perPoint { x, p, _, out, _ in out[0] = sqDist(x[0], x[1], p) },
      derivative: .rule { d in
        let g = try int(2) * d.gradient * (d.arg(0) - d.arg(1))
        return [g, try -g]
      }),
    Operation(
      name: "SqNormIso", arity: 2, summary: "s * |f|^2 for a scalar s", rule: "1, d -> 1",
      cEmit: cSqNormIso,
      dimension: { d, _ throws(DimensionError) in
        guard d[0] == 1 else { throw DimensionError("the weight s must have dimension 1, not \(d[0])") }
        return 1
      },
      evaluation: perPoint { x, p, _, out, _ in out[0] = x[0][p, 0] * sumSquares(x[1], p, x[1].dim) },
      derivative: .rule { d in [try d.gradient * f("SqNorm2", d.arg(1)), try int(2) * d.gradient * d.arg(0) * d.arg(1)] }),
    Operation(
      name: "SqNormDiag", arity: 2, summary: "sum_k s_k f_k^2", rule: "d, d -> 1",
      cEmit: cWeightedSqNorm,
      dimension: { d, _ throws(DimensionError) in
        guard d[0] == d[1] else { throw DimensionError("the weight has dimension \(d[0]) and the vector \(d[1]); they must be equal") }
        return 1
      },
      evaluation: perPoint { x, p, _, out, _ in out[0] = weightedSqNorm(x[0], x[1], nil, p, x[1].dim) },
      derivative: weightedSqNormDerivative(difference: false)),
    Operation(
      name: "SymSqNorm", arity: 2, summary: "sum_kl A_kl f_k f_l for a d*d matrix A (row-major)", rule: "d*d, d -> 1",
      cEmit: cWeightedSqNorm,
      dimension: { d, _ throws(DimensionError) in
        guard d[0] == d[1] * d[1] else { throw DimensionError("the matrix has dimension \(d[0]); expected \(d[1] * d[1]) = \(d[1])^2") }
        return 1
      },
      evaluation: perPoint { x, p, _, out, _ in out[0] = weightedSqNorm(x[0], x[1], nil, p, x[1].dim) },
      derivative: weightedSqNormDerivative(difference: false)),
    Operation(
      name: "WeightedSqNorm", arity: 2, summary: "SqNormIso, SqNormDiag or SymSqNorm, chosen by dim(s)", rule: "s, d -> 1 with dim(s) = 1, d or d*d",
      cEmit: cWeightedSqNorm,
      dimension: { d, _ throws(DimensionError) in try weightedDim(d[0], d[1]); return 1 },
      evaluation: perPoint { x, p, _, out, _ in out[0] = weightedSqNorm(x[0], x[1], nil, p, x[1].dim) },
      derivative: weightedSqNormDerivative(difference: false)),
    Operation(
      name: "WeightedSqDist", arity: 3, summary: "WeightedSqNorm(s, f - g)", rule: "s, d, d -> 1 with dim(s) = 1, d or d*d",
      cEmit: cWeightedSqDist,
      dimension: { d, p throws(DimensionError) in
        let v = try broadcastDimension([d[1], d[2]], p)
        try weightedDim(d[0], v)
        return 1
      },
      evaluation: perPoint { x, p, _, out, _ in
        out[0] = weightedSqNorm(x[0], x[1], x[2], p, max(x[1].dim, x[2].dim))
      },
      derivative: weightedSqNormDerivative(difference: true)),

    // MARK: Indexing, padding, concatenation (section 1.6)
    Operation(
      name: "Elem", arity: 1, params: ["m"], summary: "component m of f", rule: "d -> 1, with 0 <= m < d",
      cEmit: cElem,
      dimension: { d, p throws(DimensionError) in
        guard p[0] >= 0 && p[0] < d[0] else { throw DimensionError("index \(p[0]) is out of range for dimension \(d[0]) (valid: 0...\(d[0] - 1))") }
        return 1
      },
      evaluation: perPoint { x, p, params, out, _ in out[0] = x[0][p, params[0]] },
      derivative: .rule { d in [try Term.elemT(d.gradient, d.dim(0), d.params[0])] }),
    Operation(
      name: "ElemT", arity: 1, params: ["n", "m"], summary: "a vector of n zeros with f at position m", rule: "1 -> n, with 0 <= m < n",
      cEmit: cElemT,
      dimension: { d, p throws(DimensionError) in
        guard d[0] == 1 else { throw DimensionError("the argument must have dimension 1, not \(d[0])") }
        guard p[1] >= 0 && p[1] < p[0] else { throw DimensionError("position \(p[1]) is out of range for dimension \(p[0])") }
        return p[0]
      },
      evaluation: perPoint { x, p, params, out, d in
        for k in 0..<d { out[k] = 0 }
        out[params[1]] = x[0][p, 0]
      },
      derivative: .rule { d in [try Term.elem(d.gradient, d.params[1])] }),
    Operation(
      name: "Extract", arity: 1, params: ["start", "len"], summary: "components start ..< start+len of f", rule: "d -> len, with start + len <= d",
      cEmit: cExtract,
      dimension: { d, p throws(DimensionError) in
        // p[0] <= d[0] first, so that d[0] - p[0] cannot overflow (nor can p[0] + p[1] in the message).
        guard p[0] >= 0 && p[1] >= 1 && p[0] <= d[0] && p[1] <= d[0] - p[0] else {
          let end = p[0].addingReportingOverflow(p[1])
          throw DimensionError("components \(p[0])..<\(end.overflow ? "\(p[0])+\(p[1])" : String(end.partialValue)) are out of range for dimension \(d[0])")
        }
        return p[1]
      },
      evaluation: perPoint { x, p, params, out, d in for k in 0..<d { out[k] = x[0][p, params[0] + k] } },
      derivative: .rule { d in [try Term.extractT(d.gradient, d.params[0], d.dim(0))] }),
    Operation(
      name: "ExtractT", arity: 1, params: ["start", "D"], summary: "a vector of D zeros with f placed at start", rule: "d -> D, with start + d <= D",
      cEmit: cExtractT,
      dimension: { d, p throws(DimensionError) in
        guard p[0] >= 0 && p[0] <= p[1] && d[0] <= p[1] - p[0] else {
          throw DimensionError("a vector of dimension \(d[0]) placed at \(p[0]) does not fit in dimension \(p[1])")
        }
        return p[1]
      },
      evaluation: perPoint { x, p, params, out, d in
        for k in 0..<d { out[k] = 0 }
        for k in 0..<x[0].dim { out[params[0] + k] = x[0][p, k] }
      },
      derivative: .rule { d in [try Term.extract(d.gradient, d.params[0], d.dim(0))] }),
    Operation(
      name: "Concat", arity: 2, summary: "the components of f followed by those of g", rule: "d1, d2 -> d1 + d2",
      cEmit: cConcat,
      dimension: { d, _ throws(DimensionError) in d[0] + d[1] },
      evaluation: perPoint { x, p, _, out, _ in
        for k in 0..<x[0].dim { out[k] = x[0][p, k] }
        for k in 0..<x[1].dim { out[x[0].dim + k] = x[1][p, k] }
      },
      derivative: .rule { d in [try Term.extract(d.gradient, 0, d.dim(0)), try Term.extract(d.gradient, d.dim(0), d.dim(1))] }),
    Operation(
      name: "OneHot", arity: 1, params: ["D"], summary: "a vector of D zeros with 1 at position round(f)", rule: "1 -> D",
      cEmit: cOneHot,
      dimension: { d, p throws(DimensionError) in
        guard d[0] == 1 else { throw DimensionError("the argument must have dimension 1, not \(d[0])") }
        guard p[0] >= 1 else { throw DimensionError("D must be at least 1, not \(p[0])") }
        return p[0]
      },
      evaluation: perPoint { x, p, _, out, d in
        let v = x[0][p, 0] + 0.5
        let at = v.isFinite && Swift.abs(v) < 1e18 ? Int(v) : -1
        for k in 0..<d { out[k] = k == at ? 1 : 0 }
      },
      derivative: .zero),

    // MARK: Small linear algebra (section 1.7, row-major as KeOps' code)
    Operation(
      name: "MatVecMult", arity: 2, summary: "A v for A of dim n*p (row-major) and v of dim p", rule: "n*p, p -> n",
      cEmit: cMatVecMult,
      dimension: { d, _ throws(DimensionError) in
        guard d[1] >= 1 && d[0] % d[1] == 0 else { throw DimensionError("dim(A) = \(d[0]) is not a multiple of dim(v) = \(d[1])") }
        return d[0] / d[1]
      },
      evaluation: perPoint { x, p, _, out, n in
        let q = x[1].dim
        for r in 0..<n {
          var s = 0.0
          for k in 0..<q { s += x[0][p, r * q + k] * x[1][p, k] }
          out[r] = s
        }
      },
      derivative: .rule { d in [try Term.product("TensorProd", [d.gradient, d.arg(1)]), try Term.product("VecMatMult", [d.gradient, d.arg(0)])] }),
    Operation(
      name: "VecMatMult", arity: 2, summary: "v^T A for v of dim p and A of dim p*n (row-major)", rule: "p, p*n -> n",
      cEmit: cVecMatMult,
      dimension: { d, _ throws(DimensionError) in
        guard d[0] >= 1 && d[1] % d[0] == 0 else { throw DimensionError("dim(A) = \(d[1]) is not a multiple of dim(v) = \(d[0])") }
        return d[1] / d[0]
      },
      evaluation: perPoint { x, p, _, out, n in
        let q = x[0].dim
        for r in 0..<n {
          var s = 0.0
          for k in 0..<q { s += x[0][p, k] * x[1][p, k * n + r] }
          out[r] = s
        }
      },
      derivative: .rule { d in [try Term.product("MatVecMult", [d.arg(1), d.gradient]), try Term.product("TensorProd", [d.arg(0), d.gradient])] }),
    Operation(
      name: "TensorProd", arity: 2, summary: "outer product, out[k*dim(g)+l] = f_k g_l", rule: "d1, d2 -> d1*d2",
      cEmit: cTensorProd,
      dimension: { d, _ throws(DimensionError) in d[0] * d[1] },
      evaluation: perPoint { x, p, _, out, _ in
        let q = x[1].dim
        for k in 0..<x[0].dim { for l in 0..<q { out[k * q + l] = x[0][p, k] * x[1][p, l] } }
      },
      derivative: .rule { d in [try Term.product("MatVecMult", [d.gradient, d.arg(1)]), try Term.product("VecMatMult", [d.arg(0), d.gradient])] }),

    Operation(
      name: "TensorDot", arity: 2, params: ["dimsfa", "dimsfb", "contfa", "contfb", "permute"],
      summary: "numpy's tensordot of f and g as row-major tensors of shapes dimsfa and dimsfb (tuples or lists), contracting axes contfa of f with axes contfb of g; the kept axes (f's, then g's) go to positions permute (optional, identity by default)",
      rule: "prod(dimsfa), prod(dimsfb) -> product of the kept sizes",
      cEmit: cTensorDot, variadicParams: true,
      dimension: { d, p throws(DimensionError) in
        guard let layout = TensorDotLayout(params: p) else { throw DimensionError("malformed axis lists") }
        return try layout.check(d[0], d[1])
      },
      evaluation: tensorDotEvaluation,
      derivative: tensorDotDerivative),

    // MARK: Complex numbers (section 1.10): (re, im) pairs, see ComplexOperations.swift
    Operation(
      name: "ComplexReal", arity: 1, summary: "the real parts of a complex vector", rule: "2n -> n",
      cEmit: cComplexToReal { _ in "ar" }, dimension: complexToRealDimension,
      evaluation: complexToReal { re, _ in re },
      derivative: .rule { d in [try real2Complex(d.gradient)] }),
    Operation(
      name: "ComplexImag", arity: 1, summary: "the imaginary parts of a complex vector", rule: "2n -> n",
      cEmit: cComplexToReal { _ in "ai" }, dimension: complexToRealDimension,
      evaluation: complexToReal { _, im in im },
      derivative: .rule { d in [try imag2Complex(d.gradient)] }),
    Operation(
      name: "Real2Complex", arity: 1, summary: "the complex vector f + 0i", rule: "n -> 2n",
      cEmit: cRealToComplex { w in ("a", "(\(w))0") }, dimension: { d, _ throws(DimensionError) in 2 * d[0] },
      evaluation: realToComplex { ($0, 0) },
      derivative: .rule { d in [try complexReal(d.gradient)] }),
    Operation(
      name: "Imag2Complex", arity: 1, summary: "the complex vector 0 + fi", rule: "n -> 2n",
      cEmit: cRealToComplex { w in ("(\(w))0", "a") }, dimension: { d, _ throws(DimensionError) in 2 * d[0] },
      evaluation: realToComplex { (0, $0) },
      derivative: .rule { d in [try complexImag(d.gradient)] }),
    Operation(
      name: "Conj", arity: 1, summary: "complex conjugate", rule: "2n -> 2n",
      cEmit: cComplexElementwise { _ in ("ar", "-ai") }, dimension: complexBroadcastDimension,
      evaluation: complexElementwise { a, _ in (a.0, -a.1) },
      derivative: .rule { d in [try conj(d.gradient)] }),
    Operation(
      name: "ComplexAbs", arity: 1, summary: "moduli of a complex vector, Sqrt(ComplexSquareAbs(f))", rule: "2n -> n",
      cEmit: cComplexToReal { _ in "sqrt(ar * ar + ai * ai)" }, dimension: complexToRealDimension,
      evaluation: complexToReal { re, im in (re * re + im * im).squareRoot() },
      derivative: .rule { d in
        // KeOps' rule through Sqrt: Rsqrt(|z|^2) z e, zero at z = 0.
        let z = d.arg(0)
        return [try complexProduct(real2Complex(d.gradient * f("Rsqrt", f("ComplexSquareAbs", z))), z)]
      }),
    Operation(
      name: "ComplexSquareAbs", arity: 1, summary: "squared moduli of a complex vector", rule: "2n -> n",
      cEmit: cComplexToReal { _ in "ar * ar + ai * ai" }, dimension: complexToRealDimension,
      evaluation: complexToReal { re, im in re * re + im * im },
      derivative: .rule { d in [try complexProduct(real2Complex(int(2) * d.gradient), d.arg(0))] }),
    Operation(
      name: "ComplexAngle", arity: 1, summary: "arguments of a complex vector, Atan2(imag, real)", rule: "2n -> n",
      cEmit: cComplexToReal { _ in "atan2(ai, ar)" }, dimension: complexToRealDimension,
      evaluation: complexToReal { re, im in Foundation.atan2(im, re) },
      derivative: .rule { d in
        // d/d(re, im) atan2(im, re) = (-im, re) / |z|^2.
        let z = d.arg(0)
        let iz = try imag2Complex(complexReal(z)) - real2Complex(complexImag(z))
        return [try complexProduct(real2Complex(d.gradient / f("ComplexSquareAbs", z)), iz)]
      }),
    Operation(
      name: "ComplexSum", arity: 1, summary: "the sum of the entries of a complex vector", rule: "2n -> 2",
      cEmit: cComplexSum,
      dimension: { d, _ throws(DimensionError) in try complexDimension(d[0]); return 2 },
      evaluation: perPoint { x, p, _, out, _ in
        var re = 0.0, im = 0.0
        for k in stride(from: 0, to: x[0].dim, by: 2) {
          re += x[0][p, k]
          im += x[0][p, k + 1]
        }
        out[0] = re
        out[1] = im
      },
      derivative: .rule { d in [try complexFitted(d.gradient, to: d.dim(0))] }),
    Operation(
      name: "ComplexSumT", arity: 1, params: ["d"], summary: "a complex scalar repeated to dimension d (adjoint of ComplexSum)",
      rule: "2 -> d, d even", cEmit: cComplexSumT,
      dimension: { d, p throws(DimensionError) in
        guard d[0] == 2 else { throw DimensionError("the argument must be a complex scalar (dimension 2), not dimension \(d[0])") }
        guard p[0] >= 2 else { throw DimensionError("d must be at least 2, not \(p[0])") }
        try complexDimension(p[0], "d")
        return p[0]
      },
      evaluation: perPoint { x, p, _, out, d in
        for k in stride(from: 0, to: d, by: 2) {
          out[k] = x[0][p, 0]
          out[k + 1] = x[0][p, 1]
        }
      },
      derivative: .rule { d in [try complexFitted(d.gradient, to: 2)] }),
    Operation(
      name: "ComplexAdd", arity: 2, summary: "f + g, complex", rule: "2n, 2n -> 2n (a complex scalar, dimension 2, broadcasts)",
      cEmit: cComplexElementwise { _ in ("ar + br", "ai + bi") }, dimension: complexBroadcastDimension,
      evaluation: complexElementwise { a, b in (a.0 + b.0, a.1 + b.1) },
      derivative: .rule { d in [try complexFitted(d.gradient, to: d.dim(0)), try complexFitted(d.gradient, to: d.dim(1))] }),
    Operation(
      name: "ComplexSubtract", arity: 2, summary: "f - g, complex", rule: "2n, 2n -> 2n (a complex scalar, dimension 2, broadcasts)",
      cEmit: cComplexElementwise { _ in ("ar - br", "ai - bi") }, dimension: complexBroadcastDimension,
      evaluation: complexElementwise { a, b in (a.0 - b.0, a.1 - b.1) },
      derivative: .rule { d in [try complexFitted(d.gradient, to: d.dim(0)), try complexFitted(-d.gradient, to: d.dim(1))] }),
    Operation(
      name: "ComplexMult", arity: 2, summary: "f * g, complex", rule: "2n, 2n -> 2n (a complex scalar, dimension 2, broadcasts)",
      cEmit: cComplexElementwise { _ in ("ar * br - ai * bi", "ar * bi + ai * br") }, dimension: complexBroadcastDimension,
      evaluation: complexElementwise { a, b in complexMultiply(a, b) },
      derivative: complexMultDerivative),
    Operation(
      name: "ComplexScal", arity: 2, summary: "a complex scalar f times a complex vector g", rule: "2, 2n -> 2n",
      cEmit: cComplexElementwise { _ in ("ar * br - ai * bi", "ar * bi + ai * br") },
      dimension: { d, p throws(DimensionError) in
        guard d[0] == 2 else { throw DimensionError("f must be a complex scalar (dimension 2), not dimension \(d[0])") }
        return try complexBroadcastDimension(d, p)
      },
      evaluation: complexElementwise { a, b in complexMultiply(a, b) },
      derivative: complexMultDerivative),
    Operation(
      name: "ComplexDivide", arity: 2, summary: "f / g, complex, computed as KeOps: (f * Conj(g)) * (1 / ComplexSquareAbs(g))",
      rule: "2n, 2n -> 2n (a complex scalar, dimension 2, broadcasts)",
      cEmit: cComplexElementwise { w in
        let s = "((\(w))1 / (br * br + bi * bi))"
        return ("\(s) * (ar * br - ai * (-bi)) - (\(w))0 * (ar * (-bi) + ai * br)", "\(s) * (ar * (-bi) + ai * br) + (\(w))0 * (ar * br - ai * (-bi))")
      },
      dimension: complexBroadcastDimension,
      evaluation: complexElementwise { a, b in complexDivide(a, b) },
      derivative: .rule { d in
        // d(f/g) = df / g - (f/g) dg / g: conj(1/g) e and -conj(f/g^2) e.
        let g = d.arg(1), e = d.gradient
        return [
          try complexFitted(Term.product("ComplexDivide", [e, conj(g)]), to: d.dim(0)),
          try complexFitted(-complexProduct(e, conj(Term.make("ComplexDivide", [d.value, g]))), to: d.dim(1)),
        ]
      }),
    Operation(
      name: "ComplexRealScal", arity: 2, summary: "a real scalar times a complex vector (in either order)", rule: "1, 2n -> 2n or 2n, 1 -> 2n",
      cEmit: cComplexRealScal,
      dimension: { d, _ throws(DimensionError) in
        guard d[0] == 1 || d[1] == 1 else {
          throw DimensionError("one argument must be a real scalar (dimension 1); the dimensions are \(d[0]) and \(d[1])")
        }
        let z = d[0] == 1 ? d[1] : d[0]
        try complexDimension(z, "the complex argument")
        return z
      },
      evaluation: perPoint { x, p, _, out, d in
        let (s, z) = x[0].dim == 1 ? (x[0], x[1]) : (x[1], x[0])
        for k in stride(from: 0, to: d, by: 2) {
          out[k] = s[p, 0] * z[p, k]
          out[k + 1] = s[p, 0] * z[p, k + 1]
        }
      },
      derivative: .rule { d in
        let (si, zi) = d.dim(0) == 1 ? (0, 1) : (1, 0)
        var g = [Term](repeating: .zero(1), count: 2)
        g[zi] = try Term.product("ComplexRealScal", [d.arg(si), d.gradient])
        g[si] = try Term.scalprod(d.arg(zi), d.gradient)
        return g
      }),
    Operation(
      name: "ComplexExp", arity: 1, summary: "complex exponential", rule: "2n -> 2n",
      cEmit: cComplexElementwise { _ in ("exp(ar) * cos(ai)", "exp(ar) * sin(ai)") }, dimension: complexBroadcastDimension,
      evaluation: complexElementwise { a, _ in (Foundation.exp(a.0) * Foundation.cos(a.1), Foundation.exp(a.0) * Foundation.sin(a.1)) },
      derivative: .rule { d in [try complexProduct(conj(d.value), d.gradient)] }),
    Operation(
      name: "ComplexExp1j", arity: 1, summary: "exp(i f) for a real vector f: (cos f, sin f) pairs", rule: "n -> 2n",
      cEmit: cRealToComplex { _ in ("cos(a)", "sin(a)") }, dimension: { d, _ throws(DimensionError) in 2 * d[0] },
      evaluation: realToComplex { (Foundation.cos($0), Foundation.sin($0)) },
      derivative: .rule { d in [try complexImag(complexProduct(conj(d.value), d.gradient))] }),

    Operation(
      name: "BSpline", arity: 2, params: ["order"],
      summary: "the B-spline basis functions of the given order on the knots f, at the scalar g (De Boor's recursion; g and the knot ratios in single precision, as KeOps computes them)",
      rule: "K, 1 -> K - order - 1", cEmit: cBSpline,
      dimension: { d, p throws(DimensionError) in
        guard p[0] >= 0 else { throw DimensionError("the order must be at least 0, not \(p[0])") }
        guard d[1] == 1 else { throw DimensionError("B-splines are sampled at a scalar, not a vector of dimension \(d[1])") }
        guard d[0] >= p[0] + 2 else {
          throw DimensionError("B-splines of order \(p[0]) need at least \(p[0] + 2) knots, not \(d[0])")
        }
        return d[0] - p[0] - 1
      },
      evaluation: bSplineEvaluation,
      derivative: .none("KeOps' B-splines are not differentiable")),
    Operation(
      name: "SoftDTW_SqDist", arity: 3,
      summary: "soft dynamic time warping between the sequences f and g with squared differences as costs, softmin temperature h",
      rule: "n, m, 1 -> 1", cEmit: cSoftDTW,
      dimension: { d, _ throws(DimensionError) in
        guard d[2] == 1 else { throw DimensionError("gamma must be a scalar, not dimension \(d[2])") }
        return 1
      },
      evaluation: softDTWEvaluation,
      derivative: .rule { d in
        // KeOps 2.3: the gradient with respect to x and y from GradSoftDTW_SqDist; none for gamma.
        if d.argumentDependsOnVariable[2] {
          throw Diagnostic("SoftDTW_SqDist is not differentiable with respect to gamma (KeOps 2.3 refuses it too)", at: d.node.range)
        }
        let n = d.dim(0), m = d.dim(1)
        let both = try f("GradSoftDTW_SqDist", d.arg(0), d.arg(1), d.arg(2)) * d.gradient
        return [try Term.extract(both, 0, n), try Term.extract(both, n, m), .zero(1)]
      }),
    Operation(
      name: "GradSoftDTW_SqDist", arity: 3,
      summary: "the gradient of SoftDTW_SqDist(f, g, h) with respect to f and to g, concatenated",
      rule: "n, m, 1 -> n + m", cEmit: cGradSoftDTW,
      dimension: { d, _ throws(DimensionError) in
        guard d[2] == 1 else { throw DimensionError("gamma must be a scalar, not dimension \(d[2])") }
        return d[0] + d[1]
      },
      evaluation: gradSoftDTWEvaluation,
      derivative: .none("KeOps 2.3 has no second derivative of SoftDTW_SqDist")),

    // MARK: Constants (section 1.8)
    Operation(
      name: "IntCst", arity: 0, params: ["n"], summary: "the integer constant n", rule: "-> 1", cEmit: cIntCst, dimension: fixed(1),
      evaluation: perPoint { _, _, params, out, _ in out[0] = Double(params[0]) },
      derivative: .zero),
    Operation(
      name: "RatCst", arity: 0, params: ["p", "q"], summary: "the rational constant p/q", rule: "-> 1",
      cEmit: cRatCst,
      dimension: { _, p throws(DimensionError) in
        guard p[1] != 0 else { throw DimensionError("the denominator is zero") }
        return 1
      },
      evaluation: perPoint { _, _, params, out, _ in out[0] = Double(params[0]) / Double(params[1]) },
      derivative: .zero),
    Operation(
      name: "IntInv", arity: 0, params: ["n"], summary: "the constant 1/n", rule: "-> 1",
      cEmit: cIntInv,
      dimension: { _, p throws(DimensionError) in
        guard p[0] != 0 else { throw DimensionError("1/0 is not a constant") }
        return 1
      },
      evaluation: perPoint { _, _, params, out, _ in out[0] = 1 / Double(params[0]) },
      derivative: .zero),
    Operation(
      name: "Zero", arity: 0, params: ["d"], summary: "the zero vector of dimension d", rule: "-> d",
      cEmit: cZero,
      dimension: { _, p throws(DimensionError) in
        guard p[0] >= 1 else { throw DimensionError("d must be at least 1, not \(p[0])") }
        return p[0]
      },
      evaluation: perPoint { _, _, _, out, d in for k in 0..<d { out[k] = 0 } },
      derivative: .zero),
  ]
}

// MARK: - C emission of block operations
//
// Each emitter writes the C statements of one node for compiled engines (see `CEmitContext`),
// mirroring the reference evaluation above operation for operation: same loop order, same
// association, intermediate values in `c.work`, rounding only where the output is stored.

/// `W s = sum_k f_k^2` over the `d` components of argument `n`.
private func cSumSquares(_ c: CEmitContext, _ n: Int, _ d: Int) -> String {
  "\(c.work) s = 0; for (int k = 0; k < \(d); k++) { \(c.work) v = \(c.arg(n, "k")); s += v * v; }"
}

/// Fills every output component with zero.
private func cZeroFill(_ c: CEmitContext) -> String {
  "for (int k = 0; k < \(c.outDim); k++) \(c.out("k")) = 0;"
}

private let cSum: CEmitter = { c in
  "{ \(c.work) s = 0; for (int k = 0; k < \(c.argumentDims[0]); k++) s += \(c.arg(0, "k")); \(c.out("0")) = s; }"
}

private let cSumT: CEmitter = { c in
  "for (int k = 0; k < \(c.outDim); k++) \(c.out("k")) = \(c.arg(0, "0"));"
}

/// Max, Min, ArgMax and ArgMin: the first extreme component wins (strict comparison).
private func cExtreme(_ c: CEmitContext, _ cmp: String, index: Bool) -> String {
  "{ \(c.work) m = \(c.arg(0, "0")); int at = 0; for (int k = 1; k < \(c.argumentDims[0]); k++) "
    + "{ \(c.work) x = \(c.arg(0, "k")); if (x \(cmp) m) { m = x; at = k; } } \(c.out("0")) = \(index ? "at" : "m"); (void)at; }"
}

private let cMax: CEmitter = { cExtreme($0, ">", index: false) }
private let cMin: CEmitter = { cExtreme($0, "<", index: false) }
private let cArgMax: CEmitter = { cExtreme($0, ">", index: true) }
private let cArgMin: CEmitter = { cExtreme($0, "<", index: true) }

private let cScalprod: CEmitter = { c in
  let d = max(c.argumentDims[0], c.argumentDims[1])
  return "{ \(c.work) s = 0; for (int k = 0; k < \(d); k++) s += \(c.arg(0, "k")) * \(c.arg(1, "k")); \(c.out("0")) = s; }"
}

private let cSqNorm2: CEmitter = { c in "{ \(cSumSquares(c, 0, c.argumentDims[0])) \(c.out("0")) = s; }" }

private let cNorm2: CEmitter = { c in "{ \(cSumSquares(c, 0, c.argumentDims[0])) \(c.out("0")) = sqrt(s); }" }

private let cNormalize: CEmitter = { c in
  "{ \(cSumSquares(c, 0, c.outDim)) \(c.work) r = s == 0 ? (\(c.work))0 : (\(c.work))1 / sqrt(s); "
    + "for (int k = 0; k < \(c.outDim); k++) \(c.out("k")) = r * \(c.arg(0, "k")); }"
}

private let cSqDist: CEmitter = { c in
  let d = max(c.argumentDims[0], c.argumentDims[1])
  return "{ \(c.work) s = 0; for (int k = 0; k < \(d); k++) { \(c.work) v = \(c.arg(0, "k")) - \(c.arg(1, "k")); s += v * v; } "
    + "\(c.out("0")) = s; }"
}

private let cSqNormIso: CEmitter = { c in
  "{ \(cSumSquares(c, 1, c.argumentDims[1])) \(c.out("0")) = \(c.arg(0, "0")) * s; }"
}

/// WeightedSqNorm(s, v) with v = f - g (or f alone), dispatching on dim(s) as the reference does.
private func cWeighted(_ c: CEmitContext, g: Int?) -> String {
  let w = c.work
  let d = g.map { max(c.argumentDims[1], c.argumentDims[$0]) } ?? c.argumentDims[1]
  func v(_ k: String) -> String { g.map { "(\(c.arg(1, k)) - \(c.arg($0, k)))" } ?? c.arg(1, k) }
  let sDim = c.argumentDims[0]
  if sDim == 1 {
    return "{ \(w) s = 0; for (int k = 0; k < \(d); k++) { \(w) x = \(v("k")); s += x * x; } \(c.out("0")) = \(c.arg(0, "0")) * s; }"
  } else if sDim == d {
    return "{ \(w) s = 0; for (int k = 0; k < \(d); k++) { \(w) x = \(v("k")); s += \(c.arg(0, "k")) * x * x; } \(c.out("0")) = s; }"
  }
  return "{ \(w) s = 0; for (int a = 0; a < \(d); a++) for (int b = 0; b < \(d); b++) "
    + "s += \(c.arg(0, "a * \(d) + b")) * \(v("a")) * \(v("b")); \(c.out("0")) = s; }"
}

private let cWeightedSqNorm: CEmitter = { cWeighted($0, g: nil) }
private let cWeightedSqDist: CEmitter = { cWeighted($0, g: 2) }

private let cElem: CEmitter = { c in "\(c.out("0")) = \(c.arg(0, "\(c.params[0])"));" }

private let cElemT: CEmitter = { c in "\(cZeroFill(c)) \(c.out("\(c.params[1])")) = \(c.arg(0, "0"));" }

private let cExtract: CEmitter = { c in
  "for (int k = 0; k < \(c.outDim); k++) \(c.out("k")) = \(c.arg(0, "\(c.params[0]) + k"));"
}

private let cExtractT: CEmitter = { c in
  "\(cZeroFill(c)) for (int k = 0; k < \(c.argumentDims[0]); k++) \(c.out("\(c.params[0]) + k")) = \(c.arg(0, "k"));"
}

private let cConcat: CEmitter = { c in
  "for (int k = 0; k < \(c.argumentDims[0]); k++) \(c.out("k")) = \(c.arg(0, "k")); "
    + "for (int k = 0; k < \(c.argumentDims[1]); k++) \(c.out("\(c.argumentDims[0]) + k")) = \(c.arg(1, "k"));"
}

/// Rounds half up in double precision, as the reference does, whatever `c.work` is.
private let cOneHot: CEmitter = { c in
  "{ double v = (double)\(c.arg(0, "0")) + 0.5; long at = (isfinite(v) && fabs(v) < 1e18) ? (long)v : -1; "
    + "for (int k = 0; k < \(c.outDim); k++) \(c.out("k")) = k == at ? (\(c.work))1 : (\(c.work))0; }"
}

private let cMatVecMult: CEmitter = { c in
  let q = c.argumentDims[1]
  return "for (int r = 0; r < \(c.outDim); r++) { \(c.work) s = 0; for (int k = 0; k < \(q); k++) "
    + "s += \(c.arg(0, "r * \(q) + k")) * \(c.arg(1, "k")); \(c.out("r")) = s; }"
}

private let cVecMatMult: CEmitter = { c in
  let q = c.argumentDims[0], n = c.outDim
  return "for (int r = 0; r < \(n); r++) { \(c.work) s = 0; for (int k = 0; k < \(q); k++) "
    + "s += \(c.arg(0, "k")) * \(c.arg(1, "k * \(n) + r")); \(c.out("r")) = s; }"
}

private let cTensorProd: CEmitter = { c in
  let q = c.argumentDims[1]
  return "for (int k = 0; k < \(c.argumentDims[0]); k++) for (int l = 0; l < \(q); l++) "
    + "\(c.out("k * \(q) + l")) = \(c.arg(0, "k")) * \(c.arg(1, "l"));"
}

private let cIntCst: CEmitter = { c in "\(c.out("0")) = \(c.literal(Double(c.params[0])));" }

private let cRatCst: CEmitter = { c in
  "\(c.out("0")) = \(c.literal(Double(c.params[0]))) / \(c.literal(Double(c.params[1])));"
}

private let cIntInv: CEmitter = { c in "\(c.out("0")) = \(c.literal(1)) / \(c.literal(Double(c.params[0])));" }

private let cZero: CEmitter = { c in cZeroFill(c) }
