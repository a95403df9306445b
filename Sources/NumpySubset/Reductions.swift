import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

/// numpy's reductions (`sum`, `mean`, `max`, `argmax`, `std`, ...) over all axes or some.
///
/// Sums follow numpy's order exactly: pairwise summation (blocks of 8, split at 128) when the
/// reduced axes are the trailing, contiguous ones, and in-order accumulation otherwise; integer
/// inputs summed as float64 (`mean`) go through numpy's 8192-element buffers.
enum Reductions {
  /// The axes argument (`None`, an int, or a tuple of ints), normalised; nil means all axes.
  static func axes(_ v: Value?, rank: Int, at range: SourceRange) throws(ShellError) -> [Int]? {
    guard let v else { return nil }
    var raw: [Int] = []
    switch v {
    case .none: return nil
    case .int(let i): raw = [i]
    case .array(let a) where a.rank == 0 && a.dtype == .int64: raw = [Int(a.int64Values[0])]
    case .tuple(let items), .list(let items):
      for item in items {
        guard case .int(let i) = NumpyOps.pythonIndex(item) else {
          throw ShellError("'\(item.typeName)' object cannot be interpreted as an integer", at: range)
        }
        raw.append(i)
      }
    default:
      throw ShellError("'\(v.typeName)' object cannot be interpreted as an integer", at: range)
    }
    var out: [Int] = []
    for i in raw {
      let k = i < 0 ? i + rank : i
      guard k >= 0 && k < Swift.max(rank, 0) else {
        throw ShellError("axis \(i) is out of bounds for array of dimension \(rank)", at: range)
      }
      if out.contains(k) { throw ShellError("duplicate value in 'axis'", at: range) }
      out.append(k)
    }
    return out.sorted()
  }

  /// One axis (`axis=` of argmax, cumsum, sort, concatenate), normalised.
  static func axis(_ i: Int, rank: Int, at range: SourceRange) throws(ShellError) -> Int {
    let k = i < 0 ? i + rank : i
    guard k >= 0 && k < rank else { throw ShellError("axis \(i) is out of bounds for array of dimension \(rank)", at: range) }
    return k
  }

  /// How a reduction walks its input.
  struct Layout {
    /// The result's shape without the reduced axes, and with them kept as 1.
    var outShape: [Int]
    var keepShape: [Int]
    /// The flat offset of the first reduced element of each output.
    var outer: [Int]
    /// The offsets, from there, of the reduced elements (row-major over the reduced axes).
    var inner: [Int]
    /// The reduced axes are the trailing ones: each output reads a contiguous run.
    var trailing: Bool
    /// The length of the contiguous runs numpy's inner loop sums pairwise: the product of the
    /// trailing reduced axes (1 when the last axis is kept).
    var run: Int

    var count: Int { inner.count }

    init(_ shape: [Int], _ axes: [Int]?) {
      let reduced = Set(axes ?? Array(0..<shape.count))
      let strides = cStrides(shape)
      var keptShape: [Int] = [], keptStrides: [Int] = [], redShape: [Int] = [], redStrides: [Int] = []
      keepShape = []
      for k in 0..<shape.count {
        if reduced.contains(k) {
          redShape.append(shape[k])
          redStrides.append(strides[k])
          keepShape.append(1)
        } else {
          keptShape.append(shape[k])
          keptStrides.append(strides[k])
          keepShape.append(shape[k])
        }
      }
      outShape = keptShape
      outer = stridedOffsets(keptShape, keptStrides, base: 0)
      inner = stridedOffsets(redShape, redStrides, base: 0)
      let r = reduced.count
      trailing = reduced == Set((shape.count - r)..<shape.count)
      var run = 1
      var k = shape.count - 1
      while k >= 0 && reduced.contains(k) {
        run *= shape[k]
        k -= 1
      }
      self.run = Swift.max(run, 1)
    }

    func shape(keepdims: Bool) -> [Int] { keepdims ? keepShape : outShape }

