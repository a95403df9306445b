import Foundation

/// Draws a figure as text for a terminal: each character cell holds a 2 x 4 grid of Unicode
/// braille dots (U+2800...U+28FF), so a 80 x 24 window gives a 160 x 96 dot canvas per figure.
///
/// Every axes gets its box of the window (the figure's subplot grid), with its title above,
/// y tick labels on the left, x tick labels below, a frame, and a legend in the corner its data
/// leaves most empty. Lines are drawn dot by dot between points, scatters as dots, bars and
/// images filled (images as shaded blocks, or colored blocks with `color`). With `color`, each
/// cell takes the 24-bit ANSI color of the last artist drawn in it.
public struct BrailleRenderer: Sendable {
  /// The size of the text, in character cells.
  public var columns: Int
  public var rows: Int
  /// Whether to emit ANSI 24-bit color escapes.
  public var color: Bool

  public init(columns: Int, rows: Int, color: Bool) {
    self.columns = max(20, columns)
    self.rows = max(8, rows)
    self.color = color
  }

  /// The figure as lines of text, each ending in a newline.
  public func render(_ figure: Figure) -> String {
    var canvas = TextCanvas(columns: columns, rows: rows)
    var top = 0
    if let s = figure.suptitle {
      canvas.put(centred(s.replacingOccurrences(of: "\n", with: " "), in: columns), row: 0, column: 0)
      top = 1
    }
    for ax in figure.axes {
      let c = ax.cell
      let cw = Double(columns) / Double(max(1, c.columns))
      let ch = Double(rows - top) / Double(max(1, c.rows))
      let x0 = Int((Double(c.column) * cw).rounded())
      let x1 = Int((Double(c.column + c.columnSpan) * cw).rounded())
      let y0 = top + Int((Double(c.row) * ch).rounded())
      let y1 = top + Int((Double(c.row + c.rowSpan) * ch).rounded())
      draw(ax, on: &canvas, left: x0, top: y0, width: x1 - x0, height: y1 - y0)
    }
    return canvas.text(color: color)
  }

  func centred(_ s: String, in width: Int) -> String {
    let clipped = String(s.prefix(width))
    return String(repeating: " ", count: max(0, (width - clipped.count) / 2)) + clipped
  }

