import Testing

@testable import ArrayIO
import _KSTestSupport

@Suite struct CSVLoadTests {
  /// Writes `text` to a fresh file and loads it.
  func load(_ text: String, delimiter: Character = ",", skipHeader: Bool? = nil) throws -> NDArray {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try AtomicFile.write(ascii(text), to: dir.file("x.csv"))
    return try CSV.load(dir.file("x.csv"), delimiter: delimiter, skipHeader: skipHeader)
  }

  /// The error `CSV.decode` reports for `text` read as `x.csv`.
  func message(_ text: String, delimiter: Character = ",", skipHeader: Bool? = nil) -> String? {
    arrayIOErrorMessage {
      _ = try CSV.decode(ascii(text), name: "x.csv", delimiter: delimiter, skipHeader: skipHeader)
    }
  }

  @Test func plainMatrix() throws {
    let a = try load("1,2,3\n4,5,6\n")
    #expect(a == NDArray(shape: [2, 3], float64: [1, 2, 3, 4, 5, 6]))
  }

  @Test func headerDetectedAndSkipped() throws {
    #expect(try load("x,y\n1,2\n3.5,-4e2\n") == NDArray(shape: [2, 2], float64: [1, 2, 3.5, -400]))
    #expect(try load("\"x\", \"y\"\n1,2\n") == NDArray(shape: [1, 2], float64: [1, 2]))
  }

  @Test func skipHeaderExplicit() throws {
    #expect(try load("1,2\n3,4\n", skipHeader: true) == NDArray(shape: [1, 2], float64: [3, 4]))
    #expect(try load("1,2\n3,4\n", skipHeader: false) == NDArray(shape: [2, 2], float64: [1, 2, 3, 4]))
    #expect(message("x,y\n1,2\n", skipHeader: false) == "'x.csv' line 1, column 1: 'x' is not a number")
  }

  @Test func headerOnly() throws {
    #expect(try load("a,b,c\n").shape == [0, 3])
    #expect(try load("").shape == [0, 0])
    #expect(try load("\n\n").shape == [0, 0])
  }

  @Test func specialValuesAndSpacing() throws {
    let a = try load("nan, inf ,-inf\n NaN,Infinity,+1.5\n\"2\",1e-300,-0.0\n")
    #expect(a.shape == [3, 3])
    let v = a.toDoubles()
    #expect(v[0].isNaN && v[3].isNaN)
    #expect(v[1] == .infinity && v[2] == -.infinity && v[4] == .infinity)
    #expect(v[5] == 1.5 && v[6] == 2 && v[7] == 1e-300)
    #expect(v[8] == 0 && v[8].sign == .minus)
  }

  @Test func emptyLinesCommentsCRLFAndBOM() throws {
    let text = "\u{FEFF}# written by numpy\r\n\r\n1,2\r\n\r\n   \n# middle\n3,4\r\n\n"
    #expect(try load(text) == NDArray(shape: [2, 2], float64: [1, 2, 3, 4]))
  }

  @Test func noTrailingNewline() throws {
    #expect(try load("1,2\n3,4") == NDArray(shape: [2, 2], float64: [1, 2, 3, 4]))
  }

  @Test func singleColumnIs2D() throws {
    #expect(try load("1\n2\n3\n") == NDArray(shape: [3, 1], float64: [1, 2, 3]))
  }

  @Test func otherDelimiters() throws {
    #expect(try load("1;2\n3;4\n", delimiter: ";") == NDArray(shape: [2, 2], float64: [1, 2, 3, 4]))
    #expect(try load("1\t2\n3\t\t4\n", delimiter: "\t") == NDArray(shape: [2, 2], float64: [1, 2, 3, 4]))
    #expect(try load("  1   2\n3 4  \n", delimiter: " ") == NDArray(shape: [2, 2], float64: [1, 2, 3, 4]))
  }

  @Test func raggedRow() {
    #expect(message("1,2,3\n4,5,6\n\n7,8\n") == "'x.csv' line 4: expected 3 values (as on line 1), found 2")
    #expect(message("a,b\n1,2,3\n") == "'x.csv' line 2: expected 2 values (as on line 1), found 3")
    #expect(message("# c\n1\n2,3\n") == "'x.csv' line 3: expected 1 value (as on line 2), found 2")
  }

  @Test func nonNumericCell() {
    #expect(message("1,2\n3,abc\n") == "'x.csv' line 2, column 2: 'abc' is not a number")
    #expect(message("1,2\n3,0x10\n") == "'x.csv' line 2, column 2: '0x10' is not a number")
    #expect(message("1,2\n3,\n") == "'x.csv' line 2, column 2: empty cell")
    #expect(message("1,2\n ,4\n") == "'x.csv' line 2, column 1: empty cell")
  }

  @Test func invalidDelimiter() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(arrayIOErrorMessage { _ = try CSV.load(dir.file("x.csv"), delimiter: ".") } == "invalid CSV delimiter '.'")
    #expect(
      arrayIOErrorMessage { try CSV.save(NDArray.zeros([2]), to: dir.file("x.csv"), delimiter: "5") }
        == "invalid CSV delimiter '5'")
  }

  @Test func missingFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("none.csv")
    #expect(arrayIOErrorMessage { _ = try CSV.load(path) } == "cannot open '\(path)': No such file or directory")
  }
}

