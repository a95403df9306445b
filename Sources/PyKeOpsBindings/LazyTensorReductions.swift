import ArrayIO
import KSDiagnostics
import KernelOperations
import ShellRuntime
import ShellSyntax

// LazyTensor reductions and solves: each builds the Genred or KernelSolve that PyKeOps would
// build from the same formula, and runs it on the LazyTensor's arrays.

extension LazyTensorObject {
  /// The keywords a reduction passes on to Genred's constructor.
  static let genredOptionKeywords = ["dtype_acc", "use_double_acc", "sum_scheme", "enable_chunks", "use_fast_math"]

  /// `x.sum(axis)`, `x.argKmin(K, axis)`, ...: the reduction methods, by name.
  func reductionMethod(_ name: String) -> (@Sendable (inout CallContext) throws -> Value)? {
    let me = self
    let base = name.hasSuffix("_reduction") ? String(name.dropLast("_reduction".count)) : name
    // sum/min/max/argmin/argmax: over the vector dimension by default, over i or j with axis 0/1.
    let vectorOrReduction: [String: String] = ["sum": "Sum", "min": "Min", "max": "Max", "argmin": "ArgMin", "argmax": "ArgMax"]
    if let op = vectorOrReduction[base] {
      let reductionOnly = name != base
      return { ctx in
        let axis = try Self.axis(&ctx, positionalIndex: 0, default: reductionOnly ? nil : -1)
        if axis == -1 || axis == me.fullRank - 1 {
          try ctx.finish(maxPositional: 1)
          return .object(me.unary(op, dim: 1))
        }
        return try me.reduce(op, axis: axis, ctx: &ctx)
      }
    }
    let plain: [String: String] = ["min_argmin": "Min_ArgMin", "max_argmax": "Max_ArgMax"]
    if let op = plain[base] {
      return { ctx in try me.reduce(op, axis: try Self.axis(&ctx, positionalIndex: 0, default: nil), ctx: &ctx) }
    }
    let kReductions: [String: String] = ["Kmin": "KMin", "argKmin": "ArgKMin", "Kmin_argKmin": "KMin_ArgKMin"]
    if let op = kReductions[base] {
      return { ctx in
        let k = try ctx.int(try ctx.required(0, "K"), "K", at: ctx.rangeOf(0, "K"))
        let axis = try Self.axis(&ctx, positionalIndex: 1, default: nil)
        return try me.reduce(op, axis: axis, optArg: k, ctx: &ctx)
      }
    }
    switch base {
    case "logsumexp":
      return { ctx in
        let axis = try Self.axis(&ctx, positionalIndex: 0, default: nil)
        let weight = try ctx.optional(nil, "weight").flatMap { $0.isNone ? nil : $0 }
        return try me.reduce("LogSumExp", axis: axis, weight: weight, ctx: &ctx)
      }
    case "sumsoftmaxweight":
      return { ctx in
        let weight = try ctx.required(0, "weight")
        let axis = try Self.axis(&ctx, positionalIndex: 1, default: nil)
        return try me.reduce("SumSoftMaxWeight", axis: axis, weight: weight, ctx: &ctx)
      }
    default:
      return nil
    }
  }

  /// `axis=` or `dim=` (or the argument at `positionalIndex`), or `default` when none is given.
  static func axis(_ ctx: inout CallContext, positionalIndex: Int, default fallback: Int?) throws -> Int {
    let byAxis = try ctx.optional(positionalIndex, "axis").flatMap { $0.isNone ? nil : $0 }
    let byDim = try ctx.optional(nil, "dim").flatMap { $0.isNone ? nil : $0 }
    if let v = byAxis ?? byDim { return try ctx.int(v, "axis", at: ctx.rangeOf(positionalIndex, byAxis != nil ? "axis" : "dim")) }
    guard let fallback else {
      throw ShellError(
        "\(ctx.name)() needs axis=0 (reduce over i) or axis=1 (reduce over j)", type: "ValueError", at: ctx.range)
    }
    return fallback
  }

