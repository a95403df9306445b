import ArrayIO
import Foundation
import KernelEngines
import KernelOperations
import Testing
import _KSTestSupport

/// An int64 array of shape (rows, 2) from [start, end) pairs.
private func pairs(_ p: [(Int, Int)]) -> NDArray {
  NDArray(shape: [p.count, 2], int64: p.flatMap { [Int64($0.0), Int64($0.1)] })
}

/// An int64 array of shape (n,).
private func ints(_ v: [Int]) -> NDArray { NDArray(shape: [v.count], int64: v.map { Int64($0) }) }

/// PyKeOps' `from_matrix(ranges_i, ranges_j, keep)`: the 6-tuple of a cluster-pair mask.
private func fromMatrix(_ ri: [(Int, Int)], _ rj: [(Int, Int)], _ keep: [[Bool]]) -> [NDArray] {
  var slicesI: [Int] = [], redJ: [(Int, Int)] = []
  for (a, row) in keep.enumerated() {
    _ = a
    for (b, k) in row.enumerated() where k { redJ.append(rj[b]) }
    slicesI.append(redJ.count)
  }
  var slicesJ: [Int] = [], redI: [(Int, Int)] = []
  for b in rj.indices {
    for a in ri.indices where keep[a][b] { redI.append(ri[a]) }
    slicesJ.append(redI.count)
  }
  return [pairs(ri), ints(slicesI), pairs(redJ), pairs(rj), ints(slicesJ), pairs(redI)]
}

private func run(_ g: Genred, _ args: [NDArray], ranges: [NDArray]?, backend: String = "auto") throws -> NDArray {
  guard case .single(let a) = try g.call(args, backend: backend, ranges: ranges) else {
    throw GenredTestFailure(description: "expected one array")
  }
  return a
}

@Suite struct RangesTests {
  /// Two clusters of 20 points, close enough to interact, and a block mask that keeps (A,A),
  /// (B,A), (B,B).
  static let clusters: (x: [[Double]], b: [[Double]]) = {
    var rng = SplitMix64(seed: 7)
    let a = rng.matrix(20, 3, in: 0...1)
    let bPts = rng.matrix(20, 3, in: 0...1).map { $0.map { $0 + 0.5 } }
    return (a + bPts, rng.matrix(40, 1))
  }()
  static let keep = [[true, false], [true, true]]
  static let clusterRanges = [(0, 20), (20, 40)]

  func cluster(_ i: Int) -> Int { i < 20 ? 0 : 1 }

  func gauss(_ u: [Double], _ v: [Double]) -> Double {
    var s = 0.0
    for k in 0..<u.count { s += (u[k] - v[k]) * (u[k] - v[k]) }
    return Foundation.exp(-s)
  }

  @Test func gaussianSumWithABlockMaskMatchesTheDenseMaskedSum() throws {
    let (x, b) = Self.clusters
    let g = try makeGenred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"]) { $0.axis = 1 }
    let ranges = fromMatrix(Self.clusterRanges, Self.clusterRanges, Self.keep)
    let out = try run(g, [array(x), array(x), array(b)], ranges: ranges).toDoubles()
    for i in 0..<40 {
      var s = 0.0
      for j in 0..<40 where Self.keep[cluster(i)][cluster(j)] { s += gauss(x[i], x[j]) * b[j][0] }
      #expect(abs(out[i] - s) <= 1e-12 * max(1, abs(s)), "row \(i): \(out[i]) vs \(s)")
    }
    // The mask matters: A rows miss the (A,B) block; B rows keep every block.
    let dense = try run(g, [array(x), array(x), array(b)], ranges: nil).toDoubles()
    #expect(abs(out[0] - dense[0]) > 1e-3)
    #expect(abs(out[25] - dense[25]) < 1e-12)
  }

