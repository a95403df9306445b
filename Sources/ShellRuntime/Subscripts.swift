import ArrayIO
import KSDiagnostics
import ShellSyntax

extension Interpreter {
  func indexValues(_ items: [IndexItem]) throws -> [Value] {
    var out: [Value] = []
    for item in items {
      switch item {
      case .expression(let e): out.append(try evaluate(e))
      case .slice(let s):
        func bound(_ e: Expr?) throws -> Int? {
          guard let e else { return nil }
          var v = try evaluate(e)
          // numpy integers (0-d int64 arrays) bound slices as Python ints do.
          if let arrays = libraries.arrays { v = arrays.pythonIndex(v) }
          switch v {
          case .none: return nil
          case .int(let i): return i
          case .bool(let b): return b ? 1 : 0
          default: throw ShellError("slice indices must be integers or None, not \(v.typeName)", at: e.range)
          }
        }
        out.append(.slice(start: try bound(s.start), stop: try bound(s.stop), step: try bound(s.step)))
      }
    }
    return out
  }

  func getItem(_ base: Value, _ items: [IndexItem], at range: SourceRange) throws -> Value {
    var index = try indexValues(items)
    switch base {
    case .array(let a):
      return try arrays(at: range).getItem(a, index, at: range, itemRanges: items.map(\.range))
    case .object(let o):
      if let v = try o.getItem(index, at: range, in: self) { return v }
    case .list, .tuple, .string:
      if let arrays = libraries.arrays { index = index.map(arrays.pythonIndex) }
      fallthrough
    default: break
    }
    switch base {
    case .list(let xs), .tuple(let xs):
      guard index.count == 1 else { throw ShellError("\(base.typeName) indices must be integers or slices, not tuple", at: range) }
      switch index[0] {
      case .int(var k):
        if k < 0 { k += xs.count }
        guard k >= 0 && k < xs.count else { throw ShellError("\(base.typeName) index out of range", at: range) }
        return xs[k]
      case .slice(let s0, let s1, let st):
        let picked = sliceIndices(count: xs.count, s0, s1, st).map { xs[$0] }
        if case .tuple = base { return .tuple(picked) }
        return .list(picked)
      default:
        throw ShellError("\(base.typeName) indices must be integers or slices, not \(index[0].typeName)", at: range)
      }
    case .string(let s):
      let chars = Array(s.text)
      guard index.count == 1 else { throw ShellError("string indices must be integers", at: range) }
      switch index[0] {
      case .int(var k):
        if k < 0 { k += chars.count }
        guard k >= 0 && k < chars.count else { throw ShellError("string index out of range", at: range) }
        return .str(String(chars[k]))
      case .slice(let s0, let s1, let st):
        return .str(String(sliceIndices(count: chars.count, s0, s1, st).map { chars[$0] }))
      default: throw ShellError("string indices must be integers", at: range)
      }
    case .dict(let entries):
      guard index.count == 1 else { throw ShellError("unhashable key", at: range) }
      for (k, v) in entries where valuesEqual(k, index[0]) { return v }
      throw ShellError("key \(index[0].repr) not found", at: range)
    default:
      throw ShellError("'\(base.typeName)' object is not subscriptable", at: range)
    }
  }

  func setItem(_ base: Value, _ items: [IndexItem], _ value: Value, at range: SourceRange) throws -> Value {
    var index = try indexValues(items)
    if case .list = base, let arrays = libraries.arrays { index = index.map(arrays.pythonIndex) }
    switch base {
    case .array(let a):
      return .array(try arrays(at: range).setItem(a, index, value, at: range, itemRanges: items.map(\.range)))
    case .list(var xs):
      guard index.count == 1, case .int(var k) = index[0] else { throw ShellError("list indices must be integers", at: range) }
      if k < 0 { k += xs.count }
      guard k >= 0 && k < xs.count else { throw ShellError("list assignment index out of range", at: range) }
      xs[k] = value
      return .list(xs)
    case .dict(var entries):
      guard index.count == 1 else { throw ShellError("unhashable key", at: range) }
      if let at = entries.firstIndex(where: { valuesEqual($0.0, index[0]) }) { entries[at].1 = value } else { entries.append((index[0], value)) }
      return .dict(entries)
    default:
      throw ShellError("'\(base.typeName)' object does not support item assignment", at: range)
    }
  }
}

/// Python's slice.indices(count), as the list of selected positions.
public func sliceIndices(count n: Int, _ start: Int?, _ stop: Int?, _ step: Int?) -> [Int] {
  let st = step ?? 1
  if st == 0 { return [] }
  func clamp(_ v: Int?, _ dflt: Int, lower: Int, upper: Int) -> Int {
    guard var x = v else { return dflt }
    if x < 0 { x += n }
    return min(max(x, lower), upper)
  }
  var out: [Int] = []
  if st > 0 {
    var i = clamp(start, 0, lower: 0, upper: n)
    let e = clamp(stop, n, lower: 0, upper: n)
    while i < e { out.append(i); i += st }
  } else {
    var i = clamp(start, n - 1, lower: -1, upper: n - 1)
    let e = clamp(stop, -1, lower: -1, upper: n - 1)
    while i > e { out.append(i); i += st }
  }
  return out
}
