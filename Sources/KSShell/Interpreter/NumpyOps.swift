import ArrayIO
import KSDiagnostics

/// numpy semantics for arrays: broadcasting arithmetic, comparisons, indexing, conversions.
enum NumpyOps {
  static func unary(_ op: UnaryOperator, _ a: NDArray, at range: SourceRange) throws -> NDArray {
    throw ShellError("unary \(op.symbol) on arrays is not supported yet", at: range)
  }

  static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    throw ShellError("array arithmetic '\(op.symbol)' is not supported yet", at: range)
  }

  static func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    throw ShellError("array comparison '\(op.symbol)' is not supported yet", at: range)
  }

  /// `a[k]` along the first axis.
  static func row(_ a: NDArray, _ k: Int) -> Value {
    let inner = Array(a.shape.dropFirst())
    let n = inner.reduce(1, *)
    let values = Array(a.toDoubles()[(k * n)..<((k + 1) * n)])
    let r = NDArray(shape: inner, doubles: values, dtype: a.dtype)
    return inner.isEmpty ? scalar(r) : .array(r)
  }

  /// A 0-d array as the numpy scalar it prints as.
  static func scalar(_ a: NDArray) -> Value {
    switch a.dtype {
    case .int64: return .int(Int(a.double(at: 0)))
    case .bool: return .bool(a.double(at: 0) != 0)
    default: return .array(a)
    }
  }

  /// `np.array(list)`: nested lists of numbers to an array.
  static func array(from v: Value, dtype: DType?, at range: SourceRange) throws(ShellError) -> NDArray {
    var shape: [Int] = []
    var values: [Double] = []
    var sawFloat = false
    var sawBool = true
    func walk(_ v: Value, depth: Int) throws(ShellError) {
      switch v {
      case .list(let items), .tuple(let items):
        if depth == shape.count { shape.append(items.count) } else if shape[depth] != items.count {
          throw ShellError("setting an array element with a sequence: the nested lists have different lengths", at: range)
        }
        for item in items { try walk(item, depth: depth + 1) }
      case .int(let i): values.append(Double(i)); sawBool = false
      case .float(let x): values.append(x); sawFloat = true; sawBool = false
      case .bool(let b): values.append(b ? 1 : 0)
      case .array(let a):
        if depth == shape.count { shape += a.shape }
        values += a.toDoubles()
        if a.dtype.isFloatingPoint { sawFloat = true }
        if a.dtype != .bool { sawBool = false }
      default:
        throw ShellError("cannot make an array from \(v.typeName)", at: range)
      }
    }
    try walk(v, depth: 0)
    if values.isEmpty { sawBool = false; sawFloat = true }
    let t = dtype ?? (sawFloat ? .float64 : (sawBool ? .bool : .int64))
    guard shape.reduce(1, *) == values.count else {
      throw ShellError("the nested lists do not form a rectangular array", at: range)
    }
    return NDArray(shape: shape, doubles: values, dtype: t)
  }

  static func getItem(_ a: NDArray, _ index: [Value], at range: SourceRange) throws -> Value {
    if index.count == 1, case .int(var k) = index[0], a.rank >= 1 {
      if k < 0 { k += a.shape[0] }
      guard k >= 0 && k < a.shape[0] else {
        throw ShellError("index \(index[0].repr) is out of bounds for axis 0 with size \(a.shape[0])", at: range)
      }
      return row(a, k)
    }
    throw ShellError("this kind of array indexing is not supported yet", at: range)
  }

  static func setItem(_ a: NDArray, _ index: [Value], _ v: Value, at range: SourceRange) throws -> NDArray {
    throw ShellError("assignment into arrays is not supported yet", at: range)
  }
}
