import ArrayIO
import Foundation
import KSDiagnostics
import Plotting
import ShellRuntime

/// The commands that draw in or configure one axes: `plt.plot(...)` on the current axes and
/// `ax.plot(...)` on a given one run the same code.
enum AxesCommands {
  typealias Command = @Sendable (inout CallContext, inout Axes, AxesReference) throws(ShellError) -> Value

  /// The commands by name (`plot`, `set_title`, ...); pyplot's spellings (`title`) are mapped in `Pyplot`.
  static let table: [String: Command] = [
    "plot": { ctx, ax, ref throws(ShellError) in try plot(&ctx, &ax, ref) },
    "semilogy": { ctx, ax, ref throws(ShellError) in
      ax.yscale = .log
      return try plot(&ctx, &ax, ref)
    },
    "semilogx": { ctx, ax, ref throws(ShellError) in
      ax.xscale = .log
      return try plot(&ctx, &ax, ref)
    },
    "loglog": { ctx, ax, ref throws(ShellError) in
      ax.xscale = .log
      ax.yscale = .log
      return try plot(&ctx, &ax, ref)
    },
    "scatter": { ctx, ax, ref throws(ShellError) in try scatter(&ctx, &ax, ref) },
    "imshow": { ctx, ax, ref throws(ShellError) in try imshow(&ctx, &ax, ref) },
    "matshow": { ctx, ax, ref throws(ShellError) in try imshow(&ctx, &ax, ref) },
    "pcolormesh": { ctx, ax, ref throws(ShellError) in try pcolormesh(&ctx, &ax, ref, filled: false) },
    "pcolor": { ctx, ax, ref throws(ShellError) in try pcolormesh(&ctx, &ax, ref, filled: false) },
    "contourf": { ctx, ax, ref throws(ShellError) in try pcolormesh(&ctx, &ax, ref, filled: true) },
    "hist": { ctx, ax, ref throws(ShellError) in try hist(&ctx, &ax, ref) },
    "bar": { ctx, ax, ref throws(ShellError) in try bar(&ctx, &ax, ref) },
    "text": { ctx, ax, ref throws(ShellError) in try text(&ctx, &ax) },
    "set_title": { ctx, ax, _ throws(ShellError) in
      ax.title = try label(&ctx, "label")
      return .object(ArtistHandle(kind: "Text", label: ax.title))
    },
    "set_xlabel": { ctx, ax, _ throws(ShellError) in
      ax.xlabel = try label(&ctx, "xlabel")
      return .object(ArtistHandle(kind: "Text", label: ax.xlabel))
    },
    "set_ylabel": { ctx, ax, _ throws(ShellError) in
      ax.ylabel = try label(&ctx, "ylabel")
      return .object(ArtistHandle(kind: "Text", label: ax.ylabel))
    },
    "set_xlim": { ctx, ax, _ throws(ShellError) in try limits(&ctx, &ax.xlim, current: ax.autoLimitsX, names: ("left", "right")) },
    "set_ylim": { ctx, ax, _ throws(ShellError) in try limits(&ctx, &ax.ylim, current: ax.autoLimitsY, names: ("bottom", "top")) },
    "get_xlim": { ctx, ax, _ throws(ShellError) in
      let (a, b) = ax.autoLimitsX
      return .tuple([.float(a), .float(b)])
    },
    "get_ylim": { ctx, ax, _ throws(ShellError) in
      let (a, b) = ax.autoLimitsY
      return .tuple([.float(a), .float(b)])
    },
    "set_xscale": { ctx, ax, _ throws(ShellError) in
      ax.xscale = try scale(&ctx)
      return .none
    },
    "set_yscale": { ctx, ax, _ throws(ShellError) in
      ax.yscale = try scale(&ctx)
      return .none
    },
    "legend": { ctx, ax, _ throws(ShellError) in try legend(&ctx, &ax) },
    "grid": { ctx, ax, _ throws(ShellError) in
      var v = try ctx.optional(0, "visible")
      if v == nil { v = try ctx.optional(nil, "b") }
      if let v {
        ax.showGrid = try ctx.bool(v, "visible", at: ctx.rangeOf(0, "visible"))
      } else {
        // grid() toggles; grid(alpha=0.3) and the like turn it on.
        ax.showGrid = ctx.keywords.isEmpty ? !ax.showGrid : true
      }
      Pyplot.ignoreOtherKeywords(&ctx, known: ["visible", "b"], silently: ["which", "axis", "alpha", "linestyle", "ls", "linewidth", "lw", "color"])
      return .none
    },
    "axis": { ctx, ax, _ throws(ShellError) in try axis(&ctx, &ax) },
    "set_aspect": { ctx, ax, _ throws(ShellError) in
      let v = try ctx.required(0, "aspect")
      switch v {
      case .string(let s) where s.text == "equal": ax.aspect = .equalBox
      case .string(let s) where s.text == "auto": ax.aspect = .auto
      default:
        Pyplot.warnOnce(ctx.interpreter, "set_aspect(number)", "set_aspect() takes 'equal' or 'auto' in ks; a number is ignored")
      }
      Pyplot.ignoreOtherKeywords(&ctx, known: ["aspect"])
      return .none
    },
    "set_xticks": { ctx, ax, _ throws(ShellError) in try setTicks(&ctx, &ax.xticks) },
    "set_yticks": { ctx, ax, _ throws(ShellError) in try setTicks(&ctx, &ax.yticks) },
    "set_axis_off": { ctx, ax, _ throws(ShellError) in
      ax.axisVisible = false
      return .none
    },
    "set_axis_on": { ctx, ax, _ throws(ShellError) in
      ax.axisVisible = true
      return .none
    },
    "cla": { ctx, ax, _ throws(ShellError) in
      ax = Axes(cell: ax.cell)
      return .none
    },
  ]