    /// `f` over the reduced elements of each output, given contiguous.
    func map<T, R>(_ values: [T], _ f: (UnsafeBufferPointer<T>) -> R) -> [R] {
      var out: [R] = []
      out.reserveCapacity(outer.count)
      values.withUnsafeBufferPointer { p in
        if trailing {
          let m = inner.count
          for o in outer { out.append(f(UnsafeBufferPointer(rebasing: p[o..<(o + m)]))) }
        } else {
          var tmp = [T]()
          tmp.reserveCapacity(inner.count)
          for o in outer {
            tmp.removeAll(keepingCapacity: true)
            for i in inner { tmp.append(p[o + i]) }
            tmp.withUnsafeBufferPointer { out.append(f($0)) }
          }
        }
      }
      return out
    }
  }

  // MARK: Summation

  /// numpy's pairwise summation of a contiguous run.
  static func pairwise<T: FloatingPoint>(_ p: UnsafeBufferPointer<T>, _ start: Int, _ n: Int) -> T {
    if n < 8 {
      var res: T = 0
      for i in start..<(start + n) { res += p[i] }
      return res
    } else if n <= 128 {
      var r0 = p[start], r1 = p[start + 1], r2 = p[start + 2], r3 = p[start + 3]
      var r4 = p[start + 4], r5 = p[start + 5], r6 = p[start + 6], r7 = p[start + 7]
      var i = 8
      let end = n - n % 8
      while i < end {
        let b = start + i
        r0 += p[b]
        r1 += p[b + 1]
        r2 += p[b + 2]
        r3 += p[b + 3]
        r4 += p[b + 4]
        r5 += p[b + 5]
        r6 += p[b + 6]
        r7 += p[b + 7]
        i += 8
      }
      var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
      while i < n {
        res += p[start + i]
        i += 1
      }
      return res
    } else {
      var n2 = n / 2
      n2 -= n2 % 8
      return pairwise(p, start, n2) + pairwise(p, start + n2, n - n2)
    }
  }

  /// The sum of one output's elements as numpy's add.reduce does it: the contiguous runs of
  /// length `run` (the trailing reduced axes) summed pairwise, the runs accumulated in order;
  /// `chunk` is numpy's buffer size when the input was cast.
  static func floatSum<T: FloatingPoint>(_ p: UnsafeBufferPointer<T>, run: Int, chunk: Int? = nil) -> T {
    var res: T = 0
    if run == 1 {
      for x in p { res += x }
      return res
    }
    let step = run == p.count ? (chunk ?? run) : run
    var s = 0
    while s < p.count {
      let m = Swift.min(step, p.count - s)
      res += pairwise(p, s, m)
      s += m
    }
    return res
  }

