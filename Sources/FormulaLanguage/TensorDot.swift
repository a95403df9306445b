// KeOps' TensorDot(a, b, dimsfa, dimsfb, contfa, contfb[, permute]): numpy's tensordot of a and b
// seen as row-major tensors of shapes dimsfa and dimsfb, contracting axis contfa[k] of a with axis
// contfb[k] of b; the kept axes (a's, then b's, in order) go to the output positions `permute`
// (kept axis k at position permute[k]; identity by default). Kron is a TensorDot without
// contraction whose axes interleave.
//
// The node's integer parameters are the lists flattened: [n, dimsfa..., m, dimsfb..., c, contfa...,
// contfb..., p, permute...].

/// The decoded and checked lists of a TensorDot node, with the index arithmetic every engine uses.
public struct TensorDotLayout: Sendable, Equatable {
  public var dimsA: [Int]
  public var dimsB: [Int]
  public var contA: [Int]
  public var contB: [Int]
  public var permute: [Int]

  public init(dimsA: [Int], dimsB: [Int], contA: [Int], contB: [Int], permute: [Int]?) {
    self.dimsA = dimsA
    self.dimsB = dimsB
    self.contA = contA
    self.contB = contB
    self.permute = permute ?? Array(0..<(dimsA.count + dimsB.count - 2 * contA.count))
  }

  /// The flat parameter list of a node.
  public var params: [Int] {
    [dimsA.count] + dimsA + [dimsB.count] + dimsB + [contA.count] + contA + contB + [permute.count] + permute
  }

  /// Decodes flat parameters (nil when they are malformed).
  public init?(params p: [Int]) {
    var k = 0
    func list(_ n: Int? = nil) -> [Int]? {
      let count: Int
      if let n { count = n } else {
        guard k < p.count else { return nil }
        count = p[k]
        k += 1
      }
      guard count >= 0, k + count <= p.count else { return nil }
      defer { k += count }
      return Array(p[k..<(k + count)])
    }
    guard let a = list(), let b = list(), let ca = list(), let cb = list(ca.count), let perm = list(), k == p.count else {
      return nil
    }
    self.init(dimsA: a, dimsB: b, contA: ca, contB: cb, permute: perm)
  }

  public var keepA: [Int] { (0..<dimsA.count).filter { !contA.contains($0) } }
  public var keepB: [Int] { (0..<dimsB.count).filter { !contB.contains($0) } }
  /// Sizes of the kept axes, a's then b's, before the permutation.
  public var keepDims: [Int] { keepA.map { dimsA[$0] } + keepB.map { dimsB[$0] } }
  /// The output shape: kept axis k at position permute[k].
  public var outDims: [Int] {
    var out = Array(repeating: 0, count: permute.count)
    for (k, d) in keepDims.enumerated() { out[permute[k]] = d }
    return out
  }
  public var contDims: [Int] { contA.map { dimsA[$0] } }

  /// Checks the lists against the argument dimensions; returns the output dimension.
  public func check(_ dimA: Int, _ dimB: Int) throws(DimensionError) -> Int {
    func product(_ xs: [Int], _ what: String) throws(DimensionError) -> Int {
      var p = 1
      for x in xs {
        guard x >= 1 else { throw DimensionError("\(what) must be at least 1, got \(x)") }
        let (q, o) = p.multipliedReportingOverflow(by: x)
        guard !o, q <= 1 << 40 else { throw DimensionError("the \(what) are too large") }
        p = q
      }
      return p
    }
    guard try product(dimsA, "dimensions of dimsfa") == dimA else {
      throw DimensionError("dimsfa \(dimsA) describes \(dimsA.reduce(1, *)) values, but the first argument has dimension \(dimA)")
    }
    guard try product(dimsB, "dimensions of dimsfb") == dimB else {
      throw DimensionError("dimsfb \(dimsB) describes \(dimsB.reduce(1, *)) values, but the second argument has dimension \(dimB)")
    }
    guard contA.count == contB.count else {
      throw DimensionError("contfa and contfb must have the same length, not \(contA.count) and \(contB.count)")
    }
    for (list, dims, name) in [(contA, dimsA, "contfa"), (contB, dimsB, "contfb")] {
      for c in list where c < 0 || c >= dims.count {
        throw DimensionError("\(name) names axis \(c), but the tensor has \(dims.count) axes")
      }
      guard Set(list).count == list.count else { throw DimensionError("\(name) names an axis twice: \(list)") }
    }
    for (x, y) in zip(contA, contB) where dimsA[x] != dimsB[y] {
      throw DimensionError("axis \(x) of the first tensor has size \(dimsA[x]) but axis \(y) of the second has size \(dimsB[y])")
    }
    let n = keepDims.count
    guard permute.count == n, Set(permute) == Set(0..<n) else {
      throw DimensionError("permute must be a permutation of 0..<\(n) (one entry per kept axis), not \(permute)")
    }
    return try product(keepDims, "kept dimensions")
  }

  /// Row-major strides of a shape.
  static func strides(_ dims: [Int]) -> [Int] {
    var s = Array(repeating: 1, count: dims.count)
    if dims.count > 1 { for k in stride(from: dims.count - 2, through: 0, by: -1) { s[k] = s[k + 1] * dims[k + 1] } }
    return s
  }

  /// For output index o: Σ_i ((o / outStride_i) % outDims_i) * coefficient_i gives the offsets in
  /// a and b of the kept axes; for contraction index c the same with the contraction axes.
  public struct Axis: Sendable, Equatable {
    public var stride: Int
    public var size: Int
    public var coefficientA: Int
    public var coefficientB: Int
  }

