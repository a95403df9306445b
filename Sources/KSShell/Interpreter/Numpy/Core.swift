import ArrayIO
import Foundation
import KSDiagnostics

// MARK: - Shapes

/// Row-major strides, in elements, of `shape`.
func cStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var s = 1
  for k in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[k] = s
    s *= shape[k]
  }
  return strides
}

/// A shape as numpy writes it in error messages: `(3,2)`, `(4,)`, `()`.
func compactShape(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ",") + ")"
}

/// A shape as Python writes the tuple: `(3, 2)`, `(4,)`, `()`.
func tupleShape(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}

/// The broadcast of shapes (numpy's rules: align on the right, sizes equal or 1), or nil.
func broadcastShapes(_ shapes: [[Int]]) -> [Int]? {
  let rank = shapes.map(\.count).max() ?? 0
  var out = [Int](repeating: 1, count: rank)
  for s in shapes {
    let shift = rank - s.count
    for (k, n) in s.enumerated() {
      let j = k + shift
      if out[j] == n || n == 1 { continue }
      if out[j] == 1 { out[j] = n } else { return nil }
    }
  }
  return out
}

/// The strides of `shape` when broadcast to `out` (0 along broadcast dimensions).
func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
  let own = cStrides(shape)
  let shift = out.count - shape.count
  var strides = [Int](repeating: 0, count: out.count)
  for k in 0..<shape.count where shape[k] != 1 { strides[k + shift] = own[k] }
  return strides
}

/// Every flat index of an array of `shape` read in the row-major order of `out` (broadcasting).
func broadcastOffsets(_ shape: [Int], to out: [Int]) -> [Int] {
  let n = out.reduce(1, *)
  if n == 0 { return [] }
  if shape == out { return Array(0..<n) }
  return stridedOffsets(out, broadcastStrides(shape, to: out), base: 0)
}

/// The offsets `base + Σ index[k] * strides[k]` over `shape` in row-major order.
func stridedOffsets(_ shape: [Int], _ strides: [Int], base: Int) -> [Int] {
  let n = shape.reduce(1, *)
  if n == 0 { return [] }
  let rank = shape.count
  if rank == 0 { return [base] }
  return [Int](unsafeUninitializedCapacity: n) { buf, count in
    let inner = shape[rank - 1], innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var offset = base
    var k = 0
    while true {
      var p = offset
      for _ in 0..<inner {
        buf[k] = p
        p += innerStride
        k += 1
      }
      var d = rank - 2
      while d >= 0 {
        index[d] += 1
        offset += strides[d]
        if index[d] < shape[d] { break }
        offset -= strides[d] * shape[d]
        index[d] = 0
        d -= 1
      }
      if d < 0 { break }
    }
    count = n
  }
}

/// `f` applied elementwise over the broadcast of `a` (shape `sa`) and `b` (shape `sb`) to `out`.
@inline(__always)
func broadcastMap<A, B, R>(
  _ a: [A], _ sa: [Int], _ b: [B], _ sb: [Int], to out: [Int], _ f: (A, B) -> R
) -> [R] {
  let n = out.reduce(1, *)
  if n == 0 { return [] }
  if sa == out && sb == out {
    return [R](unsafeUninitializedCapacity: n) { buf, count in
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          for i in 0..<n { buf[i] = f(pa[i], pb[i]) }
        }
      }
      count = n
    }
  }
  if b.count == 1 && sa == out {
    let y = b[0]
    return [R](unsafeUninitializedCapacity: n) { buf, count in
      a.withUnsafeBufferPointer { pa in
        for i in 0..<n { buf[i] = f(pa[i], y) }
      }
      count = n
    }
  }
  if a.count == 1 && sb == out {
    let x = a[0]
    return [R](unsafeUninitializedCapacity: n) { buf, count in
      b.withUnsafeBufferPointer { pb in
        for i in 0..<n { buf[i] = f(x, pb[i]) }
      }
      count = n
    }
  }
  let rank = out.count
  let stA = broadcastStrides(sa, to: out), stB = broadcastStrides(sb, to: out)
  return [R](unsafeUninitializedCapacity: n) { buf, count in
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        let inner = out[rank - 1], ia = stA[rank - 1], ib = stB[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var offA = 0, offB = 0, k = 0
        while true {
          var p = offA, q = offB
          for _ in 0..<inner {
            buf[k] = f(pa[p], pb[q])
            p += ia
            q += ib
            k += 1
          }
          var d = rank - 2
          while d >= 0 {
            index[d] += 1
            offA += stA[d]
            offB += stB[d]
            if index[d] < out[d] { break }
            offA -= stA[d] * out[d]
            offB -= stB[d] * out[d]
            index[d] = 0
            d -= 1
          }
          if d < 0 { break }
        }
      }
    }
    count = n
  }
}

