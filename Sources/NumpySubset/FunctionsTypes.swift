import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Types and their limits: `dtype`, `finfo`, `iinfo`, `iscomplexobj`, `isrealobj`.
  static func typeFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["dtype", FunctionDoc("np.dtype(obj)", "a data type from a name or a type", "np.dtype(\"float32\")")] = { ctx in
      let v = try ctx.required(0, "dtype")
      _ = try ctx.optional(1, "align")
      _ = try ctx.optional(2, "copy")
      try ctx.finish(maxPositional: 3)
      let r = ctx.rangeOf(0, "dtype")
      switch v {
      case .array(let a) where a.rank > 0:
        throw ShellError("Cannot construct a dtype from an array", type: "TypeError", at: r)
      case .dtype, .string, .builtin:
        do throws(ShellError) {
          return .dtype(try dtypeArgument(v, at: r))
        } catch {
          throw ShellError(error.message, type: "TypeError", at: r)
        }
      default:
        throw ShellError("Cannot interpret '\(v.repr)' as a data type", type: "TypeError", at: r)
      }
    }
    t["finfo", FunctionDoc("np.finfo(dtype)", "machine limits of a float type (eps, max, min, tiny, ...)", "np.finfo(np.float32).eps")] = { ctx in
      let v = try ctx.required(0, "dtype")
      try ctx.finish(maxPositional: 1)
      if case .array(let a) = v, a.rank > 0 {
        // numpy takes an array for its Python type, an object type.
        throw ShellError("data type <class 'numpy.object_'> not inexact", type: "ValueError", at: ctx.rangeOf(0, "dtype"))
      }
      let d = try typeOfValue(v, at: ctx.rangeOf(0, "dtype"))
      guard d.kind == .float else {
        let cls = d == .bool ? "numpy.bool" : "numpy.\(d.rawValue)"
        throw ShellError("data type <class '\(cls)'> not inexact", type: "ValueError", at: ctx.rangeOf(0, "dtype"))
      }
      return .object(FloatInfo(dtype: d))
    }
    t["iinfo", FunctionDoc("np.iinfo(dtype)", "machine limits of an integer type (min, max, bits)", "np.iinfo(np.int64).max")] = { ctx in
      let v = try ctx.required(0, "int_type")
      try ctx.finish(maxPositional: 1)
      let r = ctx.rangeOf(0, "int_type")
      if case .string(let s) = v, let info = IntInfo(name: s.text) { return .object(info) }
      if case .string(let s) = v, ["uint64", "u8", "ulonglong", "uint"].contains(s.text) {
        throw ShellError("iinfo('\(s.text)') is not available in ks: its max does not fit ks's 64-bit integers", at: r)
      }
      if case .array(let a) = v, a.rank > 0 {
        throw ShellError("Invalid integer data type 'O'.", type: "ValueError", at: r)
      }
      let d = try typeOfValue(v, at: r)
      guard d == .int64 else {
        let code = d == .bool ? "b" : "f"
        throw ShellError("Invalid integer data type '\(code)'.", type: "ValueError", at: r)
      }
      return .object(IntInfo(name: "int64")!)
    }
    return t
  }

  /// `a.view(dtype)`: ks arrays are values, so a view is a copy; another dtype of the same item
  /// size (int64 and float64) reinterprets the bits, as numpy does.
  static func view(_ a: NDArray, _ dtypeValue: Value?, at range: SourceRange) throws(ShellError) -> NDArray {
    guard let dtypeValue else { return a }
    let d = try dtypeArgument(dtypeValue, at: range)
    switch (a.storage, d) {
    case _ where d == a.dtype: return a
    case (.int64(let v), .float64): return NDArray(shape: a.shape, storage: .float64(v.map { Double(bitPattern: UInt64(bitPattern: $0)) }))
    case (.float64(let v), .int64): return NDArray(shape: a.shape, storage: .int64(v.map { Int64(bitPattern: $0.bitPattern) }))
    default:
      throw ShellError("ks's a.view() reinterprets only between int64 and float64, not \(a.dtype.rawValue) as \(d.rawValue)", at: range)
    }
  }

  /// The dtype named by a type argument of `finfo`/`iinfo`: a dtype, its name, `float`/`int`/
  /// `bool`, or a value whose type is taken (an array, a numpy or Python scalar).
  static func typeOfValue(_ v: Value, at range: SourceRange) throws(ShellError) -> DType {
    switch v {
    case .array(let a): return a.dtype
    case .float: return .float64
    case .int: return .int64
    case .bool: return .bool
    case .complex: return .complex128
    default: return try dtypeArgument(v, at: range)
    }
  }
}

