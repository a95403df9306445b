import ArrayIO
import FormulaLanguage
import Foundation
import KSDiagnostics
import ShellSyntax

/// Python's built-in functions: the runtime's own library.
public enum Builtins {
  public static func fn(
    _ name: String, doc: FunctionDoc? = nil, _ body: @escaping @Sendable (inout CallContext) throws(ShellError) -> Value
  ) -> Value {
    .builtin(BuiltinFunction(name, doc: doc, body))
  }

  /// Wraps a throwing-any body as a builtin.
  public static func anyFn(
    _ name: String, doc: FunctionDoc? = nil, _ body: @escaping @Sendable (inout CallContext) throws -> Value
  ) -> Value {
    .builtin(
      BuiltinFunction(name, doc: doc) { (ctx: inout CallContext) throws(ShellError) -> Value in
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
  public static let library = ShellLibrary(
    globals: makeGlobals().merging(ExceptionClasses.globals) { a, _ in a }, modules: [TimeModule.module])

  static func makeGlobals() -> [String: Value] {
    var g: [String: Value] = [:]
    g["print"] = anyFn("print", doc: FunctionDoc("print(*values, sep=' ', end='\\n')", "print values (arrays as numpy's str)", "print(\"mean error:\", err)")) { ctx in
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
    g["len"] = anyFn("len", doc: FunctionDoc("len(obj)", "number of items; the rows of an array", "len(x)")) { ctx in
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
    g["str"] = anyFn("str", doc: FunctionDoc("str(obj)", "the printed form of a value", "str(3.5)")) { ctx in
      let v = try ctx.optional(0, "object") ?? .str("")
      try ctx.finish(maxPositional: 1)
      return .str(v.str(with: ctx.interpreter.state.printOptions))
    }
    g["repr"] = anyFn("repr", doc: FunctionDoc("repr(obj)", "the echoed form of a value", "repr(\"a\")")) { ctx in
      let v = try ctx.required(0, "obj")
      try ctx.finish(maxPositional: 1)
      return .str(v.repr(with: ctx.interpreter.state.printOptions))
    }
    g["int"] = anyFn("int", doc: FunctionDoc("int(x)", "an integer, truncating a float or parsing a string", "int(2.7)")) { ctx in
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
      case .complex: throw ShellError("int() argument must be a string, a bytes-like object or a real number, not 'complex'", type: "TypeError", at: ctx.rangeOf(0))
      default: throw ShellError("int() argument must be a string or a number, not '\(v.typeName)'", at: ctx.rangeOf(0))
      }
    }
    g["float"] = anyFn("float", doc: FunctionDoc("float(x)", "a float from a number or a string", "float(\"1e-6\")")) { ctx in
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
      case .complex: throw ShellError("float() argument must be a string or a real number, not 'complex'", type: "TypeError", at: ctx.rangeOf(0))
      default: return .float(try ctx.double(v, "float() argument", at: ctx.rangeOf(0)))
      }
    }
    g["complex"] = anyFn(
      "complex", doc: FunctionDoc("complex(real=0, imag=0)", "a complex number real + imag*1j, or one parsed from a string", "complex(1, 2)")
    ) { ctx in
      let re = try ctx.optional(0, "real")
      let im = try ctx.optional(1, "imag")
      try ctx.finish(maxPositional: 2)
      func parts(_ v: Value?, _ index: Int, _ name: String) throws(ShellError) -> (Double, Double) {
        guard let v else { return (0, 0) }
        switch v {
        case .complex(let a, let b): return (a, b)
        case .array(let a) where a.count == 1 && a.dtype.isComplex:
          let z = a.complexValues[0]
          return (z.re, z.im)
        case .string where index == 1:
          throw ShellError("complex() second arg can't be a string", type: "TypeError", at: ctx.rangeOf(index))
        case .string where name == "real":
          throw ShellError("complex() can't take second arg if first is a string", type: "TypeError", at: ctx.rangeOf(index))
        case .int, .float, .bool, .array:
          return (try ctx.double(v, "complex() argument '\(name)'", at: ctx.rangeOf(index)), 0)
        default:
          throw ShellError(
            "complex() argument '\(name)' must be a real number, not '\(v.typeName)'", type: "TypeError", at: ctx.rangeOf(index))
        }
      }
      if let re, case .string(let s) = re {
        if let im, !im.isNone {
          throw ShellError("complex() can't take second arg if first is a string", type: "TypeError", at: ctx.rangeOf(1))
        }
        guard let z = parseComplex(s.text) else {
          throw ShellError("complex() arg is a malformed string", type: "ValueError", at: ctx.rangeOf(0))
        }
        return .complex(z.re, z.im)
      }
      let (a, b) = try parts(re, 0, "real")
      let (c, d) = try parts(im, 1, "imag")
      // complex(a, b) is a + b*1j, with a or b possibly complex: (a - Im b) + (Im a + Re b) j,
      // each correction applied only when that argument is complex (as CPython, keeping -0.0).
      let reIsComplex = b != 0 || { if case .complex? = re { return true } else { return false } }()
      let imIsComplex = d != 0 || { if case .complex? = im { return true } else { return false } }()
      return .complex(imIsComplex ? a - d : a, reIsComplex ? c + b : c)
    }
    g["bool"] = anyFn("bool", doc: FunctionDoc("bool(x)", "truth value", "bool(0)")) { ctx in
      let v = try ctx.optional(0, "x") ?? .bool(false)
      try ctx.finish(maxPositional: 1)
      return .bool(try ctx.interpreter.truth(v, at: ctx.rangeOf(0)))
    }
    g["abs"] = anyFn("abs", doc: FunctionDoc("abs(x)", "absolute value", "abs(-2)")) { ctx in
      let v = try ctx.required(0, "x")
      try ctx.finish(maxPositional: 1)
      switch v {
      case .int(let i): return .int(Swift.abs(i))
      case .float(let x): return .float(Swift.abs(x))
      case .complex(let re, let im): return .float(Complex128(re, im).magnitude)
      case .object(let o):
        // Python's abs(x) calls x.__abs__(): a LazyTensor's abs().
        guard let f = try o.attribute("abs", at: ctx.rangeOf(0), in: ctx.interpreter) else {
          throw ShellError("bad operand type for abs(): '\(v.typeName)'", type: "TypeError", at: ctx.rangeOf(0))
        }
        return try ctx.interpreter.callValue(f, [], at: ctx.range)
      default: return try ctx.interpreter.callLibraryFunction("numpy", "abs", &ctx)
      }
    }
    g["round"] = anyFn("round", doc: FunctionDoc("round(x, ndigits=None)", "round half to even, as Python does", "round(2.675, 2)")) { ctx in
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
    g["range"] = anyFn("range", doc: FunctionDoc("range(stop) / range(start, stop, step=1)", "integers for a for loop", "for k in range(3): print(k)")) { ctx in
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
    g["list"] = anyFn("list", doc: FunctionDoc("list(iterable)", "a list of the items", "list(range(3))")) { ctx in
      let v = try ctx.optional(0, "iterable")
      try ctx.finish(maxPositional: 1)
      guard let v else { return .list([]) }
      return .list(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)))
    }
    g["tuple"] = anyFn("tuple", doc: FunctionDoc("tuple(iterable)", "a tuple of the items", "tuple([1, 2])")) { ctx in
      let v = try ctx.optional(0, "iterable")
      try ctx.finish(maxPositional: 1)
      guard let v else { return .tuple([]) }
      return .tuple(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)))
    }
    g["enumerate"] = anyFn("enumerate", doc: FunctionDoc("enumerate(iterable, start=0)", "(index, item) pairs", "for k, v in enumerate([\"a\", \"b\"]): print(k, v)")) { ctx in
      let v = try ctx.required(0, "iterable")
      var start = 0
      if let s = try ctx.optional(1, "start") { start = try ctx.int(s, "start", at: ctx.rangeOf(1, "start")) }
      try ctx.finish(maxPositional: 2)
      return .list(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)).enumerated().map { .tuple([.int($0.offset + start), $0.element]) })
    }
    g["zip"] = anyFn("zip", doc: FunctionDoc("zip(*iterables)", "tuples of items taken in step", "list(zip([1, 2], [3, 4]))")) { ctx in
      let lists = try ctx.positional.enumerated().map { try ctx.interpreter.iterate($0.element, at: ctx.rangeOf($0.offset)) }
      try ctx.finish(maxPositional: Int.max)
      let n = lists.map(\.count).min() ?? 0
      return .list((0..<n).map { i in .tuple(lists.map { $0[i] }) })
    }
    g["sorted"] = anyFn("sorted", doc: FunctionDoc("sorted(iterable, key=None, reverse=False)", "the items in ascending order", "sorted([3, 1, 2])")) { ctx in
      let v = try ctx.required(0, "iterable")
      let items = try ctx.interpreter.iterate(v, at: ctx.rangeOf(0))
      let sorted = try sortValues(items, &ctx)
      try ctx.finish(maxPositional: 1)
      return .list(sorted)
    }
    let reductionDocs = [
      "min": FunctionDoc("min(iterable, key=None, default=None) / min(a, b, ...)", "smallest item", "min(3, 1, 2)"),
      "max": FunctionDoc("max(iterable, key=None, default=None) / max(a, b, ...)", "largest item", "max([3, 1, 2])"),
      "sum": FunctionDoc("sum(iterable, start=0)", "sum of the items", "sum(range(10))"),
    ]
    for name in ["min", "max", "sum"] {
      g[name] = anyFn(name, doc: reductionDocs[name]) { ctx in
        if ctx.positional.count == 1, case .array = ctx.positional[0], ctx.keywords.isEmpty {
          return try ctx.interpreter.callLibraryFunction("numpy", name, &ctx)
        }
        let interp = ctx.interpreter
        var items = ctx.positional.count == 1 ? try interp.iterate(ctx.positional[0], at: ctx.rangeOf(0)) : ctx.positional
        var start: Value = .int(0)
        if name == "sum", let s = try ctx.optional(1, "start") {
          start = s
          if ctx.positional.count == 2 { items = try interp.iterate(ctx.positional[0], at: ctx.rangeOf(0)) }
        }
        let key = name == "sum" ? nil : try ctx.optional(nil, "key")
        let fallback = name == "sum" ? nil : try ctx.optional(nil, "default")
        try ctx.finish(maxPositional: name == "sum" ? 2 : Int.max)
        if name == "sum" {
          var acc = start
          for x in items { acc = try interp.binary(.add, acc, x, at: ctx.range) }
          return acc
        }
        guard var best = items.first else {
          if let fallback { return fallback }
          throw ShellError("\(name)() arg is an empty sequence", type: "ValueError", at: ctx.range)
        }
        var bestKey = try key.map { try interp.callValue($0, [best], at: ctx.range) } ?? best
        for x in items.dropFirst() {
          let xKey = try key.map { try interp.callValue($0, [x], at: ctx.range) } ?? x
          let better = try interp.truth(try interp.compare(name == "min" ? .less : .greater, xKey, bestKey, at: ctx.range), at: ctx.range)
          if better {
            best = x
            bestKey = xKey
          }
        }
        return best
      }
    }
    g["isinstance"] = anyFn("isinstance", doc: FunctionDoc("isinstance(obj, type)", "whether obj has the type (or one of a tuple of types)", "isinstance(3, int)")) { ctx in
      let v = try ctx.required(0, "obj")
      let types = try ctx.required(1, "class_or_tuple")
      try ctx.finish(maxPositional: 2)
      return .bool(try isInstance(v, types, at: ctx.rangeOf(1)))
    }
    g["type"] = anyFn("type", doc: FunctionDoc("type(obj)", "the type of a value", "type(x) is tuple")) { ctx in
      let v = try ctx.required(0, "object")
      try ctx.finish(maxPositional: 1)
      return try typeOf(v, ctx.interpreter)
    }
    g["callable"] = anyFn("callable", doc: FunctionDoc("callable(obj)", "whether obj can be called", "callable(np.zeros)")) { ctx in
      let v = try ctx.required(0, "obj")
      try ctx.finish(maxPositional: 1)
      switch v {
      case .builtin, .method, .dtype: return .bool(true)
      case .object(let o): return .bool(o is FunctionValue || o is ExceptionClass || o.typeName == "Genred" || o.typeName == "KernelSolve")
      default: return .bool(false)
      }
    }
    g["map"] = anyFn("map", doc: FunctionDoc("map(function, iterable, ...)", "the function applied to each item (or items in step)", "list(map(abs, [-1, 2]))")) { ctx in
      let f = try ctx.required(0, "function")
      let lists = try ctx.positional.dropFirst().enumerated().map { try ctx.interpreter.iterate($0.element, at: ctx.rangeOf($0.offset + 1)) }
      try ctx.finish(maxPositional: Int.max)
      guard !lists.isEmpty else { throw ShellError("map() must have at least two arguments.", type: "TypeError", at: ctx.range) }
      let n = lists.map(\.count).min() ?? 0
      return .list(try (0..<n).map { i in try ctx.interpreter.callValue(f, lists.map { $0[i] }, at: ctx.range) })
    }
    g["filter"] = anyFn("filter", doc: FunctionDoc("filter(function, iterable)", "the items for which the function is true (None: the true items)", "list(filter(None, [0, 1, 2]))")) { ctx in
      let f = try ctx.required(0, "function")
      let items = try ctx.interpreter.iterate(try ctx.required(1, "iterable"), at: ctx.rangeOf(1))
      try ctx.finish(maxPositional: 2)
      let interp = ctx.interpreter
      return .list(try items.filter { x in
        try interp.truth(f.isNone ? x : try interp.callValue(f, [x], at: ctx.range), at: ctx.range)
      })
    }
    let truthDocs = [
      "any": FunctionDoc("any(iterable)", "whether some item is true", "any([0, 1])"),
      "all": FunctionDoc("all(iterable)", "whether every item is true", "all(x > 0 for x in [1, 2])"),
    ]
    for name in ["any", "all"] {
      g[name] = anyFn(name, doc: truthDocs[name]) { ctx in
        let v = try ctx.required(0, "iterable")
        try ctx.finish(maxPositional: 1)
        if case .array = v { return try ctx.interpreter.callLibraryFunction("numpy", name, &ctx) }
        for x in try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)) {
          let t = try ctx.interpreter.truth(x, at: ctx.rangeOf(0))
          if name == "any" && t { return .bool(true) }
          if name == "all" && !t { return .bool(false) }
        }
        return .bool(name == "all")
      }
    }
    g["reversed"] = anyFn("reversed", doc: FunctionDoc("reversed(seq)", "the items in reverse order", "list(reversed([1, 2, 3]))")) { ctx in
      let v = try ctx.required(0, "sequence")
      try ctx.finish(maxPositional: 1)
      return .list(try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)).reversed())
    }
    g["dict"] = anyFn("dict", doc: FunctionDoc("dict(mapping_or_pairs=(), **kwargs)", "a dictionary", "dict(a=1, b=2)")) { ctx in
      let v = try ctx.optional(0, "mapping")
      for kw in ctx.keywords { _ = try ctx.optional(nil, kw.name) }
      try ctx.finish(maxPositional: 1)
      var entries: [(Value, Value)] = []
      if let v {
        if case .dict(let d) = v {
          entries = d
        } else {
          for item in try ctx.interpreter.iterate(v, at: ctx.rangeOf(0)) {
            let pair = try ctx.interpreter.iterate(item, at: ctx.rangeOf(0))
            guard pair.count == 2 else {
              throw ShellError("dictionary update sequence element has length \(pair.count); 2 is required", type: "ValueError", at: ctx.rangeOf(0))
            }
            entries.append((pair[0], pair[1]))
          }
        }
      }
      for kw in ctx.keywords {
        if let at = entries.firstIndex(where: { ctx.interpreter.valuesEqual($0.0, .str(kw.name)) }) {
          entries[at].1 = kw.value
        } else {
          entries.append((.str(kw.name), kw.value))
        }
      }
      return .dict(entries)
    }
    g["getattr"] = anyFn("getattr", doc: FunctionDoc("getattr(obj, name, default)", "the attribute called name (default if it has none)", "getattr(x, \"shape\")")) { ctx in
      let v = try ctx.required(0, "object")
      let name = try ctx.string(try ctx.required(1, "name"), "attribute name", at: ctx.rangeOf(1)).text
      let fallback = try ctx.optional(2, "default")
      try ctx.finish(maxPositional: 3)
      do {
        return try ctx.interpreter.attribute(of: v, name, at: ctx.rangeOf(1))
      } catch {
        if let fallback { return fallback }
        throw error
      }
    }
    g["hasattr"] = anyFn("hasattr", doc: FunctionDoc("hasattr(obj, name)", "whether obj has the attribute", "hasattr(x, \"shape\")")) { ctx in
      let v = try ctx.required(0, "object")
      let name = try ctx.string(try ctx.required(1, "name"), "attribute name", at: ctx.rangeOf(1)).text
      try ctx.finish(maxPositional: 2)
      return .bool((try? ctx.interpreter.attribute(of: v, name, at: ctx.rangeOf(1))) != nil)
    }
    return g
  }
}

