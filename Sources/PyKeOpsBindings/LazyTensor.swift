import ArrayIO
import KSDiagnostics
import ShellRuntime
import ShellSyntax

// PyKeOps' LazyTensor for numpy arrays: a symbolic (M, N, D) tensor made of a formula and the
// small arrays it reads. Operations build the formula; a reduction over i or j turns it into the
// Genred that the same formula string would give (same engines, same cache, same numbers).

/// One array (or Python number list) a LazyTensor reads, or a symbolic `(ind, dim, cat)` slot.
///
/// Identity matters: the same variable used twice in a formula is one `Var`, as in PyKeOps where a
/// LazyTensor made once from an array is one variable however often it appears.
final class LazyVariable: Sendable {
  enum Source: Sendable {
    /// An array, already of the LazyTensor's dtype.
    case array(NDArray)
    /// Python numbers (`0.5 * x`, `[1., 2.]`): converted to the formula's dtype at reduction time.
    case numbers([Double])
    /// A symbolic variable `LazyTensor((ind, dim, cat))`, bound when the reduction is called.
    case symbolic(index: Int)
  }

  let source: Source
  let dim: Int
  /// 0: indexed by i, 1: by j, 2: a parameter.
  let category: Int

  init(_ source: Source, dim: Int, category: Int) {
    self.source = source
    self.dim = dim
    self.category = category
  }

  var symbolicIndex: Int? {
    if case .symbolic(let k) = source { return k }
    return nil
  }
}

/// A formula over LazyVariables, rendered to KeOps' formula text when reduced.
indirect enum LazyFormula: Sendable {
  case variable(LazyVariable)
  case integer(Int)
  /// `Name(arguments..., parameters...)`; parameters are integers or integer lists written by ks.
  case call(String, [LazyFormula], parameters: [String])
  /// `(lhs op rhs)`.
  case infix(String, LazyFormula, LazyFormula)

  /// The formula text, with `number(v)` the `Var` index of each variable.
  func text(_ number: (LazyVariable) -> Int) -> String {
    switch self {
    case .variable(let v): return "Var(\(number(v)),\(v.dim),\(v.category))"
    case .integer(let n): return "IntCst(\(n))"
    case .call(let name, let arguments, let parameters):
      return "\(name)(" + (arguments.map { $0.text(number) } + parameters).joined(separator: ",") + ")"
    case .infix(let op, let a, let b): return "(\(a.text(number)) \(op) \(b.text(number)))"
    }
  }

  /// Renames category 0 and 1 (`K.T`): a transposed formula reads its i-variables as j-variables.
  func transposed(_ swap: (LazyVariable) -> LazyVariable) -> LazyFormula {
    switch self {
    case .variable(let v): return .variable(swap(v))
    case .integer: return self
    case .call(let name, let arguments, let parameters):
      return .call(name, arguments.map { $0.transposed(swap) }, parameters: parameters)
    case .infix(let op, let a, let b): return .infix(op, a.transposed(swap), b.transposed(swap))
    }
  }
}

/// `LazyTensor(x)`: a symbolic (M, N, D) tensor.
public struct LazyTensorObject: ShellObject {
  var formula: LazyFormula
  /// The variables in PyKeOps' order (operands' variables concatenated; repeats are one `Var`).
  var variables: [LazyVariable]
  /// The vector dimension D.
  var ndim: Int
  var ni: Int?
  var nj: Int?
  var dtype: DType?
  /// The batch dimensions (the axes before M, N, D), broadcast between operands; empty: none.
  var batchdims: [Int] = []
  /// `K.backend = "CPU"`, `K.ranges = ...`: defaults for the reductions of this LazyTensor (and
  /// of those made from it), as PyKeOps keeps them.
  var backend: Value?
  var ranges: Value?
  /// A ComplexLazyTensor: the formula's value is a vector of (re, im) pairs, `ndim` counts both
  /// parts (PyKeOps' `view_as_real` encoding), and reductions give complex arrays.
  var isComplex = false

  public var typeName: String { isComplex ? "ComplexLazyTensor" : "LazyTensor" }