// MARK: - finfo / iinfo

/// `np.finfo(dtype)`: the limits of a floating-point type, as numpy scalars of that type.
struct FloatInfo: ShellObject {
  let dtype: DType

  var typeName: String { "finfo" }

  private struct Params {
    var bits: Int, nmant: Int, nexp: Int, minexp: Int, maxexp: Int, precision: Int
    var resolution: Double, reprMax: String, reprResolution: String
  }

  private var p: Params {
    switch dtype {
    case .float16:
      return Params(bits: 16, nmant: 10, nexp: 5, minexp: -14, maxexp: 16, precision: 3, resolution: 1e-3, reprMax: "6.55040e+04", reprResolution: "0.001")
    case .float32:
      return Params(bits: 32, nmant: 23, nexp: 8, minexp: -126, maxexp: 128, precision: 6, resolution: 1e-6, reprMax: "3.4028235e+38", reprResolution: "1e-06")
    default:
      return Params(
        bits: 64, nmant: 52, nexp: 11, minexp: -1022, maxexp: 1024, precision: 15, resolution: 1e-15,
        reprMax: "1.7976931348623157e+308", reprResolution: "1e-15")
    }
  }

  /// The largest finite value of the type.
  var maxValue: Double {
    switch dtype {
    case .float16: return Double(Float16.greatestFiniteMagnitude)
    case .float32: return Double(Float.greatestFiniteMagnitude)
    default: return Double.greatestFiniteMagnitude
    }
  }

  private func scalar(_ x: Double) -> Value { .array(.scalar(x, dtype)) }

  func value(_ name: String) -> Value? {
    let p = self.p
    switch name {
    case "eps": return scalar(Foundation.pow(2.0, Double(-p.nmant)))
    case "epsneg": return scalar(Foundation.pow(2.0, Double(-p.nmant - 1)))
    case "max": return scalar(maxValue)
    case "min": return scalar(-maxValue)
    case "tiny", "smallest_normal": return scalar(Foundation.pow(2.0, Double(p.minexp)))
    case "smallest_subnormal": return scalar(Foundation.pow(2.0, Double(p.minexp - p.nmant)))
    case "resolution": return scalar(p.resolution)
    case "precision": return .int(p.precision)
    case "bits": return .int(p.bits)
    case "nmant": return .int(p.nmant)
    case "nexp", "iexp": return .int(p.nexp)
    case "minexp": return .int(p.minexp)
    case "maxexp": return .int(p.maxexp)
    case "machep": return .int(-p.nmant)
    case "negep": return .int(-p.nmant - 1)
    case "dtype": return .dtype(dtype)
    default: return nil
    }
  }

  func repr(with options: PrintOptions) -> String {
    let p = self.p
    return "finfo(resolution=\(p.reprResolution), min=-\(p.reprMax), max=\(p.reprMax), dtype=\(dtype.rawValue))"
  }

