import Foundation

/// A figure: a canvas of `width` x `height` inches holding axes in a grid, as matplotlib's.
///
/// The model is plain data (a value type), so a session can roll a figure back with the rest of
/// its state when a statement fails. Renderers read it: `CairoRenderer` writes SVG, PNG and PDF,
/// `BrailleRenderer` draws it as text in a terminal.
public struct Figure: Sendable, Equatable {
  /// The number `plt.figure(n)` names it by (1, 2, ...).
  public var number: Int
  /// Size in inches (matplotlib's default 6.4 x 4.8).
  public var width: Double = 6.4
  public var height: Double = 4.8
  /// Pixels per inch of PNG output.
  public var dpi: Double = 100
  /// The axes, in the order they were made.
  public var axes: [Axes] = []
  /// The index in `axes` of the current axes (`plt.gca()`).
  public var currentAxes: Int?
  /// A title over all the axes (`plt.suptitle`).
  public var suptitle: String?

  public init(number: Int, width: Double = 6.4, height: Double = 4.8, dpi: Double = 100) {
    self.number = number
    self.width = width
    self.height = height
    self.dpi = dpi
  }

  /// Width and height in points (1/72 inch), the unit the renderers draw in.
  public var sizeInPoints: (width: Double, height: Double) { (width * 72, height * 72) }

  /// Width and height of PNG output in pixels.
  public var sizeInPixels: (width: Int, height: Int) {
    (max(1, Int((width * dpi).rounded())), max(1, Int((height * dpi).rounded())))
  }

  /// matplotlib's one-line description: `<Figure size 640x480 with 1 Axes>`.
  public var summary: String {
    let (w, h) = sizeInPixels
    return "<Figure size \(w)x\(h) with \(axes.count) Axes>"
  }

  /// Whether anything has been drawn in it.
  public var isEmpty: Bool { axes.allSatisfy { $0.artists.isEmpty } && suptitle == nil }
}

/// Where an axes sits: cell `index` (0-based, row-major) of a `rows` x `columns` grid, spanning
/// `rowSpan` x `columnSpan` cells.
public struct GridCell: Sendable, Equatable {
  public var rows: Int
  public var columns: Int
  public var index: Int
  public var rowSpan = 1
  public var columnSpan = 1

  public init(rows: Int, columns: Int, index: Int) {
    self.rows = rows
    self.columns = columns
    self.index = index
  }

  public var row: Int { index / columns }
  public var column: Int { index % columns }
}

/// How an axis maps data to the page.
public enum AxisScale: String, Sendable, Equatable {
  case linear, log
}

/// How the two axes' units relate.
public enum Aspect: Sendable, Equatable {
  /// Each axis fills its side of the box.
  case auto
  /// One data unit is as long on both axes; the limits grow to fill the box (`axis("equal")`).
  case equalLimits
  /// One data unit is as long on both axes; the box shrinks (images, `set_aspect("equal")`).
  case equalBox
}

/// Where a legend goes (matplotlib's `loc=` names).
public enum LegendLocation: String, Sendable, Equatable, CaseIterable {
  case best, upperRight = "upper right", upperLeft = "upper left", lowerLeft = "lower left",
    lowerRight = "lower right", right, centerLeft = "center left", centerRight = "center right",
    lowerCenter = "lower center", upperCenter = "upper center", center
}

/// One plotting area: its data (artists), limits, scales, labels, legend and colorbar.
public struct Axes: Sendable, Equatable {
  public var cell: GridCell
  public var title: String?
  public var xlabel: String?
  public var ylabel: String?
  /// Limits set by the user (or by an image's extent); nil: from the data. May be reversed.
  public var xlim: (Double, Double)?
  public var ylim: (Double, Double)?
  public var xscale = AxisScale.linear
  public var yscale = AxisScale.linear
  public var showGrid = false
  /// The legend, when `legend()` was called.
  public var legend: LegendLocation?
  /// False after `axis("off")`: no frame, ticks or labels.
  public var axisVisible = true
  public var aspect = Aspect.auto
  /// What is drawn, in order.
  public var artists: [Artist] = []
  /// The colorbar beside the axes.
  public var colorbar: ColorMapping?
  public var colorbarLabel: String?
  /// The next color of the cycle for lines and scatters without a color.
  public var nextColor = 0
  /// Ticks set explicitly (`xticks([...])`): positions and labels.
  public var xticks: [(Double, String)]?
  public var yticks: [(Double, String)]?

  public init(cell: GridCell) { self.cell = cell }

  /// The next color of the cycle (and advances it).
  public mutating func takeCycleColor() -> RGBA {
    defer { nextColor += 1 }
    return RGBA.cycle[nextColor % RGBA.cycle.count]
  }

  /// The last artist that maps values to colors (what `colorbar()` shows).
  public var lastMapping: ColorMapping? {
    for a in artists.reversed() {
      switch a {
      case .image(let i): if let m = i.mapping { return m }
      case .scatter(let s): if let m = s.mapping { return m }
      default: continue
      }
    }
    return nil
  }

  /// Artists with a legend label.
  public var labelled: [Artist] { artists.filter { $0.label.map { !$0.isEmpty && !$0.hasPrefix("_") } ?? false } }

  public static func == (a: Axes, b: Axes) -> Bool {
    a.cell == b.cell && a.title == b.title && a.xlabel == b.xlabel && a.ylabel == b.ylabel
      && a.xlim.map { [$0.0, $0.1] } == b.xlim.map { [$0.0, $0.1] }
      && a.ylim.map { [$0.0, $0.1] } == b.ylim.map { [$0.0, $0.1] } && a.xscale == b.xscale && a.yscale == b.yscale
      && a.showGrid == b.showGrid && a.legend == b.legend && a.axisVisible == b.axisVisible && a.aspect == b.aspect
      && a.artists == b.artists && a.colorbar == b.colorbar
  }
}