extension Builtins {
  /// Python's stable sort with `key=` and `reverse=` (keywords read from `ctx`).
  static func sortValues(_ items: [Value], _ ctx: inout CallContext) throws -> [Value] {
    let key = try ctx.optional(nil, "key")
    var reverse = false
    if let r = try ctx.optional(nil, "reverse") { reverse = try ctx.bool(r, "reverse", at: ctx.rangeOf(keyword: "reverse")) }
    let interp = ctx.interpreter
    let range = ctx.range
    let keys = try items.map { x in try key.flatMap { $0.isNone ? nil : $0 }.map { try interp.callValue($0, [x], at: range) } ?? x }
    var failure: Error?
    // Stable: ties keep their order (reversing keeps it too, as Python's reverse=True does).
    let order = Array(items.indices).sorted { a, b in
      do {
        let (x, y) = reverse ? (keys[b], keys[a]) : (keys[a], keys[b])
        if try interp.truth(try interp.compare(.less, x, y, at: range), at: range) { return true }
        if try interp.truth(try interp.compare(.less, y, x, at: range), at: range) { return false }
        return a < b
      } catch {
        failure = error
        return false
      }
    }
    if let failure { throw failure }
    return order.map { items[$0] }
  }

  /// `isinstance(v, types)` for Python's built-in types, exception classes and `np.ndarray`.
  static func isInstance(_ v: Value, _ types: Value, at range: SourceRange) throws -> Bool {
    switch types {
    case .tuple(let items): return try items.contains { try isInstance(v, $0, at: range) }
    case .builtin(let b):
      switch (b.name, v) {
      case ("int", .int), ("int", .bool), ("bool", .bool), ("float", .float), ("str", .string), ("list", .list),
        ("tuple", .tuple), ("dict", .dict), ("ndarray", .array):
        return true
      case ("int", _), ("bool", _), ("float", _), ("str", _), ("list", _), ("tuple", _), ("dict", _), ("ndarray", _):
        return false
      default: break
      }
    case .object(let c as ExceptionClass):
      if case .object(let e as ExceptionObject) = v { return ExceptionClasses.isSubclass(e.className, of: c.name) }
      return false
    default: break
    }
    throw ShellError("isinstance() arg 2 must be a type, a tuple of types, or a union", type: "TypeError", at: range)
  }
}

