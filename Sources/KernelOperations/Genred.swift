import ArrayIO
import FormulaLanguage
import KSDiagnostics
import KernelEngines

/// The result of a reduction: one array, or a pair (values, int64 indices) for Min_ArgMin,
/// Max_ArgMax and KMin_ArgKMin, as PyKeOps' numpy binding returns them.
public enum ReductionResult: Sendable, Equatable {
  case single(NDArray)
  case pair(NDArray, NDArray)
}

/// Genred's keyword options, with PyKeOps' names and defaults.
public struct GenredOptions: Sendable {
  public var reductionOp = "Sum"
  public var axis = 0
  /// Deprecated in PyKeOps and ignored (the dtype comes from the arrays); validated when given.
  public var dtype: String?
  public var optArg: Int?
  public var formula2: String?
  public var dtypeAcc = "auto"
  public var useDoubleAcc = false
  public var sumScheme = "auto"
  public var enableChunks = true
  public var recMultVarHighdim = false
  public var useFastMath = true

  public init() {}
}

/// A generic reduction, PyKeOps' `Genred`: `out_i = Reduction_j F(p, x_i, y_j)`.
///
/// ```swift
/// var o = GenredOptions(); o.axis = 1
/// let op = try Genred(formula: "Exp(-SqDist(x,y))*b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], options: o)
/// let out = try op.call([x, y, b])
/// ```
public struct Genred: Sendable {
  public let formulaText: String
  public let aliases: [String]
  public let options: GenredOptions
  public let reduced: ReducedFormula
  /// The user-facing reduction name as given (`"LogSumExp"`, `"SoftMax"`...).
  public let reductionOp: String
  let postprocess: Postprocess
  let sumScheme: SumScheme

  enum Postprocess: Sendable {
    case none, indices, valuesAndIndices, kValues(Int), kIndices(Int), kValuesAndIndices(Int), logSumExp, softMax
  }

  /// The reduction names Genred accepts.
  public static let reductionNames = [
    "Sum", "Max", "Min", "ArgMax", "ArgMin", "Max_ArgMax", "Min_ArgMin", "KMin", "ArgKMin", "KMin_ArgKMin",
    "LogSumExp", "LogSumExpWeight", "SumSoftMaxWeight", "SoftMax", "Max_SumShiftExp", "Max_SumShiftExpWeight",
  ]

  public init(formula: String, aliases: [String], options: GenredOptions = GenredOptions()) throws(OperationError) {
    self.formulaText = formula
    self.aliases = aliases
    self.options = options
    self.reductionOp = options.reductionOp
    guard options.axis == 0 || options.axis == 1 else {
      throw .option(name: "axis", message: "axis must be 0 (reduce over i) or 1 (reduce over j), not \(options.axis)")
    }
    if let d = options.dtype, !["float16", "float32", "float64", "half", "float", "double"].contains(d) {
      throw .option(name: "dtype", message: "unknown dtype \"\(d)\"; expected \"float16\", \"float32\" or \"float64\"")
    }
    let op = options.reductionOp
    var kind: ReductionKind
    var post = Postprocess.none
    var softMax = false
    var needsK = false
    var needsFormula2 = false
    var allowsFormula2 = false
    switch op {
    case "Sum": kind = .sum
    case "Max": kind = .max
    case "Min": kind = .min
    case "ArgMax": kind = .argMax; post = .indices
    case "ArgMin": kind = .argMin; post = .indices
    case "Max_ArgMax": kind = .maxArgMax; post = .valuesAndIndices
    case "Min_ArgMin": kind = .minArgMin; post = .valuesAndIndices
    case "KMin", "ArgKMin", "KMin_ArgKMin":
      needsK = true
      let k = options.optArg ?? 0
      kind = op == "KMin" ? .kMin(k) : (op == "ArgKMin" ? .argKMin(k) : .kMinArgKMin(k))
      post = op == "KMin" ? .kValues(k) : (op == "ArgKMin" ? .kIndices(k) : .kValuesAndIndices(k))
    case "LogSumExp": kind = .maxSumShiftExpWeight; post = .logSumExp; allowsFormula2 = true
    case "LogSumExpWeight": kind = .maxSumShiftExpWeight; needsFormula2 = true; allowsFormula2 = true
    case "SumSoftMaxWeight", "SoftMax":
      kind = .maxSumShiftExpWeight; post = .softMax; needsFormula2 = true; allowsFormula2 = true; softMax = true
    case "Max_SumShiftExp": kind = .maxSumShiftExpWeight
    case "Max_SumShiftExpWeight": kind = .maxSumShiftExpWeight; allowsFormula2 = true
    default:
      let respelled = ["MinArgMin": "Min_ArgMin", "MaxArgMax": "Max_ArgMax", "KMinArgKMin": "KMin_ArgKMin"][op]
      let hint = respelled ?? Suggestions.closest(to: op, among: Self.reductionNames)
      throw .option(
        name: "reduction_op",
        message: "unknown reduction \"\(op)\"\(hint.map { "; did you mean \"\($0)\"?" } ?? "")")
    }
    if needsK {
      guard let k = options.optArg else {
        throw .option(name: "opt_arg", message: "reduction \"\(op)\" needs opt_arg=K, the number of neighbours")
      }
      guard k >= 1 else { throw .option(name: "opt_arg", message: "opt_arg must be at least 1, not \(k)") }
      guard k <= FormulaLimits.maximumDimension else {
        throw .option(name: "opt_arg", message: "opt_arg=\(k) is more than the maximum \(FormulaLimits.maximumDimension)")
      }
    } else if let k = options.optArg {
      throw .option(name: "opt_arg", message: "opt_arg=\(k) is only used by KMin, ArgKMin and KMin_ArgKMin")
    }
    if needsFormula2 && options.formula2 == nil {
      throw .option(name: "formula2", message: "reduction \"\(op)\" needs a weight formula, formula2=...")
    }
    if !allowsFormula2 && options.formula2 != nil {
      throw .option(
        name: "formula2",
        message: "formula2 is only used by LogSumExp, LogSumExpWeight, SumSoftMaxWeight and Max_SumShiftExpWeight")
    }

