import ArrayIO
import KSDiagnostics

/// Array methods (`astype`, `item`, `reshape`, `sum`, ...).
enum ArrayMethods {
  static func attribute(_ a: NDArray, _ name: String, at range: SourceRange) throws -> Value? {
    switch name {
    case "astype", "item", "reshape", "tolist", "copy", "flatten", "ravel":
      return .method(receiver: Value.Box(.array(a)), name: name)
    default:
      return nil
    }
  }

  static func call(_ a: NDArray, _ name: String, _ ctx: inout CallContext) throws -> Value {
    switch name {
    case "astype":
      let d = try NumpyFunctions.dtypeArgument(try ctx.required(0, "dtype"), ctx, at: ctx.rangeOf(0))
      try ctx.finish(maxPositional: 1)
      return .array(a.converted(to: d))
    case "item":
      try ctx.finish(maxPositional: 0)
      guard a.count == 1 else {
        throw ShellError("can only convert an array of size 1 to a Python scalar (this one has \(a.count) elements)", at: ctx.range)
      }
      switch a.dtype {
      case .int64: return .int(Int(a.double(at: 0)))
      case .bool: return .bool(a.double(at: 0) != 0)
      default: return .float(a.double(at: 0))
      }
    case "copy":
      return .array(a)
    case "flatten", "ravel":
      return .array(a.reshaped([a.count]))
    default:
      throw ShellError("'ndarray' object has no method '\(name)' in ks", at: ctx.range)
    }
  }
}
