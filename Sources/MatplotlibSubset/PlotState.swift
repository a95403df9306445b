import Plotting
import ShellRuntime

/// matplotlib's global state in one session: the open figures, the current one, and the ignored
/// functions already warned about. It lives in the session's state, so a failed statement rolls
/// it back with the variables.
struct PlotState: Sendable {
  /// Open figures by number.
  var figures: [Int: Figure] = [:]
  /// The current figure's number (`plt.gcf()`).
  var current: Int?
  /// Names of ignored functions already warned about (one warning each per session).
  var warned: Set<String> = []
  /// Figures shown so far (the notebook export shows the rest when a cell ends).
  var shown: Set<Int> = []

  static let key = "matplotlib"

  /// A new figure with the next free number, made current.
  mutating func newFigure(number: Int? = nil) -> Int {
    let n = number ?? ((figures.keys.max() ?? 0) + 1)
    if figures[n] == nil { figures[n] = Figure(number: n) }
    current = n
    return n
  }

  /// The current figure's number, making one when none is open.
  mutating func currentFigure() -> Int {
    if let c = current, figures[c] != nil { return c }
    return newFigure()
  }

  /// The current axes of the current figure (made as a single subplot when there is none).
  mutating func currentAxes() -> (figure: Int, axes: Int) {
    let f = currentFigure()
    if let a = figures[f]!.currentAxes { return (f, a) }
    figures[f]!.axes.append(Axes(cell: GridCell(rows: 1, columns: 1, index: 0)))
    figures[f]!.currentAxes = figures[f]!.axes.count - 1
    return (f, figures[f]!.axes.count - 1)
  }

  /// The axes at `cell` of figure `f` (an existing one in the same place, else a new one), made current.
  mutating func axes(at cell: GridCell, in f: Int) -> Int {
    if let k = figures[f]!.axes.firstIndex(where: { $0.cell == cell }) {
      figures[f]!.currentAxes = k
      return k
    }
    // A new grid that overlaps an axes of another grid replaces it, as matplotlib's subplot does.
    let kept = figures[f]!.axes.filter { old in
      (old.cell.rows == cell.rows && old.cell.columns == cell.columns) || !overlaps(old.cell, cell)
    }
    figures[f]!.axes = kept
    figures[f]!.axes.append(Axes(cell: cell))
    figures[f]!.currentAxes = figures[f]!.axes.count - 1
    return figures[f]!.axes.count - 1
  }

  func overlaps(_ a: GridCell, _ b: GridCell) -> Bool {
    func span(_ c: GridCell) -> (Double, Double, Double, Double) {
      let x0 = Double(c.column) / Double(c.columns)
      let x1 = Double(c.column + c.columnSpan) / Double(c.columns)
      let y0 = Double(c.row) / Double(c.rows)
      let y1 = Double(c.row + c.rowSpan) / Double(c.rows)
      return (x0, x1, y0, y1)
    }
    let p = span(a)
    let q = span(b)
    return p.0 < q.1 - 1e-9 && q.0 < p.1 - 1e-9 && p.2 < q.3 - 1e-9 && q.2 < p.3 - 1e-9
  }
}

extension Interpreter {
  /// matplotlib's state in this session.
  var plotState: PlotState {
    get { state.libraryState[PlotState.key] as? PlotState ?? PlotState() }
    set { state.libraryState[PlotState.key] = newValue }
  }
}

/// A reference to one axes of one figure (`ax` in `fig, ax = plt.subplots()`).
struct AxesReference: Sendable, Equatable {
  var figure: Int
  var index: Int
}
