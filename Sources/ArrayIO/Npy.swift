/// Reading and writing numpy's `.npy` format.
///
/// Reads format versions 1.0, 2.0 and 3.0 with little-endian float16/32/64, complex64/128, any integer kind
/// (`i1`…`i8`, `u1`…`u8`, read as int64) and bool, in C or Fortran order. Writes exactly what
/// `numpy.save` writes: version 1.0 (2.0 for huge headers), C order, little-endian, with the data
/// aligned to 64 bytes.
///
/// ```swift
/// try Npy.save(NDArray(shape: [2], float64: [1, 2]), to: "x.npy")
/// let x = try Npy.load("x.npy")   // shape [2], float64
/// ```
public enum Npy {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

  /// Reads the `.npy` file at `path`.
  public static func load(_ path: String) throws -> NDArray {
    try decode(AtomicFile.read(path), name: path)
  }

  /// Atomically writes `a` to `path` as a `.npy` file.
  public static func save(_ a: NDArray, to path: String) throws {
    try AtomicFile.write(encode(a), to: path)
  }

  // MARK: - Decoding

  /// Decodes the bytes of a `.npy` file; `name` (usually the path) appears in error messages.
  public static func decode(_ bytes: [UInt8], name: String) throws -> NDArray {
    guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
      throw ArrayIOError("'\(name)' is not a .npy file (bad magic)")
    }
    guard bytes.count >= 8 else {
      throw ArrayIOError("'\(name)' is truncated: the header is incomplete")
    }
    let major = bytes[6]
    let minor = bytes[7]
    let lengthSize: Int
    switch major {
    case 1: lengthSize = 2
    case 2, 3: lengthSize = 4
    default:
      throw ArrayIOError(
        "'\(name)' uses .npy format version \(major).\(minor), which is not supported (1.0, 2.0, 3.0 are)")
    }
    guard bytes.count >= 8 + lengthSize else {
      throw ArrayIOError("'\(name)' is truncated: the header is incomplete")
    }
    var headerLength = 0
    for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
    let headerStart = 8 + lengthSize
    let dataOffset = headerStart + headerLength
    guard bytes.count >= dataOffset else {
      throw ArrayIOError(
        "'\(name)' is truncated: expected \(headerLength) header bytes, found \(bytes.count - headerStart)")
    }

    let headerBytes = bytes[headerStart..<dataOffset]
    let headerText: String
    if major == 3 {
      guard let text = decodeUTF8(headerBytes) else {
        throw ArrayIOError("'\(name)' has a malformed header: not valid UTF-8")
      }
      headerText = text
    } else {
      // Versions 1.0 and 2.0 store the header as latin-1.
      var scalars = String.UnicodeScalarView()
      scalars.append(contentsOf: headerBytes.map { Unicode.Scalar($0) })
      headerText = String(scalars)
    }

    let header = try parseHeader(headerText, name: name)
    let format = try elementFormat(header.descr, name: name)

