import Foundation
import Testing

@testable import ArrayIO

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
  let path: String

  init() throws {
    let base = FileManager.default.temporaryDirectory.path
    path = base + "/ks-arrayio-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  /// The path of `name` inside the directory.
  func file(_ name: String) -> String { path + "/" + name }

  /// The names of the entries in the directory, sorted.
  func contents() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Why a Python helper could not give an answer.
struct PythonFailure: Error, CustomStringConvertible {
  var description: String
}

/// Runs snippets with the system's `python3` and numpy, for interop tests.
///
/// A missing `python3` or numpy is an error (so the tests that need them fail), never a skip.
enum Python {
  /// Runs `script` with `python3 -c script arguments...` and returns its standard output.
  static func run(_ script: String, _ arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy as np\n" + script] + arguments
    // stderr goes to a file so that a chatty child can never block on a full pipe.
    let errorPath = FileManager.default.temporaryDirectory.path + "/ks-python-stderr-" + UUID().uuidString
    guard FileManager.default.createFile(atPath: errorPath, contents: nil),
      let errorHandle = FileHandle(forWritingAtPath: errorPath)
    else { throw PythonFailure(description: "could not create \(errorPath)") }
    defer {
      try? errorHandle.close()
      try? FileManager.default.removeItem(atPath: errorPath)
    }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = errorHandle
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw PythonFailure(
        description: "could not start python3 (\(error)); the numpy interop tests need python3 with numpy installed")
    }
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errorText = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      if process.terminationStatus == 127 || errorText.contains("No such file or directory") {
        throw PythonFailure(
          description: "python3 is not installed; the numpy interop tests need python3 with numpy:\n\(errorText)")
      }
      if errorText.contains("No module named 'numpy'") {
        throw PythonFailure(description: "numpy is not installed for python3; the numpy interop tests need it")
      }
      throw PythonFailure(description: "python3 failed (status \(process.terminationStatus)):\n\(errorText)")
    }
    return String(decoding: stdout, as: UTF8.self)
  }
}

/// The bytes of `text` as latin-1/ASCII.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A hand-made `.npy` file: magic, version, header (padded to 64 bytes as numpy does) and data.
func npyFile(header: String, data: [UInt8] = [], major: UInt8 = 1, pad: Bool = true) -> [UInt8] {
  let lengthSize = major == 1 ? 2 : 4
  var text = Array(header.utf8)
  if pad {
    let unpadded = text.count + 1
    let padding = (64 - (8 + lengthSize + unpadded) % 64) % 64
    text += [UInt8](repeating: 0x20, count: padding)
    text.append(0x0A)
  }
  var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
  for i in 0..<lengthSize { out.append(UInt8(truncatingIfNeeded: text.count >> (8 * i))) }
  return out + text + data
}

/// The little-endian bytes of `values`.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { value in
    (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value.littleEndian >> (8 * $0)) }
  }
}

/// The error message `body` throws, or nil when it does not throw an `ArrayIOError`.
func arrayIOErrorMessage(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch let error as ArrayIOError {
    return error.message
  } catch {
    return "unexpected error \(error)"
  }
}

/// Whether two arrays hold the same shape, dtype and bit-identical elements (NaNs included).
func identical(_ a: NDArray, _ b: NDArray) -> Bool {
  guard a.shape == b.shape, a.dtype == b.dtype else { return false }
  switch (a.storage, b.storage) {
  case (.float16(let x), .float16(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
  case (.float32(let x), .float32(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
  case (.float64(let x), .float64(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
  case (.complex64(let x), .complex64(let y)):
    return x.flatMap { [$0.re.bitPattern, $0.im.bitPattern] } == y.flatMap { [$0.re.bitPattern, $0.im.bitPattern] }
  case (.complex128(let x), .complex128(let y)):
    return x.flatMap { [$0.re.bitPattern, $0.im.bitPattern] } == y.flatMap { [$0.re.bitPattern, $0.im.bitPattern] }
  default: return a == b
  }
}

/// A deterministic test array of `dtype` and `shape` with special values first.
func sampleArray(_ dtype: DType, _ shape: [Int]) -> NDArray {
  let count = shape.reduce(1, *)
  switch dtype {
  case .float16:
    let specials: [Float16] = [.nan, .infinity, -.infinity, -0.0, 65504, .leastNonzeroMagnitude, 0.1]
    return NDArray(
      shape: shape,
      storage: .float16((0..<count).map { $0 < specials.count ? specials[$0] : Float16(Double($0) * 0.37 - 2) }))
  case .float32:
    let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.1]
    return NDArray(
      shape: shape, float32: (0..<count).map { $0 < specials.count ? specials[$0] : Float(Double($0) * 0.37 - 2) })
  case .float64:
    let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.1]
    return NDArray(
      shape: shape, float64: (0..<count).map { $0 < specials.count ? specials[$0] : Double($0) * 0.37 - 2 })
  case .int64:
    let specials: [Int64] = [.min, .max, 0, -1]
    return NDArray(shape: shape, int64: (0..<count).map { $0 < specials.count ? specials[$0] : Int64($0) * 7919 - 50 })
  case .bool:
    return NDArray(shape: shape, storage: .bool((0..<count).map { $0 % 3 == 0 }))
  case .complex64, .complex128:
    let re = sampleArray(.float64, shape).doubleValues
    let im: [Double] = (0..<count).map { $0 == 1 ? -0.0 : Double(count - $0) * 1.3 - 1 }
    return NDArray(shape: shape, complex: zip(re, im).map { Complex128($0, $1) }, dtype: dtype)
  }
}

/// Parses one value as Python prints it (`repr(float)`, `str(int)`) into the element type of `dtype`.
func elementMatches(_ a: NDArray, _ index: Int, _ text: Substring) -> Bool {
  switch a.storage {
  case .float16(let v):
    guard let d = Double(text) else { return false }
    return d.isNaN ? v[index].isNaN : (Double(v[index]) == d && v[index].sign == (d.sign == .minus ? .minus : .plus))
  case .float32(let v):
    guard let d = Double(text) else { return false }
    return d.isNaN ? v[index].isNaN : (Double(v[index]) == d && v[index].sign == (d.sign == .minus ? .minus : .plus))
  case .float64(let v):
    guard let d = Double(text) else { return false }
    return d.isNaN ? v[index].isNaN : (v[index].bitPattern == d.bitPattern)
  case .int64(let v): return Int64(text) == v[index]
  case .bool(let v): return text == (v[index] ? "1" : "0")
  case .complex64, .complex128:
    let parts = text.split(separator: " ")
    guard parts.count == 2 else { return false }
    let z = a.complexValues[index]
    func same(_ x: Double, _ t: Substring) -> Bool {
      guard let d = Double(t) else { return false }
      return d.isNaN ? x.isNaN : (x == d && x.sign == d.sign)
    }
    return same(z.re, parts[0]) && same(z.im, parts[1])
  }
}
