import ArrayIO
import Foundation

/// numpy's print options (`np.set_printoptions`, `:set precision 4`): the subset ks honours.
///
/// They live in the interpreter's `SessionState`, so a failed statement leaves them as they
/// were and `:reset` restores the defaults.
public struct PrintOptions: Sendable, Equatable {
  /// Digits after the point (at most) when printing float arrays.
  public var precision = 8
  /// Arrays with more elements than this print summarized (`...`).
  public var threshold = 1000
  /// Items shown at each end of a summarized axis.
  public var edgeItems = 3
  /// Characters per line before wrapping.
  public var lineWidth = 75
  /// Whether small numbers print in fixed-point rather than switching the array to scientific.
  public var suppress = false

  public init() {}

  /// numpy's defaults: precision 8, threshold 1000, edgeitems 3, linewidth 75, suppress False.
  public static let defaults = PrintOptions()

  /// The integer options, by their numpy names, in `np.get_printoptions()` order.
  public static let integerNames = ["edgeitems", "threshold", "precision", "linewidth"]

  /// An integer option by its numpy name (`edgeitems`, `threshold`, `precision`, `linewidth`).
  public subscript(integer name: String) -> Int? {
    get {
      switch name {
      case "precision": return precision
      case "threshold": return threshold
      case "edgeitems": return edgeItems
      case "linewidth": return lineWidth
      default: return nil
      }
    }
    set {
      guard let v = newValue else { return }
      switch name {
      case "precision": precision = v
      case "threshold": threshold = v
      case "edgeitems": edgeItems = v
      case "linewidth": lineWidth = v
      default: break
      }
    }
  }

  /// Why `value` cannot be the integer option `name`, or nil when it can.
  public static func problem(setting name: String, to value: Int) -> String? {
    switch name {
    case "linewidth": return value >= 1 ? nil : "linewidth must be a positive integer"
    default: return value >= 0 ? nil : "\(name) must be a non-negative integer"
    }
  }
}

/// numpy 2's text for arrays and numpy scalars, under the session's print options.
///
/// - `str` is what `print` shows (`[[1. 2.]\n [3. 4.]]`), `repr` what the shell echoes
///   (`array([1., 2.])`, `array([0.1, 0.2], dtype=float32)`).
/// - 0-d arrays are ks's numpy scalars: `str` gives `1.5`, `repr` gives `np.float64(1.5)`.
/// - Floats: floatmode 'maxprec' (shortest round-trip digits, at most `precision` (8) after the
///   point, trailing zeros dropped, one width for all), scientific notation when the largest
///   magnitude is >= 1e8 (1e6 for float32, 1e3 for float16), or (unless `suppress`) the smallest
///   nonzero one < 1e-4, or their ratio > 1e3 (compared in the array's own float type, as numpy
///   does).
/// - Arrays over `threshold` (1000) elements are summarised with `edgeItems` (3) edge items per
///   axis and `...`; lines wrap at `lineWidth` (75) characters.
/// - numpy scalars ignore the options, as in numpy.
public enum ArrayFormatter {
  /// `str(a)`.
  public static func str(_ a: NDArray, options: PrintOptions) -> String {
    if a.rank == 0 { return scalarStr(a) }
    if a.count == 0 { return "[]" }
    return render(a, options: options, lineWidth: options.lineWidth, nextLinePrefix: " ", separator: " ")
  }

