import Testing

@testable import ArrayIO

/// A file that numpy writes for ks to read.
struct NumpyWrittenCase: Sendable, CustomTestStringConvertible {
  var numpyDtype: String
  var shape: String
  var order = "C"
  var version = "default"
  var expected: DType

  var testDescription: String { "\(numpyDtype) \(shape) order \(order) version \(version)" }
}

/// numpy builds a deterministic array, saves it, and prints its shape and C-order values
/// (`repr(float)` for floats, `int` otherwise), one per line.
let numpyWriteScript = """
  import sys
  path, dt, shape, order, version = sys.argv[1], np.dtype(sys.argv[2]), eval(sys.argv[3]), sys.argv[4], sys.argv[5]
  n = int(np.prod(shape, dtype=np.int64))
  if dt.kind == 'c':
      re = np.arange(n, dtype=np.float64) * 0.37 - 2
      specials = [np.nan, np.inf, -np.inf, -0.0, 1e-300, 0.1, 65504.0, 1e-7]
      k = min(n, len(specials))
      re[:k] = specials[:k]
      v = np.empty(n, dtype=dt)
      v.real = re
      v.imag = (np.arange(n)[::-1] * 1.3 - 1.0)
      if n > 1:
          v.imag[1] = -0.0
  elif dt.kind == 'f':
      v = np.arange(n, dtype=np.float64) * 0.37 - 2
      specials = [np.nan, np.inf, -np.inf, -0.0, 1e-300, 0.1, 65504.0, 1e-7]
      k = min(n, len(specials))
      v[:k] = specials[:k]
      v = v.astype(dt)
  elif dt.kind in 'iu':
      info = np.iinfo(dt)
      top = min(int(info.max), 2**63 - 1)
      v = np.random.default_rng(7).integers(info.min, top, size=n, endpoint=True, dtype=dt)
      k = min(n, 2)
      v[:k] = [info.min, top][:k]
  else:
      v = np.arange(n) % 3 == 0
  a = v.reshape(shape)
  if order == 'F':
      a = np.asfortranarray(a)
  if version == 'default':
      np.save(path, a)
  else:
      with open(path, 'wb') as f:
          np.lib.format.write_array(f, a, version=tuple(int(p) for p in version.split('.')))
  print(' '.join(str(d) for d in a.shape))
  for x in a.ravel(order='C'):
      print(repr(float(x)) if dt.kind == 'f' else (repr(float(x.real)) + ' ' + repr(float(x.imag)) if dt.kind == 'c' else int(x)))
  """

/// numpy loads a file ks wrote, re-saves it with `np.save`, and prints dtype, shape and values.
let numpyReadScript = """
  import sys
  a = np.load(sys.argv[1], allow_pickle=False)
  np.save(sys.argv[2], a)
  print(a.dtype.str)
  print(' '.join(str(d) for d in a.shape))
  for x in a.ravel(order='C'):
      print(repr(float(x)) if a.dtype.kind == 'f' else (repr(float(x.real)) + ' ' + repr(float(x.imag)) if a.dtype.kind == 'c' else int(x)))
  """

/// Checks `a` against numpy's printed shape line and value lines.
func expectMatches(_ a: NDArray, shapeLine: Substring, values: ArraySlice<Substring>, _ label: String) {
  let shape = shapeLine.split(separator: " ").map { Int($0) ?? -1 }
  #expect(a.shape == shape, "\(label): shape \(a.shape), numpy \(shape)")
  #expect(values.count == a.count, "\(label): \(a.count) elements, numpy printed \(values.count)")
  for (index, text) in zip(0..<a.count, values) {
    #expect(elementMatches(a, index, text), "\(label): element \(index) is \(a.double(at: index)), numpy \(text)")
  }
}