extension Builtins {
  /// `type(v)`: the builtin for Python's types (so `type(x) is tuple` works), numpy's `ndarray`,
  /// an exception's class, or a type object named after the value's type.
  static func typeOf(_ v: Value, _ interpreter: Interpreter) throws -> Value {
    let builtinName: String?
    switch v {
    case .int: builtinName = "int"
    case .float: builtinName = "float"
    case .complex: builtinName = "complex"
    case .bool: builtinName = "bool"
    case .string: builtinName = "str"
    case .list: builtinName = "list"
    case .tuple: builtinName = "tuple"
    case .dict: builtinName = "dict"
    default: builtinName = nil
    }
    if let builtinName, let b = interpreter.libraries.global(builtinName) { return b }
    switch v {
    case .array: if let t = interpreter.libraries.member(of: "numpy", "ndarray") { return t }
    case .object(let e as ExceptionObject): return .object(ExceptionClass(name: e.className))
    default: break
    }
    return .object(TypeObject(name: v.typeName))
  }
}

/// The type of a value that has no class object of its own (`type(f)`, `type(None)`).
public struct TypeObject: ShellObject {
  public var name: String
  public var typeName: String { "type" }
  public func repr(with options: PrintOptions) -> String { "<class '\(name)'>" }
  public func attribute(_ attribute: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    attribute == "__name__" ? .str(name) : nil
  }
}

