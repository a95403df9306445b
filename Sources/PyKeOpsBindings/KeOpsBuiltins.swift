import ArrayIO
import FormulaLanguage
import KSDiagnostics
import KernelEngines
import KernelOperations
import NumpySubset
import ShellRuntime
import ShellSyntax

/// `Genred(...)`, `KernelSolve(...)` and calls of the objects they make.
public enum KeOpsBuiltins {
  public static let genredKeywords = [
    "reduction_op", "axis", "dtype", "opt_arg", "formula2", "cuda_type", "dtype_acc", "use_double_acc",
    "sum_scheme", "enable_chunks", "rec_multVar_highdim", "use_fast_math",
  ]

  /// Reads the accuracy and compatibility keywords shared by Genred and KernelSolve.
  static func readOptions(_ ctx: inout CallContext, _ o: inout GenredOptions) throws(ShellError) {
    if let v = try ctx.optional(nil, "dtype") {
      switch v {
      case .string(let s): o.dtype = s.text
      case .dtype(let d): o.dtype = d.rawValue
      case .none: break
      default: throw ShellError("dtype must be a string such as \"float32\"", at: ctx.rangeOf(keyword: "dtype"))
      }
    }
    if let v = try ctx.optional(nil, "cuda_type") { _ = v }
    if let v = try ctx.optional(nil, "opt_arg"), !isNone(v) { o.optArg = try ctx.int(v, "opt_arg", at: ctx.rangeOf(keyword: "opt_arg")) }
    if let v = try ctx.optional(nil, "dtype_acc") { o.dtypeAcc = try ctx.string(v, "dtype_acc", at: ctx.rangeOf(keyword: "dtype_acc")).text }
    if let v = try ctx.optional(nil, "use_double_acc") { o.useDoubleAcc = try ctx.bool(v, "use_double_acc", at: ctx.rangeOf(keyword: "use_double_acc")) }
    if let v = try ctx.optional(nil, "sum_scheme") { o.sumScheme = try ctx.string(v, "sum_scheme", at: ctx.rangeOf(keyword: "sum_scheme")).text }
    if let v = try ctx.optional(nil, "enable_chunks") { o.enableChunks = try ctx.bool(v, "enable_chunks", at: ctx.rangeOf(keyword: "enable_chunks")) }
    if let v = try ctx.optional(nil, "rec_multVar_highdim"), !isNone(v) { o.recMultVarHighdim = try ctx.bool(v, "rec_multVar_highdim", at: ctx.rangeOf(keyword: "rec_multVar_highdim")) }
    if let v = try ctx.optional(nil, "use_fast_math") { o.useFastMath = try ctx.bool(v, "use_fast_math", at: ctx.rangeOf(keyword: "use_fast_math")) }
  }

  static func isNone(_ v: Value) -> Bool {
    if case .none = v { return true }
    return false
  }

  /// The formula string argument, with where it was written.
  struct Strings {
    var formula: StringValue
    var formulaRange: SourceRange
    var formula2: StringValue?
    var formula2Range: SourceRange?
    var aliases: [StringValue]
    var aliasRanges: [SourceRange]
  }

  /// Alias strings from an explicit list, or from the session's `alias` declarations.
  static func aliases(
    _ v: Value?, range: SourceRange, formulas: [String], ctx: CallContext
  ) throws(ShellError) -> ([StringValue], [SourceRange]) {
    if let v {
      switch v {
      case .list(let items), .tuple(let items):
        var out: [StringValue] = []
        for item in items {
          guard case .string(let s) = item else {
            throw ShellError("aliases must be strings like \"x = Vi(3)\", not \(item.typeName)", at: range)
          }
          out.append(s)
        }
        return (out, [SourceRange](repeating: range, count: out.count))
      case .string(let s):
        return ([s], [range])
      default:
        throw ShellError("aliases must be a list of strings like [\"x = Vi(3)\", \"y = Vj(3)\"]", at: range)
      }
    }
    // Declared aliases that the formulas name, in declaration order.
    let declared = ctx.interpreter.state.aliases
    var used: [StringValue] = []
    for (name, definition) in declared where formulas.contains(where: { identifiers(in: $0).contains(name) }) {
      used.append(StringValue("\(name) = \(definition)"))
    }
    if used.isEmpty {
      throw ShellError(
        "no aliases: pass a list such as [\"x = Vi(3)\", \"y = Vj(3)\"], or declare them first with: alias x = Vi(3), y = Vj(3)",
        at: ctx.range)
    }
    return (used, [SourceRange](repeating: ctx.range, count: used.count))
  }

