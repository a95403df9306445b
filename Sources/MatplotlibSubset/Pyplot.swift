import ArrayIO
import Foundation
import KSDiagnostics
import Plotting
import ShellRuntime

/// A figure that `plt.show()` shows: the session draws it in the terminal when it can.
/// (`DisplayData` with the same figure as SVG and PNG follows it, for notebooks.)
public struct FigureShown: RuntimeEvent {
  public var figure: Figure
  public init(figure: Figure) { self.figure = figure }
}

/// matplotlib as a library of the language: `import matplotlib.pyplot as plt` and the subset of
/// pyplot that KeOps' gallery and tutorials use (docs/plotting.md lists it). Calls outside the
/// subset are accepted and do nothing, with one warning per name and session.
public enum Pyplot {
  /// The library to install into an interpreter.
  public static let library = ShellLibrary(modules: [
    ShellModule("matplotlib", memberNames: { ["pyplot", "cm", "use", "rcParams", "__version__"] }, member: { matplotlibMember($0) }),
    ShellModule("matplotlib.pyplot", memberNames: { functionNames }, member: { pyplotMember($0) }),
    ShellModule("matplotlib.cm", memberNames: { Colormap.names + ["get_cmap"] }, member: { cmMember($0) }),
    // 3-D axes (`from mpl_toolkits.mplot3d import Axes3D`): importable, not drawn.
    ShellModule("mpl_toolkits", members: [:]),
    ShellModule("mpl_toolkits.mplot3d", memberNames: { ["Axes3D"] }, member: { ignored("mpl_toolkits.mplot3d.\($0)") }),
  ])

  static func matplotlibMember(_ name: String) -> Value? {
    switch name {
    case "use":
      // The backend: ks has one (files and the terminal), so any choice is accepted silently.
      return Builtins.anyFn("use", doc: docs["use"]) { _ in .none }
    case "__version__": return .str("3.8 (ks subset)")
    case "pyplot", "cm": return nil  // the submodules
    default: return ignored("matplotlib.\(name)")
    }
  }

  static func cmMember(_ name: String) -> Value? {
    if name == "get_cmap" {
      return Builtins.anyFn("get_cmap", doc: docs["get_cmap"]) { ctx in
        let m = try PlotArguments.colormap(try ctx.required(0, "name"), at: ctx.rangeOf(0, "name"))
        return .object(ColormapObject(colormap: m))
      }
    }
    return Colormap.named(name).map { .object(ColormapObject(colormap: $0)) }
  }

  /// pyplot's name for an axes command, when it differs.
  static let axesSpellings: [String: String] = [
    "title": "set_title", "xlabel": "set_xlabel", "ylabel": "set_ylabel", "xlim": "set_xlim", "ylim": "set_ylim",
    "xscale": "set_xscale", "yscale": "set_yscale", "xticks": "set_xticks", "yticks": "set_yticks",
  ]

  /// Every pyplot function ks implements.
  static let functionNames: [String] =
    (Array(AxesCommands.table.keys.filter { !$0.hasPrefix("set_") && !$0.hasPrefix("get_") }) + Array(axesSpellings.keys) + [
      "figure", "subplot", "subplots", "gcf", "gca", "show", "savefig", "close", "clf", "colorbar", "tight_layout",
      "suptitle", "cm", "get_cmap",
    ]).sorted()

  static func pyplotMember(_ name: String) -> Value? {
    if name == "cm" { return .module("matplotlib.cm") }
    if name == "get_cmap" { return cmMember("get_cmap") }
    let command = AxesCommands.table[axesSpellings[name] ?? name]
    if name == "matshow" {
      // matshow draws in a new figure, as matplotlib's.
      return Builtins.anyFn(name, doc: docs[name]) { ctx in
        var st = ctx.interpreter.plotState
        let f = st.newFigure()
        _ = st.axes(at: GridCell(rows: 1, columns: 1, index: 0), in: f)
        ctx.interpreter.plotState = st
        return try withAxes(&ctx, nil) { (ctx, ax) throws(ShellError) in
          let r = try AxesCommands.imshow(&ctx, &ax, AxesReference(figure: f, index: 0))
          return r
        }
      }
    }
    if let command, !name.hasPrefix("set_"), !name.hasPrefix("get_") {
      return Builtins.anyFn(name, doc: docs[name]) { ctx in
        try withAxes(&ctx, nil) { (ctx, ax) throws(ShellError) in
          let ref = AxesReference(figure: ctx.interpreter.plotState.current ?? 1, index: 0)
          return try command(&ctx, &ax, currentReference(ctx.interpreter) ?? ref)
        }
      }
    }
    switch name {
    case "figure", "subplot", "subplots", "gcf", "gca", "show", "savefig", "close", "clf", "colorbar", "tight_layout", "suptitle":
      return Builtins.anyFn(name, doc: docs[name]) { ctx in try figureFunction(name, &ctx) }
    default:
      return ignored("plt.\(name)")
    }
  }

