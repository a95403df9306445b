import ArrayIO
import FormulaLanguage
import KernelEngines
import Testing

@testable import CUDAEngine
import _KSTestSupport

/// The generated CUDA source of a few representative plans, checked against Golden/*.cu.
/// After an intended change of the generator, regenerate them with
/// `UPDATE_GOLDENS=1 swift test --filter GoldenSourceTests` and review the diff.
@Suite struct GoldenSourceTests {
  static let cases: [(String, @Sendable () throws -> KernelPlan)] = [
    ("gauss_f32_block_sum", { try makePlan(EmulationCase.gauss, EmulationCase.xyb, dtype: .float32) }),
    ("gauss_axis0_param_f64_direct_sum", {
      try makePlan("Exp(-g*SqDist(x,y))*b", ["g = Pm(1)", "x = Vj(3)", "y = Vi(3)", "b = Vi(1)"], axis: 0, scheme: .directSum)
    }),
    ("kmin_argkmin_f64", { try makePlan("SqDist(x,y)", EmulationCase.xy, reduction: .kMinArgKMin(3)) }),
    ("min_argmin_f32", { try makePlan("Normalize(x-y)", EmulationCase.xy, reduction: .minArgMin, dtype: .float32) }),
    ("softmax_f32_kahan_acc64", {
      try makePlan(
        "-SqDist(x,y)", EmulationCase.xyw, reduction: .maxSumShiftExpWeight, formula2: "b", softMax: true,
        dtype: .float32, accumulator: .float64, scheme: .kahanScheme)
    }),
    ("logsumexp_f16_acc16_block_sum", {
      try makePlan("-SqDist(x,y)", EmulationCase.xy, reduction: .maxSumShiftExpWeight, dtype: .float16, accumulator: .float16)
    }),
    // Block-sparse sources (ks_reduce_ranges): names ending in _ranges.
    ("gauss_f32_block_sum_ranges", { try makePlan(EmulationCase.gauss, EmulationCase.xyb, dtype: .float32) }),
    ("kmin_argkmin_f64_ranges", { try makePlan("SqDist(x,y)", EmulationCase.xy, reduction: .kMinArgKMin(3)) }),
  ]

  @Test(arguments: cases.map(\.0))
  func generatedSourceMatchesGolden(_ name: String) throws {
    let plan = try Self.cases.first { $0.0 == name }!.1()
    let text = try CUDAKernelSource.generate(for: plan, blockSparse: name.hasSuffix("_ranges")).text
    let path = "\(TestPaths.goldens)/\(name).cu"
    if environment("UPDATE_GOLDENS") == "1" {
      try writeFile(path, text)
      return
    }
    guard let golden = readText(path) else {
      Issue.record("missing golden \(path); create it with UPDATE_GOLDENS=1")
      return
    }
    if golden != text {
      let a = golden.split(separator: "\n", omittingEmptySubsequences: false)
      let b = text.split(separator: "\n", omittingEmptySubsequences: false)
      let line = Array(zip(a, b)).firstIndex { $0 != $1 } ?? min(a.count, b.count)
      let was = line < a.count ? String(a[line]) : "<end>"
      let now = line < b.count ? String(b[line]) : "<end>"
      let message =
        "\(name).cu differs from the golden at line \(line + 1):\n  golden:    \(was)\n  generated: \(now)\n"
        + "(UPDATE_GOLDENS=1 regenerates the goldens)"
      Issue.record("\(message)")
    }
  }

  /// The source is a function of the plan alone: generating twice gives the same text, and it
  /// never contains alias names.
  @Test func generationIsDeterministicAndNameFree() throws {
    let plan = try makePlan(
      "Exp(-SqDist(secret_x, secret_y)) * secret_b", ["secret_x = Vi(3)", "secret_y = Vj(3)", "secret_b = Vj(1)"])
    let a = try CUDAKernelSource.generate(for: plan)
    let b = try CUDAKernelSource.generate(for: plan)
    #expect(a.text == b.text)
    #expect(!a.text.contains("secret"))
    #expect(a.usedArguments == [0, 1, 2])
    #expect(a.blockSize == 192 && a.stagedValuesPerRow == 4)
    #expect(a.parameterTypes(of: .reduce1D).count == 4 + 3)
    #expect(a.entryPoints == [.reduce1D, .reduce2D, .finish2D] && !a.text.contains("ks_reduce_ranges"))
    let sparse = try CUDAKernelSource.generate(for: plan, blockSparse: true)
    #expect(sparse.entryPoints == CUDAKernelSource.EntryPoint.allCases && sparse.text.hasPrefix(String(a.text.prefix(200))))
    #expect(sparse.text.contains("extern \"C\" __global__ void ks_reduce_ranges("))
  }