  /// Draws one axes in the cell rectangle (left, top, width, height).
  func draw(_ ax: Axes, on canvas: inout TextCanvas, left: Int, top: Int, width: Int, height: Int) {
    var row = top
    if let t = ax.title {
      for line in t.split(separator: "\n").prefix(2) {
        canvas.put(centred(String(line), in: width), row: row, column: left)
        row += 1
      }
    }
    var (xr, yr) = ax.autoLimits()
    let bottomRows = ax.axisVisible ? (ax.xlabel == nil ? 2 : 3) : 0
    let plotRows = max(2, top + height - row - bottomRows)
    // y tick labels decide the left margin.
    var yt: [Tick] = []
    var margin = 0
    if ax.axisVisible {
      yt = ticks(yr, ax.yscale, target: max(2, min(8, plotRows / 3)), explicit: ax.yticks)
      margin = (yt.map { $0.plainLabel.count }.max() ?? 1) + 1
      if ax.ylabel != nil { margin += 2 }
    }
    let colorbarColumns = ax.colorbar != nil ? 8 : 0
    let plotLeft = left + margin + (ax.axisVisible ? 1 : 0)
    let plotColumns = max(4, width - margin - (ax.axisVisible ? 1 : 0) - 1 - colorbarColumns)
    let dotsX = plotColumns * 2
    let dotsY = plotRows * 4
    if ax.aspect != .auto && ax.xscale == .linear && ax.yscale == .linear {
      // Braille dots are about square: equal units per dot on both axes.
      let sx = abs(xr.1 - xr.0)
      let sy = abs(yr.1 - yr.0)
      if sx > 0 && sy > 0 {
        let px = sx / Double(dotsX)
        let py = sy / Double(dotsY)
        if px > py {
          let grow = (px * Double(dotsY) - sy) / 2 * (yr.1 >= yr.0 ? 1 : -1)
          yr = (yr.0 - grow, yr.1 + grow)
        } else {
          let grow = (py * Double(dotsX) - sx) / 2 * (xr.1 >= xr.0 ? 1 : -1)
          xr = (xr.0 - grow, xr.1 + grow)
        }
      }
    }
    if ax.axisVisible { yt = ticks(yr, ax.yscale, target: max(2, min(8, plotRows / 3)), explicit: ax.yticks) }
    let g = AxesGeometry(
      box: Rect(x: 0, y: 0, width: Double(dotsX - 1), height: Double(dotsY - 1)), xRange: xr, yRange: yr,
      xscale: ax.xscale, yscale: ax.yscale, xticks: [], yticks: [])
    var dots = DotGrid(columns: plotColumns, rows: plotRows)
    for a in ax.artists { plot(a, g, &dots) }
    dots.blit(to: &canvas, column: plotLeft, row: row)

    if ax.axisVisible {
      // Frame: a line on the left and one at the bottom, with tick marks.
      for r in row..<(row + plotRows) { canvas.put("│", row: r, column: plotLeft - 1) }
      canvas.put("└" + String(repeating: "─", count: plotColumns), row: row + plotRows, column: plotLeft - 1)
      for t in yt {
        let y = g.py(t.value)
        guard y.isFinite, y >= -0.5, y <= Double(dotsY) - 0.5 else { continue }
        let r = row + min(plotRows - 1, Int(y / 4))
        canvas.put("┤", row: r, column: plotLeft - 1)
        let label = t.plainLabel
        canvas.put(label, row: r, column: plotLeft - 1 - label.count)
      }
      let xt = ticks(xr, ax.xscale, target: max(2, min(9, plotColumns / 12)), explicit: ax.xticks)
      var nextFree = 0
      for t in xt {
        let x = g.px(t.value)
        guard x.isFinite, x >= -0.5, x <= Double(dotsX) - 0.5 else { continue }
        let c = plotLeft + min(plotColumns - 1, Int(x / 2))
        canvas.put("┬", row: row + plotRows, column: c)
        let label = t.plainLabel
        let start = max(left, min(c - label.count / 2, left + width - label.count))
        guard start >= nextFree else { continue }
        canvas.put(label, row: row + plotRows + 1, column: start)
        nextFree = start + label.count + 1
      }
      if let xl = ax.xlabel {
        canvas.put(centred(xl.replacingOccurrences(of: "\n", with: " "), in: plotColumns), row: row + plotRows + 2, column: plotLeft)
      }
      if let yl = ax.ylabel {
        // Written downwards, one character per row, centred on the plot.
        let text = Array(yl.replacingOccurrences(of: "\n", with: " ").prefix(plotRows))
        let start = row + (plotRows - text.count) / 2
        for (k, ch) in text.enumerated() { canvas.put(String(ch), row: start + k, column: left) }
      }
    }
    if let m = ax.colorbar { colorbar(m, on: &canvas, column: plotLeft + plotColumns + 1, row: row, height: plotRows) }
    if ax.legend != nil { legend(ax, dots: dots, on: &canvas, plotLeft: plotLeft, top: row, columns: plotColumns, rows: plotRows) }
  }

  func ticks(_ range: (Double, Double), _ scale: AxisScale, target: Int, explicit: [(Double, String)]?) -> [Tick] {
    if let explicit { return explicit.map { Tick(value: $0.0, label: $0.1) } }
    return scale == .log ? Ticks.log(range.0, range.1, target: target) : Ticks.linear(range.0, range.1, target: target)
  }

  /// Puts an artist's dots on the grid.
  func plot(_ a: Artist, _ g: AxesGeometry, _ dots: inout DotGrid) {
    switch a {
    case .line(let l):
      var previous: (Double, Double)?
      for (x, y) in zip(l.xs, l.ys) {
        let p = (g.px(x), g.py(y))
        guard p.0.isFinite && p.1.isFinite else {
          previous = nil
          continue
        }
        if l.style != .none, let q = previous {
          dots.line(from: q, to: p, color: l.color, pattern: l.style)
        } else {
          dots.set(p.0, p.1, color: l.color)
        }
        if l.marker != .none { dots.set(p.0, p.1, color: l.color) }
        previous = p
      }
    case .scatter(let s):
      for k in s.xs.indices {
        let c = s.color(k)
        guard c.a > 0 else { continue }
        let x = g.px(s.xs[k])
        let y = g.py(s.ys[k])
        dots.set(x, y, color: c)
        // Big markers (s >= 60 pt²) as a 2 x 2 dot block.
        if s.size(k) >= 60 {
          dots.set(x + 1, y, color: c)
          dots.set(x, y + 1, color: c)
          dots.set(x + 1, y + 1, color: c)
        }
      }
    case .bars(let b):
      for k in b.lefts.indices {
        guard let r = g.barRect(b, k) else { continue }
        dots.fill(x0: r.x, x1: r.x + r.width - 1, y0: r.y, y1: r.y + r.height, color: b.color)
      }
    case .image(let i):
      // Each cell takes the image's color at its centre.
      for r in 0..<dots.rows {
        for c in 0..<dots.columns {
          let dx = Double(c * 2) + 1
          let dy = Double(r * 4) + 2
          let fx = (dx - g.px(i.x0)) / (g.px(i.x1) - g.px(i.x0))
          let fy = (dy - g.py(i.yFirstRow)) / (g.py(i.yLastRow) - g.py(i.yFirstRow))
          guard fx >= 0, fx < 1, fy >= 0, fy < 1 else { continue }
          let p = i.pixels[min(i.rows - 1, Int(fy * Double(i.rows))) * i.columns + min(i.columns - 1, Int(fx * Double(i.columns)))]
          if p.a > 0.05 { dots.background[r * dots.columns + c] = p }
        }
      }
    case .text:
      break
    }
  }

