import CCairo
import Foundation

/// A file format figures are saved in.
public enum ImageFormat: String, Sendable, CaseIterable {
  case svg, png, pdf

  /// The format a path's extension names (`f.svg`), or nil.
  public init?(path: String) {
    let ext = (path as NSString).pathExtension.lowercased()
    self.init(rawValue: ext)
  }

  /// The MIME type (`image/svg+xml`).
  public var mimeType: String {
    switch self {
    case .svg: "image/svg+xml"
    case .png: "image/png"
    case .pdf: "application/pdf"
    }
  }
}

/// A figure that Cairo could not draw.
public struct RenderError: Error, CustomStringConvertible, Sendable {
  public var description: String
}

/// Draws figures with Cairo: SVG and PDF as vector pages in points, PNG as pixels at the figure's
/// dpi, all antialiased. Text uses Cairo's font selection (fontconfig) with "DejaVu Sans".
public enum CairoRenderer {
  /// The font family of all text.
  public static let fontFamily = "DejaVu Sans"

  /// The figure as the bytes of a file in `format`.
  public static func render(_ figure: Figure, as format: ImageFormat) throws -> [UInt8] {
    let sink = ByteSink()
    let closure = Unmanaged.passUnretained(sink).toOpaque()
    let (w, h) = figure.sizeInPoints
    switch format {
    case .svg, .pdf:
      let surface =
        format == .svg
        ? cairo_svg_surface_create_for_stream(writeBytes, closure, w, h)
        : cairo_pdf_surface_create_for_stream(writeBytes, closure, w, h)
      defer { cairo_surface_destroy(surface) }
      try check(cairo_surface_status(surface), "creating the \(format.rawValue) surface")
      try draw(figure, on: surface, scale: 1)
      cairo_surface_finish(surface)
      try check(cairo_surface_status(surface), "writing the \(format.rawValue) file")
    case .png:
      let (pw, ph) = figure.sizeInPixels
      guard pw <= 20000 && ph <= 20000 else {
        throw RenderError(description: "the figure is \(pw) x \(ph) pixels; at most 20000 x 20000 can be saved as PNG")
      }
      let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(pw), Int32(ph))
      defer { cairo_surface_destroy(surface) }
      try check(cairo_surface_status(surface), "creating the PNG image")
      try draw(figure, on: surface, scale: figure.dpi / 72)
      cairo_surface_flush(surface)
      try check(cairo_surface_write_to_png_stream(surface, writeBytes, closure), "encoding the PNG image")
    }
    return sink.bytes
  }

  final class ByteSink {
    var bytes: [UInt8] = []
  }

  static let writeBytes: cairo_write_func_t = { closure, data, length in
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
  }

  static func check(_ status: cairo_status_t, _ what: String) throws {
    guard status == CAIRO_STATUS_SUCCESS else {
      let message = String(cString: cairo_status_to_string(status))
      throw RenderError(description: "Cairo failed \(what): \(message)")
    }
  }

  static func draw(_ figure: Figure, on surface: OpaquePointer?, scale: Double) throws {
    let cr = cairo_create(surface)
    defer { cairo_destroy(cr) }
    try check(cairo_status(cr), "starting to draw")
    cairo_scale(cr, scale, scale)
    let painter = CairoPainter(cr: cr)
    painter.paint(figure)
    try check(cairo_status(cr), "drawing")
  }
}

/// Measures text with Cairo's font metrics.
struct CairoMeasurer: TextMeasurer {
  let cr: OpaquePointer?

  func width(_ text: String, size: Double) -> Double {
    cairo_select_font_face(cr, CairoRenderer.fontFamily, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, size)
    var e = cairo_text_extents_t()
    cairo_text_extents(cr, text, &e)
    return e.x_advance
  }
}

/// Draws one figure on one Cairo context, in points.
final class CairoPainter {
  let cr: OpaquePointer?
  let layout: FigureLayout
  var measure: CairoMeasurer { CairoMeasurer(cr: cr) }

