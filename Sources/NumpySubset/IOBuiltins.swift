import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// `load(path)` / `save(value, path)` (ks) and `np.load(path)` / `np.save(path, value)` (numpy order).
enum IOBuiltins {
  static func load(_ ctx: inout CallContext) throws -> Value {
    let p = try ctx.required(0, "path")
    let path = try ctx.string(p, "the path", at: ctx.rangeOf(0)).text
    try ctx.finish(maxPositional: 1)
    do {
      if path.lowercased().hasSuffix(".csv") || path.lowercased().hasSuffix(".txt") {
        return .array(try CSV.load(path))
      }
      return .array(try Npy.load(path))
    } catch let e as ArrayIOError {
      throw ShellError(e.message, at: ctx.rangeOf(0))
    }
  }

  static func save(_ ctx: inout CallContext, valueFirst: Bool) throws -> Value {
    let (vi, pi) = valueFirst ? (0, 1) : (1, 0)
    let v = try ctx.required(vi, valueFirst ? "value" : "arr")
    let p = try ctx.required(pi, valueFirst ? "path" : "file")
    let path = try ctx.string(p, "the path", at: ctx.rangeOf(pi)).text
    try ctx.finish(maxPositional: 2)
    let array: NDArray
    switch v {
    case .array(let a): array = a
    case .int(let i): array = NDArray(shape: [], int64: [Int64(i)])
    case .float(let x): array = NDArray(shape: [], float64: [x])
    case .complex(let re, let im): array = .scalar(complex: Complex128(re, im))
    case .list, .tuple: array = try NumpyOps.array(from: v, dtype: nil, at: ctx.rangeOf(vi))
    default: throw ShellError("can only save arrays, not \(v.typeName)", at: ctx.rangeOf(vi))
    }
    do {
      if path.lowercased().hasSuffix(".csv") || path.lowercased().hasSuffix(".txt") {
        try CSV.save(array, to: path)
      } else {
        try Npy.save(array, to: path.hasSuffix(".npy") || valueFirst ? path : path + ".npy")
      }
    } catch let e as ArrayIOError {
      throw ShellError(e.message, at: ctx.rangeOf(pi))
    }
    return .none
  }
}
