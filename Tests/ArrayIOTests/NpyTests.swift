import Testing

@testable import ArrayIO

let roundTripShapes: [[Int]] = [[], [0], [5], [2, 3], [2, 3, 4]]

@Suite struct NpyRoundTripTests {
  @Test(arguments: DType.allCases, roundTripShapes)
  func encodeDecodeRoundTrip(dtype: DType, shape: [Int]) throws {
    let a = sampleArray(dtype, shape)
    let bytes = Npy.encode(a)
    let b = try Npy.decode(bytes, name: "x.npy")
    #expect(identical(a, b), "\(dtype) \(shape): \(b)")

    // Layout: version 1.0, header ends in "\n", data starts on a 64-byte boundary.
    #expect(bytes[6] == 1 && bytes[7] == 0)
    let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    let dataOffset = 10 + headerLength
    #expect(dataOffset % 64 == 0)
    #expect(bytes[dataOffset - 1] == 0x0A)
    #expect(bytes.count == dataOffset + a.count * dtype.itemSize)
  }

  @Test(arguments: DType.allCases, roundTripShapes)
  func saveLoadRoundTrip(dtype: DType, shape: [Int]) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let a = sampleArray(dtype, shape)
    try Npy.save(a, to: dir.file("a.npy"))
    let b = try Npy.load(dir.file("a.npy"))
    #expect(identical(a, b))
    #expect(try dir.contents() == ["a.npy"])
  }

  @Test func headerMatchesNumpyByteForByte() {
    let bytes = Npy.encode(NDArray(shape: [3], float64: [1, 2, 3]))
    let text = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
    // numpy pads with spaces to a 64-byte multiple, ending in "\n" (128 bytes before the data here).
    let expected =
      [0x93] + ascii("NUMPY") + [1, 0, 118, 0] + ascii(text)
      + [UInt8](repeating: 0x20, count: 128 - 10 - text.utf8.count - 1) + [0x0A]
    #expect(Array(bytes[0..<128]) == expected)
    #expect(bytes.count == 128 + 24)
  }

  @Test func headerTexts() throws {
    func headerText(_ a: NDArray) -> String {
      let bytes = Npy.encode(a)
      let length = Int(bytes[8]) | Int(bytes[9]) << 8
      return String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
    }
    let cases: [(NDArray, String)] = [
      (NDArray.zeros([]), "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"),
      (NDArray.zeros([0], dtype: .float32), "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }"),
      (NDArray.zeros([2, 3], dtype: .int64), "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }"),
      (NDArray.zeros([2, 3, 4], dtype: .bool), "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3, 4), }"),
      (NDArray.zeros([1], dtype: .float16), "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }"),
    ]
    for (a, prefix) in cases {
      let text = headerText(a)
      #expect(text.hasPrefix(prefix))
      #expect(text.hasSuffix("\n"))
      #expect(text.dropLast().allSatisfy { $0 != "\n" })
    }
  }

  @Test func hugeHeaderUsesVersion2() throws {
    // 22,000 axes of length 1: a header over 65,535 bytes.
    let a = NDArray(shape: [Int](repeating: 1, count: 22_000), float64: [4.5])
    let bytes = Npy.encode(a)
    #expect(bytes[6] == 2 && bytes[7] == 0)
    let length = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    #expect((12 + length) % 64 == 0)
    let b = try Npy.decode(bytes, name: "big.npy")
    #expect(b == a)
  }
}

@Suite struct NpyDecodeTests {
  @Test func fortranOrder2D() throws {
    // Column-major data for [[0, 1, 2], [10, 11, 12]].
    let file = npyFile(
      header: "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }",
      data: littleEndianBytes([0, 10, 1, 11, 2, 12] as [Int64]))
    let a = try Npy.decode(file, name: "f.npy")
    #expect(a == NDArray(shape: [2, 3], int64: [0, 1, 2, 10, 11, 12]))
  }