  func colorbar(_ m: ColorMapping, on canvas: inout TextCanvas, column: Int, row: Int, height: Int) {
    for r in 0..<height {
      let t = 1 - (Double(r) + 0.5) / Double(height)
      let c = m.colormap.color(at: t)
      canvas.put("█", row: row + r, column: column, color: c, shadeWithoutColor: c)
    }
    canvas.put(Ticks.format(m.vmax, step: abs(m.vmax - m.vmin) / 10), row: row, column: column + 2)
    canvas.put(Ticks.format(m.vmin, step: abs(m.vmax - m.vmin) / 10), row: row + height - 1, column: column + 2)
  }

  /// The legend: one line per labelled artist (`── label`, or `•• label` for points), in the
  /// corner of the plot with the fewest dots.
  func legend(_ ax: Axes, dots: DotGrid, on canvas: inout TextCanvas, plotLeft: Int, top: Int, columns: Int, rows: Int) {
    let entries = ax.labelled
    guard !entries.isEmpty else { return }
    let lines = entries.prefix(max(1, rows - 1)).map { a -> (String, RGBA) in
      let label = a.label ?? ""
      switch a {
      case .line(let l):
        let sample = l.style == .dashed ? "╌╌" : l.style == .dotted ? "┈┈" : l.style == .none ? "••" : "──"
        return (sample + " " + label, l.color)
      case .scatter(let s): return ("•• " + label, s.mapping.map { $0.colormap.color(at: 0.5) } ?? s.color(0))
      case .bars(let b): return ("██ " + label, b.color)
      default: return (label, .black)
      }
    }
    let w = min(columns, (lines.map { $0.0.count }.max() ?? 0) + 2)
    let h = lines.count
    let corners = [(columns - w, 0), (0, 0), (0, rows - h), (columns - w, rows - h)]
    var best = corners[0]
    var fewest = Int.max
    for (c, r) in corners {
      var n = 0
      for rr in r..<(r + h) { for cc in c..<(c + w) { n += dots.occupied(column: cc, row: rr) ? 1 : 0 } }
      if n < fewest {
        fewest = n
        best = (c, r)
      }
    }
    let location = ax.legend ?? .best
    switch location {
    case .upperRight: best = corners[0]
    case .upperLeft: best = corners[1]
    case .lowerLeft: best = corners[2]
    case .lowerRight: best = corners[3]
    default: break
    }
    for (k, (text, c)) in lines.enumerated() {
      let padded = " " + String(text.prefix(w - 2)) + String(repeating: " ", count: max(0, w - 1 - min(text.count, w - 2)))
      let sample = String(padded.prefix(3))
      canvas.put(sample, row: top + best.1 + k, column: plotLeft + best.0, color: c)
      canvas.put(String(padded.dropFirst(3)), row: top + best.1 + k, column: plotLeft + best.0 + 3)
    }
  }
}

/// Dots of a braille canvas: `columns` x `rows` cells of 2 x 4 dots, each cell with the color of
/// the last dot set in it and an optional background (images).
struct DotGrid {
  let columns: Int
  let rows: Int
  var bits: [UInt8]
  var colors: [RGBA?]
  var background: [RGBA?]

  init(columns: Int, rows: Int) {
    self.columns = columns
    self.rows = rows
    bits = Array(repeating: 0, count: columns * rows)
    colors = Array(repeating: nil, count: columns * rows)
    background = Array(repeating: nil, count: columns * rows)
  }

  /// The bit of dot (dx, dy) inside a cell, in Unicode's braille numbering.
  static let bit: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

  mutating func set(_ x: Double, _ y: Double, color: RGBA) {
    guard x.isFinite, y.isFinite else { return }
    let ix = Int(x.rounded())
    let iy = Int(y.rounded())
    guard ix >= 0, iy >= 0, ix < columns * 2, iy < rows * 4 else { return }
    let cell = (iy / 4) * columns + ix / 2
    bits[cell] |= Self.bit[iy % 4][ix % 2]
    colors[cell] = color
  }

