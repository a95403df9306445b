import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// numpy's indexing: basic (integers, slices, `None`, `...`) and advanced (integer and boolean
/// arrays), for reading and for assignment.
///
/// ks arrays are values, so an index always gives a copy (numpy gives a view for basic indexing;
/// writes through a view are the one visible difference).
enum Indexing {
  /// Where the elements of `a[index]` come from: the result's shape and the flat offset in `a` of
  /// each of its elements, in row-major order.
  struct Plan {
    var shape: [Int]
    var offsets: [Int]
    /// The index was a single boolean mask (for numpy's assignment message).
    var singleMask: Bool
  }

  /// One index item after normalisation.
  private enum Item {
    case integer(Int)
    case slice(Int?, Int?, Int?)
    case newAxis
    case ellipsis
    case intArray(NDArray)
    case mask(NDArray)
  }

  static let invalidIndex =
    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are valid indices"

  private static func normalize(_ v: Value, at range: SourceRange) throws(ShellError) -> Item {
    switch v {
    case .int(let i): return .integer(i)
    case .slice(let a, let b, let c): return .slice(a, b, c)
    case .none: return .newAxis
    case .ellipsis: return .ellipsis
    case .array(let a):
      switch a.dtype {
      case .int64: return a.rank == 0 ? .integer(Int(a.int64Values[0])) : .intArray(a)
      case .bool:
        if a.rank == 0 { throw ShellError("a 0-d boolean index is not supported in ks", at: range) }
        return .mask(a)
      default:
        throw ShellError(a.rank == 0 ? invalidIndex : "arrays used as indices must be of integer (or boolean) type", at: range)
      }
    case .list, .tuple:
      let a = try NumpyOps.array(from: v, dtype: nil, at: range)
      if a.count == 0 { return .intArray(a.cast(.int64)) }
      return try normalize(.array(a), at: range)
    case .bool:
      throw ShellError("a boolean scalar index (True/False) is not supported in ks", at: range)
    default:
      throw ShellError(invalidIndex, at: range)
    }
  }

  static func outOfBounds(_ i: Int, axis: Int, size: Int, at range: SourceRange) -> ShellError {
    ShellError("index \(i) is out of bounds for axis \(axis) with size \(size)", at: range)
  }

