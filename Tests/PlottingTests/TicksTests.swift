import Testing

@testable import Plotting

@Suite struct TicksTests {
  @Test func linearTicksTakeNiceSteps() {
    #expect(Ticks.linear(0, 1, target: 6).map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    #expect(Ticks.linear(-1.3, 1.3, target: 5).map(\.label) == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])
    #expect(Ticks.linear(0, 1000, target: 4).map(\.value) == [0, 250, 500, 750, 1000])
    #expect(Ticks.linear(0, 1000, target: 4).map(\.label) == ["0", "250", "500", "750", "1000"])
    // Reversed limits give the same ticks.
    #expect(Ticks.linear(1, 0, target: 6).map(\.value) == Ticks.linear(0, 1, target: 6).map(\.value))
  }

  @Test func niceStepsAreOneTwoTwoAndAHalfOrFive() {
    #expect(Ticks.niceStep(0.13) == 0.2)
    #expect(Ticks.niceStep(0.21) == 0.25)
    #expect(Ticks.niceStep(3) == 5)
    #expect(Ticks.niceStep(7) == 10)
  }

  @Test func extremeMagnitudesUseScientificLabels() {
    #expect(Ticks.format(2.5e-5, step: 5e-6) == "2.5e-05")
    #expect(Ticks.format(3e6, step: 1e6) == "3e+06")
    #expect(Ticks.format(-0.0, step: 0.1) == "0.0")
  }

  @Test func logTicksArePowersOfTen() {
    let t = Ticks.log(1e-9, 1, target: 10)
    #expect(t.map(\.exponent) == [-9, -8, -7, -6, -5, -4, -3, -2, -1, 0])
    #expect(t.first?.plainLabel == "1e-9")
    // Many decades: every k-th one.
    #expect(Ticks.log(1e-12, 1, target: 4).compactMap(\.exponent) == [-12, -8, -4, 0])
    // Less than a decade: multiples.
    #expect(Ticks.log(2, 9, target: 9).map(\.value) == [2, 3, 4, 5, 6, 7, 8, 9])
    #expect(Ticks.logMinor(1, 100).count == 16)
  }
}

@Suite struct ColorTests {
  @Test func namesHexAndGrayLevels() {
    #expect(RGBA(name: "red") == RGBA(1, 0, 0))
    #expect(RGBA(name: "C1") == RGBA(hex: 0xff7f0e))
    #expect(RGBA(name: "#00ff00") == RGBA(0, 1, 0))
    #expect(RGBA(name: "#0f0") == RGBA(0, 1, 0))
    #expect(RGBA(name: "0.5") == RGBA(0.5, 0.5, 0.5))
    #expect(RGBA(name: "notacolor") == nil)
    #expect(RGBA(name: "#12345") == nil)
  }

  @Test func colormapsMeetTheirAnchors() {
    let v = Colormap.named("viridis")!
    #expect(v.color(at: 0).hexString == "#440154")
    #expect(v.color(at: 1).hexString == "#fde725")
    #expect(Colormap.named("viridis_r")!.color(at: 0).hexString == "#fde725")
    #expect(Colormap.named("coolwarm")!.color(at: 0).hexString == "#3b4cc0")
    #expect(Colormap.named("bwr")!.color(at: 0.5).hexString == "#ffffff")
    #expect(Colormap.named("nonesuch") == nil)
    // A listed map gives distinct classes.
    let tab = Colormap.named("tab10")!
    let m = ColorMapping(colormap: tab, vmin: 0, vmax: 9)
    #expect(Set((0...9).map { m.color(Double($0)).hexString }).count == 10)
    #expect(m.color(0) == RGBA.cycle[0] && m.color(9) == RGBA.cycle[9])
  }
}
