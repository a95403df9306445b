import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// Array attributes and methods (`a.T`, `a.astype`, `a.reshape`, `a.sum`, ...).
///
/// ks arrays are values: methods that numpy runs in place (`a.sort()`, `a.fill(v)`) are refused
/// with the assignment to write instead.
enum ArrayMethods {
  static let methodNames: Set<String> = ReductionCall.names.union([
    "astype", "item", "reshape", "tolist", "copy", "flatten", "ravel", "transpose", "round", "clip", "dot", "squeeze",
    "nonzero", "argsort", "swapaxes", "sort", "fill", "repeat", "diagonal", "trace", "view", "conj", "conjugate",
  ])

  static func attribute(_ a: NDArray, _ name: String, at range: SourceRange) throws -> Value? {
    switch name {
    case "T", "mT": return .array(Shaping.transpose(a))
    case "itemsize": return .int(a.dtype.itemSize)
    case "nbytes": return .int(a.dtype.itemSize * a.count)
    case "real": return .array(ComplexParts.real(a))
    case "imag": return .array(ComplexParts.imag(a))
    case "flat": return .array(a.withShape([a.count]))
    case "flags": return .object(ArrayFlags(shape: a.shape))
    default:
      return methodNames.contains(name) ? .method(receiver: Value.Box(.array(a)), name: name) : nil
    }
  }

