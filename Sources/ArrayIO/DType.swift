/// The element types of ks arrays, named as numpy names them.
public enum DType: String, Sendable, CaseIterable, Equatable {
  case float16, float32, float64, int64, bool

  /// Bytes per element.
  public var itemSize: Int {
    switch self {
    case .float16: return 2
    case .float32: return 4
    case .float64: return 8
    case .int64: return 8
    case .bool: return 1
    }
  }

  public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

  /// Parses "float32", "float", "double", "f4", "int64", ... as numpy accepts them.
  public init?(name: String) {
    switch name {
    case "float16", "half", "f2", "e": self = .float16
    case "float32", "single", "f4", "f": self = .float32
    case "float64", "double", "f8", "d", "float": self = .float64
    case "int64", "i8", "int", "long": self = .int64
    case "bool", "bool_", "?": self = .bool
    default: return nil
    }
  }
}
