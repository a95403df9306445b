import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

// PyKeOps' ComplexLazyTensor: complex LazyTensors whose formulas work on (re, im) pairs with
// KeOps' complex operations, real operands promoted by Real2Complex where PyKeOps promotes them.

extension LazyTensorObject {
  /// This LazyTensor as a complex one (`Real2Complex` of a real one).
  var asComplex: LazyTensorObject {
    if isComplex { return self }
    var out = unary("Real2Complex", dim: 2 * ndim)
    out.isComplex = true
    return out
  }

  /// A complex-valued operation of this complex LazyTensor.
  func complexUnary(_ op: String, dim: Int? = nil, complexResult: Bool) -> LazyTensorObject {
    var out = unary(op, dim: dim)
    out.isComplex = complexResult
    return out
  }

  /// `a op b` where at least one operand is complex, as PyKeOps' `ComplexGenericLazyTensor`
  /// builds it: ComplexAdd/ComplexSubtract/ComplexDivide after promoting a real operand,
  /// ComplexRealScal for a real operand of dimension 1 in a product, else ComplexMult.
  func complexBinary(
    _ op: BinaryOperator, _ other: Value, reflected: Bool, at range: SourceRange, in interpreter: Interpreter
  ) throws -> Value {
    switch op {
    case .add where isScalar(other, equalTo: 0): return .object(self)
    case .subtract where isScalar(other, equalTo: 0): return .object(reflected ? unary("Minus") : self)
    case .multiply where isScalar(other, equalTo: 0): return .int(0)
    case .multiply where isScalar(other, equalTo: 1): return .object(self)
    case .multiply where isScalar(other, equalTo: -1): return .object(unary("Minus"))
    case .divide where !reflected && isScalar(other, equalTo: 1): return .object(self)
    case .divide where reflected && isScalar(other, equalTo: 0): return .int(0)
    case .power where !reflected:
      return .object(try complexPower(other, at: range))
    case .add, .subtract, .multiply, .divide:
      break
    default:
      throw ShellError(
        "operator \(op.symbol) is not supported for complex LazyTensors (KeOps has complex +, -, *, / and integer powers)",
        type: "TypeError", at: range)
    }
    let o = try Self.make(other, axis: nil, at: range, in: interpreter)
    let (a, b) = reflected ? (o, self) : (self, o)
    if op == .multiply {
      // PyKeOps: a real factor of dimension 1 scales the complex vector (ComplexRealScal).
      if !a.isComplex && a.ndim == 1 { return .object(try a.complexPair(b, "ComplexRealScal", dim: b.ndim, at: range)) }
      if !b.isComplex && b.ndim == 1 { return .object(try b.complexPair(a, "ComplexRealScal", dim: a.ndim, at: range)) }
    }
    let x = a.asComplex, y = b.asComplex
    guard x.ndim == y.ndim || x.ndim == 2 || y.ndim == 2 else {
      throw ShellError(
        "complex operation \(op.symbol) expects operands with the same number of complex entries, or one complex scalar; received \(x.ndim / 2) and \(y.ndim / 2)",
        type: "ValueError", at: range)
    }
    let name = ["+": "ComplexAdd", "-": "ComplexSubtract", "*": "ComplexMult", "/": "ComplexDivide"][op.symbol]!
    return .object(try x.complexPair(y, name, dim: max(x.ndim, y.ndim), at: range))
  }

  /// `Name(self, other)`, complex, of dimension `dim`.
  func complexPair(_ other: LazyTensorObject, _ name: String, dim: Int, at range: SourceRange) throws -> LazyTensorObject {
    var out = try joined(other, at: range)
    out.formula = .call(name, [formula, other.formula], parameters: [])
    out.ndim = dim
    out.isComplex = true
    return out
  }

  /// `z ** n` for a positive integer n: products of z (KeOps has no complex power operation).
  func complexPower(_ exponent: Value, at range: SourceRange) throws -> LazyTensorObject {
    guard case .int(let n) = exponent, n >= 1 else {
      throw ShellError(
        "complex LazyTensors support only positive integer powers (z ** n), not \(exponent.repr)", type: "ValueError",
        at: range)
    }
    var result: LazyTensorObject?
    var base = self
    var k = n
    while k > 0 {
      if k & 1 == 1 { result = try result.map { try $0.complexPair(base, "ComplexMult", dim: ndim, at: range) } ?? base }
      k >>= 1
      if k > 0 { base = try base.complexPair(base, "ComplexMult", dim: ndim, at: range) }
    }
    return result ?? self
  }

  /// The methods of a ComplexLazyTensor, PyKeOps' `ComplexGenericLazyTensor` ones; nil for a name
  /// that it has but a complex LazyTensor cannot use (refused by `method`).
  func complexMethod(_ name: String) -> (@Sendable (inout CallContext) throws -> Value)? {
    let me = self
    func plain(_ op: String, dim: Int, complexResult: Bool) -> @Sendable (inout CallContext) throws -> Value {
      { ctx in
        try ctx.finish(maxPositional: 0)
        return .object(me.complexUnary(op, dim: dim, complexResult: complexResult))
      }
    }
    switch name {
    case "conj": return plain("Conj", dim: ndim, complexResult: true)
    case "angle": return plain("ComplexAngle", dim: ndim / 2, complexResult: false)
    case "abs", "__abs__": return plain("ComplexAbs", dim: ndim / 2, complexResult: false)
    case "exp": return plain("ComplexExp", dim: ndim, complexResult: true)
    case "sum", "sum_reduction":
      let reductionOnly = name == "sum_reduction"
      return { ctx in
        let axis = try Self.axis(&ctx, positionalIndex: 0, default: reductionOnly ? nil : -1)
        if axis == -1 || axis == me.fullRank - 1 {
          try ctx.finish(maxPositional: 1)
          return .object(me.complexUnary("ComplexSum", dim: 2, complexResult: true))
        }
        return try me.reduce("Sum", axis: axis, ctx: &ctx)
      }
    case "t":
      return { ctx in
        try ctx.finish(maxPositional: 0)
        return .object(me.transposed)
      }
    default:
      return nil
    }
  }

  /// The error for a method that a ComplexLazyTensor does not have in ks.
  func complexMethodError(_ name: String, at range: SourceRange) -> ShellError {
    if ["real2complex", "imag2complex", "exp1j"].contains(name) {
      return ShellError("\(name) cannot be applied to a complex LazyTensor.", type: "ValueError", at: range)
    }
    if reductionMethod(name) != nil {
      return ShellError(
        "the \(name) reduction is not available for complex LazyTensors (only sum); reduce .real, .imag or abs(...) instead",
        type: "ValueError", at: range)
    }
    return ShellError(
      "'\(name)' is not available for complex LazyTensors (they have real, imag, conj(), angle(), abs, exp(), sum() and +, -, *, /)",
      type: "AttributeError", at: range)
  }
}