  /// The symbolic shape `(..., M, N)` or `(..., M, N, D)` (PyKeOps drops a trailing 1); D counts
  /// complex entries for a ComplexLazyTensor.
  var shape: [Int] {
    let d = isComplex ? ndim / 2 : ndim
    let s = batchdims + [ni ?? 1, nj ?? 1, d]
    return d == 1 ? Array(s.dropLast()) : s
  }

  /// The dtype PyKeOps reports: complex64/complex128 for a ComplexLazyTensor.
  var reportedDType: DType? {
    guard isComplex, let d = dtype else { return dtype }
    return d == .float32 ? .complex64 : (d == .float64 ? .complex128 : d)
  }

  /// The number of axes of the full shape `(..., M, N, D)`.
  var fullRank: Int { batchdims.count + 3 }

  /// The variables once each, in order.
  var distinctVariables: [LazyVariable] {
    var seen: Set<ObjectIdentifier> = []
    return variables.filter { seen.insert(ObjectIdentifier($0)).inserted }
  }

  /// `Var` numbers: symbolic variables keep theirs; arrays follow, from one past the largest.
  func numbering() -> [ObjectIdentifier: Int] {
    var numbers: [ObjectIdentifier: Int] = [:]
    let symbolic = distinctVariables.compactMap(\.symbolicIndex)
    var next = (symbolic.max() ?? -1) + 1
    for v in distinctVariables {
      if let k = v.symbolicIndex {
        numbers[ObjectIdentifier(v)] = k
      } else {
        numbers[ObjectIdentifier(v)] = next
        next += 1
      }
    }
    return numbers
  }

  /// The KeOps formula text, with final `Var` numbers.
  var formulaText: String {
    let numbers = numbering()
    return formula.text { numbers[ObjectIdentifier($0)] ?? -1 }
  }

  public func repr(with options: PrintOptions) -> String {
    var s = "KeOps LazyTensor\n    formula: \(formulaText)"
    let symbolic = distinctVariables.filter { $0.symbolicIndex != nil }
    if !symbolic.isEmpty {
      s += "\n    symbolic variables: "
        + symbolic.map { "Var(\($0.symbolicIndex!), \($0.dim), \($0.category))" }.joined(separator: ", ")
    }
    return s + "\n    shape: " + tupleShape(shape)
  }

  // MARK: - Making LazyTensors

