// A small JSON value for writing notebooks: objects keep their keys sorted, as Jupyter writes
// them, so the same session always gives the same file.

/// A JSON value.
indirect enum JSONValue: Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The value as JSON text, indented by one space per level as nbformat writes notebooks, with
  /// non-ASCII characters kept as they are.
  func serialized() -> String {
    var out = ""
    write(to: &out, indent: 0)
    return out
  }

  private func write(to out: inout String, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let n): out += String(n)
    case .string(let s): Self.writeString(s, to: &out)
    case .array(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      out += "[\n"
      for (k, item) in items.enumerated() {
        out += String(repeating: " ", count: indent + 1)
        item.write(to: &out, indent: indent + 1)
        out += k == items.count - 1 ? "\n" : ",\n"
      }
      out += String(repeating: " ", count: indent) + "]"
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{\n"
      let sorted = members.sorted { $0.key < $1.key }
      for (k, member) in sorted.enumerated() {
        out += String(repeating: " ", count: indent + 1)
        Self.writeString(member.key, to: &out)
        out += ": "
        member.value.write(to: &out, indent: indent + 1)
        out += k == sorted.count - 1 ? "\n" : ",\n"
      }
      out += String(repeating: " ", count: indent) + "}"
    }
  }

  private static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }

  /// A multi-line string as Jupyter stores it: a list of lines, each but the last ending in `\n`.
  static func lines(_ text: String) -> JSONValue {
    var lines: [JSONValue] = []
    var current = ""
    for scalar in text.unicodeScalars {
      current.unicodeScalars.append(scalar)
      if scalar == "\n" {
        lines.append(.string(current))
        current = ""
      }
    }
    if !current.isEmpty { lines.append(.string(current)) }
    return .array(lines)
  }
}
