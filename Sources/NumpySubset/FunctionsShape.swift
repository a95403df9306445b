import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Shapes, joins, sorting and products: `reshape`, `concatenate`, `sort`, `unique`, `dot`, ...
  static func shapeFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["reshape", FunctionDoc("np.reshape(a, newshape)", "the same data with a new shape (-1: inferred)", "np.reshape(np.arange(6), (2, 3))")] = { ctx in
      let a = try ctx.array(0, "a")
      let s = try ctx.required(1, "shape")
      try ctx.finish(maxPositional: 2)
      return .array(a.withShape(try Shaping.reshapeTarget([s], count: a.count, from: a.shape, at: ctx.rangeOf(1, "shape"))))
    }
    t["ravel", FunctionDoc("np.ravel(a)", "the elements as a 1-D array", "np.ravel(np.eye(2))")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(a.withShape([a.count]))
    }
    t["transpose", FunctionDoc("np.transpose(a, axes=None)", "axes reversed (or permuted)", "np.transpose(a)")] = { ctx in
      let a = try ctx.array(0, "a")
      let axes = try ctx.present(1, "axes")
      try ctx.finish(maxPositional: 2)
      let perm = try Shaping.permutation(axes.map { [$0] } ?? [], rank: a.rank, at: ctx.rangeOf(1, "axes"))
      return .array(Shaping.transpose(a, perm))
    }
    t["swapaxes", FunctionDoc("np.swapaxes(a, axis1, axis2)", "two axes interchanged", "np.swapaxes(a, 0, 1)")] = { ctx in
      let a = try ctx.array(0, "a")
      let i = try Reductions.axis(try ctx.integer(1, "axis1", default: 0), rank: a.rank, at: ctx.rangeOf(1, "axis1"))
      let j = try Reductions.axis(try ctx.integer(2, "axis2", default: 0), rank: a.rank, at: ctx.rangeOf(2, "axis2"))
      try ctx.finish(maxPositional: 3)
      return .array(Shaping.swapAxes(a, i, j))
    }
    t["moveaxis", FunctionDoc("np.moveaxis(a, source, destination)", "axes moved to new positions", "np.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape")] = { ctx in
      let a = try ctx.array(0, "a")
      let src = try Reductions.axis(try ctx.integer(1, "source", default: 0), rank: a.rank, at: ctx.rangeOf(1, "source"))
      let dst = try Reductions.axis(try ctx.integer(2, "destination", default: 0), rank: a.rank, at: ctx.rangeOf(2, "destination"))
      try ctx.finish(maxPositional: 3)
      var perm = Array(0..<a.rank)
      perm.remove(at: src)
      perm.insert(src, at: dst)
      return .array(Shaping.transpose(a, perm))
    }
    t["squeeze", FunctionDoc("np.squeeze(a, axis=None)", "axes of length one removed", "np.squeeze(np.zeros((1, 3, 1))).shape")] = { ctx in
      let a = try ctx.array(0, "a")
      let axes = try ctx.axes(1, rank: a.rank)
      try ctx.finish(maxPositional: 2)
      return .array(try Shaping.squeeze(a, axes: axes, at: ctx.range))
    }
    t["expand_dims", FunctionDoc("np.expand_dims(a, axis)", "a new axis of length one inserted", "np.expand_dims(x, 0).shape")] = { ctx in
      let a = try ctx.array(0, "a")
      let axes = try ctx.axes(1, rank: a.rank + 1) ?? []
      try ctx.finish(maxPositional: 2)
      var shape = a.shape
      for ax in axes.sorted() { shape.insert(1, at: Swift.min(ax, shape.count)) }
      return .array(a.withShape(shape))
    }
    t["flip", FunctionDoc("np.flip(m, axis=None)", "the order of elements reversed along an axis", "np.flip([1, 2, 3])")] = { ctx in
      let a = try ctx.array(0, "m")
      let axes = try ctx.axes(1, rank: a.rank) ?? Array(0..<a.rank)
      try ctx.finish(maxPositional: 2)
      let index: [Value] = (0..<a.rank).map { axes.contains($0) ? .slice(start: nil, stop: nil, step: -1) : .slice(start: nil, stop: nil, step: nil) }
      return .array(try Indexing.get(a, index, at: ctx.range))
    }
    t["shape", FunctionDoc("np.shape(a)", "the shape of an array, as a tuple", "np.shape([[1, 2, 3]])")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .tuple(a.shape.map { .int($0) })
    }
    t["ndim", FunctionDoc("np.ndim(a)", "the number of axes", "np.ndim(np.eye(2))")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .int(a.rank)
    }
    t["size", FunctionDoc("np.size(a, axis=None)", "the number of elements (along an axis)", "np.size(np.zeros((2, 3)))")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .int(a.count)
    }

    // Joining
    @Sendable func sequence(_ ctx: inout CallContext, _ name: String) throws(ShellError) -> [NDArray] {
      let v = try ctx.required(0, name)
      let r = ctx.rangeOf(0, name)
      switch v {
      case .list(let items), .tuple(let items):
        var out: [NDArray] = []
        for item in items { out.append(try NumpyOps.toArray(item, at: r)) }
        return out
      case .array(let a) where a.rank >= 1:
        return (0..<a.shape[0]).map { k in
          let inner = Array(a.shape.dropFirst())
          let n = inner.reduce(1, *)
          return a.gathered(Array((k * n)..<((k + 1) * n)), shape: inner)
        }
      default:
        throw ShellError("\(name) must be a sequence of arrays", at: r)
      }
    }
    t["concatenate", FunctionDoc("np.concatenate(arrays, axis=0)", "join arrays along an existing axis", "np.concatenate([a, b])")] = { ctx in
      let arrays = try sequence(&ctx, "arrays")
      var axis: Int? = 0
      if let v = try ctx.optional(1, "axis") {
        if case .none = v { axis = nil } else { axis = try ctx.int(NumpyOps.pythonIndex(v), "axis", at: ctx.rangeOf(1, "axis")) }
      }
      try ctx.finish(maxPositional: 2)
      return .array(try Shaping.concatenate(arrays, axis: axis, at: ctx.range))
    }
    t["stack", FunctionDoc("np.stack(arrays, axis=0)", "join arrays along a new axis", "np.stack([x, y], axis=1)")] = { ctx in
      let arrays = try sequence(&ctx, "arrays")
      let axis = try ctx.integer(1, "axis", default: 0)
      try ctx.finish(maxPositional: 2)
      return .array(try Shaping.stack(arrays, axis: axis, at: ctx.range))
    }
    t["vstack", FunctionDoc("np.vstack(tup)", "stack arrays as rows", "np.vstack([[1, 2], [3, 4]])")] = { ctx in
      let arrays = try sequence(&ctx, "tup")
      try ctx.finish(maxPositional: 1)
      return .array(try Shaping.concatenate(arrays.map(Shaping.atLeast2D), axis: 0, at: ctx.range))
    }
    t["hstack", FunctionDoc("np.hstack(tup)", "stack arrays as columns (1-D: concatenate)", "np.hstack([x, y])")] = { ctx in
      let arrays = try sequence(&ctx, "tup").map { $0.rank == 0 ? $0.withShape([1]) : $0 }
      try ctx.finish(maxPositional: 1)
      return .array(try Shaping.concatenate(arrays, axis: arrays.first?.rank == 1 ? 0 : 1, at: ctx.range))
    }
    t["column_stack", FunctionDoc("np.column_stack(tup)", "1-D arrays as the columns of a 2-D array", "np.column_stack([x, y])")] = { ctx in
      let arrays = try sequence(&ctx, "tup").map { $0.rank < 2 ? $0.withShape([$0.count, 1]) : $0 }
      try ctx.finish(maxPositional: 1)
      return .array(try Shaping.concatenate(arrays, axis: 1, at: ctx.range))
    }

    // Sorting
    let sortDocs = [
      "sort": FunctionDoc("np.sort(a, axis=-1, kind=None)", "a sorted copy (stable, NaN last)", "np.sort(d)"),
      "argsort": FunctionDoc("np.argsort(a, axis=-1, kind=None)", "the indices that sort the array", "np.argsort(d)"),
    ]
    for name in ["sort", "argsort"] {
      t[name, sortDocs[name]] = { ctx in
        let a = try ctx.array(0, "a")
        var axis: Int? = a.rank == 0 ? nil : a.rank - 1
        if let v = try ctx.optional(1, "axis") {
          if case .none = v { axis = nil } else {
            axis = try Reductions.axis(try ctx.int(NumpyOps.pythonIndex(v), "axis", at: ctx.rangeOf(1, "axis")), rank: a.rank, at: ctx.rangeOf(1, "axis"))
          }
        }
        _ = try ctx.optional(2, "kind")
        _ = try ctx.optional(nil, "stable")
        try ctx.finish(maxPositional: 3)
        return .array(Sorting.sort(a, axis: axis, indices: name == "argsort"))
      }
    }
    t["unique", FunctionDoc("np.unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None)", "the sorted unique elements", "np.unique([3, 1, 3, 2])")] = { ctx in
      let a = try ctx.array(0, "ar")
      let wantIndex = try ctx.flag(1, "return_index", default: false)
      let wantInverse = try ctx.flag(2, "return_inverse", default: false)
      let wantCounts = try ctx.flag(3, "return_counts", default: false)
      if try ctx.present(4, "axis") != nil { throw ShellError("ks's unique works on the flattened array (axis=None)", at: ctx.rangeOf(4, "axis")) }
      try ctx.finish(maxPositional: 5)
      let u = Sorting.unique(a)
      if !wantIndex && !wantInverse && !wantCounts { return .array(u.values) }
      var out: [Value] = [.array(u.values)]
      if wantIndex { out.append(.array(u.firstIndex)) }
      if wantInverse { out.append(.array(a.rank <= 1 ? u.inverse : u.inverse.withShape(a.shape))) }
      if wantCounts { out.append(.array(u.counts)) }
      return .tuple(out)
    }

    // Products
    t["dot", FunctionDoc("np.dot(a, b)", "dot product (matrix product for 2-D arrays)", "np.dot(x, y)")] = { ctx in
      let a = try ctx.array(0, "a"), b = try ctx.array(1, "b")
      try ctx.finish(maxPositional: 2)
      return .array(try Linalg.dot(a, b, at: ctx.range))
    }
    t["matmul", FunctionDoc("np.matmul(x1, x2)", "matrix product, as the @ operator", "np.matmul(A, B)")] = { ctx in
      let a = try ctx.array(0, "x1"), b = try ctx.array(1, "x2")
      try ctx.finish(maxPositional: 2)
      return .array(try Linalg.matmul(a, b, at: ctx.range))
    }
    t["inner", FunctionDoc("np.inner(a, b)", "inner product over the last axes", "np.inner([1, 2], [3, 4])")] = { ctx in
      let a = try ctx.array(0, "a"), b = try ctx.array(1, "b")
      try ctx.finish(maxPositional: 2)
      if a.rank <= 1 && b.rank <= 1 { return .array(try Linalg.dot(a, b, at: ctx.range)) }
      return .array(try Linalg.matmul(a, Shaping.swapAxes(b, b.rank - 1, Swift.max(b.rank - 2, 0)), at: ctx.range))
    }
    t["outer", FunctionDoc("np.outer(a, b)", "outer product of two vectors", "np.outer([1, 2], [3, 4])")] = { ctx in
      let a = try ctx.array(0, "a"), b = try ctx.array(1, "b")
      try ctx.finish(maxPositional: 2)
      return .array(
        try Ufunc.binary(.multiply, Operand(a.withShape([a.count, 1])), Operand(b.withShape([1, b.count])), at: ctx.range))
    }
    return t
  }
}