  // MARK: - Warnings

  /// A function outside the subset: accepted, does nothing, warns once per session.
  static func ignored(_ qualified: String) -> Value {
    Builtins.anyFn(qualified, doc: ignoredDoc(qualified)) { ctx in
      warnOnce(ctx.interpreter, qualified, "\(qualified)() is not part of ks's matplotlib subset; ignored")
      return .none
    }
  }

  /// Sends `message` as a warning the first time `key` comes up in the session.
  static func warnOnce(_ interpreter: Interpreter, _ key: String, _ message: String) {
    var st = interpreter.plotState
    guard !st.warned.contains(key) else { return }
    st.warned.insert(key)
    interpreter.plotState = st
    interpreter.events?(ShellWarning(message))
  }

  /// Keywords no parameter read: accepted, with one warning per function and keyword (those in
  /// `silently` without one: styling that does not change what the figure says).
  static func ignoreOtherKeywords(_ ctx: inout CallContext, known: [String], silently: [String] = []) {
    for kw in ctx.keywords where !known.contains(kw.name) && !silently.contains(kw.name) {
      warnOnce(ctx.interpreter, "\(ctx.name).\(kw.name)", "\(ctx.name)(): keyword \(kw.name)= is not supported by ks and is ignored")
    }
  }

  // MARK: - State

  static func currentReference(_ interpreter: Interpreter) -> AxesReference? {
    let st = interpreter.plotState
    guard let f = st.current, let a = st.figures[f]?.currentAxes else { return nil }
    return AxesReference(figure: f, index: a)
  }

  /// Runs `body` on the axes `reference` (nil: the current axes, made if needed) and stores it back.
  static func withAxes(
    _ ctx: inout CallContext, _ reference: AxesReference?,
    _ body: (inout CallContext, inout Axes) throws(ShellError) -> Value
  ) throws(ShellError) -> Value {
    var st = ctx.interpreter.plotState
    let ref: AxesReference
    if let reference {
      ref = reference
    } else {
      let (f, a) = st.currentAxes()
      ref = AxesReference(figure: f, index: a)
      ctx.interpreter.plotState = st
    }
    guard let figure = st.figures[ref.figure], ref.index < figure.axes.count else {
      throw ShellError("this Axes belongs to figure \(ref.figure), which has been closed", type: "ValueError", at: ctx.range)
    }
    var ax = figure.axes[ref.index]
    let result = try body(&ctx, &ax)
    // Reload: the body may have warned (which records the warning in the state).
    st = ctx.interpreter.plotState
    st.figures[ref.figure]?.axes[ref.index] = ax
    ctx.interpreter.plotState = st
    return result
  }

  // MARK: - Figure functions