  /// axis=0 reads the last three arrays (ranges_j, slices_j, redranges_i) only.
  @Test func axisZeroUsesTheMirrorImage() throws {
    let (x, b) = Self.clusters
    let g = try makeGenred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vi(1)"]) { $0.axis = 0 }
    var ranges = fromMatrix(Self.clusterRanges, Self.clusterRanges, Self.keep)
    // The axis=1 half is not read: empty arrays of the right dtype are fine.
    ranges[0] = NDArray(shape: [0, 2], int64: [])
    ranges[1] = NDArray(shape: [0], int64: [])
    ranges[2] = NDArray(shape: [0, 2], int64: [])
    let out = try run(g, [array(x), array(x), array(b)], ranges: ranges).toDoubles()
    for j in 0..<40 {
      var s = 0.0
      for i in 0..<40 where Self.keep[cluster(i)][cluster(j)] { s += gauss(x[i], x[j]) * b[i][0] }
      #expect(abs(out[j] - s) <= 1e-12 * max(1, abs(s)), "column \(j): \(out[j]) vs \(s)")
    }
  }

  /// Rows no block covers get the reduction's initial value through FinalizeOutput.
  @Test func uncoveredRowsGetTheInitialValue() throws {
    var rng = SplitMix64(seed: 3)
    let x = array(rng.matrix(10, 1)), y = array(rng.matrix(6, 1))
    let ranges = [pairs([(0, 5)]), ints([1]), pairs([(0, 6)]), pairs([]), ints([]), pairs([])]
    for (op, uncovered) in [("Sum", 0.0), ("Min", Double.infinity), ("Max", -Double.infinity), ("ArgMin", 0.0)] {
      let g = try makeGenred("x-y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1; $0.reductionOp = op }
      let out = try run(g, [x, y], ranges: ranges).toDoubles()
      let dense = try run(g, [x, y], ranges: nil).toDoubles()
      #expect(Array(out[0..<5]) == Array(dense[0..<5]), "\(op)")
      #expect(out[5...].allSatisfy { $0 == uncovered }, "\(op): \(out)")
    }
    // LogSumExp of an uncovered row: log(0) + (-inf), no NaN from a block_sum merge.
    let g = try makeGenred("x-y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1; $0.reductionOp = "LogSumExp" }
    let out = try run(g, [x, y], ranges: ranges).toDoubles()
    #expect(out[5...].allSatisfy { $0 == -.infinity }, "\(out)")
  }

  @Test func overlappingReducedIntervalsAreCountedTwice() throws {
    let x = array([[1], [2], [3]]), y = array((0..<10).map { [Double($0)] })
    let g = try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1 }
    let ranges = [pairs([(0, 3)]), ints([2]), pairs([(0, 10), (5, 10)]), pairs([]), ints([]), pairs([])]
    let out = try run(g, [x, y], ranges: ranges).toDoubles()
    // sum(0..<10) + sum(5..<10) = 45 + 35 = 80
    #expect(out == [80, 160, 240])
  }

  /// KeOps' CpuReduc_ranges never flushes block_sum's temporary periodically: all terms go into
  /// `tmp` (float32 here) and reach the float64 accumulator once (keops-semantics.md #13).
  @Test func blockSumWithRangesAccumulatesInTheDataType() throws {
    let n = 200_000
    var rng = SplitMix64(seed: 11)
    let values = (0..<n).map { _ in Float.random(in: 0..<1, using: &rng) }
    let y = NDArray(shape: [n, 1], float32: values)
    let x = NDArray(shape: [1, 1], float32: [1])
    let g = try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) {
      $0.axis = 1; $0.sumScheme = "block_sum"; $0.dtypeAcc = "float64"
    }
    let ranges = [pairs([(0, 1)]), ints([1]), pairs([(0, n)]), pairs([]), ints([]), pairs([])]
    let ranged = try run(g, [x, y], ranges: ranges).toDoubles()[0]
    let dense = try run(g, [x, y], ranges: nil).toDoubles()[0]
    var tmp: Float = 0
    for v in values { tmp += v }
    #expect(ranged == Double(tmp))
    let exact = values.reduce(0.0) { $0 + Double($1) }
    #expect(abs(dense - exact) < abs(ranged - exact), "dense \(dense), ranged \(ranged), exact \(exact)")
  }

