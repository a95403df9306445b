import ArrayIO
import Foundation
import KSDiagnostics
import ShellSyntax

/// Python's format-spec mini-language (`{:.3f}`, `{:>10}`, `{:.2e}`, `{:,}`) and `%` formatting.
enum Format {
  static func apply(_ spec: String, to v: Value, options: PrintOptions, at range: SourceRange) throws -> String {
    var chars = Array(spec)
    var fill: Character = " "
    var align: Character?
    if chars.count >= 2, "<>^=".contains(chars[1]) {
      fill = chars[0]; align = chars[1]; chars.removeFirst(2)
    } else if let c = chars.first, "<>^=".contains(c) {
      align = c; chars.removeFirst()
    }
    var sign: Character = "-"
    if let c = chars.first, "+- ".contains(c) { sign = c; chars.removeFirst() }
    if chars.first == "#" { chars.removeFirst() }
    if chars.first == "0" { fill = "0"; if align == nil { align = "=" }; chars.removeFirst() }
    var width = 0
    while let c = chars.first, let d = c.wholeNumberValue { width = try formatDigit(width, d, at: range); chars.removeFirst() }
    var grouping = false
    if chars.first == "," || chars.first == "_" { grouping = true; chars.removeFirst() }
    var precision: Int?
    if chars.first == "." {
      chars.removeFirst()
      var p = 0
      while let c = chars.first, let d = c.wholeNumberValue { p = try formatDigit(p, d, at: range); chars.removeFirst() }
      precision = p
    }
    // The padding and the digits are built as strings: they must fit in memory.
    try Allocation.checkSequence(Swift.max(width, precision ?? 0), itemSize: 1, typeName: "str", at: range)
    let type: Character? = chars.first
    if chars.count > 1 { throw ShellError("invalid format specifier '\(spec)'", at: range) }

    if let z = complexOperand(v) {
      // Python formats each part with the spec (the imaginary one always signed), then adds 'j';
      // with no type, as repr (the parts in 'g' style when a precision is given).
      var body: String
      switch type {
      case "f"?, "F"?, "e"?, "E"?, "g"?, "G"?:
        let p = precision.map { ".\($0)" } ?? ""
        body = try apply("\(sign == "-" ? "" : String(sign))\(p)\(type!)", to: .float(z.re), options: options, at: range)
          + apply("+\(p)\(type!)", to: .float(z.im), options: options, at: range) + "j"
      case nil:
        if let p = precision {
          let re = try apply(".\(p)g", to: .float(z.re), options: options, at: range)
          let im = try apply("+.\(p)g", to: .float(z.im), options: options, at: range)
          body = z.re == 0 && z.re.sign == .plus ? String(im.drop(while: { $0 == "+" })) + "j" : "(" + re + im + "j)"
        } else {
          body = Value.complex(z.re, z.im).repr(with: options)
        }
        if sign == "+" && !body.hasPrefix("-") && !body.hasPrefix("(") { body = "+" + body }
      default:
        throw ShellError("unknown format code '\(type!)' for object of type 'complex'", at: range)
      }
      let pad = max(0, width - body.count)
      let padding = String(repeating: fill, count: pad)
      switch align ?? ">" {
      case "<": return body + padding
      case "^": return String(repeating: fill, count: pad / 2) + body + String(repeating: fill, count: pad - pad / 2)
      case "=": throw ShellError("'=' alignment not allowed in complex format specifier", at: range)
      default: return padding + body
      }
    }

    var body: String
    var numeric = true
    let x: Double?
    switch v {
    case .int(let i): x = Double(i)
    case .float(let f): x = f
    case .bool(let b): x = b ? 1 : 0
    case .array(let a) where a.count == 1: x = a.double(at: 0)
    default: x = nil
    }
    switch type {
    case "f"?, "F"?, "e"?, "E"?, "g"?, "G"?, "%"?:
      guard var y = x else { throw ShellError("format code '\(type!)' needs a number, not \(v.typeName)", at: range) }
      let p = precision ?? 6
      if type == "%" { y *= 100 }
      if y.isNaN { body = "nan" } else if y.isInfinite { body = y < 0 ? "-inf" : "inf" } else {
        switch type! {
        case "f", "F", "%": body = String(format: "%.\(p)f", y)
        case "e", "E": body = String(format: "%.\(p)e", y)
        default:
          body = String(format: "%.\(max(p, 1))g", y)
        }
        if type == "E" || type == "G" { body = body.uppercased() }
      }
      if type == "%" { body += "%" }
    case "d"?:
      switch v {
      case .int(let i): body = String(i)
      case .bool(let b): body = b ? "1" : "0"
      case .array(let a) where a.count == 1 && (a.dtype == .int64 || a.dtype == .bool): body = String(Int(a.double(at: 0)))
      default: throw ShellError("format code 'd' needs an integer, not \(v.typeName)", at: range)
      }
    case nil:
      if case .float(let f) = v, let p = precision {
        body = String(format: "%.\(max(p, 1))g", f)
      } else if case .int(let i) = v {
        body = String(i)
      } else if case .float(let f) = v {
        body = pythonFloatRepr(f)
      } else {
        numeric = false
        body = v.str(with: options)
        if let p = precision { body = String(body.prefix(p)) }
      }
    case "s"?:
      numeric = false
      body = v.str(with: options)
      if let p = precision { body = String(body.prefix(p)) }
    default:
      throw ShellError("unknown format code '\(type!)' for \(v.typeName)", at: range)
    }
    if grouping && numeric { body = group(body) }
    if numeric, let y = x, y >= 0, !body.hasPrefix("-") {
      if sign == "+" { body = "+" + body } else if sign == " " { body = " " + body }
    }
    let pad = max(0, width - body.count)
    if pad == 0 { return body }
    let a = align ?? (numeric ? ">" : "<")
    let padding = String(repeating: fill, count: pad)
    switch a {
    case "<": return body + padding
    case "^": return String(repeating: fill, count: pad / 2) + body + String(repeating: fill, count: pad - pad / 2)
    case "=":
      if let first = body.first, "+- ".contains(first) { return String(first) + padding + body.dropFirst() }
      return padding + body
    default: return padding + body
    }
  }

