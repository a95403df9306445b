/// How the CUDA engine shapes its launches.
public enum CUDALaunchPolicy {
  /// The scheme `backend="GPU"` uses (KeOps' `"GPU"` always runs 1D; ks picks 2D when it helps).
  ///
  /// The 1D scheme runs one thread per output row, so it can keep at most `outputRows` threads
  /// busy. A GPU holds `multiprocessors x maxThreadsPerMultiprocessor` resident threads (2048 per
  /// SM on every architecture since Volta: 270,336 on an H100 SXM). With fewer output rows than
  /// that, 1D leaves SMs idle, and the 2D scheme splits the reduced rows into blocks too, at the
  /// cost of a partial buffer and a second kernel. So: 2D when
  /// `outputRows < multiprocessors x maxThreadsPerMultiprocessor` and there are at least two tiles
  /// of reduced rows to split (`reducedRows >= 2 x blockSize`); 1D otherwise.
  public static func preferredScheme(
    outputRows: Int, reducedRows: Int, blockSize: Int, device: CUDADeviceInfo
  ) -> CUDAScheme {
    let resident = device.multiprocessors * max(1, device.maxThreadsPerMultiprocessor)
    return outputRows < resident && reducedRows >= 2 * blockSize ? .twoD : .oneD
  }

  /// The most device memory the 2D partial buffer may take.
  public static let maxPartialBytes = 1 << 30

  /// The 2D split of the reduced rows: `jBlocks` blocks of `jChunk` rows (a whole number of tiles).
  ///
  /// It aims at about two waves of resident blocks over the whole grid
  /// (`2 x multiprocessors x maxThreadsPerMultiprocessor / blockSize` blocks), uses at least one
  /// tile per block, at most 65,535 blocks in y (CUDA's limit), and keeps the partial buffer
  /// (`jBlocks x outputRows x partialBytesPerRow`) under `maxPartialBytes`.
  public static func twoDimensionalSplit(
    outputRows: Int, reducedRows: Int, blockSize: Int, device: CUDADeviceInfo, partialBytesPerRow: Int
  ) -> (jBlocks: Int, jChunk: Int) {
    let b = max(1, blockSize)
    let tiles = max(1, (reducedRows + b - 1) / b)
    let iBlocks = max(1, (outputRows + b - 1) / b)
    let target = max(1, 2 * device.multiprocessors * max(1, device.maxThreadsPerMultiprocessor) / b)
    var jBlocks = (target + iBlocks - 1) / iBlocks
    jBlocks = min(jBlocks, tiles, 65535, max(1, maxPartialBytes / max(1, outputRows * partialBytesPerRow)))
    jBlocks = max(1, jBlocks)
    let tilesPerBlock = (tiles + jBlocks - 1) / jBlocks
    jBlocks = (tiles + tilesPerBlock - 1) / tilesPerBlock
    return (jBlocks, tilesPerBlock * b)
  }
}
