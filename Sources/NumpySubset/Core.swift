import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

// MARK: - dtypes

/// The kind of a dtype, numpy's promotion order: bool < integer < floating < complex.
enum DTypeKind: Int, Comparable {
  case bool = 0, int = 1, float = 2, complex = 3

  static func < (a: DTypeKind, b: DTypeKind) -> Bool { a.rawValue < b.rawValue }

  /// The dtype a Python scalar of this kind becomes on its own.
  var defaultDType: DType {
    switch self {
    case .bool: return .bool
    case .int: return .int64
    case .float: return .float64
    case .complex: return .complex128
    }
  }
}

extension DType {
  var kind: DTypeKind {
    switch self {
    case .bool: return .bool
    case .int64: return .int
    case .float16, .float32, .float64: return .float
    case .complex64, .complex128: return .complex
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
    if a.isComplex || b.isComplex {
      // complex64 only with float16/float32/complex64; anything wider (or int64) gives complex128.
      let narrow: Set<DType> = [.float16, .float32, .complex64]
      return narrow.contains(a) && narrow.contains(b) ? .complex64 : .complex128
    }
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
    // A Python complex with a float array keeps the array's precision (float32 -> complex64).
    if weak == .complex && s.kind == .float { return s == .float64 ? .complex128 : .complex64 }
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


extension NDArray {
  /// Python's value of element `i`: int, float or bool.
  func pythonValue(at i: Int) -> Value {
    switch storage {
    case .float16(let a): return .float(Double(a[i]))
    case .float32(let a): return .float(Double(a[i]))
    case .float64(let a): return .float(a[i])
    case .int64(let a): return .int(Int(a[i]))
    case .bool(let a): return .bool(a[i])
    case .complex64(let a): return .complex(Double(a[i].re), Double(a[i].im))
    case .complex128(let a): return .complex(a[i].re, a[i].im)
    }
  }
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
    case .complex(let re, let im): return Operand(.scalar(complex: Complex128(re, im)), weak: .complex)
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