    // Accuracy options (PyKeOps' get_optional_flags).
    if options.dtypeAcc != "auto" && options.useDoubleAcc {
      throw .option(name: "use_double_acc", message: "you cannot set both use_double_acc and dtype_acc")
    }
    if !["auto", "float16", "float32", "float64"].contains(options.dtypeAcc) {
      throw .option(name: "dtype_acc", message: "unknown dtype_acc \"\(options.dtypeAcc)\"; expected \"auto\", \"float16\", \"float32\" or \"float64\"")
    }
    if (options.dtypeAcc != "auto" || options.useDoubleAcc) && !kind.isSumType {
      throw .option(
        name: options.useDoubleAcc ? "use_double_acc" : "dtype_acc",
        message: "the accumulator type can only be set for sum-type reductions (Sum, LogSumExp, SumSoftMaxWeight...), not \(op)")
    }
    switch options.sumScheme {
    case "auto": sumScheme = kind.isSumType ? .blockSum : .directSum
    case "direct_sum": sumScheme = .directSum
    case "block_sum", "kahan_scheme":
      guard kind.isSumType else {
        throw .option(name: "sum_scheme", message: "sum_scheme=\"\(options.sumScheme)\" is only valid for sum-type reductions, not \(op)")
      }
      sumScheme = options.sumScheme == "block_sum" ? .blockSum : .kahanScheme
    default:
      let hint = Suggestions.closest(to: options.sumScheme, among: ["auto", "direct_sum", "block_sum", "kahan_scheme"])
      throw .option(
        name: "sum_scheme",
        message: "invalid sum_scheme \"\(options.sumScheme)\"; expected \"auto\", \"direct_sum\", \"block_sum\" or \"kahan_scheme\"\(hint.map { " (did you mean \"\($0)\"?)" } ?? "")")
    }
    self.postprocess = post
    do {
      self.reduced = try ReducedFormula.compile(
        formula: formula, aliases: aliases, reduction: kind, formula2: options.formula2, axis: options.axis,
        softMaxWeight: softMax)
    } catch {
      throw .formula(error)
    }
  }

  /// The number of arrays a call takes.
  public var argumentCount: Int { reduced.arguments.count }

  /// Runs the reduction on `arguments` (argument k binds `Var(k, ...)`).
  ///
  /// - Parameter ranges: PyKeOps' block-sparse 6-tuple `(ranges_i, slices_i, redranges_j,
  ///   ranges_j, slices_j, redranges_i)` of int64 arrays (keops-semantics.md section 4.4); axis=1
  ///   uses the first three, axis=0 the last three. Every engine runs it (`EngineRegistry`).
  public func call(
    _ arguments: [NDArray], backend: String = "auto", deviceId: Int = -1, ranges: [NDArray]? = nil,
    cancel: CancellationToken? = nil
  ) throws(OperationError) -> ReductionResult {
    let engine = try Backend.engine(named: backend, deviceID: deviceId, blockSparse: ranges != nil)
    let (plan, args) = try prepare(arguments, ranges: ranges)
    let raw: [Double]
    do {
      raw = try engine.reduce(plan, args, cancel: cancel)
    } catch {
      throw .engine(error)
    }
    return finish(raw, rows: args.outputRows, plan: plan)
  }

  /// The three arrays of a `ranges` 6-tuple that apply to this reduction's axis, checked for
  /// dtype and shapes (bounds are checked by `prepare`, which knows the sizes).
  public func blockRanges(_ ranges: [NDArray]) throws(OperationError) -> BlockRanges {
    guard ranges.count == 6 else {
      throw .option(
        name: "ranges",
        message: "ranges must be a 6-tuple (ranges_i, slices_i, redranges_j, ranges_j, slices_j, redranges_i), got \(ranges.count) array\(ranges.count == 1 ? "" : "s")")
    }
    let overJ = reduced.outputCategory == .i
    let names = overJ ? ["ranges_i", "slices_i", "redranges_j"] : ["ranges_j", "slices_j", "redranges_i"]
    let base = overJ ? 0 : 3
    do {
      return try BlockRanges(
        outputRanges: ranges[base], sliceEnds: ranges[base + 1], reducedRanges: ranges[base + 2], names: names)
    } catch {
      throw .option(name: "ranges", message: error.message)
    }
  }

  /// Checks the arrays (and the optional `ranges` 6-tuple) against the formula and resolves the
  /// precision options.
  public func prepare(_ arguments: [NDArray], ranges: [NDArray]? = nil) throws(OperationError) -> (KernelPlan, KernelArguments) {
    let blockRanges = try ranges.map { (r: [NDArray]) throws(OperationError) in try self.blockRanges(r) }
    let vars = reduced.arguments
    guard arguments.count == vars.count else {
      throw .call("this Genred takes \(vars.count) argument\(vars.count == 1 ? "" : "s") (\(signatureText)), got \(arguments.count)")
    }
    let dtype = arguments.first?.dtype ?? .float64
    for (k, a) in arguments.enumerated() {
      guard a.dtype.isFloatingPoint else {
        if a.dtype.isComplex {
          throw .argument(
            index: k,
            message: "expected a float array, got \(a.dtype.rawValue); Genred formulas read complex numbers as (re, im) pairs: use LazyTensor(z) (a ComplexLazyTensor), or pass z.real and z.imag")
        }
        throw .argument(index: k, message: "expected a float array, got \(a.dtype.rawValue); convert it with .astype(\"float64\")")
      }
      guard a.dtype == dtype else {
        throw .argument(index: k, message: "all arguments must have the same dtype: argument 0 is \(dtype.rawValue), this one is \(a.dtype.rawValue)")
      }
    }
    var arrays = arguments
    var rows: [VariableCategory: (Int, Int)] = [:]  // category -> (rows, argument that set it)
    for k in reduced.sizeOrder {
      let v = vars[k]
      var a = arguments[k]
      let label = argumentLabel(k)
      switch v.category {
      case .parameter:
        if a.rank == 0 && v.dim == 1 { a = a.reshaped([1]) }
        guard a.rank == 1 else {
          throw .argument(index: k, message: "\(label) is a Pm(\(v.dim)) parameter: expected a 1-D array of length \(v.dim), got shape \(shapeText(a.shape))")
        }
        guard a.shape[0] == v.dim else {
          throw .argument(index: k, message: "\(label) is a Pm(\(v.dim)) parameter: expected length \(v.dim), got \(a.shape[0])")
        }
      case .i, .j:
        if a.rank == 1 && v.dim == 1 { a = a.reshaped([a.shape[0], 1]) }
        if a.rank > 2 {
          throw .argument(index: k, message: "\(label) has shape \(shapeText(a.shape)): ks takes 2-D arrays (rows, dim); batch dimensions are not supported")
        }
        guard a.rank == 2 else {
          throw .argument(index: k, message: "\(label) is a \(v.category.keyword)(\(v.dim)) variable: expected a 2-D array of shape (rows, \(v.dim)), got shape \(shapeText(a.shape))")
        }
        guard a.shape[1] == v.dim else {
          throw .argument(index: k, message: "\(label) is a \(v.category.keyword)(\(v.dim)) variable: expected \(v.dim) column\(v.dim == 1 ? "" : "s"), got shape \(shapeText(a.shape))")
        }
        if let (r, first) = rows[v.category] {
          guard a.shape[0] == r else {
            throw .argument(index: k, message: "\(label) has \(a.shape[0]) rows but \(argumentLabel(first)), also \(v.category.keyword), has \(r)")
          }
        } else {
          rows[v.category] = (a.shape[0], k)
        }
      }
      arrays[k] = a
    }
    let nI = rows[.i]?.0 ?? 1, nJ = rows[.j]?.0 ?? 1
    let outputRows = reduced.outputCategory == .i ? nI : nJ
    let reducedRows = reduced.outputCategory == .i ? nJ : nI
    if reductionOp.contains("Arg") {  // PyKeOps checks the name: indices are encoded as floats
      if reducedRows > 16_000_000 && dtype == .float32 {
        throw .call("\(reducedRows) rows are too many for an Arg-type reduction in float32 (indices are encoded as floats); use float64")
      }
      if reducedRows > 2048 && dtype == .float16 {
        throw .call("\(reducedRows) rows are too many for an Arg-type reduction in float16; use float32 or float64")
      }
    }
    // The engines fill a float64 buffer of outputRows x rawDimension before the result is shaped.
    do {
      try ArrayAllocation.check(shape: [outputRows, reduced.rawDimension], dtype: .float64)
    } catch {
      throw .call("the result cannot be allocated: \(error.message)")
    }
    let compute: Precision = dtype == .float64 ? .float64 : .float32
    var acc: Precision
    switch options.useDoubleAcc ? "float64" : options.dtypeAcc {
    case "float16": acc = .float16
    case "float32": acc = .float32
    case "float64": acc = .float64
    default: acc = compute
    }
    let accName = options.useDoubleAcc ? "float64" : options.dtypeAcc
    let allowed: [DType: [String]] = [.float16: ["float16", "float32"], .float32: ["float32", "float64"], .float64: ["float64"]]
    if accName != "auto", !(allowed[dtype] ?? []).contains(accName) {
      throw .option(
        name: options.useDoubleAcc ? "use_double_acc" : "dtype_acc",
        message: "dtype_acc=\"\(accName)\" is not allowed with \(dtype.rawValue) data (allowed: \((allowed[dtype] ?? []).joined(separator: ", ")))")
    }
    if !reduced.reduction.isSumType { acc = compute }
    let plan = KernelPlan(
      formula: reduced, dataType: dtype, computePrecision: compute, accumulatorPrecision: acc, sumScheme: sumScheme)
    if let blockRanges {
      do {
        try blockRanges.validate(outputRows: outputRows, reducedRows: reducedRows)
      } catch {
        throw .option(name: "ranges", message: error.message)
      }
    }
    return (
      plan, KernelArguments(arrays: arrays, outputRows: outputRows, reducedRows: reducedRows, ranges: blockRanges)
    )
  }

  /// PyKeOps' `postprocess`: shapes, int64 indices, LogSumExp and SoftMax finalization.
  public func finish(_ raw: [Double], rows m: Int, plan: KernelPlan) -> ReductionResult {
    let dtype = plan.dataType
    let rawDim = plan.formula.rawDimension
    let d = plan.formula.formula.dim
    func array(_ values: [Double], _ shape: [Int], _ t: DType) -> NDArray { NDArray(shape: shape, doubles: values, dtype: t) }
    func kShape(_ k: Int) -> [Int] { d == 1 ? [m, k] : [m, k, d] }
    switch postprocess {
    case .none:
      return .single(array(raw, [m, rawDim], dtype))
    case .indices:
      return .single(array(raw, [m, d], .int64))
    case .valuesAndIndices:
      var vals: [Double] = [], idx: [Double] = []
      vals.reserveCapacity(m * d); idx.reserveCapacity(m * d)
      for i in 0..<m {
        vals += raw[(i * 2 * d)..<(i * 2 * d + d)]
        idx += raw[(i * 2 * d + d)..<(i * 2 * d + 2 * d)]
      }
      return .pair(array(vals, [m, d], dtype), array(idx, [m, d], .int64))
    case .kValues(let k):
      return .single(array(raw, kShape(k), dtype))
    case .kIndices(let k):
      return .single(array(raw, kShape(k), .int64))
    case .kValuesAndIndices(let k):
      var vals: [Double] = [], idx: [Double] = []
      for i in 0..<m {
        for r in 0..<k {
          let base = i * rawDim + r * 2 * d
          vals += raw[base..<(base + d)]
          idx += raw[(base + d)..<(base + 2 * d)]
        }
      }
      return .pair(array(vals, kShape(k), dtype), array(idx, kShape(k), .int64))
    case .logSumExp:
      let dg = rawDim - 1
      var out: [Double] = []
      out.reserveCapacity(m * dg)
      for i in 0..<m {
        let mi = raw[i * rawDim]
        for k in 1...dg { out.append(mi + _log(raw[i * rawDim + k])) }
      }
      return .single(array(out, [m, dg], dtype))
    case .softMax:
      let dg = rawDim - 2
      var out: [Double] = []
      out.reserveCapacity(m * dg)
      for i in 0..<m {
        let s = raw[i * rawDim + 1]
        for k in 2..<rawDim { out.append(raw[i * rawDim + k] / s) }
      }
      return .single(array(out, [m, dg], dtype))
    }
  }

  /// `x, y, b` or `arg0, arg1` for messages.
  public var signatureText: String {
    (0..<reduced.arguments.count).map { argumentLabel($0) }.joined(separator: ", ")
  }

  func argumentLabel(_ k: Int) -> String {
    if let n = reduced.argumentNames[k] { return "'\(n)'" }
    return "argument \(k) (\(reduced.arguments[k]))"
  }
}

func shapeText(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}
