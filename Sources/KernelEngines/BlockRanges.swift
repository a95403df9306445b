import ArrayIO

/// Why a block-sparse `ranges` description was refused.
public struct BlockRangesError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// KeOps' block-sparse description of one reduction (keops-semantics.md section 4.4): the three
/// arrays of the `ranges` 6-tuple that apply to the reduction's axis.
///
/// Block k covers the output rows `[outputRanges[2k], outputRanges[2k+1])`; each of them is reduced
/// over the reduced intervals `l` in `[sliceEnds[k-1], sliceEnds[k])` (an implicit 0 before the
/// first block), interval l being `[reducedRanges[2l], reducedRanges[2l+1])`, in that order.
/// Overlapping reduced intervals are reduced twice; rows covered by no block get the reduction's
/// initial value (0 for Sum, +inf for Min). Output blocks must not overlap (KeOps assumes it).
public struct BlockRanges: Sendable, Equatable {
  /// (Mc, 2) flattened: `[start, end)` of output rows per block (`ranges_i` for axis=1).
  public var outputRanges: [Int]
  /// (Mc,): cumulative end indices into the reduced intervals (`slices_i` for axis=1).
  public var sliceEnds: [Int]
  /// (Mcc, 2) flattened: `[start, end)` reduced intervals (`redranges_j` for axis=1).
  public var reducedRanges: [Int]
  /// The user-facing names of the three arrays, for messages.
  public var names: [String]

  public init(
    outputRanges: [Int], sliceEnds: [Int], reducedRanges: [Int],
    names: [String] = ["ranges_i", "slices_i", "redranges_j"]
  ) {
    self.outputRanges = outputRanges
    self.sliceEnds = sliceEnds
    self.reducedRanges = reducedRanges
    self.names = names
  }

  /// Reads the three arrays, checking their dtype (integer) and shapes (Mc,2), (Mc,), (Mcc,2).
  public init(
    outputRanges: NDArray, sliceEnds: NDArray, reducedRanges: NDArray,
    names: [String] = ["ranges_i", "slices_i", "redranges_j"]
  ) throws(BlockRangesError) {
    func ints(_ a: NDArray, _ name: String) throws(BlockRangesError) -> [Int] {
      guard case .int64(let v) = a.storage else {
        throw BlockRangesError("\(name) must be an int64 array, got \(a.dtype.rawValue)")
      }
      return v.map { Int($0) }
    }
    func shape(_ s: [Int]) -> String { s.count == 1 ? "(\(s[0]),)" : "(" + s.map(String.init).joined(separator: ", ") + ")" }
    let r = try ints(outputRanges, names[0])
    let s = try ints(sliceEnds, names[1])
    let red = try ints(reducedRanges, names[2])
    guard outputRanges.rank == 2, outputRanges.shape[1] == 2 else {
      throw BlockRangesError("\(names[0]) must have shape (Mc, 2), got \(shape(outputRanges.shape))")
    }
    let mc = outputRanges.shape[0]
    guard sliceEnds.rank == 1, sliceEnds.shape[0] == mc else {
      throw BlockRangesError("\(names[1]) must have shape (\(mc),) like \(names[0]) has \(mc) blocks, got \(shape(sliceEnds.shape))")
    }
    guard reducedRanges.rank == 2, reducedRanges.shape[1] == 2 else {
      throw BlockRangesError("\(names[2]) must have shape (Mcc, 2), got \(shape(reducedRanges.shape))")
    }
    self.init(outputRanges: r, sliceEnds: s, reducedRanges: red, names: names)
  }

  /// The number of output blocks (Mc).
  public var blockCount: Int { sliceEnds.count }
  /// The number of reduced intervals (Mcc).
  public var intervalCount: Int { reducedRanges.count / 2 }

  /// Checks the description against a reduction with `outputRows` output rows and `reducedRows`
  /// reduced rows: bounds, non-decreasing slices, disjoint output blocks.
  public func validate(outputRows: Int, reducedRows: Int) throws(BlockRangesError) {
    let (rn, sn, redn) = (names[0], names[1], names[2])
    guard outputRanges.count == 2 * sliceEnds.count else {
      throw BlockRangesError("\(rn) has \(outputRanges.count / 2) blocks but \(sn) has \(sliceEnds.count) entries; they must match")
    }
    guard reducedRanges.count % 2 == 0 else {
      throw BlockRangesError("\(redn) must have shape (Mcc, 2)")
    }
    for k in 0..<blockCount {
      let a = outputRanges[2 * k], b = outputRanges[2 * k + 1]
      guard a >= 0, a <= b, b <= outputRows else {
        throw BlockRangesError(
          "\(rn)[\(k)] = [\(a), \(b)) is not a range of output rows: need 0 <= start <= end <= \(outputRows)")
      }
    }
    var previous = 0
    for k in 0..<blockCount {
      let e = sliceEnds[k]
      guard e >= previous else {
        throw BlockRangesError(
          "\(sn) must be non-decreasing (cumulative ends into \(redn)): \(sn)[\(k)] = \(e) < \(previous)")
      }
      guard e <= intervalCount else {
        throw BlockRangesError("\(sn)[\(k)] = \(e) is past the end of \(redn), which has \(intervalCount) intervals")
      }
      previous = e
    }
    for l in 0..<intervalCount {
      let a = reducedRanges[2 * l], b = reducedRanges[2 * l + 1]
      guard a >= 0, a <= b, b <= reducedRows else {
        throw BlockRangesError(
          "\(redn)[\(l)] = [\(a), \(b)) is not a range of reduced rows: need 0 <= start <= end <= \(reducedRows)")
      }
    }
    // Disjoint output blocks (empty blocks cover nothing).
    let order = (0..<blockCount).filter { outputRanges[2 * $0] < outputRanges[2 * $0 + 1] }
      .sorted { outputRanges[2 * $0] < outputRanges[2 * $1] }
    for (p, q) in zip(order, order.dropFirst()) where outputRanges[2 * q] < outputRanges[2 * p + 1] {
      let (a, b) = (min(p, q), max(p, q))
      throw BlockRangesError(
        "\(rn) blocks \(a) and \(b) overlap ([\(outputRanges[2 * a]), \(outputRanges[2 * a + 1])) and [\(outputRanges[2 * b]), \(outputRanges[2 * b + 1]))); output blocks must be disjoint")
    }
  }

  /// The block covering each output row, or -1.
  func blockOfRow(outputRows m: Int) -> [Int] {
    var block = [Int](repeating: -1, count: m)
    for k in 0..<blockCount {
      for i in outputRanges[2 * k]..<outputRanges[2 * k + 1] { block[i] = k }
    }
    return block
  }

  /// The reduced intervals of block k, as indices into `reducedRanges`.
  func intervals(ofBlock k: Int) -> Range<Int> {
    (k == 0 ? 0 : sliceEnds[k - 1])..<sliceEnds[k]
  }
}
