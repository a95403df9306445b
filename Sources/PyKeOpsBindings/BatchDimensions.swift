import ArrayIO
import FormulaLanguage
import KSDiagnostics
import KernelOperations
import ShellRuntime

/// Batch dimensions, as PyKeOps has them: arrays of shape (..., M, D) for i- and j-variables and
/// (..., D) for parameters, whose leading axes broadcast (size 1 against any size). The reduction
/// runs once per batch index on the slices, on whichever engine the call uses, and the results
/// are stacked into (..., M, D).
struct BatchPlan {
  /// The broadcast batch shape.
  let shape: [Int]
  /// For each argument, its batch axes padded on the left to `shape.count` (no batch: all 1).
  let argumentBatch: [[Int]]
  /// For each argument, the shape of one batch slice.
  let sliceShapes: [[Int]]

  /// The batch plan of a call, or nil when no argument has batch axes.
  init?(_ arguments: [Variable], _ arrays: [NDArray], at range: SourceRange) throws(ShellError) {
    guard arguments.count == arrays.count else { return nil }
    var leads: [[Int]] = []
    var slices: [[Int]] = []
    for (v, a) in zip(arguments, arrays) {
      let base = v.category == .parameter ? 1 : 2
      let lead = a.rank > base ? Array(a.shape.prefix(a.rank - base)) : []
      leads.append(lead)
      slices.append(a.rank > base ? Array(a.shape.suffix(base)) : a.shape)
    }
    guard leads.contains(where: { !$0.isEmpty }) else { return nil }
    let rank = leads.map(\.count).max() ?? 0
    let padded = leads.map { [Int](repeating: 1, count: rank - $0.count) + $0 }
    guard let shape = broadcastShapes(padded) else {
      let shown = zip(arrays, leads).filter { !$0.1.isEmpty }.map { tupleShape($0.0.shape) }.joined(separator: ", ")
      throw ShellError("the batch dimensions of the arrays do not broadcast: \(shown)", type: "ValueError", at: range)
    }
    self.shape = shape
    argumentBatch = padded
    sliceShapes = slices
  }

  /// The number of batch slices.
  var count: Int { shape.reduce(1, *) }

  /// Argument `k`'s slice for batch index `b` (flat, row-major over `shape`).
  func slice(_ arrays: [NDArray], _ k: Int, _ b: Int) -> NDArray {
    let a = arrays[k]
    let sliceCount = sliceShapes[k].reduce(1, *)
    guard a.count > sliceCount else { return a.reshaped(sliceShapes[k]) }
    // The argument's own batch index: its size-1 axes stay at 0.
    var rest = b
    var index = 0
    var step = 1
    var position = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      position[d] = rest % shape[d]
      rest /= shape[d]
    }
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      let n = argumentBatch[k][d]
      index += (n == 1 ? 0 : position[d]) * step
      step *= n
    }
    let start = index * sliceCount
    return a.gathered(Array(start..<(start + sliceCount)), shape: sliceShapes[k])
  }

  /// Runs `body` on each batch slice and stacks the results into (batch..., result shape).
  func run(_ arrays: [NDArray], _ body: ([NDArray]) throws(ShellError) -> Value) throws(ShellError) -> Value {
    var parts: [Value] = []
    for b in 0..<count {
      parts.append(try body((0..<arrays.count).map { slice(arrays, $0, b) }))
    }
    if case .tuple(let first) = parts[0] {
      return .tuple((0..<first.count).map { j in stack(parts.map { if case .tuple(let t) = $0 { return t[j] } else { return $0 } }) })
    }
    return stack(parts)
  }

  func stack(_ parts: [Value]) -> Value {
    let arrays = parts.compactMap { if case .array(let a) = $0 { return a } else { return nil } }
    guard let first = arrays.first, arrays.count == parts.count else { return parts[0] }
    let values = arrays.flatMap { $0.toDoubles() }
    return .array(NDArray(shape: shape + first.shape, doubles: values, dtype: first.dtype))
  }
}