  @Test func blockSizeFollowsKeOps() {
    #expect(CUDAKernelSource.blockSize(stagedValuesPerRow: 4, valueBytes: 4) == 192)
    #expect(CUDAKernelSource.blockSize(stagedValuesPerRow: 0, valueBytes: 8) == 192)
    #expect(CUDAKernelSource.blockSize(stagedValuesPerRow: 64, valueBytes: 4) == 192)
    #expect(CUDAKernelSource.blockSize(stagedValuesPerRow: 100, valueBytes: 8) == 32)  // 61 -> 32
    #expect(CUDAKernelSource.blockSize(stagedValuesPerRow: 1000, valueBytes: 8) == 6)
  }

  @Test func schemeChoice() {
    let h100 = CUDADeviceInfo(
      ordinal: 0, name: "H100", architecture: 90, multiprocessors: 132, maxThreadsPerMultiprocessor: 2048,
      totalMemory: 80 << 30)
    #expect(CUDALaunchPolicy.preferredScheme(outputRows: 10_000, reducedRows: 10_000, blockSize: 192, device: h100) == .twoD)
    #expect(CUDALaunchPolicy.preferredScheme(outputRows: 100_000, reducedRows: 1_000_000, blockSize: 192, device: h100) == .twoD)
    #expect(CUDALaunchPolicy.preferredScheme(outputRows: 1_000_000, reducedRows: 1_000_000, blockSize: 192, device: h100) == .oneD)
    #expect(CUDALaunchPolicy.preferredScheme(outputRows: 10, reducedRows: 300, blockSize: 192, device: h100) == .oneD)
    // With the occupancy API's resident threads instead of the thread limit.
    #expect(CUDALaunchPolicy.preferredScheme(outputRows: 300_000, reducedRows: 10_000, blockSize: 192, residentThreads: 132 * 8 * 192) == .oneD)
    #expect(CUDALaunchPolicy.preferredScheme(outputRows: 200_000, reducedRows: 10_000, blockSize: 192, residentThreads: 132 * 8 * 192) == .twoD)
  }

  /// The 2D split follows block_sum's period, sqrt(N), and depends on M and N only (not on the
  /// GPU), with bounded partials.
  @Test func twoDimensionalSplitFollowsTheSumPeriod() {
    #expect(CUDALaunchPolicy.sumPeriod(reducedRows: 9) == 100)
    #expect(CUDALaunchPolicy.sumPeriod(reducedRows: 10) == 3)
    #expect(CUDALaunchPolicy.sumPeriod(reducedRows: 10_000) == 100)
    #expect(CUDALaunchPolicy.sumPeriod(reducedRows: 2_000_000) == 1414)
    let s = CUDALaunchPolicy.twoDimensionalSplit(outputRows: 10_000, reducedRows: 10_000, partialBytesPerRow: 4)
    #expect(s.jBlocks == 100 && s.jChunk == 100)
    let one = CUDALaunchPolicy.twoDimensionalSplit(outputRows: 1, reducedRows: 2_000_000, partialBytesPerRow: 4)
    #expect(one.jBlocks == 1415 && one.jChunk == 1414)
    // 1000 periods x 10^6 rows x 8 bytes would be 8 GB: 8 periods per block keep it under 1 GiB.
    let big = CUDALaunchPolicy.twoDimensionalSplit(outputRows: 1_000_000, reducedRows: 1_000_000, partialBytesPerRow: 8)
    #expect(big.jBlocks == 125 && big.jChunk == 8000)
    for m in [1, 7, 1000, 123_457, 3_000_000] {
      for n in [0, 1, 9, 10, 11, 99, 100, 101, 5000, 1_000_003, 40_000_000] {
        for bytes in [4, 8, 80] {
          let split = CUDALaunchPolicy.twoDimensionalSplit(outputRows: m, reducedRows: n, partialBytesPerRow: bytes)
          let period = CUDALaunchPolicy.sumPeriod(reducedRows: n)
          #expect(split.jChunk % period == 0, "M=\(m) N=\(n)")
          #expect(split.jBlocks >= 1 && split.jBlocks <= 65535)
          #expect(split.jBlocks * split.jChunk >= n && (split.jBlocks - 1) * split.jChunk < max(n, 1))
          #expect(split.jBlocks == 1 || split.jBlocks * m * bytes <= CUDALaunchPolicy.maxPartialBytes)
        }
      }
    }
  }

