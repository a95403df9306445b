import Foundation

/// Compares a transcript with its golden: the text outside numbers exactly, the numbers by kind.
///
/// Each line is cut into text and numbers (`31`, `-0.96`, `8.4e-07`, `.5`; digits inside a word,
/// as in `float64` or `Vi(3)`'s `Vi`, stay text). The lines must match one for one, the text
/// exactly, the numbers as follows:
/// - an **iteration count** (an integer followed by ` iteration`) within `iterations` of the golden;
/// - any **other integer** (shapes, counts, labels) exactly;
/// - a **float** (it has a `.` or an exponent) to `relative` of the larger magnitude, plus one unit
///   of its last printed digit (two values that agree to 1e-6 can still round to neighbouring last
///   digits); two floats both at most `absolute` in magnitude are rounding noise and equal;
/// - a solver's **final residual** (the number after `rms ` on a `CG`/`PCG` summary line) within a
///   factor `residualFactor`: it follows the iteration count, which may differ by a few.
/// Runs of spaces next to a number may differ in length (numpy pads columns to the widest
/// number), but not between none and some. Wall-clock figures are not compared because they are
/// not in the goldens at all (the caller strips them).
struct TranscriptComparison {
  struct Tolerance: Sendable {
    var relative: Double
    var absolute: Double
    var iterations: Int
    var residualFactor: Double

    /// Values computed in float64.
    static let float64 = Tolerance(relative: 1e-6, absolute: 1e-12, iterations: 3, residualFactor: 10)
    /// Values computed in float32 (the compiled kernels sum in a machine-dependent order): about
    /// 1000 float32 ulps.
    static let float32 = Tolerance(relative: 1e-4, absolute: 1e-6, iterations: 3, residualFactor: 10)
  }

  struct Number: Equatable {
    var text: String
    var value: Double
    var isFloat: Bool
    /// The value of one unit in the last printed digit (`0.01` for `0.99`, `1e-07` for `6.4e-07`).
    var unit: Double
  }

  enum Token: Equatable {
    case text(String)
    case number(Number)
  }

  /// The text and numbers of one line.
  static func tokens(_ line: Substring) -> [Token] {
    let chars = Array(line)
    var out: [Token] = []
    var text = ""
    var i = 0
    func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
    func digit(_ k: Int) -> Bool { k < chars.count && chars[k].isASCII && chars[k].isNumber }
    while i < chars.count {
      // A number starts after a space, bracket or operator, never inside a word (`float64`).
      let previous: Character? = i > 0 ? chars[i - 1] : nil
      let mayStart = previous.map { !isWordChar($0) && $0 != "." } ?? true
      var j = i
      // A sign belongs to the number unless it follows a closing bracket (then it is an operator).
      if mayStart, chars[i] == "-" || chars[i] == "+", previous != ")" && previous != "]" { j += 1 }
      guard mayStart, digit(j) || (j < chars.count && chars[j] == "." && digit(j + 1)) else {
        text.append(chars[i])
        i += 1
        continue
      }
      let start = i
      i = j
      var k = i
      var fractionDigits = 0
      var isFloat = false
      while digit(k) { k += 1 }
      if k < chars.count, chars[k] == ".", digit(k + 1) || k > i {
        isFloat = true
        k += 1
        while digit(k) {
          k += 1
          fractionDigits += 1
        }
      }
      var exponent = 0
      if k < chars.count, chars[k] == "e" || chars[k] == "E" {
        var e = k + 1
        if e < chars.count, chars[e] == "-" || chars[e] == "+" { e += 1 }
        if digit(e) {
          while digit(e) { e += 1 }
          exponent = Int(String(chars[(k + 1)..<e])) ?? 0
          isFloat = true
          k = e
        }
      }
      // A number glued to a following letter (`3x`, `1st`) is part of a word.
      if k < chars.count, chars[k].isLetter || chars[k] == "_" {
        text += String(chars[start..<k])
        i = k
        continue
      }
      let literal = String(chars[start..<k])
      guard let value = Double(literal) else {
        text += literal
        i = k
        continue
      }
      if !text.isEmpty { out.append(.text(text)) }
      text = ""
      let unit = isFloat ? pow(10, Double(exponent - fractionDigits)) : 1
      out.append(.number(Number(text: literal, value: value, isFloat: isFloat, unit: unit)))
      i = k
    }
    if !text.isEmpty { out.append(.text(text)) }
    return out
  }