/// Sorting with numpy's order: stable, NaN last.
///
/// numpy's default `kind='quicksort'` is not stable; ks always sorts stably, so ties keep their
/// original order (the same result as numpy's `kind='stable'`).
enum Sorting {
  static func sort(_ a: NDArray, axis: Int?, indices: Bool) -> NDArray {
    let src = axis == nil ? a.withShape([a.count]) : a
    let ax = axis ?? 0
    let shape = src.shape
    let strides = cStrides(shape)
    let n = shape[ax], step = strides[ax]
    var outerShape = shape, outerStrides = strides
    outerShape.remove(at: ax)
    outerStrides.remove(at: ax)
    let starts = stridedOffsets(outerShape, outerStrides, base: 0)
    func lanes<T>(_ v: [T], _ less: (T, T) -> Bool) -> NDArray {
      var order = [Int64](repeating: 0, count: src.count)
      var out = v
      if !indices, let values = v as? [Double] {
        // Values only: the standard library's sort (equal values are interchangeable), NaN last.
        var lane = [Double](repeating: 0, count: n)
        var sorted = values
        for s in starts {
          for i in 0..<n { lane[i] = values[s + i * step] }
          let nans = lane.filter { $0.isNaN }
          var finite = lane.filter { !$0.isNaN }
          finite.sort()
          for (k, x) in (finite + nans).enumerated() { sorted[s + k * step] = x }
        }
        return NDArray(shape: shape, storage: .float64(sorted))
      }
      var idx = [Int](repeating: 0, count: n)
      for s in starts {
        for i in 0..<n { idx[i] = i }
        idx.sort { i, j in
          let x = v[s + i * step], y = v[s + j * step]
          if less(x, y) { return true }
          if less(y, x) { return false }
          return i < j
        }
        for (k, i) in idx.enumerated() {
          order[s + k * step] = Int64(i)
          out[s + k * step] = v[s + i * step]
        }
      }
      if indices { return NDArray(shape: shape, storage: .int64(order)) }
      return NDArray(shape: shape, storage: src.storage.replacing(out))
    }
    func floatLess<T: FloatingPoint>(_ x: T, _ y: T) -> Bool { x < y || (y.isNaN && !x.isNaN) }
    switch src.storage {
    case .float64(let v): return lanes(v, floatLess)
    case .float32(let v): return lanes(v, floatLess)
    case .float16(let v): return lanes(v, floatLess)
    case .int64(let v): return lanes(v, <)
    case .bool(let v): return lanes(v) { !$0 && $1 }
    case .complex128(let v): return lanes(v) { x, y in x.isNaN ? false : (y.isNaN || complexLess(x, y)) }
    case .complex64(let v): return lanes(v) { x, y in x.isNaN ? false : (y.isNaN || complexLess(x, y)) }
    }
  }

