/// Reading and writing numeric delimited text (CSV, TSV, ...).
///
/// Loading always yields a 2-D float64 array with one row per non-empty line. Cells may be
/// surrounded by spaces or double quotes; `nan`, `inf` and `-inf` (any case) are accepted; lines
/// whose first non-blank character is `#` are comments (as `numpy.savetxt` writes headers).
///
/// ```swift
/// // x.csv:  a,b\n1,2\n3,4\n
/// let x = try CSV.load("x.csv")   // shape [2, 2], header "a,b" skipped
/// ```
public enum CSV {
  /// Reads a numeric CSV file into a float64 array of shape `[rows, columns]`.
  ///
  /// - Parameters:
  ///   - delimiter: the cell separator; a blank (space or tab) splits on runs of blanks.
  ///   - skipHeader: `true` always skips the first non-empty line, `false` never does, and `nil`
  ///     skips it only when it is not entirely numeric.
  public static func load(_ path: String, delimiter: Character = ",", skipHeader: Bool? = nil) throws -> NDArray {
    try checkDelimiter(delimiter)
    return try decode(AtomicFile.read(path), name: path, delimiter: delimiter, skipHeader: skipHeader)
  }

  /// Atomically writes a 0-, 1- or 2-D array as text: one row per line, values at full
  /// (shortest round-trip) precision, int64 as integers and bool as 0/1.
  ///
  /// A 1-D array is written one value per line (so it loads back with shape `[n, 1]`).
  public static func save(_ a: NDArray, to path: String, delimiter: Character = ",") throws {
    try checkDelimiter(delimiter)
    try AtomicFile.write(Array(encode(a, delimiter: delimiter, name: path).utf8), to: path)
  }

  // MARK: - Decoding

  /// Parses CSV text; `name` (usually the path) appears in error messages.
  public static func decode(_ bytes: [UInt8], name: String, delimiter: Character, skipHeader: Bool?) throws -> NDArray {
    var text = String(decoding: bytes, as: UTF8.self)
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }

    var values: [Double] = []
    var columns: Int? = nil
    var columnsLine = 0
    var rows = 0
    var sawFirstLine = false
    var lineNumber = 0

    // Split on "\n" only ("\r\n" is one Character, so work on unicode scalars).
    for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      var line = Substring(rawLine)
      if line.unicodeScalars.last == "\r" { line = Substring(line.unicodeScalars.dropLast()) }
      let trimmed = line.trimmingBlanks()
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }

      let cells = split(line, delimiter: delimiter)
      if !sawFirstLine {
        sawFirstLine = true
        let isHeader = skipHeader ?? !cells.allSatisfy { parseNumber($0) != nil }
        if isHeader {
          columns = cells.count
          columnsLine = lineNumber
          continue
        }
      }

      if let expected = columns, expected != cells.count {
        throw ArrayIOError(
          "'\(name)' line \(lineNumber): expected \(expected) \(expected == 1 ? "value" : "values") "
            + "(as on line \(columnsLine)), found \(cells.count)")
      }
      if columns == nil {
        columns = cells.count
        columnsLine = lineNumber
      }
      for (index, cell) in cells.enumerated() {
        guard let value = parseNumber(cell) else {
          let shown = cell.trimmingBlanks()
          if shown.isEmpty {
            throw ArrayIOError("'\(name)' line \(lineNumber), column \(index + 1): empty cell")
          }
          throw ArrayIOError("'\(name)' line \(lineNumber), column \(index + 1): '\(shown)' is not a number")
        }
        values.append(value)
      }
      rows += 1
    }
    return NDArray(shape: [rows, rows == 0 ? (columns ?? 0) : columns!], float64: values)
  }

  /// The cells of one line.
  static func split(_ line: Substring, delimiter: Character) -> [Substring] {
    if delimiter == " " || delimiter == "\t" {
      return line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    }
    return line.split(separator: delimiter, omittingEmptySubsequences: false)
  }

  /// A cell's number, allowing surrounding blanks and double quotes.
  static func parseNumber(_ cell: Substring) -> Double? {
    var text = cell.trimmingBlanks()
    if text.count >= 2, text.first == "\"", text.last == "\"" {
      text = text.dropFirst().dropLast().trimmingBlanks()
    }
    guard let first = text.first, first.isNumber || "+-.iInN".contains(first) else { return nil }
    // Swift also parses hexadecimal and "nan(...)" payloads; keep to what numpy's text reader accepts.
    if text.utf8.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") || $0 == UInt8(ascii: "(") }) {
      return nil
    }
    return Double(text)
  }

  static func checkDelimiter(_ delimiter: Character) throws {
    if delimiter.isNumber || delimiter.isNewline || "+-.eE\"#".contains(delimiter) {
      throw ArrayIOError("invalid CSV delimiter '\(delimiter)'")
    }
  }

  // MARK: - Encoding

  static func encode(_ a: NDArray, delimiter: Character, name: String) throws -> String {
    if a.dtype.isComplex {
      throw ArrayIOError("'\(name)': a \(a.dtype.rawValue) array cannot be written as CSV; save it as .npy, or save a.real and a.imag")
    }
    let rowLength: Int
    switch a.rank {
    case 0, 1: rowLength = 1
    case 2: rowLength = a.shape[1]
    default:
      throw ArrayIOError(
        "cannot write a \(a.rank)-D array (shape \(shapeText(a.shape))) to '\(name)': CSV holds 1-D or 2-D arrays")
    }
    let cells = formatted(a.storage)
    var out = ""
    out.reserveCapacity(cells.count * 8)
    let separator = String(delimiter)
    var column = 0
    for cell in cells {
      if column > 0 { out += separator }
      out += cell
      column += 1
      if column == rowLength {
        out += "\n"
        column = 0
      }
    }
    // A 2-D array with rows but no columns still gets one (empty) line per row.
    if rowLength == 0 && a.rank == 2 {
      out = String(repeating: "\n", count: a.shape[0])
    }
    return out
  }

  /// Each element as text that parses back to the same value.
  static func formatted(_ storage: ArrayStorage) -> [String] {
    switch storage {
    case .float16(let v): return v.map { floatText($0) }
    case .float32(let v): return v.map { floatText($0) }
    case .float64(let v): return v.map { floatText($0) }
    case .int64(let v): return v.map { String($0) }
    case .bool(let v): return v.map { $0 ? "1" : "0" }
    case .complex64, .complex128: return []  // refused by `encode`
    }
  }

  static func floatText<F: BinaryFloatingPoint & CustomStringConvertible>(_ x: F) -> String {
    if x.isNaN { return "nan" }
    return x.description  // shortest round-trip: "0.1", "1e-05", "inf", "-inf"
  }
}

extension Substring {
  /// The text without leading and trailing spaces and tabs.
  fileprivate func trimmingBlanks() -> Substring {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let start = firstIndex(where: { !isBlank($0) }) else { return self[endIndex...] }
    let end = lastIndex(where: { !isBlank($0) })!
    return self[start...end]
  }
}
