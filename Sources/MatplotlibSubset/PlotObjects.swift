import ArrayIO
import KSDiagnostics
import Plotting
import ShellRuntime

/// A figure of the session (`fig = plt.figure()`): a handle on the figure with that number.
struct FigureObject: ShellObject {
  var number: Int

  var typeName: String { "Figure" }
  func repr(with options: PrintOptions) -> String { "<Figure \(number)>" }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    let number = number
    switch name {
    case "number": return .int(number)
    case "axes":
      let count = interpreter.plotState.figures[number]?.axes.count ?? 0
      return .list((0..<count).map { .object(AxesObject(reference: AxesReference(figure: number, index: $0))) })
    default: break
    }
    let figureMethods: Set<String> = ["savefig", "show", "suptitle", "tight_layout", "colorbar", "add_subplot", "subplots", "gca", "clf", "set_size_inches", "set_dpi"]
    guard figureMethods.contains(name) else {
      return Pyplot.ignored("Figure.\(name)")
    }
    return Builtins.anyFn(name) { ctx in
      try Pyplot.onFigure(number, name, &ctx)
    }
  }
}

/// One axes (`ax` in `fig, ax = plt.subplots()`): its methods draw in it.
struct AxesObject: ShellObject {
  var reference: AxesReference

  var typeName: String { "Axes" }
  func repr(with options: PrintOptions) -> String { "<Axes \(reference.index + 1) of figure \(reference.figure)>" }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    let reference = reference
    if name == "figure" { return .object(FigureObject(number: reference.figure)) }
    if let command = AxesCommands.table[name] {
      let pyplotName = Pyplot.axesSpellings.first { $0.value == name }?.key ?? name
      return Builtins.anyFn(name, doc: Pyplot.docs[pyplotName]) { ctx in
        try Pyplot.withAxes(&ctx, reference) { (ctx, ax) throws(ShellError) in try command(&ctx, &ax, reference) }
      }
    }
    return Pyplot.ignored("Axes.\(name)")
  }
}

/// The axes of `plt.subplots(rows, columns)`: indexed `axes[i, j]`, `axes[i][j]` or `axes[k]`,
/// iterable, with `flat`, `ravel()`, `flatten()` and `shape`.
struct AxesArray: ShellObject {
  var rows: Int
  var columns: Int
  var items: [AxesReference]
  /// Whether it is 2-D (both counts above 1, or squeeze=False).
  var twoDimensional: Bool

  var typeName: String { "ndarray" }
  func repr(with options: PrintOptions) -> String {
    "array of \(items.count) Axes, shape \(PlotArguments.shapeText(shape))"
  }

  var shape: [Int] { twoDimensional ? [rows, columns] : [items.count] }

  func axes(_ k: Int) -> Value { .object(AxesObject(reference: items[k])) }

  func row(_ i: Int) -> Value {
    .object(AxesArray(rows: 1, columns: columns, items: Array(items[(i * columns)..<((i + 1) * columns)]), twoDimensional: false))
  }

  func index(_ v: Value, count: Int, at range: SourceRange) throws -> Int {
    guard case .int(var k) = v else {
      throw ShellError("axes index must be an integer, not \(v.typeName)", type: "TypeError", at: range)
    }
    if k < 0 { k += count }
    guard k >= 0 && k < count else {
      throw ShellError("index \(k) is out of bounds for axis of size \(count)", type: "IndexError", at: range)
    }
    return k
  }

  func getItem(_ index: [Value], at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    var idx = index
    if idx.count == 1, case .tuple(let t) = idx[0] { idx = t }
    if twoDimensional {
      if idx.count == 2 {
        return axes(try self.index(idx[0], count: rows, at: range) * columns + self.index(idx[1], count: columns, at: range))
      }
      if idx.count == 1 { return row(try self.index(idx[0], count: rows, at: range)) }
    } else if idx.count == 1 {
      return axes(try self.index(idx[0], count: items.count, at: range))
    }
    throw ShellError("too many indices for an array of Axes of shape \(PlotArguments.shapeText(shape))", type: "IndexError", at: range)
  }

