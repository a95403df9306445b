import ArrayIO
import KSDiagnostics
import Plotting
import ShellRuntime

/// Reading plotting arguments: numbers, arrays, colors, colormaps and format strings.
enum PlotArguments {
  /// The shape of an array-like value ([] for a scalar), or nil when it is not one (or is ragged).
  static func shape(_ v: Value) -> [Int]? {
    switch v {
    case .array(let a): return a.shape
    case .int, .float, .bool: return []
    case .list(let items), .tuple(let items):
      guard let first = items.first else { return [0] }
      guard let inner = shape(first) else { return nil }
      for item in items.dropFirst() where shape(item) != inner { return nil }
      return [items.count] + inner
    default: return nil
    }
  }

  /// Whether `v` is numbers (an array, a list of numbers, a number).
  static func isNumeric(_ v: Value) -> Bool {
    switch v {
    case .array: return true
    case .int, .float, .bool: return true
    case .list(let items), .tuple(let items): return items.allSatisfy(isNumeric)
    default: return false
    }
  }

  /// All the numbers of an array-like value, flattened.
  static func doubles(_ v: Value, _ what: String, at range: SourceRange) throws(ShellError) -> [Double] {
    switch v {
    case .array(let a): return a.toDoubles()
    case .int(let i): return [Double(i)]
    case .float(let x): return [x]
    case .bool(let b): return [b ? 1 : 0]
    case .list(let items), .tuple(let items):
      var out: [Double] = []
      for item in items { out += try doubles(item, what, at: range) }
      return out
    default:
      throw ShellError("\(what) must be numbers (an array or a list), not \(v.typeName)", type: "TypeError", at: range)
    }
  }

  /// A 2-D array-like value: (rows, columns, values row by row).
  static func matrix(_ v: Value, _ what: String, at range: SourceRange) throws(ShellError) -> (rows: Int, columns: Int, values: [Double]) {
    guard let s = shape(v) else {
      throw ShellError("\(what) must be a 2-D array, not \(v.typeName)", type: "TypeError", at: range)
    }
    guard s.count == 2 else {
      throw ShellError("\(what) must be a 2-D array; this one has shape \(shapeText(s))", type: "TypeError", at: range)
    }
    let values = try doubles(v, what, at: range)
    guard values.count == s[0] * s[1] else {
      throw ShellError("\(what) must be a rectangular 2-D array (rows of equal length)", type: "TypeError", at: range)
    }
    return (s[0], s[1], values)
  }

  static func shapeText(_ s: [Int]) -> String {
    s.count == 1 ? "(\(s[0]),)" : "(" + s.map(String.init).joined(separator: ", ") + ")"
  }

