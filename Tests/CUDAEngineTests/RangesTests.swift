import ArrayIO
import FormulaLanguage
import KernelEngines
import Testing

@testable import CUDAEngine
import _KSTestSupport

/// A block-sparse description exercising every rule for `m` output rows and `n` reduced rows:
/// overlapping intervals (reduced twice), an empty interval, an empty block, uncovered rows
/// between blocks and at the end (initial value), blocks listed out of row order.
func testRanges(outputRows m: Int, reducedRows n: Int) -> BlockRanges {
  let c1 = m / 3, c2 = min(m, c1 + 5), c3 = max(c2, 2 * m / 3), c4 = max(c3, m - 3)
  let k = { (v: Int) in min(max(v, 0), n) }
  // Blocks: C first (out of row order), then A, the empty block D, then B.
  let output = [c3, c4, 0, c1, c3, c3, c2, c3]
  let reduced = [
    k(0), k(1), k(5), n,  // C
    0, n / 2, n / 4, n,  // A: overlapping
    k(3), k(3), k(n - 1), n,  // B: an empty interval, then the last row
  ]
  return BlockRanges(outputRanges: output, sliceEnds: [2, 4, 4, 6], reducedRanges: reduced)
}

extension MockDriverTests {
  /// `ks_reduce_ranges`, emulated on the CPU through the Swift launch path, against the
  /// reference engine with the same ranges, whatever scheme the engine was asked for (KeOps runs
  /// block-sparse reductions with the 1D scheme only).
  @Test(arguments: EmulationCase.all)
  func emulatedRangedKernelMatchesReference(_ c: EmulationCase) throws {
    let launches = try compareEmulated(c, ranges: true)
    for (scheme, log) in launches where c.nI > 0 {
      #expect(!log.isEmpty && log.allSatisfy { $0.contains("ks_reduce_ranges") }, "\(scheme.rawValue): \(log)")
    }
  }

  /// The rows of a block no interval covers, and of no block, get the reduction's initial value.
  @Test func rangedRowsOfNoBlockGetTheInitialValue() throws {
    _ = try requireNVRTC()
    let mock = try MockCUDA.shared()
    let library = try Self.emulation.get()
    let index = EmulationCase.all.firstIndex { $0.name == "kmin_argkmin_ties" }!
    let plan = try EmulationCase.all[index].plan()
    var args = randomArguments(plan, nI: 201, nJ: 397, seed: 7, range: -3...3, integers: true)
    args.ranges = BlockRanges(outputRanges: [10, 20], sliceEnds: [1], reducedRanges: [0, 397])
    mock.reset()
    mock.set("emulation", library)
    mock.set("prefix", "k\(index)_")
    let got = try mock.engine(scheme: .oneD).reduce(plan, args, cancel: nil)
    let width = plan.formula.rawDimension  // K = 3 ranks x (value, index) of one component
    #expect(width == 6 && got.count == 201 * width)
    for i in [0, 9, 20, 200] {
      let row = Array(got[(i * width)..<((i + 1) * width)])
      #expect(row.filter { $0 == .infinity }.count == width / 2, "row \(i): \(row)")
      #expect(row.filter { $0 == 0 }.count == width / 2, "row \(i): \(row)")
    }
    #expect(got[10 * width..<20 * width].allSatisfy { $0.isFinite })
  }
}

@Suite struct RangesLaunchTableTests {
  /// The table covers every output row once, blocks of at most `blockSize` rows, block ids as given.
  @Test func tableCoversEveryRowOnce() {
    for (m, b) in [(0, 192), (1, 192), (201, 192), (1000, 64), (385, 32)] {
      let r = testRanges(outputRows: m, reducedRows: 50)
      let t = CUDALaunchPolicy.rangesTable(r, outputRows: m, blockSize: b)
      #expect(t.count % 3 == 0)
      var seen = [Int](repeating: 0, count: m)
      for e in stride(from: 0, to: t.count, by: 3) {
        let (blk, lo, hi) = (Int(t[e]), Int(t[e + 1]), Int(t[e + 2]))
        #expect(lo < hi && hi - lo <= b)
        for i in lo..<hi {
          seen[i] += 1
          let owner = (0..<r.blockCount).first { r.outputRanges[2 * $0] <= i && i < r.outputRanges[2 * $0 + 1] } ?? -1
          #expect(owner == blk, "row \(i) of m=\(m) in table block \(blk), owned by \(owner)")
        }
      }
      #expect(seen.allSatisfy { $0 == 1 }, "m=\(m) block=\(b)")
    }
    let t = CUDALaunchPolicy.rangesTable(
      BlockRanges(outputRanges: [5, 400], sliceEnds: [0], reducedRanges: []), outputRows: 401, blockSize: 192)
    #expect(t == [0, 5, 197, 0, 197, 389, 0, 389, 400, -1, 0, 5, -1, 400, 401])
  }
}