  static func identifiers(in text: String) -> Set<String> {
    var out: Set<String> = []
    var current = ""
    for c in text {
      if c.isLetter || c == "_" || (c.isNumber && !current.isEmpty) {
        current.append(c)
      } else {
        if !current.isEmpty { out.insert(current) }
        current = ""
      }
    }
    if !current.isEmpty { out.insert(current) }
    return out
  }

  static func makeGenred(_ ctx: inout CallContext) throws(ShellError) -> Value {
    let formulaValue = try ctx.required(0, "formula")
    let formulaRange = ctx.rangeOf(0, "formula")
    let formula = try ctx.string(formulaValue, "the formula", at: formulaRange)
    var o = GenredOptions()
    if let v = try ctx.optional(2, "reduction_op") { o.reductionOp = try ctx.string(v, "reduction_op", at: ctx.rangeOf(2, "reduction_op")).text }
    if let v = try ctx.optional(3, "axis") { o.axis = try ctx.int(v, "axis", at: ctx.rangeOf(3, "axis")) }
    var formula2: StringValue?
    if let v = try ctx.optional(nil, "formula2"), !isNone(v) {
      formula2 = try ctx.string(v, "formula2", at: ctx.rangeOf(keyword: "formula2"))
      o.formula2 = formula2?.text
    }
    try readOptions(&ctx, &o)
    let aliasValue = try ctx.optional(1, "aliases")
    let aliasRange = ctx.rangeOf(1, "aliases")
    try ctx.finish(maxPositional: 4)
    let (aliases, aliasRanges) = try Self.aliases(
      aliasValue, range: aliasRange, formulas: [formula.text] + (formula2.map { [$0.text] } ?? []), ctx: ctx)
    let strings = Strings(
      formula: formula, formulaRange: formulaRange, formula2: formula2,
      formula2Range: formula2 == nil ? nil : ctx.rangeOf(keyword: "formula2"), aliases: aliases, aliasRanges: aliasRanges)
    do {
      let g = try Genred(formula: formula.text, aliases: aliases.map(\.text), options: o)
      return .object(GenredObject(genred: g, name: formula.text))
    } catch {
      throw place(error, strings, ctx)
    }
  }

  static func makeKernelSolve(_ ctx: inout CallContext) throws(ShellError) -> Value {
    let formulaValue = try ctx.required(0, "formula")
    let formulaRange = ctx.rangeOf(0, "formula")
    let formula = try ctx.string(formulaValue, "the formula", at: formulaRange)
    // KernelSolve(formula, aliases, varinvalias, axis=0, ...) or, with declared aliases,
    // KernelSolve(formula, varinvalias, axis=...).
    var aliasValue: Value?
    var aliasRange = ctx.range
    var varinv: StringValue
    var varinvRange: SourceRange
    if ctx.positional.count >= 2, case .string = ctx.positional[1], ctx.keywords.first(where: { $0.name == "varinvalias" }) == nil,
      ctx.positional.count < 3
    {
      varinv = try ctx.string(ctx.positional[1], "varinvalias", at: ctx.rangeOf(1))
      varinvRange = ctx.rangeOf(1)
      ctx.positional.remove(at: 1)
      ctx.positionalRanges.remove(at: 1)
      ctx.positional.insert(.none, at: 1)
      ctx.positionalRanges.insert(ctx.range, at: 1)
      ctx.positional.insert(.str(varinv.text), at: 2)
      ctx.positionalRanges.insert(varinvRange, at: 2)
      _ = try ctx.optional(1, "aliases")
    } else {
      aliasValue = try ctx.optional(1, "aliases")
      aliasRange = ctx.rangeOf(1, "aliases")
    }
    let varinvValue = try ctx.required(2, "varinvalias")
    varinvRange = ctx.rangeOf(2, "varinvalias")
    varinv = try ctx.string(varinvValue, "varinvalias", at: varinvRange)
    if let a = aliasValue, isNone(a) { aliasValue = nil }
    var o = GenredOptions()
    var axis = 0
    if let v = try ctx.optional(3, "axis") { axis = try ctx.int(v, "axis", at: ctx.rangeOf(3, "axis")) }
    try readOptions(&ctx, &o)
    try ctx.finish(maxPositional: 4)
    let (aliases, aliasRanges) = try Self.aliases(aliasValue, range: aliasRange, formulas: [formula.text], ctx: ctx)
    let strings = Strings(
      formula: formula, formulaRange: formulaRange, formula2: nil, formula2Range: nil, aliases: aliases,
      aliasRanges: aliasRanges)
    do {
      let k = try KernelSolve(formula: formula.text, aliases: aliases.map(\.text), varinvalias: varinv.text, axis: axis, options: o)
      return .object(KernelSolveObject(solver: k, name: formula.text))
    } catch {
      if case .option(let name, let message) = error, name == "varinvalias" {
        throw ShellError(message, at: varinvRange)
      }
      throw place(error, strings, ctx)
    }
  }