  /// numpy's table of machine parameters.
  func str(with options: PrintOptions) -> String {
    func s(_ name: String) -> String { value(name)!.str(with: .defaults) }
    let rule = String(repeating: "-", count: 63)
    return """
      Machine parameters for \(dtype.rawValue)
      \(rule)
      precision = \(s("precision"))   resolution = \(s("resolution"))
      machep = \(s("machep"))   eps =        \(s("eps"))
      negep =  \(s("negep"))   epsneg =     \(s("epsneg"))
      minexp = \(s("minexp"))   tiny =       \(s("tiny"))
      maxexp = \(s("maxexp"))   max =        \(s("max"))
      nexp =   \(s("nexp"))   min =        -max
      smallest_normal = \(s("smallest_normal"))   smallest_subnormal = \(s("smallest_subnormal"))
      \(rule)

      """
  }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? { value(name) }
}

/// `np.iinfo(type)`: the limits of an integer type. ks arrays are int64; the narrower types are
/// described too, for code that checks ranges with them.
struct IntInfo: ShellObject {
  let name: String
  let bits: Int
  let signed: Bool

  init?(name: String) {
    let table: [String: (String, Int, Bool)] = [
      "int8": ("int8", 8, true), "i1": ("int8", 8, true), "byte": ("int8", 8, true),
      "int16": ("int16", 16, true), "i2": ("int16", 16, true), "short": ("int16", 16, true),
      "int32": ("int32", 32, true), "i4": ("int32", 32, true), "intc": ("int32", 32, true),
      "int64": ("int64", 64, true), "i8": ("int64", 64, true), "int": ("int64", 64, true), "long": ("int64", 64, true),
      "intp": ("int64", 64, true), "longlong": ("int64", 64, true),
      "uint8": ("uint8", 8, false), "u1": ("uint8", 8, false), "ubyte": ("uint8", 8, false),
      "uint16": ("uint16", 16, false), "u2": ("uint16", 16, false), "ushort": ("uint16", 16, false),
      "uint32": ("uint32", 32, false), "u4": ("uint32", 32, false), "uintc": ("uint32", 32, false),
    ]
    guard let (canonical, bits, signed) = table[name] else { return nil }
    self.name = canonical
    self.bits = bits
    self.signed = signed
  }

  var typeName: String { "iinfo" }

  var minValue: Int { signed ? (bits == 64 ? Int.min : -(1 << (bits - 1))) : 0 }
  var maxValue: Int { signed ? (bits == 64 ? Int.max : (1 << (bits - 1)) - 1) : (1 << bits) - 1 }

  func repr(with options: PrintOptions) -> String { "iinfo(min=\(minValue), max=\(maxValue), dtype=\(name))" }

  func str(with options: PrintOptions) -> String {
    let rule = String(repeating: "-", count: 63)
    return "Machine parameters for \(name)\n\(rule)\nmin = \(minValue)\nmax = \(maxValue)\n\(rule)\n"
  }

  func attribute(_ attribute: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    switch attribute {
    case "min": return .int(minValue)
    case "max": return .int(maxValue)
    case "bits": return .int(bits)
    case "kind": return .str(signed ? "i" : "u")
    case "dtype":
      // ks arrays are int64 only: other integer dtypes exist here as names.
      if name == "int64" { return .dtype(.int64) }
      throw ShellError("iinfo('\(name)').dtype: ks has no \(name) dtype (its integer arrays are int64)", at: range)
    default: return nil
    }
  }
}

// MARK: - a.flags

/// `a.flags`: the memory layout flags of an array.
///
/// ks arrays are values stored densely in row-major order: every array, including the results of
/// `a.T`, slicing and `np.ascontiguousarray`, is C-contiguous and owns its data. `f_contiguous` is
/// what numpy reports for a C-contiguous array of that shape (true when at most one dimension
/// exceeds 1, or the array is empty). numpy reports `c_contiguous=False` for views such as `a.T`;
/// ks copies there, so its answer is True; for the same reason `owndata` is always True.
struct ArrayFlags: ShellObject {
  let shape: [Int]

  var typeName: String { "flagsobj" }

  var fContiguous: Bool { shape.contains(0) || shape.filter { $0 > 1 }.count <= 1 }

