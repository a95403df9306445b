import ArrayIO
import Foundation
import FormulaLanguage
import Testing

@testable import KernelEngines
import _KSTestSupport

@Suite struct ReferenceEngineTests {
  private let m = 5, n = 13

  /// x: (m, 3), y: (n, 3), b: (n, 2).
  private func data() -> (x: [Double], y: [Double], b: [Double]) {
    var r = SplitMix64(seed: 7)
    return (r.uniform(m * 3), r.uniform(n * 3), r.uniform(n * 2))
  }

  /// Brute-force Gaussian convolution out_i = sum_j exp(-p |x_i - y_j|^2) b_j.
  private func gaussian(_ x: [Double], _ y: [Double], _ b: [Double], p: Double, rows: Int, cols: Int) -> [Double] {
    var out = [Double](repeating: 0, count: rows * 2)
    for i in 0..<rows {
      for j in 0..<cols {
        var d2 = 0.0
        for k in 0..<3 { let t = x[i * 3 + k] - y[j * 3 + k]; d2 += t * t }
        let k = Foundation.exp(-(p * d2))
        for c in 0..<2 { out[i * 2 + c] += k * b[j * 2 + c] }
      }
    }
    return out
  }

  @Test(arguments: [1, 4, 256])
  func gaussianConvolutionAnyBlockSize(_ blockSize: Int) throws {
    let (x, y, b) = data()
    let arrays = [
      NDArray(shape: [m, 3], float64: x), NDArray(shape: [n, 3], float64: y), NDArray(shape: [n, 2], float64: b),
      NDArray(shape: [1], float64: [0.7]),
    ]
    let out = try runReference(
      "Exp(-p*SqDist(x,y))*b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)", "p = Pm(1)"], arrays: arrays,
      axis: 1, outputRows: m, reducedRows: n, blockSize: blockSize)
    let expected = gaussian(x, y, b, p: 0.7, rows: m, cols: n)
    #expect(out.count == m * 2)
    #expect(zip(out, expected).allSatisfy { close($0, $1, tolerance: 1e-14) }, "\(out) vs \(expected)")
  }

  @Test func axisZeroReducesOverI() throws {
    // out_j = sum_i (x_i | y_j): the same as (sum_i x_i | y_j).
    let (x, y, _) = data()
    let out = try runReference(
      "(x|y)", aliases: ["x = Vi(3)", "y = Vj(3)"],
      arrays: [NDArray(shape: [m, 3], float64: x), NDArray(shape: [n, 3], float64: y)], axis: 0, outputRows: n,
      reducedRows: m, blockSize: 2)
    for j in 0..<n {
      var s = 0.0
      for i in 0..<m { for k in 0..<3 { s += x[i * 3 + k] * y[j * 3 + k] } }
      #expect(close(out[j], s, tolerance: 1e-14))
    }
  }

  @Test func blockSizesGiveIdenticalResults() throws {
    var r = SplitMix64(seed: 3)
    let x = r.uniform(4 * 2), y = r.uniform(1000 * 2)
    func run(_ bs: Int) throws -> [Double] {
      try runReference(
        "Exp(-SqDist(x,y))*Sum(x)+Elem(y,1)", aliases: ["x = Vi(2)", "y = Vj(2)"],
        arrays: [NDArray(shape: [4, 2], float64: x), NDArray(shape: [1000, 2], float64: y)], axis: 1, outputRows: 4,
        reducedRows: 1000, blockSize: bs)
    }
    let reference = try run(256)
    #expect(try run(1) == reference)
    #expect(try run(7) == reference)
    #expect(try run(1000) == reference)
    #expect(try run(5000) == reference)
  }

  @Test func sharedSubtreesAreEvaluatedCorrectly() throws {
    let x = [1.0, 2, 3], y = [4.0, 6, 3]
    let out = try runReference(
      "SqDist(x,y) + SqDist(x,y)*SqDist(x,y) + Square(x-y)", aliases: ["x = Vi(3)", "y = Vj(3)"],
      arrays: [NDArray(shape: [1, 3], float64: x), NDArray(shape: [1, 3], float64: y)], axis: 1, outputRows: 1,
      reducedRows: 1)
    let expected: [Double] = [659, 666, 650]  // 25 + 25*25 + (x-y)_k^2
    #expect(out == expected)
  }

  @Test func noOutputRows() throws {
    let out = try runReference(
      "SqDist(x,y)", aliases: ["x = Vi(3)", "y = Vj(3)"],
      arrays: [NDArray(shape: [0, 3], float64: []), NDArray(shape: [2, 3], float64: [1, 2, 3, 4, 5, 6])], axis: 1,
      outputRows: 0, reducedRows: 2)
    #expect(out.isEmpty)
  }

  @Test func emptyReductionsGiveTheInitialValues() throws {
    let x = NDArray(shape: [2, 1], float64: [1, 2]), y = NDArray(shape: [0, 1], float64: [])
    func run(_ k: ReductionKind) throws -> [Double] {
      try runReference("x-y", aliases: ["x = Vi(1)", "y = Vj(1)"], arrays: [x, y], axis: 1, outputRows: 2, reducedRows: 0, reduction: k)
    }
    #expect(try run(.sum) == [0, 0])
    #expect(try run(.min) == [.infinity, .infinity])
    #expect(try run(.max) == [-.infinity, -.infinity])
    #expect(try run(.argMin) == [0, 0])
  }

  @Test func cancellationStopsTheEngine() {
    let token = CancellationToken()
    token.cancel()
    #expect(token.isCancelled)
    #expect(throws: EngineError.cancelled) {
      _ = try runReference(
        "SqDist(x,y)", aliases: ["x = Vi(1)", "y = Vj(1)"],
        arrays: [NDArray(shape: [3, 1], float64: [1, 2, 3]), NDArray(shape: [3, 1], float64: [1, 2, 3])], axis: 1,
        outputRows: 3, reducedRows: 3, cancel: token)
    }
    token.reset()
    #expect(!token.isCancelled)
  }
}

