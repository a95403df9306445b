/// The largest sizes a formula may declare. Dimension rules are computed with overflow checks
/// and every node's dimension (a variable's, or an operation's result) must lie in
/// `1...maximumDimension`; variable positions must lie in `0...maximumPosition`.
///
/// KeOps has no stated limit; these bound what the engines can hold per point (a node's values
/// live in an array of its dimension) and keep every size computation inside `Int`.
public enum FormulaLimits {
  /// The largest dimension of any node: 2^20 = 1048576.
  public static let maximumDimension = 1 << 20
  /// The largest variable position (`Var(pos, dim, cat)`, `Vi(pos, dim)`).
  public static let maximumPosition = 4095

  /// A DimensionError unless `dim` is within `1...maximumDimension`.
  static func checkResult(_ dim: Int) throws(DimensionError) {
    guard dim <= maximumDimension else {
      throw DimensionError("the result would have dimension \(dim), more than the maximum \(maximumDimension)")
    }
  }

  /// The message for a declared dimension or position outside the limits, or nil.
  public static func problem(dim: Int, position: Int?) -> String? {
    if dim > maximumDimension { return "dimension \(dim) is more than the maximum \(maximumDimension)" }
    if let p = position, p > maximumPosition { return "position \(p) is more than the maximum \(maximumPosition)" }
    return nil
  }
}