/// The elements of `a` (shape `shape`) at the given flat offsets.
@inline(__always)
func gather<T>(_ a: [T], _ offsets: [Int]) -> [T] {
  [T](unsafeUninitializedCapacity: offsets.count) { buf, count in
    a.withUnsafeBufferPointer { pa in
      for (i, o) in offsets.enumerated() { buf[i] = pa[o] }
    }
    count = offsets.count
  }
}

// MARK: - dtypes

/// The kind of a dtype, numpy's promotion order: bool < integer < floating.
enum DTypeKind: Int, Comparable {
  case bool = 0, int = 1, float = 2

  static func < (a: DTypeKind, b: DTypeKind) -> Bool { a.rawValue < b.rawValue }

  /// The dtype a Python scalar of this kind becomes on its own.
  var defaultDType: DType {
    switch self {
    case .bool: return .bool
    case .int: return .int64
    case .float: return .float64
    }
  }
}

extension DType {
  var kind: DTypeKind {
    switch self {
    case .bool: return .bool
    case .int64: return .int
    case .float16, .float32, .float64: return .float
    }
  }
}

/// numpy 2's type promotion (NEP 50: Python scalars are "weak" and take the array's type).
enum Promotion {
  /// The common type of two dtypes (`np.promote_types`).
  static func promote(_ a: DType, _ b: DType) -> DType {
    if a == b { return a }
    if a == .bool { return b }
    if b == .bool { return a }
    if a == .int64 || b == .int64 { return .float64 }  // int64 with any float: float64
    if a == .float64 || b == .float64 { return .float64 }
    return .float32  // float16 with float32
  }

  /// The result type of an operation on these operands.
  static func result(_ operands: [Operand]) -> DType {
    var strong: DType?
    var weak: DTypeKind?
    for o in operands {
      if let w = o.weak {
        weak = max(weak ?? w, w)
      } else {
        strong = strong.map { promote($0, o.array.dtype) } ?? o.array.dtype
      }
    }
    guard let s = strong else { return (weak ?? .float).defaultDType }
    if let w = weak, w > s.kind { return w.defaultDType }
    return s
  }
}

/// An operand of a numpy operation: an array, and whether it came from a Python scalar (weak).
struct Operand {
  var array: NDArray
  /// The kind of the Python scalar it was made from, or nil for an array (or numpy scalar).
  var weak: DTypeKind?

  init(_ array: NDArray, weak: DTypeKind? = nil) {
    self.array = array
    self.weak = weak
  }

  var shape: [Int] { array.shape }
}

// MARK: - Typed element access

extension NDArray {
  /// A 0-d array (numpy scalar).
  static func scalar(_ x: Double, _ dtype: DType = .float64) -> NDArray {
    NDArray(shape: [], storage: ArrayStorage.make([x], dtype))
  }

  static func scalar(int x: Int64) -> NDArray { NDArray(shape: [], storage: .int64([x])) }
  static func scalar(bool x: Bool) -> NDArray { NDArray(shape: [], storage: .bool([x])) }

  var doubleValues: [Double] { toDoubles() }

  var floatValues: [Float] {
    switch storage {
    case .float16(let a): return a.map { Float($0) }
    case .float32(let a): return a
    case .float64(let a): return a.map { Float($0) }
    case .int64(let a): return a.map { Float($0) }
    case .bool(let a): return a.map { $0 ? 1 : 0 }
    }
  }

  /// The elements as int64: floats truncate toward zero; NaN, infinities and out-of-range values
  /// become the minimum int64 (as numpy's unsafe cast does on x86).
  var int64Values: [Int64] {
    switch storage {
    case .float16(let a): return a.map { int64Truncating(Double($0)) }
    case .float32(let a): return a.map { int64Truncating(Double($0)) }
    case .float64(let a): return a.map { int64Truncating($0) }
    case .int64(let a): return a
    case .bool(let a): return a.map { $0 ? 1 : 0 }
    }
  }

