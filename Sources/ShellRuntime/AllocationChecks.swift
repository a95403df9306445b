import ArrayIO
import KSDiagnostics

/// Size checks the interpreter runs before it allocates: an array, list or string too large for
/// the address space or for the machine's memory is a ShellError at the statement, never a trap.
public enum Allocation {
  /// Throws unless an array of `shape` and `dtype` can be allocated; returns its element count.
  /// The numpy layer builds most arrays through a `[Double]` or an `[Int]` of offsets first, so
  /// 8 more bytes an element must fit as well.
  @discardableResult
  public static func check(_ shape: [Int], _ dtype: DType, at range: SourceRange?) throws(ShellError) -> Int {
    do {
      return try ArrayAllocation.check(shape: shape, dtype: dtype, workingBytesPerElement: 8)
    } catch {
      throw ShellError(error.message, at: range)
    }
  }

  /// The same for a Python list (8 bytes a reference) or str (1 byte a character) of `count` items.
  public static func checkSequence(_ count: Int, itemSize: Int, typeName: String, at range: SourceRange?) throws(ShellError) {
    let (bytes, o) = count.multipliedReportingOverflow(by: itemSize)
    let available = ArrayAllocation.limit ?? (bytes >= ArrayAllocation.threshold ? ArrayAllocation.availableMemory() : Int.max)
    if o || bytes > available {
      throw ShellError(
        "MemoryError: unable to allocate \(ArrayAllocation.formatBytes(Double(count) * Double(itemSize))) for a \(typeName) of \(count) \(typeName == "str" ? "characters" : "items")"
          + " (\(ArrayAllocation.formatBytes(Double(available))) available)", at: range)
    }
  }

  /// The product of two counts, or a ShellError naming `what` when it overflows.
  public static func product(_ a: Int, _ b: Int, _ what: String, at range: SourceRange?) throws(ShellError) -> Int {
    let (p, o) = a.multipliedReportingOverflow(by: b)
    if o { throw ShellError("ValueError: \(what) is too big (\(a) × \(b) overflows a 64-bit size)", at: range) }
    return p
  }
}

/// One more decimal digit of a format width or precision, as Python refuses an overflowing one.
func formatDigit(_ value: Int, _ digit: Int, at range: SourceRange) throws(ShellError) -> Int {
  let (v, o1) = value.multipliedReportingOverflow(by: 10)
  let (w, o2) = v.addingReportingOverflow(digit)
  if o1 || o2 { throw ShellError("ValueError: Too many decimal digits in format string", at: range) }
  return w
}
