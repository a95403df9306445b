import Foundation

/// A rectangle in page units, y growing downwards.
public struct Rect: Sendable, Equatable {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double

  public init(x: Double, y: Double, width: Double, height: Double) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }

  public var maxX: Double { x + width }
  public var maxY: Double { y + height }
}

/// Measures text for the layout: its width at a font size (both in page units).
public protocol TextMeasurer {
  func width(_ text: String, size: Double) -> Double
}

/// A measurer that assumes every character is `0.6` em wide (for tests and the terminal).
public struct ApproximateMeasurer: TextMeasurer {
  public init() {}
  public func width(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }
}

/// Where one axes lands on the page: its box, its final limits and its ticks.
public struct AxesGeometry: Sendable {
  /// The plotting area.
  public var box: Rect
  /// Limits, left to right and bottom to top (either may be reversed).
  public var xRange: (Double, Double)
  public var yRange: (Double, Double)
  public var xscale: AxisScale
  public var yscale: AxisScale
  public var xticks: [Tick]
  public var yticks: [Tick]
  /// The colorbar's box and ticks, when the axes has one.
  public var colorbarBox: Rect?
  public var colorbarTicks: [Tick] = []

  static func transform(_ v: Double, _ scale: AxisScale) -> Double {
    scale == .log ? (v > 0 ? log10(v) : -.infinity) : v
  }

  /// The page x of data x.
  public func px(_ x: Double) -> Double {
    let a = Self.transform(xRange.0, xscale)
    let b = Self.transform(xRange.1, xscale)
    return box.x + (Self.transform(x, xscale) - a) / (b - a) * box.width
  }

  /// The page y of data y.
  public func py(_ y: Double) -> Double {
    let a = Self.transform(yRange.0, yscale)
    let b = Self.transform(yRange.1, yscale)
    return box.maxY - (Self.transform(y, yscale) - a) / (b - a) * box.height
  }

  /// Bar `k` of `bars` on the page, corners in order; nil when an edge does not map (a log axis
  /// and a non-positive value), except a bottom that does not map (0 on a log y axis), which is
  /// the axes' bottom edge.
  public func barRect(_ bars: BarSeries, _ k: Int) -> Rect? {
    let xa = px(bars.lefts[k])
    let xb = px(bars.lefts[k] + bars.widths[k])
    var ya = py(bars.bottoms[k])
    let yb = py(bars.bottoms[k] + bars.heights[k])
    if !ya.isFinite { ya = box.maxY }
    guard xa.isFinite, xb.isFinite, yb.isFinite else { return nil }
    return Rect(x: min(xa, xb), y: min(ya, yb), width: abs(xb - xa), height: abs(yb - ya))
  }
}

extension Axes {
  /// The data's bounds on each axis (finite values only; positive only on a log axis), and whether
  /// each bound is sticky (an image's edge, a bar's baseline: no margin added beyond it).
  public func dataBounds() -> (x: (Double, Double)?, y: (Double, Double)?, sticky: (x: Bool, yLow: Bool, yHigh: Bool)) {
    var x: (Double, Double)?
    var y: (Double, Double)?
    var stickyX = false
    var stickyLow = false
    var stickyHigh = false
    func addX(_ v: Double) {
      guard v.isFinite, xscale == .linear || v > 0 else { return }
      x = x.map { (min($0.0, v), max($0.1, v)) } ?? (v, v)
    }
    func addY(_ v: Double) {
      guard v.isFinite, yscale == .linear || v > 0 else { return }
      y = y.map { (min($0.0, v), max($0.1, v)) } ?? (v, v)
    }
    for a in artists {
      switch a {
      case .line(let l):
        for (u, v) in zip(l.xs, l.ys) where u.isFinite && v.isFinite {
          addX(u)
          addY(v)
        }
      case .scatter(let s):
        for (u, v) in zip(s.xs, s.ys) where u.isFinite && v.isFinite {
          addX(u)
          addY(v)
        }
      case .bars(let b):
        for k in b.lefts.indices {
          addX(b.lefts[k])
          addX(b.lefts[k] + b.widths[k])
          addY(b.bottoms[k])
          addY(b.bottoms[k] + b.heights[k])
          if b.bottoms[k] == 0 { stickyLow = true }
        }
      case .image(let i):
        addX(i.x0)
        addX(i.x1)
        addY(i.yFirstRow)
        addY(i.yLastRow)
        stickyX = true
        stickyLow = true
        stickyHigh = true
      case .text(let t):
        addX(t.x)
        addY(t.y)
      }
    }
    return (x, y, (stickyX, stickyLow, stickyHigh))
  }

