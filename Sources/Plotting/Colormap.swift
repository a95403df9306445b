import Foundation

/// A map from [0, 1] to colors, by name as matplotlib names them (`viridis`, `coolwarm`, `tab10`,
/// `viridis_r` reversed).
///
/// Each map is built here from a few published anchor colors (the ColorBrewer schemes, the
/// viridis family's documented stops, the defining corner colors of the classic maps) joined by
/// linear interpolation in RGB: close to matplotlib's maps, not copies of its tables.
/// Qualitative maps (`tab10`, `Set1`, `prism`) are lists of distinct colors instead.
public struct Colormap: Sendable, Equatable {
  public var name: String
  /// Anchor positions in [0, 1] (increasing) and their colors; for a listed map, evenly spaced.
  var stops: [(Double, RGBA)]
  /// Whether the map is a list of distinct colors (no interpolation).
  public var isListed: Bool
  /// How many times a listed map repeats over [0, 1] (prism cycles).
  var repeats: Int = 1

  public static func == (a: Colormap, b: Colormap) -> Bool { a.name == b.name }

  init(name: String, hex: [UInt32]) {
    self.name = name
    isListed = false
    stops = hex.enumerated().map { (Double($0.offset) / Double(hex.count - 1), RGBA(hex: $0.element)) }
  }

  init(name: String, stops: [(Double, RGBA)]) {
    self.name = name
    isListed = false
    self.stops = stops
  }

  init(name: String, listed: [UInt32], repeats: Int = 1) {
    self.name = name
    isListed = true
    self.repeats = repeats
    stops = listed.enumerated().map { (Double($0.offset), RGBA(hex: $0.element)) }
  }

  /// The color at `t` (clamped to [0, 1]); NaN gives transparent.
  public func color(at t: Double) -> RGBA {
    if t.isNaN { return RGBA(0, 0, 0, 0) }
    let t = min(max(t, 0), 1)
    if isListed {
      let n = stops.count
      let k = min(Int(t * Double(n * repeats)), n * repeats - 1) % n
      return stops[k].1
    }
    if t <= stops[0].0 { return stops[0].1 }
    for k in 1..<stops.count where t <= stops[k].0 {
      let (t0, c0) = stops[k - 1]
      let (t1, c1) = stops[k]
      return RGBA.mix(c0, c1, t1 > t0 ? (t - t0) / (t1 - t0) : 0)
    }
    return stops[stops.count - 1].1
  }

  /// The color of class `k` for a listed map (`c=labels` with `cmap="tab10"` and integer labels).
  public var listedCount: Int { isListed ? stops.count : 0 }

  /// The same map reversed (`viridis_r`).
  public var reversed: Colormap {
    var r = self
    r.name = name.hasSuffix("_r") ? String(name.dropLast(2)) : name + "_r"
    if isListed {
      r.stops = stops.reversed().enumerated().map { (Double($0.offset), $0.element.1) }
    } else {
      r.stops = stops.reversed().map { (1 - $0.0, $0.1) }
    }
    return r
  }

  /// The map called `name` (case as matplotlib spells it, `_r` for reversed), or nil.
  public static func named(_ name: String) -> Colormap? {
    if name.hasSuffix("_r"), let base = table[String(name.dropLast(2))] { return base.reversed }
    return table[name]
  }

  /// Every map's name, sorted.
  public static var names: [String] { table.keys.sorted() }

  /// The default map for images and scatter values.
  public static let viridis = table["viridis"]!

