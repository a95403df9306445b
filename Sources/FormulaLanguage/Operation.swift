/// One input of a block evaluation: `count` points, point `p` component `k` at `base[p * stride + k]`.
///
/// A stride of 0 means the value is the same for every point of the block (an i-variable while the
/// block runs over j, a parameter, a constant).
public struct Operand {
  public var base: UnsafePointer<Double>
  public var stride: Int
  public var dim: Int

  public init(base: UnsafePointer<Double>, stride: Int, dim: Int) {
    self.base = base
    self.stride = stride
    self.dim = dim
  }

  @inline(__always) public subscript(point: Int, component: Int) -> Double {
    base[point * stride + (dim == 1 ? 0 : component)]
  }
}

/// How the reference engine evaluates an operation. Vectorized kinds follow KeOps' broadcasting
/// rule (a dimension-1 argument is read at index 0); `block` operations get whole blocks of points.
public enum Evaluation: Sendable {
  case unary(@Sendable (Double) -> Double)
  case unaryWithParams(@Sendable (Double, [Int]) -> Double)
  case binary(@Sendable (Double, Double) -> Double)
  case ternary(@Sendable (Double, Double, Double) -> Double)
  /// Evaluates `count` points: inputs, integer parameters, point count, output (dim `outDim`, stride `outDim`).
  case block(@Sendable (_ inputs: [Operand], _ params: [Int], _ count: Int, _ out: UnsafeMutablePointer<Double>, _ outDim: Int) -> Void)

  /// True for operations that act componentwise with broadcasting.
  public var isVectorized: Bool {
    if case .block = self { return false }
    return true
  }
}

/// An entry of the operation table: everything ks knows about one formula operation.
///
/// Each operation is declared once, in `Operation.table`: its name, arity, integer parameters,
/// dimension rule and reference evaluation live together, so adding an operation touches one place.
public struct Operation: Sendable, Hashable, CustomStringConvertible {
  /// The name used in formula strings (`Exp`, `SqDist`, ...).
  public let name: String
  /// Number of formula arguments.
  public let arity: Int
  /// Names of the integer parameters that follow the formula arguments (`Pow(f, m)` has ["m"]).
  public let paramNames: [String]
  /// One-line description for `:help`.
  public let summary: String
  /// Output dimension from the argument dimensions and integer parameters.
  public let dimension: @Sendable ([Int], [Int]) throws(DimensionError) -> Int
  /// The reference semantics.
  public let evaluation: Evaluation
  /// For vectorized operations, the scalar C expression with `$0`, `$1`, `$2` for the arguments,
  /// `$p0`.. for integer parameters and `$T` for the compute type; nil for block operations.
  public let cTemplate: String?

  public var paramCount: Int { paramNames.count }
  public var description: String { name }

  /// The signature shown in help and errors, e.g. `Pow(f, m)`.
  public var signature: String {
    let args = ["f", "g", "h"].prefix(arity) + paramNames
    return "\(name)(\(args.joined(separator: ", ")))"
  }

  public init(
    name: String, arity: Int, params: [String] = [], summary: String,
    cTemplate: String? = nil,
    dimension: @escaping @Sendable ([Int], [Int]) throws(DimensionError) -> Int,
    evaluation: Evaluation
  ) {
    self.name = name
    self.arity = arity
    self.paramNames = params
    self.summary = summary
    self.cTemplate = cTemplate
    self.dimension = dimension
    self.evaluation = evaluation
  }

  public static func == (a: Operation, b: Operation) -> Bool { a.name == b.name }
  public func hash(into h: inout Hasher) { h.combine(name) }

  /// Looks an operation up by its formula name.
  public static func named(_ name: String) -> Operation? { byName[name] }

  /// Every operation name, for completion and "did you mean".
  public static var allNames: [String] { table.map(\.name) }

  static let byName: [String: Operation] = Dictionary(uniqueKeysWithValues: table.map { ($0.name, $0) })
}

// MARK: - Dimension rules

/// KeOps' rule for vectorized scalar operations: the argument dimensions are {d} or {1, d}.
@Sendable func broadcastDimension(_ dims: [Int], _ params: [Int]) throws(DimensionError) -> Int {
  let d = dims.max() ?? 1
  for x in dims where x != 1 && x != d {
    let list = dims.map(String.init).joined(separator: " and ")
    throw DimensionError("dimensions \(list) are not compatible (only 1 broadcasts against d)")
  }
  return d
}