/// The sum schemes, checked bit for bit against the same loops written with Float and Double.
@Suite struct SumSchemeEmulationTests {
  private let count = 1000
  private var values: [Float] {
    var r = SplitMix64(seed: 11)
    return (0..<count).map { _ in Float(Double.random(in: 0...1, using: &r)) }
  }

  private func run(_ scheme: SumScheme, accumulator: Precision) throws -> Double {
    let v = values
    let out = try runReference(
      "y", aliases: ["x = Vi(1)", "y = Vj(1)"],
      arrays: [NDArray(shape: [1, 1], float32: [0]), NDArray(shape: [count, 1], float32: v)], axis: 1, outputRows: 1,
      reducedRows: count, dtype: .float32, scheme: scheme, accumulator: accumulator, blockSize: 64)
    return out[0]
  }

  @Test func directSumInFloat() throws {
    var acc: Float = 0
    for v in values { acc += v }
    #expect(try run(.directSum, accumulator: .float32) == Double(acc))
  }

  @Test func directSumInDouble() throws {
    var acc = 0.0
    for v in values { acc += Double(v) }
    #expect(try run(.directSum, accumulator: .float64) == Double(Float(acc)))
  }

  @Test func blockSumFlushesEverySqrtNTerms() throws {
    // period = floor(sqrt(1000)) = 31: tmp (float) is added to acc after every 31 terms and at the end.
    func blockSum<A: BinaryFloatingPoint>(_: A.Type) -> Double {
      var acc: A = 0
      var tmp: Float = 0
      for (j, v) in values.enumerated() {
        tmp += v
        if (j + 1) % 31 == 0 { acc += A(tmp); tmp = 0 }
      }
      acc += A(tmp)
      return Double(Float(acc))
    }
    #expect(try run(.blockSum, accumulator: .float32) == blockSum(Float.self))
    #expect(try run(.blockSum, accumulator: .float64) == blockSum(Double.self))
  }

