import ArrayIO
import CPUEngine
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
  /// `tmp` (float32 here) and reach the float64 accumulator once (keops-semantics.md #13). The
  /// reference engine does exactly that; the compiled CPU engine's SIMD Sum adds pieces of about
  /// sqrt(n) terms in float32 lanes into the float64 accumulator: at least as accurate.
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
    let ranged = try run(g, [x, y], ranges: ranges, backend: "reference").toDoubles()[0]
    let dense = try run(g, [x, y], ranges: nil, backend: "reference").toDoubles()[0]
    let cpu = try run(g, [x, y], ranges: ranges, backend: "CPU").toDoubles()[0]
    var tmp: Float = 0
    for v in values { tmp += v }
    #expect(ranged == Double(tmp))
    let exact = values.reduce(0.0) { $0 + Double($1) }
    #expect(abs(dense - exact) < abs(ranged - exact), "dense \(dense), ranged \(ranged), exact \(exact)")
    #expect(abs(cpu - exact) <= abs(ranged - exact), "CPU ranged \(cpu), reference ranged \(ranged), exact \(exact)")
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
    // The compiled CPU engine checks the same way, with the same messages.
    check([pairs([(0, 4)]), ints([1]), pairs([(0, 2)])] + e, backend: "CPU", "ranges_i[0] = [0, 4) is not a range of output rows")
    check([pairs([(0, 2), (1, 3)]), ints([1, 1]), pairs([(0, 2)])] + e, backend: "CPU", "ranges_i blocks 0 and 1 overlap")
    check([pairs([(0, 3)]), ints([2]), pairs([(0, 2)])] + e, backend: "auto", "slices_i[0] = 2 is past the end of redranges_j")
    let ok = [pairs([(0, 3)]), ints([1]), pairs([(0, 2)])] + e
    #expect(message { _ = try run(g, [x, y], ranges: ok, backend: "CPU") } == "no error")
    // The CUDA engine runs ranges= too: without a GPU the only complaint is the missing GPU.
    let gpu = message { _ = try run(g, [x, y], ranges: ok, backend: "GPU_1D") }
    #expect(Backend.gpuAvailable ? gpu == "no error" : gpu.contains("needs an NVIDIA GPU") && !gpu.contains("ranges"), "\(gpu)")
    check(ok, backend: "cpu", "unknown backend \"cpu\"")
    #expect(message { _ = try run(g, [x, y], ranges: ok, backend: "auto") } == "no error")
  }

  /// `auto` (without a GPU) and `CPU` run ranges= on the compiled CPU engine; `reference` stays available.
  /// Every array of a call's result, flattened (Max_ArgMax and the like return two).
  func values(_ g: Genred, _ args: [NDArray], ranges: [NDArray]?, backend: String) throws -> [Double] {
    switch try g.call(args, backend: backend, ranges: ranges) {
    case .single(let a): return a.toDoubles()
    case .pair(let a, let b): return a.toDoubles() + b.toDoubles()
    }
  }

  @Test func rangesRouteToTheCompiledCPUEngine() throws {
    #expect(try Backend.engine(named: "CPU", deviceID: -1, blockSparse: true).name == "CPU")
    #expect(try Backend.engine(named: "auto", deviceID: -1, blockSparse: true).name == (Backend.gpuAvailable ? "GPU" : "CPU"))
    #expect(try Backend.engine(named: "reference", deviceID: -1, blockSparse: true).name == "reference")
  }

  /// A random block structure for `m` output rows and `n` reduced rows: contiguous blocks with
  /// gaps (uncovered rows), each with 0-4 random reduced intervals (empty, overlapping, any order).
  static func randomHalf(_ m: Int, _ n: Int, _ rng: inout SplitMix64) -> [NDArray] {
    var outRanges: [(Int, Int)] = [], slices: [Int] = [], red: [(Int, Int)] = []
    var i = 0
    while i < m {
      if Int.random(in: 0..<5, using: &rng) == 0 { i += Int.random(in: 1...3, using: &rng); continue }
      let end = min(m, i + Int.random(in: 0...7, using: &rng))
      outRanges.append((i, end))
      for _ in 0..<Int.random(in: 0...4, using: &rng) {
        let a = Int.random(in: 0...n, using: &rng)
        red.append((a, Int.random(in: a...n, using: &rng)))
      }
      slices.append(red.count)
      i = end
    }
    // Blocks in any order (only disjointness is required): block k keeps the k-th run of intervals.
    outRanges.shuffle(using: &rng)
    return [pairs(outRanges), ints(slices), pairs(red)]
  }

  /// The compiled CPU engine against the reference engine over random block structures: every
  /// reduction, both axes, every data type, the three sum schemes; bit for bit where the plan's
  /// kernel is exact or a selection (`KernelSource.usesVectorizedKernel` false), within the SIMD
  /// sums' rounding otherwise (the SIMD Sum and Max_SumShiftExp kernels, as for dense calls).
  @Test func cpuMatchesTheReferenceOnRandomBlockStructures() throws {
    var rng = SplitMix64(seed: 2024)
    let m = 37, n = 29
    let cases: [(op: String, formula: String, formula2: String?, optArg: Int?)] = [
      ("Sum", "Exp(-SqDist(x,y))*(x-y)", nil, nil),
      ("Max", "x-y", nil, nil), ("Min", "x-y", nil, nil),
      ("ArgMax", "x-y", nil, nil), ("ArgMin", "x-y", nil, nil),
      ("Max_ArgMax", "x-y", nil, nil), ("Min_ArgMin", "x-y", nil, nil),
      ("KMin", "x-y", nil, 3), ("ArgKMin", "SqDist(x,y)", nil, 4), ("KMin_ArgKMin", "x-y", nil, 2),
      ("LogSumExp", "-SqDist(x,y)", nil, nil), ("SumSoftMaxWeight", "-SqDist(x,y)", "x-y", nil),
      ("Max_SumShiftExp", "-SqDist(x,y)", nil, nil),
    ]
    var compared = 0, vectorized = 0, uncoveredSeen = false
    for axis in [0, 1] {
      for dtype in [DType.float64, .float32, .float16] {
        let x = array(rng.matrix(axis == 1 ? m : n, 3), dtype), y = array(rng.matrix(axis == 1 ? n : m, 3), dtype)
        for c in cases {
          let schemes = c.op == "Sum" || c.op == "LogSumExp" ? ["direct_sum", "block_sum", "kahan_scheme"] : ["auto"]
          for scheme in schemes {
            let g = try makeGenred(c.formula, ["x = Vi(3)", "y = Vj(3)"]) {
              $0.axis = axis; $0.reductionOp = c.op; $0.formula2 = c.formula2; $0.optArg = c.optArg
              $0.sumScheme = scheme
            }
            var half = Self.randomHalf(m, n, &rng)
            let e = [pairs([]), ints([]), pairs([])]
            if axis == 0 { half = e + half } else { half += e }
            let reference = try values(g, [x, y], ranges: half, backend: "reference")
            let cpu = try values(g, [x, y], ranges: half, backend: "CPU")
            if KernelSource.usesVectorizedKernel(try g.prepare([x, y], ranges: half).0) {
              let tol = dtype == .float64 ? 1e-12 : (dtype == .float32 ? 1e-5 : 2e-3)
              let worst = reference.count == cpu.count ? maxRelativeError(cpu, reference, scale: 1) : .infinity
              #expect(worst < tol, "\(c.op) axis \(axis) \(dtype) \(scheme): CPU \(cpu) vs reference \(reference)")
              vectorized += 1
            } else {
              let same = reference.count == cpu.count
                && zip(reference, cpu).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
              #expect(same, "\(c.op) axis \(axis) \(dtype) \(scheme): CPU \(cpu) vs reference \(reference)")
            }
            // The mask matters: the dense result differs somewhere.
            let dense = try values(g, [x, y], ranges: nil, backend: "reference")
            if zip(dense, reference).contains(where: { $0 != $1 && !($0.isNaN && $1.isNaN) }) { uncoveredSeen = true }
            compared += 1
          }
        }
      }
    }
    #expect(compared == 2 * 3 * (13 + 4))
    // Both kinds ran: the SIMD sums (approximate) and the exact or selection kernels (bit for bit).
    #expect(vectorized > 0 && vectorized < compared)
    #expect(uncoveredSeen)
  }
}
