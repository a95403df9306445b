import Foundation
import KSDiagnostics

// KeOps' complex operations (keops-semantics.md 1.10): a complex vector of dimension n is stored as
// 2n reals, (re, im) pairs. Elementwise complex operations broadcast a complex scalar (dimension 2)
// against a complex vector (dimension 2n). The evaluations, C emitters and derivative rules used by
// the rows of the operation table live here; every row names them.

// MARK: Dimension rules

/// A complex vector argument: an even dimension.
func complexDimension(_ d: Int, _ what: String = "the argument") throws(DimensionError) {
  guard d % 2 == 0 else {
    throw DimensionError("\(what) has dimension \(d); a complex vector has an even dimension ((re, im) pairs)")
  }
}

/// KeOps' rule for elementwise complex operations: dimensions {2n} or {2, 2n}.
@Sendable func complexBroadcastDimension(_ dims: [Int], _ params: [Int]) throws(DimensionError) -> Int {
  for d in dims { try complexDimension(d) }
  let d = dims.max() ?? 2
  for x in dims where x != 2 && x != d {
    let list = dims.map(String.init).joined(separator: " and ")
    throw DimensionError("dimensions \(list) are not compatible (only a complex scalar, dimension 2, broadcasts)")
  }
  return d
}

/// 2n -> n.
@Sendable func complexToRealDimension(_ dims: [Int], _ params: [Int]) throws(DimensionError) -> Int {
  try complexDimension(dims[0])
  return dims[0] / 2
}

// MARK: Reference evaluation

/// Entry k (an even index) of a complex operand, broadcasting a complex scalar.
@inline(__always) private func entry(_ x: Operand, _ p: Int, _ k: Int) -> (Double, Double) {
  x.dim == 2 ? (x[p, 0], x[p, 1]) : (x[p, k], x[p, k + 1])
}

/// An elementwise complex operation of one or two arguments, entry by entry.
func complexElementwise(
  _ f: @escaping @Sendable (_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double)
) -> Evaluation {
  .block { x, _, count, out, d in
    for p in 0..<count {
      let o = out + p * d
      for k in stride(from: 0, to: d, by: 2) {
        let r = f(entry(x[0], p, k), x.count > 1 ? entry(x[1], p, k) : (0, 0))
        o[k] = r.0
        o[k + 1] = r.1
      }
    }
  }
}

/// A complex -> real operation entry by entry (2n -> n).
func complexToReal(_ f: @escaping @Sendable (Double, Double) -> Double) -> Evaluation {
  .block { x, _, count, out, n in
    for p in 0..<count { for k in 0..<n { out[p * n + k] = f(x[0][p, 2 * k], x[0][p, 2 * k + 1]) } }
  }
}

/// A real -> complex operation entry by entry (n -> 2n).
func realToComplex(_ f: @escaping @Sendable (Double) -> (Double, Double)) -> Evaluation {
  .block { x, _, count, out, d in
    for p in 0..<count {
      for k in 0..<(d / 2) {
        let r = f(x[0][p, k])
        out[p * d + 2 * k] = r.0
        out[p * d + 2 * k + 1] = r.1
      }
    }
  }
}