  @Test func kahanInFloat() throws {
    var acc: Float = 0, c: Float = 0
    for v in values {
      let y = v - c
      let t = acc + y
      c = (t - acc) - y
      acc = t
    }
    #expect(try run(.kahanScheme, accumulator: .float32) == Double(acc))
  }

  @Test func blockSumWithFewTermsUsesPeriod100() throws {
    // ny < 10: period 100, i.e. one flush at the end; the same as a float sum.
    let v: [Float] = [1e8, 1, 1, 1, 1, 1, 1, 1, 1]
    let out = try runReference(
      "y", aliases: ["x = Vi(1)", "y = Vj(1)"],
      arrays: [NDArray(shape: [1, 1], float32: [0]), NDArray(shape: [9, 1], float32: v)], axis: 1, outputRows: 1,
      reducedRows: 9, dtype: .float32, scheme: .blockSum, accumulator: .float64)
    var tmp: Float = 0
    for x in v { tmp += x }
    #expect(out[0] == Double(tmp))
    #expect(out[0] == 1e8)
  }
}

/// The accumulator's update rules, driven directly.
@Suite struct AccumulatorTests {
  private func fold(_ kind: ReductionKind, d: Int, _ values: [[Double]]) -> [Double] {
    var acc = Accumulator(
      kind: kind, formulaDim: d, scheme: .directSum, compute: .float64, accumulate: .float64, reducedRows: values.count)
    for (j, v) in values.enumerated() { v.withUnsafeBufferPointer { acc.add($0.baseAddress!, index: j) } }
    var out = [Double](repeating: .nan, count: kind.rawDimension(formulaDim: d, weightDim: d - 1))
    out.withUnsafeMutableBufferPointer { acc.finish(into: $0.baseAddress!, data: .float64) }
    return out
  }

  @Test func kMinIsStableAndComponentwise() {
    let values: [[Double]] = [[3, 0], [1, 0], [2, 1], [1, -1], [1, 0]]
    // Component 0: 1 (j=1), 1 (j=3), 1 (j=4); component 1: -1 (j=3), 0 (j=0), 0 (j=1).
    #expect(fold(.kMin(3), d: 2, values) == [1, -1, 1, 0, 1, 0])
    #expect(fold(.argKMin(3), d: 2, values) == [1, 3, 3, 0, 4, 1])
    #expect(fold(.kMinArgKMin(2), d: 2, values) == [1, -1, 1, 3, 1, 0, 3, 0])
  }

  @Test func kMinWithFewerValuesThanK() {
    #expect(fold(.kMin(3), d: 1, [[5], [4]]) == [4, 5, .infinity])
    #expect(fold(.argKMin(3), d: 1, [[5], [4]]) == [1, 0, 0])
  }

  @Test func argReductionsKeepTheFirstOnTies() {
    let values: [[Double]] = [[2], [5], [5], [2]]
    #expect(fold(.argMax, d: 1, values) == [1])
    #expect(fold(.argMin, d: 1, values) == [0])
    #expect(fold(.maxArgMax, d: 1, values) == [5, 1])
    #expect(fold(.minArgMin, d: 1, values) == [2, 0])
  }

  @Test func shiftExpMerge() {
    // (f, g) pairs; m = max f, s = sum exp(f - m) g.
    let values: [[Double]] = [[1, 2], [3, 1], [2, 4]]
    let out = fold(.maxSumShiftExpWeight, d: 2, values)
    #expect(out[0] == 3)
    let s = 2 * Foundation.exp(-2.0) + 1 + 4 * Foundation.exp(-1.0)
    #expect(Swift.abs(out[1] - s) < 1e-15)
  }
}
