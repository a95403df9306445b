extension SessionLog {
  /// `text` without terminal control: ANSI escape sequences (colors, `ESC[2K`) and carriage
  /// returns are dropped, so `:log` files are plain text whatever the terminal showed.
  static func plainText(_ text: String) -> String {
    guard text.contains(where: { $0 == "\u{1B}" || $0 == "\r" }) else { return text }
    var out = ""
    var scalars = text.unicodeScalars.makeIterator()
    while let c = scalars.next() {
      switch c {
      case "\u{1B}":
        // CSI: ESC [ parameters... final byte in 0x40...0x7E; other escapes: ESC and one byte.
        guard let next = scalars.next() else { return out }
        if next == "[" {
          while let p = scalars.next(), !(0x40...0x7E).contains(p.value) {}
        }
      case "\r":
        continue
      default:
        out.unicodeScalars.append(c)
      }
    }
    return out
  }
}
