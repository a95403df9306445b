import Foundation
import KSShell
import MatplotlibSubset
import Plotting
import ShellRuntime
import KSDiagnostics
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

private func plotDirectory() throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("ks-plot-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Counts the elements of an XML document.
private final class XMLCounter: NSObject, XMLParserDelegate {
  var counts: [String: Int] = [:]
  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
    counts[name, default: 0] += 1
  }
}

/// matplotlib.pyplot in scripts: a kernel ridge fit plotted and saved in three formats, the
/// figure events `plt.show()` sends, warnings, errors and rollback.
@Suite struct PlottingScriptTests {
  /// A 1-D kernel ridge regression: noisy samples of sin(6x), a Gaussian-kernel solve, the fit
  /// on a grid, plotted with a legend and title and saved as SVG, PNG and PDF.
  static func ridgeScript(in dir: String) -> String {
    """
    import numpy as np
    import matplotlib.pyplot as plt
    from pykeops.numpy import LazyTensor
    np.random.seed(3)
    x = np.sort(np.random.rand(150, 1), axis=0)
    y = np.sin(6 * x) + 0.1 * np.random.randn(150, 1)
    x_i = LazyTensor(x[:, None, :])
    x_j = LazyTensor(x[None, :, :])
    K = (-((x_i - x_j) ** 2).sum(-1) / (2 * 0.05 ** 2)).exp()
    a = K.solve(y, alpha=0.1)
    t = np.linspace(0, 1, 200).reshape(-1, 1)
    t_i = LazyTensor(t[:, None, :])
    fit = (-((t_i - x_j) ** 2).sum(-1) / (2 * 0.05 ** 2)).exp() @ a
    print("fit error", float(np.abs(fit - np.sin(6 * t)).max()) < 0.3)
    plt.figure(figsize=(6, 4))
    plt.scatter(x[:, 0], y[:, 0], s=12, c="tab:blue", label="noisy samples")
    plt.plot(t, fit, "r-", linewidth=2.5, label="kernel ridge fit")
    plt.title("Kernel ridge regression")
    plt.xlabel("x")
    plt.ylabel("y")
    plt.legend(loc="lower left")
    plt.savefig("\(dir)/fit.svg")
    plt.savefig("\(dir)/fit.png")
    plt.savefig("\(dir)/fit.pdf")
    plt.show()
    """
  }

  @Test func kernelRidgeFitIsSavedAsSVGPNGAndPDF() throws {
    let dir = try plotDirectory()
    let ks = SessionRecorder()
    var events: [any RuntimeEvent] = []
    let forward = ks.session.interpreter.events
    ks.session.interpreter.events = { e in
      events.append(e)
      forward?(e)
    }
    ks.session.interpreter.echoValues = false
    let outcome = ks.session.run(SourceText(name: "ridge.ks", text: Self.ridgeScript(in: dir)))
    #expect(outcome == .ok, "errors: \(ks.errors)")
    #expect(ks.output.contains("fit error True"))

    // SVG: XML with paths (the curves, markers and glyphs).
    let svg = try Data(contentsOf: URL(fileURLWithPath: dir + "/fit.svg"))
    let parser = XMLParser(data: svg)
    let counter = XMLCounter()
    parser.delegate = counter
    #expect(parser.parse())
    #expect(counter.counts["svg"] == 1)
    #expect((counter.counts["path"] ?? 0) > 20)

    // PNG: signature, IHDR with 6 x 4 inches at 100 dpi, and the curves' colors in the pixels.
    let png = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/fit.png")))
    #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(String(decoding: png[12..<16], as: UTF8.self) == "IHDR")
    #expect(png[16..<20].reduce(0) { $0 << 8 | Int($1) } == 600)
    #expect(png[20..<24].reduce(0) { $0 << 8 | Int($1) } == 400)
    let pixels = try #require(PNGPixels(png))
    #expect(pixels.count(near: RGBA(1, 0, 0)) > 500, "the red fit")
    #expect(pixels.count(near: RGBA(hex: 0x1f77b4)) > 300, "the blue samples")

    // PDF: header, cross-reference table, end marker.
    let pdf = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/fit.pdf")), as: UTF8.self)
    #expect(pdf.hasPrefix("%PDF-"))
    #expect(pdf.contains("xref") && pdf.contains("trailer"))
    #expect(pdf.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("%%EOF"))

    // plt.show() off a terminal: says how to save, and sends the figure as display data.
    #expect(ks.status.contains("plt.show(): not a terminal"))
    let display = events.compactMap { $0 as? DisplayData }
    #expect(display.count == 1)
    let data = try #require(display.first?.data)
    #expect(data["text/plain"] == "<Figure size 600x400 with 1 Axes>")
    #expect(data["image/svg+xml"]?.contains("<svg") == true)
    let shownPNG = Array(Data(base64Encoded: data["image/png"] ?? "") ?? Data())
    let shownPixels = PNGPixels(shownPNG)
    #expect((shownPixels?.count(near: RGBA(1, 0, 0)) ?? 0) > 500)
    #expect(events.contains { $0 is FigureShown })
    // show() closed the figure.
    #expect(Pyplot.currentFigure(in: ks.session.interpreter) == nil)
  }

