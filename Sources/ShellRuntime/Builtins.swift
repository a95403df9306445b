import ArrayIO
import FormulaLanguage
import Foundation
import KSDiagnostics
import ShellSyntax

/// Python's built-in functions: the runtime's own library.
public enum Builtins {
  public static func fn(_ name: String, _ body: @escaping @Sendable (inout CallContext) throws(ShellError) -> Value) -> Value {
    .builtin(BuiltinFunction(name, body))
  }

  /// Wraps a throwing-any body as a builtin.
  public static func anyFn(_ name: String, _ body: @escaping @Sendable (inout CallContext) throws -> Value) -> Value {
    .builtin(
      BuiltinFunction(name) { (ctx: inout CallContext) throws(ShellError) -> Value in
        do {
          return try body(&ctx)
        } catch let e as ShellError {
          throw e
        } catch {
          throw ShellError("\(error)", at: ctx.range)
        }
      })
  }

  /// Python's builtins as a library (always installed first).
  public static let library = ShellLibrary(globals: makeGlobals())

  static func makeGlobals() -> [String: Value] {
    var g: [String: Value] = [:]
    g["print"] = anyFn("print") { ctx in
      var sep = " ", end = "\n"
      if let kw = ctx.keywords.first(where: { $0.name == "sep" }) { sep = kw.value.str }
      if let kw = ctx.keywords.first(where: { $0.name == "end" }) { end = kw.value.str }
      _ = try ctx.optional(nil, "sep")
      _ = try ctx.optional(nil, "end")
      if let f = try ctx.optional(nil, "flush") { _ = f }
      try ctx.finish(maxPositional: Int.max)
      let options = ctx.interpreter.state.printOptions
      let text = ctx.positional.map { $0.str(with: options) }.joined(separator: sep)
      ctx.interpreter.output(text + end)
      return .none
    }
    g["len"] = anyFn("len") { ctx in
      let v = try ctx.required(0, "obj")
      try ctx.finish(maxPositional: 1)
      switch v {
      case .list(let a), .tuple(let a): return .int(a.count)
      case .string(let s): return .int(s.text.count)
      case .dict(let d): return .int(d.count)
      case .array(let a):
        guard a.rank > 0 else { throw ShellError("len() of unsized object", at: ctx.rangeOf(0)) }
        return .int(a.shape[0])
      default: throw ShellError("object of type '\(v.typeName)' has no len()", at: ctx.rangeOf(0))
      }
    }
    g["str"] = anyFn("str") { ctx in
      let v = try ctx.optional(0, "object") ?? .str("")
      try ctx.finish(maxPositional: 1)
      return .str(v.str(with: ctx.interpreter.state.printOptions))
    }
    g["repr"] = anyFn("repr") { ctx in
      let v = try ctx.required(0, "obj")
      try ctx.finish(maxPositional: 1)
      return .str(v.repr(with: ctx.interpreter.state.printOptions))
    }
    g["int"] = anyFn("int") { ctx in
      let v = try ctx.optional(0, "x") ?? .int(0)
      try ctx.finish(maxPositional: 1)
      switch v {
      case .int: return v
      case .bool(let b): return .int(b ? 1 : 0)
      case .float(let x):
        guard x.isFinite else { throw ShellError("cannot convert float \(pythonFloatRepr(x)) to integer", at: ctx.rangeOf(0)) }
        return .int(Int(x))
      case .string(let s):
        guard let i = Int(s.text.trimmingCharacters(in: .whitespaces)) else {
          throw ShellError("invalid literal for int() with base 10: \(pythonStringRepr(s.text))", at: ctx.rangeOf(0))
        }
        return .int(i)
      case .array(let a) where a.count == 1:
        if a.dtype == .int64 || a.dtype == .bool { return .int(Int(a.int64Values[0])) }
        let x = a.double(at: 0)
        guard x.isFinite else { throw ShellError("cannot convert float \(pythonFloatRepr(x)) to integer", at: ctx.rangeOf(0)) }
        return .int(Int(x))
      default: throw ShellError("int() argument must be a string or a number, not '\(v.typeName)'", at: ctx.rangeOf(0))
      }
    }
    g["float"] = anyFn("float") { ctx in
      let v = try ctx.optional(0, "x") ?? .float(0)
      try ctx.finish(maxPositional: 1)
      switch v {
      case .string(let s):
        let t = s.text.trimmingCharacters(in: .whitespaces).lowercased()
        if let x = Double(t) { return .float(x) }
        if t == "inf" || t == "+inf" { return .float(.infinity) }
        if t == "-inf" { return .float(-.infinity) }
        if t == "nan" { return .float(.nan) }
        throw ShellError("could not convert string to float: \(pythonStringRepr(s.text))", at: ctx.rangeOf(0))
      default: return .float(try ctx.double(v, "float() argument", at: ctx.rangeOf(0)))
      }
    }
    g["bool"] = anyFn("bool") { ctx in
      let v = try ctx.optional(0, "x") ?? .bool(false)
      try ctx.finish(maxPositional: 1)
      return .bool(try ctx.interpreter.truth(v, at: ctx.rangeOf(0)))
    }
    g["abs"] = anyFn("abs") { ctx in
      let v = try ctx.required(0, "x")
      try ctx.finish(maxPositional: 1)
      switch v {
      case .int(let i): return .int(Swift.abs(i))
      case .float(let x): return .float(Swift.abs(x))
      default: return try ctx.interpreter.callLibraryFunction("numpy", "abs", &ctx)
      }
    }
    g["round"] = anyFn("round") { ctx in
      let v = try ctx.required(0, "number")
      let nd = try ctx.optional(1, "ndigits")
      try ctx.finish(maxPositional: 2)
      let x = try ctx.double(v, "round() argument", at: ctx.rangeOf(0))
      guard let nd, !nd.isNone else {
        guard x.isFinite else { throw ShellError("cannot convert float \(pythonFloatRepr(x)) to integer", at: ctx.rangeOf(0)) }
        // Python rounds half to even and returns an int.
        return .int(Int(x.rounded(.toNearestOrEven)))
      }
      let k = try ctx.int(nd, "ndigits", at: ctx.rangeOf(1))
      let scale = Foundation.pow(10.0, Double(k))
      let r = (x * scale).rounded(.toNearestOrEven) / scale
      // Python's round is exact on the decimal representation; use the shortest repr as a check.
      if let exact = Double(String(format: "%.\(max(0, k))f", x)), k >= 0 { return .float(exact) }
      return .float(r)
    }
    g["range"] = anyFn("range") { ctx in
      var a = 0, b = 0, s = 1
      let args = ctx.positional
      try ctx.finish(maxPositional: 3)
      let ints = try args.enumerated().map { (k, v) throws(ShellError) in try ctx.int(v, "range() argument", at: ctx.rangeOf(k)) }
      switch ints.count {
      case 1: b = ints[0]
      case 2: a = ints[0]; b = ints[1]
      case 3: a = ints[0]; b = ints[1]; s = ints[2]
      default: throw ShellError("range expected 1 to 3 arguments, got \(ints.count)", at: ctx.range)
      }
      if s == 0 { throw ShellError("range() arg 3 must not be zero", at: ctx.range) }
      return .list(Swift.stride(from: a, to: b, by: s).map { .int($0) })
    }
    g["list"] = anyFn("list") { ctx in
      let v = try ctx.optional(0, "iterable")
      try ctx.finish(maxPositional: 1)
      guard let v else { return .list([]) }
      return .list(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)))
    }
    g["tuple"] = anyFn("tuple") { ctx in
      let v = try ctx.optional(0, "iterable")
      try ctx.finish(maxPositional: 1)
      guard let v else { return .tuple([]) }
      return .tuple(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)))
    }
    g["enumerate"] = anyFn("enumerate") { ctx in
      let v = try ctx.required(0, "iterable")
      var start = 0
      if let s = try ctx.optional(1, "start") { start = try ctx.int(s, "start", at: ctx.rangeOf(1, "start")) }
      try ctx.finish(maxPositional: 2)
      return .list(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)).enumerated().map { .tuple([.int($0.offset + start), $0.element]) })
    }
    g["zip"] = anyFn("zip") { ctx in
      let lists = try ctx.positional.enumerated().map { try ctx.interpreter.iterate($0.element, at: ctx.rangeOf($0.offset)) }
      try ctx.finish(maxPositional: Int.max)
      let n = lists.map(\.count).min() ?? 0
      return .list((0..<n).map { i in .tuple(lists.map { $0[i] }) })
    }
    g["sorted"] = anyFn("sorted") { ctx in
      let v = try ctx.required(0, "iterable")
      var reverse = false
      if let r = try ctx.optional(nil, "reverse") { reverse = try ctx.bool(r, "reverse", at: ctx.rangeOf(keyword: "reverse")) }
      try ctx.finish(maxPositional: 1)
      let items = try ctx.interpreter.iterate(v, at: ctx.rangeOf(0))
      let interp = ctx.interpreter
      var failure: Error?
      var sortedItems = items.sorted { a, b in
        do { return try interp.truth(try interp.compare(.less, a, b, at: ctx.range), at: ctx.range) } catch {
          failure = error
          return false
        }
      }
      if let failure { throw failure }
      if reverse { sortedItems.reverse() }
      return .list(sortedItems)
    }
    for name in ["min", "max", "sum"] {
      g[name] = anyFn(name) { ctx in
        if ctx.positional.count == 1, case .array = ctx.positional[0] { return try ctx.interpreter.callLibraryFunction("numpy", name, &ctx) }
        var items = ctx.positional.count == 1 ? try ctx.interpreter.iterate(ctx.positional[0], at: ctx.rangeOf(0)) : ctx.positional
        var start: Value = .int(0)
        if name == "sum", let s = try ctx.optional(1, "start") { start = s; if ctx.positional.count == 2 { items = try ctx.interpreter.iterate(ctx.positional[0], at: ctx.rangeOf(0)) } }
        try ctx.finish(maxPositional: name == "sum" ? 2 : Int.max)
        if name == "sum" {
          var acc = start
          for x in items { acc = try ctx.interpreter.binary(.add, acc, x, at: ctx.range) }
          return acc
        }
        guard var best = items.first else { throw ShellError("\(name)() arg is an empty sequence", at: ctx.range) }
        for x in items.dropFirst() {
          let better = try ctx.interpreter.truth(try ctx.interpreter.compare(name == "min" ? .less : .greater, x, best, at: ctx.range), at: ctx.range)
          if better { best = x }
        }
        return best
      }
    }
    g["isinstance"] = anyFn("isinstance") { ctx in
      throw ShellError("isinstance() is not supported in ks", at: ctx.range)
    }
    return g
  }
}