  // MARK: - plot

  /// `plot([x], y, [fmt], [x2], y2, [fmt2], ..., color=, linewidth=, label=, ...)`.
  static func plot(_ ctx: inout CallContext, _ ax: inout Axes, _ ref: AxesReference) throws(ShellError) -> Value {
    // Split the positional arguments into groups (x, y, fmt), (y, fmt), (y).
    var groups: [(x: Value?, y: Value, yRange: SourceRange, fmt: String?)] = []
    var k = 0
    let args = ctx.positional
    while k < args.count {
      guard PlotArguments.isNumeric(args[k]) else {
        throw ShellError("plot() expects numbers (arrays or lists) here, not \(args[k].typeName)", type: "TypeError", at: ctx.rangeOf(k))
      }
      var x: Value?
      var y = args[k]
      var yRange = ctx.rangeOf(k)
      k += 1
      if k < args.count, PlotArguments.isNumeric(args[k]) {
        x = y
        y = args[k]
        yRange = ctx.rangeOf(k)
        k += 1
      }
      var fmt: String?
      if k < args.count, case .string(let s) = args[k] {
        fmt = s.text
        _ = try PlotArguments.format(s.text, at: ctx.rangeOf(k))
        k += 1
      }
      groups.append((x, y, yRange, fmt))
    }
    guard !groups.isEmpty else { return .list([]) }
    // Keyword arguments apply to every line.
    var color: RGBA?
    if let c = try ctx.firstKeyword("color", "c") {
      color = try PlotArguments.color(c, "color", at: ctx.rangeOf(keyword: "color"))
    }
    let width = try number(&ctx, ["linewidth", "lw"])
    let markerSize = try number(&ctx, ["markersize", "ms"])
    var style: LineStyle?
    if let s = try ctx.firstKeyword("linestyle", "ls") {
      style = try PlotArguments.lineStyle(s, at: ctx.rangeOf(keyword: "linestyle"))
    }
    var marker: Marker?
    if let m = try ctx.optional(nil, "marker") { marker = try PlotArguments.marker(m, at: ctx.rangeOf(keyword: "marker")) }
    let label = try ctx.optional(nil, "label").map { v throws(ShellError) in try labelText(v, at: ctx.rangeOf(keyword: "label")) }
    let alpha = try number(&ctx, ["alpha"])
    Pyplot.ignoreOtherKeywords(&ctx, known: ["color", "c", "linewidth", "lw", "markersize", "ms", "linestyle", "ls", "marker", "label", "alpha"])

    var handles: [Value] = []
    for g in groups {
      let yShape = PlotArguments.shape(g.y) ?? []
      let ys = try PlotArguments.doubles(g.y, "y", at: g.yRange)
      // A 2-D y plots one line per column.
      let columns = yShape.count == 2 ? yShape[1] : 1
      let n = yShape.count == 2 ? yShape[0] : ys.count
      let xs = try g.x.map { v throws(ShellError) in try PlotArguments.doubles(v, "x", at: g.yRange) } ?? (0..<n).map(Double.init)
      guard xs.count == n else {
        throw ShellError(
          "x and y must have the same first dimension, but have shapes (\(xs.count),) and \(PlotArguments.shapeText(yShape.isEmpty ? [ys.count] : yShape))",
          type: "ValueError", at: g.yRange)
      }
      let f: (color: RGBA?, marker: Marker?, style: LineStyle?) = try g.fmt.map { s throws(ShellError) in try PlotArguments.format(s, at: ctx.range) } ?? (nil, nil, nil)
      for c in 0..<columns {
        let column = columns == 1 ? ys : stride(from: c, to: ys.count, by: columns).map { ys[$0] }
        var line = LineSeries(xs: xs, ys: column, color: color ?? f.color ?? ax.takeCycleColor())
        if let alpha { line.color = line.color.with(alpha: alpha) }
        line.style = style ?? f.style ?? .solid
        line.marker = marker ?? f.marker ?? Marker.none
        if marker != nil && style == nil && f.style == nil { line.style = .solid }
        if let width { line.width = width }
        if let markerSize { line.markerSize = markerSize }
        line.label = label
        ax.artists.append(.line(line))
        handles.append(.object(ArtistHandle(kind: "Line2D", label: label)))
      }
    }
    return .list(handles)
  }

  // MARK: - scatter

  /// `scatter(x, y, s=None, c=None, marker='o', cmap=None, vmin=None, vmax=None, alpha=None, label=None)`.
  static func scatter(_ ctx: inout CallContext, _ ax: inout Axes, _ ref: AxesReference) throws(ShellError) -> Value {
    let xs = try PlotArguments.doubles(try ctx.required(0, "x"), "x", at: ctx.rangeOf(0, "x"))
    let ys = try PlotArguments.doubles(try ctx.required(1, "y"), "y", at: ctx.rangeOf(1, "y"))
    guard xs.count == ys.count else {
      throw ShellError("x and y must be the same size, but have \(xs.count) and \(ys.count) values", type: "ValueError", at: ctx.range)
    }
    let n = xs.count
    var sizes = [36.0]
    if let s = try ctx.optional(2, "s"), !s.isNone {
      sizes = try PlotArguments.doubles(s, "s", at: ctx.rangeOf(2, "s"))
      guard sizes.count == 1 || sizes.count == n else {
        throw ShellError("s must be one size or one per point (\(n)), not \(sizes.count) values", type: "ValueError", at: ctx.rangeOf(2, "s"))
      }
    }
    var cValue = try ctx.optional(3, "c")
    if cValue == nil { cValue = try ctx.optional(nil, "color") }
    let cmapValue = try ctx.optional(nil, "cmap")
    let vmin = try number(&ctx, ["vmin"])
    let vmax = try number(&ctx, ["vmax"])
    let alpha = try number(&ctx, ["alpha"])
    var marker = Marker.circle
    if let m = try ctx.optional(4, "marker") { marker = try PlotArguments.marker(m, at: ctx.rangeOf(4, "marker")) }
    let label = try ctx.optional(nil, "label").map { v throws(ShellError) in try labelText(v, at: ctx.rangeOf(keyword: "label")) }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["x", "y", "s", "c", "color", "cmap", "vmin", "vmax", "alpha", "marker", "label"])