/// How values become colors: a colormap and the values at its ends.
public struct ColorMapping: Sendable, Equatable {
  public var colormap: Colormap
  public var vmin: Double
  public var vmax: Double
  /// Level boundaries of a filled-contour image (colors are constant between them).
  public var levels: [Double]?

  public init(colormap: Colormap, vmin: Double, vmax: Double, levels: [Double]? = nil) {
    self.colormap = colormap
    self.vmin = vmin
    self.vmax = vmax
    self.levels = levels
  }

  /// The color of value `v`.
  public func color(_ v: Double) -> RGBA {
    if v.isNaN { return RGBA(0, 0, 0, 0) }
    if let levels, levels.count >= 2 {
      // The band v falls in, colored at the band's position among the bands.
      var band = 0
      while band < levels.count - 2 && v >= levels[band + 1] { band += 1 }
      return colormap.color(at: Double(band) / Double(max(1, levels.count - 2)))
    }
    if colormap.isListed && vmax > vmin && colormap.listedCount > 0 {
      return colormap.color(at: (v - vmin) / (vmax - vmin) * (1 - 1e-9))
    }
    return colormap.color(at: vmax > vmin ? (v - vmin) / (vmax - vmin) : 0.5)
  }
}

/// The dash pattern of a line.
public enum LineStyle: String, Sendable, Equatable {
  case solid = "-", dashed = "--", dotted = ":", dashDot = "-.", none = ""
}

/// The symbol drawn at each point.
public enum Marker: String, Sendable, Equatable {
  case none = "", point = ".", pixel = ",", circle = "o", square = "s", triangleUp = "^", triangleDown = "v",
    triangleLeft = "<", triangleRight = ">", diamond = "D", thinDiamond = "d", plus = "+", cross = "x", star = "*",
    pentagon = "p", hexagon = "h", hexagon2 = "H", vline = "|", hline = "_", plusFilled = "P", crossFilled = "X"
}

/// A polyline with optional markers (`plot`).
public struct LineSeries: Sendable, Equatable {
  public var xs: [Double]
  public var ys: [Double]
  public var color: RGBA
  /// Width in points.
  public var width = 1.5
  public var style = LineStyle.solid
  public var marker = Marker.none
  /// Marker size in points.
  public var markerSize = 6.0
  public var label: String?

  public init(xs: [Double], ys: [Double], color: RGBA) {
    self.xs = xs
    self.ys = ys
    self.color = color
  }
}

/// Points with colors and sizes (`scatter`).
public struct ScatterSeries: Sendable, Equatable {
  public var xs: [Double]
  public var ys: [Double]
  /// One color for all points, or one per point.
  public var colors: [RGBA]
  /// Areas in points squared (matplotlib's `s=`): one, or one per point.
  public var sizes: [Double] = [36]
  public var marker = Marker.circle
  public var label: String?
  /// When colors come from values (`c=values, cmap=...`).
  public var mapping: ColorMapping?

  public init(xs: [Double], ys: [Double], colors: [RGBA]) {
    self.xs = xs
    self.ys = ys
    self.colors = colors
  }

  public func color(_ k: Int) -> RGBA { colors.count == 1 ? colors[0] : colors[k] }
  public func size(_ k: Int) -> Double { sizes.count == 1 ? sizes[0] : sizes[k] }
}

/// A raster of colors placed over a data rectangle (`imshow`, `pcolormesh`, `contourf`).
public struct ImageLayer: Sendable, Equatable {
  public var rows: Int
  public var columns: Int
  /// Colors row by row; row 0 lies along `yFirstRow`.
  public var pixels: [RGBA]
  public var x0: Double
  public var x1: Double
  /// The y of the edge along row 0, and of the edge along the last row.
  public var yFirstRow: Double
  public var yLastRow: Double
  /// Bilinear smoothing instead of nearest-pixel.
  public var smooth = false
  public var mapping: ColorMapping?

  public init(rows: Int, columns: Int, pixels: [RGBA], x0: Double, x1: Double, yFirstRow: Double, yLastRow: Double) {
    self.rows = rows
    self.columns = columns
    self.pixels = pixels
    self.x0 = x0
    self.x1 = x1
    self.yFirstRow = yFirstRow
    self.yLastRow = yLastRow
  }
}

/// Rectangles standing on a baseline (`hist`, `bar`).
public struct BarSeries: Sendable, Equatable {
  public var lefts: [Double]
  public var widths: [Double]
  public var heights: [Double]
  public var bottoms: [Double]
  public var color: RGBA
  public var label: String?
  /// Only the outline (`histtype="step"`).
  public var outlineOnly = false

  public init(lefts: [Double], widths: [Double], heights: [Double], bottoms: [Double], color: RGBA) {
    self.lefts = lefts
    self.widths = widths
    self.heights = heights
    self.bottoms = bottoms
    self.color = color
  }
}

/// A text placed at data coordinates (`plt.text`).
public struct TextNote: Sendable, Equatable {
  public var x: Double
  public var y: Double
  public var text: String
  public var color = RGBA.black
  public var size = 10.0

  public init(x: Double, y: Double, text: String) {
    self.x = x
    self.y = y
    self.text = text
  }
}

/// Something drawn in an axes.
public enum Artist: Sendable, Equatable {
  case line(LineSeries)
  case scatter(ScatterSeries)
  case image(ImageLayer)
  case bars(BarSeries)
  case text(TextNote)

  /// The legend label.
  public var label: String? {
    switch self {
    case .line(let l): l.label
    case .scatter(let s): s.label
    case .bars(let b): b.label
    case .image, .text: nil
    }
  }
}