  func flag(_ name: String) -> Bool? {
    switch name {
    case "C_CONTIGUOUS", "C", "CONTIGUOUS", "OWNDATA", "O", "WRITEABLE", "W", "ALIGNED", "A", "BEHAVED", "B", "CARRAY", "CA":
      return true
    case "F_CONTIGUOUS", "F", "FORTRAN", "FARRAY", "FA": return fContiguous
    case "FORC": return true
    case "FNC": return false  // F-contiguous and not C-contiguous: never, ks arrays are C-contiguous
    case "WRITEBACKIFCOPY", "X": return false
    default: return nil
    }
  }

  func repr(with options: PrintOptions) -> String {
    func b(_ x: Bool) -> String { x ? "True" : "False" }
    return [
      "  C_CONTIGUOUS : True", "  F_CONTIGUOUS : \(b(fContiguous))", "  OWNDATA : True", "  WRITEABLE : True",
      "  ALIGNED : True", "  WRITEBACKIFCOPY : False", "",
    ].joined(separator: "\n")
  }

  func attribute(_ name: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    let key: String
    switch name {
    case "c_contiguous": key = "C"
    case "f_contiguous": key = "F"
    case "contiguous": key = "C"
    case "owndata": key = "O"
    case "writeable": key = "W"
    case "aligned": key = "A"
    case "writebackifcopy": key = "X"
    case "behaved": key = "B"
    case "carray": key = "CA"
    case "farray": key = "FA"
    case "forc": key = "FORC"
    case "fnc": key = "FNC"
    default: return nil
    }
    return flag(key).map { .bool($0) }
  }

  func getItem(_ index: [Value], at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    guard index.count == 1, case .string(let s) = index[0] else {
      throw ShellError("flags keys are strings such as 'C_CONTIGUOUS'", type: "KeyError", at: range)
    }
    guard let v = flag(s.text) else { throw ShellError("'Unknown flag'", type: "KeyError", at: range) }
    return .bool(v)
  }
}

// MARK: - Allocation sizes from user input

/// Element counts of arrays whose size comes from the user's arguments (repeat counts, tile
/// repetitions, grid sizes, bin counts), checked before anything is allocated: an overflowing
/// product, or a size beyond the machine's memory, is an error instead of a crash.
enum ElementCount {
  /// The number of elements of `shape` for items of `itemSize` bytes.
  static func checked(_ shape: [Int], itemSize: Int, dtypeName: String, at range: SourceRange) throws(ShellError) -> Int {
    var n = 1
    for d in shape {
      let (p, overflow) = n.multipliedReportingOverflow(by: d)
      if overflow { throw tooBig(at: range) }
      n = p
    }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: Swift.max(itemSize, 1))
    if overflow { throw tooBig(at: range) }
    if UInt64(bytes) > ProcessInfo.processInfo.physicalMemory {
      throw ShellError(
        "Unable to allocate \(sizeString(bytes)) for an array with shape \(tupleShape(shape)) and data type \(dtypeName)",
        type: "MemoryError", at: range)
    }
    return n
  }

  static func checked(_ shape: [Int], _ dtype: DType, at range: SourceRange) throws(ShellError) -> Int {
    try checked(shape, itemSize: dtype.itemSize, dtypeName: dtype.rawValue, at: range)
  }

  /// `a + b` for sizes, or the "too big" error.
  static func sum(_ a: Int, _ b: Int, at range: SourceRange) throws(ShellError) -> Int {
    let (s, overflow) = a.addingReportingOverflow(b)
    if overflow { throw tooBig(at: range) }
    return s
  }

  static func tooBig(at range: SourceRange) -> ShellError {
    ShellError(
      "array is too big; `arr.size * arr.dtype.itemsize` is larger than the maximum possible size.", type: "ValueError", at: range)
  }

  /// A byte count as numpy writes it in its allocation errors: "7.28 TiB".
  static func sizeString(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var unit = 0
    var value = Double(bytes)
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    if value.rounded() == 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%#.3g", value) + " " + units[unit]
  }
}