  static func call(_ a: NDArray, _ name: String, _ ctx: inout CallContext) throws -> Value {
    if ReductionCall.names.contains(name) {
      if a.dtype.isComplex && name == "ptp" { try ComplexParts.check(name, ctx) }
      return try ReductionCall.run(name, a, &ctx, first: 0)
    }
    switch name {
    case "conj", "conjugate":
      try ctx.finish(maxPositional: 0)
      return .array(ComplexParts.conj(a))
    case "astype":
      let d = try NumpyFunctions.dtypeArgument(try ctx.required(0, "dtype"), at: ctx.rangeOf(0))
      _ = try ctx.optional(nil, "copy")
      try ctx.finish(maxPositional: 1)
      return .array(a.cast(d))
    case "item":
      var flat = 0
      if ctx.positional.isEmpty {
        guard a.count == 1 else {
          throw ShellError("can only convert an array of size 1 to a Python scalar", at: ctx.range)
        }
      } else if ctx.positional.count == 1 {
        let i = try ctx.int(NumpyOps.pythonIndex(ctx.positional[0]), "index", at: ctx.rangeOf(0))
        let j = i < 0 ? i + a.count : i
        guard j >= 0 && j < a.count else { throw ShellError("index \(i) is out of bounds for size \(a.count)", at: ctx.rangeOf(0)) }
        flat = j
      } else {
        let e = try Indexing.get(a, ctx.positional.map(NumpyOps.pythonIndex), at: ctx.range)
        guard e.rank == 0 else { throw ShellError("incorrect number of indices for array", at: ctx.range) }
        try ctx.finish(maxPositional: Int.max)
        return e.pythonValue(at: 0)
      }
      try ctx.finish(maxPositional: 1)
      return a.pythonValue(at: flat)
    case "tolist":
      try ctx.finish(maxPositional: 0)
      return toList(a)
    case "copy":
      try ctx.finish(maxPositional: 0)
      return .array(a)
    case "flatten", "ravel":
      _ = try ctx.optional(0, "order")
      try ctx.finish(maxPositional: 1)
      return .array(a.withShape([a.count]))
    case "reshape":
      _ = try ctx.optional(nil, "order")
      let args = ctx.positional
      try ctx.finish(maxPositional: Int.max)
      if args.isEmpty { throw ShellError("reshape() takes at least 1 argument (0 given)", at: ctx.range) }
      return .array(a.withShape(try Shaping.reshapeTarget(args, count: a.count, from: a.shape, at: ctx.range)))
    case "transpose":
      let args = ctx.positional
      try ctx.finish(maxPositional: Int.max)
      return .array(Shaping.transpose(a, try Shaping.permutation(args, rank: a.rank, at: ctx.range)))
    case "swapaxes":
      let i = try Reductions.axis(try ctx.integer(0, "axis1", default: 0), rank: a.rank, at: ctx.rangeOf(0))
      let j = try Reductions.axis(try ctx.integer(1, "axis2", default: 0), rank: a.rank, at: ctx.rangeOf(1))
      try ctx.finish(maxPositional: 2)
      return .array(Shaping.swapAxes(a, i, j))
    case "squeeze":
      let axes = try ctx.axes(0, rank: a.rank)
      try ctx.finish(maxPositional: 1)
      return .array(try Shaping.squeeze(a, axes: axes, at: ctx.range))
    case "round":
      let d = try ctx.integer(0, "decimals", default: 0)
      try ctx.finish(maxPositional: 1)
      return .array(try NumpyFunctions.round(a, decimals: d, at: ctx.range))
    case "clip":
      if a.dtype.isComplex {
        throw ShellError("a.clip() does not support complex arrays in ks", type: "TypeError", at: ctx.range)
      }
      let lo = try ctx.present(0, "min"), hi = try ctx.present(1, "max")
      try ctx.finish(maxPositional: 2)
      var shifted = ctx
      shifted.positionalRanges = [ctx.range] + ctx.positionalRanges
      return .array(try NumpyFunctions.clip(Operand(a), lo, hi, shifted))
    case "dot":
      let b = try ctx.array(0, "b")
      try ctx.finish(maxPositional: 1)
      return .array(try Linalg.dot(a, b, at: ctx.range))
    case "nonzero":
      try ctx.finish(maxPositional: 0)
      return .tuple(NumpyFunctions.nonzero(a).map { .array($0) })
    case "argsort":
      var axis: Int? = a.rank == 0 ? nil : a.rank - 1
      if let v = try ctx.optional(0, "axis") {
        if case .none = v { axis = nil } else {
          axis = try Reductions.axis(try ctx.int(NumpyOps.pythonIndex(v), "axis", at: ctx.rangeOf(0, "axis")), rank: a.rank, at: ctx.rangeOf(0, "axis"))
        }
      }
      _ = try ctx.optional(1, "kind")
      try ctx.finish(maxPositional: 2)
      return .array(Sorting.sort(a, axis: axis, indices: true))
    case "diagonal", "trace":
      guard a.rank == 2 else { throw ShellError("ks's \(name) takes a 2-D array", at: ctx.range) }
      let k = try ctx.integer(0, "offset", default: 0)
      try ctx.finish(maxPositional: 1)
      let d = try NumpyFunctions.diag(a, k, at: ctx.range)
      return .array(name == "trace" ? Reductions.sum(d, axes: nil, keepdims: false) : d)
    case "repeat":
      let repeats = try ctx.required(0, "repeats")
      let axis = try ctx.singleAxis(1, rank: a.rank)
      try ctx.finish(maxPositional: 2)
      return .array(try NumpyFunctions.repeatElements(a, repeats, axis: axis, at: ctx.rangeOf(0, "repeats")))
    case "view":
      let d = try ctx.present(0, "dtype")
      _ = try ctx.optional(1, "type")
      try ctx.finish(maxPositional: 2)
      return .array(try NumpyFunctions.view(a, d, at: ctx.rangeOf(0, "dtype")))
    case "sort":
      throw ShellError("a.sort() sorts in place, which ks arrays do not; use a = np.sort(a)", at: ctx.range)
    case "fill":
      throw ShellError("a.fill(v) works in place, which ks arrays do not; use a = np.full_like(a, v) or a[...] = v", at: ctx.range)
    default:
      throw ShellError("'ndarray' object has no method '\(name)' in ks", at: ctx.range)
    }
  }

  /// `a.tolist()`: nested lists of Python numbers.
  static func toList(_ a: NDArray) -> Value {
    if a.rank == 0 { return a.pythonValue(at: 0) }
    let strides = cStrides(a.shape)
    func build(_ axis: Int, _ offset: Int) -> Value {
      if axis == a.rank - 1 { return .list((0..<a.shape[axis]).map { a.pythonValue(at: offset + $0) }) }
      return .list((0..<a.shape[axis]).map { build(axis + 1, offset + $0 * strides[axis]) })
    }
    return build(0, 0)
  }
}