  /// `figure`, `subplot`, `subplots`, `gcf`, `gca`, `show`, `savefig`, `close`, `clf`, `colorbar`, `tight_layout`, `suptitle`.
  static func figureFunction(_ name: String, _ ctx: inout CallContext) throws(ShellError) -> Value {
    let interpreter = ctx.interpreter
    var st = interpreter.plotState
    switch name {
    case "figure":
      var number: Int?
      if let n = try ctx.optional(0, "num"), !n.isNone {
        guard case .int(let k) = n, k >= 1 else {
          throw ShellError("figure number must be a positive integer", type: "ValueError", at: ctx.rangeOf(0, "num"))
        }
        number = k
      }
      let f = st.newFigure(number: number)
      try configure(&st.figures[f]!, &ctx)
      interpreter.plotState = st
      ignoreOtherKeywords(&ctx, known: ["num", "figsize", "dpi"], silently: ["facecolor", "clear", "frameon", "constrained_layout", "layout"])
      return .object(FigureObject(number: f))
    case "subplot":
      let cell = try subplotCell(&ctx)
      let f = st.currentFigure()
      let a = st.axes(at: cell, in: f)
      interpreter.plotState = st
      ignoreOtherKeywords(&ctx, known: [], silently: ["sharex", "sharey", "aspect"])
      return .object(AxesObject(reference: AxesReference(figure: f, index: a)))
    case "subplots":
      let rows = try ctx.integerValue(0, "nrows", default: 1)
      let columns = try ctx.integerValue(1, "ncols", default: 1)
      guard rows >= 1 && columns >= 1 && rows * columns <= 400 else {
        throw ShellError("subplots() needs 1 to 400 axes (nrows, ncols >= 1), not \(rows) x \(columns)", type: "ValueError", at: ctx.range)
      }
      let squeeze = try ctx.flagValue("squeeze", default: true)
      let f = st.newFigure()
      try configure(&st.figures[f]!, &ctx)
      var refs: [AxesReference] = []
      for k in 0..<(rows * columns) {
        st.figures[f]!.axes.append(Axes(cell: GridCell(rows: rows, columns: columns, index: k)))
        refs.append(AxesReference(figure: f, index: k))
      }
      st.figures[f]!.currentAxes = 0
      interpreter.plotState = st
      if let kw = ctx.keywords.first(where: { $0.name == "subplot_kw" }), case .dict(let d) = kw.value,
        d.contains(where: { if case .string(let s) = $0.1 { s.text == "3d" } else { false } })
      {
        warnOnce(interpreter, "projection=3d", "subplots(): 3-D axes are not supported by ks; 3-D calls on them are ignored")
      }
      ignoreOtherKeywords(&ctx, known: ["nrows", "ncols", "squeeze", "figsize", "dpi", "subplot_kw"], silently: ["sharex", "sharey", "constrained_layout", "layout", "gridspec_kw"])
      let axes: Value
      if squeeze && rows * columns == 1 {
        axes = .object(AxesObject(reference: refs[0]))
      } else {
        axes = .object(AxesArray(rows: rows, columns: columns, items: refs, twoDimensional: !squeeze || (rows > 1 && columns > 1)))
      }
      return .tuple([.object(FigureObject(number: f)), axes])
    case "gcf":
      let f = st.currentFigure()
      interpreter.plotState = st
      return .object(FigureObject(number: f))
    case "gca":
      let (f, a) = st.currentAxes()
      interpreter.plotState = st
      return .object(AxesObject(reference: AxesReference(figure: f, index: a)))
    case "show":
      ignoreOtherKeywords(&ctx, known: [], silently: ["block"])
      show(interpreter, at: ctx.range)
      return .none
    case "savefig":
      let f = st.currentFigure()
      interpreter.plotState = st
      try savefig(f, &ctx)
      return .none
    case "close":
      try close(&st, &ctx)
      interpreter.plotState = st
      return .none
    case "clf", "colorbar", "tight_layout", "suptitle":
      let f = st.currentFigure()
      interpreter.plotState = st
      return try onFigure(f, name, &ctx)
    default:
      return .none
    }
  }