  /// Runs reduction `op` over i (`axis` 0) or j (1): the Genred of the formula, on the arrays.
  /// With symbolic variables, or `call=False`, gives a callable instead.
  func reduce(_ op: String, axis fullAxis: Int, optArg: Int? = nil, weight: Value? = nil, ctx: inout CallContext) throws -> Value {
    let axis = fullAxis - batchdims.count
    guard axis == 0 || axis == 1 else {
      let b = batchdims.count
      throw ShellError(
        "reductions must be called with 'axis' (or 'dim') equal to \(b) (over i) or \(b + 1) (over j)\(b > 0 ? ", after the \(b) batch dimension\(b == 1 ? "" : "s")" : ""); got \(fullAxis)",
        type: "ValueError", at: ctx.rangeOf(keyword: "axis"))
    }
    if isComplex && op != "Sum" {
      throw ShellError(
        "the \(op) reduction is not available for complex LazyTensors (only Sum); reduce .real, .imag or abs instead",
        type: "ValueError", at: ctx.range)
    }
    var whole = self
    var formula2: LazyFormula?
    if let weight {
      let w = try Self.make(weight, axis: nil, at: ctx.range, in: ctx.interpreter)
      whole = try joined(w, at: ctx.range)
      formula2 = w.formula
    }
    var options = GenredOptions()
    options.reductionOp = op
    options.axis = axis
    options.optArg = optArg
    try KeOpsBuiltins.readOptions(&ctx, &options)
    let call = try ctx.optional(nil, "call").map { try ctx.bool($0, "call", at: ctx.rangeOf(keyword: "call")) } ?? true
    // K.backend / K.ranges apply unless the call names its own.
    for (keyword, value) in [("backend", whole.backend), ("ranges", whole.ranges)] {
      if let value, !ctx.keywords.contains(where: { $0.name == keyword }) { ctx.keywords.append((keyword, value, ctx.range)) }
    }
    let settings = try KeOpsBuiltins.callSettings(&ctx)
    try ctx.finish(maxPositional: ctx.positional.count)
    let numbers = whole.numbering()
    let text = whole.formula.text { numbers[ObjectIdentifier($0)] ?? -1 }
    options.formula2 = formula2.map { f in f.text { numbers[ObjectIdentifier($0)] ?? -1 } }
    let genred: Genred
    do {
      genred = try Genred(formula: text, aliases: [], options: options)
    } catch {
      throw ShellError("LazyTensor reduction \(op): \(error.description)", at: ctx.range)
    }
    let reduction = LazyReduction(
      genred: genred, lazy: whole, numbers: numbers, settings: settings, label: "\(op) reduction of \(text)")
    if !call || whole.distinctVariables.contains(where: { $0.symbolicIndex != nil }) {
      return .object(reduction)
    }
    return try KeOpsBuiltins.deliver(try reduction.run(symbolic: [], ctx), settings, &ctx)
  }

  /// A reduction's result as PyKeOps returns it: complex entries for a ComplexLazyTensor.
  static func viewed(_ result: Value, complex: Bool) -> Value {
    guard complex, case .array(let a) = result else { return result }
    return .array(complexView(a))
  }

  /// `K.solve(b, alpha=..., eps=...)`: solves `sum_j K_ij v_j = b_i` (or `(alpha Id + K) v = b`)
  /// by KernelSolve's conjugate gradient, with `K * v` as the operator.
  func solve(_ ctx: inout CallContext) throws -> Value {
    let bValue = try ctx.required(0, "other")
    if let v = try ctx.optional(nil, "var"), !v.isNone {
      throw ShellError("solve(var=...) is not supported by ks yet: the unknown is always a new variable", at: ctx.rangeOf(keyword: "var"))
    }
    var options = GenredOptions()
    options.reductionOp = "Sum"
    options.axis = 1
    try KeOpsBuiltins.readOptions(&ctx, &options)
    let solveSettings = try KeOpsBuiltins.solveSettings(&ctx)
    for (keyword, value) in [("backend", backend), ("ranges", ranges)] {
      if let value, !ctx.keywords.contains(where: { $0.name == keyword }) { ctx.keywords.append((keyword, value, ctx.range)) }
    }
    let settings = try KeOpsBuiltins.callSettings(&ctx)
    _ = try ctx.optional(nil, "call")
    try ctx.finish(maxPositional: 1)
    // b: an array, or a LazyTensor made from one (`K.solve(Vi(b))`).
    let bArray: NDArray
    switch bValue {
    case .array(let a): bArray = a
    case .object(let lt as LazyTensorObject):
      guard case .variable(let v) = lt.formula, case .array(let a) = v.source, v.category == 0 else {
        throw ShellError("solve needs b as an array or as Vi(array)", type: "TypeError", at: ctx.rangeOf(0))
      }
      bArray = a
    default:
      throw ShellError("solve needs an array right-hand side b, not \(bValue.typeName)", type: "TypeError", at: ctx.rangeOf(0))
    }
    let b = try Self.fromArray(bArray.rank == 1 ? bArray.reshaped([bArray.count, 1]) : bArray, axis: 0, at: ctx.rangeOf(0))
    guard ndim == 1 else {
      throw ShellError(
        "solve needs a LazyTensor K with trailing dimension 1 (a kernel matrix); here K.shape = \(tupleShape(shape))",
        type: "ValueError", at: ctx.range)
    }
    if let m = ni, let n = b.ni, m != n {
      throw ShellError("solve: K has \(m) rows but b has \(n)", type: "ValueError", at: ctx.rangeOf(0))
    }
    // The unknown: a j-variable of b's dimension, after every symbolic variable of K.
    let index = (distinctVariables.compactMap(\.symbolicIndex).max() ?? -1) + 1
    let unknown = LazyVariable(.symbolic(index: index), dim: b.ndim, category: 1)
    var system = try joined(b, at: ctx.range)
    system.formula = .infix("*", formula, .variable(unknown))
    system.variables = [unknown] + variables
    system.ndim = b.ndim
    let numbers = system.numbering()
    let text = system.formula.text { numbers[ObjectIdentifier($0)] ?? -1 }
    let solver: KernelSolve
    do {
      solver = try KernelSolve(
        formula: text, aliases: [], varinvalias: "Var(\(index),\(b.ndim),1)", axis: 1, options: options)
    } catch {
      throw ShellError("LazyTensor solve: \(error.description)", at: ctx.range)
    }
    var arrays = try system.arrays(numbers, at: ctx.range)
    arrays[index] = bArray.rank == 1 ? bArray.reshaped([bArray.count, 1]) : bArray
    let solution = try KeOpsBuiltins.solve(
      solver, name: "solve of \(text)", arrays.map { $0 ?? NDArray(shape: [0], float64: []) }, settings, solveSettings, ctx)
    if bArray.rank == 1, case .array(let a) = solution { return .array(a.reshaped([a.count])) }
    return solution
  }

