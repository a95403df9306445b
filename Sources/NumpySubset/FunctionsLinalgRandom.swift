import ArrayIO
import Foundation
import KSDiagnostics
import ShellRuntime
import ShellSyntax

extension NumpyFunctions {
  /// `np.linalg.*`.
  static func linalgFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["linalg.norm", FunctionDoc("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", "vector or matrix norm (Euclidean / Frobenius by default)", "np.linalg.norm(a - b)")] = { ctx in
      let x = try ctx.array(0, "x")
      var ord = Linalg.NormOrder.none
      if let v = try ctx.present(1, "ord") {
        switch v {
        case .string(let s) where s.text == "fro": ord = .fro
        case .string(let s) where s.text == "nuc": ord = .nuc
        default: ord = .number(try ctx.double(v, "ord", at: ctx.rangeOf(1, "ord")))
        }
      }
      var axes: [Int]?
      if let v = try ctx.present(2, "axis") {
        let r = ctx.rangeOf(2, "axis")
        switch v {
        case .tuple(let items), .list(let items):
          axes = []
          for item in items {
            let i = try ctx.int(NumpyOps.pythonIndex(item), "axis", at: r)
            axes!.append(try Reductions.axis(i, rank: x.rank, at: r))
          }
          if Set(axes!).count != axes!.count { throw ShellError("Duplicate axes given.", at: r) }
        default:
          axes = try Reductions.axes(v, rank: x.rank, at: r)
        }
      }
      let keepdims = try ctx.flag(3, "keepdims", default: false)
      try ctx.finish(maxPositional: 4)
      return .array(try Linalg.norm(x, ord: ord, axes: axes, keepdims: keepdims, at: ctx.range))
    }
    t["linalg.solve", FunctionDoc("np.linalg.solve(a, b)", "the solution x of the dense system a @ x = b", "np.linalg.solve(K, b)")] = { ctx in
      let a = try ctx.array(0, "a"), b = try ctx.array(1, "b")
      try ctx.finish(maxPositional: 2)
      return .array(try Linalg.solve(a, b, at: ctx.range, bRange: ctx.rangeOf(1)))
    }
    t["linalg.inv", FunctionDoc("np.linalg.inv(a)", "the inverse of a square matrix", "np.linalg.inv(np.eye(2) * 2)")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(try Linalg.inv(a, at: ctx.range))
    }
    t["linalg.cholesky", FunctionDoc("np.linalg.cholesky(a)", "the lower-triangular L with a = L @ L.T (a positive definite)", "L = np.linalg.cholesky(K)")] = { ctx in
      let a = try ctx.array(0, "a")
      if let upper = try ctx.present(nil, "upper"), try ctx.bool(upper, "upper", at: ctx.rangeOf(keyword: "upper")) {
        return .array(Shaping.transpose(try Linalg.cholesky(a, at: ctx.range)))
      }
      try ctx.finish(maxPositional: 1)
      return .array(try Linalg.cholesky(a, at: ctx.range))
    }
    t["linalg.eigh", FunctionDoc("np.linalg.eigh(a)", "eigenvalues (ascending) and eigenvectors of a symmetric matrix", "w, v = np.linalg.eigh(K)")] = { ctx in
      let a = try ctx.array(0, "a")
      if let uplo = try ctx.present(1, "UPLO"), try ctx.string(uplo, "UPLO", at: ctx.rangeOf(1, "UPLO")).text != "L" {
        throw ShellError("ks's eigh reads the lower triangle only (UPLO='L')", at: ctx.rangeOf(1, "UPLO"))
      }
      try ctx.finish(maxPositional: 2)
      let (w, v) = try Linalg.eigh(a, vectors: true, at: ctx.range)
      return .tuple([.array(w), .array(v!)])
    }
    t["linalg.eigvalsh", FunctionDoc("np.linalg.eigvalsh(a)", "eigenvalues (ascending) of a symmetric matrix", "np.linalg.eigvalsh(K)")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(try Linalg.eigh(a, vectors: false, at: ctx.range).0)
    }
    t["linalg.det", FunctionDoc("np.linalg.det(a)", "the determinant of a square matrix", "np.linalg.det(np.eye(3))")] = { ctx in
      let a = try ctx.array(0, "a")
      try ctx.finish(maxPositional: 1)
      return .array(try Linalg.det(a, at: ctx.range))
    }
    t["linalg.svd", FunctionDoc("np.linalg.svd(a, full_matrices=True, compute_uv=True)", "singular value decomposition u, s, vh", "u, s, vh = np.linalg.svd(a)")] = { ctx in
      let a = try ctx.array(0, "a")
      let full = try ctx.flag(1, "full_matrices", default: true)
      let uv = try ctx.flag(2, "compute_uv", default: true)
      try ctx.finish(maxPositional: 3)
      let (u, s, vt) = try Linalg.svd(a, vectors: uv, full: full, at: ctx.range)
      return uv ? .tuple([.array(u!), .array(s), .array(vt!)]) : .array(s)
    }
    return t
  }

  /// `np.random.*` (ks's own generator: reproducible under `np.random.seed`, not numpy's streams).
  static func randomFunctions() -> FunctionTable {
    var t = FunctionTable()
    t["random.seed", FunctionDoc("np.random.seed(seed)", "reseed the random generator (a session starts with 0)", "np.random.seed(1)")] = { ctx in
      let v = try ctx.required(0, "seed")
      let s = try ctx.int(NumpyOps.pythonIndex(v), "seed", at: ctx.rangeOf(0))
      try ctx.finish(maxPositional: 1)
      ctx.interpreter.state.random = RandomState(seed: UInt64(bitPattern: Int64(s)))
      ctx.interpreter.state.seed = UInt64(bitPattern: Int64(s))
      return .none
    }
    t["seed", FunctionDoc("seed(seed)", "np.random.seed without the prefix: reseed the random generator", "seed(0)")] = t["random.seed"]

    /// Draws `shape` values (nil: one Python float).
    @Sendable func draw(_ ctx: inout CallContext, _ shape: [Int]?, _ f: (inout RandomState) -> Double) throws(ShellError) -> Value {
      guard let shape else { return .float(f(&ctx.interpreter.state.random)) }
      let n = try Allocation.check(shape, .float64, at: ctx.range)
      var values = [Double](repeating: 0, count: n)
      for k in 0..<n { values[k] = f(&ctx.interpreter.state.random) }
      return .array(NDArray(shape: shape, float64: values))
    }
    @Sendable func dimensions(_ ctx: inout CallContext) throws(ShellError) -> [Int]? {
      var shape: [Int] = []
      for (k, v) in ctx.positional.enumerated() {
        let d = try ctx.int(NumpyOps.pythonIndex(v), "dimension", at: ctx.rangeOf(k))
        if d < 0 { throw ShellError("negative dimensions are not allowed", at: ctx.rangeOf(k)) }
        shape.append(d)
      }
      try ctx.finish(maxPositional: Int.max)
      return shape.isEmpty ? nil : shape
    }
    t["random.randn", FunctionDoc("np.random.randn(d0, d1, ...)", "standard normal samples of that shape (no shape: one float)", "x = np.random.randn(1000, 3)")] = { ctx in try draw(&ctx, try dimensions(&ctx)) { $0.normal() } }
    t["random.rand", FunctionDoc("np.random.rand(d0, d1, ...)", "uniform samples in [0, 1) of that shape", "u = np.random.rand(10)")] = { ctx in try draw(&ctx, try dimensions(&ctx)) { $0.uniform() } }
    t["randn", FunctionDoc("randn(d0, d1, ...)", "np.random.randn without the prefix: standard normal samples", "x = randn(100, 3)")] = t["random.randn"]
    t["rand", FunctionDoc("rand(d0, d1, ...)", "np.random.rand without the prefix: uniform samples in [0, 1)", "u = rand(10)")] = t["random.rand"]
    for name in ["random", "random_sample", "sample", "ranf"] {
      let doc = FunctionDoc("np.random.\(name)(size=None)", "uniform samples in [0, 1) of shape size (no size: one float)", "np.random.\(name)((2, 2))")
      t["random." + name, doc] = { ctx in
        let size = try ctx.size(0)
        try ctx.finish(maxPositional: 1)
        return try draw(&ctx, size) { $0.uniform() }
      }
    }
    t["random.standard_normal", FunctionDoc("np.random.standard_normal(size=None)", "standard normal samples of shape size", "np.random.standard_normal((2, 3))")] = { ctx in
      let size = try ctx.size(0)
      try ctx.finish(maxPositional: 1)
      return try draw(&ctx, size) { $0.normal() }
    }
    t["random.uniform", FunctionDoc("np.random.uniform(low=0.0, high=1.0, size=None)", "uniform samples in [low, high)", "np.random.uniform(-1, 1, size=5)")] = { ctx in
      let low = try ctx.number(0, "low", default: 0), high = try ctx.number(1, "high", default: 1)
      let size = try ctx.size(2)
      try ctx.finish(maxPositional: 3)
      return try draw(&ctx, size) { low + (high - low) * $0.uniform() }
    }
    t["random.normal", FunctionDoc("np.random.normal(loc=0.0, scale=1.0, size=None)", "normal samples with that mean and standard deviation", "np.random.normal(0, 0.1, size=(10, 2))")] = { ctx in
      let loc = try ctx.number(0, "loc", default: 0), scale = try ctx.number(1, "scale", default: 1)
      let size = try ctx.size(2)
      try ctx.finish(maxPositional: 3)
      if scale < 0 { throw ShellError("scale < 0", at: ctx.rangeOf(1, "scale")) }
      return try draw(&ctx, size) { loc + scale * $0.normal() }
    }
    t["random.randint", FunctionDoc("np.random.randint(low, high=None, size=None, dtype=int64)", "random integers in [low, high) ([0, low) without high)", "np.random.randint(0, 10, size=5)")] = { ctx in
      var low = try ctx.integer(0, "low", default: 0)
      var high: Int
      if let h = try ctx.present(1, "high") {
        high = try ctx.int(NumpyOps.pythonIndex(h), "high", at: ctx.rangeOf(1, "high"))
      } else {
        high = low
        low = 0
      }
      let size = try ctx.size(2)
      _ = try ctx.dtype(3)
      try ctx.finish(maxPositional: 4)
      if low >= high { throw ShellError("low >= high", at: ctx.range) }
      guard let size else { return .int(ctx.interpreter.state.random.integer(low, high)) }
      let n = try Allocation.check(size, .int64, at: ctx.range)
      var values = [Int64](repeating: 0, count: n)
      for k in 0..<n { values[k] = Int64(ctx.interpreter.state.random.integer(low, high)) }
      return .array(NDArray(shape: size, storage: .int64(values)))
    }
    t["random.permutation", FunctionDoc("np.random.permutation(x)", "a shuffled copy of x (an int n: of range(n))", "np.random.permutation(10)")] = { ctx in
      let v = try ctx.required(0, "x")
      try ctx.finish(maxPositional: 1)
      let a: NDArray
      if case .int(let n) = NumpyOps.pythonIndex(v) {
        try Allocation.check([Swift.max(n, 0)], .int64, at: ctx.rangeOf(0))
        a = NDArray(shape: [n], storage: .int64((0..<Int64(Swift.max(n, 0))).map { $0 }))
      } else {
        a = try NumpyOps.toArray(v, at: ctx.rangeOf(0))
        guard a.rank >= 1 else { throw ShellError("x must be an integer or at least 1-dimensional", at: ctx.rangeOf(0)) }
      }
      let order = shuffled(a.shape.first ?? 0, &ctx.interpreter.state.random)
      return .array(try Indexing.get(a, [.array(NDArray(shape: [order.count], storage: .int64(order.map { Int64($0) })))], at: ctx.range))
    }
    t["random.choice", FunctionDoc("np.random.choice(a, size=None, replace=True, p=None)", "random samples from a (an int n: from range(n))", "np.random.choice(100, 5, replace=False)")] = { ctx in
      let v = try ctx.required(0, "a")
      let size = try ctx.size(1)
      let replace = try ctx.flag(2, "replace", default: true)
      let p = try ctx.present(3, "p").map { v throws(ShellError) in try NumpyOps.toArray(v, at: ctx.rangeOf(3, "p")).doubleValues }
      try ctx.finish(maxPositional: 4)
      let population: NDArray
      if case .int(let n) = NumpyOps.pythonIndex(v) {
        if n <= 0 { throw ShellError("a must be a positive integer unless no samples are taken", at: ctx.rangeOf(0)) }
        try Allocation.check([n], .int64, at: ctx.rangeOf(0))
        population = NDArray(shape: [n], storage: .int64((0..<Int64(n)).map { $0 }))
      } else {
        population = try NumpyOps.toArray(v, at: ctx.rangeOf(0))
        guard population.rank == 1 else { throw ShellError("a must be 1-dimensional or an integer", at: ctx.rangeOf(0)) }
      }
      let n = population.count
      let m = try size.map { s throws(ShellError) in try Allocation.check(s, population.dtype, at: ctx.range) } ?? 1
      if let p, p.count != n { throw ShellError("'a' and 'p' must have same size", at: ctx.rangeOf(3, "p")) }
      var picks: [Int] = []
      if !replace {
        if m > n { throw ShellError("Cannot take a larger sample than population when 'replace=False'", at: ctx.range) }
        if p != nil { throw ShellError("ks's choice with replace=False does not take p", at: ctx.rangeOf(3, "p")) }
        picks = Array(shuffled(n, &ctx.interpreter.state.random).prefix(m))
      } else if let p {
        var cumulative: [Double] = []
        var acc = 0.0
        for x in p { acc += x; cumulative.append(acc) }
        for _ in 0..<m {
          let u = ctx.interpreter.state.random.uniform() * acc
          picks.append(Swift.min(cumulative.firstIndex { u < $0 } ?? (n - 1), n - 1))
        }
      } else {
        for _ in 0..<m { picks.append(ctx.interpreter.state.random.integer(0, n)) }
      }
      let r = population.gathered(picks, shape: size ?? [])
      return size == nil ? (r.pythonValue(at: 0)) : .array(r)
    }
    t["random.shuffle", FunctionDoc("np.random.shuffle(x)", "shuffle an array along its first axis, in place", "np.random.shuffle(idx)")] = { ctx in
      throw ShellError("np.random.shuffle works in place, which ks arrays do not; use x = np.random.permutation(x)", at: ctx.range)
    }
    return t
  }

  /// A uniformly random permutation of 0..<n (Fisher–Yates).
  static func shuffled(_ n: Int, _ random: inout RandomState) -> [Int] {
    var order = Array(0..<n)
    if n < 2 { return order }
    for i in stride(from: n - 1, to: 0, by: -1) {
      order.swapAt(i, random.integer(0, i + 1))
    }
    return order
  }
}
