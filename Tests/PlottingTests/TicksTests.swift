import Testing

@testable import Plotting

@Suite struct TicksTests {
  @Test func linearTicksAreNiceSteps() {
    let t = Ticks.linear(0, 1, target: 6)
    #expect(t.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
  }
}
