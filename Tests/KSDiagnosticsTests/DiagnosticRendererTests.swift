import Testing

@testable import KSDiagnostics

/// The byte range of the first occurrence of `needle` in `text`.
private func byteRange(of needle: String, in text: String, occurrence: Int = 0) -> SourceRange {
  let hay = Array(text.utf8), pin = Array(needle.utf8)
  var found = 0
  for start in 0...(hay.count - pin.count) where Array(hay[start..<(start + pin.count)]) == pin {
    if found == occurrence { return SourceRange(start, start + pin.count) }
    found += 1
  }
  preconditionFailure("'\(needle)' not found in '\(text)'")
}

private func render(_ d: Diagnostic, _ text: String, name: String = "<formula>", firstLine: Int = 1) -> String {
  DiagnosticRenderer().render(d, in: SourceText(name: name, text: text, firstLine: firstLine))
}

@Suite struct DiagnosticRendererTests {
  @Test func singleCharacterRange() {
    let text = "x +* y"
    let out = render(Diagnostic("expected an operand, found '*'", at: SourceRange(3, 4)), text)
    #expect(
      out == """
        <formula>:1:4: error: expected an operand, found '*'
          1 | x +* y
            |    ^

        """)
  }

  @Test func multiCharacterRange() {
    let text = "Exp(-Norm3(x-y))*b"
    let out = render(
      Diagnostic("unknown operation 'Norm3'; did you mean 'Norm2'?", at: byteRange(of: "Norm3", in: text)), text,
      name: "script.ks")
    #expect(
      out == """
        script.ks:1:6: error: unknown operation 'Norm3'; did you mean 'Norm2'?
          1 | Exp(-Norm3(x-y))*b
            |      ^~~~~

        """)
  }

  @Test func rangeCoveringTheWholeLine() {
    let text = "SqDist(x)"
    let out = render(Diagnostic("SqDist takes 2 arguments, got 1", at: SourceRange(0, 9)), text)
    #expect(
      out == """
        <formula>:1:1: error: SqDist takes 2 arguments, got 1
          1 | SqDist(x)
            | ^~~~~~~~~

        """)
  }

  @Test func emptyRangeAtTheEndGetsOneCaret() {
    let text = "Exp(x"
    let out = render(Diagnostic("unexpected end of formula", at: SourceRange(5, 5)), text)
    #expect(
      out == """
        <formula>:1:6: error: unexpected end of formula
          1 | Exp(x
            |      ^

        """)
  }

  @Test func rangeOnLineThreeOfAMultiLineSource() {
    let text = "x = load(\"x.npy\")\ny = load(\"y.npy\")\nop = Genred(\"Norm3(x-y)\", a)\nprint(op)\n"
    let range = byteRange(of: "Norm3", in: text)
    let out = render(Diagnostic("unknown operation 'Norm3'; did you mean 'Norm2'?", at: range), text, name: "job.ks")
    #expect(
      out == """
        job.ks:3:14: error: unknown operation 'Norm3'; did you mean 'Norm2'?
          3 | op = Genred("Norm3(x-y)", a)
            |              ^~~~~

        """)
  }

  @Test func firstLineOffsetWidensTheGutter() {
    // A statement typed as line 9 of a session; its second line is line 10 (two-digit gutter).
    let text = "a = 1\nb = a +* 2"
    let range = byteRange(of: "*", in: text)
    let out = render(Diagnostic("expected an operand, found '*'", at: range), text, name: "<stdin>", firstLine: 9)
    #expect(
      out == """
        <stdin>:10:8: error: expected an operand, found '*'
          10 | b = a +* 2
             |        ^

        """)
  }

  @Test func nonASCIIBeforeTheCaret() {
    // "é" and "α" are two bytes each: columns and the caret count characters, not bytes.
    let text = "é = α + Norm3(x)"
    let range = byteRange(of: "Norm3", in: text)
    #expect(range == SourceRange(10, 15))
    let out = render(Diagnostic("unknown operation 'Norm3'", at: range), text)
    #expect(
      out == """
        <formula>:1:9: error: unknown operation 'Norm3'
          1 | é = α + Norm3(x)
            |         ^~~~~

        """)
  }

  @Test func nonASCIIInsideTheRange() {
    let text = "x + ααα"
    let out = render(Diagnostic("unexpected character", at: byteRange(of: "ααα", in: text)), text)
    #expect(
      out == """
        <formula>:1:5: error: unexpected character
          1 | x + ααα
            |     ^~~

        """)
  }

  @Test func tabsBeforeTheCaretAreKept() {
    let text = "\tx +* y"
    let out = render(Diagnostic("bad", at: byteRange(of: "*", in: text)), text)
    #expect(out == "<formula>:1:5: error: bad\n  1 | \tx +* y\n    | \t   ^\n")
  }

  @Test func diagnosticWithoutRange() {
    let d = Diagnostic("this Genred takes 2 arguments, got 3", at: nil)
    #expect(render(d, "SqDist(x,y)") == "<formula>: error: this Genred takes 2 arguments, got 3\n")
  }

  @Test func diagnosticWithoutRangeWithNotes() {
    let d = Diagnostic("no alias declares position 1", at: nil, severity: .warning, notes: ["first", "second"])
    #expect(
      render(d, "x") == """
        <formula>: warning: no alias declares position 1
          note: first
          note: second

        """)
  }

  @Test func notesAfterTheCaret() {
    let text = "SqDist(x,yy)"
    let d = Diagnostic(
      "unknown name 'yy'; did you mean 'y'?", at: byteRange(of: "yy", in: text),
      notes: ["declared aliases: x, y", "aliases are declared in the alias list"])
    #expect(
      render(d, text) == """
        <formula>:1:10: error: unknown name 'yy'; did you mean 'y'?
          1 | SqDist(x,yy)
            |          ^~
            = note: declared aliases: x, y
            = note: aliases are declared in the alias list

        """)
  }

  @Test func severities() {
    let text = "x"
    #expect(render(Diagnostic("m", at: SourceRange(0, 1), severity: .warning), text).hasPrefix("<formula>:1:1: warning: m\n"))
    #expect(render(Diagnostic("m", at: SourceRange(0, 1), severity: .note), text).hasPrefix("<formula>:1:1: note: m\n"))
  }

  @Test func colorPaintsOnlyTheLabelAndTheMarker() {
    let text = "x +* y"
    let out = DiagnosticRenderer(useColor: true).render(
      Diagnostic("bad", at: SourceRange(3, 4)), in: SourceText(name: "<formula>", text: text))
    #expect(
      out == "<formula>:1:4: \u{1B}[1;31merror:\u{1B}[0m bad\n  1 | x +* y\n    |    \u{1B}[1;31m^\u{1B}[0m\n")
  }

  @Test func rangeOnTheFirstLineDoesNotShowTheNextLine() {
    let text = "abc def\nghi"
    let out = render(Diagnostic("m", at: SourceRange(4, 7)), text)
    #expect(out == "<formula>:1:5: error: m\n  1 | abc def\n    |     ^~~\n")
  }

  @Test func rangeRunningPastTheLineEndIsCutAtTheLineEnd() {
    let text = "abc def\nghi"
    let out = render(Diagnostic("m", at: SourceRange(4, 11)), text)
    #expect(out == "<formula>:1:5: error: m\n  1 | abc def\n    |     ^~~\n")
  }

  @Test func locatedDiagnosticDescriptionIsTheRendering() {
    let source = SourceText(name: "<formula>", text: "x +* y")
    let d = Diagnostic("bad", at: SourceRange(3, 4))
    #expect(LocatedDiagnostic(d, in: source).description == DiagnosticRenderer().render(d, in: source))
  }

  @Test func shiftedMovesTheRange() {
    let d = Diagnostic("m", at: SourceRange(2, 5)).shifted(by: 10)
    #expect(d.range == SourceRange(12, 15))
    #expect(Diagnostic("m", at: nil).shifted(by: 3).range == nil)
  }
}

