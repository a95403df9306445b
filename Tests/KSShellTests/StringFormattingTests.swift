import KSDiagnostics
import KSShell
import ShellRuntime
import ShellSyntax
import Testing

/// Python string formatting of shell values: `%`, `str.format`, f-strings.
@Suite struct StringFormattingTests {
  func run(_ script: String) -> String {
    var out = ""
    let session = Session(output: { out += $0 }, errors: { out += $0 }, status: { _ in })
    _ = session.run(SourceText(name: "t.ks", text: script))
    return out
  }

  /// `"%s" % array` formats the array, as Python does, instead of numpy's remainder.
  @Test func percentWithAnArray() {
    #expect(run("import numpy as np\na = np.array([1.5, 2.0])\nprint(\"%s and %d\" % (a, 3))\nprint(\"%s\" % a)\n") == "[1.5 2. ] and 3\n[1.5 2. ]\n")
  }

  @Test func formatSpecs() {
    #expect(run("print('{:6.3f}|{:>4}|{:.1e}|{:,}'.format(3.14159, 'ab', 12345.0, 1234567))\n") == " 3.142|  ab|1.2e+04|1,234,567\n")
    #expect(run("x = 7\nprint(f'{x:03d} {x!r} {x = }')\n") == "007 7 x = 7\n")
  }
}