/// Python's `complex(str)`: `"1+2j"`, `"-2.5e-3J"`, `"(1-1j)"`, `"3"`, `"nanj"`; nil when malformed.
public func parseComplex(_ text: String) -> Complex128? {
  var t = Substring(text.trimmingCharacters(in: .whitespaces))
  if t.hasPrefix("(") && t.hasSuffix(")") { t = t.dropFirst().dropLast() }
  t = Substring(t.trimmingCharacters(in: .whitespaces))
  func real(_ s: Substring) -> Double? {
    let l = s.lowercased()
    switch l {
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan", "+nan", "-nan": return .nan
    default:
      guard !l.isEmpty, l.allSatisfy({ "0123456789.e+-_".contains($0) }) else { return nil }
      return Double(l)
    }
  }
  guard let last = t.last else { return nil }
  if last != "j" && last != "J" { return real(t).map { Complex128($0, 0) } }
  let body = t.dropLast()
  // The split between the parts: the last sign that is not at the start or after an exponent 'e'.
  var split: Substring.Index?
  var i = body.endIndex
  while i > body.startIndex {
    i = body.index(before: i)
    let c = body[i]
    if (c == "+" || c == "-") && i > body.startIndex {
      let prev = body[body.index(before: i)]
      if prev != "e" && prev != "E" { split = i; break }
    }
  }
  func imaginary(_ s: Substring) -> Double? {
    if s.isEmpty || s == "+" { return 1 }
    if s == "-" { return -1 }
    return real(s)
  }
  if let split {
    guard let re = real(body[..<split]), let im = imaginary(body[split...]) else { return nil }
    return Complex128(re, im)
  }
  return imaginary(body).map { Complex128(0, $0) }
}
