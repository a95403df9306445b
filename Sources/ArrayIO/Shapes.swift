// Shapes as numpy computes and writes them.

/// Row-major strides, in elements, of `shape`.
public func cStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var s = 1
  for k in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[k] = s
    s *= shape[k]
  }
  return strides
}

/// A shape as numpy writes it in error messages: `(3,2)`, `(4,)`, `()`.
public func compactShape(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ",") + ")"
}

/// A shape as Python writes the tuple: `(3, 2)`, `(4,)`, `()`.
public func tupleShape(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}


/// The broadcast of shapes (numpy's rules: align on the right, sizes equal or 1), or nil.
public func broadcastShapes(_ shapes: [[Int]]) -> [Int]? {
  let rank = shapes.map(\.count).max() ?? 0
  var out = [Int](repeating: 1, count: rank)
  for s in shapes {
    let shift = rank - s.count
    for (k, n) in s.enumerated() {
      let j = k + shift
      if out[j] == n || n == 1 { continue }
      if out[j] == 1 { out[j] = n } else { return nil }
    }
  }
  return out
}

/// The strides of `shape` when broadcast to `out` (0 along broadcast dimensions).
public func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
  let own = cStrides(shape)
  let shift = out.count - shape.count
  var strides = [Int](repeating: 0, count: out.count)
  for k in 0..<shape.count where shape[k] != 1 { strides[k + shift] = own[k] }
  return strides
}

/// Every flat index of an array of `shape` read in the row-major order of `out` (broadcasting).
public func broadcastOffsets(_ shape: [Int], to out: [Int]) -> [Int] {
  let n = out.reduce(1, *)
  if n == 0 { return [] }
  if shape == out { return Array(0..<n) }
  return stridedOffsets(out, broadcastStrides(shape, to: out), base: 0)
}

/// The offsets `base + Σ index[k] * strides[k]` over `shape` in row-major order.
public func stridedOffsets(_ shape: [Int], _ strides: [Int], base: Int) -> [Int] {
  let n = shape.reduce(1, *)
  if n == 0 { return [] }
  let rank = shape.count
  if rank == 0 { return [base] }
  return [Int](unsafeUninitializedCapacity: n) { buf, count in
    let inner = shape[rank - 1], innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var offset = base
    var k = 0
    while true {
      var p = offset
      for _ in 0..<inner {
        buf[k] = p
        p += innerStride
        k += 1
      }
      var d = rank - 2
      while d >= 0 {
        index[d] += 1
        offset += strides[d]
        if index[d] < shape[d] { break }
        offset -= strides[d] * shape[d]
        index[d] = 0
        d -= 1
      }
      if d < 0 { break }
    }
    count = n
  }
}

/// `f` applied elementwise over the broadcast of `a` (shape `sa`) and `b` (shape `sb`) to `out`.
@inline(__always)
public func broadcastMap<A, B, R>(
  _ a: [A], _ sa: [Int], _ b: [B], _ sb: [Int], to out: [Int], _ f: (A, B) -> R
) -> [R] {
  let n = out.reduce(1, *)
  if n == 0 { return [] }
  if sa == out && sb == out {
    return [R](unsafeUninitializedCapacity: n) { buf, count in
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          for i in 0..<n { buf[i] = f(pa[i], pb[i]) }
        }
      }
      count = n
    }
  }
  if b.count == 1 && sa == out {
    let y = b[0]
    return [R](unsafeUninitializedCapacity: n) { buf, count in
      a.withUnsafeBufferPointer { pa in
        for i in 0..<n { buf[i] = f(pa[i], y) }
      }
      count = n
    }
  }
  if a.count == 1 && sb == out {
    let x = a[0]
    return [R](unsafeUninitializedCapacity: n) { buf, count in
      b.withUnsafeBufferPointer { pb in
        for i in 0..<n { buf[i] = f(x, pb[i]) }
      }
      count = n
    }
  }
  let rank = out.count
  let stA = broadcastStrides(sa, to: out), stB = broadcastStrides(sb, to: out)
  return [R](unsafeUninitializedCapacity: n) { buf, count in
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        let inner = out[rank - 1], ia = stA[rank - 1], ib = stB[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var offA = 0, offB = 0, k = 0
        while true {
          var p = offA, q = offB
          for _ in 0..<inner {
            buf[k] = f(pa[p], pb[q])
            p += ia
            q += ib
            k += 1
          }
          var d = rank - 2
          while d >= 0 {
            index[d] += 1
            offA += stA[d]
            offB += stB[d]
            if index[d] < out[d] { break }
            offA -= stA[d] * out[d]
            offB -= stB[d] * out[d]
            index[d] = 0
            d -= 1
          }
          if d < 0 { break }
        }
      }
    }
    count = n
  }
}

