import ArrayIO
import FormulaLanguage
import KernelEngines
import Testing

@testable import CPUEngine
import _KSTestSupport

/// The block-sparse (`ranges=`) SIMD kernels against the reference engine's ranges.

/// A random block structure over `m` output rows and `n` reduced indices: blocks of 1-90 rows
/// (more than one row block of the kernels) with gaps of uncovered rows, in shuffled order, each
/// with 0-5 intervals drawn from: empty, single-element, at either end of the array, crossing
/// scratch blocks, the whole array, overlapping ones. Some blocks have no interval at all.
func randomBlockRanges(_ m: Int, _ n: Int, _ rng: inout SplitMix64) -> BlockRanges {
  var blocks: [(Int, Int)] = [], intervals: [[(Int, Int)]] = []
  var i = Int.random(in: 0...2, using: &rng)
  while i < m {
    let end = min(m, i + Int.random(in: 1...90, using: &rng))
    var list: [(Int, Int)] = []
    for _ in 0..<Int.random(in: 0...5, using: &rng) {
      let a = Int.random(in: 0..<n, using: &rng)
      switch Int.random(in: 0..<7, using: &rng) {
      case 0: list.append((a, a))
      case 1: list.append((a, a + 1))
      case 2: list.append((0, Int.random(in: 1...n, using: &rng)))
      case 3: list.append((Int.random(in: 0..<n, using: &rng), n))
      case 4: list.append((0, n))
      default: list.append((a, Int.random(in: a...n, using: &rng)))
      }
    }
    blocks.append((i, end))
    intervals.append(list)
    i = end + (Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 1...5, using: &rng) : 0)
  }
  let order = Array(blocks.indices).shuffled(using: &rng)
  var outputRanges: [Int] = [], sliceEnds: [Int] = [], reducedRanges: [Int] = []
  for b in order {
    outputRanges += [blocks[b].0, blocks[b].1]
    for (a, e) in intervals[b] { reducedRanges += [a, e] }
    sliceEnds.append(reducedRanges.count / 2)
  }
  return BlockRanges(outputRanges: outputRanges, sliceEnds: sliceEnds, reducedRanges: reducedRanges)
}