  struct Unique {
    var values: NDArray
    var firstIndex: NDArray
    var inverse: NDArray
    var counts: NDArray
  }

  /// `np.unique` of the flattened array (NaNs collapse into one, as numpy 2's equal_nan=True).
  static func unique(_ a: NDArray) -> Unique {
    let flat = a.withShape([a.count])
    let order = sort(flat, axis: 0, indices: true).int64Values.map { Int($0) }
    let sorted = flat.gathered(order, shape: [order.count])
    let d = sorted.doubleValues
    let im = sorted.imaginaryDoubles()
    var keep: [Int] = [], first: [Int64] = [], counts: [Int64] = []
    var inverse = [Int64](repeating: 0, count: order.count)
    for k in 0..<d.count {
      let nan = { (i: Int) in d[i].isNaN || im[i].isNaN }
      let same = k > 0 && ((d[k] == d[k - 1] && im[k] == im[k - 1]) || (nan(k) && nan(k - 1)))
      if !same {
        keep.append(k)
        first.append(Int64(order[k]))
        counts.append(0)
      }
      counts[counts.count - 1] += 1
      inverse[order[k]] = Int64(keep.count - 1)
    }
    return Unique(
      values: sorted.gathered(keep, shape: [keep.count]), firstIndex: NDArray(shape: [first.count], storage: .int64(first)),
      inverse: NDArray(shape: [inverse.count], storage: .int64(inverse)), counts: NDArray(shape: [counts.count], storage: .int64(counts)))
  }
}

extension ArrayStorage {
  /// Storage of the same type holding `values` (which must be of the matching element type).
  func replacing<T>(_ values: [T]) -> ArrayStorage {
    switch self {
    case .float16: return .float16(values as! [Float16])
    case .float32: return .float32(values as! [Float])
    case .float64: return .float64(values as! [Double])
    case .int64: return .int64(values as! [Int64])
    case .bool: return .bool(values as! [Bool])
    case .complex64: return .complex64(values as! [Complex64])
    case .complex128: return .complex128(values as! [Complex128])
    }
  }
}
