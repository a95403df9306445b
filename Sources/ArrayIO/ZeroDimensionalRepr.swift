import ArrayIO

extension ArrayFormatter {
  /// numpy's repr of a 0-d array (`np.array(3.5)`): `array(3.5)`, `array(1.)`,
  /// `array(2.5, dtype=float32)`, `array(True)` — the element as a one-element array prints it,
  /// under the print options, inside `array(...)`.
  static func zeroDimensionalRepr(_ a: NDArray, options: PrintOptions) -> String {
    var one = a.withShape([1])
    one.isZeroDimensionalArray = false
    var body = str(one, options: options)
    if body.hasPrefix("[") { body.removeFirst() }
    if body.hasSuffix("]") { body.removeLast() }
    while body.hasPrefix(" ") { body.removeFirst() }
    let dtype = [DType.float64, .int64, .bool, .complex128].contains(a.dtype) ? "" : ", dtype=\(a.dtype.rawValue)"
    return "array(\(body)\(dtype))"
  }
}