  /// `repr(a)`.
  public static func repr(_ a: NDArray, options: PrintOptions) -> String {
    if a.rank == 0 && a.isZeroDimensionalArray { return zeroDimensionalRepr(a, options: options) }
    if a.rank == 0 { return scalarRepr(a) }
    let lineWidth = options.lineWidth
    let prefix = "array("
    let body =
      a.count == 0
      ? "[]"
      : render(
        a, options: options, lineWidth: lineWidth - 1, nextLinePrefix: " " + String(repeating: " ", count: prefix.count),
        separator: ", ")
    var extras: [String] = []
    if (a.count == 0 && a.shape != [0]) || a.count > options.threshold { extras.append("shape=\(tupleShape(a.shape))") }
    if ![DType.float64, .int64, .bool, .complex128].contains(a.dtype) || a.count == 0 { extras.append("dtype=\(a.dtype.rawValue)") }
    if extras.isEmpty { return prefix + body + ")" }
    let arrStr = prefix + body + ","
    let extraStr = extras.joined(separator: ", ") + ")"
    let lastLine = arrStr.utf8.count - ((arrStr.utf8.lastIndex(of: UInt8(ascii: "\n")).map { arrStr.utf8.distance(from: arrStr.utf8.startIndex, to: $0) + 1 }) ?? 0)
    let spacer = lastLine + extraStr.utf8.count + 1 > lineWidth ? "\n" + String(repeating: " ", count: prefix.count) : " "
    return arrStr + spacer + extraStr
  }

  // MARK: - Scalars

  /// `str` of a numpy scalar: `1.5`, `1e-05`, `3`, `True`.
  public static func scalarStr(_ a: NDArray) -> String {
    switch a.storage {
    case .float64(let v): return scalarFloat(v[0], positionalLimit: 1e16)
    case .float32(let v): return scalarFloat(v[0], positionalLimit: 1e6)
    case .float16(let v): return scalarFloat(v[0], positionalLimit: 1e3)
    case .int64(let v): return String(v[0])
    case .bool(let v): return v[0] ? "True" : "False"
    case .complex64(let v): return scalarComplex(v[0].re, v[0].im, positionalLimit: 1e6)
    case .complex128(let v): return scalarComplex(v[0].re, v[0].im, positionalLimit: 1e16)
    }
  }

  /// numpy's (and Python's) complex scalar text: `(1+2j)`, `2j`, `(-0-1j)`, `(nan+infj)`: the
  /// parts without a trailing `.0`, the real part left out when it is +0.
  public static func scalarComplex<T: FormattableFloat>(_ re: T, _ im: T, positionalLimit: Double) -> String {
    func part(_ x: T) -> String {
      if x.isNaN { return "nan" }
      if x.isInfinite { return x < 0 ? "-inf" : "inf" }
      let m = Swift.abs(Double(x))
      let d = DecimalDigits(shortest: x)
      if m == 0 || (m >= 1e-4 && m < positionalLimit) {
        return d.positional(minFraction: 0, trim: .dropPoint, padLeft: 0, padRight: 0)
      }
      return d.scientific(minFraction: 0, trim: .dropPoint, padLeft: 0, expDigits: 2)
    }
    var imText = part(im)
    if !imText.hasPrefix("-") { imText = "+" + imText }
    if re == 0 && re.sign == .plus { return String(imText.dropFirst(imText.hasPrefix("+") ? 1 : 0)) + "j" }
    return "(" + part(re) + imText + "j)"
  }

  /// `repr` of a numpy scalar: `np.float64(1.5)`, `np.int64(3)`, `np.True_`.
  public static func scalarRepr(_ a: NDArray) -> String {
    if case .bool(let v) = a.storage { return v[0] ? "np.True_" : "np.False_" }
    var text = scalarStr(a)
    if a.dtype.isComplex && text.hasPrefix("(") { text = String(text.dropFirst().dropLast()) }
    return "np.\(a.dtype.rawValue)(\(text))"
  }

  /// numpy's scalar float text: shortest round-trip digits, positional between 1e-4 and the
  /// type's limit (1e16 for float64, 1e6 for float32, 1e3 for float16), scientific otherwise.
  static func scalarFloat<T: FormattableFloat>(_ x: T, positionalLimit: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    let m = Swift.abs(Double(x))
    let d = DecimalDigits(shortest: x)
    if m == 0 || (m >= 1e-4 && m < positionalLimit) {
      return d.positional(minFraction: 1, trim: .leaveOneZero, padLeft: 0, padRight: 0)
    }
    return d.scientific(minFraction: 0, trim: .dropPoint, padLeft: 0, expDigits: 2)
  }

