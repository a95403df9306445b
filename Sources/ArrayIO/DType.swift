/// The element types of ks arrays, named as numpy names them.
public enum DType: String, Sendable, CaseIterable, Equatable {
  case float16, float32, float64, int64, bool, complex64, complex128

  /// Bytes per element.
  public var itemSize: Int {
    switch self {
    case .float16: return 2
    case .float32: return 4
    case .float64: return 8
    case .int64: return 8
    case .bool: return 1
    case .complex64: return 8
    case .complex128: return 16
    }
  }

  public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

  public var isComplex: Bool { self == .complex64 || self == .complex128 }

  /// The real type of a complex dtype's parts (complex64: float32), or the dtype itself.
  public var realPart: DType {
    switch self {
    case .complex64: return .float32
    case .complex128: return .float64
    default: return self
    }
  }

  /// Parses "float32", "float", "double", "f4", "int64", ... as numpy accepts them.
  public init?(name: String) {
    switch name {
    case "float16", "half", "f2", "e": self = .float16
    case "float32", "single", "f4", "f": self = .float32
    case "float64", "double", "f8", "d", "float": self = .float64
    case "int64", "i8", "int", "long": self = .int64
    case "bool", "bool_", "?": self = .bool
    case "complex64", "csingle", "c8", "F": self = .complex64
    case "complex128", "cdouble", "c16", "D", "complex", "complex_": self = .complex128
    default: return nil
    }
  }
}