@Suite struct SourceTextTests {
  @Test func locationCountsLinesAndCharacters() {
    let s = SourceText(name: "f", text: "ab\nçd\n\nx")
    #expect(s.location(of: 0) == (1, 1))
    #expect(s.location(of: 2) == (1, 3))
    #expect(s.location(of: 3) == (2, 1))
    #expect(s.location(of: 5) == (2, 2))  // after the two-byte "ç"
    #expect(s.location(of: 7) == (3, 1))
    #expect(s.location(of: 8) == (4, 1))
    #expect(s.location(of: 100) == (4, 2))  // clamped to the end
  }

  @Test func lineContaining() {
    let s = SourceText(name: "f", text: "ab\ncd\n")
    #expect(s.lineContaining(4) == ("cd", 3))
    #expect(s.lineContaining(0) == ("ab", 0))
    #expect(s.lineContaining(6) == ("", 6))
  }

  @Test func rangeUnion() {
    #expect(SourceRange(3, 5).union(SourceRange(1, 4)) == SourceRange(1, 5))
    #expect(SourceRange(5, 2) == SourceRange(5, 5))
  }
}

@Suite struct SuggestionsTests {
  let operations = ["Exp", "Log", "Norm2", "SqNorm2", "SqDist", "Normalize", "Sum", "SumT", "Min", "Max", "Sqrt", "Rsqrt"]