@inline(__always) func complexMultiply(_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double) {
  (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

/// KeOps' ComplexDivide: (f * conj(g)) * (1 / |g|^2), in that order.
@inline(__always) func complexDivide(_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double) {
  let s = 1 / (b.0 * b.0 + b.1 * b.1)
  let m = complexMultiply(a, (b.0, -b.1))
  return (s * m.0 - 0 * m.1, s * m.1 + 0 * m.0)
}

// MARK: C emission

/// The C expression pair for entry k of complex argument n (a complex scalar is broadcast).
private func cEntry(_ c: CEmitContext, _ n: Int) -> (String, String) {
  c.argumentDims[n] == 2 ? (c.arg(n, "0"), c.arg(n, "1")) : (c.arg(n, "k"), c.arg(n, "k + 1"))
}

/// An elementwise complex operation: `body` gets the C names ar, ai (and br, bi) and returns the
/// C expressions of the real and imaginary parts.
///
/// The two parts go through `volatile` locals: GCC's SLP vectorizer recognizes the complex
/// multiplication pattern and emits fused multiply-adds for it even under `-ffp-contract=off`
/// (seen with GCC 12 and `-march=native`), which would break the exact kernel's bit-identity with
/// the reference.
func cComplexElementwise(_ body: @escaping @Sendable (_ work: String) -> (String, String)) -> CEmitter {
  { c in
    let w = c.work
    let (ar, ai) = cEntry(c, 0)
    var decl = "\(w) ar = \(ar), ai = \(ai);"
    if c.argumentDims.count > 1 {
      let (br, bi) = cEntry(c, 1)
      decl += " \(w) br = \(br), bi = \(bi);"
    }
    let (re, im) = body(w)
    return "for (int k = 0; k < \(c.outDim); k += 2) { \(decl) volatile \(w) re = \(re), im = \(im); "
      + "\(c.out("k")) = re; \(c.out("k + 1")) = im; }"
  }
}

/// A complex -> real operation: `body` gets ar, ai and returns the C expression.
func cComplexToReal(_ body: @escaping @Sendable (_ work: String) -> String) -> CEmitter {
  { c in
    "for (int k = 0; k < \(c.outDim); k++) { \(c.work) ar = \(c.arg(0, "2 * k")), ai = \(c.arg(0, "2 * k + 1")); "
      + "\(c.out("k")) = \(body(c.work)); }"
  }
}

/// A real -> complex operation: `body` gets a and returns the C expressions of both parts.
func cRealToComplex(_ body: @escaping @Sendable (_ work: String) -> (String, String)) -> CEmitter {
  { c in
    let (re, im) = body(c.work)
    return "for (int k = 0; k < \(c.outDim / 2); k++) { \(c.work) a = \(c.arg(0, "k")); "
      + "\(c.out("2 * k")) = \(re); \(c.out("2 * k + 1")) = \(im); }"
  }
}

let cComplexSum: CEmitter = { c in
  "{ \(c.work) re = 0, im = 0; for (int k = 0; k < \(c.argumentDims[0]); k += 2) { re += \(c.arg(0, "k")); "
    + "im += \(c.arg(0, "k + 1")); } \(c.out("0")) = re; \(c.out("1")) = im; }"
}

let cComplexSumT: CEmitter = { c in
  "for (int k = 0; k < \(c.outDim); k += 2) { \(c.out("k")) = \(c.arg(0, "0")); \(c.out("k + 1")) = \(c.arg(0, "1")); }"
}

/// ComplexRealScal: the real scalar is whichever argument has dimension 1.
let cComplexRealScal: CEmitter = { c in
  let (s, z) = c.argumentDims[0] == 1 ? (0, 1) : (1, 0)
  return "for (int k = 0; k < \(c.outDim); k += 2) { \(c.work) s = \(c.arg(s, "0")); "
    + "\(c.out("k")) = s * \(c.arg(z, "k")); \(c.out("k + 1")) = s * \(c.arg(z, "k + 1")); }"
}

// MARK: Derivative helpers

/// A gradient of a complex argument of dimension `dim` from one of the output's dimension: a
/// complex scalar argument broadcast over the output gets the complex sum.
func complexFitted(_ t: Term, to dim: Int) throws -> Term {
  if t.dim == dim { return t }
  if dim == 2 { return try Term.linear("ComplexSum", [t]) }
  if t.dim == 2 { return try Term.linear("ComplexSumT", [t], params: [dim]) }
  throw Diagnostic("internal error: a complex gradient of dimension \(t.dim) reaches dimension \(dim)", at: nil)
}

func complexProduct(_ a: Term, _ b: Term) throws -> Term { try Term.product("ComplexMult", [a, b]) }
func conj(_ a: Term) throws -> Term { try Term.linear("Conj", [a]) }
func real2Complex(_ a: Term) throws -> Term { try Term.linear("Real2Complex", [a]) }
func imag2Complex(_ a: Term) throws -> Term { try Term.linear("Imag2Complex", [a]) }
func complexReal(_ a: Term) throws -> Term { try Term.linear("ComplexReal", [a]) }
func complexImag(_ a: Term) throws -> Term { try Term.linear("ComplexImag", [a]) }

/// The gradient rule of a product f*g of complex numbers: conj(g) e and conj(f) e.
let complexMultDerivative: Differentiability = .rule { d in
  let e = d.gradient
  return [
    try complexFitted(complexProduct(conj(d.arg(1)), e), to: d.dim(0)),
    try complexFitted(complexProduct(conj(d.arg(0)), e), to: d.dim(1)),
  ]
}