  /// Nil when `actual` matches `golden`; otherwise where and why it does not.
  static func mismatch(golden: String, actual: String, tolerance: Tolerance = .float64) -> String? {
    let g = golden.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    for n in 0..<max(g.count, a.count) {
      guard n < g.count, n < a.count else {
        return "line \(n + 1): the golden has \(g.count) lines, the transcript \(a.count)\n"
          + "  golden: \(n < g.count ? String(g[n]) : "<end>")\n  actual: \(n < a.count ? String(a[n]) : "<end>")"
      }
      if let why = lineMismatch(golden: g[n], actual: a[n], tolerance: tolerance) {
        return "line \(n + 1): \(why)\n  golden: \(g[n])\n  actual: \(a[n])"
      }
    }
    return nil
  }

  static func lineMismatch(golden: Substring, actual: Substring, tolerance: Tolerance) -> String? {
    if golden == actual { return nil }
    let g = tokens(golden), a = tokens(actual)
    let isSolverLine = golden.hasPrefix("CG ") || golden.hasPrefix("PCG ")
    guard g.count == a.count else { return "different text or number of numbers" }
    for k in g.indices {
      switch (g[k], a[k]) {
      case (.text(let x), .text(let y)):
        let numberBefore = k > 0, numberAfter = k + 1 < g.count
        if normalized(x, numberBefore: numberBefore, numberAfter: numberAfter)
          != normalized(y, numberBefore: numberBefore, numberAfter: numberAfter)
        {
          return "text \"\(x)\" became \"\(y)\""
        }
      case (.number(let x), .number(let y)):
        let before: String = k > 0 ? (g[k - 1].text ?? "") : ""
        let after: String = k + 1 < g.count ? (g[k + 1].text ?? "") : ""
        if let why = numberMismatch(
          x, y, iterationCount: after.hasPrefix(" iteration"), residual: isSolverLine && before.hasSuffix("rms "),
          tolerance: tolerance)
        {
          return why
        }
      default:
        return "a number where the golden has text, or text where it has a number"
      }
    }
    return nil
  }

  /// A text piece with the spaces next to a number reduced to one (numpy's column padding).
  static func normalized(_ s: String, numberBefore: Bool, numberAfter: Bool) -> String {
    var t = Substring(s)
    var lead = "", trail = ""
    if numberBefore, t.first == " " {
      t = t.drop { $0 == " " }
      lead = " "
    }
    if numberAfter, t.last == " " {
      while t.last == " " { t = t.dropLast() }
      trail = " "
    }
    return t.isEmpty && !lead.isEmpty ? " " : lead + t + trail
  }

  static func numberMismatch(
    _ golden: Number, _ actual: Number, iterationCount: Bool, residual: Bool, tolerance: Tolerance
  ) -> String? {
    if golden.text == actual.text { return nil }
    if !golden.isFloat && !actual.isFloat {
      if iterationCount {
        let d = abs(golden.value - actual.value)
        return d <= Double(tolerance.iterations)
          ? nil : "iteration count \(golden.text) became \(actual.text) (allowed: within \(tolerance.iterations))"
      }
      return "integer \(golden.text) became \(actual.text) (integers compare exactly)"
    }
    let x = golden.value, y = actual.value
    if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite { return "\(golden.text) became \(actual.text)" }
    let scale = max(abs(x), abs(y))
    if residual {
      let ok = (x == 0 && y == 0) || (x > 0 && y > 0 && max(x / y, y / x) <= tolerance.residualFactor)
        || scale <= tolerance.absolute
      return ok ? nil : "solver residual \(golden.text) became \(actual.text) (allowed: within a factor \(tolerance.residualFactor))"
    }
    if scale <= tolerance.absolute { return nil }
    let allowed = tolerance.relative * scale + max(golden.unit, actual.unit)
    if abs(x - y) <= allowed * (1 + 1e-12) { return nil }
    return "\(golden.text) became \(actual.text) (allowed: relative \(tolerance.relative) plus one unit of the last printed digit)"
  }
}

extension TranscriptComparison.Token {
  var text: String? {
    if case .text(let s) = self { return s }
    return nil
  }
}