  // MARK: - Arrays

  static func render(_ a: NDArray, options: PrintOptions, lineWidth: Int, nextLinePrefix: String, separator: String) -> String {
    let summarize = a.count > options.threshold
    let edgeItems = options.edgeItems
    let strides = cStrides(a.shape)
    // The elements numpy looks at to choose the format: all, or the edge items of every axis.
    var shown: [[Int]] = []
    for n in a.shape {
      // numpy samples a[:edgeitems] and a[-edgeitems:]; with 0 edge items the latter is all of a.
      let trailing = edgeItems == 0 ? 0 : n - edgeItems
      shown.append(summarize && n > 2 * edgeItems ? Array(0..<edgeItems) + Array(trailing..<n) : Array(0..<n))
    }
    var offsets = [0]
    for (k, idx) in shown.enumerated() {
      var next: [Int] = []
      next.reserveCapacity(offsets.count * idx.count)
      for o in offsets { for i in idx { next.append(o + i * strides[k]) } }
      offsets = next
    }
    let element = elementFormatter(a, sample: offsets, options: options)
    return formatArray(
      shape: a.shape, strides: strides, element: element, lineWidth: lineWidth, nextLinePrefix: nextLinePrefix,
      separator: separator, summaryInsert: summarize ? "..." : "", edgeItems: edgeItems)
  }

  /// The formatter of one element (by flat index), chosen from the sampled elements.
  static func elementFormatter(_ a: NDArray, sample: [Int], options: PrintOptions) -> (Int) -> String {
    switch a.storage {
    case .bool(let v):
      return { v[$0] ? " True" : "False" }
    case .int64(let v):
      let s = sample.map { v[$0] }
      let width = Swift.max(String(s.max() ?? 0).count, String(s.min() ?? 0).count)
      return { i in
        let t = String(v[i])
        return t.count >= width ? t : String(repeating: " ", count: width - t.count) + t
      }
    case .float64(let v):
      let f = FloatFormat(sample.map { v[$0] }, options: options)
      return { f.format(v[$0]) }
    case .float32(let v):
      let f = FloatFormat(sample.map { v[$0] }, options: options)
      return { f.format(v[$0]) }
    case .float16(let v):
      let f = FloatFormat(sample.map { v[$0] }, options: options)
      return { f.format(v[$0]) }
    case .complex64(let v):
      let re = FloatFormat(sample.map { v[$0].re }, options: options)
      let im = FloatFormat(sample.map { v[$0].im }, options: options, plusSign: true)
      return { complexElement(re.format(v[$0].re), im.format(v[$0].im)) }
    case .complex128(let v):
      let re = FloatFormat(sample.map { v[$0].re }, options: options)
      let im = FloatFormat(sample.map { v[$0].im }, options: options, plusSign: true)
      return { complexElement(re.format(v[$0].re), im.format(v[$0].im)) }
    }
  }

  /// numpy's `ComplexFloatingFormat`: the real text, then the imaginary text with `j` placed
  /// before its right padding.
  static func complexElement(_ re: String, _ im: String) -> String {
    var body = Substring(im)
    var padding = ""
    while body.last == " " {
      body.removeLast()
      padding += " "
    }
    return re + body + "j" + padding
  }

