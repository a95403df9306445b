import KSDiagnostics
import ShellSyntax

/// Methods of lists and dicts.
///
/// Containers are values in ks, so a method that changes its receiver (`xs.append(v)`,
/// `d.update(e)`) gives the changed container back, and the interpreter stores it where the
/// receiver was read from (`xs`, `self_d["k"]`): the effect Python's in-place methods have on that
/// variable. (Other names bound to the same list do not see the change: ks lists are not shared.)
enum ContainerMethods {
  static let listMethods: Set<String> = [
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "index", "count", "copy",
  ]
  static let dictMethods: Set<String> = [
    "keys", "values", "items", "get", "update", "pop", "setdefault", "clear", "copy",
  ]
  static let mutating: Set<String> = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault"]

  /// Whether `name` is a method of `receiver`.
  static func has(_ receiver: Value, _ name: String) -> Bool {
    switch receiver {
    case .list: return listMethods.contains(name)
    case .dict: return dictMethods.contains(name)
    default: return false
    }
  }

  /// Calls method `name` of `receiver`: its result, and the receiver as it is afterwards.
  static func call(_ receiver: Value, _ name: String, _ ctx: inout CallContext) throws -> (result: Value, receiver: Value) {
    let interp = ctx.interpreter
    switch receiver {
    case .list(var xs):
      switch name {
      case "append":
        let v = try ctx.required(0, "object")
        try ctx.finish(maxPositional: 1)
        xs.append(v)
        return (.none, .list(xs))
      case "extend":
        let v = try ctx.required(0, "iterable")
        try ctx.finish(maxPositional: 1)
        xs += try interp.iterate(v, at: ctx.rangeOf(0))
        return (.none, .list(xs))
      case "insert":
        var k = try ctx.int(try ctx.required(0, "index"), "index", at: ctx.rangeOf(0))
        let v = try ctx.required(1, "object")
        try ctx.finish(maxPositional: 2)
        if k < 0 { k += xs.count }
        xs.insert(v, at: min(max(k, 0), xs.count))
        return (.none, .list(xs))
      case "pop":
        var k = try ctx.optional(0, "index").map { try ctx.int($0, "index", at: ctx.rangeOf(0)) } ?? -1
        try ctx.finish(maxPositional: 1)
        guard !xs.isEmpty else { throw ShellError("pop from empty list", type: "IndexError", at: ctx.range) }
        if k < 0 { k += xs.count }
        guard k >= 0 && k < xs.count else { throw ShellError("pop index out of range", type: "IndexError", at: ctx.rangeOf(0)) }
        let v = xs.remove(at: k)
        return (v, .list(xs))
      case "remove":
        let v = try ctx.required(0, "value")
        try ctx.finish(maxPositional: 1)
        guard let k = xs.firstIndex(where: { interp.valuesEqual($0, v) }) else {
          throw ShellError("list.remove(x): x not in list", type: "ValueError", at: ctx.rangeOf(0))
        }
        xs.remove(at: k)
        return (.none, .list(xs))
      case "clear":
        try ctx.finish(maxPositional: 0)
        return (.none, .list([]))
      case "sort":
        let sorted = try Builtins.sortValues(xs, &ctx)
        try ctx.finish(maxPositional: 0)
        return (.none, .list(sorted))
      case "reverse":
        try ctx.finish(maxPositional: 0)
        return (.none, .list(xs.reversed()))
      case "index":
        let v = try ctx.required(0, "value")
        try ctx.finish(maxPositional: 1)
        guard let k = xs.firstIndex(where: { interp.valuesEqual($0, v) }) else {
          throw ShellError("\(v.repr) is not in list", type: "ValueError", at: ctx.rangeOf(0))
        }
        return (.int(k), receiver)
      case "count":
        let v = try ctx.required(0, "value")
        try ctx.finish(maxPositional: 1)
        return (.int(xs.filter { interp.valuesEqual($0, v) }.count), receiver)
      case "copy":
        try ctx.finish(maxPositional: 0)
        return (receiver, receiver)
      default: break
      }
    case .dict(var entries):
      func find(_ key: Value) -> Int? { entries.firstIndex { interp.valuesEqual($0.0, key) } }
      switch name {
      case "keys":
        try ctx.finish(maxPositional: 0)
        return (.list(entries.map(\.0)), receiver)
      case "values":
        try ctx.finish(maxPositional: 0)
        return (.list(entries.map(\.1)), receiver)
      case "items":
        try ctx.finish(maxPositional: 0)
        return (.list(entries.map { .tuple([$0.0, $0.1]) }), receiver)
      case "get":
        let key = try ctx.required(0, "key")
        let fallback = try ctx.optional(1, "default") ?? .none
        try ctx.finish(maxPositional: 2)
        return (find(key).map { entries[$0].1 } ?? fallback, receiver)
      case "update":
        let other = try ctx.optional(0, "other")
        for kw in ctx.keywords { _ = try ctx.optional(nil, kw.name) }
        try ctx.finish(maxPositional: 1)
        var pairs: [(Value, Value)] = ctx.keywords.map { (.str($0.name), $0.value) }
        if let other {
          guard case .dict(let o) = other else {
            throw ShellError("dict.update() argument must be a dict", type: "TypeError", at: ctx.rangeOf(0))
          }
          pairs = o + pairs
        }
        for (k, v) in pairs {
          if let at = find(k) { entries[at].1 = v } else { entries.append((k, v)) }
        }
        return (.none, .dict(entries))
      case "pop":
        let key = try ctx.required(0, "key")
        let fallback = try ctx.optional(1, "default")
        try ctx.finish(maxPositional: 2)
        guard let at = find(key) else {
          if let fallback { return (fallback, receiver) }
          throw ShellError("key \(key.repr) not found", type: "KeyError", at: ctx.rangeOf(0))
        }
        return (entries.remove(at: at).1, .dict(entries))
      case "setdefault":
        let key = try ctx.required(0, "key")
        let fallback = try ctx.optional(1, "default") ?? .none
        try ctx.finish(maxPositional: 2)
        if let at = find(key) { return (entries[at].1, receiver) }
        entries.append((key, fallback))
        return (fallback, .dict(entries))
      case "clear":
        try ctx.finish(maxPositional: 0)
        return (.none, .dict([]))
      case "copy":
        try ctx.finish(maxPositional: 0)
        return (receiver, receiver)
      default: break
      }
    default: break
    }
    throw ShellError("'\(receiver.typeName)' object has no attribute '\(name)'", type: "AttributeError", at: ctx.range)
  }
}