  /// numpy's pairwise summation of complex numbers: the (re, im) pairs summed as one interleaved
  /// run of 2n floats, so the blocks hold 4 complex numbers.
  static func complexPairwise<T: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<Complex<T>>, _ start: Int, _ m: Int) -> Complex<T> {
    let n = 2 * m
    if n < 8 {
      var rr: T = 0, ri: T = 0
      for i in start..<(start + m) {
        rr += p[i].re
        ri += p[i].im
      }
      return Complex(rr, ri)
    } else if n <= 128 {
      var r0 = p[start].re, r1 = p[start].im, r2 = p[start + 1].re, r3 = p[start + 1].im
      var r4 = p[start + 2].re, r5 = p[start + 2].im, r6 = p[start + 3].re, r7 = p[start + 3].im
      var i = 8
      let end = n - n % 8
      while i < end {
        let b = start + i / 2
        r0 += p[b].re
        r1 += p[b].im
        r2 += p[b + 1].re
        r3 += p[b + 1].im
        r4 += p[b + 2].re
        r5 += p[b + 2].im
        r6 += p[b + 3].re
        r7 += p[b + 3].im
        i += 8
      }
      var rr = (r0 + r2) + (r4 + r6), ri = (r1 + r3) + (r5 + r7)
      while i < n {
        rr += p[start + i / 2].re
        ri += p[start + i / 2].im
        i += 2
      }
      return Complex(rr, ri)
    } else {
      var n2 = n / 2
      n2 -= n2 % 8
      return complexPairwise(p, start, n2 / 2) + complexPairwise(p, start + n2 / 2, m - n2 / 2)
    }
  }

  /// `floatSum` for complex elements.
  static func complexSum<T: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<Complex<T>>, run: Int) -> Complex<T> {
    var res = Complex<T>(0, 0)
    if run == 1 {
      for x in p { res = res + x }
      return res
    }
    var s = 0
    while s < p.count {
      let m = Swift.min(run, p.count - s)
      res = res + complexPairwise(p, s, m)
      s += m
    }
    return res
  }

  static func sum(_ a: NDArray, axes: [Int]?, keepdims: Bool) -> NDArray {
    let L = Layout(a.shape, axes)
    let shape = L.shape(keepdims: keepdims)
    switch a.storage {
    case .complex128(let v): return NDArray(shape: shape, storage: .complex128(L.map(v) { complexSum($0, run: L.run) }))
    case .complex64(let v): return NDArray(shape: shape, storage: .complex64(L.map(v) { complexSum($0, run: L.run) }))
    case .float64(let v):
      return NDArray(shape: shape, storage: .float64(L.map(v) { floatSum($0, run: L.run) }))
    case .float32(let v):
      return NDArray(shape: shape, storage: .float32(L.map(v) { floatSum($0, run: L.run) }))
    case .float16:
      return NDArray(shape: shape, storage: .float32(L.map(a.floatValues) { floatSum($0, run: L.run) })).cast(.float16)
    case .int64, .bool:
      let v = a.int64Values
      return NDArray(shape: shape, storage: .int64(L.map(v) { p in p.reduce(Int64(0), &+) }))
    }
  }

  /// The float64 (or float32) sum numpy's mean and var use, with the cast's buffering.
  static func meanSum(_ a: NDArray, _ L: Layout) -> NDArray {
    switch a.storage {
    case .complex128(let v): return NDArray(shape: L.outShape, storage: .complex128(L.map(v) { complexSum($0, run: L.run) }))
    case .complex64(let v): return NDArray(shape: L.outShape, storage: .complex64(L.map(v) { complexSum($0, run: L.run) }))
    case .float64(let v): return NDArray(shape: L.outShape, storage: .float64(L.map(v) { floatSum($0, run: L.run) }))
    case .float32(let v): return NDArray(shape: L.outShape, storage: .float32(L.map(v) { floatSum($0, run: L.run) }))
    case .float16:
      return NDArray(shape: L.outShape, storage: .float32(L.map(a.floatValues) { floatSum($0, run: L.run, chunk: 8192) }))
    case .int64, .bool:
      return NDArray(shape: L.outShape, storage: .float64(L.map(a.doubleValues) { floatSum($0, run: L.run, chunk: 8192) }))
    }
  }

  static func mean(_ a: NDArray, axes: [Int]?, keepdims: Bool, at range: SourceRange) -> NDArray {
    let L = Layout(a.shape, axes)
    let s = meanSum(a, L)
    let n = L.count
    let shape = L.shape(keepdims: keepdims)
    var r: NDArray
    switch s.storage {
    case .complex128(let v): r = NDArray(shape: shape, storage: .complex128(v.map { Complex($0.re / Double(n), $0.im / Double(n)) }))
    case .complex64(let v): r = NDArray(shape: shape, storage: .complex64(v.map { Complex($0.re / Float(n), $0.im / Float(n)) }))
    case .float32(let v): r = NDArray(shape: shape, storage: .float32(v.map { $0 / Float(n) }))
    default: r = NDArray(shape: shape, storage: .float64(s.doubleValues.map { $0 / Double(n) }))
    }
    if a.dtype == .float16 { r = r.cast(.float16) }
    return r
  }

  /// numpy's `_var`: the mean (kept dims), squared deviations, their sum over count - ddof.
  static func variance(_ a: NDArray, axes: [Int]?, keepdims: Bool, ddof: Int) -> NDArray {
    let L = Layout(a.shape, axes)
    let n = L.count
    let meanSums = meanSum(a, L)
    let mean: NDArray
    switch meanSums.storage {
    case .float32(let v): mean = NDArray(shape: L.keepShape, storage: .float32(v.map { $0 / Float(n) }))
    default: mean = NDArray(shape: L.keepShape, storage: .float64(meanSums.doubleValues.map { $0 / Double(n) }))
    }
    let x = a.dtype.kind == .float && a.dtype != .float16 ? a : a.cast(mean.dtype)
    let shape = L.shape(keepdims: keepdims)
    let divisor = Swift.max(n - ddof, 0)
    switch (x.storage, mean.storage) {
    case (.float32(let v), .float32(let m)):
      let dev = broadcastMap(v, x.shape, m, mean.shape, to: x.shape) { ($0 - $1) * ($0 - $1) }
      return NDArray(shape: shape, storage: .float32(L.map(dev) { floatSum($0, run: L.run) / Float(divisor) }))
        .cast(a.dtype == .float16 ? .float16 : .float32)
    default:
      let dev = broadcastMap(x.doubleValues, x.shape, mean.doubleValues, mean.shape, to: x.shape) { ($0 - $1) * ($0 - $1) }
      return NDArray(shape: shape, storage: .float64(L.map(dev) { floatSum($0, run: L.run) / Double(divisor) }))
    }
  }

  static func prod(_ a: NDArray, axes: [Int]?, keepdims: Bool) -> NDArray {
    let L = Layout(a.shape, axes)
    let shape = L.shape(keepdims: keepdims)
    switch a.storage {
    case .complex128(let v): return NDArray(shape: shape, storage: .complex128(L.map(v) { $0.reduce(Complex(1, 0), *) }))
    case .complex64(let v): return NDArray(shape: shape, storage: .complex64(L.map(v) { $0.reduce(Complex(1, 0), *) }))
    case .float64(let v): return NDArray(shape: shape, storage: .float64(L.map(v) { $0.reduce(1, *) }))
    case .float32(let v): return NDArray(shape: shape, storage: .float32(L.map(v) { $0.reduce(1, *) }))
    case .float16: return NDArray(shape: shape, storage: .float32(L.map(a.floatValues) { $0.reduce(1, *) })).cast(.float16)
    case .int64, .bool: return NDArray(shape: shape, storage: .int64(L.map(a.int64Values) { $0.reduce(1, &*) }))
    }
  }

  // MARK: Extremes

  static func extreme(_ a: NDArray, axes: [Int]?, keepdims: Bool, max: Bool, at range: SourceRange) throws(ShellError) -> NDArray {
    let L = Layout(a.shape, axes)
    if L.count == 0 && !L.outer.isEmpty {
      throw ShellError("zero-size array to reduction operation \(max ? "maximum" : "minimum") which has no identity", at: range)
    }
    let shape = L.shape(keepdims: keepdims)
    func pick<T: FloatingPoint>(_ p: UnsafeBufferPointer<T>) -> T {
      var best = p[0]
      for x in p.dropFirst() {
        if best.isNaN { return best }
        if x.isNaN || (max ? x > best : x < best) { best = x }
      }
      return best
    }
    func pickComplex<T>(_ p: UnsafeBufferPointer<Complex<T>>) -> Complex<T> {
      var best = p[0]
      for x in p.dropFirst() {
        if best.isNaN { return best }
        if x.isNaN || (max ? complexLess(best, x) : complexLess(x, best)) { best = x }
      }
      return best
    }
    switch a.storage {
    case .complex128(let v): return NDArray(shape: shape, storage: .complex128(L.map(v) { pickComplex($0) }))
    case .complex64(let v): return NDArray(shape: shape, storage: .complex64(L.map(v) { pickComplex($0) }))
    case .float64(let v): return NDArray(shape: shape, storage: .float64(L.map(v) { pick($0) }))
    case .float32(let v): return NDArray(shape: shape, storage: .float32(L.map(v) { pick($0) }))
    case .float16(let v): return NDArray(shape: shape, storage: .float16(L.map(v) { pick($0) }))
    case .int64(let v): return NDArray(shape: shape, storage: .int64(L.map(v) { max ? $0.max()! : $0.min()! }))
    case .bool(let v): return NDArray(shape: shape, storage: .bool(L.map(v) { max ? $0.contains(true) : !$0.contains(false) }))
    }
  }

  /// argmax / argmin over one axis or the flattened array; the first of equal extremes (and the
  /// first NaN, as numpy).
  static func argExtreme(_ a: NDArray, axis: Int?, keepdims: Bool, max: Bool, at range: SourceRange) throws(ShellError) -> NDArray {
    let L = Layout(a.shape, axis.map { [$0] })
    if L.count == 0 {
      throw ShellError("attempt to get \(max ? "argmax" : "argmin") of an empty sequence", at: range)
    }
    func pick<T: Comparable>(_ p: UnsafeBufferPointer<T>, isNaN: (T) -> Bool) -> Int64 {
      var best = 0
      if isNaN(p[0]) { return 0 }
      for i in 1..<p.count {
        let x = p[i]
        if isNaN(x) { return Int64(i) }
        if max ? x > p[best] : x < p[best] { best = i }
      }
      return Int64(best)
    }
    func pickComplex(_ p: UnsafeBufferPointer<Complex128>) -> Int64 {
      var best = 0
      if p[0].isNaN { return 0 }
      for i in 1..<p.count {
        if p[i].isNaN { return Int64(i) }
        if max ? complexLess(p[best], p[i]) : complexLess(p[i], p[best]) { best = i }
      }
      return Int64(best)
    }
    let values: [Int64]
    switch a.storage {
    case .complex64, .complex128: values = L.map(a.complexValues) { pickComplex($0) }
    case .float64(let v): values = L.map(v) { pick($0) { $0.isNaN } }
    case .float32(let v): values = L.map(v) { pick($0) { $0.isNaN } }
    case .float16: values = L.map(a.floatValues) { pick($0) { $0.isNaN } }
    default: values = L.map(a.int64Values) { pick($0) { _ in false } }
    }
    let shape = keepdims ? (axis == nil ? [Int](repeating: 1, count: a.rank) : L.keepShape) : L.outShape
    return NDArray(shape: shape, storage: .int64(values))
  }

  // MARK: Logical

  static func anyAll(_ a: NDArray, axes: [Int]?, keepdims: Bool, all: Bool) -> NDArray {
    let L = Layout(a.shape, axes)
    let v = a.boolValues
    return NDArray(shape: L.shape(keepdims: keepdims), storage: .bool(L.map(v) { all ? !$0.contains(false) : $0.contains(true) }))
  }

  static func countNonzero(_ a: NDArray, axes: [Int]?, keepdims: Bool) -> NDArray {
    let L = Layout(a.shape, axes)
    let v = a.boolValues
    return NDArray(shape: L.shape(keepdims: keepdims), storage: .int64(L.map(v) { p in Int64(p.reduce(0) { $0 + ($1 ? 1 : 0) }) }))
  }

  // MARK: Cumulative

  /// cumsum / cumprod along an axis (nil: the flattened array).
  static func cumulative(_ a: NDArray, axis: Int?, product: Bool) -> NDArray {
    let src = axis == nil ? a.withShape([a.count]) : a
    let ax = axis ?? 0
    let shape = src.shape
    let strides = cStrides(shape)
    let n = shape.isEmpty ? 1 : shape[ax]
    let step = shape.isEmpty ? 1 : strides[ax]
    var outerShape = shape, outerStrides = strides
    if !shape.isEmpty {
      outerShape.remove(at: ax)
      outerStrides.remove(at: ax)
    }
    let starts = stridedOffsets(outerShape, outerStrides, base: 0)
    func run<T>(_ v: [T], _ zero: T, _ f: (T, T) -> T) -> [T] {
      var out = v
      for s in starts {
        var acc = zero
        for i in 0..<n {
          let o = s + i * step
          acc = f(acc, v[o])
          out[o] = acc
        }
      }
      return out
    }
    switch src.storage {
    case .complex128(let v): return NDArray(shape: shape, storage: .complex128(product ? run(v, Complex(1, 0), *) : run(v, Complex(0, 0), +)))
    case .complex64(let v): return NDArray(shape: shape, storage: .complex64(product ? run(v, Complex(1, 0), *) : run(v, Complex(0, 0), +)))
    case .float64(let v): return NDArray(shape: shape, storage: .float64(product ? run(v, 1, *) : run(v, 0, +)))
    case .float32(let v): return NDArray(shape: shape, storage: .float32(product ? run(v, 1, *) : run(v, 0, +)))
    case .float16(let v): return NDArray(shape: shape, storage: .float16(product ? run(v, 1, *) : run(v, 0, +)))
    case .int64, .bool:
      let v = src.int64Values
      return NDArray(shape: shape, storage: .int64(product ? run(v, 1, &*) : run(v, 0, &+)))
    }
  }
}

/// numpy's order of complex numbers: by real part, then imaginary part (lexicographic).
func complexLess<T>(_ a: Complex<T>, _ b: Complex<T>) -> Bool {
  a.re < b.re || (a.re == b.re && a.im < b.im)
}
