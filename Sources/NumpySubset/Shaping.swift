import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// Shape manipulation: reshape, transpose, concatenate, stack, squeeze.
enum Shaping {
  /// The shape a `reshape` argument asks for (ints, or one tuple/list; one -1 is inferred).
  static func reshapeTarget(_ args: [Value], count: Int, from shape: [Int], at range: SourceRange) throws(ShellError) -> [Int] {
    var dims: [Int] = []
    var values = args
    if values.count == 1 {
      switch values[0] {
      case .tuple(let items), .list(let items): values = items
      default: break
      }
    }
    for v in values {
      guard case .int(let i) = NumpyOps.pythonIndex(v) else {
        throw ShellError("'\(v.typeName)' object cannot be interpreted as an integer", at: range)
      }
      dims.append(i)
    }
    let unknown = dims.indices.filter { dims[$0] == -1 }
    if unknown.count > 1 { throw ShellError("can only specify one unknown dimension", at: range) }
    if dims.contains(where: { $0 < -1 }) { throw ShellError("negative dimensions not allowed", at: range) }
    // numpy writes the requested shape compactly, with -1 as "newaxis": (4,newaxis).
    let asked = dims.count == 1 ? "(\(dims[0] == -1 ? "newaxis" : String(dims[0])),)" : "(" + dims.map { $0 == -1 ? "newaxis" : String($0) }.joined(separator: ",") + ")"
    guard let known = ArrayAllocation.elementCount(dims.filter { $0 != -1 }) else {
      throw ShellError("cannot reshape array of size \(count) into shape \(asked)", at: range)
    }
    if let u = unknown.first {
      if known == 0 || count % known != 0 {
        throw ShellError("cannot reshape array of size \(count) into shape \(asked)", at: range)
      }
      dims[u] = count / known
    }
    if dims.reduce(1, *) != count {
      throw ShellError("cannot reshape array of size \(count) into shape \(asked)", at: range)
    }
    return dims
  }

  /// `np.transpose(a, axes)`: the permuted array (a copy).
  static func transpose(_ a: NDArray, _ perm: [Int]? = nil) -> NDArray {
    let p = perm ?? Array((0..<a.rank).reversed())
    if a.rank < 2 || p == Array(0..<a.rank) { return a }
    let strides = cStrides(a.shape)
    let shape = p.map { a.shape[$0] }
    let st = p.map { strides[$0] }
    return a.gathered(stridedOffsets(shape, st, base: 0), shape: shape)
  }

  /// The permutation argument of `transpose`, validated.
  static func permutation(_ args: [Value], rank: Int, at range: SourceRange) throws(ShellError) -> [Int]? {
    var values = args
    if values.count == 1 {
      switch values[0] {
      case .tuple(let items), .list(let items): values = items
      case .none: return nil
      default: break
      }
    }
    if values.isEmpty { return nil }
    var perm: [Int] = []
    for v in values {
      guard case .int(let i) = NumpyOps.pythonIndex(v) else {
        throw ShellError("'\(v.typeName)' object cannot be interpreted as an integer", at: range)
      }
      perm.append(try Reductions.axis(i, rank: rank, at: range))
    }
    if perm.count != rank || Set(perm).count != rank { throw ShellError("axes don't match array", at: range) }
    return perm
  }

  /// `np.swapaxes` / `np.moveaxis` through a permutation.
  static func swapAxes(_ a: NDArray, _ i: Int, _ j: Int) -> NDArray {
    var p = Array(0..<a.rank)
    p.swapAt(i, j)
    return transpose(a, p)
  }