  /// 1D launches hold whole waves of resident blocks (from the occupancy API), at least 4.
  @Test func oneDimensionalChunksAreWholeWaves() {
    let wave = 132 * 8 * 192
    #expect(
      CUDALaunchPolicy.oneDimensionalChunk(reducedRows: 1_000_000, blockSize: 192, multiprocessors: 132, blocksPerMultiprocessor: 8)
        == 4 * wave)
    // Few reduced rows: more waves per launch, so that a launch holds about 2^32 pairs.
    let small = CUDALaunchPolicy.oneDimensionalChunk(reducedRows: 10, blockSize: 192, multiprocessors: 132, blocksPerMultiprocessor: 8)
    #expect(small % wave == 0 && small >= (1 << 32) / 10 && small - wave < (1 << 32) / 10)
    let f64 = CUDALaunchPolicy.oneDimensionalChunk(reducedRows: 1_000_000, blockSize: 192, multiprocessors: 108, blocksPerMultiprocessor: 5)
    #expect(f64 == 4 * 108 * 5 * 192)
  }

  /// NVRTC is paired with the driver: the same major version not newer than the driver first,
  /// then a newer minor, then an older major; never a newer major; never one that does not
  /// compile for the GPU.
  @Test func nvrtcPairsWithTheDriver() {
    #expect(NVRTC.pairingRank(nvrtc: (12, 4), driver: (12, 4)) == 0)
    #expect(NVRTC.pairingRank(nvrtc: (12, 9), driver: (12, 4)) == 1)
    #expect(NVRTC.pairingRank(nvrtc: (11, 8), driver: (12, 4)) == 2)
    #expect(NVRTC.pairingRank(nvrtc: (13, 0), driver: (12, 9)) == nil)
    let all = [90, 100]
    let candidates: [(version: (major: Int, minor: Int), architectures: [Int])] = [
      ((13, 5), all), ((12, 9), all), ((12, 2), [80, 90]), ((11, 8), [80]),
    ]
    #expect(NVRTC.choose(candidates, driver: (13, 0), architecture: 90) == 0)  // 13.5 on 13.0: minor compatibility
    #expect(NVRTC.choose(candidates, driver: (13, 6), architecture: 90) == 0)
    #expect(NVRTC.choose(candidates, driver: (12, 4), architecture: 90) == 2)  // 12.2, not 13.5 nor 12.9
    #expect(NVRTC.choose(candidates, driver: (12, 1), architecture: 90) == 1)  // 12.9 by minor compatibility
    #expect(NVRTC.choose(candidates, driver: (12, 4), architecture: 100) == 1)  // 12.2 has no sm_100
    #expect(NVRTC.choose(candidates, driver: (11, 8), architecture: 80) == 3)
    #expect(NVRTC.choose(candidates, driver: (11, 8), architecture: 90) == nil)
    #expect(NVRTC.choose([((12, 4), [])], driver: (12, 4), architecture: 90) == 0)  // unknown list: accepted
  }
}

@Test(.enabled(if: !BackendSelectionTests.hasGPU, "checks the report without a GPU"))
func benchmarkReportsWhyWithoutAGPU() throws {
  guard case .failure(let why) = CUDAKernelEngine.probe() else { return }
  let report = CUDABenchmark.run(sizes: [100], repetitions: 1)
  #expect(report.text == "GPU benchmark unavailable: \(why.description)\n")
  #expect(!report.passed && !report.gpuAvailable)
}

@Test func benchmarkFormatsNumbers() {
  #expect(CUDABenchmark.formatScientific(8.1e9) == "8.10e+09")
  #expect(CUDABenchmark.formatScientific(9.999e-7) == "1.00e-06")
  #expect(CUDABenchmark.formatSeconds(0.01234) == "12.3 ms")
  #expect(CUDABenchmark.formatSeconds(1.5) == "1.500 s")
}
