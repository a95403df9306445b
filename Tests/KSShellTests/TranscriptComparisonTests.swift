import Testing

/// The golden comparator itself: it must accept what rounding can change and catch what it can't.
@Suite struct TranscriptComparisonTests {
  typealias C = TranscriptComparison

  func numbers(_ line: String) -> [String] {
    C.tokens(Substring(line)).compactMap { if case .number(let n) = $0 { return n.text } else { return nil } }
  }

  @Test func tokenizesNumbersButNotWordsWithDigits() {
    #expect(numbers("x = Vi(3); y = float64(-0.5e-3) + .25 - 2") == ["3", "-0.5e-3", ".25", "2"])
    #expect(numbers("(5, 2) [2001 2001 -1997]") == ["5", "2", "2001", "2001", "-1997"])
    #expect(numbers("ks-2 x2 3x 1st") == ["2"], "digits glued to letters are text; a dash after a word is text")
    #expect(numbers("f(1)-2") == ["1", "2"], "a minus after a bracket is an operator")
    #expect(numbers("rms 6.4e-07, 8.438584659156496e-07") == ["6.4e-07", "8.438584659156496e-07"])
    let unit = C.tokens("6.4e-07").compactMap { if case .number(let n) = $0 { return n.unit } else { return nil } }
    #expect(unit.count == 1 && abs(unit[0] - 1e-8) < 1e-20)
  }

  @Test func identicalAndRoundingLevelDifferencesPass() {
    #expect(C.mismatch(golden: "a\nb 1.5\n", actual: "a\nb 1.5\n") == nil)
    // The same value rounded to a neighbouring last digit.
    #expect(C.mismatch(golden: "err 3.7e-05", actual: "err 3.8e-05") == nil)
    #expect(C.mismatch(golden: "x 8.438584659156496e-07", actual: "x 8.438584659156501e-07") == nil)
    // Both at rounding level (at most 1e-12).
    #expect(C.mismatch(golden: "rms 1.1e-14 (auto)", actual: "rms 3.0e-16 (auto)") == nil)
    // numpy's column padding follows the widest number.
    #expect(C.mismatch(golden: "[[ -69.570915   19.479766]", actual: "[[ -69.570915  119.479766]") != nil)
    #expect(C.mismatch(golden: "[ 1.5   2.25]", actual: "[ 1.5  2.25]") == nil)
  }

  @Test func changedWordFails() throws {
    let why = try #require(C.mismatch(golden: "ks> x = 1\nCG converged in 31 iterations", actual: "ks> x = 1\nCG stopped in 31 iterations"))
    #expect(why.hasPrefix("line 2: text"))
    #expect(why.contains("golden: CG converged in 31 iterations") && why.contains("actual: CG stopped in 31 iterations"))
    #expect(C.mismatch(golden: "accuracy: 0.99", actual: "accuracy 0.99") != nil)
    #expect(C.mismatch(golden: "a b", actual: "a  b") != nil, "spaces away from numbers compare exactly")
    #expect(C.mismatch(golden: "[1 2]", actual: "[12]") != nil)
  }

  @Test func floatBeyondToleranceFails() throws {
    let why = try #require(C.mismatch(golden: "s = 379.6908", actual: "s = 379.6958"))
    #expect(why.contains("379.6908 became 379.6958"))
    #expect(C.mismatch(golden: "x 8.438584659156496e-07", actual: "x 8.438594659156496e-07") != nil)
    #expect(C.mismatch(golden: "err 3.7e-05", actual: "err 3.9e-05") != nil, "two units of the last digit")
    #expect(C.mismatch(golden: "v 2e-08", actual: "v 4e-08") != nil)
    #expect(C.mismatch(golden: "rms 1.1e-14", actual: "rms 1.1e-10") != nil, "above the rounding level")
    #expect(C.mismatch(golden: "v 1.5", actual: "v nan") != nil)
    // float32 tolerance: looser, but not unlimited.
    #expect(C.mismatch(golden: "v 1.00001", actual: "v 1.00005", tolerance: .float32) == nil)
    #expect(C.mismatch(golden: "v 1.0001", actual: "v 1.0004", tolerance: .float32) != nil)
  }

  @Test func iterationCountsWithinAFew() throws {
    let golden = "PCG (Nyström, 1000 centres) converged in 31 iterations, rms 6.4e-07"
    #expect(C.mismatch(golden: golden, actual: "PCG (Nyström, 1000 centres) converged in 33 iterations, rms 2.1e-07") == nil)
    let why = try #require(
      C.mismatch(golden: golden, actual: "PCG (Nyström, 1000 centres) converged in 35 iterations, rms 6.4e-07"))
    #expect(why.contains("iteration count 31 became 35"))
    // Other integers (the centres here) compare exactly.
    #expect(C.mismatch(golden: golden, actual: "PCG (Nyström, 1001 centres) converged in 31 iterations, rms 6.4e-07") != nil)
    // The final residual within a factor 10, not more.
    #expect(C.mismatch(golden: golden, actual: "PCG (Nyström, 1000 centres) converged in 31 iterations, rms 7.0e-06") != nil)
    // Outside a solver line, an rms is an ordinary float.
    #expect(C.mismatch(golden: "rms 6.4e-07", actual: "rms 2.1e-07") != nil)
  }

  @Test func lineCountsMustMatch() throws {
    let why = try #require(C.mismatch(golden: "a\nb\n", actual: "a\nb\nc\n"))
    #expect(why.hasPrefix("line 3:"))
  }
}
