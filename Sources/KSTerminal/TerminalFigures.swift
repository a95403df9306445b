import Foundation
import Glibc
import KSShell
import Plotting

/// Draws figures in the terminal: as an inline image where the terminal shows images, otherwise
/// as a braille plot sized to the window.
///
/// The kind of terminal comes from its environment, since asking it (a device-attributes query)
/// would mix its reply with typed input:
///
/// - kitty's graphics protocol when `TERM=xterm-kitty` or `KITTY_WINDOW_ID` is set;
/// - iTerm2's inline images when `TERM_PROGRAM` is `iTerm.app` or `WezTerm`, or `LC_TERMINAL=iTerm2`;
/// - otherwise Unicode braille, colored unless `NO_COLOR` is set or `TERM=dumb`.
///
/// Sixel terminals cannot be told apart by their environment, so they get braille.
/// `KS_PLOT=braille|kitty|iterm` overrides the choice.
public final class TerminalFigures: FigureDisplay {
  /// How figures are drawn.
  public enum Mode: String, Sendable, Equatable {
    case kitty, iterm, braille
  }

  let output: FileOutput
  public let mode: Mode
  let color: Bool

  public init(output: FileOutput, environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.output = output
    mode = Self.mode(environment: environment)
    color = TerminalInfo.useColor(fd: output.fd, environment: environment)
  }

  /// The drawing mode the environment asks for.
  public static func mode(environment: [String: String]) -> Mode {
    if let forced = environment["KS_PLOT"].flatMap(Mode.init(rawValue:)) { return forced }
    if environment["TERM"] == "xterm-kitty" || environment["KITTY_WINDOW_ID"] != nil { return .kitty }
    if ["iTerm.app", "WezTerm"].contains(environment["TERM_PROGRAM"] ?? "") || environment["LC_TERMINAL"] == "iTerm2" {
      return .iterm
    }
    return .braille
  }

  public func show(_ figure: Figure) {
    switch mode {
    case .kitty, .iterm:
      guard let png = try? CairoRenderer.render(figure, as: .png) else { return braille(figure) }
      output.write((mode == .kitty ? Self.kittyImage(png) : Self.itermImage(png)) + "\n")
    case .braille:
      braille(figure)
    }
  }

  func braille(_ figure: Figure) {
    let (columns, rows) = Self.windowSize(output.fd)
    output.write(Self.braille(figure, columns: columns, rows: rows, color: color))
  }

  /// The braille text for a window of `columns` x `rows`: the full width (less one column), and
  /// a height that keeps the figure's proportions (a cell is about twice as tall as wide) within
  /// the window less three lines for the prompt.
  public static func braille(_ figure: Figure, columns: Int, rows: Int, color: Bool) -> String {
    let width = max(20, columns - 1)
    let proportional = Int((Double(width) * figure.height / figure.width / 2).rounded())
    let height = max(8, min(rows - 3, proportional))
    return BrailleRenderer(columns: width, rows: height, color: color).render(figure)
  }

  /// The window's size in cells (`TIOCGWINSZ`), else 80 x 24.
  static func windowSize(_ fd: Int32) -> (Int, Int) {
    var size = winsize()
    if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
      return (Int(size.ws_col), Int(size.ws_row))
    }
    return (TerminalInfo.columns(fd), 24)
  }

  /// A PNG as kitty's graphics protocol transmits and shows it: base64 in chunks of 4096
  /// characters, `m=1` on every chunk but the last.
  public static func kittyImage(_ png: [UInt8]) -> String {
    let data = Data(png).base64EncodedString()
    var out = ""
    var start = data.startIndex
    var first = true
    while start < data.endIndex {
      let end = data.index(start, offsetBy: 4096, limitedBy: data.endIndex) ?? data.endIndex
      let more = end < data.endIndex ? 1 : 0
      let control = first ? "a=T,f=100,m=\(more)" : "m=\(more)"
      out += "\u{1B}_G\(control);\(data[start..<end])\u{1B}\\"
      first = false
      start = end
    }
    return out
  }

  /// A PNG as iTerm2's inline image escape (`OSC 1337 ; File=... : base64 BEL`).
  public static func itermImage(_ png: [UInt8]) -> String {
    "\u{1B}]1337;File=inline=1;size=\(png.count);preserveAspectRatio=1:\(Data(png).base64EncodedString())\u{07}"
  }
}