  /// numpy's `_formatArray`: nested brackets, separators, line wrapping, summarisation.
  static func formatArray(
    shape: [Int], strides: [Int], element: (Int) -> String, lineWidth: Int, nextLinePrefix: String,
    separator: String, summaryInsert: String, edgeItems: Int
  ) -> String {
    let rank = shape.count
    let sepStripped = rstrip(separator)

    func extendLine(_ s: inout String, _ line: inout String, _ word: String, _ width: Int, _ prefix: String) {
      var needsWrap = line.utf8.count + word.utf8.count > width
      if line.utf8.count <= prefix.utf8.count { needsWrap = false }
      if needsWrap {
        s += rstrip(line) + "\n"
        line = prefix
      }
      line += word
    }

    func recurse(_ axis: Int, _ offset: Int, _ hangingIndent: String, _ currWidth: Int) -> String {
      let axesLeft = rank - axis
      if axesLeft == 0 { return element(offset) }
      let nextHanging = hangingIndent + " "
      let nextWidth = currWidth - 1
      let n = shape[axis]
      let showSummary = !summaryInsert.isEmpty && 2 * edgeItems < n
      let leading = showSummary ? edgeItems : 0
      let trailing = showSummary ? edgeItems : n
      let st = strides[axis]
      var s = ""
      if axesLeft == 1 {
        let elemWidth = currWidth - Swift.max(sepStripped.utf8.count, 1)
        var line = hangingIndent
        for i in 0..<leading {
          extendLine(&s, &line, recurse(axis + 1, offset + i * st, nextHanging, nextWidth), elemWidth, hangingIndent)
          line += separator
        }
        if showSummary {
          extendLine(&s, &line, summaryInsert, elemWidth, hangingIndent)
          line += separator
        }
        var i = trailing
        while i > 1 {
          extendLine(&s, &line, recurse(axis + 1, offset + (n - i) * st, nextHanging, nextWidth), elemWidth, hangingIndent)
          line += separator
          i -= 1
        }
        extendLine(&s, &line, recurse(axis + 1, offset + (n - 1) * st, nextHanging, nextWidth), elemWidth, hangingIndent)
        s += line
      } else {
        let lineSep = sepStripped + String(repeating: "\n", count: axesLeft - 1)
        for i in 0..<leading {
          s += hangingIndent + recurse(axis + 1, offset + i * st, nextHanging, nextWidth) + lineSep
        }
        if showSummary { s += hangingIndent + summaryInsert + lineSep }
        var i = trailing
        while i > 1 {
          s += hangingIndent + recurse(axis + 1, offset + (n - i) * st, nextHanging, nextWidth) + lineSep
          i -= 1
        }
        s += hangingIndent + recurse(axis + 1, offset + (n - 1) * st, nextHanging, nextWidth)
      }
      return "[" + String(s.dropFirst(hangingIndent.count)) + "]"
    }
    return recurse(0, 0, nextLinePrefix, lineWidth)
  }

  static func rstrip(_ s: String) -> String {
    var t = Substring(s)
    while t.last == " " { t.removeLast() }
    return String(t)
  }
}

// MARK: - Float digits

/// Float types ks prints: shortest round-trip digits come from Swift's `description`, which
/// (like numpy's Dragon4 in unique mode) gives the shortest digits that read back exactly.
public protocol FormattableFloat: BinaryFloatingPoint, CustomStringConvertible {}
extension Double: FormattableFloat {}
extension Float: FormattableFloat {}
extension Float16: FormattableFloat {}

/// A finite float as decimal digits: value = ±0.d₁d₂d₃… × 10^(pointPosition).
struct DecimalDigits {
  var negative: Bool
  /// Significant digits without leading or trailing zeros; `[0]` for zero.
  var digits: [UInt8]
  /// How many digits stand before the decimal point (may be ≤ 0 or beyond `digits.count`).
  var point: Int

  enum Trim {
    /// numpy's trim='k': keep trailing zeros (pad to `minFraction`).
    case keep
    /// trim='.': drop trailing zeros, keep the point (`1.`).
    case keepPoint
    /// Scalar str: at least one digit after the point (`1.0`).
    case leaveOneZero
    /// Scientific scalar: drop trailing zeros and the point (`1e+16`).
    case dropPoint
  }