  @Test func axesObjectsSubplotsAndImages() throws {
    let dir = try plotDirectory()
    let ks = SessionRecorder()
    ks.session.interpreter.echoValues = false
    let script = """
      import numpy as np
      from matplotlib import pyplot as plt
      fig, axes = plt.subplots(1, 2, figsize=(8, 3))
      axes[0].plot([1, 2, 3], [1, 4, 9], "g--o", label="squares")
      axes[0].set_title("line")
      axes[0].legend()
      z = np.outer(np.linspace(0, 1, 20), np.linspace(0, 1, 30))
      im = axes[1].imshow(z, cmap="coolwarm", origin="lower", extent=[0, 3, 0, 2])
      plt.colorbar(im)
      for ax in axes:
          ax.grid(True)
      fig.savefig("\(dir)/two.png")
      """
    #expect(ks.session.run(SourceText(name: "two.ks", text: script)) == .ok, "errors: \(ks.errors)")
    let figure = try #require(Pyplot.currentFigure(in: ks.session.interpreter))
    #expect(figure.axes.count == 2)
    #expect(figure.axes[0].title == "line")
    #expect(figure.axes[1].colorbar?.colormap.name == "coolwarm")
    #expect(figure.axes.allSatisfy { $0.showGrid })
    let pixels = try #require(PNGPixels(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/two.png")))))
    #expect(pixels.width == 800 && pixels.height == 300)
    #expect(pixels.count(near: Colormap.named("coolwarm")!.color(at: 0), tolerance: 0.05) > 50, "the image's low end")
    #expect(pixels.count(near: RGBA(0, 0.5, 0), tolerance: 0.1) > 30, "the green dashed line")
  }

  @Test func unsupportedCallsWarnOnceAndBadInputFailsClearly() throws {
    let ks = SessionRecorder()
    ks.submit("import matplotlib.pyplot as plt")
    ks.submit("plt.ion()")
    ks.submit("plt.ion()")
    ks.submit("plt.fill_between([0, 1], [0, 1])")
    #expect(ks.errors.components(separatedBy: "plt.ion() is not part of ks's matplotlib subset").count == 2, "one warning: \(ks.errors)")
    #expect(ks.errors.contains("warning: plt.fill_between()"))

    ks.errors = ""
    #expect(ks.submit("plt.plot([1, 2], [1, 2], \"rq\")") == .failed)
    #expect(ks.errors.contains("format string 'rq': unrecognized character 'q'"))
    #expect(ks.errors.contains("^"), "a caret under the call")
    ks.errors = ""
    #expect(ks.submit("plt.savefig(\"figure.jpg\")") == .failed)
    #expect(ks.errors.contains("ks cannot write '.jpg' files; save as .svg, .png or .pdf"))
    ks.errors = ""
    #expect(ks.submit("plt.scatter([1, 2], [1, 2], c=[1, 2], cmap=\"viridiss\")") == .failed)
    #expect(ks.errors.contains("'viridiss' is not a colormap ks knows; did you mean 'viridis'?"))

    // A failed statement leaves the figures as they were.
    ks.submit("plt.plot([0, 1], [0, 1])")
    let before = Pyplot.currentFigure(in: ks.session.interpreter)
    #expect(before?.axes.first?.artists.count == 1)
    // The loop draws two lines, then fails on the third: none of them stays.
    #expect(ks.submit("for n in [2, 2, 3]:\n    plt.plot([0, 1], [0, 1, 2][:n])\n") == .failed)
    #expect(ks.errors.contains("x and y must have the same first dimension"))
    #expect(Pyplot.currentFigure(in: ks.session.interpreter) == before)
  }

  @Test func plotResidualsNeedsASolveThenDrawsItsCurve() throws {
    let ks = SessionRecorder()
    #expect(ks.submit(":plot residuals") == .failed)
    #expect(ks.errors.contains("no solve has run in this session yet"))
    ks.submit("x = np.random.rand(200, 2)")
    ks.submit("b = np.random.rand(200, 1)")
    ks.submit("K = KernelSolve(\"Exp(-SqDist(x, y) * 20) * a\", [\"x = Vi(2)\", \"y = Vj(2)\", \"a = Vj(1)\"], \"a\", axis=1)")
    #expect(ks.submit("c = K(x, x, b, alpha=0.01, precond=None, eps=1e-8)") == .ok, "errors: \(ks.errors)")
    let report = try #require(ks.session.lastSolve)
    #expect(report.history.count > 3)
    let text = ks.printed(":plot residuals")
    #expect(text.contains("RMS residual"))
    #expect(text.contains("iteration"))
    #expect(text.contains("1e-"), "log-scale tick labels")
    let brailleDots = text.unicodeScalars.filter { $0.value > 0x2800 && $0.value <= 0x28FF }.count
    #expect(brailleDots > 20)
    let dir = try plotDirectory()
    #expect(ks.printed(":plot residuals \(dir)/res.svg").contains("saved the convergence curve"))
    #expect(FileManager.default.fileExists(atPath: dir + "/res.svg"))
  }
}
