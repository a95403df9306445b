import Foundation
import Plotting
import Testing

@testable import KSTerminal

@Suite struct TerminalFiguresTests {
  @Test func theEnvironmentChoosesHowFiguresAreDrawn() {
    #expect(TerminalFigures.mode(environment: ["TERM": "xterm-256color"]) == .braille)
    #expect(TerminalFigures.mode(environment: ["TERM": "xterm-kitty"]) == .kitty)
    #expect(TerminalFigures.mode(environment: ["TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"]) == .kitty)
    #expect(TerminalFigures.mode(environment: ["TERM_PROGRAM": "iTerm.app"]) == .iterm)
    #expect(TerminalFigures.mode(environment: ["LC_TERMINAL": "iTerm2"]) == .iterm)
    #expect(TerminalFigures.mode(environment: ["TERM": "xterm-kitty", "KS_PLOT": "braille"]) == .braille)
  }

  @Test func inlineImageEscapesCarryThePNG() throws {
    let png = Array(repeating: UInt8(7), count: 10_000)
    let kitty = TerminalFigures.kittyImage(png)
    // 10 000 bytes are 13 336 base64 characters: four chunks, m=1 on all but the last.
    #expect(kitty.components(separatedBy: "\u{1B}_G").count - 1 == 4)
    #expect(kitty.hasPrefix("\u{1B}_Ga=T,f=100,m=1;"))
    #expect(kitty.contains("\u{1B}_Gm=0;"))
    #expect(kitty.hasSuffix("\u{1B}\\"))
    let payload = kitty.components(separatedBy: "\u{1B}\\").map { $0.split(separator: ";", maxSplits: 1).last.map(String.init) ?? "" }.joined()
    #expect(Data(base64Encoded: payload).map(Array.init) == png)
    let iterm = TerminalFigures.itermImage(png)
    #expect(iterm.hasPrefix("\u{1B}]1337;File=inline=1;size=10000;"))
    #expect(iterm.hasSuffix("\u{07}"))
  }

  @Test func brailleFitsTheWindow() {
    var figure = Figure(number: 1)
    var ax = Axes(cell: GridCell(rows: 1, columns: 1, index: 0))
    ax.artists.append(.line(LineSeries(xs: [0, 1], ys: [0, 1], color: RGBA(1, 0, 0))))
    figure.axes = [ax]
    let text = TerminalFigures.braille(figure, columns: 80, rows: 50, color: false)
    let lines = text.split(separator: "\n")
    #expect(lines.allSatisfy { $0.count <= 79 })
    // 6.4 x 4.8 inches at two rows per column width: 79 * 0.75 / 2 ≈ 30 rows.
    #expect(lines.count == 30)
    // A short window caps the height.
    #expect(TerminalFigures.braille(figure, columns: 80, rows: 15, color: false).split(separator: "\n").count == 12)
  }

  @Test func sparklineFallsWithTheResidual() {
    #expect(ProgressLine.sparkline([1, 0.1, 0.01, 0.001]) == "█▆▃▁")
    #expect(ProgressLine.sparkline([1e-3]) == "")
    #expect(ProgressLine.sparkline([0.5, 0.5]) == "▄▄")
  }
}