  var boolValues: [Bool] {
    switch storage {
    case .float16(let a): return a.map { $0 != 0 }
    case .float32(let a): return a.map { $0 != 0 }
    case .float64(let a): return a.map { $0 != 0 }
    case .int64(let a): return a.map { $0 != 0 }
    case .bool(let a): return a
    }
  }

  /// The same elements as `dtype` (numpy's unsafe casting, as `astype`).
  func cast(_ dtype: DType) -> NDArray {
    if dtype == self.dtype { return self }
    let s: ArrayStorage
    switch dtype {
    case .float16:
      if case .float32(let a) = storage { s = .float16(a.map { Float16($0) }) } else { s = .float16(doubleValues.map { Float16($0) }) }
    case .float32: s = .float32(floatValues)
    case .float64: s = .float64(doubleValues)
    case .int64: s = .int64(int64Values)
    case .bool: s = .bool(boolValues)
    }
    return NDArray(shape: shape, storage: s)
  }

  /// The same storage with another shape (same element count).
  func withShape(_ newShape: [Int]) -> NDArray { NDArray(shape: newShape, storage: storage) }

  /// The elements at the given flat offsets, with a new shape.
  func gathered(_ offsets: [Int], shape newShape: [Int]) -> NDArray {
    NDArray(shape: newShape, storage: storage.gathered(offsets))
  }

  /// This array broadcast (materialised) to `out`.
  func broadcast(to out: [Int]) -> NDArray {
    if shape == out { return self }
    return gathered(broadcastOffsets(shape, to: out), shape: out)
  }

  /// Python's value of element `i`: int, float or bool.
  func pythonValue(at i: Int) -> Value {
    switch storage {
    case .float16(let a): return .float(Double(a[i]))
    case .float32(let a): return .float(Double(a[i]))
    case .float64(let a): return .float(a[i])
    case .int64(let a): return .int(Int(a[i]))
    case .bool(let a): return .bool(a[i])
    }
  }
}

/// Double to int64 as C's cast on x86 does for numpy (out of range: the minimum int64).
@inline(__always)
func int64Truncating(_ x: Double) -> Int64 {
  if x.isNaN || x >= 9.223372036854775807e18 || x < -9.223372036854775808e18 { return Int64.min }
  return Int64(x)
}

extension ArrayStorage {
  /// Storage of `dtype` holding doubles converted.
  static func make(_ values: [Double], _ dtype: DType) -> ArrayStorage {
    switch dtype {
    case .float16: return .float16(values.map { Float16($0) })
    case .float32: return .float32(values.map { Float($0) })
    case .float64: return .float64(values)
    case .int64: return .int64(values.map { int64Truncating($0) })
    case .bool: return .bool(values.map { $0 != 0 })
    }
  }

  func gathered(_ offsets: [Int]) -> ArrayStorage {
    switch self {
    case .float16(let a): return .float16(gather(a, offsets))
    case .float32(let a): return .float32(gather(a, offsets))
    case .float64(let a): return .float64(gather(a, offsets))
    case .int64(let a): return .int64(gather(a, offsets))
    case .bool(let a): return .bool(gather(a, offsets))
    }
  }

  /// An empty storage of `dtype`.
  static func empty(_ dtype: DType) -> ArrayStorage { make([], dtype) }
}

// MARK: - Values to arrays

extension NumpyOps {
  /// A value as an operand: Python scalars are weak, lists become arrays.
  static func operand(_ v: Value, at range: SourceRange) throws(ShellError) -> Operand {
    switch v {
    case .array(let a): return Operand(a)
    case .int(let i): return Operand(.scalar(int: Int64(i)), weak: .int)
    case .float(let x): return Operand(.scalar(x), weak: .float)
    case .bool(let b): return Operand(.scalar(bool: b), weak: .bool)
    case .list, .tuple: return Operand(try array(from: v, dtype: nil, at: range))
    default:
      throw ShellError("expected a number or an array, not \(v.typeName)", at: range)
    }
  }

  /// A value as an array (`np.asarray`).
  static func toArray(_ v: Value, at range: SourceRange) throws(ShellError) -> NDArray {
    try operand(v, at: range).array
  }

  /// A 0-d integer array or Python int as an `Int`, for list indices and counts.
  static func pythonIndex(_ v: Value) -> Value {
    if case .array(let a) = v, a.rank == 0, a.dtype == .int64 || a.dtype == .bool {
      return a.dtype == .bool ? .bool(a.boolValues[0]) : .int(Int(a.int64Values[0]))
    }
    return v
  }
}
