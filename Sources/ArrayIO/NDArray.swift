/// The typed, contiguous element buffer of an `NDArray`.
public enum ArrayStorage: Sendable, Equatable {
  case float16([Float16])
  case float32([Float])
  case float64([Double])
  case int64([Int64])
  case bool([Bool])
  case complex64([Complex64])
  case complex128([Complex128])

  public var dtype: DType {
    switch self {
    case .float16: return .float16
    case .float32: return .float32
    case .float64: return .float64
    case .int64: return .int64
    case .bool: return .bool
    case .complex64: return .complex64
    case .complex128: return .complex128
    }
  }

  public var count: Int {
    switch self {
    case .float16(let a): return a.count
    case .float32(let a): return a.count
    case .float64(let a): return a.count
    case .int64(let a): return a.count
    case .bool(let a): return a.count
    case .complex64(let a): return a.count
    case .complex128(let a): return a.count
    }
  }
}

/// A dense N-dimensional array in row-major (C) order: the value type every ks stage exchanges.
///
/// ```swift
/// let x = NDArray(shape: [2, 3], float64: [0, 1, 2, 3, 4, 5])
/// x.shape   // [2, 3]
/// x.dtype   // .float64
/// ```
public struct NDArray: Sendable, Equatable {
  public private(set) var shape: [Int]
  public private(set) var storage: ArrayStorage
  /// For a 0-d array: true when it was made as an array (`np.array(3.5)`, repr `array(3.5)`),
  /// false for a numpy scalar (`x[0]`, `np.float64(3.5)`, repr `np.float64(3.5)`). Not part of ==.
  public var isZeroDimensionalArray = false

  public static func == (a: NDArray, b: NDArray) -> Bool { a.shape == b.shape && a.storage == b.storage }

  /// Creates an array; the element count must equal the product of the shape.
  public init(shape: [Int], storage: ArrayStorage) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    precondition(
      shape.reduce(1, *) == storage.count,
      "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(storage.count)")
    self.shape = shape
    self.storage = storage
  }

  public init(shape: [Int], float64 values: [Double]) { self.init(shape: shape, storage: .float64(values)) }
  public init(shape: [Int], float32 values: [Float]) { self.init(shape: shape, storage: .float32(values)) }
  public init(shape: [Int], int64 values: [Int64]) { self.init(shape: shape, storage: .int64(values)) }

  /// An array of `dtype` holding `values` converted (rounded to nearest, or truncated toward zero
  /// for int64, nonzero for bool).
  public init(shape: [Int], doubles values: [Double], dtype: DType) {
    switch dtype {
    case .float16: self.init(shape: shape, storage: .float16(values.map { Float16($0) }))
    case .float32: self.init(shape: shape, storage: .float32(values.map { Float($0) }))
    case .float64: self.init(shape: shape, storage: .float64(values))
    case .int64: self.init(shape: shape, storage: .int64(values.map { $0.isFinite ? Int64($0) : Int64.min }))
    case .bool: self.init(shape: shape, storage: .bool(values.map { $0 != 0 }))
    case .complex64: self.init(shape: shape, storage: .complex64(values.map { Complex64(Float($0)) }))
    case .complex128: self.init(shape: shape, storage: .complex128(values.map { Complex128($0) }))
    }
  }

  /// A zero-filled array.
  public static func zeros(_ shape: [Int], dtype: DType = .float64) -> NDArray {
    NDArray(shape: shape, doubles: [Double](repeating: 0, count: shape.reduce(1, *)), dtype: dtype)
  }

  public var dtype: DType { storage.dtype }
  public var count: Int { storage.count }
  public var rank: Int { shape.count }

  /// Every element as a Double (exact for all float types; int64 beyond 2^53 rounds; complex
  /// elements give their real part, as numpy's cast to float does).
  public func toDoubles() -> [Double] {
    switch storage {
    case .float16(let a): return a.map { Double($0) }
    case .float32(let a): return a.map { Double($0) }
    case .float64(let a): return a
    case .int64(let a): return a.map { Double($0) }
    case .bool(let a): return a.map { $0 ? 1 : 0 }
    case .complex64(let a): return a.map { Double($0.re) }
    case .complex128(let a): return a.map { $0.re }
    }
  }

  /// Every element as a complex128 (real dtypes get a zero imaginary part).
  public var complexValues: [Complex128] {
    switch storage {
    case .complex64(let a): return a.map { $0.wide }
    case .complex128(let a): return a
    default: return toDoubles().map { Complex128($0) }
    }
  }

  /// The imaginary parts (zeros for a real dtype), as Doubles.
  public func imaginaryDoubles() -> [Double] {
    switch storage {
    case .complex64(let a): return a.map { Double($0.im) }
    case .complex128(let a): return a.map { $0.im }
    default: return [Double](repeating: 0, count: count)
    }
  }

  /// The element at a flat (row-major) index, as a Double.
  public func double(at flatIndex: Int) -> Double {
    switch storage {
    case .float16(let a): return Double(a[flatIndex])
    case .float32(let a): return Double(a[flatIndex])
    case .float64(let a): return a[flatIndex]
    case .int64(let a): return Double(a[flatIndex])
    case .bool(let a): return a[flatIndex] ? 1 : 0
    case .complex64(let a): return Double(a[flatIndex].re)
    case .complex128(let a): return a[flatIndex].re
    }
  }

  /// The same elements converted to another dtype (numpy's `astype`).
  public func converted(to dtype: DType) -> NDArray {
    if dtype == self.dtype { return self }
    if dtype.isComplex || self.dtype.isComplex { return cast(dtype) }
    switch (storage, dtype) {
    case (.int64(let a), .bool): return NDArray(shape: shape, storage: .bool(a.map { $0 != 0 }))
    case (.bool(let a), .int64): return NDArray(shape: shape, storage: .int64(a.map { $0 ? 1 : 0 }))
    default: return NDArray(shape: shape, doubles: toDoubles(), dtype: dtype)
    }
  }

  /// The same elements with another shape of equal size.
  public func reshaped(_ newShape: [Int]) -> NDArray {
    NDArray(shape: newShape, storage: storage)
  }
}
