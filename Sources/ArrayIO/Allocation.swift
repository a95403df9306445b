import Foundation

/// An array that cannot be made: too many elements for the address space, or more bytes than the
/// machine has. Thrown before anything is allocated, so the caller (a session) carries on.
public struct ArrayAllocationError: Error, Sendable, Equatable, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Checks array sizes before they are allocated.
///
/// Every element count is computed with overflow checks. Allocations of at least `threshold`
/// bytes are compared with the memory the machine has available (`MemAvailable` of
/// `/proc/meminfo` on Linux, the physical memory elsewhere), or with `limit` when one is set (the
/// fuzzers and tests set a small one; so does the environment variable `KS_MAX_ARRAY_BYTES`).
///
/// ```swift
/// try ArrayAllocation.check(shape: [1_000_000_000_000], dtype: .float64)
/// // MemoryError: unable to allocate 7.28 TiB for an array with shape (1000000000000,) and data type float64
/// ```
public enum ArrayAllocation {
  /// Allocations smaller than this are not compared with the available memory.
  public static let threshold = 16 << 20

  private static let lock = NSLock()
  nonisolated(unsafe) private static var _limit: Int? = {
    guard let s = ProcessInfo.processInfo.environment["KS_MAX_ARRAY_BYTES"], let n = Int(s), n >= 0 else { return nil }
    return n
  }()

  /// A fixed cap in bytes instead of the machine's available memory (nil: the machine's).
  public static var limit: Int? {
    get { lock.withLock { _limit } }
    set { lock.withLock { _limit = newValue } }
  }

  /// The product of `shape`, or nil when it overflows `Int` (or a dimension is negative).
  public static func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
      if d < 0 { return nil }
      let (p, o) = n.multipliedReportingOverflow(by: d)
      if o { return shape.contains(0) ? 0 : nil }
      n = p
    }
    return n
  }

  /// Throws unless an array of `shape` and `dtype` can be allocated; returns its element count.
  ///
  /// `workingBytesPerElement` counts the temporaries the caller builds on the way (a `[Double]`
  /// or `[Int]` of offsets is 8 bytes an element): they must fit too.
  @discardableResult
  public static func check(shape: [Int], dtype: DType, workingBytesPerElement: Int = 0) throws(ArrayAllocationError) -> Int {
    try check(shape: shape, itemSize: dtype.itemSize, typeName: dtype.rawValue, workingBytesPerElement: workingBytesPerElement)
  }

  /// The same for elements of `itemSize` bytes named `typeName` (Python lists, strings).
  @discardableResult
  public static func check(
    shape: [Int], itemSize: Int, typeName: String, workingBytesPerElement: Int = 0
  ) throws(ArrayAllocationError) -> Int {
    let shapeText = shapeDescription(shape)
    guard let n = elementCount(shape) else {
      let bytes = shape.reduce(Double(itemSize)) { $0 * Double($1) }
      throw ArrayAllocationError(
        "ValueError: array is too big; an array with shape \(shapeText) and data type \(typeName) would need "
          + "\(formatBytes(bytes)), more than the largest possible size (8 EiB)")
    }
    let (bytes, o) = n.multipliedReportingOverflow(by: itemSize)
    if o {
      throw ArrayAllocationError(
        "ValueError: array is too big; an array with shape \(shapeText) and data type \(typeName) would need "
          + "\(formatBytes(Double(n) * Double(itemSize))), more than the largest possible size (8 EiB)")
    }
    let working = n.multipliedReportingOverflow(by: itemSize + workingBytesPerElement)
    let needed = working.overflow ? Int.max : working.partialValue
    if needed >= threshold || limit != nil {
      let available = limit ?? availableMemory()
      if needed > available {
        let building = needed > bytes && bytes <= available ? "building it takes \(formatBytes(Double(needed))); " : ""
        throw ArrayAllocationError(
          "MemoryError: unable to allocate \(formatBytes(Double(bytes))) for an array with shape \(shapeText) "
            + "and data type \(typeName) (\(building)\(formatBytes(Double(available))) available)")
      }
    }
    return n
  }

  /// The bytes the machine can give now: `MemAvailable` on Linux, else the physical memory.
  public static func availableMemory() -> Int {
    #if os(Linux)
      if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
          let fields = line.split(separator: " ")
          if fields.count >= 2, let kb = Int(fields[1]) { return kb.multipliedReportingOverflow(by: 1024).partialValue }
        }
      }
    #endif
    let physical = ProcessInfo.processInfo.physicalMemory
    return physical > UInt64(Int.max) ? Int.max : Int(physical)
  }

  /// numpy's byte sizes: `7.28 TiB`, `512 MiB`, `24 bytes`.
  public static func formatBytes(_ bytes: Double) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var v = bytes
    var k = 0
    while v >= 1024 && k < units.count - 1 {
      v /= 1024
      k += 1
    }
    if k == 0 { return "\(Int(v)) bytes" }
    if v >= 1024 { return String(format: "%.3g bytes", bytes) }
    // three significant digits, trailing zeros dropped (numpy: 7.28 TiB, 1 GiB, 16.5 MiB)
    var s = String(format: v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v)
    if s.contains(".") {
      while s.hasSuffix("0") { s.removeLast() }
      if s.hasSuffix(".") { s.removeLast() }
    }
    return "\(s) \(units[k])"
  }

  /// A shape as Python writes the tuple: `(3, 2)`, `(4,)`, `()`.
  public static func shapeDescription(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }
}