  /// The limits to draw: the user's, or the data's with matplotlib's 5% margins.
  public func autoLimits() -> (x: (Double, Double), y: (Double, Double)) {
    let (bx, by, sticky) = dataBounds()
    let x = xlim ?? Self.padded(bx, scale: xscale, stickyLow: sticky.x, stickyHigh: sticky.x)
    let y = ylim ?? Self.padded(by, scale: yscale, stickyLow: sticky.yLow, stickyHigh: sticky.yHigh)
    return (x, y)
  }

  static func padded(_ bounds: (Double, Double)?, scale: AxisScale, stickyLow: Bool, stickyHigh: Bool) -> (Double, Double) {
    guard var (a, b) = bounds else { return scale == .log ? (1, 10) : (0, 1) }
    if scale == .log {
      a = log10(a)
      b = log10(b)
    }
    if a == b {
      let d = a == 0 ? 1 : abs(a) * 0.05 + (scale == .log ? 0.5 : 0)
      a -= d
      b += d
    } else {
      let m = (b - a) * 0.05
      if !stickyLow { a -= m }
      if !stickyHigh { b += m }
    }
    return scale == .log ? (pow(10, a), pow(10, b)) : (a, b)
  }
}

/// Places the axes of a figure on a page and fixes their limits and ticks.
public struct FigureLayout {
  public var width: Double
  public var height: Double
  /// Font sizes (page units): tick labels, axis labels, titles.
  public var tickSize = 10.0
  public var labelSize = 10.0
  public var titleSize = 12.0
  /// Length of tick marks and the gap to their labels.
  public var tickLength = 3.5
  public var tickPad = 3.5
  /// Page units per tick wanted along x and y.
  public var xTickSpacing = 70.0
  public var yTickSpacing = 38.0
  /// Width of a colorbar.
  public var colorbarWidth = 12.0
  /// The height of a line of text, as a multiple of its size.
  public var lineHeight = 1.25
  public var padding = 6.0

  public init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  /// The layout of `figure` on its page in points.
  public static func points(for figure: Figure) -> FigureLayout {
    let (w, h) = figure.sizeInPoints
    return FigureLayout(width: w, height: h)
  }

  /// Every axes' geometry, in the order of `figure.axes`.
  public func place(_ figure: Figure, measure: TextMeasurer) -> [AxesGeometry] {
    var top = padding
    if let s = figure.suptitle { top += Double(lines(s)) * titleSize * lineHeight + 2 }
    let area = Rect(x: padding, y: top, width: width - 2 * padding, height: height - top - padding)
    return figure.axes.map { place($0, in: cellRect($0.cell, area), measure: measure) }
  }

  func lines(_ s: String) -> Int { s.split(separator: "\n", omittingEmptySubsequences: false).count }

  func cellRect(_ c: GridCell, _ area: Rect) -> Rect {
    let w = area.width / Double(max(1, c.columns))
    let h = area.height / Double(max(1, c.rows))
    return Rect(
      x: area.x + Double(c.column) * w, y: area.y + Double(c.row) * h, width: w * Double(c.columnSpan),
      height: h * Double(c.rowSpan))
  }

  func ticks(_ range: (Double, Double), _ scale: AxisScale, length: Double, spacing: Double, explicit: [(Double, String)]?) -> [Tick] {
    if let explicit { return explicit.map { Tick(value: $0.0, label: $0.1) } }
    let target = min(9, max(2, Int(length / spacing)))
    return scale == .log ? Ticks.log(range.0, range.1, target: target) : Ticks.linear(range.0, range.1, target: target)
  }

  func tickWidth(_ t: Tick, _ measure: TextMeasurer) -> Double {
    if let e = t.exponent { return measure.width(t.label, size: tickSize) + measure.width(String(e), size: tickSize * 0.7) }
    return measure.width(t.label, size: tickSize)
  }

