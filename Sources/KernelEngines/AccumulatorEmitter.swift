import FormulaLanguage

/// How one target language spells accumulator code: type names, conversions, rounding macros,
/// intrinsics and storage. The C engine holds every value in a double and rounds explicitly
/// (`castsBetweenTypes` false, the rounding macros stand for the types); the CUDA engine holds
/// each value in its own type and converts with casts.
public struct AccumulatorDialect: Sendable, Hashable {
  /// The type of the accumulator array `ks_acc`.
  public var accumulatorType: String
  /// The type of the formula's values, block_sum's temporary `ks_tmp` and Kahan's compensation.
  public var valueType: String
  /// The type of one output value.
  public var outputType: String
  /// The macro applied after every accumulator operation (dtype_acc).
  public var accumulatorRounding: String
  /// The macro applied after every operation on the temporary; "" when its type rounds by itself.
  public var temporaryRounding: String
  /// The macro that turns an accumulator entry into an output value; "" for a cast to `outputType`.
  public var outputRounding: String
  /// True: a value changes type by a cast. False: every value is already of every type (double).
  public var castsBetweenTypes: Bool
  /// The exponential, applied to `accumulatorType` and `valueType` values.
  public var exp: String
  /// The spelling of +infinity (a double expression).
  public var infinity: String
  /// Arrays of more than `largeArrayThreshold` values get `largeArrayStorage` in front (C: out of
  /// the stack); `Int.max` for never.
  public var largeArrayStorage: String
  public var largeArrayThreshold: Int

  public init(
    accumulatorType: String, valueType: String, outputType: String, accumulatorRounding: String,
    temporaryRounding: String, outputRounding: String, castsBetweenTypes: Bool, exp: String = "exp",
    infinity: String = "__builtin_inf()", largeArrayStorage: String = "", largeArrayThreshold: Int = .max
  ) {
    self.accumulatorType = accumulatorType
    self.valueType = valueType
    self.outputType = outputType
    self.accumulatorRounding = accumulatorRounding
    self.temporaryRounding = temporaryRounding
    self.outputRounding = outputRounding
    self.castsBetweenTypes = castsBetweenTypes
    self.exp = exp
    self.infinity = infinity
    self.largeArrayStorage = largeArrayStorage
    self.largeArrayThreshold = largeArrayThreshold
  }

  /// `e` converted to `type`.
  func cast(_ e: String, to type: String) -> String { castsBetweenTypes ? "(\(type))\(e)" : e }

  /// `e` rounded with `macro` (parenthesised when there is none).
  func round(_ macro: String, _ e: String) -> String { "\(macro)(\(e))" }

  /// The storage class of an array of `count` values.
  func storage(_ count: Int) -> String { count > largeArrayThreshold ? largeArrayStorage : "" }
}

/// The accumulator code of one reduction (KeOps' rules, as the reference engine's `Accumulator`
/// runs them), written once for every engine that generates source: initial values, the update
/// for one term (the sum schemes, the (m, s) merge of Max_SumShiftExp, Kahan's compensation,
/// KMin's stable insertion, strict comparisons so the lowest index wins ties), the periodic flush
/// of block_sum, the merge of two partial accumulators, and the output row.
///
/// Fixed names: the accumulator array `ks_acc`, the temporary `ks_tmp`, the block_sum counter
/// `ks_cnt` (against a `ks_period` the caller defines), the reduced index `ks_j`, the component
/// loop index `ks_k`; scratch names are `ks_val`, `ks_idx`, `ks_yk`, `ks_b`, `ks_e`, `ks_u`,
/// `ks_l`, `ks_r`, `ks_sv`, `ks_si`.
public struct AccumulatorEmitter: Sendable {
  public let kind: ReductionKind
  /// The formula's dimension (for Max_SumShiftExp: 1 + dim(g)).
  public let d: Int
  public let scheme: SumScheme
  public let dialect: AccumulatorDialect
  /// block_sum: fold the temporary into the accumulator every `ks_period` terms; false in
  /// KeOps' ranges mode (every term of a row in one temporary, folded in once at the end).
  public var periodicFlush: Bool