  /// A color argument: a name (`"red"`, `"r"`, `"C1"`, `"#ff8800"`), a gray level string, or an
  /// (r, g, b) / (r, g, b, a) tuple in [0, 1].
  static func color(_ v: Value, _ what: String, at range: SourceRange) throws(ShellError) -> RGBA {
    switch v {
    case .string(let s):
      guard let c = RGBA(name: s.text) else {
        throw ShellError(
          "\(what): '\(s.text)' is not a color; use a name such as 'red' or 'C1', '#rrggbb', or an (r, g, b) tuple",
          type: "ValueError", at: range)
      }
      return c
    case .list, .tuple, .array:
      let xs = try doubles(v, what, at: range)
      guard xs.count == 3 || xs.count == 4, xs.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
        throw ShellError("\(what): an (r, g, b) or (r, g, b, a) color needs 3 or 4 numbers in [0, 1]", type: "ValueError", at: range)
      }
      return RGBA(xs[0], xs[1], xs[2], xs.count == 4 ? xs[3] : 1)
    default:
      throw ShellError("\(what) must be a color name or an (r, g, b) tuple, not \(v.typeName)", type: "TypeError", at: range)
    }
  }

  /// A `cmap=` argument: a name or a colormap object.
  static func colormap(_ v: Value, at range: SourceRange) throws(ShellError) -> Colormap {
    switch v {
    case .string(let s):
      guard let m = Colormap.named(s.text) else {
        let hint = Suggestions.closest(to: s.text, among: Colormap.names).map { "; did you mean '\($0)'?" } ?? ""
        throw ShellError(
          "'\(s.text)' is not a colormap ks knows\(hint)", type: "ValueError", at: range,
          notes: ["ks has: " + Colormap.names.joined(separator: ", ")])
      }
      return m
    case .object(let o as ColormapObject):
      return o.colormap
    case .none:
      return Colormap.viridis
    default:
      throw ShellError("cmap must be a colormap name or plt.cm.NAME, not \(v.typeName)", type: "TypeError", at: range)
    }
  }

  /// A matplotlib format string such as `"r--"`, `"o"`, `"b-."`, `"C2:"`, `"k^"`: its color,
  /// marker and line style, each nil when the string does not set it.
  static func format(_ text: String, at range: SourceRange) throws(ShellError) -> (color: RGBA?, marker: Marker?, style: LineStyle?) {
    var color: RGBA?
    var marker: Marker?
    var style: LineStyle?
    let chars = Array(text)
    var k = 0
    func fail(_ why: String) -> ShellError {
      ShellError("format string '\(text)': \(why)", type: "ValueError", at: range, notes: [
        "a format string is [color][marker][line]: colors b g r c m y k w or C0-C9, markers . , o v ^ < > s p * h H + x X P D d | _, lines - -- -. :"
      ])
    }
    while k < chars.count {
      let c = chars[k]
      let next = k + 1 < chars.count ? chars[k + 1] : nil
      if c == "-" && (next == "-" || next == ".") {
        if style != nil { throw fail("two line styles") }
        style = next == "-" ? .dashed : .dashDot
        k += 2
        continue
      }
      if c == "-" || c == ":" {
        if style != nil { throw fail("two line styles") }
        style = c == "-" ? .solid : .dotted
        k += 1
        continue
      }
      if c == "C", let n = next, n.isNumber {
        if color != nil { throw fail("two colors") }
        color = RGBA.cycle[Int(String(n))! % 10]
        k += 2
        continue
      }
      if let m = Marker(rawValue: String(c)), m != .none {
        if marker != nil { throw fail("two markers") }
        marker = m
        k += 1
        continue
      }
      if "bgrcmykw".contains(c) {
        if color != nil { throw fail("two colors") }
        color = RGBA(name: String(c))
        k += 1
        continue
      }
      throw fail("unrecognized character '\(c)'")
    }
    // A marker alone draws no line, as in matplotlib.
    if marker != nil && style == nil { style = LineStyle.none }
    return (color, marker, style)
  }

  /// A marker given by `marker=`.
  static func marker(_ v: Value, at range: SourceRange) throws(ShellError) -> Marker {
    guard case .string(let s) = v else {
      throw ShellError("marker must be a string such as 'o' or 's', not \(v.typeName)", type: "TypeError", at: range)
    }
    if s.text.isEmpty || s.text == "None" || s.text == "none" { return .none }
    guard let m = Marker(rawValue: s.text) else {
      throw ShellError("'\(s.text)' is not a marker; use one of . , o v ^ < > s p * h H + x X P D d | _", type: "ValueError", at: range)
    }
    return m
  }

  /// A line style given by `linestyle=`/`ls=`: `-`, `--`, `-.`, `:` or their names.
  static func lineStyle(_ v: Value, at range: SourceRange) throws(ShellError) -> LineStyle {
    guard case .string(let s) = v else {
      if case .none = v { return LineStyle.none }
      throw ShellError("linestyle must be a string such as '--', not \(v.typeName)", type: "TypeError", at: range)
    }
    switch s.text {
    case "-", "solid": return .solid
    case "--", "dashed": return .dashed
    case ":", "dotted": return .dotted
    case "-.", "dashdot": return .dashDot
    case "", " ", "None", "none": return LineStyle.none
    default:
      throw ShellError("'\(s.text)' is not a line style; use '-', '--', '-.', ':' or 'none'", type: "ValueError", at: range)
    }
  }
}