  func place(_ ax: Axes, in cell: Rect, measure: TextMeasurer) -> AxesGeometry {
    var (xr, yr) = ax.autoLimits()
    // First guess of the ticks, to size the margins their labels need.
    var yt = ticks(yr, ax.yscale, length: cell.height * 0.7, spacing: yTickSpacing, explicit: ax.yticks)
    var left = 4.0
    var bottom = 4.0
    var right = 8.0
    var top = 4.0
    if let t = ax.title { top = Double(lines(t)) * titleSize * lineHeight + 6 }
    if ax.axisVisible {
      let widest = yt.map { tickWidth($0, measure) }.max() ?? 0
      left = tickLength + tickPad + widest + 4
      if ax.ylabel != nil { left += labelSize * lineHeight + 2 }
      bottom = tickLength + tickPad + tickSize * lineHeight + 2
      if let xl = ax.xlabel { bottom += Double(lines(xl)) * labelSize * lineHeight + 2 }
      if ax.xscale == .log { bottom += tickSize * 0.3 }
      // Room for the last x tick label to overhang the box.
      right = max(right, 0.5 * measure.width(Ticks.format(max(abs(xr.0), abs(xr.1)), step: 1), size: tickSize))
    }
    var colorbarBox: Rect?
    var colorbarTicks: [Tick] = []
    if let m = ax.colorbar {
      let barHeight = cell.height - top - bottom
      colorbarTicks = m.levels.map { $0.map { Tick(value: $0, label: Ticks.format($0, step: Self.step(of: m.levels ?? []))) } }
        ?? Ticks.linear(m.vmin, m.vmax, target: max(2, Int(barHeight / yTickSpacing)))
      let widest = colorbarTicks.map { measure.width($0.label, size: tickSize) }.max() ?? 0
      var need = 10 + colorbarWidth + tickLength + tickPad + widest + 4
      if ax.colorbarLabel != nil { need += labelSize * lineHeight + 2 }
      right += need
      colorbarBox = Rect(x: cell.maxX - need + 10, y: cell.y + top, width: colorbarWidth, height: max(1, barHeight))
    }
    var box = Rect(
      x: cell.x + left, y: cell.y + top, width: max(1, cell.width - left - right), height: max(1, cell.height - top - bottom))
    // Equal aspect: grow the limits (axis("equal")) or shrink the box (images).
    if ax.aspect != .auto && ax.xscale == .linear && ax.yscale == .linear {
      let sx = abs(xr.1 - xr.0)
      let sy = abs(yr.1 - yr.0)
      if sx > 0 && sy > 0 {
        let perPointX = sx / box.width
        let perPointY = sy / box.height
        if ax.aspect == .equalLimits {
          if perPointX > perPointY {
            let grow = (perPointX * box.height - sy) / 2 * (yr.1 >= yr.0 ? 1 : -1)
            if ax.ylim == nil || ax.xlim != nil { yr = (yr.0 - grow, yr.1 + grow) }
          } else {
            let grow = (perPointY * box.width - sx) / 2 * (xr.1 >= xr.0 ? 1 : -1)
            if ax.xlim == nil || ax.ylim != nil { xr = (xr.0 - grow, xr.1 + grow) }
          }
        } else {
          if perPointX > perPointY {
            let h = sy / perPointX
            box.y += (box.height - h) / 2
            box.height = h
          } else {
            let w = sx / perPointY
            box.x += (box.width - w) / 2
            box.width = w
          }
        }
      }
    }
    if var cb = colorbarBox {
      cb.y = box.y
      cb.height = box.height
      colorbarBox = cb
    }
    yt = ticks(yr, ax.yscale, length: box.height, spacing: yTickSpacing, explicit: ax.yticks)
    let xt = ticks(xr, ax.xscale, length: box.width, spacing: xTickSpacing, explicit: ax.xticks)
    var g = AxesGeometry(box: box, xRange: xr, yRange: yr, xscale: ax.xscale, yscale: ax.yscale, xticks: xt, yticks: yt)
    g.colorbarBox = colorbarBox
    g.colorbarTicks = colorbarTicks
    return g
  }

  public static func step(of levels: [Double]) -> Double {
    guard levels.count >= 2 else { return 1 }
    return zip(levels.dropFirst(), levels).map { abs($0 - $1) }.filter { $0 > 0 }.min() ?? 1
  }
}