    var series = ScatterSeries(xs: xs, ys: ys, colors: [])
    let cRange = ctx.rangeOf(3, "c")
    if let c = cValue, !c.isNone {
      let shape = PlotArguments.shape(c)
      if case .string = c {
        series.colors = [try PlotArguments.color(c, "c", at: cRange)]
      } else if case .list(let items) = c, items.allSatisfy({ if case .string = $0 { true } else { false } }) {
        series.colors = try items.map { v throws(ShellError) in try PlotArguments.color(v, "c", at: cRange) }
      } else if let shape, shape.count == 2, shape[0] == n, shape[1] == 3 || shape[1] == 4 {
        let v = try PlotArguments.doubles(c, "c", at: cRange)
        let w = shape[1]
        series.colors = (0..<n).map { RGBA(v[$0 * w], v[$0 * w + 1], v[$0 * w + 2], w == 4 ? v[$0 * w + 3] : 1) }
      } else if PlotArguments.isNumeric(c) {
        let values = try PlotArguments.doubles(c, "c", at: cRange)
        if values.count == n {
          let finite = values.filter(\.isFinite)
          let cmap = try PlotArguments.colormap(cmapValue ?? .none, at: ctx.rangeOf(keyword: "cmap"))
          let m = ColorMapping(colormap: cmap, vmin: vmin ?? finite.min() ?? 0, vmax: vmax ?? finite.max() ?? 1)
          series.colors = values.map { m.color($0) }
          series.mapping = m
        } else if values.count == 3 || values.count == 4 {
          series.colors = [try PlotArguments.color(c, "c", at: cRange)]
        } else {
          throw ShellError(
            "c must be a color, one color per point, or one value per point (\(n)); it has \(values.count) values",
            type: "ValueError", at: cRange)
        }
      } else {
        throw ShellError("c must be a color or values, not \(c.typeName)", type: "TypeError", at: cRange)
      }
    } else {
      series.colors = [ax.takeCycleColor()]
    }
    if let alpha { series.colors = series.colors.map { $0.with(alpha: $0.a * alpha) } }
    series.sizes = sizes
    series.marker = marker
    series.label = label
    ax.artists.append(.scatter(series))
    return .object(ArtistHandle(kind: "PathCollection", label: label, mapping: series.mapping, axes: ref))
  }

  // MARK: - Images

  /// `imshow(X, cmap=None, vmin=None, vmax=None, extent=None, origin='upper', interpolation=None, alpha=None, aspect=None)`.
  static func imshow(_ ctx: inout CallContext, _ ax: inout Axes, _ ref: AxesReference) throws(ShellError) -> Value {
    let x = try ctx.required(0, "X")
    let xRange = ctx.rangeOf(0, "X")
    guard let shape = PlotArguments.shape(x), shape.count == 2 || (shape.count == 3 && (shape[2] == 3 || shape[2] == 4)) else {
      let s = PlotArguments.shape(x).map(PlotArguments.shapeText) ?? x.typeName
      throw ShellError("imshow() needs a 2-D array of values or an (M, N, 3|4) array of colors; this is \(s)", type: "TypeError", at: xRange)
    }
    guard shape[0] > 0 && shape[1] > 0 else { throw ShellError("imshow() of an empty array", type: "ValueError", at: xRange) }
    let depth = shape.count == 3 ? shape[2] : 1
    let (rows, columns, values) = downsampled(
      rows: shape[0], columns: shape[1], depth: depth, try PlotArguments.doubles(x, "X", at: xRange))
    let cmap = try PlotArguments.colormap(try ctx.optional(nil, "cmap") ?? .none, at: ctx.rangeOf(keyword: "cmap"))
    let vmin = try number(&ctx, ["vmin"])
    let vmax = try number(&ctx, ["vmax"])
    let alpha = try number(&ctx, ["alpha"]) ?? 1
    var origin = "upper"
    if let o = try ctx.optional(nil, "origin"), !o.isNone {
      let s = try ctx.string(o, "origin", at: ctx.rangeOf(keyword: "origin")).text
      guard s == "upper" || s == "lower" else {
        throw ShellError("origin must be 'upper' or 'lower', not '\(s)'", type: "ValueError", at: ctx.rangeOf(keyword: "origin"))
      }
      origin = s
    }
    var smooth = false
    if let i = try ctx.optional(nil, "interpolation"), case .string(let s) = i {
      smooth = !["nearest", "none", "antialiased", "auto"].contains(s.text)
    }
    var extent: [Double]?
    if let e = try ctx.optional(nil, "extent"), !e.isNone {
      let v = try PlotArguments.doubles(e, "extent", at: ctx.rangeOf(keyword: "extent"))
      guard v.count == 4 else {
        throw ShellError("extent must be (left, right, bottom, top), 4 numbers, not \(v.count)", type: "ValueError", at: ctx.rangeOf(keyword: "extent"))
      }
      extent = v
    }
    var aspect = Aspect.equalBox
    if let a = try ctx.optional(nil, "aspect"), case .string(let s) = a, s.text == "auto" { aspect = .auto }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["X", "cmap", "vmin", "vmax", "alpha", "origin", "interpolation", "extent", "aspect"])

    var pixels: [RGBA]
    var mapping: ColorMapping?
    if shape.count == 3 {
      let w = shape[2]
      let scale = values.contains { $0 > 1 } ? 1.0 / 255 : 1
      pixels = (0..<(rows * columns)).map {
        RGBA(values[$0 * w] * scale, values[$0 * w + 1] * scale, values[$0 * w + 2] * scale, (w == 4 ? values[$0 * w + 3] * scale : 1) * alpha)
      }
    } else {
      let finite = values.filter(\.isFinite)
      let m = ColorMapping(colormap: cmap, vmin: vmin ?? finite.min() ?? 0, vmax: vmax ?? finite.max() ?? 1)
      pixels = values.map { m.color($0) }.map { $0.with(alpha: $0.a * alpha) }
      mapping = m
    }
    let (l, r, b, t) =
      extent.map { ($0[0], $0[1], $0[2], $0[3]) }
      ?? (origin == "upper"
        ? (-0.5, Double(columns) - 0.5, Double(rows) - 0.5, -0.5) : (-0.5, Double(columns) - 0.5, -0.5, Double(rows) - 0.5))
    var image = ImageLayer(
      rows: rows, columns: columns, pixels: pixels, x0: l, x1: r, yFirstRow: origin == "upper" ? t : b,
      yLastRow: origin == "upper" ? b : t)
    image.smooth = smooth
    image.mapping = mapping
    ax.artists.append(.image(image))
    ax.xlim = (l, r)
    ax.ylim = (b, t)
    if ax.aspect == .auto { ax.aspect = aspect }
    return .object(ArtistHandle(kind: "AxesImage", mapping: mapping, axes: ref))
  }

  /// `pcolormesh([X, Y,] C, cmap=, vmin=, vmax=)`, and `contourf([X, Y,] Z, levels=, cmap=)` as an
  /// image whose colors are constant between levels.
  static func pcolormesh(_ ctx: inout CallContext, _ ax: inout Axes, _ ref: AxesReference, filled: Bool) throws(ShellError) -> Value {
    let name = filled ? "contourf" : "pcolormesh"
    let args = ctx.positional
    var levelsArg: Value?
    var cIndex = 0
    var xy: (Value, Value)?
    if args.count >= 3 && PlotArguments.isNumeric(args[2]) && (PlotArguments.shape(args[2])?.count ?? 0) == 2 {
      xy = (args[0], args[1])
      cIndex = 2
      if args.count >= 4 { levelsArg = args[3] }
    } else if args.count >= 2 && filled {
      levelsArg = args[1]
    }
    guard cIndex < args.count else {
      throw ShellError("\(name)() needs a 2-D array of values: \(name)(Z) or \(name)(X, Y, Z)", type: "TypeError", at: ctx.range)
    }
    let full = try PlotArguments.matrix(args[cIndex], "\(name)() values", at: ctx.rangeOf(cIndex))
    let (rows, columns, values) = downsampled(rows: full.rows, columns: full.columns, depth: 1, full.values)
    guard rows > 0 && columns > 0 else { throw ShellError("\(name)() of an empty array", type: "ValueError", at: ctx.rangeOf(cIndex)) }
    var x0 = 0.0
    var x1 = Double(columns)
    var y0 = 0.0
    var y1 = Double(rows)
    if let (xv, yv) = xy {
      let xs = try PlotArguments.doubles(xv, "X", at: ctx.rangeOf(0)).filter(\.isFinite)
      let ys = try PlotArguments.doubles(yv, "Y", at: ctx.rangeOf(1)).filter(\.isFinite)
      guard let xa = xs.min(), let xb = xs.max(), let ya = ys.min(), let yb = ys.max() else {
        throw ShellError("\(name)(): X and Y hold no finite values", type: "ValueError", at: ctx.range)
      }
      (x0, x1, y0, y1) = (xa, xb, ya, yb)
      // Values at the grid's points (pcolormesh's shading='nearest'): cells centred on them.
      let xShape = PlotArguments.shape(xv) ?? []
      let centred = !filled && (xShape.last == columns)
      if centred && columns > 1 && rows > 1 {
        let dx = (x1 - x0) / Double(columns - 1) / 2
        let dy = (y1 - y0) / Double(rows - 1) / 2
        (x0, x1, y0, y1) = (x0 - dx, x1 + dx, y0 - dy, y1 + dy)
      }
    }
    if levelsArg == nil { levelsArg = try ctx.optional(nil, "levels") } else { _ = try ctx.optional(nil, "levels") }
    let cmap = try PlotArguments.colormap(try ctx.optional(nil, "cmap") ?? .none, at: ctx.rangeOf(keyword: "cmap"))
    let vmin = try number(&ctx, ["vmin"])
    let vmax = try number(&ctx, ["vmax"])
    let alpha = try number(&ctx, ["alpha"]) ?? 1
    Pyplot.ignoreOtherKeywords(&ctx, known: ["levels", "cmap", "vmin", "vmax", "alpha"])
    let finite = values.filter(\.isFinite)
    let lo = vmin ?? finite.min() ?? 0
    let hi = vmax ?? finite.max() ?? 1
    var mapping = ColorMapping(colormap: cmap, vmin: lo, vmax: hi)
    var image: ImageLayer
    if filled {
      var levels: [Double]
      switch levelsArg {
      case .some(.int(let n)):
        guard n >= 1 else { throw ShellError("levels must be at least 1", type: "ValueError", at: ctx.range) }
        levels = contourLevels(lo, hi, count: n)
      case .some(let v) where !v.isNone:
        levels = try PlotArguments.doubles(v, "levels", at: ctx.range).sorted()
        guard levels.count >= 2 else { throw ShellError("levels must hold at least 2 values", type: "ValueError", at: ctx.range) }
      default:
        levels = contourLevels(lo, hi, count: 7)
      }
      mapping.levels = levels
      mapping.vmin = levels.first!
      mapping.vmax = levels.last!
      // Resample finely (bilinear) before banding, so that band edges follow the contours.
      let factor = max(1, min(8, 400 / max(rows, columns)))
      let rr = (rows - 1) * factor + 1
      let cc = (columns - 1) * factor + 1
      var pixels: [RGBA] = []
      pixels.reserveCapacity(rr * cc)
      for i in 0..<rr {
        for j in 0..<cc {
          let v = bilinear(values, rows: rows, columns: columns, Double(i) / Double(factor), Double(j) / Double(factor))
          pixels.append(v < levels.first! || v > levels.last! ? RGBA(0, 0, 0, 0) : mapping.color(v).with(alpha: alpha))
        }
      }
      image = ImageLayer(rows: rr, columns: cc, pixels: pixels, x0: x0, x1: x1, yFirstRow: y0, yLastRow: y1)
    } else {
      image = ImageLayer(
        rows: rows, columns: columns, pixels: values.map { mapping.color($0).with(alpha: alpha) }, x0: x0, x1: x1,
        yFirstRow: y0, yLastRow: y1)
    }
    image.mapping = mapping
    ax.artists.append(.image(image))
    return .object(ArtistHandle(kind: filled ? "QuadContourSet" : "QuadMesh", mapping: mapping, axes: ref))
  }

  /// The most pixels an image keeps (4 million); a bigger array is sampled every k-th row and column.
  static let maximumPixels = 4_000_000

  /// `values` (rows x columns x depth) sampled down to at most `maximumPixels` pixels.
  static func downsampled(rows: Int, columns: Int, depth: Int, _ values: [Double]) -> (Int, Int, [Double]) {
    guard rows * columns > maximumPixels else { return (rows, columns, values) }
    let k = Int((Double(rows * columns) / Double(maximumPixels)).squareRoot().rounded(.up))
    let r = (rows + k - 1) / k
    let c = (columns + k - 1) / k
    var out: [Double] = []
    out.reserveCapacity(r * c * depth)
    for i in stride(from: 0, to: rows, by: k) {
      for j in stride(from: 0, to: columns, by: k) {
        let base = (i * columns + j) * depth
        out.append(contentsOf: values[base..<(base + depth)])
      }
    }
    return (r, c, out)
  }

  /// About `count` nice levels covering [lo, hi].
  static func contourLevels(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
    guard hi > lo else { return [lo - 0.5, lo + 0.5] }
    let step = Ticks.niceStep((hi - lo) / Double(count))
    var levels: [Double] = []
    var v = (lo / step).rounded(.down) * step
    while v < hi + step * 1e-9 {
      levels.append(v)
      v += step
    }
    if let last = levels.last, last < hi { levels.append(last + step) }
    if levels.count < 2 { levels.append(levels[0] + step) }
    return levels
  }

  static func bilinear(_ v: [Double], rows: Int, columns: Int, _ i: Double, _ j: Double) -> Double {
    let i0 = min(rows - 1, Int(i))
    let j0 = min(columns - 1, Int(j))
    let i1 = min(rows - 1, i0 + 1)
    let j1 = min(columns - 1, j0 + 1)
    let fi = i - Double(i0)
    let fj = j - Double(j0)
    let top = v[i0 * columns + j0] * (1 - fj) + v[i0 * columns + j1] * fj
    let bottom = v[i1 * columns + j0] * (1 - fj) + v[i1 * columns + j1] * fj
    return top * (1 - fi) + bottom * fi
  }

  // MARK: - Bars

  /// `hist(x, bins=10, range=None, density=False, color=None, alpha=None, label=None, histtype='bar')`:
  /// returns (counts, edges, patches) as matplotlib.
  static func hist(_ ctx: inout CallContext, _ ax: inout Axes, _ ref: AxesReference) throws(ShellError) -> Value {
    // NaN and infinite values are left out (they belong to no bin).
    let data = try PlotArguments.doubles(try ctx.required(0, "x"), "x", at: ctx.rangeOf(0, "x")).filter(\.isFinite)
    let binsValue = try ctx.optional(1, "bins")
    var lo = data.min() ?? 0
    var hi = data.max() ?? 1
    if let r = try ctx.optional(nil, "range"), !r.isNone {
      let v = try PlotArguments.doubles(r, "range", at: ctx.rangeOf(keyword: "range"))
      guard v.count == 2, v[1] > v[0] else {
        throw ShellError("range must be (low, high) with low < high", type: "ValueError", at: ctx.rangeOf(keyword: "range"))
      }
      (lo, hi) = (v[0], v[1])
    }
    if lo == hi {
      lo -= 0.5
      hi += 0.5
    }
    var edges: [Double]
    let binsRange = ctx.rangeOf(1, "bins")
    switch binsValue {
    case nil, .some(.none):
      edges = (0...10).map { lo + (hi - lo) * Double($0) / 10 }
    case .some(.int(let n)):
      guard n >= 1 else { throw ShellError("bins must be at least 1, not \(n)", type: "ValueError", at: binsRange) }
      edges = (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
    case .some(.string(let s)):
      // 'auto' and the other rules: the square-root rule.
      _ = s
      let n = max(1, Int(Double(max(1, data.count)).squareRoot().rounded(.up)))
      edges = (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
    case .some(let v):
      edges = try PlotArguments.doubles(v, "bins", at: binsRange)
      guard edges.count >= 2, zip(edges.dropFirst(), edges).allSatisfy({ $0 > $1 }) else {
        throw ShellError("bins must be a count or increasing bin edges (at least 2)", type: "ValueError", at: binsRange)
      }
    }
    let density = try ctx.flagValue("density", default: false)
    var color: RGBA?
    if let c = try ctx.optional(nil, "color") { color = try PlotArguments.color(c, "color", at: ctx.rangeOf(keyword: "color")) }
    let alpha = try number(&ctx, ["alpha"])
    let label = try ctx.optional(nil, "label").map { v throws(ShellError) in try labelText(v, at: ctx.rangeOf(keyword: "label")) }
    var outline = false
    if let h = try ctx.optional(nil, "histtype"), case .string(let s) = h { outline = s.text == "step" }
    let logScale = try ctx.flagValue("log", default: false)
    Pyplot.ignoreOtherKeywords(&ctx, known: ["x", "bins", "range", "density", "color", "alpha", "label", "histtype", "log"])

    var counts = Array(repeating: 0.0, count: edges.count - 1)
    let last = edges.count - 2
    for v in data where v >= edges[0] && v <= edges[last + 1] {
      // Binary search for the bin; the last bin includes its right edge.
      var a = 0
      var b = last
      while a < b {
        let m = (a + b + 1) / 2
        if v >= edges[m] { a = m } else { b = m - 1 }
      }
      counts[a] += 1
    }
    if density {
      let total = counts.reduce(0, +)
      if total > 0 { counts = counts.enumerated().map { $0.element / total / (edges[$0.offset + 1] - edges[$0.offset]) } }
    }
    var bars = BarSeries(
      lefts: Array(edges.dropLast()), widths: zip(edges.dropFirst(), edges).map { $0 - $1 }, heights: counts,
      bottoms: Array(repeating: 0, count: counts.count), color: (color ?? ax.takeCycleColor()).with(alpha: alpha ?? 1))
    bars.label = label
    bars.outlineOnly = outline
    ax.artists.append(.bars(bars))
    if logScale { ax.yscale = .log }
    return .tuple([
      .array(NDArray(shape: [counts.count], float64: counts)), .array(NDArray(shape: [edges.count], float64: edges)),
      .object(ArtistHandle(kind: "BarContainer", label: label)),
    ])
  }

  /// `bar(x, height, width=0.8, bottom=0, color=None, label=None, alpha=None)`.
  static func bar(_ ctx: inout CallContext, _ ax: inout Axes, _ ref: AxesReference) throws(ShellError) -> Value {
    let xs = try PlotArguments.doubles(try ctx.required(0, "x"), "x", at: ctx.rangeOf(0, "x"))
    var heights = try PlotArguments.doubles(try ctx.required(1, "height"), "height", at: ctx.rangeOf(1, "height"))
    if heights.count == 1 { heights = Array(repeating: heights[0], count: xs.count) }
    guard heights.count == xs.count else {
      throw ShellError("bar(): x has \(xs.count) values but height has \(heights.count)", type: "ValueError", at: ctx.range)
    }
    var widths = try ctx.optional(2, "width").map { v throws(ShellError) in try PlotArguments.doubles(v, "width", at: ctx.rangeOf(2, "width")) } ?? [0.8]
    if widths.count == 1 { widths = Array(repeating: widths[0], count: xs.count) }
    var bottoms = try ctx.optional(3, "bottom").map { v throws(ShellError) in try PlotArguments.doubles(v, "bottom", at: ctx.rangeOf(3, "bottom")) } ?? [0]
    if bottoms.count == 1 { bottoms = Array(repeating: bottoms[0], count: xs.count) }
    guard widths.count == xs.count, bottoms.count == xs.count else {
      throw ShellError("bar(): width and bottom must be one value or one per bar", type: "ValueError", at: ctx.range)
    }
    var color: RGBA?
    if let c = try ctx.optional(nil, "color") { color = try PlotArguments.color(c, "color", at: ctx.rangeOf(keyword: "color")) }
    let alpha = try number(&ctx, ["alpha"])
    let label = try ctx.optional(nil, "label").map { v throws(ShellError) in try labelText(v, at: ctx.rangeOf(keyword: "label")) }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["x", "height", "width", "bottom", "color", "alpha", "label"])
    var bars = BarSeries(
      lefts: zip(xs, widths).map { $0 - $1 / 2 }, widths: widths, heights: heights, bottoms: bottoms,
      color: (color ?? ax.takeCycleColor()).with(alpha: alpha ?? 1))
    bars.label = label
    ax.artists.append(.bars(bars))
    return .object(ArtistHandle(kind: "BarContainer", label: label))
  }

  /// `text(x, y, s, color=None, fontsize=None)`.
  static func text(_ ctx: inout CallContext, _ ax: inout Axes) throws(ShellError) -> Value {
    let x = try ctx.double(try ctx.required(0, "x"), "x", at: ctx.rangeOf(0, "x"))
    let y = try ctx.double(try ctx.required(1, "y"), "y", at: ctx.rangeOf(1, "y"))
    let s = try labelText(try ctx.required(2, "s"), at: ctx.rangeOf(2, "s"))
    var note = TextNote(x: x, y: y, text: s)
    if let c = try ctx.optional(nil, "color") { note.color = try PlotArguments.color(c, "color", at: ctx.rangeOf(keyword: "color")) }
    if let size = try number(&ctx, ["fontsize", "size"]) { note.size = size }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["x", "y", "s", "color", "fontsize", "size"])
    ax.artists.append(.text(note))
    return .object(ArtistHandle(kind: "Text", label: s))
  }

  // MARK: - Configuration

  /// A title or label argument: any value, as `str()` writes it.
  static func label(_ ctx: inout CallContext, _ name: String) throws(ShellError) -> String {
    let v = try ctx.required(0, name)
    let text = try labelText(v, at: ctx.rangeOf(0, name))
    Pyplot.ignoreOtherKeywords(&ctx, known: [name, "label", "fontsize", "loc", "pad"], silently: ["fontsize", "loc", "pad"])
    return text
  }

  static func labelText(_ v: Value, at range: SourceRange) throws(ShellError) -> String {
    if case .string(let s) = v { return Mathtext.plain(s.text) }
    return v.str(with: .defaults)
  }

  static func scale(_ ctx: inout CallContext) throws(ShellError) -> AxisScale {
    let v = try ctx.required(0, "value")
    let s = try ctx.string(v, "scale", at: ctx.rangeOf(0, "value")).text
    Pyplot.ignoreOtherKeywords(&ctx, known: ["value"])
    guard let scale = AxisScale(rawValue: s) else {
      throw ShellError("'\(s)' is not a scale ks draws; use 'linear' or 'log'", type: "ValueError", at: ctx.rangeOf(0, "value"))
    }
    return scale
  }

  /// `set_xlim(left, right)`, `set_xlim((left, right))`, `set_xlim(left=..., right=...)`; returns the limits.
  static func limits(
    _ ctx: inout CallContext, _ limit: inout (Double, Double)?, current: (Double, Double), names: (String, String)
  ) throws(ShellError) -> Value {
    var lo = try ctx.optional(0, names.0)
    var hi = try ctx.optional(1, names.1)
    if let l = lo, hi == nil, PlotArguments.shape(l) == [2] {
      let v = try PlotArguments.doubles(l, "limits", at: ctx.rangeOf(0))
      lo = .float(v[0])
      hi = .float(v[1])
    }
    Pyplot.ignoreOtherKeywords(&ctx, known: [names.0, names.1])
    var result = limit ?? current
    if let lo, !lo.isNone { result.0 = try ctx.double(lo, names.0, at: ctx.rangeOf(0, names.0)) }
    if let hi, !hi.isNone { result.1 = try ctx.double(hi, names.1, at: ctx.rangeOf(1, names.1)) }
    guard result.0.isFinite && result.1.isFinite else {
      throw ShellError("axis limits must be finite numbers", type: "ValueError", at: ctx.range)
    }
    if lo != nil || hi != nil {
      if result.0 == result.1 {
        result = (result.0 - 0.5, result.1 + 0.5)
      }
      limit = result
    }
    return .tuple([.float(result.0), .float(result.1)])
  }

  /// `legend()`, `legend(loc="lower right")`, `legend(["a", "b"])`.
  static func legend(_ ctx: inout CallContext, _ ax: inout Axes) throws(ShellError) -> Value {
    var location = LegendLocation.best
    if let l = try ctx.optional(nil, "loc") {
      switch l {
      case .string(let s):
        guard let loc = LegendLocation(rawValue: s.text) else {
          throw ShellError(
            "'\(s.text)' is not a legend location; use one of: " + LegendLocation.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "),
            type: "ValueError", at: ctx.rangeOf(keyword: "loc"))
        }
        location = loc
      case .int(let k):
        let codes: [LegendLocation] = [.best, .upperRight, .upperLeft, .lowerLeft, .lowerRight, .right, .centerLeft, .centerRight, .lowerCenter, .upperCenter, .center]
        guard k >= 0 && k < codes.count else {
          throw ShellError("legend location code must be 0...10, not \(k)", type: "ValueError", at: ctx.rangeOf(keyword: "loc"))
        }
        location = codes[k]
      default:
        throw ShellError("loc must be a string such as 'upper right'", type: "TypeError", at: ctx.rangeOf(keyword: "loc"))
      }
    }
    // legend(["a", "b"]): labels for the artists in order.
    if let labels = try ctx.optional(0, "labels"), case .list(let items) = labels {
      var k = 0
      for (i, a) in ax.artists.enumerated() where k < items.count {
        let text = try labelText(items[k], at: ctx.rangeOf(0))
        switch a {
        case .line(var l):
          l.label = text
          ax.artists[i] = .line(l)
        case .scatter(var s):
          s.label = text
          ax.artists[i] = .scatter(s)
        case .bars(var b):
          b.label = text
          ax.artists[i] = .bars(b)
        default: continue
        }
        k += 1
      }
    }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["loc", "labels"], silently: ["fontsize", "frameon", "ncol", "markerscale"])
    if ax.labelled.isEmpty {
      Pyplot.warnOnce(
        ctx.interpreter, "legend-empty",
        "legend(): no artists with a label= to put in the legend (give plot/scatter a label=\"...\")")
    }
    ax.legend = location
    return .object(ArtistHandle(kind: "Legend"))
  }

  /// `axis("off" | "on" | "equal" | "scaled" | "square" | "tight" | "auto")` or `axis([x0, x1, y0, y1])`; returns the limits.
  static func axis(_ ctx: inout CallContext, _ ax: inout Axes) throws(ShellError) -> Value {
    if let v = try ctx.optional(0, "arg") {
      let r = ctx.rangeOf(0, "arg")
      switch v {
      case .string(let s):
        switch s.text {
        case "off": ax.axisVisible = false
        case "on": ax.axisVisible = true
        case "equal", "scaled", "square", "image": ax.aspect = s.text == "equal" ? .equalLimits : .equalBox
        case "tight":
          let (bx, by, _) = ax.dataBounds()
          if let bx { ax.xlim = bx }
          if let by { ax.ylim = by }
        case "auto", "normal":
          ax.aspect = .auto
          ax.xlim = nil
          ax.ylim = nil
        default:
          throw ShellError(
            "axis('\(s.text)'): use 'off', 'on', 'equal', 'scaled', 'square', 'tight', 'auto', or [xmin, xmax, ymin, ymax]",
            type: "ValueError", at: r)
        }
      case .none: break
      case .bool(let b): ax.axisVisible = b
      default:
        let lims = try PlotArguments.doubles(v, "axis limits", at: r)
        guard lims.count == 4, lims.allSatisfy(\.isFinite) else {
          throw ShellError("axis() limits must be 4 finite numbers [xmin, xmax, ymin, ymax]", type: "ValueError", at: r)
        }
        ax.xlim = (lims[0], lims[1])
        ax.ylim = (lims[2], lims[3])
      }
    }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["arg"])
    let (x, y) = ax.autoLimits()
    return .tuple([.float(x.0), .float(x.1), .float(y.0), .float(y.1)])
  }

  /// `set_xticks(ticks, labels=None)`.
  static func setTicks(_ ctx: inout CallContext, _ ticks: inout [(Double, String)]?) throws(ShellError) -> Value {
    guard let v = try ctx.optional(0, "ticks") else { return .none }
    let positions = try PlotArguments.doubles(v, "ticks", at: ctx.rangeOf(0, "ticks"))
    var labels = positions.map { Ticks.format($0, step: FigureLayout.step(of: positions)) }
    if let l = try ctx.optional(1, "labels"), !l.isNone {
      let items: [Value]
      switch l {
      case .list(let xs), .tuple(let xs): items = xs
      default: throw ShellError("labels must be a list of strings", type: "TypeError", at: ctx.rangeOf(1, "labels"))
      }
      guard items.count == positions.count else {
        throw ShellError("\(items.count) labels for \(positions.count) ticks", type: "ValueError", at: ctx.rangeOf(1, "labels"))
      }
      labels = try items.map { v throws(ShellError) in try labelText(v, at: ctx.rangeOf(1, "labels")) }
    }
    Pyplot.ignoreOtherKeywords(&ctx, known: ["ticks", "labels"])
    ticks = Array(zip(positions, labels))
    return .none
  }

  static func number(_ ctx: inout CallContext, _ names: [String]) throws(ShellError) -> Double? {
    for n in names {
      if let v = try ctx.optional(nil, n), !v.isNone { return try ctx.double(v, n, at: ctx.rangeOf(keyword: n)) }
    }
    return nil
  }
}