  @Test func kernelSolveWithFullRangesMatchesTheDenseSolve() throws {
    var rng = SplitMix64(seed: 5)
    let x = array(rng.matrix(30, 3)), b = array(rng.matrix(30, 2))
    let gamma = NDArray(shape: [1], float64: [2])
    let solver = try KernelSolve(
      formula: "Exp(-g*SqDist(x,y))*a", aliases: ["g = Pm(1)", "x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
      varinvalias: "a", axis: 1)
    let full = [pairs([(0, 30)]), ints([1]), pairs([(0, 30)]), pairs([(0, 30)]), ints([1]), pairs([(0, 30)])]
    let (dense, r1) = try solver.solve([gamma, x, x, b], alpha: 0.5, backend: "reference")
    let (ranged, r2) = try solver.solve([gamma, x, x, b], alpha: 0.5, ranges: full)
    #expect(r1.iterations == r2.iterations)
    let d = dense.toDoubles(), r = ranged.toDoubles()
    for k in d.indices { #expect(abs(d[k] - r[k]) < 1e-10) }
    // A block-diagonal operator: the solve runs per block, still converging.
    let split = [pairs([(0, 15), (15, 30)]), ints([1, 2]), pairs([(0, 15), (15, 30)]), pairs([]), ints([]), pairs([])]
    let (_, r3) = try solver.solve([gamma, x, x, b], alpha: 0.5, ranges: split)
    #expect(r3.converged)
  }

  func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func invalidRangesAreRefusedWithClearErrors() throws {
    let x = array([[1], [2], [3]]), y = array([[1], [2]])
    let g = try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1 }
    let e = [pairs([]), ints([]), pairs([])]
    func check(_ ranges: [NDArray], backend: String = "reference", _ expected: String, line: Int = #line) {
      let m = message { _ = try run(g, [x, y], ranges: ranges, backend: backend) }
      #expect(m.contains(expected), "line \(line): \(m)")
    }
    check(Array(e.prefix(2)), "ranges: ranges must be a 6-tuple")
    check([NDArray(shape: [1, 2], float64: [0, 3]), ints([1]), pairs([(0, 2)])] + e, "ranges_i must be an int64 array, got float64")
    check([ints([0, 3]), ints([1]), pairs([(0, 2)])] + e, "ranges_i must have shape (Mc, 2), got (2,)")
    check([pairs([(0, 3)]), ints([1, 1]), pairs([(0, 2)])] + e, "slices_i must have shape (1,)")
    check([pairs([(0, 4)]), ints([1]), pairs([(0, 2)])] + e, "ranges_i[0] = [0, 4) is not a range of output rows")
    check([pairs([(0, 3)]), ints([1]), pairs([(1, 3)])] + e, "redranges_j[0] = [1, 3) is not a range of reduced rows")
    check([pairs([(0, 3)]), ints([2]), pairs([(0, 2)])] + e, "slices_i[0] = 2 is past the end of redranges_j")
    check([pairs([(0, 1), (1, 3)]), ints([1, 0]), pairs([(0, 2)])] + e, "slices_i must be non-decreasing")
    check([pairs([(0, 2), (1, 3)]), ints([1, 1]), pairs([(0, 2)])] + e, "ranges_i blocks 0 and 1 overlap")
    let ok = [pairs([(0, 3)]), ints([1]), pairs([(0, 2)])] + e
    // The compiled CPU engine has no block-sparse kernels yet: "CPU" runs such calls on the reference engine.
    #expect(message { _ = try run(g, [x, y], ranges: ok, backend: "CPU") } == "no error")
    check(ok, backend: "GPU_1D", "does not support ranges=")
    check(ok, backend: "cpu", "unknown backend \"cpu\"")
    #expect(message { _ = try run(g, [x, y], ranges: ok, backend: "auto") } == "no error")
  }
}
