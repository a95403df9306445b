import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// numpy semantics for arrays in the interpreter's operators: broadcasting arithmetic with numpy
/// 2's type promotion, comparisons, indexing, and conversion of Python values to arrays.
///
/// 0-d arrays stand for numpy scalars (`x[0]` of a 1-D array, `np.sum(x)`, `np.float64(3)`): they
/// print as numpy scalars (`1.5`, repr `np.float64(1.5)`) and take part in operations as arrays.
enum NumpyOps {
  static func unary(_ op: UnaryOperator, _ a: NDArray, at range: SourceRange) throws(ShellError) -> NDArray {
    switch op {
    case .negate: return try Ufunc.unary(.negative, a, at: range)
    case .plus: return try Ufunc.unary(.positive, a, at: range)
    case .invert: return try Ufunc.unary(.invert, a, at: range)
    case .not: return .scalar(bool: a.boolValues.allSatisfy { !$0 })
    }
  }

  static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, at range: SourceRange) throws(ShellError) -> Value {
    if op == .matrixMultiply {
      return .array(try Linalg.matmul(try toArray(a, at: range), try toArray(b, at: range), at: range))
    }
    guard let math = BinaryMath(op) else { throw ShellError("unsupported operator \(op.symbol) for arrays", at: range) }
    let x = try operandForOperator(a, op, at: range)
    let y = try operandForOperator(b, op, at: range)
    return .array(try Ufunc.binary(math, x, y, at: range))
  }

  /// `a op= b` on an array: numpy computes `op(a, b, out=a)`, so the result keeps `a`'s shape and
  /// dtype (cast with numpy's 'same_kind' rule: a float result cannot go into an int array).
  /// numpy scalars (0-d) are immutable, so for them `a op= b` is `a = a op b`.
  static func augmented(_ op: BinaryOperator, _ a: NDArray, _ b: Value, at range: SourceRange) throws(ShellError) -> Value {
    let result = try binary(op, .array(a), b, at: range)
    guard a.rank > 0, case .array(let r) = result else { return result }
    if r.shape != a.shape {
      throw ShellError(
        "non-broadcastable output operand with shape \(compactShape(a.shape)) doesn't match the broadcast shape \(compactShape(r.shape))",
        at: range)
    }
    if r.dtype != a.dtype && r.dtype.kind > a.dtype.kind {
      let name = BinaryMath(op)?.rawValue ?? op.symbol
      throw ShellError(
        "Cannot cast ufunc '\(name)' output from dtype('\(r.dtype.rawValue)') to dtype('\(a.dtype.rawValue)') with casting rule 'same_kind'",
        at: range)
    }
    return .array(r.cast(a.dtype))
  }

  private static func operandForOperator(_ v: Value, _ op: BinaryOperator, at range: SourceRange) throws(ShellError) -> Operand {
    switch v {
    case .array, .int, .float, .complex, .bool, .list, .tuple: return try operand(v, at: range)
    default:
      throw ShellError("unsupported operand types for \(op.symbol): 'ndarray' and '\(v.typeName)'", at: range)
    }
  }

  static func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value, at range: SourceRange) throws(ShellError) -> Value {
    switch op {
    case .isIn, .notIn:
      guard case .array(let hay) = b else {
        throw ShellError("'in' with an array on the left needs a container on the right", at: range)
      }
      let eq = try Ufunc.compare(.equal, try operand(a, at: range), Operand(hay), at: range)
      let found = eq.boolValues.contains(true)
      return .bool(op == .isIn ? found : !found)
    case .identical, .notIdentical:
      return .bool(op == .notIdentical)
    case .equal, .notEqual:
      // Comparing with None or a string gives all-False (==) / all-True (!=), as numpy does.
      for v in [a, b] {
        switch v {
        case .array, .int, .float, .complex, .bool, .list, .tuple: continue
        default:
          let other: NDArray
          if case .array(let x) = a { other = x } else if case .array(let x) = b { other = x } else { other = .scalar(bool: false) }
          return .array(NDArray(shape: other.shape, storage: .bool([Bool](repeating: op == .notEqual, count: other.count))))
        }
      }
    default: break
    }
    for v in [a, b] {
      switch v {
      case .array, .int, .float, .complex, .bool, .list, .tuple: continue
      default:
        throw ShellError("'\(op.symbol)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", at: range)
      }
    }
    return .array(try Ufunc.compare(op, try operand(a, at: range), try operand(b, at: range), at: range))
  }

  /// `a[k]` along the first axis (a numpy scalar for a 1-D array).
  static func row(_ a: NDArray, _ k: Int) -> Value {
    let inner = Array(a.shape.dropFirst())
    let n = inner.reduce(1, *)
    return .array(a.gathered(Array((k * n)..<((k + 1) * n)), shape: inner))
  }

  /// `np.array(obj)`: nested lists and tuples of numbers and arrays to an array, with numpy's
  /// dtype inference (any float: float64; ints: int64; only bools: bool; arrays keep theirs).
  static func array(from v: Value, dtype: DType?, at range: SourceRange) throws(ShellError) -> NDArray {
    if case .array(let a) = v { return dtype.map { a.cast($0) } ?? a }
    var shape: [Int] = []
    var shapeFixed = false
    var doubles: [Double] = []
    var ints: [Int64] = []
    var imaginary: [Double] = []
    var inferred: DType?
    func inhomogeneous(_ depth: Int) -> ShellError {
      ShellError(
        "setting an array element with a sequence. The requested array has an inhomogeneous shape after \(depth) dimensions. The detected shape was \(tupleShape(Array(shape.prefix(depth)))) + inhomogeneous part.",
        at: range)
    }
    func leaf(_ d: DType, _ x: Double, _ i: Int64, depth: Int, imag: Double = 0) throws(ShellError) {
      if !shapeFixed {
        shapeFixed = true
        shape = Array(shape.prefix(depth))
      } else if depth != shape.count {
        throw inhomogeneous(Swift.min(depth, shape.count))
      }
      inferred = inferred.map { Promotion.promote($0, d) } ?? d
      doubles.append(x)
      ints.append(i)
      imaginary.append(imag)
    }
    func walk(_ v: Value, depth: Int) throws(ShellError) {
      switch v {
      case .list(let items), .tuple(let items):
        if !shapeFixed {
          if depth == shape.count { shape.append(items.count) } else if shape[depth] != items.count { throw inhomogeneous(depth) }
        } else if depth >= shape.count || shape[depth] != items.count {
          throw inhomogeneous(Swift.min(depth, shape.count))
        }
        if items.isEmpty && !shapeFixed {
          shapeFixed = true
          shape = Array(shape.prefix(depth + 1))
        }
        for item in items { try walk(item, depth: depth + 1) }
      case .int(let i): try leaf(.int64, Double(i), Int64(i), depth: depth)
      case .float(let x): try leaf(.float64, x, int64Truncating(x), depth: depth)
      case .bool(let b): try leaf(.bool, b ? 1 : 0, b ? 1 : 0, depth: depth)
      case .complex(let re, let im): try leaf(.complex128, re, int64Truncating(re), depth: depth, imag: im)
      case .array(let a):
        if a.rank == 0 {
          try leaf(a.dtype, a.doubleValues[0], a.int64Values[0], depth: depth, imag: a.imaginaryDoubles()[0])
          return
        }
        let full = shape.prefix(depth) + a.shape
        if !shapeFixed {
          shapeFixed = true
          if shape.count > depth && Array(shape[depth...]) != Array(a.shape.prefix(shape.count - depth)) { throw inhomogeneous(depth) }
          shape = Array(full)
        } else if Array(full) != shape {
          throw inhomogeneous(depth)
        }
        inferred = inferred.map { Promotion.promote($0, a.dtype) } ?? a.dtype
        doubles += a.doubleValues
        ints += a.int64Values
        imaginary += a.imaginaryDoubles()
      case .string:
        throw ShellError("ks arrays hold numbers only, not strings", at: range)
      default:
        throw ShellError("cannot make an array from \(v.typeName)", at: range)
      }
    }
    try walk(v, depth: 0)
    let t = dtype ?? inferred ?? .float64
    if inferred?.kind == .complex && !t.isComplex {
      throw ShellError(
        "cannot convert complex values to \(t.rawValue) (take .real or abs() first)", type: "TypeError", at: range)
    }
    switch t {
    case .complex64, .complex128:
      return NDArray(shape: shape, complex: zip(doubles, imaginary).map { Complex128($0, $1) }, dtype: t)
    case .int64: return NDArray(shape: shape, storage: .int64(inferred?.kind == .float ? doubles.map(int64Truncating) : ints))
    case .bool: return NDArray(shape: shape, storage: .bool(doubles.map { $0 != 0 }))
    default: return NDArray(shape: shape, storage: ArrayStorage.make(doubles, t))
    }
  }

  /// `a[index]`; `itemRanges` (one per index item) place errors on the offending item.
  static func getItem(_ a: NDArray, _ index: [Value], at range: SourceRange, itemRanges: [SourceRange]? = nil) throws(ShellError) -> Value {
    .array(try Indexing.get(a, index, at: range, itemRanges: itemRanges))
  }

  /// `a[index] = v`, as the new array.
  static func setItem(
    _ a: NDArray, _ index: [Value], _ v: Value, at range: SourceRange, itemRanges: [SourceRange]? = nil
  ) throws(ShellError) -> NDArray {
    try Indexing.set(a, index, v, at: range, itemRanges: itemRanges)
  }
}