  /// `np.concatenate(arrays, axis)`.
  static func concatenate(_ arrays: [NDArray], axis: Int?, at range: SourceRange) throws(ShellError) -> NDArray {
    guard !arrays.isEmpty else { throw ShellError("need at least one array to concatenate", at: range) }
    var parts = arrays
    var ax = 0
    if axis == nil {
      parts = parts.map { $0.withShape([$0.count]) }
    } else {
      let rank = parts[0].rank
      if rank == 0 { throw ShellError("zero-dimensional arrays cannot be concatenated", at: range) }
      ax = try Reductions.axis(axis!, rank: rank, at: range)
      for (k, p) in parts.enumerated() where p.rank != rank {
        throw ShellError(
          "all the input array dimensions except for the concatenation axis must match exactly, but along dimension 0, the array at index 0 has \(rank) dimension(s) and the array at index \(k) has \(p.rank) dimension(s)",
          at: range)
      }
      for (k, p) in parts.enumerated() {
        for d in 0..<rank where d != ax && p.shape[d] != parts[0].shape[d] {
          throw ShellError(
            "all the input array dimensions except for the concatenation axis must match exactly, but along dimension \(d), the array at index 0 has size \(parts[0].shape[d]) and the array at index \(k) has size \(p.shape[d])",
            at: range)
        }
      }
    }
    let dtype = parts.dropFirst().reduce(parts[0].dtype) { Promotion.promote($0, $1.dtype) }
    parts = parts.map { $0.cast(dtype) }
    var shape = parts[0].shape
    var total = 0
    for p in parts {
      let (t, o) = total.addingReportingOverflow(p.shape[ax])
      if o { throw ShellError("ValueError: array is too big (the concatenation overflows a 64-bit size)", at: range) }
      total = t
    }
    shape[ax] = total
    try Allocation.check(shape, dtype, at: range)
    let outer = shape[..<ax].reduce(1, *)
    let chunks = parts.map { $0.shape[ax...].reduce(1, *) }
    func join<T>(_ arrays: [[T]]) -> [T] {
      var out: [T] = []
      out.reserveCapacity(shape.reduce(1, *))
      for o in 0..<outer {
        for (k, v) in arrays.enumerated() {
          let c = chunks[k]
          out.append(contentsOf: v[(o * c)..<((o + 1) * c)])
        }
      }
      return out
    }
    let storage: ArrayStorage
    switch dtype {
    case .float64: storage = .float64(join(parts.map(\.doubleValues)))
    case .float32: storage = .float32(join(parts.map(\.floatValues)))
    case .int64: storage = .int64(join(parts.map(\.int64Values)))
    case .bool: storage = .bool(join(parts.map(\.boolValues)))
    case .complex128: storage = .complex128(join(parts.map(\.complexValues)))
    case .complex64:
      storage = .complex64(join(parts.map { p -> [Complex64] in if case .complex64(let v) = p.cast(.complex64).storage { return v } else { return [] } }))
    case .float16:
      storage = .float16(join(parts.map { p -> [Float16] in if case .float16(let v) = p.storage { return v } else { return [] } }))
    }
    return NDArray(shape: shape, storage: storage)
  }

  /// `np.stack(arrays, axis)`.
  static func stack(_ arrays: [NDArray], axis: Int, at range: SourceRange) throws(ShellError) -> NDArray {
    guard let first = arrays.first else { throw ShellError("need at least one array to stack", at: range) }
    for a in arrays where a.shape != first.shape {
      throw ShellError("all input arrays must have the same shape", at: range)
    }
    let ax = try Reductions.axis(axis, rank: first.rank + 1, at: range)
    var expanded = first.shape
    expanded.insert(1, at: ax)
    return try concatenate(arrays.map { $0.withShape(expanded) }, axis: ax, at: range)
  }

  /// At least 1-d / 2-d, as `np.atleast_2d` (for vstack).
  static func atLeast2D(_ a: NDArray) -> NDArray {
    switch a.rank {
    case 0: return a.withShape([1, 1])
    case 1: return a.withShape([1, a.count])
    default: return a
    }
  }

  static func squeeze(_ a: NDArray, axes: [Int]?, at range: SourceRange) throws(ShellError) -> NDArray {
    if let axes {
      for ax in axes where a.shape[ax] != 1 {
        throw ShellError("cannot select an axis to squeeze out which has size not equal to one", at: range)
      }
      return a.withShape(a.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }
    return a.withShape(a.shape.filter { $0 != 1 })
  }
}