  public var outputAxes: [Axis] {
    let sa = Self.strides(dimsA), sb = Self.strides(dimsB)
    let ka = keepA, kb = keepB
    let outStrides = Self.strides(outDims)
    return outDims.indices.map { i in
      let k = permute.firstIndex(of: i)!
      let ca = k < ka.count ? sa[ka[k]] : 0
      let cb = k < ka.count ? 0 : sb[kb[k - ka.count]]
      return Axis(stride: outStrides[i], size: outDims[i], coefficientA: ca, coefficientB: cb)
    }
  }

  public var contractionAxes: [Axis] {
    let sa = Self.strides(dimsA), sb = Self.strides(dimsB)
    let cs = Self.strides(contDims)
    return contA.indices.map { m in Axis(stride: cs[m], size: contDims[m], coefficientA: sa[contA[m]], coefficientB: sb[contB[m]]) }
  }

  /// The a and b offsets of flat index `index` over `axes`.
  public static func offsets(_ index: Int, _ axes: [Axis]) -> (Int, Int) {
    var a = 0, b = 0
    for ax in axes {
      let v = (index / ax.stride) % ax.size
      a += v * ax.coefficientA
      b += v * ax.coefficientB
    }
    return (a, b)
  }

  /// The same as C expressions of the variable `name` (constants only, no user text).
  public static func cOffsets(_ name: String, _ axes: [Axis]) -> (String, String) {
    let total = axes.reduce(1) { $0 * $1.size }
    func term(_ ax: Axis, _ coefficient: Int) -> String? {
      guard coefficient != 0, ax.size > 1 else { return nil }
      var v = ax.stride == 1 ? name : "(\(name) / \(ax.stride))"
      if ax.stride * ax.size != total { v = "(\(v) % \(ax.size))" }
      return coefficient == 1 ? v : "\(v) * \(coefficient)"
    }
    let a = axes.compactMap { term($0, $0.coefficientA) }
    let b = axes.compactMap { term($0, $0.coefficientB) }
    return (a.isEmpty ? "0" : a.joined(separator: " + "), b.isEmpty ? "0" : b.joined(separator: " + "))
  }

  /// The layouts of the gradients: with e the gradient of the output, the gradient of a is
  /// TensorDot(e, b, ...) and that of b is TensorDot(e, a, ...), each permuted into its tensor's axis order.
  func gradientLayouts() -> (a: TensorDotLayout, b: TensorDotLayout) {
    let ka = keepA, kb = keepB, out = outDims
    // The gradient of a contracts e's axes holding b's kept axes with those axes of b (and the
    // other way round for b).
    func layout(
      keptHere: [Int], otherKept: [Int], otherOffset: Int, dimsOther: [Int], contHere: [Int], contOther: [Int]
    ) -> TensorDotLayout {
      // e's axes holding the other tensor's kept axes, paired with those axes.
      let contE = otherKept.indices.map { permute[otherOffset + $0] }
      // The remaining axes of e (ascending) hold this tensor's kept axes.
      var target: [Int] = []
      for pos in out.indices where !contE.contains(pos) {
        let k = permute.firstIndex(of: pos)!
        target.append(keptHere[k - (otherOffset == 0 ? otherKept.count : 0)])
      }
      // The other tensor's contracted axes (ascending) are this tensor's contracted axes.
      for t in dimsOther.indices where contOther.contains(t) {
        target.append(contHere[contOther.firstIndex(of: t)!])
      }
      return TensorDotLayout(dimsA: out, dimsB: dimsOther, contA: contE, contB: otherKept, permute: target)
    }
    let ga = layout(keptHere: ka, otherKept: kb, otherOffset: ka.count, dimsOther: dimsB, contHere: contA, contOther: contB)
    let gb = layout(keptHere: kb, otherKept: ka, otherOffset: 0, dimsOther: dimsA, contHere: contB, contOther: contA)
    return (ga, gb)
  }
}

let tensorDotEvaluation: Evaluation = .block { inputs, params, count, out, outDim in
  let layout = TensorDotLayout(params: params)!
  let outAxes = layout.outputAxes, contAxes = layout.contractionAxes
  let contCount = contAxes.reduce(1) { $0 * $1.size }
  let outOffsets = (0..<outDim).map { TensorDotLayout.offsets($0, outAxes) }
  let contOffsets = (0..<contCount).map { TensorDotLayout.offsets($0, contAxes) }
  let a = inputs[0], b = inputs[1]
  for p in 0..<count {
    let o = out + p * outDim
    for r in 0..<outDim {
      let (ao, bo) = outOffsets[r]
      var s = 0.0
      for (ac, bc) in contOffsets { s += a[p, ao + ac] * b[p, bo + bc] }
      o[r] = s
    }
  }
}

let cTensorDot: CEmitter = { c in
  let layout = TensorDotLayout(params: c.params)!
  let (ao, bo) = TensorDotLayout.cOffsets("r", layout.outputAxes)
  let contAxes = layout.contractionAxes
  let (ac, bc) = TensorDotLayout.cOffsets("c", contAxes)
  let k = contAxes.reduce(1) { $0 * $1.size }
  return "for (int r = 0; r < \(c.outDim); r++) { int ao = \(ao), bo = \(bo); \(c.work) s = 0; "
    + "for (int c = 0; c < \(k); c++) { int ac = \(ac), bc = \(bc); s += \(c.arg(0, "ao + ac")) * \(c.arg(1, "bo + bc")); (void)ac; (void)bc; } "
    + "\(c.out("r")) = s; (void)ao; (void)bo; }"
}

let tensorDotDerivative: Differentiability = .rule { d in
  let layout = TensorDotLayout(params: d.params)!
  let (ga, gb) = layout.gradientLayouts()
  return [
    try Term.product("TensorDot", [d.gradient, d.arg(1)], params: ga.params),
    try Term.product("TensorDot", [d.gradient, d.arg(0)], params: gb.params),
  ]
}
