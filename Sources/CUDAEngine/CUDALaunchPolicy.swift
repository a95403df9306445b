/// How the CUDA engine shapes its launches.
import KernelEngines

public enum CUDALaunchPolicy {
  /// The scheme `backend="GPU"` uses (KeOps' `"GPU"` always runs 1D; ks picks 2D when it helps).
  ///
  /// The 1D scheme runs one thread per output row, so it can keep at most `outputRows` threads
  /// busy. A GPU holds `residentThreads` threads of the 1D kernel at once (multiprocessors x
  /// resident blocks per multiprocessor, from the occupancy API, x block size). With fewer output
  /// rows than that, 1D leaves SMs idle, and the 2D scheme splits the reduced rows into blocks
  /// too, at the cost of a partial buffer and a second kernel. So: 2D when
  /// `outputRows < residentThreads` and there are at least two tiles of reduced rows to split
  /// (`reducedRows >= 2 x blockSize`); 1D otherwise.
  public static func preferredScheme(
    outputRows: Int, reducedRows: Int, blockSize: Int, residentThreads: Int
  ) -> CUDAScheme {
    outputRows < residentThreads && reducedRows >= 2 * blockSize ? .twoD : .oneD
  }

  /// `preferredScheme` with the thread limit of the device (`multiprocessors x
  /// maxThreadsPerMultiprocessor`) standing in for the occupancy.
  public static func preferredScheme(
    outputRows: Int, reducedRows: Int, blockSize: Int, device: CUDADeviceInfo
  ) -> CUDAScheme {
    preferredScheme(
      outputRows: outputRows, reducedRows: reducedRows, blockSize: blockSize,
      residentThreads: device.multiprocessors * max(1, device.maxThreadsPerMultiprocessor))
  }

  /// Output rows per launch of the 1D scheme: a whole number of waves, at least 4, where a wave
  /// is `multiprocessors x blocksPerMultiprocessor` resident blocks of `blockSize` threads (the
  /// occupancy API's count for the kernel: the Gaussian kernel fits 8 blocks of 192 threads per
  /// SM in float32, 5 in float64, not the 2048-thread limit). More waves when a launch would
  /// otherwise hold fewer than 2^32 pairs. Launches are cut only so that Ctrl-C is checked between
  /// them; 4 waves keep the partial last wave of each launch under a quarter of its time.
  public static func oneDimensionalChunk(
    reducedRows: Int, blockSize: Int, multiprocessors: Int, blocksPerMultiprocessor: Int
  ) -> Int {
    let wave = max(1, multiprocessors) * max(1, blocksPerMultiprocessor) * max(1, blockSize)
    let pairRows = (1 << 32) / max(1, reducedRows)
    return wave * max(minimumWaves, (pairRows + wave - 1) / wave)
  }

  /// The fewest waves of blocks a 1D launch holds.
  public static let minimumWaves = 4

  /// The most device memory the 2D partial buffer may take.
  public static let maxPartialBytes = 1 << 30

  /// KeOps' `block_sum` period for `reducedRows` terms: `floor(sqrt(n))`, 100 when n < 10 (the
  /// generated kernels compute the same `(int)sqrt((double)n)`).
  public static func sumPeriod(reducedRows n: Int) -> Int {
    n < 10 ? 100 : Int(Double(n).squareRoot())
  }

  /// The 2D split of the reduced rows: `jBlocks` blocks of `jChunk` consecutive rows.
  ///
  /// A block is one `block_sum` period (`sumPeriod`), or the fewest whole periods that keep the
  /// partial buffer (`jBlocks x outputRows x partialBytesPerRow`) under `maxPartialBytes` and
  /// `jBlocks` under CUDA's 65,535. The split depends on M and N only, never on the GPU: every
  /// partial of a `block_sum` is then one of the reference's period sums (each block flushes at
  /// its end), and the second kernel adds them in j order as the reference does, so the 2D result
  /// does not depend on the number of SMs and equals the 1D one.
  public static func twoDimensionalSplit(
    outputRows: Int, reducedRows: Int, partialBytesPerRow: Int
  ) -> (jBlocks: Int, jChunk: Int) {
    let period = sumPeriod(reducedRows: reducedRows)
    let periods = max(1, (reducedRows + period - 1) / period)
    let maxBlocks = max(1, min(65535, maxPartialBytes / max(1, outputRows * partialBytesPerRow)))
    let perBlock = (periods + maxBlocks - 1) / maxBlocks
    let chunk = perBlock * period
    return (max(1, (reducedRows + chunk - 1) / chunk), chunk)
  }

  /// The launch table of `ks_reduce_ranges`: one row (output block, first row, end row) per thread
  /// block, at most `blockSize` rows each, for every non-empty output block of `ranges` in order,
  /// then the runs of output rows no block covers, with block -1 (they get the initial value).
  /// Together the rows cover `0 ..< outputRows` once.
  public static func rangesTable(_ ranges: BlockRanges, outputRows m: Int, blockSize: Int) -> [Int64] {
    var table: [Int64] = []
    func add(_ block: Int, _ lo: Int, _ hi: Int) {
      var a = lo
      while a < hi {
        let b = min(hi, a + blockSize)
        table += [Int64(block), Int64(a), Int64(b)]
        a = b
      }
    }
    var covered = [Bool](repeating: false, count: m)
    for k in 0..<ranges.blockCount {
      let lo = ranges.outputRanges[2 * k], hi = ranges.outputRanges[2 * k + 1]
      add(k, lo, hi)
      for i in lo..<max(lo, hi) { covered[i] = true }
    }
    var i = 0
    while i < m {
      if covered[i] {
        i += 1
        continue
      }
      var e = i
      while e < m && !covered[e] { e += 1 }
      add(-1, i, e)
      i = e
    }
    return table
  }
}
