import Foundation
import Testing

@testable import Plotting

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A figure with a thick red diagonal line, a blue scatter and a legend.
func sampleFigure() -> Figure {
  var figure = Figure(number: 1)
  var ax = Axes(cell: GridCell(rows: 1, columns: 1, index: 0))
  var line = LineSeries(xs: [0, 1, 2, 3], ys: [0, 1, 2, 3], color: RGBA(1, 0, 0))
  line.width = 4
  line.label = "diagonal"
  ax.artists.append(.line(line))
  var points = ScatterSeries(xs: [0.5, 2.5], ys: [2.5, 0.5], colors: [RGBA(0, 0, 1)])
  points.sizes = [200]
  points.label = "points"
  ax.artists.append(.scatter(points))
  ax.title = "Sample"
  ax.xlabel = "x"
  ax.ylabel = "y"
  ax.legend = .upperLeft
  figure.axes = [ax]
  return figure
}

final class ElementCounter: NSObject, XMLParserDelegate {
  var counts: [String: Int] = [:]
  var root: String?
  var rootAttributes: [String: String] = [:]
  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
    if root == nil {
      root = name
      rootAttributes = attributes
    }
    counts[name, default: 0] += 1
  }
}

@Suite struct CairoRendererTests {
  @Test func svgIsXMLWithPaths() throws {
    let bytes = try CairoRenderer.render(sampleFigure(), as: .svg)
    let parser = XMLParser(data: Data(bytes))
    let counter = ElementCounter()
    parser.delegate = counter
    #expect(parser.parse(), "the SVG should parse as XML: \(parser.parserError.map { "\($0)" } ?? "")")
    #expect(counter.root == "svg")
    #expect(counter.rootAttributes["width"] == "460.8pt")
    #expect((counter.counts["path"] ?? 0) > 10, "frame, ticks, line, markers and glyphs are paths")
  }

  @Test func pngHasItsSizeAndShowsTheCurves() throws {
    var figure = sampleFigure()
    figure.dpi = 50
    let bytes = try CairoRenderer.render(figure, as: .png)
    #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
    let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
    let height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
    #expect(width == 320 && height == 240)
    let image = try #require(PNGPixels(bytes))
    #expect(image.width == 320)
    #expect(image.count(near: RGBA(1, 0, 0)) > 200, "the red line")
    #expect(image.count(near: RGBA(0, 0, 1)) > 50, "the blue points")
    #expect(image[0, 0] == RGBA(1, 1, 1), "a white background")
    // The diagonal rises: red near the bottom left and the top right of the plot, not the other corners.
    func red(_ fx: Double, _ fy: Double) -> Bool {
      var n = 0
      let cx = Int(fx * Double(image.width))
      let cy = Int(fy * Double(image.height))
      for y in (cy - 6)...(cy + 6) { for x in (cx - 6)...(cx + 6) where image[x, y].r > 0.8 && image[x, y].g < 0.3 { n += 1 } }
      return n > 0
    }
    #expect(red(0.55, 0.5))
    #expect(!red(0.85, 0.8))
  }

  @Test func pdfHasHeaderCrossReferenceAndEnd() throws {
    let bytes = try CairoRenderer.render(sampleFigure(), as: .pdf)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.hasPrefix("%PDF-1."))
    #expect(text.contains("xref"))
    #expect(text.contains("startxref"))
    #expect(text.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("%%EOF"))
  }

  @Test func imagesAndLogAxesRender() throws {
    var figure = Figure(number: 1, width: 4, height: 3, dpi: 50)
    var ax = Axes(cell: GridCell(rows: 1, columns: 2, index: 0))
    let m = ColorMapping(colormap: Colormap.named("gray")!, vmin: 0, vmax: 1)
    var img = ImageLayer(rows: 2, columns: 2, pixels: [0, 1, 1, 0].map { m.color($0) }, x0: 0, x1: 1, yFirstRow: 1, yLastRow: 0)
    img.mapping = m
    ax.artists.append(.image(img))
    ax.colorbar = m
    var log = Axes(cell: GridCell(rows: 1, columns: 2, index: 1))
    log.yscale = .log
    log.artists.append(.line(LineSeries(xs: [0, 1, 2], ys: [1, 1e-3, 1e-6], color: RGBA(0, 0.5, 0))))
    figure.axes = [ax, log]
    let image = try #require(PNGPixels(try CairoRenderer.render(figure, as: .png)))
    #expect(image.count(near: RGBA(0, 0, 0), tolerance: 0.05) > 500, "the black image cells")
    #expect(image.count(near: RGBA(0, 0.5, 0), tolerance: 0.1) > 20, "the green line on the log axes")
  }
}

@Suite struct BrailleRendererTests {
  @Test func drawsTheCurveTicksAndLegend() {
    let text = BrailleRenderer(columns: 60, rows: 20, color: false).render(sampleFigure())
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines.count == 21)
    #expect(lines.allSatisfy { $0.count <= 60 })
    #expect(lines[0].contains("Sample"))
    #expect(text.contains("diagonal") && text.contains("points"))
    #expect(text.contains("└") && text.contains("┤"))
    #expect(!text.contains("\u{1B}["), "no escapes without color")
    // The diagonal: the plot's top rows have dots further right than its bottom rows.
    func firstDot(_ line: String) -> Int? {
      line.firstIndex { ("\u{2801}"..."\u{28FF}").contains(String($0)) }.map { line.distance(from: line.startIndex, to: $0) }
    }
    let dotted = lines.enumerated().compactMap { l in firstDot(l.element).map { (l.offset, $0) } }
    #expect(dotted.count > 8)
    if let top = dotted.first, let bottom = dotted.last { #expect(top.1 > bottom.1 + 10) }
    let colored = BrailleRenderer(columns: 60, rows: 20, color: true).render(sampleFigure())
    #expect(colored.contains("\u{1B}[38;2;255;0;0m"), "the red line in 24-bit color")
  }
}