extension Axes {
  var autoLimitsX: (Double, Double) { autoLimits().x }
  var autoLimitsY: (Double, Double) { autoLimits().y }
}

extension CallContext {
  /// The first of several spellings of a keyword that was given (`color=` or `c=`).
  mutating func firstKeyword(_ names: String...) throws(ShellError) -> Value? {
    for n in names { if let v = try optional(nil, n) { return v } }
    return nil
  }

  /// A True/False keyword.
  mutating func flagValue(_ name: String, default dflt: Bool) throws(ShellError) -> Bool {
    guard let v = try optional(nil, name) else { return dflt }
    return try bool(v, name, at: rangeOf(keyword: name))
  }
}

/// matplotlib's TeX-like labels (`r"$\alpha$"`) as plain Unicode text: the dollar signs
/// dropped, common Greek letters and symbols replaced, `^{...}`/`_{...}` braces removed.
enum Mathtext {
  static let symbols: [String: String] = [
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "cdot": "·", "times": "×",
    "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "neq": "≠", "approx": "≈", "infty": "∞", "pm": "±", "to": "→",
    "partial": "∂", "nabla": "∇", "sum": "Σ", "sqrt": "√", "ell": "ℓ", "|": "‖",
  ]

  static func plain(_ text: String) -> String {
    guard text.contains("$") else { return text }
    var out = ""
    var inMath = false
    var k = text.startIndex
    while k < text.endIndex {
      let c = text[k]
      if c == "$" {
        inMath.toggle()
        k = text.index(after: k)
        continue
      }
      if inMath && c == "\\" {
        var j = text.index(after: k)
        while j < text.endIndex && text[j].isLetter { j = text.index(after: j) }
        let name = String(text[text.index(after: k)..<j])
        if name.isEmpty, j < text.endIndex {
          out.append(text[j])
          k = text.index(after: j)
          continue
        }
        out += symbols[name] ?? name
        k = j
        continue
      }
      if inMath && (c == "{" || c == "}") {
        k = text.index(after: k)
        continue
      }
      out.append(c)
      k = text.index(after: k)
    }
    return out
  }
}
