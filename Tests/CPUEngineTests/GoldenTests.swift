import ArrayIO
import Foundation
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine
import _KSTestSupport

/// The generated C for small formulas, checked against files in Golden/. Run with
/// `UPDATE_GOLDENS=1` to rewrite them after an intended change, and review the diff.
struct GoldenCase: CustomStringConvertible, Sendable {
  var file: String
  var formula: String
  var aliases: [String]
  var reduction: ReductionKind
  var dtype: DType
  var scheme: SumScheme

  var description: String { file }
}

@Test(
  "generated C matches the golden file",
  arguments: [
    GoldenCase(
      file: "gaussian_sum_float32_block.c", formula: "Exp(-SqDist(x,y))*b", aliases: ["x = Vi(2)", "y = Vj(2)", "b = Vj(1)"],
      reduction: .sum, dtype: .float32, scheme: .blockSum),
    GoldenCase(
      file: "sqdist_minargmin_float64.c", formula: "SqDist(x,y)", aliases: ["x = Vi(2)", "y = Vj(2)"],
      reduction: .minArgMin, dtype: .float64, scheme: .directSum),
    GoldenCase(
      file: "sqdist_argkmin_float32.c", formula: "SqDist(x,y)", aliases: ["x = Vi(2)", "y = Vj(2)"],
      reduction: .argKMin(3), dtype: .float32, scheme: .directSum),
    GoldenCase(
      file: "logsumexp_float32_block.c", formula: "-SqDist(x,y)", aliases: ["x = Vi(2)", "y = Vj(2)"],
      reduction: .maxSumShiftExpWeight, dtype: .float32, scheme: .blockSum),
  ])
func goldenSource(_ c: GoldenCase) throws {
  let plan = try makePlan(c.formula, c.aliases, reduction: c.reduction, dtype: c.dtype, scheme: c.scheme)
  let source = KernelSource.generate(for: plan)
  let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(c.file)").path
  if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
    try source.write(toFile: path, atomically: true, encoding: .utf8)
    return
  }
  let golden = try String(contentsOfFile: path, encoding: .utf8)
  if source != golden {
    let a = source.split(separator: "\n", omittingEmptySubsequences: false)
    let b = golden.split(separator: "\n", omittingEmptySubsequences: false)
    let line = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    let generated = line < a.count ? String(a[line]) : "<end>"
    let expected = line < b.count ? String(b[line]) : "<end>"
    Issue.record("\(c.file) line \(line + 1):\n  generated: \(generated)\n  golden:    \(expected)\n(UPDATE_GOLDENS=1 accepts)")
  }
}

@Test func generationIsDeterministicAndPure() throws {
  // Alias names never reach the C text: only the tree does.
  let a = try makePlan("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"])
  let b = try makePlan("Exp(-SqDist(p_evil,q))*w", ["p_evil = Vi(3)", "q = Vj(3)", "w = Vj(1)"])
  #expect(KernelSource.generate(for: a) == KernelSource.generate(for: b))
  #expect(!KernelSource.generate(for: b).contains("p_evil"))
}