  /// A Python complex or a one-element complex array, as the number to format.
  static func complexOperand(_ v: Value) -> Complex128? {
    switch v {
    case .complex(let re, let im): return Complex128(re, im)
    case .array(let a) where a.count == 1 && a.dtype.isComplex: return a.complexValues[0]
    default: return nil
    }
  }

  static func group(_ s: String) -> String {
    let neg = s.hasPrefix("-")
    let digits = neg ? String(s.dropFirst()) : s
    let parts = digits.split(separator: ".", maxSplits: 1)
    var intPart = Array(parts[0])
    var out = ""
    while intPart.count > 3 {
      out = "," + String(intPart.suffix(3)) + out
      intPart.removeLast(3)
    }
    out = String(intPart) + out
    if parts.count > 1 { out += "." + parts[1] }
    return (neg ? "-" : "") + out
  }

  /// `"...".format(args)` with `{}`, `{0}`, `{name}` and specs.
  static func format(_ template: String, _ ctx: CallContext, at range: SourceRange) throws -> String {
    let options = ctx.interpreter.state.printOptions
    var out = ""
    var auto = 0
    var chars = Array(template)[...]
    while let c = chars.first {
      chars.removeFirst()
      if c == "{" {
        if chars.first == "{" { chars.removeFirst(); out.append("{"); continue }
        var field = ""
        while let d = chars.first, d != "}" { field.append(d); chars.removeFirst() }
        guard chars.first == "}" else { throw ShellError("single '{' encountered in format string", at: range) }
        chars.removeFirst()
        var name = field
        var spec: String?
        if let colon = field.firstIndex(of: ":") {
          name = String(field[..<colon])
          spec = String(field[field.index(after: colon)...])
        }
        var conversion: Character?
        if let bang = name.firstIndex(of: "!") {
          conversion = name[name.index(after: bang)...].first
          name = String(name[..<bang])
        }
        let value: Value
        if name.isEmpty {
          guard auto < ctx.positional.count else { throw ShellError("replacement index \(auto) out of range for positional args tuple", at: range) }
          value = ctx.positional[auto]
          auto += 1
        } else if let k = Int(name) {
          guard k < ctx.positional.count else { throw ShellError("replacement index \(k) out of range for positional args tuple", at: range) }
          value = ctx.positional[k]
        } else if let kw = ctx.keywords.first(where: { $0.name == name }) {
          value = kw.value
        } else {
          throw ShellError("KeyError: '\(name)'", at: range)
        }
        var text = conversion == "r" ? value.repr(with: options) : value.str(with: options)
        if let spec, !spec.isEmpty {
          text = try apply(spec, to: conversion == "r" ? .str(value.repr(with: options)) : value, options: options, at: range)
        }
        out += text
      } else if c == "}" {
        if chars.first == "}" { chars.removeFirst() }
        out.append("}")
      } else {
        out.append(c)
      }
    }
    return out
  }

  /// `"%.3f" % x` and `"%s %d" % (a, b)`.
  static func percent(_ template: String, _ args: Value, options: PrintOptions, at range: SourceRange) throws -> String {
    var values: [Value]
    if case .tuple(let t) = args { values = t } else { values = [args] }
    var out = ""
    var chars = Array(template)[...]
    while let c = chars.first {
      chars.removeFirst()
      guard c == "%" else { out.append(c); continue }
      if chars.first == "%" { chars.removeFirst(); out.append("%"); continue }
      var spec = ""
      while let d = chars.first, !"sdifeEgGr".contains(d) { spec.append(d); chars.removeFirst() }
      guard let type = chars.first else { throw ShellError("incomplete format", at: range) }
      chars.removeFirst()
      guard !values.isEmpty else { throw ShellError("not enough arguments for format string", at: range) }
      let v = values.removeFirst()
      switch type {
      case "s": out += try apply(spec, to: .str(v.str(with: options)), options: options, at: range)
      case "r": out += try apply(spec, to: .str(v.repr(with: options)), options: options, at: range)
      case "i": out += try apply(spec + "d", to: v, options: options, at: range)
      default: out += try apply(spec + String(type), to: v, options: options, at: range)
      }
    }
    return out
  }
}
