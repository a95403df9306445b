import Foundation
import Testing

/// docs/errors.md lists bad inputs with the exact message ks gives; each row is a test case:
/// the input runs after the document's prelude in `ks run`, which must exit with status 1 and
/// print exactly that message after `error:` (and never die by a signal).
@Suite struct ErrorTableTests {
  struct Row: CustomTestStringConvertible, Sendable {
    var input: String
    var message: String
    var testDescription: String { input }
  }

  static let document: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return (try? String(contentsOf: root.appendingPathComponent("docs/errors.md"), encoding: .utf8)) ?? ""
  }()

  /// The prelude: the first ```python block.
  static let prelude: String = {
    guard let start = document.range(of: "```python\n"), let end = document.range(of: "```\n", range: start.upperBound..<document.endIndex)
    else { return "" }
    return String(document[start.upperBound..<end.lowerBound])
  }()

  /// Table rows "| `input` | `message` |" (with `\|` standing for `|`).
  static let rows: [Row] = document.split(separator: "\n").compactMap { line -> Row? in
    guard line.hasPrefix("| `") else { return nil }
    var cells: [String] = []
    var cell = ""
    var escaped = false
    for c in line.dropFirst() {
      if escaped { cell.append(c); escaped = false; continue }
      if c == "\\" { escaped = true; continue }
      if c == "|" { cells.append(cell); cell = ""; continue }
      cell.append(c)
    }
    guard cells.count == 2 else { return nil }
    func code(_ s: String) -> String {
      var t = s.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("`") && t.hasSuffix("`") && t.count >= 2 { t = String(t.dropFirst().dropLast()) }
      return t
    }
    return Row(input: code(cells[0]), message: code(cells[1]))
  }

  @Test func theDocumentHasRows() {
    #expect(Self.rows.count >= 40)
    #expect(Self.prelude.contains("Genred"))
  }

  /// Rows that describe a machine without an NVIDIA driver (`:engine gpu`).
  static func needsNoDriver(_ row: Row) -> Bool { row.message.hasPrefix("no NVIDIA driver") }
  static var hasNVIDIADriver: Bool { dlopen("libcuda.so.1", RTLD_LAZY) != nil }

  @Test(arguments: rows.filter { !needsNoDriver($0) })
  func ksGivesExactlyTheDocumentedMessage(_ row: Row) throws {
    try check(row)
  }

  @Test(.enabled(if: !ErrorTableTests.hasNVIDIADriver, "these rows describe a machine without an NVIDIA driver"),
    arguments: rows.filter(needsNoDriver))
  func withoutANVIDIADriver(_ row: Row) throws {
    try check(row)
  }

  func check(_ row: Row) throws {
    let path = try KSProcess.script(Self.prelude + row.input + "\nprint('not reached')\n")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try KSProcess.run(["run", path], environment: ["KS_MAX_ARRAY_BYTES": "1073741824"], timeout: 120)
    #expect(!r.killedBySignal)
    #expect(r.status == 1)
    let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
    let message = first.range(of: ": error: ").map { String(first[$0.upperBound...]) }
    #expect(message == row.message)
    #expect(!r.stdout.contains("not reached"))
  }
}