  @Test func fortranOrder3D() throws {
    let shape = [2, 3, 4]
    // Element (i, j, k) = 100i + 10j + k, stored with i varying fastest.
    var columnMajor: [Double] = []
    for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { columnMajor.append(Double(100 * i + 10 * j + k)) } } }
    var rowMajor: [Double] = []
    for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { rowMajor.append(Double(100 * i + 10 * j + k)) } } }
    let file = npyFile(
      header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }",
      data: littleEndianBytes(columnMajor.map(\.bitPattern)))
    #expect(try Npy.decode(file, name: "f.npy") == NDArray(shape: shape, float64: rowMajor))
  }

  @Test func fortranOrder1DAndScalar() throws {
    let vector = npyFile(
      header: "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }",
      data: littleEndianBytes([Float(1), 2, 3].map(\.bitPattern)))
    #expect(try Npy.decode(vector, name: "v.npy") == NDArray(shape: [3], float32: [1, 2, 3]))
    let scalar = npyFile(
      header: "{'descr': '<f8', 'fortran_order': True, 'shape': (), }",
      data: littleEndianBytes([Double(7).bitPattern]))
    #expect(try Npy.decode(scalar, name: "s.npy") == NDArray(shape: [], float64: [7]))
  }

  @Test func version2Header() throws {
    let file = npyFile(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
      data: littleEndianBytes([Double(1.5).bitPattern, Double(-2).bitPattern]), major: 2)
    #expect(file.count > 12 && (file.count - 16) % 64 == 0)
    #expect(try Npy.decode(file, name: "v2.npy") == NDArray(shape: [2], float64: [1.5, -2]))
  }

  @Test func version3HeaderIsUTF8() throws {
    // Extra keys are ignored; the é and → only decode correctly as UTF-8.
    let file = npyFile(
      header: "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'note': 'é→', }",
      data: littleEndianBytes([42] as [Int64]), major: 3)
    #expect(try Npy.decode(file, name: "v3.npy") == NDArray(shape: [1], int64: [42]))
  }

  @Test func headerSyntaxVariants() throws {
    let data = littleEndianBytes([Double(1).bitPattern, Double(2).bitPattern])
    let headers = [
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2,)}",
      "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}",
      "{ 'descr' : '<f8' ,'fortran_order':False,'shape':( 2 , ) , }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }",
      "{'descr': '=f8', 'fortran_order': False, 'shape': (2,), }",
      "{'descr': 'f8', 'fortran_order': False, 'shape': (2,), }",
    ]
    for header in headers {
      let a = try Npy.decode(npyFile(header: header, data: data), name: "h.npy")
      #expect(a == NDArray(shape: [2], float64: [1, 2]), "\(header)")
    }
    let matrix = npyFile(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", data: data)
    #expect(try Npy.decode(matrix, name: "m.npy").shape == [1, 2])
  }

  @Test func integerKindsBecomeInt64() throws {
    let cases: [(String, [UInt8], [Int64])] = [
      ("|i1", [0x80, 0xFF, 0x7F], [-128, -1, 127]),
      ("|u1", [0x80, 0xFF, 0x00], [128, 255, 0]),
      ("<i2", littleEndianBytes([Int16.min, -1, Int16.max]), [-32768, -1, 32767]),
      ("<u2", littleEndianBytes([UInt16.max, 1, 0]), [65535, 1, 0]),
      ("<i4", littleEndianBytes([Int32.min, -1, Int32.max]), [Int64(Int32.min), -1, Int64(Int32.max)]),
      ("<u4", littleEndianBytes([UInt32.max, 1, 0]), [Int64(UInt32.max), 1, 0]),
      ("<i8", littleEndianBytes([Int64.min, -1, Int64.max]), [.min, -1, .max]),
      ("<u8", littleEndianBytes([UInt64(Int64.max), 1, 0]), [.max, 1, 0]),
      (">i1", [0x80, 0xFF, 0x7F], [-128, -1, 127]),
    ]
    for (descr, data, expected) in cases {
      let file = npyFile(header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': (3,), }", data: data)
      #expect(try Npy.decode(file, name: "i.npy") == NDArray(shape: [3], int64: expected), "\(descr)")
    }
  }

  @Test func boolSpellings() throws {
    for descr in ["|b1", "?", "|?", "<b1", "=b1"] {
      let file = npyFile(header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': (3,), }", data: [1, 0, 1])
      let expected = NDArray(shape: [3], storage: .bool([true, false, true]))
      #expect(try Npy.decode(file, name: "b.npy") == expected, "\(descr)")
    }
  }

  @Test func trailingBytesAreIgnored() throws {
    let file = Npy.encode(NDArray(shape: [2], float64: [1, 2])) + [0, 0, 0]
    #expect(try Npy.decode(file, name: "t.npy") == NDArray(shape: [2], float64: [1, 2]))
  }
}

@Suite struct NpyErrorTests {
  func message(_ bytes: [UInt8], name: String = "x.npy") -> String? {
    arrayIOErrorMessage { _ = try Npy.decode(bytes, name: name) }
  }

  func file(descr: String, shape: String = "(3,)", data: [UInt8] = [UInt8](repeating: 0, count: 48)) -> [UInt8] {
    npyFile(header: "{'descr': \(descr), 'fortran_order': False, 'shape': \(shape), }", data: data)
  }

  @Test func badMagic() {
    #expect(message(ascii("hello, world\n")) == "'x.npy' is not a .npy file (bad magic)")
    #expect(message([]) == "'x.npy' is not a .npy file (bad magic)")
    #expect(message(ascii("PK\u{3}\u{4}zipfile")) == "'x.npy' is not a .npy file (bad magic)")
  }

  @Test func truncatedData() {
    let full = Npy.encode(NDArray(shape: [3], float64: [1, 2, 3]))
    #expect(message(Array(full.dropLast(4))) == "'x.npy' is truncated: expected 24 data bytes, found 20")
    #expect(message(Array(full.prefix(128))) == "'x.npy' is truncated: expected 24 data bytes, found 0")
  }

  @Test func truncatedHeader() {
    let full = Npy.encode(NDArray(shape: [3], float64: [1, 2, 3]))
    #expect(message(Array(full.prefix(50))) == "'x.npy' is truncated: expected 118 header bytes, found 40")
    #expect(message(Array(full.prefix(9))) == "'x.npy' is truncated: the header is incomplete")
    #expect(message(Array(full.prefix(7))) == "'x.npy' is truncated: the header is incomplete")
  }

  @Test func unsupportedVersion() {
    var bytes = Npy.encode(NDArray(shape: [1], float64: [1]))
    bytes[6] = 4
    #expect(
      message(bytes) == "'x.npy' uses .npy format version 4.0, which is not supported (1.0, 2.0, 3.0 are)")
  }

  @Test func bigEndian() {
    #expect(
      message(file(descr: "'>f8'"))
        == "'x.npy': big-endian arrays are not supported (descr '>f8'); convert with arr.astype('<f8')")
    #expect(
      message(file(descr: "'>i4'"))
        == "'x.npy': big-endian arrays are not supported (descr '>i4'); convert with arr.astype('<i4')")
    #expect(
      message(file(descr: "'>f2'"))
        == "'x.npy': big-endian arrays are not supported (descr '>f2'); convert with arr.astype('<f2')")
  }

  @Test func unsupportedDtypes() {
    let tail = "; ks reads float16/32/64, complex64/128, integer and bool arrays"
    let cases: [(String, String)] = [
      ("'<c4'", "'x.npy': complex arrays of this size are not supported (descr '<c4')" + tail),
      ("'<c32'", "'x.npy': complex arrays of this size are not supported (descr '<c32')" + tail),
      ("'|O'", "'x.npy': object arrays are not supported (descr '|O')" + tail),
      ("'<U5'", "'x.npy': unicode string arrays are not supported (descr '<U5')" + tail),
      ("'|S3'", "'x.npy': byte string arrays are not supported (descr '|S3')" + tail),
      ("'|V8'", "'x.npy': void (structured or raw) arrays are not supported (descr '|V8')" + tail),
      ("'<M8[ns]'", "'x.npy': datetime arrays are not supported (descr '<M8[ns]')" + tail),
      ("'<m8[s]'", "'x.npy': timedelta arrays are not supported (descr '<m8[s]')" + tail),
      ("'<f16'", "'x.npy': floating-point arrays of this size are not supported (descr '<f16')" + tail),
      ("'<i3'", "'x.npy': this dtype is not supported (descr '<i3')" + tail),
      ("''", "'x.npy': this dtype is not supported (descr '')" + tail),
      (
        "[('a', '<f8'), ('b', '<i4')]",
        "'x.npy' holds a structured array (descr [('a', '<f8'), ('b', '<i4')]), which is not supported" + tail
      ),
    ]
    for (descr, expected) in cases {
      #expect(message(file(descr: descr)) == expected)
    }
  }

  @Test func malformedHeaders() {
    let data = [UInt8](repeating: 0, count: 8)
    let cases: [(String, String)] = [
      ("{'descr': '<f8', 'fortran_order': False}", "'x.npy' has a malformed header: missing key 'shape'"),
      ("{'fortran_order': False, 'shape': (1,)}", "'x.npy' has a malformed header: missing key 'descr'"),
      ("{'descr': '<f8', 'shape': (1,)}", "'x.npy' has a malformed header: missing key 'fortran_order'"),
      (
        "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}",
        "'x.npy' has a malformed header: 'fortran_order' is not True or False"
      ),
      (
        "{'descr': '<f8', 'fortran_order': False, 'shape': [1]}",
        "'x.npy' has a malformed header: 'shape' is [1], not a tuple"
      ),
      (
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, -2)}",
        "'x.npy' has a malformed header: invalid shape (1, -2)"
      ),
      ("['descr', '<f8']", "'x.npy' has a malformed header: expected a dict, found ['descr', '<f8']"),
      (
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)",
        "'x.npy' has a malformed header: expected ',' or '}', found the end of the header"
      ),
      (
        "{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}",
        "'x.npy' has a malformed header: expected ',' or '}' at offset 16, found '''"
      ),
      (
        "{'descr': '<f8', 'fortran_order': false, 'shape': (1,)}",
        "'x.npy' has a malformed header: unknown name 'false'"
      ),
      ("{'descr': '<f8}", "'x.npy' has a malformed header: unterminated string"),
      (
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x",
        "'x.npy' has a malformed header: unexpected 'x' at offset 56"
      ),
    ]
    for (header, expected) in cases {
      #expect(message(npyFile(header: header, data: data)) == expected, "\(header)")
    }
  }

  @Test func invalidUTF8InVersion3() {
    var file = npyFile(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (), 'x': 'ab'}",
      data: [UInt8](repeating: 0, count: 8), major: 3)
    let index = file.firstIndex(of: UInt8(ascii: "b"))!
    file[index] = 0xFF
    #expect(message(file) == "'x.npy' has a malformed header: not valid UTF-8")
  }

  @Test func uint64Overflow() {
    let data = littleEndianBytes([1, UInt64.max, 0] as [UInt64])
    #expect(
      message(file(descr: "'<u8'", data: data))
        == "'x.npy': uint64 value 18446744073709551615 does not fit in int64")
  }

  @Test func impossibleShape() {
    let text = message(file(descr: "'<f8'", shape: "(4611686018427387904, 4)"))
    #expect(text == "'x.npy' has an impossible shape (4611686018427387904, 4)")
    let huge = message(file(descr: "'<f8'", shape: "(2305843009213693952,)"))
    #expect(huge == "'x.npy' is truncated: expected 2305843009213693952 × 8 data bytes, found 48")
  }

  @Test func loadNamesThePath() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let missing = dir.file("missing.npy")
    #expect(
      arrayIOErrorMessage { _ = try Npy.load(missing) } == "cannot open '\(missing)': No such file or directory")
    let text = dir.file("text.npy")
    try AtomicFile.write(ascii("1,2,3\n"), to: text)
    #expect(arrayIOErrorMessage { _ = try Npy.load(text) } == "'\(text)' is not a .npy file (bad magic)")
  }
}