  init(cr: OpaquePointer?) {
    self.cr = cr
    layout = FigureLayout(width: 0, height: 0)
  }

  enum HAlign { case left, center, right }
  enum VAlign { case top, center, baseline, bottom }

  func setColor(_ c: RGBA) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) }

  func paint(_ figure: Figure) {
    let (w, h) = figure.sizeInPoints
    setColor(.white)
    cairo_rectangle(cr, 0, 0, w, h)
    cairo_fill(cr)
    var layout = FigureLayout(width: w, height: h)
    layout.tickSize = 10
    let geometries = layout.place(figure, measure: measure)
    if let s = figure.suptitle {
      text(s, x: w / 2, y: layout.padding, size: layout.titleSize, h: .center, v: .top)
    }
    for (ax, g) in zip(figure.axes, geometries) { paint(ax, g, layout) }
  }

  // MARK: - Text

  /// Draws `s` (several lines when it holds newlines) anchored at (x, y).
  func text(
    _ s: String, x: Double, y: Double, size: Double, h: HAlign, v: VAlign, color: RGBA = .black, angle: Double = 0,
    bold: Bool = false
  ) {
    cairo_select_font_face(
      cr, CairoRenderer.fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, size)
    var fe = cairo_font_extents_t()
    cairo_font_extents(cr, &fe)
    let lines = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let lineHeight = size * 1.25
    let total = Double(lines.count - 1) * lineHeight + fe.ascent
    var first: Double
    switch v {
    case .top: first = fe.ascent
    case .center: first = fe.ascent - total / 2
    case .baseline: first = 0
    case .bottom: first = fe.ascent - total - fe.descent
    }
    cairo_save(cr)
    cairo_translate(cr, x, y)
    if angle != 0 { cairo_rotate(cr, angle) }
    setColor(color)
    for (k, line) in lines.enumerated() {
      var e = cairo_text_extents_t()
      cairo_text_extents(cr, line, &e)
      let dx: Double
      switch h {
      case .left: dx = 0
      case .center: dx = -e.x_advance / 2
      case .right: dx = -e.x_advance
      }
      cairo_move_to(cr, dx, first + Double(k) * lineHeight)
      cairo_show_text(cr, line)
    }
    cairo_restore(cr)
  }

  /// A tick label: plain, or 10 with a raised exponent.
  func tickLabel(_ t: Tick, x: Double, y: Double, size: Double, h: HAlign, v: VAlign) {
    guard let e = t.exponent else {
      text(t.label.replacingOccurrences(of: "-", with: "\u{2212}"), x: x, y: y, size: size, h: h, v: v)
      return
    }
    let exp = e < 0 ? "\u{2212}\(-e)" : "\(e)"
    let wBase = measure.width("10", size: size)
    let wExp = measure.width(exp, size: size * 0.7)
    let total = wBase + wExp
    var left = x
    switch h {
    case .left: break
    case .center: left = x - total / 2
    case .right: left = x - total
    }
    text("10", x: left, y: y, size: size, h: .left, v: v)
    // The exponent's baseline sits 0.45 em above the base's.
    let raise: Double
    switch v {
    case .top: raise = -size * 0.1
    case .center, .baseline, .bottom: raise = size * 0.45
    }
    text(exp, x: left + wBase, y: v == .top ? y + raise : y - raise, size: size * 0.7, h: .left, v: v)
  }

  // MARK: - Axes

  func paint(_ ax: Axes, _ g: AxesGeometry, _ layout: FigureLayout) {
    let box = g.box
    if ax.showGrid && ax.axisVisible { grid(g) }
    cairo_save(cr)
    cairo_rectangle(cr, box.x, box.y, box.width, box.height)
    cairo_clip(cr)
    for case .image(let i) in ax.artists { image(i, g) }
    for a in ax.artists {
      switch a {
      case .bars(let b): bars(b, g)
      case .line(let l): line(l, g)
      case .scatter(let s): scatter(s, g)
      case .text(let t):
        text(t.text, x: g.px(t.x), y: g.py(t.y), size: t.size, h: .left, v: .baseline, color: t.color)
      case .image: break
      }
    }
    cairo_restore(cr)
    if ax.axisVisible { frame(ax, g, layout) }
    if let t = ax.title {
      text(t, x: box.x + box.width / 2, y: box.y - 6, size: layout.titleSize, h: .center, v: .bottom)
    }
    if let m = ax.colorbar, let cb = g.colorbarBox { colorbar(m, label: ax.colorbarLabel, cb, ticks: g.colorbarTicks, layout) }
    if let loc = ax.legend { legend(ax, g, loc) }
  }

  func grid(_ g: AxesGeometry) {
    cairo_save(cr)
    setColor(RGBA(0.69, 0.69, 0.69, 0.6))
    cairo_set_line_width(cr, 0.8)
    for t in g.xticks {
      let x = g.px(t.value)
      guard x >= g.box.x - 0.01 && x <= g.box.maxX + 0.01 else { continue }
      cairo_move_to(cr, x, g.box.y)
      cairo_line_to(cr, x, g.box.maxY)
    }
    for t in g.yticks {
      let y = g.py(t.value)
      guard y >= g.box.y - 0.01 && y <= g.box.maxY + 0.01 else { continue }
      cairo_move_to(cr, g.box.x, y)
      cairo_line_to(cr, g.box.maxX, y)
    }
    cairo_stroke(cr)
    cairo_restore(cr)
  }

  func frame(_ ax: Axes, _ g: AxesGeometry, _ layout: FigureLayout) {
    let box = g.box
    setColor(.black)
    cairo_set_line_width(cr, 0.8)
    cairo_rectangle(cr, box.x, box.y, box.width, box.height)
    cairo_stroke(cr)
    let tl = layout.tickLength
    let pad = layout.tickPad
    // Minor ticks of log axes.
    cairo_set_line_width(cr, 0.6)
    if g.xscale == .log {
      for v in Ticks.logMinor(g.xRange.0, g.xRange.1) {
        let x = g.px(v)
        cairo_move_to(cr, x, box.maxY)
        cairo_line_to(cr, x, box.maxY + tl * 0.6)
      }
    }
    if g.yscale == .log {
      for v in Ticks.logMinor(g.yRange.0, g.yRange.1) {
        let y = g.py(v)
        cairo_move_to(cr, box.x, y)
        cairo_line_to(cr, box.x - tl * 0.6, y)
      }
    }
    cairo_stroke(cr)
    cairo_set_line_width(cr, 0.8)
    var ylabelLeft = box.x
    for t in g.xticks {
      let x = g.px(t.value)
      guard x >= box.x - 0.5 && x <= box.maxX + 0.5 else { continue }
      cairo_move_to(cr, x, box.maxY)
      cairo_line_to(cr, x, box.maxY + tl)
      cairo_stroke(cr)
      tickLabel(t, x: x, y: box.maxY + tl + pad, size: layout.tickSize, h: .center, v: .top)
    }
    for t in g.yticks {
      let y = g.py(t.value)
      guard y >= box.y - 0.5 && y <= box.maxY + 0.5 else { continue }
      cairo_move_to(cr, box.x, y)
      cairo_line_to(cr, box.x - tl, y)
      cairo_stroke(cr)
      tickLabel(t, x: box.x - tl - pad, y: y, size: layout.tickSize, h: .right, v: .center)
      let w = t.exponent == nil ? measure.width(t.label, size: layout.tickSize) : measure.width("10", size: layout.tickSize) * 1.6
      ylabelLeft = min(ylabelLeft, box.x - tl - pad - w)
    }
    let tickLabelBottom = box.maxY + tl + pad + layout.tickSize * layout.lineHeight + (g.xscale == .log ? layout.tickSize * 0.3 : 0)
    if let xl = ax.xlabel {
      text(xl, x: box.x + box.width / 2, y: tickLabelBottom + 2, size: layout.labelSize, h: .center, v: .top)
    }
    if let yl = ax.ylabel {
      text(yl, x: ylabelLeft - 4, y: box.y + box.height / 2, size: layout.labelSize, h: .center, v: .bottom, angle: -.pi / 2)
    }
  }

  // MARK: - Artists

  func dashes(_ style: LineStyle, width: Double) {
    let w = max(width, 0.5)
    var pattern: [Double]
    switch style {
    case .dashed: pattern = [3.7 * w, 1.6 * w]
    case .dotted: pattern = [1 * w, 1.65 * w]
    case .dashDot: pattern = [6.4 * w, 1.6 * w, 1 * w, 1.6 * w]
    case .solid, .none: pattern = []
    }
    cairo_set_dash(cr, pattern, Int32(pattern.count), 0)
  }

  func line(_ l: LineSeries, _ g: AxesGeometry) {
    if l.style != .none && l.width > 0 {
      cairo_save(cr)
      setColor(l.color)
      cairo_set_line_width(cr, l.width)
      cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
      cairo_set_line_cap(cr, l.style == .solid ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT)
      dashes(l.style, width: l.width)
      var penDown = false
      for (x, y) in zip(l.xs, l.ys) {
        let px = g.px(x)
        let py = g.py(y)
        guard px.isFinite && py.isFinite else {
          penDown = false
          continue
        }
        if penDown { cairo_line_to(cr, px, py) } else { cairo_move_to(cr, px, py) }
        penDown = true
      }
      cairo_stroke(cr)
      cairo_restore(cr)
    }
    if l.marker != .none {
      for (x, y) in zip(l.xs, l.ys) {
        let px = g.px(x)
        let py = g.py(y)
        guard px.isFinite && py.isFinite else { continue }
        marker(l.marker, x: px, y: py, diameter: l.markerSize, color: l.color)
      }
    }
  }

  func scatter(_ s: ScatterSeries, _ g: AxesGeometry) {
    for k in s.xs.indices {
      let px = g.px(s.xs[k])
      let py = g.py(s.ys[k])
      guard px.isFinite && py.isFinite else { continue }
      let c = s.color(k)
      if c.a <= 0 { continue }
      marker(s.marker, x: px, y: py, diameter: max(0, s.size(k)).squareRoot(), color: c)
    }
  }

  /// One marker of `diameter` points centred at (x, y).
  func marker(_ m: Marker, x: Double, y: Double, diameter: Double, color: RGBA) {
    let r = diameter / 2
    setColor(color)
    var stroke = false
    switch m {
    case .none: return
    case .circle: cairo_arc(cr, x, y, r, 0, 2 * .pi)
    case .point: cairo_arc(cr, x, y, r * 0.5, 0, 2 * .pi)
    case .pixel: cairo_rectangle(cr, x - 0.5, y - 0.5, 1, 1)
    case .square: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8)
    case .diamond, .thinDiamond:
      let wr = m == .thinDiamond ? r * 0.6 : r
      polygon([(x, y - r), (x + wr, y), (x, y + r), (x - wr, y)])
    case .triangleUp: polygon([(x, y - r), (x + r, y + r), (x - r, y + r)])
    case .triangleDown: polygon([(x, y + r), (x + r, y - r), (x - r, y - r)])
    case .triangleLeft: polygon([(x - r, y), (x + r, y - r), (x + r, y + r)])
    case .triangleRight: polygon([(x + r, y), (x - r, y - r), (x - r, y + r)])
    case .pentagon, .hexagon, .hexagon2, .star:
      let n = m == .pentagon ? 5 : m == .star ? 10 : 6
      let offset = m == .hexagon2 ? Double.pi / 6 : 0
      let points = (0..<n).map { k -> (Double, Double) in
        let a = -Double.pi / 2 + offset + 2 * .pi * Double(k) / Double(n)
        let rr = m == .star && k % 2 == 1 ? r * 0.4 : r
        return (x + rr * cos(a), y + rr * sin(a))
      }
      polygon(points)
    case .plus, .plusFilled:
      cairo_move_to(cr, x - r, y)
      cairo_line_to(cr, x + r, y)
      cairo_move_to(cr, x, y - r)
      cairo_line_to(cr, x, y + r)
      stroke = true
    case .cross, .crossFilled:
      cairo_move_to(cr, x - r * 0.8, y - r * 0.8)
      cairo_line_to(cr, x + r * 0.8, y + r * 0.8)
      cairo_move_to(cr, x - r * 0.8, y + r * 0.8)
      cairo_line_to(cr, x + r * 0.8, y - r * 0.8)
      stroke = true
    case .vline:
      cairo_move_to(cr, x, y - r)
      cairo_line_to(cr, x, y + r)
      stroke = true
    case .hline:
      cairo_move_to(cr, x - r, y)
      cairo_line_to(cr, x + r, y)
      stroke = true
    }
    if stroke {
      cairo_set_dash(cr, [], 0, 0)
      cairo_set_line_width(cr, max(1, diameter / 6))
      cairo_stroke(cr)
    } else {
      cairo_fill(cr)
    }
  }

  func polygon(_ points: [(Double, Double)]) {
    guard let first = points.first else { return }
    cairo_move_to(cr, first.0, first.1)
    for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
    cairo_close_path(cr)
  }

  func bars(_ b: BarSeries, _ g: AxesGeometry) {
    setColor(b.color)
    if b.outlineOnly {
      cairo_set_line_width(cr, 1.5)
      for k in b.lefts.indices {
        let x0 = g.px(b.lefts[k])
        let x1 = g.px(b.lefts[k] + b.widths[k])
        let y0 = g.py(b.bottoms[k])
        let y1 = g.py(b.bottoms[k] + b.heights[k])
        if k == 0 { cairo_move_to(cr, x0, y0) }
        cairo_line_to(cr, x0, y1)
        cairo_line_to(cr, x1, y1)
        if k == b.lefts.count - 1 { cairo_line_to(cr, x1, y0) }
      }
      cairo_stroke(cr)
      return
    }
    for k in b.lefts.indices {
      guard let r = g.barRect(b, k) else { continue }
      cairo_rectangle(cr, r.x, r.y, r.width, r.height)
    }
    cairo_fill(cr)
  }

  /// An ARGB32 surface (premultiplied) holding `pixels`.
  func surface(rows: Int, columns: Int, pixels: [RGBA]) -> OpaquePointer? {
    let s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(columns), Int32(rows))
    cairo_surface_flush(s)
    guard let data = cairo_image_surface_get_data(s) else { return s }
    let stride = Int(cairo_image_surface_get_stride(s))
    for r in 0..<rows {
      let row = (data + r * stride).withMemoryRebound(to: UInt32.self, capacity: columns) { $0 }
      for c in 0..<columns {
        let p = pixels[r * columns + c]
        let a = min(max(p.a, 0), 1)
        let a8 = UInt32((a * 255).rounded())
        let r8 = UInt32((min(max(p.r, 0), 1) * a * 255).rounded())
        let g8 = UInt32((min(max(p.g, 0), 1) * a * 255).rounded())
        let b8 = UInt32((min(max(p.b, 0), 1) * a * 255).rounded())
        row[c] = a8 << 24 | r8 << 16 | g8 << 8 | b8
      }
    }
    cairo_surface_mark_dirty(s)
    return s
  }

  func image(_ i: ImageLayer, _ g: AxesGeometry) {
    guard i.rows > 0 && i.columns > 0 else { return }
    let s = surface(rows: i.rows, columns: i.columns, pixels: i.pixels)
    defer { cairo_surface_destroy(s) }
    let x0 = g.px(i.x0)
    let x1 = g.px(i.x1)
    let y0 = g.py(i.yFirstRow)
    let y1 = g.py(i.yLastRow)
    guard x0.isFinite, x1.isFinite, y0.isFinite, y1.isFinite, x1 != x0, y1 != y0 else { return }
    cairo_save(cr)
    cairo_translate(cr, x0, y0)
    cairo_scale(cr, (x1 - x0) / Double(i.columns), (y1 - y0) / Double(i.rows))
    cairo_set_source_surface(cr, s, 0, 0)
    let pattern = cairo_get_source(cr)
    cairo_pattern_set_filter(pattern, i.smooth ? CAIRO_FILTER_BILINEAR : CAIRO_FILTER_NEAREST)
    cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
    cairo_rectangle(cr, 0, 0, Double(i.columns), Double(i.rows))
    cairo_fill(cr)
    cairo_restore(cr)
  }

  func colorbar(_ m: ColorMapping, label: String?, _ box: Rect, ticks: [Tick], _ layout: FigureLayout) {
    let n = m.levels.map { max(1, $0.count - 1) } ?? 256
    let pixels = (0..<n).map { k -> RGBA in
      let t = 1 - (Double(k) + 0.5) / Double(n)
      if let levels = m.levels, levels.count >= 2 {
        let band = n - 1 - k
        return m.colormap.color(at: Double(band) / Double(max(1, levels.count - 2)))
      }
      return m.colormap.color(at: t)
    }
    let s = surface(rows: n, columns: 1, pixels: pixels)
    defer { cairo_surface_destroy(s) }
    cairo_save(cr)
    cairo_translate(cr, box.x, box.y)
    cairo_scale(cr, box.width, box.height / Double(n))
    cairo_set_source_surface(cr, s, 0, 0)
    cairo_pattern_set_filter(cairo_get_source(cr), m.levels == nil ? CAIRO_FILTER_BILINEAR : CAIRO_FILTER_NEAREST)
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD)
    cairo_rectangle(cr, 0, 0, 1, Double(n))
    cairo_fill(cr)
    cairo_restore(cr)
    setColor(.black)
    cairo_set_line_width(cr, 0.8)
    cairo_rectangle(cr, box.x, box.y, box.width, box.height)
    cairo_stroke(cr)
    let lo = m.levels?.first ?? m.vmin
    let hi = m.levels?.last ?? m.vmax
    var widest = 0.0
    for t in ticks where hi > lo {
      let f = (t.value - lo) / (hi - lo)
      guard f >= -1e-9 && f <= 1 + 1e-9 else { continue }
      let y = box.maxY - f * box.height
      cairo_move_to(cr, box.maxX, y)
      cairo_line_to(cr, box.maxX + layout.tickLength, y)
      cairo_stroke(cr)
      tickLabel(t, x: box.maxX + layout.tickLength + layout.tickPad, y: y, size: layout.tickSize, h: .left, v: .center)
      widest = max(widest, measure.width(t.label, size: layout.tickSize))
    }
    if let label {
      text(
        label, x: box.maxX + layout.tickLength + layout.tickPad + widest + 4, y: box.y + box.height / 2,
        size: layout.labelSize, h: .center, v: .top, angle: -.pi / 2)
    }
  }

  // MARK: - Legend

  func legend(_ ax: Axes, _ g: AxesGeometry, _ location: LegendLocation) {
    let entries = ax.labelled
    guard !entries.isEmpty else { return }
    let size = 10.0
    let row = size * 1.3
    let handle = 20.0
    let pad = 5.0
    let labelWidth = entries.map { measure.width($0.label ?? "", size: size) }.max() ?? 0
    let w = pad + handle + 6 + labelWidth + pad
    let h = pad + Double(entries.count) * row + pad - 2
    let rect = Self.legendRect(location, width: w, height: h, in: g.box, avoiding: ax, g)
    setColor(RGBA(1, 1, 1, 0.8))
    roundedRect(rect, radius: 2.5)
    cairo_fill_preserve(cr)
    setColor(RGBA(0.8, 0.8, 0.8))
    cairo_set_line_width(cr, 0.8)
    cairo_stroke(cr)
    for (k, a) in entries.enumerated() {
      let cy = rect.y + pad + row * (Double(k) + 0.5)
      let hx = rect.x + pad
      switch a {
      case .line(let l):
        if l.style != .none {
          cairo_save(cr)
          setColor(l.color)
          cairo_set_line_width(cr, l.width)
          dashes(l.style, width: l.width)
          cairo_move_to(cr, hx, cy)
          cairo_line_to(cr, hx + handle, cy)
          cairo_stroke(cr)
          cairo_restore(cr)
        }
        if l.marker != .none { marker(l.marker, x: hx + handle / 2, y: cy, diameter: l.markerSize, color: l.color) }
      case .scatter(let s):
        let c = s.mapping.map { $0.colormap.color(at: 0.5) } ?? s.color(0)
        marker(s.marker, x: hx + handle / 2, y: cy, diameter: min(12, max(4, s.size(0).squareRoot())), color: c.with(alpha: max(c.a, 0.3)))
      case .bars(let b):
        setColor(b.color)
        cairo_rectangle(cr, hx, cy - size * 0.35, handle, size * 0.7)
        cairo_fill(cr)
      default: break
      }
      text(a.label ?? "", x: hx + handle + 6, y: cy, size: size, h: .left, v: .center)
    }
  }

  func roundedRect(_ r: Rect, radius: Double) {
    cairo_new_sub_path(cr)
    cairo_arc(cr, r.maxX - radius, r.y + radius, radius, -.pi / 2, 0)
    cairo_arc(cr, r.maxX - radius, r.maxY - radius, radius, 0, .pi / 2)
    cairo_arc(cr, r.x + radius, r.maxY - radius, radius, .pi / 2, .pi)
    cairo_arc(cr, r.x + radius, r.y + radius, radius, .pi, 3 * .pi / 2)
    cairo_close_path(cr)
  }

  /// The legend's box at `location` inside `box`; for `.best`, the placement covering the fewest
  /// data points.
  static func legendRect(_ location: LegendLocation, width w: Double, height h: Double, in box: Rect, avoiding ax: Axes, _ g: AxesGeometry) -> Rect {
    let m = 5.0
    func at(_ l: LegendLocation) -> Rect {
      let left = box.x + m
      let right = box.maxX - m - w
      let midX = box.x + (box.width - w) / 2
      let top = box.y + m
      let bottom = box.maxY - m - h
      let midY = box.y + (box.height - h) / 2
      switch l {
      case .best, .upperRight: return Rect(x: right, y: top, width: w, height: h)
      case .upperLeft: return Rect(x: left, y: top, width: w, height: h)
      case .lowerLeft: return Rect(x: left, y: bottom, width: w, height: h)
      case .lowerRight: return Rect(x: right, y: bottom, width: w, height: h)
      case .right, .centerRight: return Rect(x: right, y: midY, width: w, height: h)
      case .centerLeft: return Rect(x: left, y: midY, width: w, height: h)
      case .lowerCenter: return Rect(x: midX, y: bottom, width: w, height: h)
      case .upperCenter: return Rect(x: midX, y: top, width: w, height: h)
      case .center: return Rect(x: midX, y: midY, width: w, height: h)
      }
    }
    guard location == .best else { return at(location) }
    let points = LegendPlacement.samplePoints(ax).map { (g.px($0.0), g.py($0.1)) }
    return LegendPlacement.best(candidates: LegendPlacement.order.map(at), points: points)
  }
}