  /// The plan of `a[index]`.
  static func plan(_ a: NDArray, _ rawIndex: [Value], at range: SourceRange, itemRanges: [SourceRange]? = nil) throws(ShellError) -> Plan {
    var index = rawIndex
    var ranges = itemRanges ?? []
    if ranges.count != index.count { ranges = [SourceRange](repeating: range, count: index.count) }
    if index.count == 1, case .tuple(let items) = index[0] {
      index = items
      ranges = [SourceRange](repeating: ranges[0], count: items.count)
    }
    var items: [Item] = []
    for (k, v) in index.enumerated() { items.append(try normalize(v, at: ranges[k])) }
    var singleMask = false
    if items.count == 1, case .mask = items[0] { singleMask = true }

    // Expand the ellipsis and check the number of indexed dimensions.
    var consumed = 0
    var ellipses = 0
    for item in items {
      switch item {
      case .integer, .slice, .intArray: consumed += 1
      case .mask(let m): consumed += m.rank
      case .ellipsis: ellipses += 1
      case .newAxis: break
      }
    }
    if ellipses > 1 { throw ShellError("an index can only have a single ellipsis ('...')", at: range) }
    if consumed > a.rank {
      throw ShellError(
        "too many indices for array: array is \(a.rank)-dimensional, but \(consumed) were indexed", at: range)
    }
    let fill = [Item](repeating: .slice(nil, nil, nil), count: a.rank - consumed)
    if let e = items.firstIndex(where: { if case .ellipsis = $0 { return true } else { return false } }) {
      items.replaceSubrange(e...e, with: fill)
      ranges.replaceSubrange(e...e, with: [SourceRange](repeating: ranges[e], count: fill.count))
    } else {
      items += fill
      ranges += [SourceRange](repeating: range, count: fill.count)
    }

    let hasAdvanced = items.contains { item in
      switch item {
      case .intArray, .mask: return true
      default: return false
      }
    }
    let strides = cStrides(a.shape)
    var base = 0
    // Each output dimension group: its shape and the offsets it adds.
    var groups: [(shape: [Int], offsets: [Int])] = []
    // Advanced indices: (index array, axis); and where the block goes.
    var advanced: [(NDArray, Int, SourceRange)] = []
    var firstAdvancedGroup: Int?
    var lastAdvancedItem = -1
    var advancedAdjacent = true
    var axis = 0
    for (k, item) in items.enumerated() {
      switch item {
      case .integer(let i) where !hasAdvanced:
        let n = a.shape[axis]
        let j = i < 0 ? i + n : i
        guard j >= 0 && j < n else { throw outOfBounds(i, axis: axis, size: n, at: ranges[k]) }
        base += j * strides[axis]
        axis += 1
      case .slice(let s0, let s1, let st):
        if st == 0 { throw ShellError("slice step cannot be zero", at: ranges[k]) }
        let picked = sliceIndices(count: a.shape[axis], s0, s1, st)
        let s = strides[axis]
        groups.append(([picked.count], picked.map { $0 * s }))
        axis += 1
      case .newAxis:
        groups.append(([1], [0]))
      case .ellipsis:
        break
      case .integer(let i):
        if lastAdvancedItem >= 0 && lastAdvancedItem != k - 1 { advancedAdjacent = false }
        lastAdvancedItem = k
        if firstAdvancedGroup == nil { firstAdvancedGroup = groups.count }
        advanced.append((NDArray.scalar(int: Int64(i)), axis, ranges[k]))
        axis += 1
      case .intArray(let arr):
        if lastAdvancedItem >= 0 && lastAdvancedItem != k - 1 { advancedAdjacent = false }
        lastAdvancedItem = k
        if firstAdvancedGroup == nil { firstAdvancedGroup = groups.count }
        advanced.append((arr, axis, ranges[k]))
        axis += 1
      case .mask(let m):
        if lastAdvancedItem >= 0 && lastAdvancedItem != k - 1 { advancedAdjacent = false }
        lastAdvancedItem = k
        if firstAdvancedGroup == nil { firstAdvancedGroup = groups.count }
        for d in 0..<m.rank where m.shape[d] != a.shape[axis + d] {
          throw ShellError(
            "boolean index did not match indexed array along axis \(axis + d); size of axis is \(a.shape[axis + d]) but size of corresponding boolean axis is \(m.shape[d])",
            at: ranges[k])
        }
        // The mask's true positions, one index array per masked dimension.
        let mstrides = cStrides(m.shape)
        var coords = [[Int64]](repeating: [], count: m.rank)
        for (flat, b) in m.boolValues.enumerated() where b {
          var r = flat
          for d in 0..<m.rank {
            coords[d].append(Int64(r / mstrides[d]))
            r %= mstrides[d]
          }
        }
        for d in 0..<m.rank {
          advanced.append((NDArray(shape: [coords[d].count], storage: .int64(coords[d])), axis + d, ranges[k]))
        }
        axis += m.rank
      }
    }

    if !advanced.isEmpty {
      guard let bshape = broadcastShapes(advanced.map { $0.0.shape }) else {
        throw ShellError(
          "shape mismatch: indexing arrays could not be broadcast together with shapes "
            + advanced.map { compactShape($0.0.shape) }.joined(separator: " "), at: range)
      }
      let n = try Allocation.check(bshape, .int64, at: range)
      var offsets = [Int](repeating: 0, count: n)
      for (arr, ax, itemRange) in advanced {
        let size = a.shape[ax], s = strides[ax]
        let values = arr.int64Values
        let where_ = broadcastOffsets(arr.shape, to: bshape)
        for j in 0..<n {
          let i = Int(values[where_[j]])
          let k = i < 0 ? i + size : i
          guard k >= 0 && k < size else { throw outOfBounds(i, axis: ax, size: size, at: itemRange) }
          offsets[j] += k * s
        }
      }
      let position = advancedAdjacent ? (firstAdvancedGroup ?? 0) : 0
      groups.insert((bshape, offsets), at: position)
    }

    let shape = groups.flatMap(\.shape)
    try Allocation.check(shape, .int64, at: range)
    var offsets = [base]
    for g in groups {
      var next: [Int] = []
      next.reserveCapacity(offsets.count * g.offsets.count)
      for o in offsets {
        for d in g.offsets { next.append(o + d) }
      }
      offsets = next
    }
    return Plan(shape: shape, offsets: offsets, singleMask: singleMask)
  }