    var count = 1
    for extent in header.shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: extent)
      guard !overflow else { throw ArrayIOError("'\(name)' has an impossible shape \(shapeText(header.shape))") }
      count = product
    }
    let (byteCount, overflow) = count.multipliedReportingOverflow(by: format.size)
    let available = bytes.count - dataOffset
    guard !overflow, available >= byteCount else {
      let expected = overflow ? "\(count) × \(format.size)" : "\(byteCount)"
      throw ArrayIOError("'\(name)' is truncated: expected \(expected) data bytes, found \(available)")
    }

    var storage = try decodeElements(bytes, offset: dataOffset, count: count, format: format, name: name)
    if header.fortranOrder && header.shape.count > 1 && count > 1 {
      storage = fortranToC(storage, shape: header.shape)
    }
    return NDArray(shape: header.shape, storage: storage)
  }

  /// Strictly decodes UTF-8, returning nil for invalid input.
  static func decodeUTF8(_ bytes: ArraySlice<UInt8>) -> String? {
    var decoder = UTF8()
    var iterator = bytes.makeIterator()
    var scalars = String.UnicodeScalarView()
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): scalars.append(scalar)
      case .emptyInput: return String(scalars)
      case .error: return nil
      }
    }
  }

  /// The parsed header dictionary.
  struct Header {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
  }

  static func parseHeader(_ text: String, name: String) throws -> Header {
    let value: PyLiteral
    do throws(PyLiteralParser.Failure) {
      value = try PyLiteralParser.parse(text)
    } catch {
      throw ArrayIOError("'\(name)' has a malformed header: \(error.message)")
    }
    guard case .dict(let entries) = value else {
      throw ArrayIOError("'\(name)' has a malformed header: expected a dict, found \(value.repr)")
    }
    func entry(_ key: String) throws -> PyLiteral {
      guard let found = entries.last(where: { $0.key == .string(key) }) else {
        throw ArrayIOError("'\(name)' has a malformed header: missing key '\(key)'")
      }
      return found.value
    }

    let descr: String
    switch try entry("descr") {
    case .string(let s): descr = s
    case let other:
      throw ArrayIOError(
        "'\(name)' holds a structured array (descr \(other.repr)), which is not supported; "
          + "ks reads float16/32/64, complex64/128, integer and bool arrays")
    }

    guard case .bool(let fortranOrder) = try entry("fortran_order") else {
      throw ArrayIOError("'\(name)' has a malformed header: 'fortran_order' is not True or False")
    }

    let shapeValue = try entry("shape")
    guard case .tuple(let items) = shapeValue else {
      throw ArrayIOError("'\(name)' has a malformed header: 'shape' is \(shapeValue.repr), not a tuple")
    }
    var shape: [Int] = []
    for item in items {
      guard case .int(let extent) = item, extent >= 0 else {
        throw ArrayIOError("'\(name)' has a malformed header: invalid shape \(shapeValue.repr)")
      }
      shape.append(extent)
    }
    return Header(descr: descr, fortranOrder: fortranOrder, shape: shape)
  }

  /// How one stored element is laid out.
  struct ElementFormat: Equatable {
    enum Kind { case float, signed, unsigned, bool, complex }
    var kind: Kind
    var size: Int
  }

  /// Interprets a numpy type string such as `<f8`, `|b1` or `<i4`.
  static func elementFormat(_ descr: String, name: String) throws -> ElementFormat {
    let unsupportedTail = "; ks reads float16/32/64, complex64/128, integer and bool arrays"
    var rest = Substring(descr)
    var order: Character = "="
    if let first = rest.first, "<>|=".contains(first) {
      order = first
      rest = rest.dropFirst()
    }
    guard let kindChar = rest.first else {
      throw ArrayIOError("'\(name)': this dtype is not supported (descr '\(descr)')\(unsupportedTail)")
    }
    let sizeText = rest.dropFirst()
    let size = Int(sizeText)

    let format: ElementFormat
    switch kindChar {
    case "?" where sizeText.isEmpty || size == 1:
      format = ElementFormat(kind: .bool, size: 1)
    case "b" where size == 1:
      format = ElementFormat(kind: .bool, size: 1)
    case "f" where size == 2 || size == 4 || size == 8:
      format = ElementFormat(kind: .float, size: size!)
    case "i" where size == 1 || size == 2 || size == 4 || size == 8:
      format = ElementFormat(kind: .signed, size: size!)
    case "u" where size == 1 || size == 2 || size == 4 || size == 8:
      format = ElementFormat(kind: .unsigned, size: size!)
    case "c" where size == 8 || size == 16:
      format = ElementFormat(kind: .complex, size: size!)
    default:
      let what: String
      switch kindChar {
      case "c": what = "complex arrays of this size are"
      case "O": what = "object arrays are"
      case "U": what = "unicode string arrays are"
      case "S", "a": what = "byte string arrays are"
      case "V": what = "void (structured or raw) arrays are"
      case "M": what = "datetime arrays are"
      case "m": what = "timedelta arrays are"
      case "f": what = "floating-point arrays of this size are"
      default: what = "this dtype is"
      }
      throw ArrayIOError("'\(name)': \(what) not supported (descr '\(descr)')\(unsupportedTail)")
    }

    if order == ">" && format.size > 1 && isLittleEndianHost {
      throw ArrayIOError(
        "'\(name)': big-endian arrays are not supported (descr '\(descr)'); "
          + "convert with arr.astype('<\(rest)')")
    }
    if order == "<" && format.size > 1 && !isLittleEndianHost {
      throw ArrayIOError("'\(name)': little-endian arrays are not supported on this machine (descr '\(descr)')")
    }
    return format
  }

  static var isLittleEndianHost: Bool {
    #if _endian(little)
      return true
    #else
      return false
    #endif
  }

  /// Decodes `count` elements starting at `offset` into ks storage.
  static func decodeElements(
    _ bytes: [UInt8], offset: Int, count: Int, format: ElementFormat, name: String
  ) throws -> ArrayStorage {
    switch (format.kind, format.size) {
    case (.float, 2): return .float16(copyElements(bytes, offset: offset, count: count))
    case (.float, 4): return .float32(copyElements(bytes, offset: offset, count: count))
    case (.float, 8): return .float64(copyElements(bytes, offset: offset, count: count))
    case (.bool, _): return .bool(bytes[offset..<(offset + count)].map { $0 != 0 })
    case (.complex, 8): return .complex64(copyElements(bytes, offset: offset, count: count))
    case (.complex, 16): return .complex128(copyElements(bytes, offset: offset, count: count))
    case (.signed, 1): return .int64(bytes[offset..<(offset + count)].map { Int64(Int8(bitPattern: $0)) })
    case (.signed, 2): return .int64((copyElements(bytes, offset: offset, count: count) as [Int16]).map(Int64.init))
    case (.signed, 4): return .int64((copyElements(bytes, offset: offset, count: count) as [Int32]).map(Int64.init))
    case (.signed, 8): return .int64(copyElements(bytes, offset: offset, count: count))
    case (.unsigned, 1): return .int64(bytes[offset..<(offset + count)].map(Int64.init))
    case (.unsigned, 2): return .int64((copyElements(bytes, offset: offset, count: count) as [UInt16]).map(Int64.init))
    case (.unsigned, 4): return .int64((copyElements(bytes, offset: offset, count: count) as [UInt32]).map(Int64.init))
    case (.unsigned, 8):
      let raw: [UInt64] = copyElements(bytes, offset: offset, count: count)
      if let big = raw.first(where: { $0 > UInt64(Int64.max) }) {
        throw ArrayIOError("'\(name)': uint64 value \(big) does not fit in int64")
      }
      return .int64(raw.map { Int64(bitPattern: $0) })
    default:
      preconditionFailure("unhandled element format \(format)")
    }
  }

  /// Copies `count` native-order (= little-endian, checked by `elementFormat`) elements.
  static func copyElements<T: BitwiseCopyable>(_ bytes: [UInt8], offset: Int, count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      bytes.withUnsafeBytes { source in
        let byteCount = count * MemoryLayout<T>.stride
        UnsafeMutableRawBufferPointer(buffer).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + byteCount)]))
      }
      initialized = count
    }
  }

  /// Reorders column-major elements of an array of `shape` into row-major order.
  static func fortranToC(_ storage: ArrayStorage, shape: [Int]) -> ArrayStorage {
    switch storage {
    case .float16(let a): return .float16(fortranToC(a, shape: shape))
    case .float32(let a): return .float32(fortranToC(a, shape: shape))
    case .float64(let a): return .float64(fortranToC(a, shape: shape))
    case .int64(let a): return .int64(fortranToC(a, shape: shape))
    case .bool(let a): return .bool(fortranToC(a, shape: shape))
    case .complex64(let a): return .complex64(fortranToC(a, shape: shape))
    case .complex128(let a): return .complex128(fortranToC(a, shape: shape))
    }
  }

  static func fortranToC<T>(_ source: [T], shape: [Int]) -> [T] {
    let rank = shape.count
    // Column-major strides: the first axis varies fastest.
    var strides = [Int](repeating: 1, count: rank)
    for axis in 1..<rank { strides[axis] = strides[axis - 1] * shape[axis - 1] }
    var result: [T] = []
    result.reserveCapacity(source.count)
    var index = [Int](repeating: 0, count: rank)
    var sourceOffset = 0
    for _ in 0..<source.count {
      result.append(source[sourceOffset])
      // Advance the row-major multi-index (last axis fastest), tracking the column-major offset.
      var axis = rank - 1
      while axis >= 0 {
        index[axis] += 1
        sourceOffset += strides[axis]
        if index[axis] < shape[axis] { break }
        sourceOffset -= strides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  // MARK: - Encoding

  /// The numpy type string ks writes for `dtype`.
  public static func descr(for dtype: DType) -> String {
    switch dtype {
    case .float16: return "<f2"
    case .float32: return "<f4"
    case .float64: return "<f8"
    case .int64: return "<i8"
    case .bool: return "|b1"
    case .complex64: return "<c8"
    case .complex128: return "<c16"
    }
  }

  /// Encodes `a` as the bytes of a `.npy` file, byte for byte as `numpy.save` would.
  public static func encode(_ a: NDArray) -> [UInt8] {
    var header = "{'descr': '\(descr(for: a.dtype))', 'fortran_order': False, 'shape': \(shapeText(a.shape)), }"
    // numpy leaves room to grow the first axis in place.
    if let first = a.shape.first {
      header += String(repeating: " ", count: max(0, 21 - String(first).utf8.count))
    }
    let headerUTF8 = Array(header.utf8)

    var version: UInt8 = 1
    var lengthSize = 2
    var padded = paddedLength(headerUTF8.count, lengthSize: lengthSize)
    if padded > Int(UInt16.max) {
      version = 2
      lengthSize = 4
      padded = paddedLength(headerUTF8.count, lengthSize: lengthSize)
    }

    var out = magic
    out.reserveCapacity(8 + lengthSize + padded + a.count * a.dtype.itemSize)
    out += [version, 0]
    for i in 0..<lengthSize { out.append(UInt8(truncatingIfNeeded: padded >> (8 * i))) }
    out += headerUTF8
    out += [UInt8](repeating: 0x20, count: padded - headerUTF8.count - 1)
    out.append(0x0A)

    switch a.storage {
    case .float16(let v): appendElements(v, bitPattern: \.bitPattern, to: &out)
    case .float32(let v): appendElements(v, bitPattern: \.bitPattern, to: &out)
    case .float64(let v): appendElements(v, bitPattern: \.bitPattern, to: &out)
    case .int64(let v): appendElements(v, bitPattern: { $0 }, to: &out)
    case .bool(let v): out += v.map { $0 ? 1 : 0 }
    case .complex64(let v): appendElements(v.flatMap { [$0.re, $0.im] }, bitPattern: \.bitPattern, to: &out)
    case .complex128(let v): appendElements(v.flatMap { [$0.re, $0.im] }, bitPattern: \.bitPattern, to: &out)
    }
    return out
  }

  /// Appends elements in little-endian byte order (a plain copy on little-endian machines).
  static func appendElements<T: BitwiseCopyable, Bits: FixedWidthInteger>(
    _ values: [T], bitPattern: (T) -> Bits, to out: inout [UInt8]
  ) {
    #if _endian(little)
      values.withUnsafeBytes { out.append(contentsOf: $0) }
    #else
      appendLittleEndian(values.map(bitPattern), to: &out)
    #endif
  }

  /// numpy's header length: text + newline, padded so the data starts on a 64-byte boundary.
  static func paddedLength(_ textLength: Int, lengthSize: Int) -> Int {
    let unpadded = textLength + 1
    let padding = 64 - ((8 + lengthSize + unpadded) % 64)
    return unpadded + padding
  }

  static func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to out: inout [UInt8]) {
    let size = MemoryLayout<T>.size
    let start = out.count
    out += [UInt8](repeating: 0, count: values.count * size)
    out.withUnsafeMutableBytes { destination in
      for (i, value) in values.enumerated() {
        destination.storeBytes(of: value.littleEndian, toByteOffset: start + i * size, as: T.self)
      }
    }
  }
}

/// A shape written as a Python tuple: `()`, `(5,)`, `(2, 3)`.
func shapeText(_ shape: [Int]) -> String {
  switch shape.count {
  case 0: return "()"
  case 1: return "(\(shape[0]),)"
  default: return "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }
}

// MARK: - Python literals

/// The subset of Python literal syntax found in `.npy` headers.
indirect enum PyLiteral: Equatable {
  case string(String)
  case int(Int)
  case bool(Bool)
  case none
  case tuple([PyLiteral])
  case list([PyLiteral])
  case dict([(key: PyLiteral, value: PyLiteral)])

  static func == (lhs: PyLiteral, rhs: PyLiteral) -> Bool {
    switch (lhs, rhs) {
    case (.string(let a), .string(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.bool(let a), .bool(let b)): return a == b
    case (.none, .none): return true
    case (.tuple(let a), .tuple(let b)), (.list(let a), .list(let b)): return a == b
    case (.dict(let a), .dict(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: return false
    }
  }

  /// The value as Python's `repr` would write it.
  var repr: String {
    switch self {
    case .string(let s):
      let escaped = s.replacingBackslashesAndQuotes()
      return "'\(escaped)'"
    case .int(let i): return String(i)
    case .bool(let b): return b ? "True" : "False"
    case .none: return "None"
    case .tuple(let items):
      return items.count == 1 ? "(\(items[0].repr),)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
    case .list(let items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
    case .dict(let entries):
      return "{" + entries.map { "\($0.key.repr): \($0.value.repr)" }.joined(separator: ", ") + "}"
    }
  }
}

extension String {
  fileprivate func replacingBackslashesAndQuotes() -> String {
    var out = ""
    for c in self {
      switch c {
      case "\\": out += "\\\\"
      case "'": out += "\\'"
      default: out.append(c)
      }
    }
    return out
  }
}

/// A recursive-descent parser for `PyLiteral`.
struct PyLiteralParser {
  struct Failure: Error {
    var message: String
  }

  private let scalars: [Unicode.Scalar]
  private var position = 0

  private init(_ text: String) {
    scalars = Array(text.unicodeScalars)
  }

  /// Parses one literal that must make up all of `text` (surrounding whitespace aside).
  static func parse(_ text: String) throws(Failure) -> PyLiteral {
    var parser = PyLiteralParser(text)
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    if parser.position < parser.scalars.count {
      throw Failure(message: "unexpected '\(parser.scalars[parser.position])' at offset \(parser.position)")
    }
    return value
  }

  private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

  private mutating func skipWhitespace() {
    while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\0" { position += 1 }
  }

  private func failure(_ expected: String) -> Failure {
    if let c = current {
      return Failure(message: "expected \(expected) at offset \(position), found '\(c)'")
    }
    return Failure(message: "expected \(expected), found the end of the header")
  }

  private mutating func value(depth: Int) throws(Failure) -> PyLiteral {
    guard depth < 64 else { throw Failure(message: "nesting too deep") }
    skipWhitespace()
    guard let c = current else { throw failure("a value") }
    switch c {
    case "{":
      position += 1
      let entries = try sequence(closing: "}") { (p: inout PyLiteralParser) throws(Failure) in
        let key = try p.value(depth: depth + 1)
        p.skipWhitespace()
        guard p.current == ":" else { throw p.failure("':'") }
        p.position += 1
        let value = try p.value(depth: depth + 1)
        return (key: key, value: value)
      }
      return .dict(entries.items)
    case "[":
      position += 1
      let items = try sequence(closing: "]") { (p: inout PyLiteralParser) throws(Failure) in
        try p.value(depth: depth + 1)
      }
      return .list(items.items)
    case "(":
      position += 1
      let (items, trailingComma) = try sequence(closing: ")") { (p: inout PyLiteralParser) throws(Failure) in
        try p.value(depth: depth + 1)
      }
      // `(x)` is just x in Python; `(x,)` is a one-element tuple.
      if items.count == 1 && !trailingComma { return items[0] }
      return .tuple(items)
    case "'", "\"":
      return .string(try string())
    case "-", "+", "0"..."9":
      return .int(try integer())
    default:
      var word = ""
      while let c = current, c.properties.isAlphabetic || c == "_" {
        word.unicodeScalars.append(c)
        position += 1
      }
      switch word {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      default:
        if word.isEmpty { throw failure("a value") }
        throw Failure(message: "unknown name '\(word)'")
      }
    }
  }

  /// Comma-separated items up to `closing`; reports whether the last item had a trailing comma.
  private mutating func sequence<Item>(
    closing: Unicode.Scalar, item: (inout PyLiteralParser) throws(Failure) -> Item
  ) throws(Failure) -> (items: [Item], trailingComma: Bool) {
    var items: [Item] = []
    var trailingComma = false
    while true {
      skipWhitespace()
      if current == closing {
        position += 1
        return (items, trailingComma)
      }
      if !items.isEmpty && !trailingComma { throw failure("',' or '\(closing)'") }
      items.append(try item(&self))
      skipWhitespace()
      trailingComma = current == ","
      if trailingComma { position += 1 }
    }
  }

  private mutating func integer() throws(Failure) -> Int {
    var text = ""
    if let c = current, c == "-" || c == "+" {
      text.unicodeScalars.append(c)
      position += 1
    }
    while let c = current, ("0"..."9").contains(c) || c == "_" {
      if c != "_" { text.unicodeScalars.append(c) }
      position += 1
    }
    // Python 2 wrote long integers with an `L` suffix.
    if let c = current, c == "L" || c == "l" { position += 1 }
    guard let value = Int(text) else {
      if text.contains(where: \.isNumber) {
        throw Failure(message: "integer \(text) is out of range")
      }
      throw failure("a digit")
    }
    return value
  }

  private mutating func string() throws(Failure) -> String {
    guard let quote = current else { throw failure("a string") }
    position += 1
    var out = String.UnicodeScalarView()
    while true {
      guard let c = current else { throw Failure(message: "unterminated string") }
      position += 1
      if c == quote { return String(out) }
      if c == "\n" { throw Failure(message: "unterminated string") }
      guard c == "\\" else {
        out.append(c)
        continue
      }
      guard let e = current else { throw Failure(message: "unterminated string") }
      position += 1
      switch e {
      case "n": out.append("\n")
      case "t": out.append("\t")
      case "r": out.append("\r")
      case "0": out.append("\0")
      case "\\", "'", "\"": out.append(e)
      case "x": out.append(try hexEscape(digits: 2))
      case "u": out.append(try hexEscape(digits: 4))
      case "U": out.append(try hexEscape(digits: 8))
      default:
        out.append("\\")
        out.append(e)
      }
    }
  }

  private mutating func hexEscape(digits: Int) throws(Failure) -> Unicode.Scalar {
    guard position + digits <= scalars.count else { throw Failure(message: "truncated escape in string") }
    var text = ""
    text.unicodeScalars.append(contentsOf: scalars[position..<(position + digits)])
    position += digits
    guard let code = UInt32(text, radix: 16), let scalar = Unicode.Scalar(code) else {
      throw Failure(message: "invalid escape \\\(text) in string")
    }
    return scalar
  }
}