  /// `LazyTensor(x, axis=None)` with PyKeOps' rules for numbers, lists, arrays and `(ind, dim, cat)`.
  static func make(_ x: Value, axis: Int?, at range: SourceRange, in interpreter: Interpreter) throws -> LazyTensorObject {
    func parameter(_ numbers: [Double]) throws -> LazyTensorObject {
      if let axis, axis != 2 {
        throw ShellError(
          "lists of numbers are handled as parameter variables, with an optional 'axis' argument that is equal to 2",
          type: "ValueError", at: range)
      }
      let v = LazyVariable(.numbers(numbers), dim: numbers.count, category: 2)
      return LazyTensorObject(formula: .variable(v), variables: [v], ndim: numbers.count)
    }
    switch x {
    case .object(let lt as LazyTensorObject):
      return lt
    case .complex(let re, let im):
      var lt = try parameter([re, im])
      lt.isComplex = true
      return lt
    case .list(let items) where items.contains(where: { if case .complex = $0 { return true } else { return false } }):
      // PyKeOps: a list with a complex number is a complex parameter of (re, im) pairs.
      var numbers: [Double] = []
      for item in items {
        switch item {
        case .int(let n): numbers += [Double(n), 0]
        case .float(let d): numbers += [d, 0]
        case .complex(let re, let im): numbers += [re, im]
        default:
          throw ShellError("a LazyTensor made from a list needs numbers, not \(item.typeName)", type: "TypeError", at: range)
        }
      }
      var lt = try parameter(numbers)
      lt.isComplex = true
      return lt
    case .int(let n):
      return LazyTensorObject(formula: .integer(n), variables: [], ndim: 1)
    case .bool(let b):
      return LazyTensorObject(formula: .integer(b ? 1 : 0), variables: [], ndim: 1)
    case .float(let d):
      return try parameter([d])
    case .list(let items):
      var numbers: [Double] = []
      for item in items {
        switch item {
        case .int(let n): numbers.append(Double(n))
        case .float(let d): numbers.append(d)
        default:
          throw ShellError("a LazyTensor made from a list needs numbers, not \(item.typeName)", type: "TypeError", at: range)
        }
      }
      guard !numbers.isEmpty else { throw ShellError("a LazyTensor cannot be made from an empty list", type: "ValueError", at: range) }
      return try parameter(numbers)
    case .tuple(let items):
      guard items.count == 3, case .int(let ind) = items[0], case .int(let dim) = items[1], case .int(let cat) = items[2]
      else {
        throw ShellError(
          "LazyTensor(tuple) is only valid if tuple = (ind,dim,cat) is a triplet of integers", type: "ValueError", at: range)
      }
      if axis != nil {
        throw ShellError("'axis' parameter should not be given when 'x' is of the form (ind,dim,cat)", type: "ValueError", at: range)
      }
      guard ind >= 0, dim >= 1, (0...2).contains(cat) else {
        throw ShellError("LazyTensor((ind, dim, cat)) needs ind >= 0, dim >= 1 and cat in 0, 1, 2", type: "ValueError", at: range)
      }
      let v = LazyVariable(.symbolic(index: ind), dim: dim, category: cat)
      return LazyTensorObject(formula: .variable(v), variables: [v], ndim: dim)
    case .array(let a):
      return try fromArray(a, axis: axis, at: range)
    default:
      throw ShellError(
        "LazyTensors should be built from numpy arrays, float/integer numbers, lists of floats or 3-uples of integers; received \(x.typeName)",
        type: "TypeError", at: range)
    }
  }

  static func fromArray(_ x: NDArray, axis: Int?, at range: SourceRange) throws -> LazyTensorObject {
    if x.dtype.isComplex {
      // A ComplexLazyTensor reads the array as (re, im) pairs along its last axis.
      var lt = try fromArray(realView(x), axis: axis, at: range)
      lt.isComplex = true
      return lt
    }
    guard [DType.float16, .float32, .float64].contains(x.dtype) else {
      throw ShellError(
        "LazyTensor needs a float16, float32, float64, complex64 or complex128 array, not \(x.dtype.rawValue); convert it with .astype(np.float32) or .astype(np.float64)",
        type: "TypeError", at: range)
    }
    var a = x
    var axis = axis
    if a.rank == 0 { a = a.reshaped([1]) }
    var batch: [Int] = []
    if a.rank >= 3 {
      if axis != nil {
        throw ShellError("'axis' parameter should not be given when 'x' is a 3D array", type: "ValueError", at: range)
      }
      // (..., M, 1, D) -> Vi, (..., 1, N, D) -> Vj, (..., 1, 1, D) -> Pm; leading axes are batch axes.
      batch = Array(a.shape.dropLast(3))
      let (s0, s1, d) = (a.shape[a.rank - 3], a.shape[a.rank - 2], a.shape[a.rank - 1])
      if s0 == 1 && s1 == 1 {
        axis = 2
        if !batch.isEmpty {
          let v = LazyVariable(.array(a.reshaped(batch + [d])), dim: d, category: 2)
          return LazyTensorObject(formula: .variable(v), variables: [v], ndim: d, dtype: a.dtype, batchdims: batch)
        }
        a = a.reshaped([d])
      } else if s0 == 1 {
        a = a.reshaped(batch + [s1, d])
        axis = 1
      } else if s1 == 1 {
        a = a.reshaped(batch + [s0, d])
        axis = 0
      } else {
        throw ShellError(
          "if 'x' is a 3D+ array, its shape should be one of (..,M,1,D), (..,1,N,D) or (..,1,1,D); got \(tupleShape(a.shape))",
          type: "ValueError", at: range)
      }
    }
    if a.rank >= 2 && axis != 2 {
      guard let axis, axis == 0 || axis == 1 else {
        throw ShellError(
          "when 'x' is a 2D array, LazyTensor expects an explicit 'axis' value in {0,1}: LazyTensor(x, axis=0) or Vi(x)",
          type: "ValueError", at: range)
      }
      let d = a.shape[a.rank - 1]
      let v = LazyVariable(.array(a), dim: d, category: axis)
      var lt = LazyTensorObject(formula: .variable(v), variables: [v], ndim: d, dtype: a.dtype, batchdims: batch)
      if axis == 0 { lt.ni = a.shape[a.rank - 2] } else { lt.nj = a.shape[a.rank - 2] }
      return lt
    }
    if let axis, axis != 2 {
      throw ShellError("when 'x' is a 1D or 0D array, 'axis' must be None or 2 (a parameter)", type: "ValueError", at: range)
    }
    let p = a.reshaped([a.count])
    let v = LazyVariable(.array(p), dim: p.count, category: 2)
    return LazyTensorObject(formula: .variable(v), variables: [v], ndim: p.count, dtype: a.dtype)
  }

