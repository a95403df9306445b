import Foundation
import KSShell
import Testing

/// Every input the libFuzzer script target found (Fuzz/regressions/script) runs to an end in a
/// session — an error or a value, never a trap or an endless loop — and the session still works.
@Suite struct FuzzRegressionTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/script")

  static let inputs: [String] =
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()

  @Test func thereAreRegressions() { #expect(Self.inputs.count >= 2) }

  @Test(arguments: inputs)
  func replays(_ name: String) throws {
    let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
    let recorder = SessionRecorder()
    recorder.submit("import numpy as np")
    recorder.submit(String(decoding: data, as: UTF8.self))
    #expect(recorder.printed("print(6 * 7)") == "42\n")
  }

  @Test func integerPowersOfZeroAndOneDoNotLoop() {
    let recorder = SessionRecorder()
    #expect(recorder.printed("print(0**8**11, 1**8**11, (-1)**(8**11 + 1), (-1)**(8**11), 0**0)") == "0 1 -1 1 1\n")
  }
}