  public init(kind: ReductionKind, d: Int, scheme: SumScheme, dialect: AccumulatorDialect, periodicFlush: Bool = true) {
    self.kind = kind
    self.d = d
    self.scheme = kind.isSumType ? scheme : .directSum
    self.dialect = dialect
    self.periodicFlush = periodicFlush
  }

  /// Values in the accumulator of `kind` for a formula of dimension `d`.
  public static func count(_ kind: ReductionKind, d: Int) -> Int {
    switch kind {
    case .sum, .max, .min, .maxSumShiftExpWeight: return d
    case .argMax, .argMin, .maxArgMax, .minArgMin: return 2 * d
    case .kMin(let k), .argKMin(let k), .kMinArgKMin(let k): return 2 * k * d
    }
  }

  public var count: Int { Self.count(kind, d: d) }

  /// Values in block_sum's temporary or Kahan's compensation (0: none).
  public var temporaryCount: Int {
    switch (scheme, kind) {
    case (.kahanScheme, .maxSumShiftExpWeight): return max(1, d - 1)
    case (.blockSum, _), (.kahanScheme, _): return d
    default: return 0
    }
  }

  /// For the selection reductions: the accumulator entry a value of component `k` must beat to
  /// change anything (the best value, or KMin's K-th), and the comparison that beats it.
  public func threshold(_ k: Int) -> (index: Int, comparison: String) {
    switch kind {
    case .max, .argMax, .maxArgMax: return (k, ">")
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk): return ((kk - 1) * 2 * d + k, "<")
    default: return (k, "<")
    }
  }

  private var A: String { dialect.accumulatorType }
  private var V: String { dialect.valueType }
  private var RA: String { dialect.accumulatorRounding }
  private var loop: String { "for (int ks_k = 0; ks_k < \(d); ks_k++)" }
  private func inf(_ type: String) -> String { dialect.cast(dialect.infinity, to: type) }

  // MARK: Declarations and initial values

  /// Declares `ks_acc` (uninitialised).
  public func declaration(indent: String) -> String {
    "\(indent)\(dialect.storage(count))\(A) ks_acc[\(count)];\n"
  }

  /// Sets `array` (an accumulator of this reduction, of type `type`) to KeOps' initial values.
  public func initialValues(_ array: String = "ks_acc", type: String? = nil, indent: String) -> String {
    let (a, t, l) = (array, type ?? A, loop)
    switch kind {
    case .sum:
      return "\(indent)\(l) \(a)[ks_k] = 0;\n"
    case .max:
      return "\(indent)\(l) \(a)[ks_k] = -\(inf(t));\n"
    case .min:
      return "\(indent)\(l) \(a)[ks_k] = \(inf(t));\n"
    case .argMax, .maxArgMax:
      return "\(indent)\(l) { \(a)[ks_k] = -\(inf(t)); \(a)[\(d) + ks_k] = 0; }\n"
    case .argMin, .minArgMin:
      return "\(indent)\(l) { \(a)[ks_k] = \(inf(t)); \(a)[\(d) + ks_k] = 0; }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      return "\(indent)for (int ks_r = 0; ks_r < \(kk); ks_r++) \(l) "
        + "{ \(a)[ks_r * \(2 * d) + ks_k] = \(inf(t)); \(a)[ks_r * \(2 * d) + \(d) + ks_k] = 0; }\n"
    case .maxSumShiftExpWeight:
      return "\(indent)\(a)[0] = -\(inf(t)); for (int ks_k = 1; ks_k < \(d); ks_k++) \(a)[ks_k] = 0;\n"
    }
  }

  /// The temporary's values at the start of a row or after a flush (the statements, no declaration).
  private func resetTemporary(indent: String) -> String {
    if scheme == .blockSum && kind == .maxSumShiftExpWeight {
      return "\(indent)ks_tmp[0] = -\(inf(V)); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    }
    let n = scheme == .kahanScheme && kind == .maxSumShiftExpWeight ? d - 1 : d
    return "\(indent)for (int ks_k = 0; ks_k < \(n); ks_k++) ks_tmp[ks_k] = 0;\n"
  }

  /// Declares and initialises block_sum's temporary or Kahan's compensation `ks_tmp` (nothing for
  /// the other schemes), and block_sum's counter `ks_cnt` when it flushes periodically.
  public func temporaries(indent: String) -> String {
    guard temporaryCount > 0 else { return "" }
    var s = "\(indent)\(dialect.storage(temporaryCount))\(V) ks_tmp[\(temporaryCount)];"
    s += resetTemporary(indent: " ")
    if scheme == .blockSum && periodicFlush { s += "\(indent)int ks_cnt = 0;\n" }
    return s
  }

  // MARK: Update

  /// KeOps' (m, s) merge of `src` into `dst` (arrays of `d` values of type `type`), rounding with `r`.
  public func merge(into dst: String, type w: String, from src: (String) -> String, round r: String, indent: String) -> String {
    func c(_ k: String) -> String { dialect.cast(src(k), to: w) }
    let e = dialect.exp
    return """
      \(indent)if (\(dst)[0] > \(c("0"))) {
      \(indent)  const \(w) ks_e = \(r)(\(e)(\(c("0")) - \(dst)[0]));
      \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) \(dst)[ks_k] = \(r)(\(dst)[ks_k] + \(r)(\(c("ks_k")) * ks_e));
      \(indent)} else {
      \(indent)  const \(w) ks_e = \(r)(\(e)(\(dst)[0] - \(c("0"))));
      \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) \(dst)[ks_k] = \(r)(\(c("ks_k")) + \(r)(ks_e * \(dst)[ks_k]));
      \(indent)  \(dst)[0] = \(c("0"));
      \(indent)}

      """
  }

  /// Kahan's update of `ks_acc[k]` with `term(k)`; `comp` holds the compensation, of type `ct`,
  /// stored rounded with `cr`.
  private func kahanSum(term: (String) -> String, comp c: String, type ct: String, round cr: String, indent: String) -> String {
    """
    \(indent)\(loop) {
    \(indent)  const \(A) ks_yk = \(RA)(\(dialect.cast(term("ks_k"), to: A)) - \(dialect.cast("\(c)[ks_k]", to: A)));
    \(indent)  const \(A) ks_b = \(RA)(ks_acc[ks_k] + ks_yk);
    \(indent)  \(c)[ks_k] = \(dialect.cast(dialect.round(cr, "\(RA)(\(RA)(ks_b - ks_acc[ks_k]) - ks_yk)"), to: ct));
    \(indent)  ks_acc[ks_k] = ks_b;
    \(indent)}

    """
  }

  /// Kahan's variant of the (m, s) merge (the reference's `kahanShiftExp`).
  private func kahanShiftExp(term: (String) -> String, comp c: String, type ct: String, round cr: String, indent: String) -> String {
    func x(_ k: String) -> String { dialect.cast(term(k), to: A) }
    let cc = dialect.cast("\(c)[ks_k - 1]", to: A)
    let store = { (e: String) in dialect.cast(dialect.round(cr, e), to: ct) }
    let e = dialect.exp
    return """
      \(indent)if (ks_acc[0] > \(x("0"))) {
      \(indent)  const \(A) ks_e = \(RA)(\(e)(\(x("0")) - ks_acc[0]));
      \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) {
      \(indent)    const \(A) ks_yk = \(RA)(\(RA)(\(x("ks_k")) * ks_e) - \(cc));
      \(indent)    const \(A) ks_b = \(RA)(ks_acc[ks_k] + ks_yk);
      \(indent)    \(c)[ks_k - 1] = \(store("\(RA)(\(RA)(ks_b - ks_acc[ks_k]) - ks_yk)"));
      \(indent)    ks_acc[ks_k] = ks_b;
      \(indent)  }
      \(indent)} else {
      \(indent)  const \(A) ks_e = \(RA)(\(e)(ks_acc[0] - \(x("0"))));
      \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) {
      \(indent)    const \(A) ks_u = \(RA)(ks_e * ks_acc[ks_k]);
      \(indent)    const \(A) ks_yk = \(RA)(\(x("ks_k")) - \(RA)(ks_e * \(cc)));
      \(indent)    const \(A) ks_b = \(RA)(ks_u + ks_yk);
      \(indent)    \(c)[ks_k - 1] = \(store("\(RA)(\(RA)(ks_b - ks_u) - ks_yk)"));
      \(indent)    ks_acc[ks_k] = ks_b;
      \(indent)  }
      \(indent)  ks_acc[0] = \(x("0"));
      \(indent)}

      """
  }

  /// Inserts `value` with index `index` into the K sorted slots of component `ks_k`, from the last
  /// rank upward while strictly smaller: stable, the lowest index first on ties.
  private func kMinInsert(k kk: Int, value v: String, index idx: String, indent: String) -> String {
    """
    \(indent){
    \(indent)  const \(A) ks_val = \(v);
    \(indent)  const \(A) ks_idx = \(idx);
    \(indent)  int ks_l = ks_k + \((kk - 1) * 2 * d);
    \(indent)  while (ks_l >= ks_k && ks_val < ks_acc[ks_l]) {
    \(indent)    const \(A) ks_sv = ks_acc[ks_l], ks_si = ks_acc[ks_l + \(d)];
    \(indent)    ks_acc[ks_l] = ks_val; ks_acc[ks_l + \(d)] = ks_idx;
    \(indent)    if (ks_l < ks_k + \(2 * d * (kk - 1))) { ks_acc[ks_l + \(2 * d)] = ks_sv; ks_acc[ks_l + \(3 * d)] = ks_si; }
    \(indent)    ks_l -= \(2 * d);
    \(indent)  }
    \(indent)}

    """
  }

  /// block_sum: folds the temporary into the accumulator and resets it.
  public func flush(indent: String) -> String {
    if kind == .maxSumShiftExpWeight {
      return merge(into: "ks_acc", type: A, from: { "ks_tmp[\($0)]" }, round: RA, indent: indent)
        + resetTemporary(indent: indent)
    }
    return "\(indent)\(loop) { ks_acc[ks_k] = \(RA)(ks_acc[ks_k] + \(dialect.cast("ks_tmp[ks_k]", to: A))); ks_tmp[ks_k] = 0; }\n"
  }

  /// The accumulator update for the term of reduced index `ks_j` whose component `k` (a C
  /// expression) is `term(k)`, of the dialect's value type.
  public func update(term x: (String) -> String, indent: String) -> String {
    let l = loop
    let index = "(\(A))ks_j"
    var s = ""
    switch kind {
    case .sum:
      switch scheme {
      case .directSum:
        s += "\(indent)\(l) ks_acc[ks_k] = \(RA)(ks_acc[ks_k] + \(dialect.cast(x("ks_k"), to: A)));\n"
      case .blockSum:
        s += "\(indent)\(l) ks_tmp[ks_k] = \(dialect.round(dialect.temporaryRounding, "ks_tmp[ks_k] + \(x("ks_k"))"));\n"
      case .kahanScheme:
        s += kahanSum(term: x, comp: "ks_tmp", type: V, round: dialect.temporaryRounding, indent: indent)
      }
    case .maxSumShiftExpWeight:
      switch scheme {
      case .directSum:
        s += merge(into: "ks_acc", type: A, from: x, round: RA, indent: indent)
      case .blockSum:
        s += merge(into: "ks_tmp", type: V, from: x, round: dialect.temporaryRounding, indent: indent)
      case .kahanScheme:
        s += kahanShiftExp(term: x, comp: "ks_tmp", type: V, round: dialect.temporaryRounding, indent: indent)
      }
    case .max, .min:
      let cmp = kind == .max ? ">" : "<"
      s += "\(indent)\(l) { const \(A) ks_val = \(x("ks_k")); if (ks_val \(cmp) ks_acc[ks_k]) ks_acc[ks_k] = ks_val; }\n"
    case .argMax, .maxArgMax, .argMin, .minArgMin:
      let cmp = kind == .argMax || kind == .maxArgMax ? ">" : "<"
      s += "\(indent)\(l) { const \(A) ks_val = \(x("ks_k")); "
        + "if (ks_val \(cmp) ks_acc[ks_k]) { ks_acc[ks_k] = ks_val; ks_acc[\(d) + ks_k] = \(index); } }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      s += "\(indent)\(l)\n" + kMinInsert(k: kk, value: x("ks_k"), index: index, indent: indent)
    }
    if scheme == .blockSum && periodicFlush {
      s += "\(indent)if (++ks_cnt == ks_period) {\n\(indent)  ks_cnt = 0;\n"
      s += flush(indent: indent + "  ")
      s += "\(indent)}\n"
    }
    return s
  }

  // MARK: Partial accumulators

  /// Declares what `mergePartial` needs besides `ks_acc` (Kahan's compensation `ks_c`).
  public func partialMergeDeclarations(indent: String) -> String {
    guard scheme == .kahanScheme else { return "" }
    let n = kind == .maxSumShiftExpWeight ? max(1, d - 1) : d
    let used = kind == .maxSumShiftExpWeight ? d - 1 : d
    return "\(indent)\(A) ks_c[\(n)]; for (int ks_k = 0; ks_k < \(used); ks_k++) ks_c[ks_k] = 0;\n"
  }

  /// Merges the partial accumulator `p` (entry `k` is `p(k)`, covering later reduced indices than
  /// `ks_acc`) into `ks_acc`, with the reduction's merge rule.
  public func mergePartial(from p: (String) -> String, indent: String) -> String {
    let l = loop
    switch kind {
    case .sum:
      if scheme == .kahanScheme {
        return kahanSum(term: p, comp: "ks_c", type: A, round: "", indent: indent)
      }
      return "\(indent)\(l) ks_acc[ks_k] = \(RA)(ks_acc[ks_k] + \(p("ks_k")));\n"
    case .maxSumShiftExpWeight:
      if scheme == .kahanScheme {
        return kahanShiftExp(term: p, comp: "ks_c", type: A, round: "", indent: indent)
      }
      return merge(into: "ks_acc", type: A, from: p, round: RA, indent: indent)
    case .max, .min:
      let cmp = kind == .max ? ">" : "<"
      return "\(indent)\(l) if (\(p("ks_k")) \(cmp) ks_acc[ks_k]) ks_acc[ks_k] = \(p("ks_k"));\n"
    case .argMax, .maxArgMax, .argMin, .minArgMin:
      let cmp = kind == .argMax || kind == .maxArgMax ? ">" : "<"
      return "\(indent)\(l) if (\(p("ks_k")) \(cmp) ks_acc[ks_k]) { ks_acc[ks_k] = \(p("ks_k")); ks_acc[\(d) + ks_k] = \(p("\(d) + ks_k")); }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      // The partial's K smallest, in order, inserted after the earlier ones (all of lower index).
      return "\(indent)for (int ks_r = 0; ks_r < \(kk); ks_r++) \(l)\n"
        + kMinInsert(k: kk, value: p("ks_r * \(2 * d) + ks_k"), index: p("ks_r * \(2 * d) + \(d) + ks_k"), indent: indent)
    }
  }

  // MARK: Output

  /// KeOps' FinalizeOutput: writes the raw output row `out` (an array of the output type) from `ks_acc`.
  public func finalize(into o: String, indent: String) -> String {
    let out = { (e: String) in
      dialect.outputRounding.isEmpty ? dialect.cast(e, to: dialect.outputType) : "\(dialect.outputRounding)(\(e))"
    }
    switch kind {
    case .sum, .max, .min, .maxArgMax, .minArgMin, .maxSumShiftExpWeight, .kMinArgKMin:
      return "\(indent)for (int ks_k = 0; ks_k < \(count); ks_k++) \(o)[ks_k] = \(out("ks_acc[ks_k]"));\n"
    case .argMax, .argMin:
      return "\(indent)\(loop) \(o)[ks_k] = \(out("ks_acc[\(d) + ks_k]"));\n"
    case .kMin(let kk), .argKMin(let kk):
      let offset = kind == .kMin(kk) ? "" : " + \(d)"
      return "\(indent)for (int ks_r = 0; ks_r < \(kk); ks_r++) \(loop) "
        + "\(o)[ks_r * \(d) + ks_k] = \(out("ks_acc[ks_r * \(2 * d)\(offset) + ks_k]"));\n"
    }
  }
}
