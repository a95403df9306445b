import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// Array creation: `array`, `zeros`, `full`, `eye`, `linspace`, `arange`, `diag`, ...
  static func creationFunctions() -> FunctionTable {
    var t = FunctionTable()
    let arrayDocs = [
      "array": FunctionDoc("np.array(object, dtype=None, copy=True, ndmin=0)", "an array from a number, nested lists or an array", "np.array([[1, 2], [3, 4]], dtype=\"float32\")"),
      "asarray": FunctionDoc("np.asarray(a, dtype=None)", "the input as an array (as np.array)", "np.asarray([1, 2, 3])"),
      "asanyarray": FunctionDoc("np.asanyarray(a, dtype=None)", "the input as an array (as np.array)", "np.asanyarray((1, 2))"),
      "ascontiguousarray": FunctionDoc("np.ascontiguousarray(a, dtype=None)", "the input as a contiguous array (ks's arrays always are)", "np.ascontiguousarray(x.T)"),
    ]
    for name in ["array", "asarray", "asanyarray", "ascontiguousarray"] {
      t[name, arrayDocs[name]] = { ctx in
        let v = try ctx.required(0, "object")
        let dtype = try ctx.dtype(1)
        _ = try ctx.optional(nil, "copy")
        let ndmin = try ctx.integer(nil, "ndmin", default: 0)
        try ctx.finish(maxPositional: 2)
        var a = try NumpyOps.array(from: v, dtype: dtype, at: ctx.rangeOf(0))
        if a.rank < ndmin { a = a.withShape([Int](repeating: 1, count: ndmin - a.rank) + a.shape) }
        a.isZeroDimensionalArray = a.rank == 0
        return .array(a)
      }
    }
    t["copy", FunctionDoc("np.copy(a)", "a copy of the array", "b = np.copy(a)")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(a)
    }
    let fillDocs = [
      "zeros": FunctionDoc("np.zeros(shape, dtype=float64)", "an array of zeros", "np.zeros((3, 2))"),
      "ones": FunctionDoc("np.ones(shape, dtype=float64)", "an array of ones", "np.ones(5)"),
      "empty": FunctionDoc("np.empty(shape, dtype=float64)", "a new array (ks fills it with zeros)", "np.empty((2, 2))"),
      "zeros_like": FunctionDoc("np.zeros_like(a, dtype=None, shape=None)", "zeros with a's shape and dtype", "np.zeros_like(x)"),
      "ones_like": FunctionDoc("np.ones_like(a, dtype=None, shape=None)", "ones with a's shape and dtype", "np.ones_like(x)"),
      "empty_like": FunctionDoc("np.empty_like(a, dtype=None, shape=None)", "a new array with a's shape and dtype (zeros in ks)", "np.empty_like(x)"),
    ]
    for (name, fill) in [("zeros", 0.0), ("ones", 1.0), ("empty", 0.0)] {
      t[name, fillDocs[name]] = { ctx in
        let shape = try ctx.shape(0, "shape")
        let dtype = try ctx.dtype(1) ?? .float64
        try ctx.finish(maxPositional: 2)
        try Allocation.check(shape, dtype, at: ctx.range)
        return .array(filled(shape, fill, dtype))
      }
      t[name + "_like", fillDocs[name + "_like"]] = { ctx in
        let a = try ctx.array(0, "a")
        let dtype = try ctx.dtype(1) ?? a.dtype
        let shape = try ctx.present(nil, "shape").map { v throws(ShellError) in try shapeArgument(v, at: ctx.rangeOf(keyword: "shape")) }
        try ctx.finish(maxPositional: 2)
        try Allocation.check(shape ?? a.shape, dtype, at: ctx.range)
        return .array(filled(shape ?? a.shape, fill, dtype))
      }
    }
    t["full", FunctionDoc("np.full(shape, fill_value, dtype=None)", "an array filled with one value", "np.full((2, 3), 7.0)")] = { ctx in
      let shape = try ctx.shape(0, "shape")
      let fill = try ctx.operand(1, "fill_value")
      let dtype = try ctx.dtype(2) ?? (fill.weak?.defaultDType ?? fill.array.dtype)
      try ctx.finish(maxPositional: 3)
      try Allocation.check(shape, dtype, at: ctx.range)
      try checkFill(fill.array, shape, at: ctx.rangeOf(1, "fill_value"))
      return .array(fill.array.cast(dtype).broadcast(to: shape))
    }
    t["full_like", FunctionDoc("np.full_like(a, fill_value, dtype=None)", "an array of a's shape filled with one value", "np.full_like(x, 0.5)")] = { ctx in
      let a = try ctx.array(0, "a")
      let fill = try ctx.operand(1, "fill_value")
      let dtype = try ctx.dtype(2) ?? a.dtype
      try ctx.finish(maxPositional: 3)
      try checkFill(fill.array, a.shape, at: ctx.rangeOf(1, "fill_value"))
      return .array(fill.array.cast(dtype).broadcast(to: a.shape))
    }
    t["eye", FunctionDoc("np.eye(N, M=None, k=0, dtype=float64)", "ones on the k-th diagonal, zeros elsewhere", "np.eye(3)")] = { ctx in
      let n = try ctx.integer(0, "N", default: 0)
      let m = try ctx.present(1, "M").map { v throws(ShellError) in try ctx.int(NumpyOps.pythonIndex(v), "M", at: ctx.rangeOf(1, "M")) } ?? n
      let k = try ctx.integer(2, "k", default: 0)
      let dtype = try ctx.dtype(3) ?? .float64
      try ctx.finish(maxPositional: 4)
      if n < 0 || m < 0 { throw ShellError("negative dimensions are not allowed", at: ctx.range) }
      try Allocation.check([n, m], .float64, at: ctx.range)
      return .array(eye(n, m, k, dtype))
    }
    t["identity", FunctionDoc("np.identity(n, dtype=float64)", "the n x n identity matrix", "np.identity(4)")] = { ctx in
      let n = try ctx.integer(0, "n", default: 0)
      let dtype = try ctx.dtype(1) ?? .float64
      try ctx.finish(maxPositional: 2)
      if n < 0 { throw ShellError("negative dimensions are not allowed", at: ctx.range) }
      try Allocation.check([n, n], .float64, at: ctx.range)
      return .array(eye(n, n, 0, dtype))
    }
    t["linspace", FunctionDoc("np.linspace(start, stop, num=50, endpoint=True, dtype=None)", "num evenly spaced numbers from start to stop", "np.linspace(0, 1, 5)")] = { ctx in
      let start = try ctx.operand(0, "start"), stop = try ctx.operand(1, "stop")
      let num = try ctx.integer(2, "num", default: 50)
      let endpoint = try ctx.flag(3, "endpoint", default: true)
      let retstep = try ctx.flag(4, "retstep", default: false)
      let dtype = try ctx.dtype(5)
      try ctx.finish(maxPositional: 6)
      guard start.array.rank == 0, stop.array.rank == 0 else {
        throw ShellError("ks's linspace takes scalar start and stop", at: ctx.range)
      }
      if num < 0 { throw ShellError("Number of samples, \(num), must be non-negative.", at: ctx.rangeOf(2, "num")) }
      try Allocation.check([num], .float64, at: ctx.rangeOf(2, "num"))
      let (values, step) = linspace(start.array.doubleValues[0], stop.array.doubleValues[0], num, endpoint)
      let inferred = Promotion.result([start, stop, Operand(.scalar(0), weak: .float)])
      let target = dtype ?? inferred
      var a = NDArray(shape: [num], storage: .float64(values))
      if target.kind != .float { a = try Ufunc.unary(.floor, a, at: ctx.range) }
      a = a.cast(target)
      return retstep ? .tuple([.array(a), .array(.scalar(step))]) : .array(a)
    }
    t["arange", FunctionDoc("np.arange([start,] stop[, step], dtype=None)", "evenly spaced values in [start, stop)", "np.arange(4)")] = { ctx in
      let args = ctx.positional
      var start: Operand = Operand(.scalar(int: 0), weak: .int)
      var stop: Operand?
      var step: Operand = Operand(.scalar(int: 1), weak: .int)
      if let v = try ctx.optional(nil, "start") { start = try NumpyOps.operand(v, at: ctx.rangeOf(keyword: "start")) }
      if let v = try ctx.optional(nil, "stop") { stop = try NumpyOps.operand(v, at: ctx.rangeOf(keyword: "stop")) }
      if let v = try ctx.optional(nil, "step") { step = try NumpyOps.operand(v, at: ctx.rangeOf(keyword: "step")) }
      let dtype = try ctx.dtype(nil)
      try ctx.finish(maxPositional: 4)
      var ops: [Operand] = []
      for (k, v) in args.enumerated() { ops.append(try NumpyOps.operand(v, at: ctx.rangeOf(k))) }
      switch ops.count {
      case 0: break
      case 1: if stop == nil { stop = ops[0] } else { start = ops[0] }
      case 2: start = ops[0]; stop = ops[1]
      case 3: start = ops[0]; stop = ops[1]; step = ops[2]
      default: start = ops[0]; stop = ops[1]; step = ops[2]
      }
      if args.count == 4 { throw ShellError("arange() takes the dtype as a keyword in ks", at: ctx.rangeOf(3)) }
      guard let stop else { throw ShellError("arange() requires stop to be specified.", at: ctx.range) }
      let inferred = Promotion.result([start, stop, step].map { Operand($0.array, weak: $0.weak == .bool ? .int : $0.weak) })
      return .array(try arange(start.array, stop.array, step.array, dtype ?? inferred, at: ctx.range))
    }
    t["diag", FunctionDoc("np.diag(v, k=0)", "the k-th diagonal of a matrix, or a matrix with v on its diagonal", "np.diag([1.0, 2.0, 3.0])")] = { ctx in
      let v = try ctx.array(0, "v")
      let k = try ctx.integer(1, "k", default: 0)
      try ctx.finish(maxPositional: 2)
      return .array(try diag(v, k, at: ctx.rangeOf(0)))
    }
    t["diagonal", FunctionDoc("np.diagonal(a, offset=0)", "the diagonal of a matrix", "np.diagonal(np.eye(3))")] = { ctx in
      let v = try ctx.array(0, "a")
      let k = try ctx.integer(1, "offset", default: 0)
      try ctx.finish(maxPositional: 2)
      guard v.rank == 2 else { throw ShellError("ks's diagonal takes a 2-D array", at: ctx.rangeOf(0)) }
      return .array(try diag(v, k, at: ctx.rangeOf(0)))
    }
    t["trace", FunctionDoc("np.trace(a, offset=0)", "sum along the diagonal", "np.trace(np.eye(3))")] = { ctx in
      let v = try ctx.array(0, "a")
      let k = try ctx.integer(1, "offset", default: 0)
      try ctx.finish(maxPositional: 2)
      guard v.rank == 2 else { throw ShellError("ks's trace takes a 2-D array", at: ctx.rangeOf(0)) }
      return .array(Reductions.sum(try diag(v, k, at: ctx.rangeOf(0)), axes: nil, keepdims: false))
    }
    return t
  }

  /// numpy's error when `full`'s fill value does not broadcast to the shape.
  static func checkFill(_ fill: NDArray, _ shape: [Int], at range: SourceRange) throws(ShellError) {
    guard broadcastShapes([fill.shape, shape]) == shape else {
      throw ShellError("could not broadcast input array from shape \(compactShape(fill.shape)) into shape \(compactShape(shape))", at: range)
    }
  }

  static func filled(_ shape: [Int], _ value: Double, _ dtype: DType) -> NDArray {
    NDArray(shape: shape, storage: ArrayStorage.make([Double](repeating: value, count: shape.reduce(1, *)), dtype))
  }

  static func eye(_ n: Int, _ m: Int, _ k: Int, _ dtype: DType) -> NDArray {
    var v = [Double](repeating: 0, count: n * m)
    for i in 0..<n where i + k >= 0 && i + k < m { v[i * m + i + k] = 1 }
    return NDArray(shape: [n, m], storage: ArrayStorage.make(v, dtype))
  }

  /// numpy's linspace arithmetic: i·step + start, the last value set to stop.
  static func linspace(_ start: Double, _ stop: Double, _ num: Int, _ endpoint: Bool) -> ([Double], Double) {
    let div = endpoint ? num - 1 : num
    let delta = stop - start
    var y = (0..<num).map { Double($0) }
    var step = Double.nan
    if div > 0 {
      step = delta / Double(div)
      if step == 0 {
        y = y.map { $0 / Double(div) * delta }
      } else {
        y = y.map { $0 * step }
      }
    } else {
      y = y.map { $0 * delta }
    }
    y = y.map { $0 + start }
    if endpoint && num > 1 { y[num - 1] = stop }
    return (y, step)
  }

  /// numpy's arange: the length from ceil((stop - start) / step); values start + i·delta with
  /// delta = (start + step) - start computed in the result type.
  static func arange(_ start: NDArray, _ stop: NDArray, _ step: NDArray, _ dtype: DType, at range: SourceRange) throws(ShellError) -> NDArray {
    for a in [start, stop, step] where a.count != 1 {
      throw ShellError("arange() takes scalar start, stop and step, not an array of shape \(tupleShape(a.shape))", at: range)
    }
    let s0 = start.doubleValues[0], s1 = stop.doubleValues[0], st = step.doubleValues[0]
    if st == 0 { throw ShellError("Maximum allowed size exceeded", at: range) }
    let lengthD = ((s1 - s0) / st).rounded(.up)
    if lengthD.isNaN { throw ShellError("arange: cannot compute length", at: range) }
    if lengthD >= 9.2e18 { throw ShellError("Maximum allowed size exceeded", at: range) }
    let n = lengthD <= 0 ? 0 : Int(lengthD)
    try Allocation.check([n], dtype, at: range)
    switch dtype {
    case .complex64, .complex128:
      // Real start and step (the real parts), then cast, as numpy gives for real arguments.
      var v = (0..<n).map { s0 + Double($0) * st }
      if n > 1 { v[1] = s0 + st }
      return NDArray(shape: [n], storage: .float64(v)).cast(dtype)
    case .int64, .bool:
      let a = start.int64Values[0], d = step.int64Values[0]
      if start.dtype.kind != .float && step.dtype.kind != .float {
        return NDArray(shape: [n], storage: .int64((0..<n).map { a &+ Int64($0) &* d })).cast(dtype)
      }
      return NDArray(shape: [n], storage: .int64((0..<n).map { int64Truncating(s0 + Double($0) * st) })).cast(dtype)
    case .float32, .float16:
      let first = Float(s0), second = Float(s0 + st)
      let delta = second - first
      var v = (0..<n).map { first + Float($0) * delta }
      if n > 1 { v[1] = second }
      return NDArray(shape: [n], storage: .float32(v)).cast(dtype)
    case .float64:
      let first = s0, second = s0 + st
      let delta = second - first
      var v = (0..<n).map { first + Double($0) * delta }
      if n > 1 { v[1] = second }
      return NDArray(shape: [n], storage: .float64(v))
    }
  }

  /// `np.diag`: a 1-D array to a diagonal matrix, or a 2-D array's k-th diagonal.
  static func diag(_ v: NDArray, _ k: Int, at range: SourceRange) throws(ShellError) -> NDArray {
    switch v.rank {
    case 1:
      let (n, o) = v.count.addingReportingOverflow(k == Int.min ? Int.max : Swift.abs(k))
      if o { throw ShellError("ValueError: array is too big (diagonal offset \(k))", at: range) }
      try Allocation.check([n, n], v.dtype, at: range)
      var offsets = [Int](), src = [Int]()
      for i in 0..<v.count {
        let (r, c) = k >= 0 ? (i, i + k) : (i - k, i)
        offsets.append(r * n + c)
        src.append(i)
      }
      let zeros = NDArray(shape: [n * n], storage: ArrayStorage.make([Double](repeating: 0, count: n * n), v.dtype))
      return try Indexing.set(zeros, [.array(NDArray(shape: [offsets.count], storage: .int64(offsets.map { Int64($0) })))], .array(v), at: range)
        .withShape([n, n])
    case 2:
      let (rows, cols) = (v.shape[0], v.shape[1])
      var offsets: [Int] = []
      var i = Swift.max(0, -k)
      while i < rows && i + k < cols {
        offsets.append(i * cols + i + k)
        i += 1
      }
      return v.gathered(offsets, shape: [offsets.count])
    default:
      throw ShellError("Input must be 1- or 2-d.", at: range)
    }
  }
}