  /// `figsize=` and `dpi=` of `figure`/`subplots`.
  static func configure(_ figure: inout Figure, _ ctx: inout CallContext) throws(ShellError) {
    if let size = try ctx.optional(nil, "figsize"), !size.isNone {
      let v = try PlotArguments.doubles(size, "figsize", at: ctx.rangeOf(keyword: "figsize"))
      guard v.count == 2, v.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
        throw ShellError("figsize must be (width, height) in inches, each in (0, 100]", type: "ValueError", at: ctx.rangeOf(keyword: "figsize"))
      }
      figure.width = v[0]
      figure.height = v[1]
    }
    if let dpi = try ctx.optional(nil, "dpi"), !dpi.isNone {
      let d = try ctx.double(dpi, "dpi", at: ctx.rangeOf(keyword: "dpi"))
      guard d >= 10 && d <= 1200 else { throw ShellError("dpi must be between 10 and 1200", type: "ValueError", at: ctx.rangeOf(keyword: "dpi")) }
      figure.dpi = d
    }
  }

  /// `subplot(rows, columns, index)` or `subplot(231)`: the grid cell (index counts from 1).
  static func subplotCell(_ ctx: inout CallContext) throws(ShellError) -> GridCell {
    var (rows, columns, index) = (1, 1, 1)
    switch ctx.positional.count {
    case 0: break
    case 1:
      guard case .int(let code) = ctx.positional[0], code >= 111, code <= 999 else {
        throw ShellError("subplot() takes (rows, columns, index) or a 3-digit code such as 211", type: "ValueError", at: ctx.rangeOf(0))
      }
      (rows, columns, index) = (code / 100, code / 10 % 10, code % 10)
    case 3:
      rows = try ctx.int(ctx.positional[0], "rows", at: ctx.rangeOf(0))
      columns = try ctx.int(ctx.positional[1], "columns", at: ctx.rangeOf(1))
      index = try ctx.int(ctx.positional[2], "index", at: ctx.rangeOf(2))
    default:
      throw ShellError("subplot() takes (rows, columns, index) or a 3-digit code such as 211", type: "TypeError", at: ctx.range)
    }
    guard rows >= 1, columns >= 1, rows * columns <= 400 else {
      throw ShellError("subplot() grid must have 1 to 400 cells, not \(rows) x \(columns)", type: "ValueError", at: ctx.range)
    }
    guard index >= 1 && index <= rows * columns else {
      throw ShellError("subplot index must be 1...\(rows * columns) for a \(rows) x \(columns) grid, not \(index)", type: "ValueError", at: ctx.rangeOf(ctx.positional.count == 3 ? 2 : 0))
    }
    return GridCell(rows: rows, columns: columns, index: index - 1)
  }

  /// A method of a figure (`fig.savefig`, `fig.suptitle`, ...), or pyplot's figure-level function.
  static func onFigure(_ number: Int, _ name: String, _ ctx: inout CallContext) throws(ShellError) -> Value {
    let interpreter = ctx.interpreter
    var st = interpreter.plotState
    guard st.figures[number] != nil else {
      throw ShellError("figure \(number) has been closed", type: "ValueError", at: ctx.range)
    }
    switch name {
    case "savefig":
      try savefig(number, &ctx)
    case "show":
      show(interpreter, at: ctx.range, only: number)
    case "suptitle":
      st.figures[number]!.suptitle = try AxesCommands.labelText(try ctx.required(0, "t"), at: ctx.rangeOf(0, "t"))
      interpreter.plotState = st
      ignoreOtherKeywords(&ctx, known: ["t"], silently: ["fontsize", "y"])
      return .object(ArtistHandle(kind: "Text", label: st.figures[number]!.suptitle))
    case "tight_layout":
      // ks always lays axes out to fit their labels.
      ignoreOtherKeywords(&ctx, known: [], silently: ["pad", "h_pad", "w_pad", "rect"])
    case "clf":
      st.figures[number]!.axes = []
      st.figures[number]!.currentAxes = nil
      st.figures[number]!.suptitle = nil
      interpreter.plotState = st
    case "gca":
      st.current = number
      let (f, a) = st.currentAxes()
      interpreter.plotState = st
      return .object(AxesObject(reference: AxesReference(figure: f, index: a)))
    case "add_subplot":
      let cell = try subplotCell(&ctx)
      ignoreOtherKeywords(&ctx, known: [], silently: ["sharex", "sharey"])
      st.current = number
      let a = st.axes(at: cell, in: number)
      interpreter.plotState = st
      return .object(AxesObject(reference: AxesReference(figure: number, index: a)))
    case "subplots":
      st.current = number
      interpreter.plotState = st
      return try figureFunction("subplots", &ctx)
    case "set_size_inches", "set_dpi":
      if name == "set_dpi" {
        st.figures[number]!.dpi = try ctx.double(try ctx.required(0, "dpi"), "dpi", at: ctx.rangeOf(0, "dpi"))
      } else {
        let v = try PlotArguments.doubles(try ctx.required(0, "w"), "size", at: ctx.rangeOf(0, "w"))
        let h = try ctx.optional(1, "h").map { v throws(ShellError) in try ctx.double(v, "h", at: ctx.rangeOf(1, "h")) }
        guard let w = v.first, let height = v.count == 2 ? v[1] : h, w > 0, height > 0 else {
          throw ShellError("set_size_inches needs (width, height) in inches", type: "ValueError", at: ctx.range)
        }
        st.figures[number]!.width = w
        st.figures[number]!.height = height
      }
      interpreter.plotState = st
    case "colorbar":
      return try colorbar(number, &ctx)
    default:
      break
    }
    return .none
  }

  /// `colorbar(mappable=None, ax=None, label=None)`: a colorbar beside the axes of `mappable`
  /// (or the current axes) for its colors.
  static func colorbar(_ number: Int, _ ctx: inout CallContext) throws(ShellError) -> Value {
    let interpreter = ctx.interpreter
    var target: AxesReference?
    var mapping: ColorMapping?
    if let m = try ctx.optional(0, "mappable"), !m.isNone {
      guard case .object(let h as ArtistHandle) = m, let hm = h.mapping else {
        throw ShellError(
          "colorbar() needs what imshow, scatter(c=values), pcolormesh or contourf returned, not \(m.typeName)",
          type: "TypeError", at: ctx.rangeOf(0, "mappable"))
      }
      target = h.axes
      mapping = hm
    }
    if let a = try ctx.optional(nil, "ax"), case .object(let o as AxesObject) = a { target = o.reference }
    let label = try ctx.optional(nil, "label").map { v throws(ShellError) in try AxesCommands.labelText(v, at: ctx.rangeOf(keyword: "label")) }
    ignoreOtherKeywords(&ctx, known: ["mappable", "ax", "label"], silently: ["shrink", "fraction", "pad", "aspect", "orientation"])
    var st = interpreter.plotState
    if target == nil {
      st.current = number
      let (f, a) = st.currentAxes()
      interpreter.plotState = st
      target = AxesReference(figure: f, index: a)
    }
    let ref = target!
    return try withAxes(&ctx, ref) { (ctx, ax) throws(ShellError) in
      guard let m = mapping ?? ax.lastMapping else {
        throw ShellError(
          "colorbar(): nothing in these axes maps values to colors; draw with imshow, scatter(c=values), pcolormesh or contourf first",
          type: "RuntimeError", at: ctx.range)
      }
      ax.colorbar = m
      if let label { ax.colorbarLabel = label }
      return .object(ArtistHandle(kind: "Colorbar", axes: ref))
    }
  }

  /// `close()`, `close("all")`, `close(n)`, `close(fig)`.
  static func close(_ st: inout PlotState, _ ctx: inout CallContext) throws(ShellError) {
    let which = try ctx.optional(0, "fig")
    switch which {
    case nil, .some(.none):
      if let c = st.current { st.figures[c] = nil }
    case .some(.string(let s)) where s.text == "all":
      st.figures = [:]
    case .some(.int(let n)):
      st.figures[n] = nil
    case .some(.object(let f as FigureObject)):
      st.figures[f.number] = nil
    case .some(let v):
      throw ShellError("close() takes nothing, 'all', a figure number or a figure, not \(v.typeName)", type: "TypeError", at: ctx.rangeOf(0, "fig"))
    }
    if let c = st.current, st.figures[c] == nil { st.current = st.figures.keys.max() }
  }

  // MARK: - Output

  /// `savefig(fname, dpi=None, format=None)`: writes the figure as SVG, PNG or PDF (by the
  /// extension, or `format=`), atomically.
  static func savefig(_ number: Int, _ ctx: inout CallContext) throws(ShellError) {
    let pathValue = try ctx.required(0, "fname")
    var path = try ctx.string(pathValue, "fname", at: ctx.rangeOf(0, "fname")).text
    var format: ImageFormat?
    if let f = try ctx.optional(nil, "format"), !f.isNone {
      let s = try ctx.string(f, "format", at: ctx.rangeOf(keyword: "format")).text
      guard let fmt = ImageFormat(rawValue: s.lowercased()) else {
        throw ShellError("savefig(): format '\(s)' is not one ks writes; use 'svg', 'png' or 'pdf'", type: "ValueError", at: ctx.rangeOf(keyword: "format"))
      }
      format = fmt
    }
    let ext = (path as NSString).pathExtension
    if format == nil {
      if ext.isEmpty {
        path += ".png"
        format = .png
      } else {
        guard let fmt = ImageFormat(path: path) else {
          throw ShellError(
            "savefig(): ks cannot write '.\(ext)' files; save as .svg, .png or .pdf", type: "ValueError", at: ctx.rangeOf(0, "fname"))
        }
        format = fmt
      }
    }
    var figure = ctx.interpreter.plotState.figures[number]!
    if let d = try ctx.optional(nil, "dpi"), !d.isNone, case let dpi = try ctx.double(d, "dpi", at: ctx.rangeOf(keyword: "dpi")) {
      guard dpi >= 10 && dpi <= 1200 else { throw ShellError("dpi must be between 10 and 1200", type: "ValueError", at: ctx.rangeOf(keyword: "dpi")) }
      figure.dpi = dpi
    }
    ignoreOtherKeywords(&ctx, known: ["fname", "format", "dpi"], silently: ["bbox_inches", "pad_inches", "transparent", "facecolor"])
    let bytes: [UInt8]
    do {
      bytes = try CairoRenderer.render(figure, as: format!)
    } catch {
      throw ShellError("savefig('\(path)'): \(error)", at: ctx.range)
    }
    do {
      try AtomicFile.write(bytes, to: path)
    } catch {
      throw ShellError("savefig('\(path)'): \(error)", type: "OSError", at: ctx.rangeOf(0, "fname"))
    }
  }

  /// `plt.show()`: every open figure (or figure `only`) is shown, then closed, as matplotlib does
  /// outside interactive mode.
  static func show(_ interpreter: Interpreter, at range: SourceRange, only: Int? = nil) {
    var st = interpreter.plotState
    let numbers = st.figures.keys.sorted().filter { only == nil || $0 == only }
    for n in numbers {
      guard let figure = st.figures[n] else { continue }
      interpreter.events?(FigureShown(figure: figure))
      interpreter.events?(displayData(figure))
      st.figures[n] = nil
    }
    if let c = st.current, st.figures[c] == nil { st.current = st.figures.keys.max() }
    interpreter.plotState = st
  }

  /// The figure as Jupyter display data: SVG text, base64 PNG, and matplotlib's one-line text.
  public static func displayData(_ figure: Figure) -> DisplayData {
    var data = ["text/plain": figure.summary]
    if let svg = try? CairoRenderer.render(figure, as: .svg) { data["image/svg+xml"] = String(decoding: svg, as: UTF8.self) }
    if let png = try? CairoRenderer.render(figure, as: .png) { data["image/png"] = Data(png).base64EncodedString() }
    return DisplayData(data: data)
  }

  /// Shows the open figures that hold something, as Jupyter's inline backend does at the end of
  /// a cell: one `DisplayData` each through `interpreter.events`, then closes all figures.
  /// Returns how many were shown. (For notebook export; `plt.show()` does this itself.)
  @discardableResult
  public static func showOpenFigures(in interpreter: Interpreter) -> Int {
    var st = interpreter.plotState
    var count = 0
    for n in st.figures.keys.sorted() {
      guard let figure = st.figures[n], !figure.isEmpty else { continue }
      interpreter.events?(displayData(figure))
      count += 1
    }
    st.figures = [:]
    st.current = nil
    interpreter.plotState = st
    return count
  }

  /// The figure that `plt.savefig` would save now, if one is open (for tests and tools).
  public static func currentFigure(in interpreter: Interpreter) -> Figure? {
    let st = interpreter.plotState
    return st.current.flatMap { st.figures[$0] }
  }
}

extension CallContext {
  mutating func integerValue(_ index: Int?, _ name: String, default dflt: Int) throws(ShellError) -> Int {
    guard let v = try optional(index, name) else { return dflt }
    return try int(v, name, at: rangeOf(index, name))
  }
}