  @Test func oneEditAway() {
    #expect(Suggestions.closest(to: "Norm3", among: operations) == "Norm2")
    #expect(Suggestions.closest(to: "Expp", among: operations) == "Exp")
  }

  @Test func caseIsIgnored() {
    #expect(Suggestions.closest(to: "exp", among: operations) == "Exp")
    #expect(Suggestions.closest(to: "SQDIST", among: operations) == "SqDist")
  }

  @Test func transpositionCountsAsOneEdit() {
    #expect(Suggestions.closest(to: "Epx", among: operations) == "Exp")
    #expect(Suggestions.distance("ab", "ba") == 1)
  }

  @Test func theNearestWins() {
    #expect(Suggestions.closest(to: "SqNorm", among: operations) == "SqNorm2")
    #expect(Suggestions.closest(to: "Sums", among: operations) == "Sum")
  }

  @Test func tiesGoToTheFirstCandidate() {
    #expect(Suggestions.closest(to: "Vk", among: ["Vi", "Vj", "Pm"]) == "Vi")
    #expect(Suggestions.closest(to: "Vk", among: ["Vj", "Vi", "Pm"]) == "Vj")
  }

  @Test func tooFarGivesNil() {
    #expect(Suggestions.closest(to: "Xyzzy", among: operations) == nil)
    // Two-character words allow one edit only.
    #expect(Suggestions.closest(to: "ab", among: ["xy", "cd"]) == nil)
    #expect(Suggestions.closest(to: "ab", among: ["ax"]) == "ax")
    #expect(Suggestions.closest(to: "anything", among: []) == nil)
  }

  @Test func theLimitGrowsWithTheWordButStopsAtThree() {
    // 6 characters: limit 3.
    #expect(Suggestions.closest(to: "SqDxyz", among: ["SqD"]) == "SqD")
    // 12 characters: still 3 edits at most.
    #expect(Suggestions.closest(to: "KMinArgKMin_", among: ["KMin_ArgKMin"]) == "KMin_ArgKMin")
    #expect(Suggestions.closest(to: "abcdefghijkl", among: ["abcdefghwxyz"]) == nil)
  }

  @Test func distances() {
    #expect(Suggestions.distance("kitten", "sitting") == 3)
    #expect(Suggestions.distance("", "abc") == 3)
    #expect(Suggestions.distance("abc", "") == 3)
    #expect(Suggestions.distance("same", "same") == 0)
    #expect(Suggestions.distance("MinArgMin", "Min_ArgMin") == 1)
  }
}