/// Choosing where a `loc="best"` legend goes.
enum LegendPlacement {
  /// The candidate places in matplotlib's order of preference.
  static let order: [LegendLocation] = [
    .upperRight, .upperLeft, .lowerLeft, .lowerRight, .centerRight, .centerLeft, .lowerCenter, .upperCenter, .center,
  ]

  /// Up to about 4000 data points of the axes, evenly sampled; lines are sampled along their
  /// segments so that a line crossing a box counts.
  static func samplePoints(_ ax: Axes) -> [(Double, Double)] {
    var out: [(Double, Double)] = []
    for a in ax.artists {
      switch a {
      case .line(let l):
        let n = min(l.xs.count, l.ys.count)
        let step = max(1, n / 1000)
        var k = 0
        while k < n {
          out.append((l.xs[k], l.ys[k]))
          if k + step < n {
            for f in [0.25, 0.5, 0.75] {
              out.append((l.xs[k] + (l.xs[k + step] - l.xs[k]) * f, l.ys[k] + (l.ys[k + step] - l.ys[k]) * f))
            }
          }
          k += step
        }
      case .scatter(let s):
        let step = max(1, s.xs.count / 2000)
        for k in stride(from: 0, to: s.xs.count, by: step) { out.append((s.xs[k], s.ys[k])) }
      case .bars(let b):
        for k in b.lefts.indices { out.append((b.lefts[k] + b.widths[k] / 2, b.bottoms[k] + b.heights[k])) }
      default: continue
      }
    }
    return out
  }