  /// Places an OperationError: formula errors inside the string where it was written.
  static func place(_ error: OperationError, _ s: Strings, _ ctx: CallContext) -> ShellError {
    switch error {
    case .formula(let fe):
      let (value, range): (StringValue, SourceRange)
      switch fe.origin {
      case .formula: (value, range) = (s.formula, s.formulaRange)
      case .formula2: (value, range) = (s.formula2 ?? s.formula, s.formula2Range ?? s.formulaRange)
      case .alias(let k): (value, range) = (s.aliases[k], s.aliasRanges[k])
      }
      var d = fe.diagnostic
      if let origin = value.origin, d.range != nil {
        return ShellError(located: [LocatedDiagnostic(d.shifted(by: origin.offset), in: origin.source)])
      }
      if d.range == nil {
        return ShellError(d.message, at: range, notes: d.notes)
      }
      // The string was computed: show it on its own, and where it was used.
      d.notes.append("in the string passed at this call")
      var outer = ShellError(d.message, at: range, notes: [])
      outer.located = [
        LocatedDiagnostic(Diagnostic(d.message, at: range), in: ctx.interpreter.currentSource),
        LocatedDiagnostic(d, in: SourceText(name: "<formula>", text: value.text)),
      ]
      return outer
    case .option(let name, let message):
      return ShellError(message, at: ctx.rangeOf(keyword: name))
    case .argument(let index, let message):
      return ShellError(message, at: ctx.rangeOf(index))
    case .call(let message):
      return ShellError(message, at: ctx.range)
    case .engine(let e):
      if e == .cancelled { return ShellError.interrupted(at: ctx.range) }
      return ShellError(e.description, at: ctx.range)
    }
  }

  /// The arrays of a call: positional, or by alias name (`K(x=X, y=Y, b=B)`).
  static func arrays(_ ctx: inout CallContext, names: [String?], skip: Set<String>) throws(ShellError) -> [NDArray] {
    var values = ctx.positional
    var ranges = ctx.positionalRanges
    let byName = ctx.keywords.filter { kw in !skip.contains(kw.name) }
    if let stray = byName.first(where: { kw in !names.contains(kw.name) }) {
      throw unexpectedKeyword(stray.name, names: names, options: skip, at: stray.range)
    }
    if !byName.isEmpty {
      guard values.isEmpty else {
        throw ShellError("pass the arrays either all by position or all by alias name", at: byName[0].range)
      }
      for (k, n) in names.enumerated() {
        guard let n, let kw = byName.first(where: { $0.name == n }) else {
          let label = names[k] ?? "argument \(k)"
          throw ShellError("missing array for '\(label)'", at: ctx.range)
        }
        values.append(kw.value)
        ranges.append(kw.range)
        _ = try ctx.optional(nil, n)
      }
    }
    var out: [NDArray] = []
    for (k, v) in values.enumerated() {
      switch v {
      case .array(let a): out.append(a)
      case .int(let i): out.append(NDArray(shape: [], float64: [Double(i)]))
      case .float(let x): out.append(NDArray(shape: [], float64: [x]))
      case .list, .tuple:
        out.append(try ctx.interpreter.arrays(at: ranges[k]).array(from: v, at: ranges[k]))
      default:
        throw ShellError("expected an array, got \(v.typeName)", at: ranges[k])
      }
    }
    ctx.positional = values
    ctx.positionalRanges = ranges
    return out
  }