  func items(at range: SourceRange, in interpreter: Interpreter) throws -> [Value]? {
    twoDimensional ? (0..<rows).map(row) : items.indices.map(axes)
  }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    let flat = Value.list(items.indices.map(axes))
    switch name {
    case "flat": return flat
    case "ravel", "flatten": return Builtins.anyFn(name) { _ in flat }
    case "shape": return .tuple(shape.map { .int($0) })
    case "size": return .int(items.count)
    case "ndim": return .int(shape.count)
    default: return nil
    }
  }
}

/// A colormap value (`plt.cm.viridis`): callable on values in [0, 1], giving RGBA.
struct ColormapObject: ShellObject {
  var colormap: Colormap

  var typeName: String { "Colormap" }
  func repr(with options: PrintOptions) -> String { "<Colormap '\(colormap.name)'>" }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    switch name {
    case "name": return .str(colormap.name)
    case "reversed":
      let r = colormap.reversed
      return Builtins.anyFn("reversed") { _ in .object(ColormapObject(colormap: r)) }
    case "N": return .int(colormap.isListed ? colormap.listedCount : 256)
    default: return nil
    }
  }

  func call(_ ctx: inout CallContext) throws -> Value {
    let v = try ctx.required(0, "x")
    let r = ctx.rangeOf(0, "x")
    let scalar: Bool
    switch v {
    case .int, .float, .bool: scalar = true
    case .array(let a): scalar = a.rank == 0
    default: scalar = false
    }
    // Integers index the colors (as matplotlib: cmap(k) is color k of N); floats are positions.
    let isInteger: Bool
    switch v {
    case .int: isInteger = true
    case .array(let a): isInteger = a.dtype == .int64
    default: isInteger = false
    }
    let n = Double(colormap.isListed ? colormap.listedCount : 256)
    let values = try PlotArguments.doubles(v, "x", at: r)
    let colors = values.map { colormap.color(at: isInteger ? ($0 + 0.5) / n : $0) }
    if scalar, let c = colors.first { return .tuple([.float(c.r), .float(c.g), .float(c.b), .float(c.a)]) }
    let shape = (PlotArguments.shape(v) ?? [values.count]) + [4]
    return .array(NDArray(shape: shape, float64: colors.flatMap { [$0.r, $0.g, $0.b, $0.a] }))
  }
}

/// What drawing calls return (`Line2D`, `PathCollection`, `AxesImage`, `Colorbar`, `Legend`):
/// remembers enough for `plt.colorbar(im)` and `cb.set_label(...)`; its other methods are
/// accepted and ignored with a warning.
struct ArtistHandle: ShellObject {
  var kind: String
  var label: String?
  var mapping: ColorMapping?
  var axes: AxesReference?

  init(kind: String, label: String? = nil, mapping: ColorMapping? = nil, axes: AxesReference? = nil) {
    self.kind = kind
    self.label = label
    self.mapping = mapping
    self.axes = axes
  }

  var typeName: String { kind }
  func repr(with options: PrintOptions) -> String {
    if let label, kind == "Text" { return "Text(\(Value.str(label).repr(with: options)))" }
    return label.map { "<\(kind) \(Value.str($0).repr(with: options))>" } ?? "<\(kind)>"
  }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    if kind == "Colorbar", name == "set_label", let axes {
      return Builtins.anyFn(name) { ctx in
        let text = try AxesCommands.labelText(try ctx.required(0, "label"), at: ctx.rangeOf(0, "label"))
        Pyplot.ignoreOtherKeywords(&ctx, known: ["label"])
        return try Pyplot.withAxes(&ctx, axes) { (_, ax) throws(ShellError) in
          ax.colorbarLabel = text
          return .none
        }
      }
    }
    if name == "get_label" { return Builtins.anyFn(name) { _ in label.map { .str($0) } ?? .none } }
    return Pyplot.ignored("\(kind).\(name)")
  }
}
