import Foundation

/// A color with alpha, each component in 0...1.
public struct RGBA: Sendable, Equatable {
  public var r: Double
  public var g: Double
  public var b: Double
  public var a: Double

  public init(_ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) {
    self.r = r
    self.g = g
    self.b = b
    self.a = a
  }

  /// A color from `0xRRGGBB`.
  public init(hex: UInt32, alpha: Double = 1) {
    self.init(
      Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255, alpha)
  }

  /// The same color with alpha `a`.
  public func with(alpha: Double) -> RGBA { RGBA(r, g, b, alpha) }

  /// `#rrggbb`, as SVG and terminals write it.
  public var hexString: String {
    String(format: "#%02x%02x%02x", Self.byte(r), Self.byte(g), Self.byte(b))
  }

  static func byte(_ x: Double) -> Int { Int((min(max(x, 0), 1) * 255).rounded()) }

  /// The linear mix `(1-t) a + t b`.
  public static func mix(_ a: RGBA, _ b: RGBA, _ t: Double) -> RGBA {
    RGBA(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t, a.a + (b.a - a.a) * t)
  }

  public static let black = RGBA(0, 0, 0)
  public static let white = RGBA(1, 1, 1)

  /// The default color cycle (matplotlib's `C0` ... `C9`, the "tab10" palette).
  public static let cycle: [RGBA] = [
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
  ].map { RGBA(hex: $0) }

  /// Colors by name: the one-letter codes of format strings, `C0`...`C9`, `tab:blue`..., and the
  /// common CSS names.
  static let named: [String: UInt32] = [
    "b": 0x0000ff, "g": 0x008000, "r": 0xff0000, "c": 0x00bfbf, "m": 0xbf00bf, "y": 0xbfbf00, "k": 0x000000,
    "w": 0xffffff,
    "black": 0x000000, "white": 0xffffff, "red": 0xff0000, "green": 0x008000, "blue": 0x0000ff, "cyan": 0x00ffff,
    "aqua": 0x00ffff, "magenta": 0xff00ff, "fuchsia": 0xff00ff, "yellow": 0xffff00, "orange": 0xffa500,
    "purple": 0x800080, "gray": 0x808080, "grey": 0x808080, "brown": 0xa52a2a, "pink": 0xffc0cb,
    "olive": 0x808000, "navy": 0x000080, "teal": 0x008080, "lime": 0x00ff00, "gold": 0xffd700,
    "silver": 0xc0c0c0, "maroon": 0x800000, "indigo": 0x4b0082, "violet": 0xee82ee, "salmon": 0xfa8072,
    "crimson": 0xdc143c, "coral": 0xff7f50, "orchid": 0xda70d6, "tan": 0xd2b48c, "khaki": 0xf0e68c,
    "turquoise": 0x40e0d0, "darkblue": 0x00008b, "darkred": 0x8b0000, "darkgreen": 0x006400,
    "darkorange": 0xff8c00, "darkgray": 0xa9a9a9, "darkgrey": 0xa9a9a9, "lightgray": 0xd3d3d3,
    "lightgrey": 0xd3d3d3, "lightblue": 0xadd8e6, "lightgreen": 0x90ee90, "skyblue": 0x87ceeb,
    "steelblue": 0x4682b4, "royalblue": 0x4169e1, "forestgreen": 0x228b22, "firebrick": 0xb22222,
    "dimgray": 0x696969, "dimgrey": 0x696969, "slategray": 0x708090, "seagreen": 0x2e8b57,
    "tomato": 0xff6347, "chocolate": 0xd2691e, "darkviolet": 0x9400d3,
    "tab:blue": 0x1f77b4, "tab:orange": 0xff7f0e, "tab:green": 0x2ca02c, "tab:red": 0xd62728,
    "tab:purple": 0x9467bd, "tab:brown": 0x8c564b, "tab:pink": 0xe377c2, "tab:gray": 0x7f7f7f,
    "tab:grey": 0x7f7f7f, "tab:olive": 0xbcbd22, "tab:cyan": 0x17becf,
  ]

  /// Every color name `RGBA(name:)` knows (for messages).
  public static var names: [String] { named.keys.sorted() }

  /// A color written as matplotlib writes one: a name (`"red"`, `"r"`, `"C1"`, `"tab:blue"`),
  /// `#rrggbb`, `#rrggbbaa`, `#rgb`, or a gray level `"0.5"`; nil when the text is none of these.
  public init?(name: String) {
    let s = name.lowercased().trimmingCharacters(in: .whitespaces)
    if let hex = Self.named[s] {
      self.init(hex: hex)
      return
    }
    if s.count == 2, s.hasPrefix("c"), let k = Int(s.dropFirst()) {
      self = Self.cycle[k % 10]
      return
    }
    if s.hasPrefix("#") {
      let digits = String(s.dropFirst())
      guard digits.allSatisfy(\.isHexDigit) else { return nil }
      switch digits.count {
      case 3:
        let v = digits.map { UInt32(String($0), radix: 16)! * 17 }
        self.init(Double(v[0]) / 255, Double(v[1]) / 255, Double(v[2]) / 255)
      case 6:
        self.init(hex: UInt32(digits, radix: 16)!)
      case 8:
        let v = UInt32(digits, radix: 16)!
        self.init(hex: v >> 8, alpha: Double(v & 0xFF) / 255)
      default:
        return nil
      }
      return
    }
    if let level = Double(s), level >= 0, level <= 1 {
      self.init(level, level, level)
      return
    }
    return nil
  }
}
