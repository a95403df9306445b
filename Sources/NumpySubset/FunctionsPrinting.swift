import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// `np.set_printoptions` and `np.get_printoptions`: the session's `PrintOptions`.
  static func printFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["set_printoptions", FunctionDoc("np.set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, suppress=None)", "how arrays print (also :set precision 4); None keeps a value", "np.set_printoptions(precision=3)")] = { ctx in
      var options = ctx.interpreter.state.printOptions
      for (k, name) in ["precision", "threshold", "edgeitems", "linewidth"].enumerated() {
        guard let v = try ctx.present(k, name) else { continue }
        options[integer: name] = try printOptionInteger(v, name, at: ctx.rangeOf(k, name))
      }
      if let v = try ctx.present(4, "suppress") {
        options.suppress = try ctx.bool(NumpyOps.pythonIndex(v), "suppress", at: ctx.rangeOf(4, "suppress"))
      }
      // numpy's other options: ks prints with their defaults only.
      let fixed: [(name: String, value: Value)] = [
        ("nanstr", .str("nan")), ("infstr", .str("inf")), ("formatter", .none), ("sign", .str("-")),
        ("floatmode", .str("maxprec")), ("legacy", .bool(false)), ("override_repr", .none),
      ]
      for (k, option) in fixed.enumerated() {
        let index = k < 5 ? 5 + k : nil  // legacy and override_repr are keyword-only in numpy
        guard let v = try ctx.present(index, option.name) else { continue }
        if v.repr == option.value.repr { continue }
        throw ShellError(
          "ks does not support \(option.name)=\(v.repr) (it prints with \(option.name)=\(option.value.repr))",
          at: ctx.rangeOf(index, option.name),
          notes: ["ks supports precision, threshold, edgeitems, linewidth and suppress"])
      }
      try ctx.finish(maxPositional: 10)
      ctx.interpreter.state.printOptions = options
      return .none
    }
    t["get_printoptions", FunctionDoc("np.get_printoptions()", "the print options, as a dict", "np.get_printoptions()['precision']")] = { ctx in
      try ctx.finish(maxPositional: 0)
      let o = ctx.interpreter.state.printOptions
      let entries: [(String, Value)] = [
        ("edgeitems", .int(o.edgeItems)), ("threshold", .int(o.threshold)), ("floatmode", .str("maxprec")),
        ("precision", .int(o.precision)), ("suppress", .bool(o.suppress)), ("linewidth", .int(o.lineWidth)),
        ("nanstr", .str("nan")), ("infstr", .str("inf")), ("sign", .str("-")), ("formatter", .none),
        ("legacy", .bool(false)), ("override_repr", .none),
      ]
      return .dict(entries.map { (.str($0.0), $0.1) })
    }
    return t
  }

  /// An integer print option's value: a non-negative integer (a positive one for `linewidth`);
  /// `threshold` also takes `np.inf` (never summarize).
  static func printOptionInteger(_ v: Value, _ name: String, at range: SourceRange) throws(ShellError) -> Int {
    let value: Int
    switch NumpyOps.pythonIndex(v) {
    case .int(let i): value = i
    case .float(let x) where name == "threshold" && x == .infinity: value = Int.max
    case .array(let a) where name == "threshold" && a.rank == 0 && a.dtype.isFloatingPoint && a.double(at: 0) == .infinity:
      value = Int.max
    default:
      let expected = name == "threshold" ? " (or np.inf)" : ""
      throw ShellError(
        (PrintOptions.problem(setting: name, to: -1) ?? "\(name) must be an integer") + expected + ", not \(v.typeName)",
        at: range)
    }
    if let problem = PrintOptions.problem(setting: name, to: value) {
      throw ShellError(problem + ", not \(value)", at: range)
    }
    return value
  }
}
