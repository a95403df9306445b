import ArrayIO
import KSDiagnostics
import ShellSyntax

/// Attributes and methods of values: `a.shape`, `a.reshape(...)`, `"{}".format(x)`.
enum Methods {
  static func attribute(_ v: Value, _ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value {
    switch v {
    case .array(let a):
      switch name {
      case "shape": return .tuple(a.shape.map { .int($0) })
      case "dtype": return .dtype(a.dtype)
      case "ndim": return .int(a.rank)
      case "size": return .int(a.count)
      default:
        if let attr = try interpreter.arrays(at: range).attribute(a, name, at: range) { return attr }
      }
    case .string:
      if ["format", "upper", "lower", "strip", "split", "join", "startswith", "endswith", "replace"].contains(name) {
        return .method(receiver: Value.Box(v), name: name)
      }
    case .builtin(let b) where name == "__name__":
      return .str(b.name)
    case .list, .dict:
      if ContainerMethods.has(v, name) { return .method(receiver: Value.Box(v), name: name) }
    case .object(let o):
      if let attr = try o.attribute(name, at: range, in: interpreter) { return attr }
    case .complex(let re, let im):
      switch name {
      case "real": return .float(re)
      case "imag": return .float(im)
      case "conjugate": return .method(receiver: Value.Box(v), name: name)
      default: break
      }
    case .int, .float, .bool:
      switch name {
      case "real": return v
      case "imag": return interpreter.isComplex(v) ? v : (v.typeName == "float" ? .float(0) : .int(0))
      case "conjugate": return .method(receiver: Value.Box(v), name: name)
      default: break
      }
    case .dtype(let d):
      if name == "name" { return .str(d.rawValue) }
      if name == "itemsize" { return .int(d.itemSize) }
    default:
      break
    }
    throw ShellError("'\(v.typeName)' object has no attribute '\(name)'", at: range)
  }

  static func call(_ receiver: Value, _ name: String, _ ctx: inout CallContext) throws -> Value {
    switch receiver {
    case .complex(let re, let im) where name == "conjugate":
      try ctx.finish(maxPositional: 0)
      return .complex(re, -im)
    case .int, .float, .bool where name == "conjugate":
      try ctx.finish(maxPositional: 0)
      if case .bool(let b) = receiver { return .int(b ? 1 : 0) }
      return receiver
    case .string(let s):
      switch name {
      case "format":
        let text = try Format.format(s.text, ctx, at: ctx.range)
        return .str(text)
      case "upper": return .str(s.text.uppercased())
      case "lower": return .str(s.text.lowercased())
      case "strip": return .str(s.text.trimmingCharacters(in: .whitespacesAndNewlines))
      case "startswith": return .bool(s.text.hasPrefix(try ctx.string(try ctx.required(0, "prefix"), "prefix", at: ctx.rangeOf(0)).text))
      case "endswith": return .bool(s.text.hasSuffix(try ctx.string(try ctx.required(0, "suffix"), "suffix", at: ctx.rangeOf(0)).text))
      case "replace":
        let a = try ctx.string(try ctx.required(0, "old"), "old", at: ctx.rangeOf(0)).text
        let b = try ctx.string(try ctx.required(1, "new"), "new", at: ctx.rangeOf(1)).text
        return .str(s.text.replacingOccurrences(of: a, with: b))
      case "split":
        if let sep = try ctx.optional(0, "sep"), case .string(let t) = sep {
          return .list(s.text.components(separatedBy: t.text).map { .str($0) })
        }
        return .list(s.text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map { .str(String($0)) })
      case "join":
        let items = try ctx.interpreter.iterate(try ctx.required(0, "iterable"), at: ctx.rangeOf(0))
        return .str(items.map(\.str).joined(separator: s.text))
      default: break
      }
    case .array(let a):
      return try ctx.interpreter.arrays(at: ctx.range).callMethod(a, name, &ctx)
    default:
      break
    }
    throw ShellError("'\(receiver.typeName)' object has no method '\(name)'", at: ctx.range)
  }
}

