import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// Typed readers of numpy function arguments.
extension CallContext {
  /// A required argument as an array (lists and Python scalars converted).
  mutating func array(_ index: Int?, _ name: String) throws(ShellError) -> NDArray {
    let v = try required(index, name)
    return try NumpyOps.toArray(v, at: rangeOf(index, name))
  }

  /// A required argument as an operand (Python scalars stay weak).
  mutating func operand(_ index: Int?, _ name: String) throws(ShellError) -> Operand {
    let v = try required(index, name)
    return try NumpyOps.operand(v, at: rangeOf(index, name))
  }

  /// An optional argument that may also be None.
  mutating func present(_ index: Int?, _ name: String) throws(ShellError) -> Value? {
    guard let v = try optional(index, name) else { return nil }
    if case .none = v { return nil }
    return v
  }

  /// `axis=`: None, an int or a tuple of ints, normalised against `rank`.
  mutating func axes(_ index: Int?, rank: Int, name: String = "axis") throws(ShellError) -> [Int]? {
    let v = try optional(index, name)
    return try Reductions.axes(v, rank: rank, at: rangeOf(index, name))
  }

  /// `axis=` that must be a single int (or None).
  mutating func singleAxis(_ index: Int?, rank: Int, name: String = "axis", default dflt: Int? = nil) throws(ShellError) -> Int? {
    guard let v = try optional(index, name) else { return dflt.map { $0 < 0 ? $0 + rank : $0 } }
    if case .none = v { return nil }
    let r = rangeOf(index, name)
    let i = try int(NumpyOps.pythonIndex(v), name, at: r)
    return try Reductions.axis(i, rank: rank, at: r)
  }

  mutating func flag(_ index: Int?, _ name: String, default dflt: Bool) throws(ShellError) -> Bool {
    guard let v = try optional(index, name) else { return dflt }
    if case .array(let a) = v, a.count == 1 { return a.boolValues[0] }
    return try bool(v, name, at: rangeOf(index, name))
  }

  mutating func integer(_ index: Int?, _ name: String, default dflt: Int) throws(ShellError) -> Int {
    guard let v = try optional(index, name) else { return dflt }
    return try int(NumpyOps.pythonIndex(v), name, at: rangeOf(index, name))
  }

  mutating func number(_ index: Int?, _ name: String, default dflt: Double) throws(ShellError) -> Double {
    guard let v = try optional(index, name) else { return dflt }
    return try double(v, name, at: rangeOf(index, name))
  }

  /// `dtype=`: nil when absent or None.
  mutating func dtype(_ index: Int?, _ name: String = "dtype") throws(ShellError) -> DType? {
    guard let v = try present(index, name) else { return nil }
    return try NumpyFunctions.dtypeArgument(v, at: rangeOf(index, name))
  }

  /// A shape: an int or a tuple/list of ints.
  mutating func shape(_ index: Int?, _ name: String) throws(ShellError) -> [Int] {
    let v = try required(index, name)
    return try NumpyFunctions.shapeArgument(v, at: rangeOf(index, name))
  }

  /// An optional `size=` (None: a single draw).
  mutating func size(_ index: Int?, _ name: String = "size") throws(ShellError) -> [Int]? {
    guard let v = try present(index, name) else { return nil }
    return try NumpyFunctions.shapeArgument(v, at: rangeOf(index, name))
  }
}

extension NumpyFunctions {
  static func shapeArgument(_ v: Value, at range: SourceRange) throws(ShellError) -> [Int] {
    var dims: [Int] = []
    switch NumpyOps.pythonIndex(v) {
    case .int(let i): dims = [i]
    case .tuple(let items), .list(let items):
      for item in items {
        guard case .int(let i) = NumpyOps.pythonIndex(item) else {
          throw ShellError("'\(item.typeName)' object cannot be interpreted as an integer", at: range)
        }
        dims.append(i)
      }
    case .array(let a) where a.dtype == .int64 && a.rank == 1:
      dims = a.int64Values.map { Int($0) }
    default:
      throw ShellError("'\(v.typeName)' object cannot be interpreted as an integer", at: range)
    }
    if dims.contains(where: { $0 < 0 }) { throw ShellError("negative dimensions are not allowed", at: range) }
    return dims
  }
}
