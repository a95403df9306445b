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

/// What a compiled engine hands to a block operation's C emitter.
///
/// The emitter returns C statements that compute every output component from the arguments. It
/// must declare its own locals inside a `{ ... }` block, using plain lowercase names (`s`, `k`,
/// `m`...): the engine's identifiers always contain an underscore, so the two never collide.
public struct CEmitContext {
  /// The dimension of each formula argument.
  public let argumentDims: [Int]
  /// The integer parameters of the node.
  public let params: [Int]
  /// The output dimension of the node.
  public let outDim: Int
  /// The C type intermediate values are computed in (`double`, or `float` in single precision).
  public let work: String
  /// `arg(n, index)`: a C rvalue of type `work` for component `index` (a C expression) of argument
  /// `n`. A dimension-1 argument is read at component 0 whatever the index (KeOps' broadcasting).
  public let arg: (Int, String) -> String
  /// `out(index)`: the C lvalue of output component `index`; assigning a `work` value rounds it.
  public let out: (String) -> String

  public init(
    argumentDims: [Int], params: [Int], outDim: Int, work: String,
    arg: @escaping (Int, String) -> String, out: @escaping (String) -> String
  ) {
    self.argumentDims = argumentDims
    self.params = params
    self.outDim = outDim
    self.work = work
    self.arg = arg
    self.out = out
  }

  /// An exact C literal of type `work` for `x` (hexadecimal, so no digits are lost).
  public func literal(_ x: Double) -> String { "((\(work))\(cDoubleLiteral(x)))" }
}

/// Writes the C code of a block operation; see `CEmitContext`.
public typealias CEmitter = @Sendable (CEmitContext) -> String

/// An exact C99 literal for a double: hexadecimal significand and binary exponent (`0x1.8p+1`),
/// or GCC/Clang builtins for non-finite values.
public func cDoubleLiteral(_ x: Double) -> String {
  if x.isNaN { return "__builtin_nan(\"\")" }
  if x.isInfinite { return x < 0 ? "(-__builtin_inf())" : "__builtin_inf()" }
  if x == 0 { return x.sign == .minus ? "-0.0" : "0.0" }
  let sign = x.sign == .minus ? "-" : ""
  var bits = String(x.significandBitPattern, radix: 16)
  bits = String(repeating: "0", count: 13 - bits.count) + bits
  if x.isSubnormal { return "\(sign)0x0.\(bits)p-1022" }
  let e = Int(x.exponentBitPattern) - 1023
  return "\(sign)0x1.\(bits)p\(e < 0 ? "-" : "+")\(abs(e))"
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
  /// For block operations, writes the C statements computing the output (see `CEmitContext`);
  /// nil for vectorized operations, which use `cTemplate`.
  public let cEmit: CEmitter?
  /// How `Grad` goes through this operation (see `Derivatives.swift`).
  public let differentiability: Differentiability
  /// True when the integer parameters are lists flattened by the builder (TensorDot): their count
  /// varies, and `paramNames` only documents them.
  public let variadicParams: Bool
  /// The dimension rule in words, for the formula reference and `:help`.
  public var dimensionRule: String {
    rule ?? (evaluation.isVectorized
      ? "elementwise: d -> d (a dimension-1 argument broadcasts)"
      : "see the summary")
  }
  private let rule: String?

  public var paramCount: Int { paramNames.count }
  public var description: String { name }

  /// The signature shown in help and errors, e.g. `Pow(f, m)`.
  public var signature: String {
    let args = ["f", "g", "h"].prefix(arity) + paramNames
    return "\(name)(\(args.joined(separator: ", ")))"
  }

  public init(
    name: String, arity: Int, params: [String] = [], summary: String, rule: String? = nil,
    cTemplate: String? = nil,
    cEmit: CEmitter? = nil,
    variadicParams: Bool = false,
    dimension: @escaping @Sendable ([Int], [Int]) throws(DimensionError) -> Int,
    evaluation: Evaluation,
    derivative: Differentiability
  ) {
    self.variadicParams = variadicParams
    self.differentiability = derivative
    self.name = name
    self.arity = arity
    self.paramNames = params
    self.summary = summary
    self.rule = rule
    self.cTemplate = cTemplate
    self.cEmit = cEmit
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
