import ArrayIO
import ShellSyntax

/// Python's `repr` of a float: shortest round-trip digits, `inf`, `nan`, `1e-06` style exponents.
public func pythonFloatRepr(_ x: Double) -> String {
  if x.isNaN { return "nan" }
  if x.isInfinite { return x < 0 ? "-inf" : "inf" }
  var s = "\(x)"  // Swift: shortest round-trip, "1e-06", "1e+16", "100.0"
  if s.hasSuffix(".0"), let v = Double(s), Swift.abs(v) >= 1e16 {
    s = String(format16(v))
  }
  return s
}

private func format16(_ v: Double) -> String { "\(v)" }

extension Value {
  /// Python's `str(value)` with numpy's default print options (for messages; printing uses
  /// `str(with:)` and the session's options).
  public var str: String { str(with: .defaults) }

  /// Python's `repr(value)` with numpy's default print options (for messages; echoing uses
  /// `repr(with:)` and the session's options).
  public var repr: String { repr(with: .defaults) }

  /// Python's `str(value)`, arrays printed under `options`.
  public func str(with options: PrintOptions) -> String {
    switch self {
    case .string(let s): return s.text
    case .dtype(let d): return d.rawValue
    case .array(let a): return ArrayFormatter.str(a, options: options)
    case .object(let o): return o.str(with: options)
    default: return repr(with: options)
    }
  }

  /// Python's `repr(value)`, arrays printed under `options`.
  public func repr(with options: PrintOptions) -> String {
    switch self {
    case .none: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .float(let x): return pythonFloatRepr(x)
    case .complex(let re, let im): return ArrayFormatter.scalarComplex(re, im, positionalLimit: 1e16)
    case .string(let s): return pythonStringRepr(s.text)
    case .list(let items): return "[" + items.map { $0.repr(with: options) }.joined(separator: ", ") + "]"
    case .tuple(let items):
      if items.count == 1 { return "(" + items[0].repr(with: options) + ",)" }
      return "(" + items.map { $0.repr(with: options) }.joined(separator: ", ") + ")"
    case .dict(let entries):
      return "{" + entries.map { "\($0.0.repr(with: options)): \($0.1.repr(with: options))" }.joined(separator: ", ") + "}"
    case .array(let a): return ArrayFormatter.repr(a, options: options)
    case .dtype(let d): return "dtype('\(d.rawValue)')"
    case .object(let o): return o.repr(with: options)
    case .module(let m): return "<module '\(m)'>"
    case .builtin(let f): return "<built-in function \(f.name)>"
    case .method(_, let name): return "<bound method \(name)>"
    case .slice(let a, let b, let c):
      func f(_ v: Int?) -> String { v.map(String.init) ?? "None" }
      return "slice(\(f(a)), \(f(b)), \(f(c)))"
    case .ellipsis: return "Ellipsis"
    }
  }
}

/// Python's repr of a str: single quotes unless the text contains one and no double quote.
public func pythonStringRepr(_ s: String) -> String {
  let useDouble = s.contains("'") && !s.contains("\"")
  let q: Character = useDouble ? "\"" : "'"
  var out = String(q)
  for ch in s.unicodeScalars {
    switch ch {
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\t": out += "\\t"
    case "\r": out += "\\r"
    default:
      if Character(ch) == q { out += "\\\(q)" } else if ch.value < 32 || ch.value == 127 {
        out += String(format: ch.value)
      } else {
        out.unicodeScalars.append(ch)
      }
    }
  }
  out.append(q)
  return out
}

private func String(format v: UInt32) -> String {
  let hex = String(v, radix: 16)
  return "\\x" + (hex.count < 2 ? "0" + hex : hex)
}
