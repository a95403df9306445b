import ArrayIO
import Foundation

/// numpy-style text for arrays: `str` (what print shows) and `repr` (`array([...])`).
///
/// Follows numpy's defaults: precision 8, trailing zeros suppressed (`1.` / `0.5`), one width for
/// all elements, scientific notation when the range of magnitudes is large, and summarisation with
/// 3 edge items per axis when an array has more than 1000 elements.
public enum ArrayFormatter {
  public static let precision = 8
  public static let threshold = 1000
  public static let edgeItems = 3
  public static let lineWidth = 75

  public static func str(_ a: NDArray) -> String {
    render(a, prefix: "", separator: " ")
  }

  public static func repr(_ a: NDArray) -> String {
    let body = render(a, prefix: "array(", separator: ", ")
    var suffix = ""
    switch a.dtype {
    case .float64, .bool: suffix = ""
    case .int64: suffix = ""
    default: suffix = ", dtype=\(a.dtype.rawValue)"
    }
    if a.count == 0 && a.dtype != .float64 { suffix = ", dtype=\(a.dtype.rawValue)" }
    return "array(" + body + suffix + ")"
  }

  /// Formats every element to one width.
  static func elementFormatter(_ a: NDArray, summarize: Bool) -> (Int) -> String {
    switch a.storage {
    case .bool(let v):
      let w = v.contains(false) ? 5 : 4
      return { i in
        let s = v[i] ? "True" : "False"
        return String(repeating: " ", count: max(0, w - s.count)) + s
      }
    case .int64(let v):
      let w = v.map { String($0).count }.max() ?? 1
      return { i in
        let s = String(v[i])
        return String(repeating: " ", count: max(0, w - s.count)) + s
      }
    default:
      let values = a.toDoubles()
      let finite = values.filter { $0.isFinite }
      let absMax = finite.map { Swift.abs($0) }.max() ?? 0
      let absMinNonZero = finite.map { Swift.abs($0) }.filter { $0 > 0 }.min() ?? 0
      let sci = absMax >= 1e16 || (absMinNonZero > 0 && absMinNonZero < 1e-4) || (absMinNonZero > 0 && absMax / absMinNonZero > 1e3 && absMax >= 1e8)
      let p = precision
      let strings: [String] = values.map { x in
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return sci ? scientific(x, p) : positional(x, p)
      }
      // numpy pads the fractional parts to a common length in positional mode.
      var formatted = strings
      if !sci {
        let fracLen = strings.map { s -> Int in
          guard let dot = s.firstIndex(of: ".") else { return 0 }
          return s.distance(from: s.index(after: dot), to: s.endIndex)
        }.max() ?? 0
        formatted = strings.map { s in
          guard let dot = s.firstIndex(of: ".") else { return s }
          let have = s.distance(from: s.index(after: dot), to: s.endIndex)
          return s + String(repeating: fracLen > 0 ? "0" : "", count: max(0, fracLen - have)).replacingOccurrences(of: "0", with: have == 0 && fracLen > 0 ? "0" : "0")
        }
        // numpy pads with spaces, not zeros, when trailing zeros are suppressed.
        formatted = strings.map { s in
          guard let dot = s.firstIndex(of: ".") else { return s }
          let have = s.distance(from: s.index(after: dot), to: s.endIndex)
          return s + String(repeating: " ", count: max(0, fracLen - have))
        }
      }
      let w = formatted.map(\.count).max() ?? 1
      return { i in
        let s = formatted[i]
        return String(repeating: " ", count: max(0, w - s.count)) + s
      }
    }
  }

  /// `1.`, `0.5`, `-2.25`: up to p decimals, trailing zeros removed (numpy's unique=True, trim='.').
  static func positional(_ x: Double, _ p: Int) -> String {
    var s = String(format: "%.\(p)f", x)
    if s.contains(".") {
      while s.hasSuffix("0") { s.removeLast() }
    }
    if s == "-0." && x == 0 { return "-0." }
    // Prefer the shortest round-trip representation when it is shorter (numpy's unique mode).
    let shortest = "\(x)"
    if !shortest.contains("e"), let dot = shortest.firstIndex(of: "."),
      shortest.distance(from: dot, to: shortest.endIndex) - 1 <= p
    {
      var t = shortest
      if t.hasSuffix(".0") { t.removeLast() }
      return t
    }
    return s
  }

  static func scientific(_ x: Double, _ p: Int) -> String {
    var s = String(format: "%.\(p)e", x)
    // trim trailing zeros of the mantissa, keep at least "d."
    if let e = s.firstIndex(of: "e") {
      var mant = String(s[..<e])
      let exp = String(s[s.index(after: e)...])
      while mant.hasSuffix("0") { mant.removeLast() }
      let sign = exp.first == "-" ? "-" : "+"
      var digits = exp.drop { $0 == "+" || $0 == "-" }.drop { $0 == "0" }
      if digits.count < 2 { digits = Substring(String(repeating: "0", count: 2 - digits.count) + digits) }
      s = mant + "e" + sign + digits
    }
    return s
  }

  static func render(_ a: NDArray, prefix: String, separator: String) -> String {
    if a.rank == 0 { return elementFormatter(a, summarize: false)(0).trimmingCharacters(in: .whitespaces) }
    let summarize = a.count > threshold
    let fmt = elementFormatter(a, summarize: summarize)
    let indent = String(repeating: " ", count: prefix.count)
    var strides = [Int](repeating: 1, count: a.rank)
    for k in stride(from: a.rank - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * a.shape[k + 1] }
    func block(_ axis: Int, _ offset: Int, _ depth: Int) -> String {
      let n = a.shape[axis]
      var indices: [Int?] = Array(0..<n)
      if summarize && n > 2 * edgeItems {
        indices = Array(0..<edgeItems) + [nil] + Array((n - edgeItems)..<n)
      }
      if axis == a.rank - 1 {
        var pieces: [String] = []
        for i in indices { pieces.append(i.map { fmt(offset + $0) } ?? "...") }
        // wrap long rows
        var lines: [String] = []
        var line = "["
        let pad = indent + String(repeating: " ", count: depth + 1)
        for (k, piece) in pieces.enumerated() {
          let item = piece + (k < pieces.count - 1 ? separator.trimmingCharacters(in: .whitespaces) : "")
          let candidate = (line == "[" ? line : line + " ") + item
          if candidate.count + (lines.isEmpty ? indent.count : 0) > lineWidth && line != "[" {
            lines.append(line)
            line = pad + item
          } else {
            line = candidate
          }
        }
        lines.append(line + "]")
        return lines.joined(separator: "\n")
      }
      var parts: [String] = []
      for i in indices {
        if let i = i {
          parts.append(block(axis + 1, offset + i * strides[axis], depth + 1))
        } else {
          parts.append("...")
        }
      }
      let newlines = String(repeating: "\n", count: max(1, a.rank - axis - 1))
      let sep = separator.trimmingCharacters(in: .whitespaces) + newlines + indent + String(repeating: " ", count: depth + 1)
      return "[" + parts.joined(separator: sep) + "]"
    }
    if a.count == 0 { return "[]" }
    return block(0, 0, 0)
  }
}