  static func deviceID(_ ctx: inout CallContext) throws(ShellError) -> Int {
    guard let v = try ctx.optional(nil, "device_id") else { return -1 }
    return try ctx.int(v, "device_id", at: ctx.rangeOf(keyword: "device_id"))
  }

  /// `ranges=(ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i)`: a tuple or list
  /// of six int64 arrays (or integer lists), or None. Errors point at the keyword.
  static func blockRanges(_ ctx: inout CallContext) throws(ShellError) -> [NDArray]? {
    guard let v = try ctx.optional(nil, "ranges"), !isNone(v) else { return nil }
    let at = ctx.rangeOf(keyword: "ranges")
    let items: [Value]
    switch v {
    case .tuple(let t): items = t
    case .list(let l): items = l
    default:
      throw ShellError(
        "ranges must be a tuple of 6 int64 arrays (ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i), got \(v.typeName)",
        at: at)
    }
    guard items.count == 6 else {
      throw ShellError(
        "ranges must be a tuple of 6 int64 arrays (ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i), got \(items.count) item\(items.count == 1 ? "" : "s")",
        at: at)
    }
    let names = ["ranges_i", "slices_i", "redranges_j", "ranges_j", "slices_j", "redranges_i"]
    var out: [NDArray] = []
    for (k, item) in items.enumerated() {
      switch item {
      case .array(let a): out.append(a)
      case .list, .tuple: out.append(try ctx.interpreter.arrays(at: at).array(from: item, at: at))
      default: throw ShellError("ranges: \(names[k]) must be an int64 array, got \(item.typeName)", at: at)
      }
    }
    return out
  }

  static func backend(_ ctx: inout CallContext) throws(ShellError) -> String {
    if let v = try ctx.optional(nil, "backend") {
      return try ctx.string(v, "backend", at: ctx.rangeOf(keyword: "backend")).text
    }
    return ctx.interpreter.state.engine
  }

  /// The keywords of a reduction call that are not arrays: where and how to run it.
  struct CallSettings {
    var backend: String
    var deviceID: Int
    var ranges: [NDArray]?
    /// `out=`: the array the result goes into (same shape and dtype).
    var out: NDArray?
    static let keywords: Set<String> = ["backend", "device_id", "ranges", "out"]
  }

  /// Reads `backend=`, `device_id=`, `ranges=`, `out=`.
  static func callSettings(_ ctx: inout CallContext) throws(ShellError) -> CallSettings {
    let backend = try backend(&ctx)
    let device = try deviceID(&ctx)
    let ranges = try blockRanges(&ctx)
    var out: NDArray?
    if let v = try ctx.optional(nil, "out"), !isNone(v) {
      guard case .array(let a) = v else {
        throw ShellError("out= must be an array, not \(v.typeName)", type: "TypeError", at: ctx.rangeOf(keyword: "out"))
      }
      out = a
    }
    return CallSettings(backend: backend, deviceID: device, ranges: ranges, out: out)
  }

  /// Checks a result against `out=` (PyKeOps writes into it: same shape and dtype) and asks the
  /// interpreter to store it there.
  static func deliver(_ result: Value, _ s: CallSettings, _ ctx: inout CallContext) throws(ShellError) -> Value {
    guard let out = s.out else { return result }
    guard case .array(let r) = result else {
      throw ShellError("out= is only for reductions with one output array", type: "ValueError", at: ctx.rangeOf(keyword: "out"))
    }
    guard r.shape == out.shape, r.dtype == out.dtype else {
      throw ShellError(
        "out= has shape \(tupleShape(out.shape)) and dtype \(out.dtype.rawValue), but the result has shape \(tupleShape(r.shape)) and dtype \(r.dtype.rawValue)",
        type: "ValueError", at: ctx.rangeOf(keyword: "out"))
    }
    ctx.writeBack.append((keyword: "out", value: result))
    return result
  }

