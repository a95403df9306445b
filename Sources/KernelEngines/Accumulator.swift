import FormulaLanguage

/// The per-row accumulator of one reduction, with KeOps' exact update rules, tie rules and sum
/// schemes (keops-semantics.md sections 3.3 and 4.3), in emulated precisions.
struct Accumulator {
  let kind: ReductionKind
  let d: Int  // formula dimension (for SumShiftExp: 1 + dim(g))
  let scheme: SumScheme
  let t: Precision  // data / compute type (tmp of block_sum and kahan)
  let a: Precision  // accumulator type
  let period: Int
  /// False in KeOps' ranges mode (`CpuReduc_ranges`): block_sum then never flushes `tmp`
  /// periodically, all terms go into `tmp` (data dtype) and reach `acc` once, at `finish`
  /// (keops-semantics.md section 4.3, discrepancy #13).
  let periodicFlush: Bool
  var acc: [Double]
  var tmp: [Double]
  var count = 0

  init(
    kind: ReductionKind, formulaDim: Int, scheme: SumScheme, compute: Precision, accumulate: Precision,
    reducedRows: Int, periodicFlush: Bool = true
  ) {
    self.kind = kind
    self.periodicFlush = periodicFlush
    self.d = formulaDim
    self.t = compute
    self.a = kind.isSumType ? accumulate : compute
    self.scheme = kind.isSumType ? scheme : .directSum
    // KeOps: period_accumulate = ny<10 ? 100 : sqrt(ny), flushed when (j+1) % period == 0.
    self.period = reducedRows < 10 ? 100 : max(1, Int(Double(reducedRows).squareRoot()))
    acc = []
    tmp = []
    reset()
  }

  mutating func reset() {
    count = 0
    switch kind {
    case .sum: acc = [Double](repeating: 0, count: d)
    case .max: acc = [Double](repeating: -.infinity, count: d)
    case .min: acc = [Double](repeating: .infinity, count: d)
    case .argMax, .maxArgMax: acc = [Double](repeating: -.infinity, count: d) + [Double](repeating: 0, count: d)
    case .argMin, .minArgMin: acc = [Double](repeating: .infinity, count: d) + [Double](repeating: 0, count: d)
    case .kMin(let k), .argKMin(let k), .kMinArgKMin(let k):
      // KeOps' layout: rank r, component c -> value at r*2d + c, index at r*2d + d + c.
      acc = []
      for _ in 0..<k { acc += [Double](repeating: .infinity, count: d) + [Double](repeating: 0, count: d) }
    case .maxSumShiftExpWeight:
      acc = [-.infinity] + [Double](repeating: 0, count: d - 1)
    }
    switch (scheme, kind) {
    case (.blockSum, .maxSumShiftExpWeight): tmp = [-.infinity] + [Double](repeating: 0, count: d - 1)
    case (.kahanScheme, .maxSumShiftExpWeight): tmp = [Double](repeating: 0, count: d - 1)
    case (.blockSum, _), (.kahanScheme, _): tmp = [Double](repeating: 0, count: d)
    default: tmp = []
    }
  }

  /// Folds in the formula value `x[0..<d]` of reduced index `j`.
  @inline(__always) mutating func add(_ x: UnsafePointer<Double>, index j: Int) {
    switch kind {
    case .sum:
      switch scheme {
      case .directSum:
        for k in 0..<d { acc[k] = a.round(acc[k] + x[k]) }
      case .blockSum:
        for k in 0..<d { tmp[k] = t.round(tmp[k] + x[k]) }
      case .kahanScheme:
        for k in 0..<d {
          let y = a.round(x[k] - tmp[k])
          let s = a.round(acc[k] + y)
          tmp[k] = t.round(a.round(a.round(s - acc[k]) - y))
          acc[k] = s
        }
      }
    case .maxSumShiftExpWeight:
      switch scheme {
      case .directSum: Self.mergeShiftExp(&acc, x, a)
      case .blockSum: Self.mergeShiftExp(&tmp, x, t)
      case .kahanScheme: kahanShiftExp(x)
      }
    case .max:
      for k in 0..<d where x[k] > acc[k] { acc[k] = x[k] }
    case .min:
      for k in 0..<d where x[k] < acc[k] { acc[k] = x[k] }
    case .argMax, .maxArgMax:
      for k in 0..<d where x[k] > acc[k] { acc[k] = x[k]; acc[d + k] = Double(j) }
    case .argMin, .minArgMin:
      for k in 0..<d where x[k] < acc[k] { acc[k] = x[k]; acc[d + k] = Double(j) }
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      // Insertion from the last rank upward while strictly smaller: stable, lowest index first.
      for c in 0..<d {
        let v = x[c]
        var l = c + (kk - 1) * 2 * d
        while l >= c && v < acc[l] {
          let shiftedValue = acc[l], shiftedIndex = acc[l + d]
          acc[l] = v
          acc[l + d] = Double(j)
          if l < c + 2 * d * (kk - 1) {
            acc[l + 2 * d] = shiftedValue
            acc[l + 3 * d] = shiftedIndex
          }
          l -= 2 * d
        }
      }
    }
    count += 1
    if scheme == .blockSum && periodicFlush && count % period == 0 { flush() }
  }