  /// Parses a plain decimal text such as `-1.25e-05`, `0.0001`, `100.0`.
  init(text: String) {
    var s = Substring(text)
    negative = s.first == "-"
    if negative { s = s.dropFirst() }
    var exp = 0
    if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      exp = Int(s[s.index(after: e)...]) ?? 0
      s = s[..<e]
    }
    var intPart = s, frac: Substring = ""
    if let dot = s.firstIndex(of: ".") {
      intPart = s[..<dot]
      frac = s[s.index(after: dot)...]
    }
    var all = Array((intPart + frac).utf8).map { $0 - 48 }
    var point = intPart.count + exp
    while all.count > 1 && all.first == 0 {
      all.removeFirst()
      point -= 1
    }
    while all.count > 1 && all.last == 0 { all.removeLast() }
    if all == [0] { point = 1 }
    digits = all
    self.point = point
  }

  /// The shortest digits that identify `x` among values of its type.
  init<T: FormattableFloat>(shortest x: T) {
    if T.self == Float16.self && x != 0 {
      // Swift's Float16 description is not the shortest: search the digit counts.
      var found: DecimalDigits?
      for p in 0..<6 {
        let d = DecimalDigits(text: String(format: "%.\(p)e", Double(x)))
        if let back = Double(String(format: "%.\(p)e", Double(x))), T(back) == x {
          found = d
          break
        }
      }
      self = found ?? DecimalDigits(text: String(format: "%.5e", Double(x)))
      return
    }
    self.init(text: x.description)
    if x == 0 { negative = x.sign == .minus }
  }

  /// `x` correctly rounded to `fraction` digits after the point.
  init<T: FormattableFloat>(_ x: T, roundedToFraction fraction: Int) {
    self.init(text: String(format: "%.\(fraction)f", Double(x)))
    if x.sign == .minus { negative = true }
  }

  /// `x` correctly rounded to `fraction + 1` significant digits.
  init<T: FormattableFloat>(_ x: T, roundedToSignificant fraction: Int) {
    self.init(text: String(format: "%.\(fraction)e", Double(x)))
    if x.sign == .minus { negative = true }
  }

  var isZero: Bool { digits == [0] }

  /// Digits after the point in positional notation.
  var fractionCount: Int { Swift.max(0, digits.count - point) }

  /// numpy's `dragon4_positional` (fractional mode).
  func positional(minFraction: Int, trim: Trim, padLeft: Int, padRight: Int, plusSign: Bool = false) -> String {
    var intPart = ""
    if point <= 0 || isZero {
      intPart = "0"
    } else {
      for k in 0..<point { intPart.append(Character(UnicodeScalar(48 + (k < digits.count ? digits[k] : 0)))) }
    }
    var frac = ""
    if !isZero {
      if point < 0 { frac += String(repeating: "0", count: -point) }
      var k = Swift.max(point, 0)
      while k < digits.count {
        frac.append(Character(UnicodeScalar(48 + digits[k])))
        k += 1
      }
    }
    if frac.count < minFraction { frac += String(repeating: "0", count: minFraction - frac.count) }
    if negative { intPart = "-" + intPart } else if plusSign { intPart = "+" + intPart }
    var out = intPart.count < padLeft ? String(repeating: " ", count: padLeft - intPart.count) + intPart : intPart
    switch trim {
    case .dropPoint where frac.isEmpty: break
    case .leaveOneZero where frac.isEmpty: out += ".0"
    default: out += "." + frac
    }
    if frac.count < padRight { out += String(repeating: " ", count: padRight - frac.count) }
    return out
  }

  /// numpy's `dragon4_scientific`.
  func scientific(minFraction: Int, trim: Trim, padLeft: Int, expDigits: Int, plusSign: Bool = false) -> String {
    var mant = (negative ? "-" : (plusSign ? "+" : "")) + String(Character(UnicodeScalar(48 + digits[0])))
    if mant.count < padLeft { mant = String(repeating: " ", count: padLeft - mant.count) + mant }
    var frac = String(digits.dropFirst().map { Character(UnicodeScalar(48 + $0)) })
    if frac.count < minFraction { frac += String(repeating: "0", count: minFraction - frac.count) }
    if !(trim == .dropPoint && frac.isEmpty) { mant += "." + frac }
    let e = isZero ? 0 : point - 1
    var expText = String(Swift.abs(e))
    let width = Swift.max(expDigits, 2)
    if expText.count < width { expText = String(repeating: "0", count: width - expText.count) + expText }
    return mant + "e" + (e < 0 ? "-" : "+") + expText
  }
}