  /// The solver keywords `alpha=`, `eps=`, `maxiter=`, and ks' `precond=`, `method=`,
  /// `centres=`, `centres_by=`, `seed=`, `mixed_precision=` (docs/solvers.md).
  struct SolveSettings {
    var alpha = 1e-10
    var eps = 1e-6
    var maxiter: Int?
    var solver = SolverOptions()
    static let keywords: Set<String> = ["alpha", "eps", "maxiter", "precond", "method", "centres", "centres_by", "seed", "mixed_precision"]
  }

  static func solveSettings(_ ctx: inout CallContext) throws(ShellError) -> SolveSettings {
    var s = SolveSettings()
    if let v = try ctx.optional(nil, "alpha") { s.alpha = try ctx.double(v, "alpha", at: ctx.rangeOf(keyword: "alpha")) }
    if let v = try ctx.optional(nil, "eps") { s.eps = try ctx.double(v, "eps", at: ctx.rangeOf(keyword: "eps")) }
    if let v = try ctx.optional(nil, "maxiter"), !isNone(v) { s.maxiter = try ctx.int(v, "maxiter", at: ctx.rangeOf(keyword: "maxiter")) }
    func option<T>(_ name: String, _ parse: (String) throws(OperationError) -> T, _ v: Value) throws(ShellError) -> T {
      let r = ctx.rangeOf(keyword: name)
      do { return try parse(try ctx.string(v, name, at: r).text) } catch let e as OperationError {
        if case .option(_, let m) = e { throw ShellError(m, type: "ValueError", at: r) }
        throw ShellError(e.description, at: r)
      } catch { throw error as! ShellError }
    }
    if let v = try ctx.optional(nil, "precond") {
      s.solver.preconditioner = isNone(v) ? .none : try option("precond", { (t: String) throws(OperationError) in try SolverOptions.preconditioner(named: t) }, v)
    }
    if let v = try ctx.optional(nil, "method") {
      s.solver.method = try option("method", { (t: String) throws(OperationError) in try SolverOptions.method(named: t) }, v)
    }
    if let v = try ctx.optional(nil, "centres"), !isNone(v) {
      let n = try ctx.int(v, "centres", at: ctx.rangeOf(keyword: "centres"))
      guard n >= 1 else { throw ShellError("centres must be at least 1, not \(n)", type: "ValueError", at: ctx.rangeOf(keyword: "centres")) }
      s.solver.centres = n
    }
    if let v = try ctx.optional(nil, "centres_by") {
      s.solver.centreSelection = try option("centres_by", { (t: String) throws(OperationError) in try SolverOptions.centreSelection(named: t) }, v)
    }
    if let v = try ctx.optional(nil, "seed"), !isNone(v) {
      s.solver.seed = UInt64(truncatingIfNeeded: try ctx.int(v, "seed", at: ctx.rangeOf(keyword: "seed")))
    }
    if let v = try ctx.optional(nil, "mixed_precision"), !isNone(v) {
      s.solver.mixedPrecision = try ctx.bool(v, "mixed_precision", at: ctx.rangeOf(keyword: "mixed_precision"))
    }
    return s
  }

  static func callGenred(_ g: GenredObject, _ ctx: inout CallContext) throws(ShellError) -> Value {
    let settings = try callSettings(&ctx)
    let arrays = try arrays(&ctx, names: g.genred.reduced.argumentNames, skip: CallSettings.keywords)
    try ctx.finish(maxPositional: arrays.count)
    return try deliver(try reduce(g.genred, name: g.name, arrays, settings, ctx), settings, &ctx)
  }