@Suite struct NumpyInteropTests {
  static let writtenByNumpy: [NumpyWrittenCase] = [
    .init(numpyDtype: "float16", shape: "(2, 5)", expected: .float16),
    .init(numpyDtype: "float32", shape: "(2, 3)", expected: .float32),
    .init(numpyDtype: "float64", shape: "(2, 3, 4)", expected: .float64),
    .init(numpyDtype: "float64", shape: "()", expected: .float64),
    .init(numpyDtype: "float64", shape: "(0,)", expected: .float64),
    .init(numpyDtype: "float64", shape: "(0, 3)", expected: .float64),
    .init(numpyDtype: "float64", shape: "(9,)", expected: .float64),
    .init(numpyDtype: "int64", shape: "(5,)", expected: .int64),
    .init(numpyDtype: "int32", shape: "(2, 3)", expected: .int64),
    .init(numpyDtype: "int16", shape: "(4,)", expected: .int64),
    .init(numpyDtype: "int8", shape: "(4,)", expected: .int64),
    .init(numpyDtype: "uint8", shape: "(6,)", expected: .int64),
    .init(numpyDtype: "uint16", shape: "(3,)", expected: .int64),
    .init(numpyDtype: "uint32", shape: "(3,)", expected: .int64),
    .init(numpyDtype: "uint64", shape: "(3,)", expected: .int64),
    .init(numpyDtype: "bool", shape: "(2, 3)", expected: .bool),
    .init(numpyDtype: "bool", shape: "()", expected: .bool),
    .init(numpyDtype: "float64", shape: "(2, 3)", order: "F", expected: .float64),
    .init(numpyDtype: "float32", shape: "(2, 3, 4)", order: "F", expected: .float32),
    .init(numpyDtype: "float16", shape: "(3, 2)", order: "F", expected: .float16),
    .init(numpyDtype: "int32", shape: "(3, 4)", order: "F", expected: .int64),
    .init(numpyDtype: "int64", shape: "(2, 2, 2, 2)", order: "F", expected: .int64),
    .init(numpyDtype: "bool", shape: "(2, 5)", order: "F", expected: .bool),
    .init(numpyDtype: "float64", shape: "(2, 3)", version: "2.0", expected: .float64),
    .init(numpyDtype: "int32", shape: "(3,)", version: "3.0", expected: .int64),
    .init(numpyDtype: "float64", shape: "(4, 3)", order: "F", version: "3.0", expected: .float64),
    .init(numpyDtype: "complex64", shape: "(2, 5)", expected: .complex64),
    .init(numpyDtype: "complex128", shape: "(3, 4)", expected: .complex128),
    .init(numpyDtype: "complex128", shape: "()", expected: .complex128),
    .init(numpyDtype: "complex128", shape: "(3, 2)", order: "F", expected: .complex128),
    .init(numpyDtype: "complex64", shape: "(2, 3, 4)", order: "F", expected: .complex64),
  ]

  @Test(arguments: writtenByNumpy)
  func ksReadsWhatNumpyWrote(_ c: NumpyWrittenCase) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("numpy.npy")
    let output = try Python.run(numpyWriteScript, [path, c.numpyDtype, c.shape, c.order, c.version])
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    let a = try Npy.load(path)
    #expect(a.dtype == c.expected)
    expectMatches(a, shapeLine: lines.first ?? "", values: lines.dropFirst(), c.testDescription)