  mutating func line(from a: (Double, Double), to b: (Double, Double), color: RGBA, pattern: LineStyle) {
    let dx = b.0 - a.0
    let dy = b.1 - a.1
    // Clip the run to a sane number of steps (a point far outside the limits).
    let steps = min(4000, Int(max(abs(dx), abs(dy)).rounded(.up)))
    for k in 0...max(0, steps) {
      if pattern == .dashed && (k / 3) % 2 == 1 { continue }
      if pattern == .dotted && k % 2 == 1 { continue }
      if pattern == .dashDot && [3, 5].contains(k % 6) { continue }
      let t = steps == 0 ? 0 : Double(k) / Double(steps)
      set(a.0 + dx * t, a.1 + dy * t, color: color)
    }
  }

  mutating func fill(x0: Double, x1: Double, y0: Double, y1: Double, color: RGBA) {
    guard x0.isFinite, x1.isFinite, y0.isFinite, y1.isFinite else { return }
    let ya = max(0, Int(y0.rounded()))
    let yb = min(rows * 4 - 1, Int(y1.rounded()))
    let xa = max(0, Int(x0.rounded()))
    let xb = min(columns * 2 - 1, max(xa, Int(x1.rounded())))
    guard ya <= yb, xa <= xb else { return }
    for y in ya...yb { for x in xa...xb { set(Double(x), Double(y), color: color) } }
  }

  func occupied(column: Int, row: Int) -> Bool {
    guard column >= 0, row >= 0, column < columns, row < rows else { return false }
    return bits[row * columns + column] != 0
  }

  func blit(to canvas: inout TextCanvas, column: Int, row: Int) {
    for r in 0..<rows {
      for c in 0..<columns {
        let k = r * columns + c
        if bits[k] != 0 {
          canvas.put(String(UnicodeScalar(0x2800 + UInt32(bits[k]))!), row: row + r, column: column + c, color: colors[k], background: background[k])
        } else if let bg = background[k] {
          canvas.put("█", row: row + r, column: column + c, color: bg, shadeWithoutColor: bg)
        }
      }
    }
  }
}

/// A grid of characters with optional colors, written out as lines.
struct TextCanvas {
  let columns: Int
  let rows: Int
  var cells: [Character]
  var foreground: [RGBA?]
  var background: [RGBA?]

  init(columns: Int, rows: Int) {
    self.columns = columns
    self.rows = rows
    cells = Array(repeating: " ", count: columns * rows)
    foreground = Array(repeating: nil, count: columns * rows)
    background = Array(repeating: nil, count: columns * rows)
  }

  /// Writes `text` from (row, column), clipped to the canvas. `shadeWithoutColor`: a block drawn
  /// for an image, shown as a shade character (by luminance) when colors are off.
  mutating func put(_ text: String, row: Int, column: Int, color: RGBA? = nil, background bg: RGBA? = nil, shadeWithoutColor: RGBA? = nil) {
    guard row >= 0, row < rows else { return }
    var c = column
    for ch in text {
      if c >= 0 && c < columns {
        let k = row * columns + c
        cells[k] = ch
        foreground[k] = color
        background[k] = bg
        if let shade = shadeWithoutColor {
          let lum = 0.2126 * shade.r + 0.7152 * shade.g + 0.0722 * shade.b
          shades[k] = lum > 0.8 ? "░" : lum > 0.55 ? "▒" : lum > 0.3 ? "▓" : "█"
        }
      }
      c += 1
    }
  }

  var shades: [Int: Character] = [:]

  func text(color: Bool) -> String {
    var out = ""
    for r in 0..<rows {
      var line = ""
      var current: (RGBA?, RGBA?) = (nil, nil)
      for c in 0..<columns {
        let k = r * columns + c
        if color {
          let want = (foreground[k], background[k])
          if want.0 != current.0 || want.1 != current.1 {
            line += "\u{1B}[0m"
            if let f = want.0 { line += "\u{1B}[38;2;\(RGBA.byte(f.r));\(RGBA.byte(f.g));\(RGBA.byte(f.b))m" }
            if let b = want.1 { line += "\u{1B}[48;2;\(RGBA.byte(b.r));\(RGBA.byte(b.g));\(RGBA.byte(b.b))m" }
            current = want
          }
          line.append(cells[k])
        } else {
          line.append(shades[k] ?? cells[k])
        }
      }
      if color && (current.0 != nil || current.1 != nil) { line += "\u{1B}[0m" }
      while line.hasSuffix(" ") { line.removeLast() }
      out += line + "\n"
    }
    return out
  }
}