  // MARK: - Combining

  /// The attributes of `self` and `other` merged (dtype, M, N must agree), variables concatenated.
  func joined(_ other: LazyTensorObject, at range: SourceRange) throws -> LazyTensorObject {
    var out = self
    for (name, a, b) in [("M", ni, other.ni), ("N", nj, other.nj)] {
      if let a, let b, a != b {
        throw ShellError(
          "incompatible LazyTensor sizes: \(name) = \(a) and \(b) (the operands index different numbers of points)",
          type: "ValueError", at: range)
      }
    }
    if let a = dtype, let b = other.dtype, a != b {
      throw ShellError(
        "incompatible LazyTensor dtypes: \(a.rawValue) and \(b.rawValue); KeOps does not convert types, make both arrays the same dtype",
        type: "ValueError", at: range)
    }
    out.backend = backend ?? other.backend
    out.ranges = ranges ?? other.ranges
    out.ni = ni ?? other.ni
    out.nj = nj ?? other.nj
    out.dtype = dtype ?? other.dtype
    if batchdims != other.batchdims {
      // Batch axes broadcast as numpy's do (size 1 against any size); missing ones count as 1.
      let rank = max(batchdims.count, other.batchdims.count)
      let a = [Int](repeating: 1, count: rank - batchdims.count) + batchdims
      let b = [Int](repeating: 1, count: rank - other.batchdims.count) + other.batchdims
      guard let merged = broadcastShapes([a, b]) else {
        throw ShellError(
          "incompatible batch dimensions: \(tupleShape(batchdims)) and \(tupleShape(other.batchdims))", type: "ValueError",
          at: range)
      }
      out.batchdims = merged
    }
    out.variables = variables + other.variables
    return out
  }

  /// `Op(self, params...)` with result dimension `dim`.
  func unary(_ op: String, dim: Int? = nil, parameters: [String] = []) -> LazyTensorObject {
    var out = self
    out.formula = .call(op, [formula], parameters: parameters)
    out.ndim = dim ?? ndim
    return out
  }

  enum DimCheck { case same, sameOrOne, none }

  /// A binary operation with PyKeOps' dimension checks; `reversed` puts `other` first.
  func binary(
    _ other: Value, _ op: String, infix: Bool = false, dim: Int? = nil, check: DimCheck = .sameOrOne,
    reversed: Bool = false, at range: SourceRange, in interpreter: Interpreter
  ) throws -> LazyTensorObject {
    let o = try Self.make(other, axis: nil, at: range, in: interpreter)
    switch check {
    case .same where ndim != o.ndim:
      throw ShellError(
        "operation \(op) expects inputs of the same dimension; received \(ndim) and \(o.ndim)", type: "ValueError", at: range)
    case .sameOrOne where ndim != o.ndim && ndim != 1 && o.ndim != 1:
      throw ShellError(
        "operation \(op) expects inputs of the same dimension or dimension 1; received \(ndim) and \(o.ndim)",
        type: "ValueError", at: range)
    default: break
    }
    var out = try joined(o, at: range)
    out.ndim = dim ?? max(ndim, o.ndim)
    let (l, r) = reversed ? (o.formula, formula) : (formula, o.formula)
    out.formula = infix ? .infix(op, l, r) : .call(op, [l, r], parameters: [])
    return out
  }

