// libFuzzer target: the formula parser and builder (formula text, alias text, reductions).
//
// Input: UTF-8 text; the first line is the formula, the following lines are aliases. Every
// input must end in a value or a thrown Diagnostic/FormulaError; a trap is a bug.
import FormulaLanguage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFormula(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  let formula = lines.isEmpty ? "" : lines.removeFirst()
  _ = try? FormulaParser.parse(formula)
  for a in lines { _ = try? AliasDeclaration.parse(a, positionInList: 0) }
  let reductions: [ReductionKind] = [.sum, .max, .argMin, .kMin(3)]
  let r = reductions[size % reductions.count]
  _ = try? ReducedFormula.compile(formula: formula, aliases: lines, reduction: r, axis: size & 1)
  return 0
}
