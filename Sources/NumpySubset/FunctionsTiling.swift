import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Repetition and splitting: `tile`, `repeat`, `meshgrid`, `split`, `array_split`.
  static func tilingFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["tile", FunctionDoc("np.tile(A, reps)", "A repeated reps times along each axis", "np.tile([1, 2], 3)")] = { ctx in
      let a = try ctx.array(0, "A")
      let reps = try ctx.required(1, "reps")
      try ctx.finish(maxPositional: 2)
      return .array(try tile(a, reps, at: ctx.rangeOf(1, "reps")))
    }
    t["repeat", FunctionDoc("np.repeat(a, repeats, axis=None)", "each element repeated", "np.repeat([1, 2], 2)")] = { ctx in
      let a = try ctx.array(0, "a")
      let repeats = try ctx.required(1, "repeats")
      let axis = try ctx.singleAxis(2, rank: a.rank)
      try ctx.finish(maxPositional: 3)
      return .array(try repeatElements(a, repeats, axis: axis, at: ctx.rangeOf(1, "repeats")))
    }
    t["meshgrid", FunctionDoc("np.meshgrid(*xi, indexing='xy')", "coordinate matrices from coordinate vectors", "X, Y = np.meshgrid(np.arange(3), np.arange(2))")] = { ctx in
      let inputs = ctx.positional
      var arrays: [NDArray] = []
      for (k, v) in inputs.enumerated() { arrays.append(try NumpyOps.toArray(v, at: ctx.rangeOf(k))) }
      _ = try ctx.optional(nil, "copy")
      let sparse = try ctx.flag(nil, "sparse", default: false)
      var xy = true
      if let v = try ctx.optional(nil, "indexing") {
        let r = ctx.rangeOf(keyword: "indexing")
        switch v {
        case .string(let s) where s.text == "xy": xy = true
        case .string(let s) where s.text == "ij": xy = false
        default: throw ShellError("Valid values for `indexing` are 'xy' and 'ij'.", type: "ValueError", at: r)
        }
      }
      try ctx.finish(maxPositional: Int.max)
      return .tuple(try meshgrid(arrays, xy: xy, sparse: sparse, at: ctx.range).map { .array($0) })
    }
    let splitDocs = [
      "split": FunctionDoc("np.split(ary, indices_or_sections, axis=0)", "sub-arrays of equal size (or cut at the given indices)", "a, b = np.split(np.arange(6), 2)"),
      "array_split": FunctionDoc("np.array_split(ary, indices_or_sections, axis=0)", "as np.split, but the sections may differ in size", "np.array_split(np.arange(7), 3)"),
    ]
    for name in ["split", "array_split"] {
      t[name, splitDocs[name]] = { ctx in
        let a = try ctx.array(0, "ary")
        let spec = try ctx.required(1, "indices_or_sections")
        let specRange = ctx.rangeOf(1, "indices_or_sections")
        guard a.rank > 0 else { throw ShellError("tuple index out of range", type: "IndexError", at: ctx.rangeOf(0, "ary")) }
        let axis = try ctx.singleAxis(2, rank: a.rank, default: 0) ?? 0
        try ctx.finish(maxPositional: 3)
        let n = a.shape[axis]
        var bounds: [Int] = [0]
        if case .int(let sections) = NumpyOps.pythonIndex(spec) {
          if name == "split" {
            if sections == 0 { throw ShellError("integer modulo by zero", type: "ZeroDivisionError", at: specRange) }
            if n % sections != 0 { throw ShellError("array split does not result in an equal division", type: "ValueError", at: specRange) }
          }
          if sections <= 0 { throw ShellError("number sections must be larger than 0.", type: "ValueError", at: specRange) }
          // One (empty) array per section: refuse counts no memory could hold.
          _ = try ElementCount.checked([sections], itemSize: 128, dtypeName: a.dtype.rawValue, at: specRange)
          let size = n / sections, extra = n % sections
          for k in 0..<sections { bounds.append(bounds[k] + size + (k < extra ? 1 : 0)) }
        } else {
          let indices = try NumpyOps.toArray(spec, at: specRange)
          guard indices.rank <= 1, indices.dtype == .int64 || indices.count == 0 else {
            throw ShellError("indices_or_sections must be an integer or a sequence of integers", type: "TypeError", at: specRange)
          }
          bounds += indices.int64Values.map { Int($0) }
          bounds.append(n)
        }
        var parts: [Value] = []
        for k in 0..<(bounds.count - 1) {
          // Python slice semantics: negative indices count from the end, everything clipped.
          func clip(_ i: Int) -> Int { Swift.min(Swift.max(i < 0 ? i + n : i, 0), n) }
          let lo = clip(bounds[k]), hi = Swift.max(clip(bounds[k + 1]), lo)
          parts.append(.array(take(a, Array(lo..<hi), axis: axis)))
        }
        return .list(parts)
      }
    }
    return t
  }

  /// The elements of `a` at positions `indices` along `axis` (numpy's `take`), other axes whole.
  static func take(_ a: NDArray, _ indices: [Int], axis: Int) -> NDArray {
    var shape = a.shape
    let n = shape[axis]
    shape[axis] = indices.count
    let inner = a.shape[(axis + 1)...].reduce(1, *)
    let outer = a.shape[..<axis].reduce(1, *)
    var offsets: [Int] = []
    offsets.reserveCapacity(outer * indices.count * inner)
    for o in 0..<outer {
      for i in indices {
        let base = (o * n + i) * inner
        for k in 0..<inner { offsets.append(base + k) }
      }
    }
    return a.gathered(offsets, shape: shape)
  }

  /// `np.tile(A, reps)`: `A` repeated `reps[k]` times along each axis (the shorter of the two
  /// padded with leading ones).
  static func tile(_ a: NDArray, _ repsValue: Value, at range: SourceRange) throws(ShellError) -> NDArray {
    var reps: [Int]
    switch NumpyOps.pythonIndex(repsValue) {
    case .int(let i): reps = [i]
    case .tuple(let items), .list(let items):
      reps = []
      for item in items {
        guard case .int(let i) = NumpyOps.pythonIndex(item) else {
          throw ShellError("'\(item.typeName)' object cannot be interpreted as an integer", type: "TypeError", at: range)
        }
        reps.append(i)
      }
    case .array(let r) where r.rank <= 1 && (r.dtype == .int64 || r.count == 0):
      reps = r.int64Values.map { Int($0) }
    default:
      throw ShellError("'\(repsValue.typeName)' object cannot be interpreted as an integer", type: "TypeError", at: range)
    }
    if reps.contains(where: { $0 < 0 }) { throw ShellError("negative dimensions are not allowed", type: "ValueError", at: range) }
    let rank = Swift.max(a.rank, reps.count)
    let shape = [Int](repeating: 1, count: rank - a.rank) + a.shape
    reps = [Int](repeating: 1, count: rank - reps.count) + reps
    var out: [Int] = []
    for k in 0..<rank {
      let (p, overflow) = shape[k].multipliedReportingOverflow(by: reps[k])
      if overflow { throw ElementCount.tooBig(at: range) }
      out.append(p)
    }
    _ = try ElementCount.checked(out, a.dtype, at: range)
    // Read the source through the interleaved shape (rep_0, n_0, rep_1, n_1, ...), the
    // repetitions with stride 0.
    let strides = cStrides(shape)
    var viewShape: [Int] = [], viewStrides: [Int] = []
    for k in 0..<rank {
      viewShape += [reps[k], shape[k]]
      viewStrides += [0, strides[k]]
    }
    return a.gathered(stridedOffsets(viewShape, viewStrides, base: 0), shape: out)
  }

  /// `np.repeat(a, repeats, axis)`: each element (or each slice along `axis`) repeated; `repeats`
  /// is an int or one count per element of the axis. Without an axis, `a` is flattened.
  static func repeatElements(_ a: NDArray, _ repeatsValue: Value, axis: Int?, at range: SourceRange) throws(ShellError) -> NDArray {
    let src = axis == nil ? a.withShape([a.count]) : a
    let ax = axis ?? 0
    if src.rank == 0 {
      // np.repeat of a 0-d array with axis=None flattens it first; axis= on it is an error.
      return try repeatElements(src.withShape([1]), repeatsValue, axis: 0, at: range)
    }
    let n = src.shape[ax]
    let repeats = try NumpyOps.toArray(repeatsValue, at: range)
    guard repeats.dtype == .int64 || repeats.dtype == .bool || repeats.count == 0 else {
      throw ShellError(
        "Cannot cast array data from dtype('\(repeats.dtype.rawValue)') to dtype('int64') according to the rule 'safe'",
        type: "TypeError", at: range)
    }
    guard repeats.rank <= 1 else { throw ShellError("object too deep for desired array", type: "ValueError", at: range) }
    var counts = repeats.int64Values.map { Int($0) }
    if counts.count == 1 {
      if counts[0] < 0 { throw ShellError("negative dimensions are not allowed", type: "ValueError", at: range) }
      counts = [Int](repeating: counts[0], count: n)
    } else if counts.count != n {
      throw ShellError(
        "operands could not be broadcast together with shape \(compactShape([n])) \(compactShape([counts.count]))",
        type: "ValueError", at: range)
    }
    if counts.contains(where: { $0 < 0 }) { throw ShellError("repeats may not contain negative values.", type: "ValueError", at: range) }
    var total = 0
    for c in counts { total = try ElementCount.sum(total, c, at: range) }
    var shape = src.shape
    shape[ax] = total
    _ = try ElementCount.checked(shape, src.dtype, at: range)
    var indices: [Int] = []
    indices.reserveCapacity(total)
    for (i, c) in counts.enumerated() { indices += repeatElement(i, count: c) }
    return take(src, indices, axis: ax)
  }

  /// `np.meshgrid(*xi, indexing=, sparse=)`: coordinate arrays, one per input (flattened); with
  /// 'xy' indexing the first two output axes are swapped.
  static func meshgrid(_ inputs: [NDArray], xy: Bool, sparse: Bool, at range: SourceRange) throws(ShellError) -> [NDArray] {
    let vectors = inputs.map { $0.withShape([$0.count]) }
    let nd = vectors.count
    var shape = vectors.map { $0.count }
    if xy && nd > 1 { shape.swapAt(0, 1) }
    if !sparse {
      // Every output has the full shape: check the largest allocation.
      let widest = vectors.map { $0.dtype.itemSize }.max() ?? 1
      _ = try ElementCount.checked(shape, itemSize: widest, dtypeName: vectors.first?.dtype.rawValue ?? "float64", at: range)
    }
    return vectors.enumerated().map { (k, v) in
      var axis = k
      if xy && nd > 1 && k < 2 { axis = 1 - k }
      var own = [Int](repeating: 1, count: nd)
      own[axis] = v.count
      let shaped = v.withShape(own)
      return sparse ? shaped : shaped.broadcast(to: shape)
    }
  }
}
