import Foundation
import FormulaLanguage
import Testing

/// `docs/formula-reference.md` is generated from the operation table, so it can never drift from
/// what the parser accepts. `UPDATE_GOLDENS=1 swift test --filter FormulaReferenceDoc` rewrites it.
@Suite struct FormulaReferenceDocTests {
  static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("docs/formula-reference.md").path

  static func render() -> String {
    var out = """
      # Formula reference

      A formula is a Python expression over aliases (`x`, `y`, ...), integer and float literals, and
      the operations below. Operators build operations as in KeOps: `f + g` is Add, `f - g` Subtract,
      `f * g` Mult, `f / g` Divide (`1 / f` is Inv), `-f` Minus, `f ** 2` Square, `f ** m` Pow for an
      integer m, `f ** 0.5` Sqrt, `f ** g` Powf, `(f | g)` Scalprod, `f < g` LessThan, `f > g`
      LessThan(g, f), `f <= g` LessOrEqual, `f >= g` LessOrEqual(g, f), and (beyond KeOps)
      `f == g` Equal, `f != g` NotEqual. Precedence is Python's: `**` > unary `-` > `* /` > `+ -` >
      `|` > comparisons, so write `(x | y) * b`. A number meeting a formula becomes `IntCst(n)`, or
      a float constant (beyond KeOps, which refuses float literals).

      Every value is a vector of fixed dimension. Elementwise operations take arguments of
      dimension d, or 1 and d: a dimension-1 argument is broadcast (KeOps' rule). Integer
      parameters (`m`, `d`, `start`, ...) must be integer literals.

      Variables: `Vi(d)` (indexed by i), `Vj(d)` (indexed by j), `Pm(d)` (a parameter), with an
      optional position first (`Vi(0, 3)`), or `Var(pos, dim, cat)` with cat 0, 1 or 2; these can
      be written inside the formula too.

      This page is generated from the operation table (`Sources/FormulaLanguage/OperationTable.swift`).

      The last column says whether `Grad` and the other differential operators (below) go through
      the operation: "yes (gradient 0)" for piecewise-constant operations, as in KeOps.

      | operation | meaning | dimensions | differentiable |
      | --- | --- | --- | --- |

      """
    for op in Operation.table {
      out += "| `\(op.signature)` | \(op.summary.replacingOccurrences(of: "|", with: "\\|")) | \(op.dimensionRule.replacingOccurrences(of: "|", with: "\\|")) | \(op.differentiability.summary) |\n"
    }
    out += """

      ## Differential operators

      These are expanded symbolically when the formula is built, into a formula made of the
      operations above (so every engine runs them), with KeOps' simplifications: zeros vanish,
      constants fold, `x + x` is `2*x`. `v` must be a variable (an alias or `Var(pos, dim, cat)`)
      written in `f`; i-, j- and parameter variables all work, and operators nest.

      | operator | meaning | dimension |
      | --- | --- | --- |
      | `Grad(f, v, e)` | the gradient of f with respect to v, contracted with e: [df/dv]^T e; dim(e) = dim(f) | dim(v) |
      | `Grad(f, v)` | the same with e a new variable: position 1 + the largest in f, category 1 - cat(v) (KeOps' rule) | dim(v) |
      | `GradFromPos(f, v, n)` | Grad with e = `Var(n, dim(f), cat)`, cat the output rows' category (KeOps 1) | dim(v) |
      | `Diff(f, v, u)` | the directional derivative [df/dv] u; dim(u) = dim(v) | dim(f) |
      | `Divergence(f, v)` | the trace of df/dv; dim(f) = dim(v) | 1 |
      | `Laplacian(f, v)` | the divergence of the gradient of a scalar f | 1 |
      | `GradMatrix(f, v)` | the transposed Jacobian: row k is Grad(f, v, e_k) | dim(f)*dim(v) |
      | `TraceOperator(f, v[, w])` | for f linear in v with matrix M: tr(M) (times w, or weighted by w); sum of M for a scalar f | 1 |
      | `AdjointOperator(f, v, u)` | for f linear in v with matrix M: M^T u | dim(v) |

      Differentiating through an operation marked "no" is an error pointing at that operation.

      ## Tensors and complex numbers

      `TensorDot` takes its shapes and axes as tuples or lists of integers, as in KeOps:
      `TensorDot(A, v, (2,3), (3,), (1,), (0,))` is the product of a 2x3 matrix and a 3-vector.
      `Kron(f, g, dimsfa, dimsfb)` is np.kron of two tensors with the same number of axes, built as
      a TensorDot without contraction whose kept axes interleave.

      The complex operations work on vectors of (re, im) pairs, so a complex vector of n entries has
      dimension 2n; in the elementwise ones (`ComplexAdd`, `ComplexSubtract`, `ComplexMult`,
      `ComplexDivide`) a complex scalar (dimension 2) broadcasts against a complex vector.

      `SoftDTW_SqDist` is differentiable with respect to its sequences (through
      `GradSoftDTW_SqDist`, as in KeOps 2.3), not with respect to gamma.

      Not available yet (KeOps has them): Factorize and AutoFactorize (common-subexpression
      elimination; ks already evaluates identical subformulas once). Using one gives a clear error.

      """
    return out
  }

  @Test func referenceMatchesTheTable() throws {
    let text = Self.render()
    if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
      try text.write(toFile: Self.path, atomically: true, encoding: .utf8)
    }
    let onDisk = try String(contentsOfFile: Self.path, encoding: .utf8)
    #expect(onDisk == text, "docs/formula-reference.md is out of date: UPDATE_GOLDENS=1 swift test --filter FormulaReferenceDoc")
    for op in Operation.table { #expect(onDisk.contains("`\(op.signature)`")) }
  }
}