  /// The first candidate with the fewest points inside.
  static func best(candidates: [Rect], points: [(Double, Double)]) -> Rect {
    var best = candidates[0]
    var fewest = Int.max
    for c in candidates {
      let n = points.reduce(0) { $0 + ($1.0 >= c.x && $1.0 <= c.maxX && $1.1 >= c.y && $1.1 <= c.maxY ? 1 : 0) }
      if n < fewest {
        fewest = n
        best = c
      }
    }
    return best
  }
}

/// The pixels of a PNG file, decoded by Cairo (for checking what was drawn).
public struct PNGPixels: Sendable {
  public var width: Int
  public var height: Int
  /// Colors row by row from the top, alpha un-premultiplied.
  public var pixels: [RGBA]

  /// Decodes `bytes`; nil when they are not a PNG Cairo can read.
  public init?(_ bytes: [UInt8]) {
    final class Source {
      var bytes: [UInt8]
      var offset = 0
      init(_ b: [UInt8]) { bytes = b }
    }
    let source = Source(bytes)
    let read: cairo_read_func_t = { closure, data, length in
      guard let closure, let data else { return CAIRO_STATUS_READ_ERROR }
      let s = Unmanaged<Source>.fromOpaque(closure).takeUnretainedValue()
      let n = Int(length)
      guard s.offset + n <= s.bytes.count else { return CAIRO_STATUS_READ_ERROR }
      for k in 0..<n { data[k] = s.bytes[s.offset + k] }
      s.offset += n
      return CAIRO_STATUS_SUCCESS
    }
    let surface = withExtendedLifetime(source) {
      cairo_image_surface_create_from_png_stream(read, Unmanaged.passUnretained(source).toOpaque())
    }
    defer { cairo_surface_destroy(surface) }
    guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let data = cairo_image_surface_get_data(surface) else {
      return nil
    }
    width = Int(cairo_image_surface_get_width(surface))
    height = Int(cairo_image_surface_get_height(surface))
    let stride = Int(cairo_image_surface_get_stride(surface))
    var out: [RGBA] = []
    out.reserveCapacity(width * height)
    for r in 0..<height {
      let row = (data + r * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
      for c in 0..<width {
        let p = row[c]
        let a = Double(p >> 24) / 255
        func channel(_ shift: UInt32) -> Double { a > 0 ? Double((p >> shift) & 0xFF) / 255 / a : 0 }
        out.append(RGBA(channel(16), channel(8), channel(0), a))
      }
    }
    pixels = out
  }

  /// The color at column x, row y.
  public subscript(x: Int, y: Int) -> RGBA { pixels[y * width + x] }

  /// How many pixels are within `tolerance` (per channel) of `color`.
  public func count(near color: RGBA, tolerance: Double = 0.1) -> Int {
    pixels.reduce(0) {
      $0 + (abs($1.r - color.r) <= tolerance && abs($1.g - color.g) <= tolerance && abs($1.b - color.b) <= tolerance && $1.a > 0.5 ? 1 : 0)
    }
  }
}