  /// The arrays bound to each `Var` number (nil for symbolic slots), Python numbers converted to
  /// the formula's dtype.
  func arrays(_ numbers: [ObjectIdentifier: Int], dtype given: DType? = nil, at range: SourceRange) throws -> [NDArray?] {
    let dtype: DType
    if let d = self.dtype ?? given {
      dtype = d
    } else {
      throw ShellError(
        "this LazyTensor holds no array to take a dtype from (only Python numbers); build it from a numpy array",
        type: "ValueError", at: range)
    }
    var out = [NDArray?](repeating: nil, count: (numbers.values.max() ?? -1) + 1)
    for v in distinctVariables {
      guard let k = numbers[ObjectIdentifier(v)] else { continue }
      switch v.source {
      case .array(let a): out[k] = a
      case .numbers(let xs): out[k] = NDArray(shape: [xs.count], doubles: xs, dtype: dtype)
      case .symbolic: break
      }
    }
    return out
  }
}

/// A reduced LazyTensor that waits for its symbolic variables (or was made with `call=False`):
/// calling it with arrays runs the reduction.
public struct LazyReduction: ShellObject {
  let genred: Genred
  let lazy: LazyTensorObject
  let numbers: [ObjectIdentifier: Int]
  let settings: KeOpsBuiltins.CallSettings
  let label: String

  public var typeName: String { "LazyTensor" }

  public func repr(with options: PrintOptions) -> String {
    lazy.repr(with: options) + "\n    reduction: \(genred.reductionOp) (axis=\(genred.options.axis))"
      + (genred.options.formula2.map { "\n        formula2: \($0)" } ?? "")
      + (genred.options.optArg.map { "\n        opt_arg: \($0)" } ?? "")
  }

  public func call(_ ctx: inout CallContext) throws -> Value {
    var settings = self.settings
    if ctx.keywords.contains(where: { KeOpsBuiltins.CallSettings.keywords.contains($0.name) }) {
      settings = try KeOpsBuiltins.callSettings(&ctx)
    }
    var symbolic: [NDArray] = []
    for (k, v) in ctx.positional.enumerated() {
      guard case .array(let a) = v else {
        throw ShellError("expected an array for symbolic variable \(k), got \(v.typeName)", type: "TypeError", at: ctx.rangeOf(k))
      }
      symbolic.append(a)
    }
    try ctx.finish(maxPositional: ctx.positional.count)
    return try KeOpsBuiltins.deliver(try run(symbolic: symbolic, settings: settings, ctx), settings, &ctx)
  }

  /// Runs the reduction, `symbolic[k]` bound to `Var(k)` (the settings it was made with, unless
  /// the call gives others).
  func run(symbolic: [NDArray], settings: KeOpsBuiltins.CallSettings? = nil, _ ctx: CallContext) throws -> Value {
    // Without arrays of its own, the reduction takes its dtype from the first array it is given.
    var arrays = try lazy.arrays(numbers, dtype: symbolic.first?.dtype, at: ctx.range)
    let slots = lazy.distinctVariables.compactMap(\.symbolicIndex)
    guard symbolic.count == Set(slots).count else {
      throw ShellError(
        "this reduction takes \(Set(slots).count) array\(Set(slots).count == 1 ? "" : "s") for its symbolic variables, got \(symbolic.count)",
        type: "TypeError", at: ctx.range)
    }
    for (k, a) in symbolic.enumerated() where k < arrays.count { arrays[k] = a }
    let filled = arrays.compactMap { $0 }
    guard filled.count == arrays.count else {
      throw ShellError("symbolic variables must be numbered 0, 1, ... without gaps", type: "ValueError", at: ctx.range)
    }
    return LazyTensorObject.viewed(
      try KeOpsBuiltins.reduce(genred, name: label, filled, settings ?? self.settings, ctx), complex: lazy.isComplex)
  }
}
