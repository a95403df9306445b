import Foundation

/// A tick mark on an axis: where it is and its label; `exponent` for a power of ten drawn as
/// 10 with a superscript (log axes).
public struct Tick: Sendable, Equatable {
  public var value: Double
  public var label: String
  public var exponent: Int?

  public init(value: Double, label: String, exponent: Int? = nil) {
    self.value = value
    self.label = label
    self.exponent = exponent
  }

  /// The label as plain text (`1e-06` for an exponent), for the terminal.
  public var plainLabel: String {
    guard let e = exponent else { return label }
    return "1e\(e)"
  }
}

/// "Nice" tick positions and labels: steps of 1, 2, 2.5 or 5 times a power of ten on linear axes,
/// powers of ten on log axes.
public enum Ticks {
  /// About `target` ticks (at least 2 when the range allows) between `lo` and `hi` (either order).
  public static func linear(_ lo: Double, _ hi: Double, target: Int = 6) -> [Tick] {
    let a = min(lo, hi)
    let b = max(lo, hi)
    guard a.isFinite, b.isFinite, b > a else { return a.isFinite ? [Tick(value: a, label: format(a, step: 1))] : [] }
    // The smallest nice step that gives at most target + 1 ticks.
    let base = pow(10, (log10((b - a) / Double(max(1, target)))).rounded(.down))
    var step = 10 * base
    for m in [1, 2, 2.5, 5, 10.0] {
      let s = m * base
      if count(a, b, step: s) <= target + 1 {
        step = s
        break
      }
    }
    let first = (a / step - 1e-9).rounded(.up)
    let last = (b / step + 1e-9).rounded(.down)
    guard last >= first, last - first < 1000 else { return [] }
    var ticks: [Tick] = []
    var k = first
    while k <= last {
      var v = k * step
      if abs(v) < step * 1e-9 { v = 0 }
      ticks.append(Tick(value: v, label: format(v, step: step)))
      k += 1
    }
    return ticks
  }

  static func count(_ a: Double, _ b: Double, step: Double) -> Int {
    Int((b / step + 1e-9).rounded(.down) - (a / step - 1e-9).rounded(.up)) + 1
  }

  /// The step nearest above `raw` among 1, 2, 2.5, 5 times a power of ten.
  public static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    for m in [1, 2, 2.5, 5, 10.0] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
    return 10 * magnitude
  }

  /// `v` with as many decimals as `step` needs; scientific notation for very large or small values.
  public static func format(_ v: Double, step: Double) -> String {
    let v = v == 0 ? 0 : v  // no "-0.0"
    let largest = max(abs(v), step)
    if largest >= 1e6 || step < 1e-4 {
      if v == 0 { return "0" }
      // Mantissa digits enough to tell neighbouring ticks apart.
      let stepExponent = log10(step).rounded(.down)
      var digits = Int(log10(abs(v)).rounded(.down) - stepExponent)
      let mantissa = step / pow(10, stepExponent)
      if abs(mantissa - mantissa.rounded()) > 1e-6 { digits += 1 }
      return compactScientific(v, digits: min(max(digits, 0), 6))
    }
    var decimals = max(0, -Int(log10(step).rounded(.down)))
    let scaled = step * pow(10, Double(decimals))
    if abs(scaled - scaled.rounded()) > 1e-6 { decimals += 1 }
    return String(format: "%.\(decimals)f", v)
  }

  /// `2.5e-05`, `1e+06`, trailing zeros of the mantissa dropped.
  static func compactScientific(_ v: Double, digits: Int) -> String {
    let s = String(format: "%.\(digits)e", v)
    guard let e = s.firstIndex(of: "e") else { return s }
    var mantissa = String(s[..<e])
    if mantissa.contains(".") {
      while mantissa.hasSuffix("0") { mantissa.removeLast() }
      if mantissa.hasSuffix(".") { mantissa.removeLast() }
    }
    return mantissa + s[e...]
  }

  /// Ticks for a log axis between `lo` and `hi` (positive): powers of ten (every k-th decade when
  /// there are many), or 1-9 times a power of ten when the range spans less than a decade.
  public static func log(_ lo: Double, _ hi: Double, target: Int = 6) -> [Tick] {
    let a = min(lo, hi)
    let b = max(lo, hi)
    guard a > 0, b.isFinite, b > a else { return [] }
    let e0 = Int((log10(a) - 1e-9).rounded(.up))
    let e1 = Int((log10(b) + 1e-9).rounded(.down))
    if e1 - e0 >= 1 {
      let every = max(1, Int((Double(e1 - e0 + 1) / Double(max(1, target))).rounded(.up)))
      return stride(from: e0, through: e1, by: 1).filter { ($0 - e0) % every == 0 }.map {
        Tick(value: pow(10, Double($0)), label: "10", exponent: $0)
      }
    }
    // Less than a decade: the multiples of the power of ten below `a` inside the range.
    var ticks: [Tick] = []
    let base = pow(10, log10(a).rounded(.down))
    for scale in [base, base * 10] {
      for d in 1...9 {
        let v = Double(d) * scale
        if v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9) {
          ticks.append(Tick(value: v, label: format(v, step: min(v, scale) / 10)))
        }
      }
    }
    if ticks.count > target { ticks = ticks.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) }
    return ticks
  }

  /// The minor ticks of a log axis: 2...9 times each power of ten in the range.
  public static func logMinor(_ lo: Double, _ hi: Double) -> [Double] {
    let a = min(lo, hi)
    let b = max(lo, hi)
    guard a > 0, b.isFinite, b > a, log10(b / a) <= 12 else { return [] }
    var out: [Double] = []
    var e = log10(a).rounded(.down)
    while pow(10, e) <= b {
      for d in 2...9 {
        let v = Double(d) * pow(10, e)
        if v >= a && v <= b { out.append(v) }
      }
      e += 1
    }
    return out
  }
}