  /// Runs a Genred on `arrays`: an array, or a tuple of two for the reductions that give two.
  static func reduce(_ g: Genred, name: String, _ arrays: [NDArray], _ s: CallSettings, _ ctx: CallContext) throws(ShellError)
    -> Value
  {
    if let batch = try BatchPlan(g.reduced.arguments, arrays, at: ctx.range) {
      return try batch.run(arrays) { (slice: [NDArray]) throws(ShellError) in try reduce(g, name: name, slice, s, ctx) }
    }
    do {
      switch try g.call(arrays, backend: s.backend, deviceId: s.deviceID, ranges: s.ranges, cancel: ctx.interpreter.cancel) {
      case .single(let a): return .array(a)
      case .pair(let a, let b): return .tuple([.array(a), .array(b)])
      }
    } catch {
      if case .option(let option, let m) = error, option == "backend" { throw ShellError(m, at: ctx.rangeOf(keyword: "backend")) }
      throw place(error, Strings(formula: StringValue(name), formulaRange: ctx.range, aliases: [], aliasRanges: []), ctx)
    }
  }

  static func callKernelSolve(_ k: KernelSolveObject, _ ctx: inout CallContext) throws(ShellError) -> Value {
    let settings = try callSettings(&ctx)
    let solveSettings = try solveSettings(&ctx)
    let arrays = try arrays(
      &ctx, names: k.solver.genred.reduced.argumentNames, skip: CallSettings.keywords.union(SolveSettings.keywords))
    try ctx.finish(maxPositional: arrays.count)
    return try solve(k.solver, name: k.name, arrays, settings, solveSettings, ctx)
  }

  /// Runs a KernelSolve; the session sees its progress and summary as runtime events.
  static func solve(
    _ solver: KernelSolve, name: String, _ arrays: [NDArray], _ s: CallSettings, _ solve: SolveSettings, _ ctx: CallContext
  ) throws(ShellError) -> Value {
    if let batch = try BatchPlan(solver.genred.reduced.arguments, arrays, at: ctx.range) {
      return try batch.run(arrays) { (slice: [NDArray]) throws(ShellError) in
        try Self.solve(solver, name: name, slice, s, solve, ctx)
      }
    }
    let interp = ctx.interpreter
    do {
      var (a, report) = try solver.solve(
        arrays, alpha: solve.alpha, eps: solve.eps, maxIterations: solve.maxiter, backend: s.backend, deviceId: s.deviceID,
        ranges: s.ranges, cancel: interp.cancel, options: solve.solver,
        progress: interp.events.map { events in { (p: SolveProgress) in events(p) } })
      report.ranks = Backend.ranks
      interp.events?(report)
      interp.state.variables["_last_solve"] = lastSolve(report)
      return .array(a)
    } catch let failure as SolveFailure {
      var e = failure.reason == .cancelled ? ShellError.interrupted(at: ctx.range) : ShellError(failure.description, at: ctx.range)
      if failure.reason == .cancelled { e.message = failure.description }
      e.notes = ["the last iterate is in _last_iterate"]
      e.keep = ("_last_iterate", .array(failure.lastIterate))
      throw e
    } catch let error as OperationError {
      if case .option(let option, let m) = error, option == "backend" { throw ShellError(m, at: ctx.rangeOf(keyword: "backend")) }
      throw place(error, Strings(formula: StringValue(name), formulaRange: ctx.range, aliases: [], aliasRanges: []), ctx)
    } catch let e as ShellError {
      throw e
    } catch {
      throw ShellError("\(error)", at: ctx.range)
    }
  }

  /// `_last_solve`: what the last KernelSolve did, with its residual history for plotting.
  static func lastSolve(_ r: SolveReport) -> Value {
    .dict([
      (.str("method"), .str(r.method)),
      (.str("converged"), .bool(r.converged)),
      (.str("iterations"), .int(r.iterations)),
      (.str("rms"), .float(r.rmsResidual)),
      (.str("residuals"), .array(NDArray(shape: [r.history.count], float64: r.history))),
      (.str("seconds"), .float(r.elapsed)),
      (.str("setup_seconds"), .float(r.setup)),
      (.str("note"), r.note.map { .str($0) } ?? .none),
    ])
  }
}