  /// `a[index]`.
  static func get(_ a: NDArray, _ index: [Value], at range: SourceRange, itemRanges: [SourceRange]? = nil) throws(ShellError) -> NDArray {
    // Fast path: leading integers select a contiguous block.
    if !index.isEmpty, index.count <= a.rank {
      var ints: [Int] = []
      for v in index {
        switch v {
        case .int(let i): ints.append(i)
        case .array(let x) where x.rank == 0 && x.dtype == .int64: ints.append(Int(x.int64Values[0]))
        default: break
        }
      }
      if ints.count == index.count {
        let strides = cStrides(a.shape)
        var base = 0
        for (axis, i) in ints.enumerated() {
          let n = a.shape[axis]
          let j = i < 0 ? i + n : i
          let r = itemRanges.flatMap { $0.count == index.count ? $0[axis] : nil } ?? range
          guard j >= 0 && j < n else { throw outOfBounds(i, axis: axis, size: n, at: r) }
          base += j * strides[axis]
        }
        let rest = Array(a.shape[ints.count...])
        let m = rest.reduce(1, *)
        return a.gathered(Array(base..<(base + m)), shape: rest)
      }
    }
    let p = try plan(a, index, at: range, itemRanges: itemRanges)
    return a.gathered(p.offsets, shape: p.shape)
  }

  /// `a[index] = value`, as a new array.
  static func set(
    _ a: NDArray, _ index: [Value], _ value: Value, at range: SourceRange, itemRanges: [SourceRange]? = nil
  ) throws(ShellError) -> NDArray {
    let p = try plan(a, index, at: range, itemRanges: itemRanges)
    if case .complex = value, !a.dtype.isComplex {
      throw ShellError(
        "cannot assign a complex number into a \(a.dtype.rawValue) array; make the array complex first (a = a.astype(complex))",
        type: "TypeError", at: range)
    }
    let v = try NumpyOps.toArray(value, at: range).cast(a.dtype)
    // numpy lets the value have extra leading dimensions of size 1.
    var vshape = v.shape
    while vshape.count > p.shape.count, vshape.first == 1 { vshape.removeFirst() }
    guard let b = broadcastShapes([vshape, p.shape]), b == p.shape else {
      if p.singleMask && v.rank == 1 {
        throw ShellError(
          "NumPy boolean array indexing assignment cannot assign \(v.count) input values to the \(p.offsets.count) output values where the mask is true",
          at: range)
      }
      throw ShellError(
        "could not broadcast input array from shape \(compactShape(v.shape)) into shape \(compactShape(p.shape))", at: range)
    }
    let source = broadcastOffsets(vshape, to: p.shape)
    func scatter<T>(_ dst: [T], _ src: [T]) -> [T] {
      var out = dst
      out.withUnsafeMutableBufferPointer { o in
        for (k, off) in p.offsets.enumerated() { o[off] = src[source[k]] }
      }
      return out
    }
    let storage: ArrayStorage
    switch (a.storage, v.storage) {
    case (.float16(let d), .float16(let s)): storage = .float16(scatter(d, s))
    case (.float32(let d), .float32(let s)): storage = .float32(scatter(d, s))
    case (.float64(let d), .float64(let s)): storage = .float64(scatter(d, s))
    case (.int64(let d), .int64(let s)): storage = .int64(scatter(d, s))
    case (.bool(let d), .bool(let s)): storage = .bool(scatter(d, s))
    case (.complex64(let d), .complex64(let s)): storage = .complex64(scatter(d, s))
    case (.complex128(let d), .complex128(let s)): storage = .complex128(scatter(d, s))
    default: throw ShellError("internal error: assignment dtype mismatch", at: range)
    }
    return NDArray(shape: a.shape, storage: storage)
  }
}