  static let table: [String: Colormap] = {
    var maps: [Colormap] = [
      // The perceptually uniform family: their documented ten-stop hex palettes.
      Colormap(name: "viridis", hex: [0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725]),
      Colormap(name: "plasma", hex: [0x0d0887, 0x46039f, 0x7201a8, 0x9c179e, 0xbd3786, 0xd8576b, 0xed7953, 0xfb9f3a, 0xfdca26, 0xf0f921]),
      Colormap(name: "inferno", hex: [0x000004, 0x1b0c41, 0x4a0c6b, 0x781c6d, 0xa52c60, 0xcf4446, 0xed6925, 0xfb9b06, 0xf7d13d, 0xfcffa4]),
      Colormap(name: "magma", hex: [0x000004, 0x180f3d, 0x440f76, 0x721f81, 0x9e2f7f, 0xcd4071, 0xf1605d, 0xfd9668, 0xfeca8d, 0xfcfdbf]),
      Colormap(name: "cividis", hex: [0x00224e, 0x123570, 0x3b496c, 0x575d6d, 0x707173, 0x8a8779, 0xa69d75, 0xc4b56c, 0xe4cf5b, 0xfee838]),
      // Moreland's diverging blue-red map.
      Colormap(name: "coolwarm", hex: [0x3b4cc0, 0x6788ee, 0x9abbff, 0xc9d7f0, 0xdddcdc, 0xf2cbb7, 0xf7a889, 0xe26952, 0xb40426]),
      Colormap(name: "bwr", hex: [0x0000ff, 0xffffff, 0xff0000]),
      Colormap(name: "seismic", hex: [0x00004c, 0x0000ff, 0xffffff, 0xff0000, 0x7f0000]),
      // ColorBrewer schemes (Brewer, colorbrewer2.org).
      Colormap(name: "RdBu", hex: [0x67001f, 0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7, 0xd1e5f0, 0x92c5de, 0x4393c3, 0x2166ac, 0x053061]),
      Colormap(name: "RdYlBu", hex: [0xa50026, 0xd73027, 0xf46d43, 0xfdae61, 0xfee090, 0xffffbf, 0xe0f3f8, 0xabd9e9, 0x74add1, 0x4575b4, 0x313695]),
      Colormap(name: "Spectral", hex: [0x9e0142, 0xd53e4f, 0xf46d43, 0xfdae61, 0xfee08b, 0xffffbf, 0xe6f598, 0xabdda4, 0x66c2a5, 0x3288bd, 0x5e4fa2]),
      Colormap(name: "PiYG", hex: [0x8e0152, 0xc51b7d, 0xde77ae, 0xf1b6da, 0xfde0ef, 0xf7f7f7, 0xe6f5d0, 0xb8e186, 0x7fbc41, 0x4d9221, 0x276419]),
      Colormap(name: "Blues", hex: [0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b]),
      Colormap(name: "Reds", hex: [0xfff5f0, 0xfee0d2, 0xfcbba1, 0xfc9272, 0xfb6a4a, 0xef3b2c, 0xcb181d, 0xa50f15, 0x67000d]),
      Colormap(name: "Greens", hex: [0xf7fcf5, 0xe5f5e0, 0xc7e9c0, 0xa1d99b, 0x74c476, 0x41ab5d, 0x238b45, 0x006d2c, 0x00441b]),
      Colormap(name: "Oranges", hex: [0xfff5eb, 0xfee6ce, 0xfdd0a2, 0xfdae6b, 0xfd8d3c, 0xf16913, 0xd94801, 0xa63603, 0x7f2704]),
      Colormap(name: "Purples", hex: [0xfcfbfd, 0xefedf5, 0xdadaeb, 0xbcbddc, 0x9e9ac8, 0x807dba, 0x6a51a3, 0x54278f, 0x3f007d]),
      Colormap(name: "YlOrRd", hex: [0xffffcc, 0xffeda0, 0xfed976, 0xfeb24c, 0xfd8d3c, 0xfc4e2a, 0xe31a1c, 0xbd0026, 0x800026]),
      Colormap(name: "Greys", hex: [0xffffff, 0x000000]),
      // The classic maps, from their defining corner colors.
      Colormap(name: "gray", hex: [0x000000, 0xffffff]),
      Colormap(name: "binary", hex: [0xffffff, 0x000000]),
      Colormap(name: "hot", stops: [(0, RGBA(0.04, 0, 0)), (0.375, RGBA(1, 0, 0)), (0.75, RGBA(1, 1, 0)), (1, RGBA(1, 1, 1))]),
      Colormap(name: "jet", stops: [(0, RGBA(0, 0, 0.5)), (0.11, RGBA(0, 0, 1)), (0.125, RGBA(0, 0, 1)), (0.34, RGBA(0, 1, 1)), (0.65, RGBA(1, 1, 0)), (0.89, RGBA(1, 0, 0)), (1, RGBA(0.5, 0, 0))]),
      Colormap(name: "rainbow", hex: [0x8000ff, 0x3061f9, 0x1ac7c2, 0x80ffb4, 0xe7c666, 0xff6232, 0xff0000]),
      Colormap(name: "winter", hex: [0x0000ff, 0x00ff80]),
      Colormap(name: "summer", hex: [0x008066, 0xffff66]),
      Colormap(name: "autumn", hex: [0xff0000, 0xffff00]),
      Colormap(name: "spring", hex: [0xff00ff, 0xffff00]),
      Colormap(name: "cool", hex: [0x00ffff, 0xff00ff]),
      Colormap(name: "Wistia", hex: [0xe4ff7a, 0xffe81a, 0xffbd00, 0xffa000, 0xfc7f00]),
      Colormap(name: "terrain", hex: [0x333399, 0x0099ff, 0x00cc66, 0xffff99, 0x996e5c, 0xffffff]),
      // Qualitative lists.
      Colormap(name: "tab10", listed: [0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf]),
      Colormap(name: "Set1", listed: [0xe41a1c, 0x377eb8, 0x4daf4a, 0x984ea3, 0xff7f00, 0xffff33, 0xa65628, 0xf781bf, 0x999999]),
      Colormap(name: "Paired", listed: [0xa6cee3, 0x1f78b4, 0xb2df8a, 0x33a02c, 0xfb9a99, 0xe31a1c, 0xfdbf6f, 0xff7f00, 0xcab2d6, 0x6a3d9a, 0xffff99, 0xb15928]),
      Colormap(name: "prism", listed: [0xff0000, 0xff7f00, 0xffff00, 0x00ff00, 0x0000ff, 0x8b00ff], repeats: 8),
    ]
    maps.append(Colormap(name: "grey", hex: [0x000000, 0xffffff]))
    maps.append(Colormap(name: "Grays", hex: [0xffffff, 0x000000]))
    return Dictionary(maps.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }()
}