  /// block_sum: folds the temporary accumulator into the main one and resets it.
  mutating func flush() {
    if kind == .maxSumShiftExpWeight {
      tmp.withUnsafeBufferPointer { Self.mergeShiftExp(&acc, $0.baseAddress!, a) }
      tmp = [-.infinity] + [Double](repeating: 0, count: d - 1)
    } else {
      for k in 0..<d { acc[k] = a.round(acc[k] + tmp[k]); tmp[k] = 0 }
    }
  }

  /// KeOps' (m, s) merge: if m > m': s += s' e^(m'-m); else s = s' + e^(m-m') s, m = m'.
  @inline(__always) static func mergeShiftExp(_ acc: inout [Double], _ x: UnsafePointer<Double>, _ p: Precision) {
    let n = acc.count
    if acc[0] > x[0] {
      let e = p.round(_exp(x[0] - acc[0]))
      for k in 1..<n { acc[k] = p.round(acc[k] + p.round(x[k] * e)) }
    } else {
      let e = p.round(_exp(acc[0] - x[0]))
      for k in 1..<n { acc[k] = p.round(x[k] + p.round(e * acc[k])) }
      acc[0] = x[0]
    }
  }

  @inline(__always) mutating func kahanShiftExp(_ x: UnsafePointer<Double>) {
    let n = acc.count
    if acc[0] > x[0] {
      let e = a.round(_exp(x[0] - acc[0]))
      for k in 1..<n {
        let y = a.round(a.round(x[k] * e) - tmp[k - 1])
        let b = a.round(acc[k] + y)
        tmp[k - 1] = t.round(a.round(a.round(b - acc[k]) - y))
        acc[k] = b
      }
    } else {
      let e = a.round(_exp(acc[0] - x[0]))
      for k in 1..<n {
        let u = a.round(e * acc[k])
        let y = a.round(x[k] - a.round(e * tmp[k - 1]))
        let b = a.round(u + y)
        tmp[k - 1] = t.round(a.round(a.round(b - u) - y))
        acc[k] = b
      }
      acc[0] = x[0]
    }
  }

  /// Writes the raw output row (KeOps' FinalizeOutput), rounded to the data type.
  /// `finalOperation: false` skips the sum scheme's final step, as KeOps does for rows that no
  /// block of `ranges` covers (InitializeReduction then FinalizeOutput).
  mutating func finish(into out: UnsafeMutablePointer<Double>, data: Precision, finalOperation: Bool = true) {
    if scheme == .blockSum && finalOperation { flush() }
    switch kind {
    case .sum, .max, .min, .maxArgMax, .minArgMin, .maxSumShiftExpWeight, .kMinArgKMin:
      for k in 0..<acc.count { out[k] = data.round(acc[k]) }
    case .argMax, .argMin:
      for k in 0..<d { out[k] = data.round(acc[d + k]) }
    case .kMin(let kk):
      for r in 0..<kk { for c in 0..<d { out[r * d + c] = data.round(acc[r * 2 * d + c]) } }
    case .argKMin(let kk):
      for r in 0..<kk { for c in 0..<d { out[r * d + c] = data.round(acc[r * 2 * d + d + c]) } }
    }
  }
}

@inline(__always) func _exp(_ x: Double) -> Double { _stdlib_exp(x) }