  /// A three-operand operation (`Clamp`, `IfElse`, `Mod`).
  func ternary(_ a: Value, _ b: Value, _ op: String, at range: SourceRange, in interpreter: Interpreter) throws -> LazyTensorObject {
    let x = try Self.make(a, axis: nil, at: range, in: interpreter)
    let y = try Self.make(b, axis: nil, at: range, in: interpreter)
    let dims = Set([ndim, x.ndim, y.ndim, 1])
    guard dims.count <= 2 else {
      throw ShellError(
        "operation \(op) expects inputs of the same dimension or dimension 1; received \(ndim), \(x.ndim) and \(y.ndim)",
        type: "ValueError", at: range)
    }
    var out = try joined(try x.joined(y, at: range), at: range)
    out.ndim = max(ndim, x.ndim, y.ndim)
    out.formula = .call(op, [formula, x.formula, y.formula], parameters: [])
    return out
  }

  /// The transpose `K.T`: i-variables become j-variables and back.
  var transposed: LazyTensorObject {
    var swapped: [ObjectIdentifier: LazyVariable] = [:]
    for v in distinctVariables where v.category != 2 {
      swapped[ObjectIdentifier(v)] = LazyVariable(v.source, dim: v.dim, category: 1 - v.category)
    }
    func swap(_ v: LazyVariable) -> LazyVariable { swapped[ObjectIdentifier(v)] ?? v }
    var out = self
    out.formula = formula.transposed(swap)
    out.variables = variables.map(swap)
    (out.ni, out.nj) = (nj, ni)
    return out
  }
}

/// Python scalars that PyKeOps' operators treat specially (`x * 0`, `x + 0`, `1 / x`).
func isScalar(_ v: Value, equalTo n: Double) -> Bool {
  switch v {
  case .int(let i): return Double(i) == n
  case .float(let d): return d == n
  default: return false
  }
}

/// A complex array as real numbers, numpy's `x.view(float)`: the last axis doubles, each entry
/// becoming its (re, im) pair (a 0-d array becomes the pair).
func realView(_ a: NDArray) -> NDArray {
  let shape = a.rank == 0 ? [2] : Array(a.shape.dropLast()) + [a.shape[a.rank - 1] * 2]
  switch a.storage {
  case .complex64(let v): return NDArray(shape: shape, storage: .float32(v.flatMap { [$0.re, $0.im] }))
  case .complex128(let v): return NDArray(shape: shape, storage: .float64(v.flatMap { [$0.re, $0.im] }))
  default: return a
  }
}

/// The inverse of `realView`, PyKeOps' `view_as_complex` of a reduction's result: consecutive
/// (re, im) pairs along the last axis become complex entries.
func complexView(_ a: NDArray) -> NDArray {
  guard let last = a.shape.last, last % 2 == 0 else { return a }
  let shape = Array(a.shape.dropLast()) + [last / 2]
  switch a.storage {
  case .float32(let v):
    return NDArray(shape: shape, storage: .complex64((0..<(v.count / 2)).map { Complex64(v[2 * $0], v[2 * $0 + 1]) }))
  case .float64(let v):
    return NDArray(shape: shape, storage: .complex128((0..<(v.count / 2)).map { Complex128(v[2 * $0], v[2 * $0 + 1]) }))
  case .float16:
    return complexView(a.cast(.float32))
  default:
    return a
  }
}

/// Whether a value makes a complex LazyTensor operand (a ComplexLazyTensor, a Python complex, a
/// complex array, a list with a complex number).
func isComplexOperand(_ v: Value) -> Bool {
  switch v {
  case .object(let lt as LazyTensorObject): return lt.isComplex
  case .complex: return true
  case .array(let a): return a.dtype.isComplex
  case .list(let items): return items.contains { if case .complex = $0 { return true } else { return false } }
  default: return false
  }
}