    let bytes = try AtomicFile.read(path)
    if c.version != "default" {
      #expect(bytes[6] == UInt8(String(c.version.prefix(1))))
    }
    if c.order == "F" {
      #expect(String(decoding: bytes.prefix(128), as: UTF8.self).contains("'fortran_order': True"))
    }
  }

  @Test(arguments: DType.allCases, roundTripShapes + [[3, 0], [1, 1, 1, 7]])
  func numpyReadsWhatKsWrote(dtype: DType, shape: [Int]) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let a = sampleArray(dtype, shape)
    let ksPath = dir.file("ks.npy")
    let numpyPath = dir.file("numpy.npy")
    try Npy.save(a, to: ksPath)
    let output = try Python.run(numpyReadScript, [ksPath, numpyPath])
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    let label = "\(dtype) \(shape)"
    #expect(lines.first.map(String.init) == Npy.descr(for: dtype), "\(label): numpy dtype \(lines.first ?? "")")
    expectMatches(a, shapeLine: lines.dropFirst().first ?? "", values: lines.dropFirst(2), label)
    // numpy writes the very same bytes for the same array.
    #expect(try AtomicFile.read(numpyPath) == AtomicFile.read(ksPath), "\(label): bytes differ from np.save")
  }

  @Test func unsupportedNumpyFilesGiveClearErrors() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let tail = "; ks reads float16/32/64, complex64/128, integer and bool arrays"
    let cases: [(String, String, String)] = [
      (
        "big.npy", "np.arange(3, dtype='>f8')",
        "big-endian arrays are not supported (descr '>f8'); convert with arr.astype('<f8')"
      ),
      (
        "bigint.npy", "np.arange(3, dtype='>i4')",
        "big-endian arrays are not supported (descr '>i4'); convert with arr.astype('<i4')"
      ),
      ("complex256.npy", "np.arange(3) * np.clongdouble(1j)", "complex arrays of this size are not supported (descr '<c32')" + tail),
      ("text.npy", "np.array(['ab', 'c'])", "unicode string arrays are not supported (descr '<U2')" + tail),
      ("object.npy", "np.array([1, None], dtype=object)", "object arrays are not supported (descr '|O')" + tail),
      (
        "time.npy", "np.array(['2024-01-01'], dtype='datetime64[D]')",
        "datetime arrays are not supported (descr '<M8[D]')" + tail
      ),
      ("huge.npy", "np.array([2**64 - 1], dtype=np.uint64)", "uint64 value 18446744073709551615 does not fit in int64"),
    ]
    var script = "import sys\nd = sys.argv[1]\n"
    for (name, expression, _) in cases {
      script += "np.save(d + '/\(name)', \(expression), allow_pickle=True)\n"
    }
    script += "np.save(d + '/struct.npy', np.zeros(2, dtype=[('a', '<f8'), ('b', '<i4')]))\n"
    _ = try Python.run(script, [dir.path])
    for (name, _, expected) in cases {
      let path = dir.file(name)
      #expect(arrayIOErrorMessage { _ = try Npy.load(path) } == "'\(path)': " + expected)
    }
    let structPath = dir.file("struct.npy")
    #expect(
      arrayIOErrorMessage { _ = try Npy.load(structPath) }
        == "'\(structPath)' holds a structured array (descr [('a', '<f8'), ('b', '<i4')]), "
        + "which is not supported" + tail)
  }

  @Test func numpyLoadtxtReadsKsCSV() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let a = NDArray(shape: [2, 4], float64: [0.1, -1e-300, 1 / 3, 12345678.875, .nan, .infinity, -.infinity, -0.0])
    try CSV.save(a, to: dir.file("ks.csv"))
    let output = try Python.run(
      """
      import sys
      a = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)
      print(' '.join(str(d) for d in a.shape))
      for x in a.ravel():
          print(repr(float(x)))
      """, [dir.file("ks.csv")])
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    expectMatches(a, shapeLine: lines.first ?? "", values: lines.dropFirst(), "loadtxt")
  }

  @Test func ksReadsNumpySavetxt() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("numpy.csv")
    _ = try Python.run(
      """
      import sys
      a = np.arange(12, dtype=np.float64).reshape(4, 3) / 7
      a[0, 0] = np.nan
      np.savetxt(sys.argv[1], a, delimiter=',', header='x,y,z', fmt='%.17g')
      """, [path])
    let a = try CSV.load(path)
    #expect(a.shape == [4, 3])
    let v = a.toDoubles()
    #expect(v[0].isNaN)
    #expect(Array(v[1...]) == (1..<12).map { Double($0) / 7 })
  }
}