/// numpy's `FloatingFormat` for one array ('maxprec', sign '-', the session's precision and
/// suppress).
struct FloatFormat<T: FormattableFloat> {
  var expFormat = false
  var padLeft = 0
  var padRight = 0
  var precision: Int
  var minFraction = 0
  var trim = DecimalDigits.Trim.keepPoint
  var expSize = -1
  /// numpy's sign='+': every number carries its sign (the imaginary parts of complex arrays).
  var plusSign = false

  init(_ data: [T], options: PrintOptions, plusSign: Bool = false) {
    self.plusSign = plusSign
    precision = options.precision
    let finite = data.filter { $0.isFinite }
    let absNonZero = finite.filter { $0 != 0 }.map { Swift.abs($0) }
    if let maxVal = absNonZero.max(), let minVal = absNonZero.min() {
      // Compared in T, as numpy compares its typed values with the (weak) Python floats.
      // numpy >= 2.3: the large cutoff is 10**min(8, finfo(dtype).precision).
      let cutoff: T = T.self == Float16.self ? 1e3 : (T.self == Float.self ? 1e6 : 1e8)
      if maxVal >= cutoff || (!options.suppress && (minVal < T(0.0001) || maxVal / minVal > T(1000))) { expFormat = true }
    }
    if finite.isEmpty {
      padLeft = 0
      padRight = 0
    } else if expFormat {
      let ds = finite.map { Self.scientificDigits($0, precision: precision) }
      precision = ds.map { $0.digits.count - 1 }.max() ?? 0
      minFraction = precision
      trim = .keep
      padLeft = ds.map { $0.negative || plusSign ? 2 : 1 }.max() ?? 1
      let maxExp = ds.map { $0.isZero ? 0 : Swift.abs($0.point - 1) }.max() ?? 0
      expSize = Swift.max(String(maxExp).count, 2)
      padRight = expSize + 2 + precision
    } else {
      let ds = finite.map { Self.positionalDigits($0, precision: precision) }
      padLeft = ds.map { d in (d.point > 0 && !d.isZero ? d.point : 1) + (d.negative || plusSign ? 1 : 0) }.max() ?? 1
      padRight = ds.map(\.fractionCount).max() ?? 0
    }
    if finite.count != data.count {
      let negInf = plusSign || data.contains { $0.isInfinite && $0 < 0 }
      let offset = padRight + 1
      padLeft = Swift.max(padLeft, 3 - offset, 3 + (negInf ? 1 : 0) - offset)
    }
  }

  static func positionalDigits(_ x: T, precision: Int) -> DecimalDigits {
    let d = DecimalDigits(shortest: x)
    return d.fractionCount > precision ? DecimalDigits(x, roundedToFraction: precision) : d
  }

  static func scientificDigits(_ x: T, precision: Int) -> DecimalDigits {
    let d = DecimalDigits(shortest: x)
    return d.digits.count - 1 > precision ? DecimalDigits(x, roundedToSignificant: precision) : d
  }

  func format(_ x: T) -> String {
    if !x.isFinite {
      let s = x.isNaN ? (plusSign ? "+nan" : "nan") : (x < 0 ? "-inf" : (plusSign ? "+inf" : "inf"))
      let width = padLeft + padRight + 1
      return s.count < width ? String(repeating: " ", count: width - s.count) + s : s
    }
    if expFormat {
      var d = Self.scientificDigits(x, precision: precision)
      // Dragon4 fills up to min_digits with the exact value's further digits, not zeros.
      if d.digits.count - 1 < minFraction && !d.isZero { d = DecimalDigits(x, roundedToSignificant: minFraction) }
      return d.scientific(minFraction: minFraction, trim: trim, padLeft: padLeft, expDigits: expSize, plusSign: plusSign)
    }
    return Self.positionalDigits(x, precision: precision)
      .positional(minFraction: minFraction, trim: trim, padLeft: padLeft, padRight: padRight, plusSign: plusSign)
  }
}