/// The reductions whose dense kernel is SIMD, one or more per kernel shape.
private let rangedCases: [ReductionCase] = [
  ReductionCase(name: "Sum gaussian", formula: "Exp(-SqDist(x,y))*b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: .sum),
  ReductionCase(name: "Sum vector", formula: "Exp(-SqDist(x,y))*(x-y)", aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: .sum),
  ReductionCase(name: "Min", formula: "(x-y)*b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: .min),
  ReductionCase(name: "ArgMin ties", formula: "Floor(3*y)+Floor(x)", aliases: ["x = Vi(2)", "y = Vj(2)"], reduction: .argMin),
  ReductionCase(name: "ArgKMin", formula: "SqDist(x,y)", aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: .argKMin(5)),
  ReductionCase(name: "KMin_ArgKMin ties", formula: "Floor(4*y)", aliases: ["x = Vi(1)", "y = Vj(1)"], reduction: .kMinArgKMin(3)),
  ReductionCase(name: "LogSumExp", formula: "-SqDist(x,y)", aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: .maxSumShiftExpWeight),
  ReductionCase(
    name: "SumSoftMaxWeight", formula: "-SqDist(x,y)*b", aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"],
    reduction: .maxSumShiftExpWeight, formula2: "y", softMax: true),
]

@Test("ranged SIMD kernels match the reference engine's ranges", arguments: rangedCases)
func rangedSIMDMatchesReference(_ c: ReductionCase) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  var rng = SplitMix64(seed: 11)
  var uncovered = 0, compared = 0
  for axis in [1, 0] {
    for dtype in [DType.float64, .float32] {
      for scheme in c.reduction.isSumType ? [SumScheme.blockSum, .directSum] : [.directSum] {
        let plan = try makePlan(
          c.formula, c.aliases, reduction: c.reduction, axis: axis, formula2: c.formula2, softMax: c.softMax,
          dtype: dtype, scheme: scheme)
        // The SIMD path, not the exact one: no per-index loop over the intervals in the source.
        #expect(KernelSource.shape(of: plan) != .exact, "\(c.name): \(KernelSource.shape(of: plan))")
        let source = KernelSource.generateRanged(for: plan)
        let exactLoops = source.components(separatedBy: "for (long ks_j = ks_redranges[2 * ks_l]").count - 1
        #expect(exactLoops == (KernelSource.shape(of: plan) == .simdShift ? 1 : 0), "\(c.name)")
        for (m, n) in [(173, 611), (9, 5), (70, 1)] {
          var args = randomArguments(plan, nI: axis == 1 ? m : n, nJ: axis == 1 ? n : m, seed: UInt64(m * 7 + n), integers: c.name.hasSuffix("ties"))
          if let k = plan.formula.argumentNames.firstIndex(of: "b") {
            args.arrays[k] = NDArray(shape: args.arrays[k].shape, doubles: args.arrays[k].toDoubles().map { abs($0) + 0.1 }, dtype: dtype)
          }
          let ranges = randomBlockRanges(m, n, &rng)
          args.ranges = ranges
          var covered = [Bool](repeating: false, count: m)
          for b in 0..<ranges.blockCount { for i in ranges.outputRanges[2 * b]..<ranges.outputRanges[2 * b + 1] { covered[i] = true } }
          uncovered += covered.filter { !$0 }.count
          let failure = try compareWithReference(plan, args, engine: engine)
          #expect(failure == nil, "\(c.name) axis=\(axis) \(dtype) \(scheme) \(m)x\(n): \(failure ?? "")")
          compared += 1
        }
      }
    }
  }
  #expect(compared >= 12)
  #expect(uncovered > 0, "the random structures left no row uncovered")
}

/// One block over every row, one interval over every index: the dense result (bit for bit for
/// the selection kernels, within the SIMD sums' rounding for the others).
@Test("ranged SIMD kernels with full ranges equal the dense kernels", arguments: rangedCases)
func fullRangesEqualDense(_ c: ReductionCase) throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path)
  for dtype in [DType.float64, .float32] {
    let plan = try makePlan(c.formula, c.aliases, reduction: c.reduction, formula2: c.formula2, softMax: c.softMax, dtype: dtype)
    let (m, n) = (201, 777)
    var args = randomArguments(plan, nI: m, nJ: n, seed: 5, integers: c.name.hasSuffix("ties"))
    let dense = try engine.reduce(plan, args, cancel: nil)
    args.ranges = BlockRanges(outputRanges: [0, m], sliceEnds: [1], reducedRanges: [0, n])
    let ranged = try engine.reduce(plan, args, cancel: nil)
    #expect(ranged.count == dense.count)
    if KernelSource.shape(of: plan) == .simdSelect {
      #expect(zip(ranged, dense).allSatisfy { same($0, $1) }, "\(c.name) \(dtype)")
    } else {
      let tol = dtype == .float64 ? 1e-12 : 1e-5
      let worst = maxRelativeError(ranged, dense, scale: 1e-3)
      #expect(worst < tol, "\(c.name) \(dtype): relative difference \(worst)")
    }
    // And split into many blocks and intervals covering the same pairs: the same values again.
    var outputRanges: [Int] = [], sliceEnds: [Int] = [], reducedRanges: [Int] = []
    var i = 0
    while i < m {
      let e = min(m, i + 1 + i % 37)
      outputRanges += [i, e]
      var j = 0
      while j < n { let f = min(n, j + 1 + (j * 7 + i) % 300); reducedRanges += [j, f]; j = f }
      sliceEnds.append(reducedRanges.count / 2)
      i = e
    }
    args.ranges = BlockRanges(outputRanges: outputRanges, sliceEnds: sliceEnds, reducedRanges: reducedRanges)
    let pieces = try engine.reduce(plan, args, cancel: nil)
    if KernelSource.shape(of: plan) == .simdSelect {
      #expect(zip(pieces, dense).allSatisfy { same($0, $1) }, "\(c.name) \(dtype) in pieces")
    } else if KernelSource.shape(of: plan) == .simdSum {
      // Sums in another order (pieces of up to 300 indices, each one's tail summed in order after
      // its whole vectors), so compared relative to sum_j |F| with `compareWithReference`'s
      // float32 tolerance (the relative difference of the results can be large where terms cancel).
      let scale = try magnitudeScale(plan, args)
      let worst = zip(zip(pieces, dense), scale).map { abs($0.0 - $0.1) / ($1 + 1e-300) }.max() ?? .infinity
      #expect(worst < (dtype == .float64 ? 1e-12 : 2e-6), "\(c.name) \(dtype) in pieces: difference \(worst) of sum |F|")
    } else {
      let worst = maxRelativeError(pieces, dense, scale: 1e-3)
      #expect(worst < (dtype == .float64 ? 1e-12 : 1e-5), "\(c.name) \(dtype) in pieces: relative difference \(worst)")
    }
  }
}

/// A cancelled block-sparse SIMD call stops with `.cancelled`.
@Test func rangedSIMDKernelIsCancellable() throws {
  let dir = try TemporaryDirectory()
  defer { dir.remove() }
  let engine = CPUKernelEngine(cacheDirectory: dir.path, threads: 1)
  let plan = try makePlan("Exp(-SqDist(x,y))", ["x = Vi(3)", "y = Vj(3)"], dtype: .float32)
  var args = randomArguments(plan, nI: 4000, nJ: 4000)
  args.ranges = BlockRanges(outputRanges: [0, 4000], sliceEnds: [1], reducedRanges: [0, 4000])
  let token = CancellationToken()
  token.cancel()
  #expect(throws: EngineError.cancelled) { _ = try engine.reduce(plan, args, cancel: token) }
}
