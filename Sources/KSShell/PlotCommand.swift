import ArrayIO
import Foundation
import KSDiagnostics
import KernelOperations
import Plotting
import ShellRuntime
import ShellSyntax

// `:plot residuals`: the convergence curve of the last solve.

extension Session {
  /// The width and height in characters of the braille plot `:plot residuals` prints when no
  /// figure display is installed (output is not a terminal).
  static let plainPlotSize = (columns: 72, rows: 18)

  /// Runs `:plot ARGUMENT`.
  func plot(_ argument: String, at range: SourceRange) throws(ShellError) {
    let words = argument.split(separator: " ", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
    guard let what = words.first, what == "residuals" else {
      let hint = words.first.map { "'\($0)' is not something :plot draws; " } ?? ""
      throw ShellError("\(hint)usage: :plot residuals [FILE.svg|.png|.pdf]", at: range)
    }
    let solve: (history: [Double], title: String)
    if let report = lastSolve {
      solve = (report.history, Self.summary(of: report))
    } else if let variable = Self.lastSolveVariable(interpreter.state.variables["_last_solve"]) {
      solve = variable
    } else {
      throw ShellError(
        "no solve has run in this session yet; :plot residuals draws the last KernelSolve or LazyTensor.solve", at: range)
    }
    let figure = Self.residualFigure(history: solve.history, title: solve.title, target: lastSolve == nil ? nil : lastSolveTarget)
    if words.count == 2 {
      let path = words[1]
      guard let format = ImageFormat(path: path) else {
        throw ShellError("cannot write '\(path)': save the plot as .svg, .png or .pdf", at: range)
      }
      do {
        try AtomicFile.write(try CairoRenderer.render(figure, as: format), to: path)
      } catch {
        throw ShellError("cannot write '\(path)': \(error)", at: range)
      }
      emitOutput("saved the convergence curve to \(path)\n")
      return
    }
    if let display = figureDisplay {
      progressDisplay?.clear()
      display.show(figure)
    } else {
      let size = Self.plainPlotSize
      emitOutput(BrailleRenderer(columns: size.columns, rows: size.rows, color: false).render(figure))
    }
  }

  /// The residual history and summary of the solve in the `_last_solve` variable (for a
  /// session that did not see the solve's events).
  static func lastSolveVariable(_ value: Value?) -> (history: [Double], title: String)? {
    guard case .dict(let entries) = value else { return nil }
    func entry(_ key: String) -> Value? {
      entries.first { if case .string(let s) = $0.0 { s.text == key } else { false } }?.1
    }
    guard case .array(let residuals) = entry("residuals") else { return nil }
    var title = "last solve"
    if case .string(let m) = entry("method"), case .int(let n) = entry("iterations") {
      title = "\(m.text): \(n) iteration\(n == 1 ? "" : "s")"
    }
    return (residuals.toDoubles(), title)
  }

  /// The convergence curve: RMS residual (log scale) against iteration, with the target as a
  /// dashed line when the solve had one.
  static func residualFigure(history: [Double], title: String, target: Double?) -> Figure {
    var figure = Figure(number: 0, width: 6.4, height: 4)
    var ax = Axes(cell: GridCell(rows: 1, columns: 1, index: 0))
    ax.yscale = .log
    let history = history.map { $0 > 0 ? $0 : Double.nan }
    var line = LineSeries(xs: history.indices.map(Double.init), ys: history, color: RGBA.cycle[0])
    line.marker = history.count <= 40 ? .point : .none
    line.label = "RMS residual"
    ax.artists.append(.line(line))
    if let target, target > 0, history.count > 1 {
      var eps = LineSeries(xs: [0, Double(history.count - 1)], ys: [target, target], color: RGBA.cycle[3])
      eps.style = .dashed
      eps.width = 1
      eps.label = "target (eps)"
      ax.artists.append(.line(eps))
    }
    ax.title = title
    ax.xlabel = "iteration"
    ax.ylabel = "RMS residual"
    ax.legend = .best
    ax.showGrid = true
    figure.axes = [ax]
    figure.currentAxes = 0
    return figure
  }
}
