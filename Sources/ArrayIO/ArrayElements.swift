// Typed access to an array's elements: scalars, conversions, gathers.

/// The elements of `a` (shape `shape`) at the given flat offsets.
@inline(__always)
public func gather<T>(_ a: [T], _ offsets: [Int]) -> [T] {
  [T](unsafeUninitializedCapacity: offsets.count) { buf, count in
    a.withUnsafeBufferPointer { pa in
      for (i, o) in offsets.enumerated() { buf[i] = pa[o] }
    }
    count = offsets.count
  }
}


extension NDArray {
  /// A 0-d array (numpy scalar).
  public static func scalar(_ x: Double, _ dtype: DType = .float64) -> NDArray {
    NDArray(shape: [], storage: ArrayStorage.make([x], dtype))
  }

  public static func scalar(int x: Int64) -> NDArray { NDArray(shape: [], storage: .int64([x])) }
  public static func scalar(bool x: Bool) -> NDArray { NDArray(shape: [], storage: .bool([x])) }
  public static func scalar(complex z: Complex128, _ dtype: DType = .complex128) -> NDArray {
    NDArray(shape: [], storage: dtype == .complex64 ? .complex64([z.narrow]) : .complex128([z]))
  }

  /// A complex array of `dtype` (complex64 or complex128) from complex128 values.
  public init(shape: [Int], complex values: [Complex128], dtype: DType = .complex128) {
    self.init(shape: shape, storage: dtype == .complex64 ? .complex64(values.map { $0.narrow }) : .complex128(values))
  }

  public var doubleValues: [Double] { toDoubles() }

  public var floatValues: [Float] {
    switch storage {
    case .float16(let a): return a.map { Float($0) }
    case .float32(let a): return a
    case .float64(let a): return a.map { Float($0) }
    case .int64(let a): return a.map { Float($0) }
    case .bool(let a): return a.map { $0 ? 1 : 0 }
    case .complex64(let a): return a.map { $0.re }
    case .complex128(let a): return a.map { Float($0.re) }
    }
  }

  /// The elements as int64: floats truncate toward zero; NaN, infinities and out-of-range values
  /// become the minimum int64 (as numpy's unsafe cast does on x86).
  public var int64Values: [Int64] {
    switch storage {
    case .float16(let a): return a.map { int64Truncating(Double($0)) }
    case .float32(let a): return a.map { int64Truncating(Double($0)) }
    case .float64(let a): return a.map { int64Truncating($0) }
    case .int64(let a): return a
    case .bool(let a): return a.map { $0 ? 1 : 0 }
    case .complex64(let a): return a.map { int64Truncating(Double($0.re)) }
    case .complex128(let a): return a.map { int64Truncating($0.re) }
    }
  }

  public var boolValues: [Bool] {
    switch storage {
    case .float16(let a): return a.map { $0 != 0 }
    case .float32(let a): return a.map { $0 != 0 }
    case .float64(let a): return a.map { $0 != 0 }
    case .int64(let a): return a.map { $0 != 0 }
    case .bool(let a): return a
    case .complex64(let a): return a.map { !$0.isZero }
    case .complex128(let a): return a.map { !$0.isZero }
    }
  }

  /// The same elements as `dtype` (numpy's unsafe casting, as `astype`).
  public func cast(_ dtype: DType) -> NDArray {
    if dtype == self.dtype { return self }
    let s: ArrayStorage
    switch dtype {
    case .float16:
      if case .float32(let a) = storage { s = .float16(a.map { Float16($0) }) } else { s = .float16(doubleValues.map { Float16($0) }) }
    case .float32: s = .float32(floatValues)
    case .float64: s = .float64(doubleValues)
    case .int64: s = .int64(int64Values)
    case .bool: s = .bool(boolValues)
    case .complex64:
      if case .complex128(let a) = storage { s = .complex64(a.map { $0.narrow }) } else { s = .complex64(floatValues.map { Complex64($0) }) }
    case .complex128: s = .complex128(complexValues)
    }
    return NDArray(shape: shape, storage: s)
  }

  /// The same storage with another shape (same element count).
  public func withShape(_ newShape: [Int]) -> NDArray { NDArray(shape: newShape, storage: storage) }

  /// The elements at the given flat offsets, with a new shape.
  public func gathered(_ offsets: [Int], shape newShape: [Int]) -> NDArray {
    NDArray(shape: newShape, storage: storage.gathered(offsets))
  }

  /// This array broadcast (materialised) to `out`.
  public func broadcast(to out: [Int]) -> NDArray {
    if shape == out { return self }
    return gathered(broadcastOffsets(shape, to: out), shape: out)
  }
}

/// Double to int64 as C's cast on x86 does for numpy (out of range: the minimum int64).
@inline(__always)
public func int64Truncating(_ x: Double) -> Int64 {
  if x.isNaN || x >= 9.223372036854775807e18 || x < -9.223372036854775808e18 { return Int64.min }
  return Int64(x)
}

extension ArrayStorage {
  /// Storage of `dtype` holding doubles converted.
  public static func make(_ values: [Double], _ dtype: DType) -> ArrayStorage {
    switch dtype {
    case .float16: return .float16(values.map { Float16($0) })
    case .float32: return .float32(values.map { Float($0) })
    case .float64: return .float64(values)
    case .int64: return .int64(values.map { int64Truncating($0) })
    case .bool: return .bool(values.map { $0 != 0 })
    case .complex64: return .complex64(values.map { Complex64(Float($0)) })
    case .complex128: return .complex128(values.map { Complex128($0) })
    }
  }

  public func gathered(_ offsets: [Int]) -> ArrayStorage {
    switch self {
    case .float16(let a): return .float16(gather(a, offsets))
    case .float32(let a): return .float32(gather(a, offsets))
    case .float64(let a): return .float64(gather(a, offsets))
    case .int64(let a): return .int64(gather(a, offsets))
    case .bool(let a): return .bool(gather(a, offsets))
    case .complex64(let a): return .complex64(gather(a, offsets))
    case .complex128(let a): return .complex128(gather(a, offsets))
    }
  }

  /// An empty storage of `dtype`.
  public static func empty(_ dtype: DType) -> ArrayStorage { make([], dtype) }
}