@Suite struct CSVSaveTests {
  func saved(_ a: NDArray, delimiter: Character = ",") throws -> String {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try CSV.save(a, to: dir.file("out.csv"), delimiter: delimiter)
    #expect(try dir.contents() == ["out.csv"])
    return String(decoding: try AtomicFile.read(dir.file("out.csv")), as: UTF8.self)
  }

  @Test func matrixLayout() throws {
    #expect(
      try saved(NDArray(shape: [2, 3], float64: [1, 2.5, -3, 0.1, 1e-5, 1e16])) == "1.0,2.5,-3.0\n0.1,1e-05,1e+16\n")
    #expect(try saved(NDArray(shape: [2, 2], float64: [1, 2, 3, 4]), delimiter: "\t") == "1.0\t2.0\n3.0\t4.0\n")
  }

  @Test func vectorOneValuePerLine() throws {
    #expect(try saved(NDArray(shape: [3], float64: [1, 2, 3])) == "1.0\n2.0\n3.0\n")
    #expect(try saved(NDArray(shape: [0], float64: [])) == "")
    #expect(try saved(NDArray(shape: [], float64: [7.25])) == "7.25\n")
  }

  @Test func integerBoolAndSpecialValues() throws {
    #expect(
      try saved(NDArray(shape: [2, 2], int64: [.min, .max, 0, -7]))
        == "-9223372036854775808,9223372036854775807\n0,-7\n")
    #expect(try saved(NDArray(shape: [3], storage: .bool([true, false, true]))) == "1\n0\n1\n")
    #expect(try saved(NDArray(shape: [4], float64: [.nan, -.nan, .infinity, -.infinity])) == "nan\nnan\ninf\n-inf\n")
    #expect(try saved(NDArray(shape: [2], float32: [0.1, 1e30])) == "0.1\n1e+30\n")
    #expect(try saved(NDArray(shape: [1], storage: .float16([0.1]))) == "0.1\n")
  }

  @Test func higherRankIsAnError() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("x.csv")
    #expect(
      arrayIOErrorMessage { try CSV.save(NDArray.zeros([2, 3, 4]), to: path) }
        == "cannot write a 3-D array (shape (2, 3, 4)) to '\(path)': CSV holds 1-D or 2-D arrays")
    #expect(try dir.contents() == [])
  }

  @Test func complexArraysAreRefused() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let z = NDArray(shape: [2], complex: [Complex128(1, 2), Complex128(3, -4)], dtype: .complex64)
    #expect(throws: ArrayIOError("'\(dir.file("z.csv"))': a complex64 array cannot be written as CSV; save it as .npy, or save a.real and a.imag")) {
      try CSV.save(z, to: dir.file("z.csv"))
    }
    #expect(try dir.contents().isEmpty)
  }

  @Test(arguments: DType.allCases.filter { !$0.isComplex })
  func roundTripIsExact(dtype: DType) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    var generator = SplitMix64(seed: 42)
    // Random bit patterns cover every exponent; non-finite ones are replaced (NaN payloads are not kept).
    let storage: ArrayStorage
    switch dtype {
    case .float16:
      storage = .float16((0..<60).map { i in
        let x = Float16(bitPattern: UInt16(truncatingIfNeeded: generator.next()))
        return x.isFinite ? x : Float16(i)
      })
    case .float32:
      storage = .float32((0..<60).map { i in
        let x = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
        return x.isFinite ? x : Float(i)
      })
    case .float64:
      storage = .float64((0..<60).map { i in
        let x = Double(bitPattern: generator.next())
        return x.isFinite ? x : Double(i)
      })
    case .int64:
      storage = .int64((0..<60).map { _ in Int64(bitPattern: generator.next()) >> (generator.next() % 64) })
    case .bool:
      storage = .bool((0..<60).map { _ in generator.next() % 2 == 0 })
    case .complex64, .complex128:
      Issue.record("complex arrays are not written as CSV")
      return
    }
    let original = NDArray(shape: [12, 5], storage: storage)
    try CSV.save(original, to: dir.file("r.csv"))
    let loaded = try CSV.load(dir.file("r.csv"))
    #expect(loaded.shape == [12, 5] && loaded.dtype == .float64)
    if dtype.isFloatingPoint {
      // Values are written as the shortest text that round-trips in their own type.
      #expect(identical(loaded.converted(to: dtype), original))
    } else {
      // int64 beyond 2^53 rounds exactly as Double(Int64) does.
      #expect(identical(loaded, original.converted(to: .float64)))
    }
    if dtype == .int64 {
      // The text itself is exact.
      let text = String(decoding: try AtomicFile.read(dir.file("r.csv")), as: UTF8.self)
      let integers = text.split(whereSeparator: { $0 == "," || $0 == "\n" }).map { Int64($0) }
      #expect(NDArray(shape: [12, 5], int64: integers.map { $0! }) == original)
    }
  }

  @Test func roundTripSpecials() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let a = NDArray(
      shape: [2, 4],
      float64: [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1 / 3, -1e-300])
    try CSV.save(a, to: dir.file("s.csv"))
    #expect(identical(try CSV.load(dir.file("s.csv")), a))
  }
}

