import ArrayIO
import Foundation
import Testing

@testable import KernelOperations
import _KSTestSupport

/// Small random data and brute-force versions of every reduction (keops-semantics.md 3, 4).
struct BruteForce {
  let m = 7, n = 11
  let x: [[Double]]  // (M, 2), Vi
  let y: [[Double]]  // (N, 2), Vj
  let aliases = ["x = Vi(2)", "y = Vj(2)"]

  init(seed: UInt64 = 2024) {
    var r = SplitMix64(seed: seed)
    x = r.matrix(7, 2)
    y = r.matrix(11, 2)
  }

  var arguments: [NDArray] { [array(x), array(y)] }

  func rows(axis: Int) -> Int { axis == 1 ? m : n }
  func reduced(axis: Int) -> Int { axis == 1 ? n : m }
  func pair(_ o: Int, _ r: Int, axis: Int) -> (Int, Int) { axis == 1 ? (o, r) : (r, o) }

  /// "x-y" (dimension 2).
  func vector(_ i: Int, _ j: Int) -> [Double] { [x[i][0] - y[j][0], x[i][1] - y[j][1]] }
  /// "SqDist(x,y)", summed in the engine's order.
  func sqDist(_ i: Int, _ j: Int) -> Double {
    let t0 = x[i][0] - y[j][0], t1 = x[i][1] - y[j][1]
    var s = t0 * t0
    s += t1 * t1
    return s
  }
  /// "Exp(x*y)" (dimension 2), a positive weight depending on both indices.
  func weight(_ i: Int, _ j: Int) -> [Double] { [Foundation.exp(x[i][0] * y[j][0]), Foundation.exp(x[i][1] * y[j][1])] }

  /// "x-y" or "SqDist(x,y)" as a function of (i, j).
  func values(vector: Bool) -> (Int, Int) -> [Double] {
    if vector { return { self.vector($0, $1) } }
    return { [self.sqDist($0, $1)] }
  }

  /// Values of a d-dimensional formula for output row o, component c, over the reduced index.
  func column(_ f: (Int, Int) -> [Double], _ o: Int, _ c: Int, axis: Int) -> [Double] {
    (0..<reduced(axis: axis)).map { r in
      let (i, j) = pair(o, r, axis: axis)
      return f(i, j)[c]
    }
  }

  /// The (value, index) pairs sorted by value, ties by index (KeOps' stable K-min).
  func sortedWithIndex(_ values: [Double]) -> [(Double, Int)] {
    values.enumerated().map { ($0.element, $0.offset) }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
  }
}

@Suite struct GenredReductionTests {
  let data = BruteForce()


  @Test(arguments: [0, 1])
  func sum(axis: Int) throws {
    let g = try makeGenred("(x-y)*Exp(-SqDist(x,y))", data.aliases) { $0.axis = axis }
    let out = try callSingle(g, data.arguments)
    let rows = data.rows(axis: axis)
    #expect(out.shape == [rows, 2])
    #expect(out.dtype == .float64)
    var expected: [Double] = []
    for o in 0..<rows {
      for c in 0..<2 {
        var s = 0.0
        for r in 0..<data.reduced(axis: axis) {
          let (i, j) = data.pair(o, r, axis: axis)
          s += data.vector(i, j)[c] * Foundation.exp(-data.sqDist(i, j))
        }
        expected.append(s)
      }
    }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test(arguments: [0, 1])
  func sumOfAScalarFormula(axis: Int) throws {
    let g = try makeGenred("SqDist(x,y)", data.aliases) { $0.axis = axis }
    let out = try callSingle(g, data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 1])
    let expected = (0..<data.rows(axis: axis)).map { o in data.column(data.values(vector: false), o, 0, axis: axis).reduce(0, +) }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test(arguments: [0, 1], [true, false])
  func maxAndMin(axis: Int, vector: Bool) throws {
    let formula = vector ? "x-y" : "SqDist(x,y)"
    let d = vector ? 2 : 1
    let f = data.values(vector: vector)
    let rows = data.rows(axis: axis)
    for op in ["Max", "Min"] {
      let out = try callSingle(try makeGenred(formula, data.aliases) { $0.axis = axis; $0.reductionOp = op }, data.arguments)
      #expect(out.shape == [rows, d])
      #expect(out.dtype == .float64)
      var expected: [Double] = []
      for o in 0..<rows {
        for c in 0..<d {
          let col = data.column(f, o, c, axis: axis)
          expected.append(op == "Max" ? col.max()! : col.min()!)
        }
      }
      #expect(out.toDoubles() == expected, "\(op) axis=\(axis)")
    }
  }

  @Test(arguments: [0, 1], [true, false])
  func argMaxAndArgMin(axis: Int, vector: Bool) throws {
    let formula = vector ? "x-y" : "SqDist(x,y)"
    let d = vector ? 2 : 1
    let f = data.values(vector: vector)
    let rows = data.rows(axis: axis)
    for op in ["ArgMax", "ArgMin"] {
      let out = try callSingle(try makeGenred(formula, data.aliases) { $0.axis = axis; $0.reductionOp = op }, data.arguments)
      #expect(out.shape == [rows, d])
      #expect(out.dtype == .int64)
      var expected: [Double] = []
      for o in 0..<rows {
        for c in 0..<d {
          let col = data.column(f, o, c, axis: axis)
          let best = op == "ArgMax" ? col.max()! : col.min()!
          expected.append(Double(col.firstIndex(of: best)!))
        }
      }
      #expect(out.toDoubles() == expected, "\(op) axis=\(axis)")
    }
  }

  @Test(arguments: [0, 1], [true, false])
  func valueAndIndexPairs(axis: Int, vector: Bool) throws {
    let formula = vector ? "x-y" : "SqDist(x,y)"
    let d = vector ? 2 : 1
    let f = data.values(vector: vector)
    let rows = data.rows(axis: axis)
    for op in ["Max_ArgMax", "Min_ArgMin"] {
      let (values, indices) = try callPair(
        try makeGenred(formula, data.aliases) { $0.axis = axis; $0.reductionOp = op }, data.arguments)
      #expect(values.shape == [rows, d])
      #expect(indices.shape == [rows, d])
      #expect(values.dtype == .float64)
      #expect(indices.dtype == .int64)
      var expectedValues: [Double] = [], expectedIndices: [Double] = []
      for o in 0..<rows {
        for c in 0..<d {
          let col = data.column(f, o, c, axis: axis)
          let best = op == "Max_ArgMax" ? col.max()! : col.min()!
          expectedValues.append(best)
          expectedIndices.append(Double(col.firstIndex(of: best)!))
        }
      }
      #expect(values.toDoubles() == expectedValues, "\(op) axis=\(axis)")
      #expect(indices.toDoubles() == expectedIndices, "\(op) axis=\(axis)")
    }
  }

  /// KMin family: out[o][r][c], squeezed to (rows, K) when d = 1.
  @Test(arguments: [0, 1], [true, false])
  func kMinFamily(axis: Int, vector: Bool) throws {
    let k = 3
    let formula = vector ? "x-y" : "SqDist(x,y)"
    let d = vector ? 2 : 1
    let f = data.values(vector: vector)
    let rows = data.rows(axis: axis)
    let shape = vector ? [rows, k, d] : [rows, k]
    var expectedValues = [Double](repeating: 0, count: rows * k * d)
    var expectedIndices = expectedValues
    for o in 0..<rows {
      for c in 0..<d {
        let best = data.sortedWithIndex(data.column(f, o, c, axis: axis)).prefix(k)
        for (rank, (v, idx)) in best.enumerated() {
          expectedValues[(o * k + rank) * d + c] = v
          expectedIndices[(o * k + rank) * d + c] = Double(idx)
        }
      }
    }
    let kmin = try callSingle(
      try makeGenred(formula, data.aliases) { $0.axis = axis; $0.reductionOp = "KMin"; $0.optArg = k }, data.arguments)
    #expect(kmin.shape == shape)
    #expect(kmin.dtype == .float64)
    #expect(kmin.toDoubles() == expectedValues)

    let argk = try callSingle(
      try makeGenred(formula, data.aliases) { $0.axis = axis; $0.reductionOp = "ArgKMin"; $0.optArg = k }, data.arguments)
    #expect(argk.shape == shape)
    #expect(argk.dtype == .int64)
    #expect(argk.toDoubles() == expectedIndices)

    let (values, indices) = try callPair(
      try makeGenred(formula, data.aliases) { $0.axis = axis; $0.reductionOp = "KMin_ArgKMin"; $0.optArg = k },
      data.arguments)
    #expect(values.shape == shape)
    #expect(indices.shape == shape)
    #expect(values.dtype == .float64)
    #expect(indices.dtype == .int64)
    #expect(values.toDoubles() == expectedValues)
    #expect(indices.toDoubles() == expectedIndices)
  }

  @Test func kMinWithKEqualToTheNumberOfReducedRows() throws {
    let g = try makeGenred("SqDist(x,y)", data.aliases) { $0.axis = 1; $0.reductionOp = "ArgKMin"; $0.optArg = data.n }
    let out = try callSingle(g, data.arguments)
    #expect(out.shape == [data.m, data.n])
    for i in 0..<data.m {
      let expected = data.sortedWithIndex(data.column(data.values(vector: false), i, 0, axis: 1)).map { Double($0.1) }
      #expect(Array(out.toDoubles()[(i * data.n)..<((i + 1) * data.n)]) == expected)
    }
  }

  /// m_o = max f, s_o = sum exp(f - m_o) w (w = 1 without a weight).
  private func shiftExp(axis: Int, weighted: Bool) -> [(m: Double, s: [Double])] {
    (0..<data.rows(axis: axis)).map { o in
      let f = data.column({ [-data.sqDist($0, $1)] }, o, 0, axis: axis)
      let m = f.max()!
      let dims = weighted ? 2 : 1
      let s = (0..<dims).map { c -> Double in
        var acc = 0.0
        for r in 0..<data.reduced(axis: axis) {
          let (i, j) = data.pair(o, r, axis: axis)
          acc += Foundation.exp(f[r] - m) * (weighted ? data.weight(i, j)[c] : 1)
        }
        return acc
      }
      return (m, s)
    }
  }

  @Test(arguments: [0, 1])
  func logSumExp(axis: Int) throws {
    let out = try callSingle(
      try makeGenred("-SqDist(x,y)", data.aliases) { $0.axis = axis; $0.reductionOp = "LogSumExp" }, data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 1])
    #expect(out.dtype == .float64)
    let expected = shiftExp(axis: axis, weighted: false).map { $0.m + Foundation.log($0.s[0]) }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13), "\(out.toDoubles()) vs \(expected)")
    // And directly: log(sum exp(f)).
    let direct = (0..<data.rows(axis: axis)).map { o in
      Foundation.log(data.column({ [-data.sqDist($0, $1)] }, o, 0, axis: axis).map { Foundation.exp($0) }.reduce(0, +))
    }
    #expect(allClose(out.toDoubles(), direct, tolerance: 1e-12))
  }

  @Test(arguments: [0, 1])
  func logSumExpWithAWeight(axis: Int) throws {
    let out = try callSingle(
      try makeGenred("-SqDist(x,y)", data.aliases) {
        $0.axis = axis; $0.reductionOp = "LogSumExp"; $0.formula2 = "Exp(x*y)"
      }, data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 2])
    let expected = shiftExp(axis: axis, weighted: true).flatMap { r in r.s.map { r.m + Foundation.log($0) } }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test(arguments: [0, 1])
  func logSumExpWeightReturnsTheRawPair(axis: Int) throws {
    // KeOps 2.3 (verified): no post-processing for LogSumExpWeight.
    let out = try callSingle(
      try makeGenred("-SqDist(x,y)", data.aliases) {
        $0.axis = axis; $0.reductionOp = "LogSumExpWeight"; $0.formula2 = "Exp(x*y)"
      }, data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 3])
    let expected = shiftExp(axis: axis, weighted: true).flatMap { [$0.m] + $0.s }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test(arguments: [0, 1], ["SumSoftMaxWeight", "SoftMax"])
  func softMax(axis: Int, op: String) throws {
    let out = try callSingle(
      try makeGenred("-SqDist(x,y)", data.aliases) { $0.axis = axis; $0.reductionOp = op; $0.formula2 = "Exp(x*y)" },
      data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 2])
    var expected: [Double] = []
    for o in 0..<data.rows(axis: axis) {
      var num = [0.0, 0.0], den = 0.0
      for r in 0..<data.reduced(axis: axis) {
        let (i, j) = data.pair(o, r, axis: axis)
        let e = Foundation.exp(-data.sqDist(i, j))
        den += e
        for c in 0..<2 { num[c] += e * data.weight(i, j)[c] }
      }
      expected += num.map { $0 / den }
    }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test(arguments: [0, 1])
  func maxSumShiftExp(axis: Int) throws {
    let out = try callSingle(
      try makeGenred("-SqDist(x,y)", data.aliases) { $0.axis = axis; $0.reductionOp = "Max_SumShiftExp" }, data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 2])
    let expected = shiftExp(axis: axis, weighted: false).flatMap { [$0.m] + $0.s }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test(arguments: [0, 1])
  func maxSumShiftExpWeight(axis: Int) throws {
    let out = try callSingle(
      try makeGenred("-SqDist(x,y)", data.aliases) {
        $0.axis = axis; $0.reductionOp = "Max_SumShiftExpWeight"; $0.formula2 = "Exp(x*y)"
      }, data.arguments)
    #expect(out.shape == [data.rows(axis: axis), 3])
    let expected = shiftExp(axis: axis, weighted: true).flatMap { [$0.m] + $0.s }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
  }

  @Test func float32DataGivesFloat32ValuesAndInt64Indices() throws {
    let args = [array(data.x, .float32), array(data.y, .float32)]
    let sum = try callSingle(try makeGenred("SqDist(x,y)", data.aliases) { $0.axis = 1 }, args)
    #expect(sum.dtype == .float32)
    #expect(sum.shape == [data.m, 1])
    let (v, i) = try callPair(try makeGenred("x-y", data.aliases) { $0.axis = 1; $0.reductionOp = "Min_ArgMin" }, args)
    #expect(v.dtype == .float32)
    #expect(i.dtype == .int64)
    let k = try callSingle(try makeGenred("x-y", data.aliases) { $0.axis = 1; $0.reductionOp = "ArgKMin"; $0.optArg = 2 }, args)
    #expect(k.dtype == .int64)
    #expect(k.shape == [data.m, 2, 2])
    let lse = try callSingle(try makeGenred("-SqDist(x,y)", data.aliases) { $0.axis = 1; $0.reductionOp = "LogSumExp" }, args)
    #expect(lse.dtype == .float32)
    // The float32 values agree with float64 to single precision.
    let sum64 = try callSingle(try makeGenred("SqDist(x,y)", data.aliases) { $0.axis = 1 }, [
      array(data.x.map { $0.map { Double(Float($0)) } }), array(data.y.map { $0.map { Double(Float($0)) } }),
    ])
    #expect(allClose(sum.toDoubles(), sum64.toDoubles(), tolerance: 1e-6))
  }
}

@Suite struct GenredTieTests {
  // y takes equal values at several j; the formula does not depend on x.
  private let aliases = ["x = Vi(1)", "y = Vj(1)"]
  private let args = [array([[0], [0]]), array([[3], [1], [2], [1], [5], [1], [5]])]

  @Test func lowestIndexWinsOnTies() throws {
    func run(_ op: String) throws -> [Double] {
      try callSingle(try makeGenred("y", aliases) { $0.axis = 1; $0.reductionOp = op }, args).toDoubles()
    }
    #expect(try run("ArgMin") == [1, 1])
    #expect(try run("ArgMax") == [4, 4])
    let (v, i) = try callPair(try makeGenred("y", aliases) { $0.axis = 1; $0.reductionOp = "Max_ArgMax" }, args)
    #expect(v.toDoubles() == [5, 5])
    #expect(i.toDoubles() == [4, 4])
  }

  @Test func kMinIsStable() throws {
    let argk = try callSingle(
      try makeGenred("y", aliases) { $0.axis = 1; $0.reductionOp = "ArgKMin"; $0.optArg = 4 }, args)
    #expect(argk.shape == [2, 4])
    #expect(argk.toDoubles() == [1, 3, 5, 2, 1, 3, 5, 2])
    let (v, i) = try callPair(
      try makeGenred("y", aliases) { $0.axis = 1; $0.reductionOp = "KMin_ArgKMin"; $0.optArg = 3 }, args)
    #expect(v.toDoubles() == [1, 1, 1, 1, 1, 1])
    #expect(i.toDoubles() == [1, 3, 5, 1, 3, 5])
  }

  @Test func vectorTiesAreComponentwise() throws {
    let args = [array([[0, 0]]), array([[1, 2], [0, 2], [0, 1], [1, 1]])]
    let aliases = ["x = Vi(2)", "y = Vj(2)"]
    func run(_ op: String) throws -> [Double] {
      try callSingle(try makeGenred("y", aliases) { $0.axis = 1; $0.reductionOp = op }, args).toDoubles()
    }
    #expect(try run("ArgMin") == [1, 2])
    #expect(try run("ArgMax") == [0, 0])
    let k = try callSingle(try makeGenred("y", aliases) { $0.axis = 1; $0.reductionOp = "ArgKMin"; $0.optArg = 3 }, args)
    // rank-major: [rank0: c0, c1], [rank1: c0, c1], [rank2: c0, c1]
    #expect(k.toDoubles() == [1, 2, 2, 3, 0, 0])
  }
}

@Suite struct GenredCallTests {
  @Test func pykeopsInstallSelfTest() throws {
    // pykeops/numpy/test_install.py, default axis=0.
    let g = try makeGenred("SqNorm2(x - y)", ["x = Vi(3)", "y = Vj(3)"])
    #expect(g.options.axis == 0)
    let x = NDArray(shape: [3, 3], float64: (1...9).map(Double.init))
    let y = NDArray(shape: [2, 3], float64: (3...8).map(Double.init))
    let out = try callSingle(g, [x, y])
    #expect(out.shape == [2, 1])
    #expect(out.toDoubles() == [63, 90])
    let out32 = try callSingle(g, [x.converted(to: .float32), y.converted(to: .float32)])
    #expect(out32.dtype == .float32)
    #expect(out32.toDoubles() == [63, 90])
  }

  @Test func defaultsAreThoseOfPyKeOps() throws {
    let o = GenredOptions()
    #expect(o.reductionOp == "Sum")
    #expect(o.axis == 0)
    #expect(o.dtypeAcc == "auto")
    #expect(o.useDoubleAcc == false)
    #expect(o.sumScheme == "auto")
    #expect(o.optArg == nil)
    #expect(o.formula2 == nil)
  }

  @Test func heterogeneousVarAliases() throws {
    // pykeops/test/test_numpy.py::test_heterogeneous_var_aliases: 4 arguments, Var(3,1,1) from the formula.
    let g = try makeGenred(
      "Square(p-Var(3,1,1))*Exp(-SqNorm2(y-x))", ["p=Pm(0,1)", "x=Vi(1,3)", "y=Vj(2,3)"])
    #expect(g.argumentCount == 4)
    var r = SplitMix64(seed: 5)
    let x = r.matrix(4, 3), y = r.matrix(6, 3), w = r.matrix(6, 1)
    let p = 0.3
    let out = try callSingle(g, [NDArray(shape: [1], float64: [p]), array(x), array(y), array(w)])
    #expect(out.shape == [6, 1])
    var expected: [Double] = []
    for j in 0..<6 {
      var s = 0.0
      for i in 0..<4 {
        var d2 = 0.0
        for k in 0..<3 { d2 += (y[j][k] - x[i][k]) * (y[j][k] - x[i][k]) }
        s += (p - w[j][0]) * (p - w[j][0]) * Foundation.exp(-d2)
      }
      expected.append(s)
    }
    #expect(allClose(out.toDoubles(), expected, tolerance: 1e-13))
    // Three arrays are refused.
    let e = callError(g, [NDArray(shape: [1], float64: [p]), array(x), array(y)])
    #expect(e?.description == "this Genred takes 4 arguments ('p', 'x', 'y', argument 3 (Var(3,1,1))), got 3")
  }

  @Test func missingCategoryHasOneRow() throws {
    // No Vj argument: N = 1. axis=1 gives x itself; axis=0 sums over i into one row.
    let x = array([[1, 2], [3, 4], [5, 6]])
    let a1 = try callSingle(try makeGenred("x", ["x = Vi(2)"]) { $0.axis = 1 }, [x])
    #expect(a1.shape == [3, 2])
    #expect(a1.toDoubles() == [1, 2, 3, 4, 5, 6])
    let a0 = try callSingle(try makeGenred("x", ["x = Vi(2)"]) { $0.axis = 0 }, [x])
    #expect(a0.shape == [1, 2])
    #expect(a0.toDoubles() == [9, 12])
  }

  @Test func sizesComeFromTheFirstAliasOfEachCategory() throws {
    let g = try makeGenred("x*b", ["x = Vi(2)", "b = Vi(1)", "y = Vj(1)"]) { $0.axis = 1 }
    let out = try callSingle(g, [array([[1, 2], [3, 4]]), array([[10], [100]]), array([[0], [0], [0]])])
    #expect(out.toDoubles() == [30, 60, 900, 1200])
  }

  @Test func oneDimensionalArraysForScalarVariables() throws {
    let g = try makeGenred("x*y*p", ["x = Vi(1)", "y = Vj(1)", "p = Pm(1)"]) { $0.axis = 1 }
    let out = try callSingle(g, [
      NDArray(shape: [2], float64: [1, 2]), NDArray(shape: [3], float64: [1, 1, 1]), NDArray(shape: [], float64: [2]),
    ])
    #expect(out.shape == [2, 1])
    #expect(out.toDoubles() == [6, 12])
  }

  @Test func emptyReductions() throws {
    let x = array([[1], [2]]), y = NDArray(shape: [0, 1], float64: [])
    let sum = try callSingle(try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1 }, [x, y])
    #expect(sum.toDoubles() == [0, 0])
    let min = try callSingle(try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1; $0.reductionOp = "Min" }, [x, y])
    #expect(min.toDoubles() == [.infinity, .infinity])
    let none = try callSingle(
      try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 0 }, [x, y])
    #expect(none.shape == [0, 1])
  }

  @Test func logSumExpAndSoftMaxAreShiftedSoLargeValuesDoNotOverflow() throws {
    let aliases = ["x = Vi(1)", "y = Vj(1)"]
    let args = [array([[1000], [-1000]]), array([[1], [1], [1]])]
    let lse = try callSingle(try makeGenred("x*y", aliases) { $0.axis = 1; $0.reductionOp = "LogSumExp" }, args)
    #expect(allClose(lse.toDoubles(), [1000 + Foundation.log(3.0), -1000 + Foundation.log(3.0)], tolerance: 1e-15))
    let sm = try callSingle(
      try makeGenred("x*y", aliases) { $0.axis = 1; $0.reductionOp = "SumSoftMaxWeight"; $0.formula2 = "y*2" }, args)
    #expect(sm.toDoubles() == [2, 2])
  }

  @Test func argReductionsRefuseTooManyRowsInHalfPrecision() throws {
    let g = try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) { $0.axis = 1; $0.reductionOp = "ArgMin" }
    let x = NDArray(shape: [1, 1], doubles: [1], dtype: .float16)
    let y = NDArray(shape: [2049, 1], doubles: [Double](repeating: 1, count: 2049), dtype: .float16)
    #expect(callError(g, [x, y])?.description == "2049 rows are too many for an Arg-type reduction in float16; use float32 or float64")
  }

  @Test func formulaErrorsKeepTheirDiagnostic() {
    let e = definitionError("Norm3(x-y)", ["x = Vi(3)", "y = Vj(3)"]) { _ in }
    guard case .formula(let fe) = e else {
      Issue.record("expected a formula error, got \(String(describing: e))")
      return
    }
    #expect(fe.diagnostic.message == "unknown operation 'Norm3'; did you mean 'Norm2'?")
    #expect(e?.description == "unknown operation 'Norm3'; did you mean 'Norm2'?")
  }
}

/// Sum schemes and accumulator types on float32 data (keops-semantics.md 4.3): the ordering of the
/// errors against an exact sum, not hard-coded values.
@Suite struct GenredSumSchemeTests {
  static let count = 1_000_000
  static let values: [Float] = {
    var r = SplitMix64(seed: 99)
    return (0..<count).map { _ in Float(Double.random(in: 0..<1, using: &r)) }
  }()
  static let exact: Double = values.reduce(0.0) { $0 + Double($1) }

  private func total(_ configure: (inout GenredOptions) -> Void) throws -> Double {
    let g = try makeGenred("y", ["x = Vi(1)", "y = Vj(1)"]) {
      $0.axis = 1
      configure(&$0)
    }
    let out = try callSingle(g, [NDArray(shape: [1, 1], float32: [0]), NDArray(shape: [Self.count, 1], float32: Self.values)])
    #expect(out.dtype == .float32)
    return out.toDoubles()[0]
  }

  private func error(_ configure: (inout GenredOptions) -> Void) throws -> Double {
    Swift.abs(try total(configure) - Self.exact) / Self.exact
  }

  @Test func errorsAreOrderedAsInKeOps() throws {
    let direct = try error { $0.sumScheme = "direct_sum" }
    let block = try error { $0.sumScheme = "block_sum" }
    let kahan = try error { $0.sumScheme = "kahan_scheme" }
    let directDouble = try error { $0.sumScheme = "direct_sum"; $0.dtypeAcc = "float64" }
    let blockDouble = try error { $0.sumScheme = "block_sum"; $0.useDoubleAcc = true }
    // float32 direct summation of 1e6 terms loses about five digits; the others keep about seven.
    #expect(direct > 1e-6, "direct_sum error \(direct)")
    #expect(direct > 10 * block, "direct \(direct), block \(block)")
    #expect(direct > 10 * kahan, "direct \(direct), kahan \(kahan)")
    #expect(direct > 10 * directDouble, "direct \(direct), direct with a float64 accumulator \(directDouble)")
    #expect(block < 1e-6 && kahan < 1e-6 && directDouble < 1e-6 && blockDouble < 1e-6)
    // Kahan and a double accumulator leave only the float32 rounding of the output (< 2^-24 relative).
    #expect(kahan <= 6e-8, "kahan \(kahan)")
    #expect(directDouble <= 6e-8, "direct+float64 \(directDouble)")
  }

  @Test func autoIsBlockSumForSums() throws {
    #expect(try total { $0.sumScheme = "auto" } == total { $0.sumScheme = "block_sum" })
  }

  @Test func useDoubleAccIsDtypeAccFloat64() throws {
    #expect(try total { $0.sumScheme = "direct_sum"; $0.useDoubleAcc = true } == total { $0.sumScheme = "direct_sum"; $0.dtypeAcc = "float64" })
    #expect(try total { $0.useDoubleAcc = true } == total { $0.dtypeAcc = "float64" })
  }

  @Test func dtypeAccFloat32IsTheDefaultForFloat32Data() throws {
    #expect(try total { $0.sumScheme = "direct_sum"; $0.dtypeAcc = "float32" } == total { $0.sumScheme = "direct_sum" })
  }

  @Test func schemesApplyToLogSumExp() throws {
    // The (m, s) merge accumulates s like a sum: with f = 0, s is the number of terms.
    let n = 100_000
    let g = { (scheme: String) throws -> Double in
      let op = try makeGenred("x*y", ["x = Vi(1)", "y = Vj(1)"]) {
        $0.axis = 1; $0.reductionOp = "Max_SumShiftExp"; $0.sumScheme = scheme
      }
      let out = try callSingle(op, [NDArray(shape: [1, 1], float32: [0]), NDArray(shape: [n, 1], float32: [Float](repeating: 1, count: n))])
      return out.toDoubles()[1]
    }
    // float32 counts exactly up to 2^24, so every scheme gets n.
    #expect(try g("direct_sum") == Double(n))
    #expect(try g("block_sum") == Double(n))
    #expect(try g("kahan_scheme") == Double(n))
  }
}

@Suite struct GenredOptionErrorTests {
  private let aliases = ["x = Vi(3)", "y = Vj(3)"]

  private func option(_ configure: (inout GenredOptions) -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> (String, String)? {
    guard let e = definitionError("SqDist(x,y)", aliases, sourceLocation: sourceLocation, configure) else { return nil }
    guard case .option(let name, let message) = e else {
      Issue.record("expected an option error, got \(e)", sourceLocation: sourceLocation)
      return nil
    }
    return (name, message)
  }

  @Test func blockSumWithMax() {
    let e = option { $0.reductionOp = "Max"; $0.sumScheme = "block_sum" }
    #expect(e?.0 == "sum_scheme")
    #expect(e?.1 == "sum_scheme=\"block_sum\" is only valid for sum-type reductions, not Max")
    #expect(option { $0.reductionOp = "ArgKMin"; $0.optArg = 2; $0.sumScheme = "kahan_scheme" }?.1
      == "sum_scheme=\"kahan_scheme\" is only valid for sum-type reductions, not ArgKMin")
  }

  @Test func directSumIsAllowedEverywhere() throws {
    _ = try makeGenred("SqDist(x,y)", aliases) { $0.reductionOp = "Max"; $0.sumScheme = "direct_sum" }
    _ = try makeGenred("SqDist(x,y)", aliases) { $0.reductionOp = "ArgMin"; $0.sumScheme = "auto" }
  }

  @Test func dtypeAccWithMin() {
    let e = option { $0.reductionOp = "Min"; $0.dtypeAcc = "float64" }
    #expect(e?.0 == "dtype_acc")
    #expect(e?.1 == "the accumulator type can only be set for sum-type reductions (Sum, LogSumExp, SumSoftMaxWeight...), not Min")
    let d = option { $0.reductionOp = "Min"; $0.useDoubleAcc = true }
    #expect(d?.0 == "use_double_acc")
  }

  @Test func bothDtypeAccAndUseDoubleAcc() {
    let e = option { $0.dtypeAcc = "float64"; $0.useDoubleAcc = true }
    #expect(e?.0 == "use_double_acc")
    #expect(e?.1 == "you cannot set both use_double_acc and dtype_acc")
  }

  @Test func unknownDtypeAcc() {
    #expect(option { $0.dtypeAcc = "double" }?.1
      == "unknown dtype_acc \"double\"; expected \"auto\", \"float16\", \"float32\" or \"float64\"")
  }

  @Test func unknownSumScheme() {
    let e = option { $0.sumScheme = "kahan" }
    #expect(e?.0 == "sum_scheme")
    #expect(e?.1 == "invalid sum_scheme \"kahan\"; expected \"auto\", \"direct_sum\", \"block_sum\" or \"kahan_scheme\"")
    #expect(option { $0.sumScheme = "block_summ" }?.1
      == "invalid sum_scheme \"block_summ\"; expected \"auto\", \"direct_sum\", \"block_sum\" or \"kahan_scheme\" (did you mean \"block_sum\"?)")
  }

  @Test func unknownReduction() {
    let e = option { $0.reductionOp = "MinArgMin" }
    #expect(e?.0 == "reduction_op")
    #expect(e?.1 == "unknown reduction \"MinArgMin\"; did you mean \"Min_ArgMin\"?")
    #expect(option { $0.reductionOp = "MaxArgMax" }?.1 == "unknown reduction \"MaxArgMax\"; did you mean \"Max_ArgMax\"?")
    #expect(option { $0.reductionOp = "KMinArgKMin" }?.1 == "unknown reduction \"KMinArgKMin\"; did you mean \"KMin_ArgKMin\"?")
    #expect(option { $0.reductionOp = "Summ" }?.1 == "unknown reduction \"Summ\"; did you mean \"Sum\"?")
    #expect(option { $0.reductionOp = "Average" }?.1 == "unknown reduction \"Average\"")
  }

  @Test func optArg() {
    let e = option { $0.reductionOp = "KMin" }
    #expect(e?.0 == "opt_arg")
    #expect(e?.1 == "reduction \"KMin\" needs opt_arg=K, the number of neighbours")
    #expect(option { $0.reductionOp = "ArgKMin"; $0.optArg = 0 }?.1 == "opt_arg must be at least 1, not 0")
    #expect(option { $0.reductionOp = "Sum"; $0.optArg = 3 }?.1 == "opt_arg=3 is only used by KMin, ArgKMin and KMin_ArgKMin")
  }

  @Test func formula2() {
    #expect(option { $0.reductionOp = "SumSoftMaxWeight" }?.1 == "reduction \"SumSoftMaxWeight\" needs a weight formula, formula2=...")
    #expect(option { $0.reductionOp = "LogSumExpWeight" }?.0 == "formula2")
    #expect(option { $0.reductionOp = "Sum"; $0.formula2 = "x" }?.1
      == "formula2 is only used by LogSumExp, LogSumExpWeight, SumSoftMaxWeight and Max_SumShiftExpWeight")
  }

  @Test func axisAndDtype() {
    #expect(option { $0.axis = 2 }?.1 == "axis must be 0 (reduce over i) or 1 (reduce over j), not 2")
    #expect(option { $0.dtype = "int32" }?.1 == "unknown dtype \"int32\"; expected \"float16\", \"float32\" or \"float64\"")
  }

  @Test func shiftExpReductionsRefuseVectorFormulas() {
    let e = definitionError("x-y", aliases) { $0.reductionOp = "LogSumExp" }
    #expect(e?.description == "this reduction needs a scalar formula (dimension 1), but the formula has dimension 3")
  }

  @Test func dtypeAccNotAllowedForTheData() throws {
    let x = NDArray(shape: [2, 3], doubles: [1, 2, 3, 4, 5, 6], dtype: .float16)
    let y = NDArray(shape: [1, 3], doubles: [0, 0, 0], dtype: .float16)
    let g = try makeGenred("SqDist(x,y)", aliases) { $0.dtypeAcc = "float64" }
    guard case .option(let name, let message) = callError(g, [x, y]) else {
      Issue.record("expected an option error")
      return
    }
    #expect(name == "dtype_acc")
    #expect(message == "dtype_acc=\"float64\" is not allowed with float16 data (allowed: float16, float32)")

    let g16 = try makeGenred("SqDist(x,y)", aliases) { $0.dtypeAcc = "float16" }
    let e32 = callError(g16, [x.converted(to: .float32), y.converted(to: .float32)])
    #expect(e32?.description == "dtype_acc: dtype_acc=\"float16\" is not allowed with float32 data (allowed: float32, float64)")
    let g32 = try makeGenred("SqDist(x,y)", aliases) { $0.dtypeAcc = "float32" }
    let e64 = callError(g32, [x.converted(to: .float64), y.converted(to: .float64)])
    #expect(e64?.description == "dtype_acc: dtype_acc=\"float32\" is not allowed with float64 data (allowed: float64)")
    let gd = try makeGenred("SqDist(x,y)", aliases) { $0.useDoubleAcc = true }
    #expect(callError(gd, [x, y])?.description
      == "use_double_acc: dtype_acc=\"float64\" is not allowed with float16 data (allowed: float16, float32)")
  }

  @Test func backends() throws {
    let g = try makeGenred("SqDist(x,y)", aliases)
    let args = [NDArray(shape: [1, 3], float64: [1, 2, 3]), NDArray(shape: [1, 3], float64: [1, 2, 2])]
    #expect(try g.call(args, backend: "auto") == g.call(args, backend: "reference"))
    do {
      _ = try g.call(args, backend: "TPU")
      Issue.record("an unknown backend must fail")
    } catch {
      guard case .option(let name, let message) = error else {
        Issue.record("expected an option error, got \(error)")
        return
      }
      #expect(name == "backend")
      #expect(message.hasPrefix("unknown backend \"TPU\""))
    }
  }
}

@Suite struct GenredArgumentErrorTests {
  private let g: Genred
  private let x = NDArray(shape: [3, 3], float64: (0..<9).map(Double.init))
  private let y = NDArray(shape: [2, 3], float64: (0..<6).map(Double.init))

  init() throws {
    g = try makeGenred("SqDist(x,y)*b + z", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "z = Vi(1)"]) { $0.axis = 1 }
  }

  private var b: NDArray { NDArray(shape: [2, 1], float64: [1, 2]) }
  private var z: NDArray { NDArray(shape: [3, 1], float64: [1, 2, 3]) }

  @Test func theArgumentsWork() throws {
    let out = try callSingle(g, [x, y, b, z])
    #expect(out.shape == [3, 1])
  }

  @Test func wrongCount() {
    #expect(callError(g, [x, y])?.description == "this Genred takes 4 arguments ('x', 'y', 'b', 'z'), got 2")
    #expect(callError(g, [x, y, b, z, z])?.description == "this Genred takes 4 arguments ('x', 'y', 'b', 'z'), got 5")
  }

  @Test func wrongDimension() {
    let e = callError(g, [NDArray(shape: [3, 2], float64: [0, 1, 2, 3, 4, 5]), y, b, z])
    guard case .argument(let index, let message) = e else {
      Issue.record("expected an argument error, got \(String(describing: e))")
      return
    }
    #expect(index == 0)
    #expect(message == "'x' is a Vi(3) variable: expected 3 columns, got shape (3, 2)")
    #expect(callError(g, [x, NDArray(shape: [6], float64: [0, 1, 2, 3, 4, 5]), b, z])?.description
      == "argument 1: 'y' is a Vj(3) variable: expected a 2-D array of shape (rows, 3), got shape (6,)")
  }

  @Test func mismatchedRows() {
    let z4 = NDArray(shape: [4, 1], float64: [1, 2, 3, 4])
    #expect(callError(g, [x, y, b, z4])?.description == "argument 3: 'z' has 4 rows but 'x', also Vi, has 3")
    let b3 = NDArray(shape: [3, 1], float64: [1, 2, 3])
    #expect(callError(g, [x, y, b3, z])?.description == "argument 2: 'b' has 3 rows but 'y', also Vj, has 2")
  }

  @Test func mixedDtypes() {
    #expect(callError(g, [x, y.converted(to: .float32), b, z])?.description
      == "argument 1: all arguments must have the same dtype: argument 0 is float64, this one is float32")
  }

  @Test func integerData() {
    #expect(callError(g, [x.converted(to: .int64), y, b, z])?.description
      == "argument 0: expected a float array, got int64; convert it with .astype(\"float64\")")
  }

  @Test func threeDimensionalArray() {
    let x3 = NDArray(shape: [1, 3, 3], float64: (0..<9).map(Double.init))
    #expect(callError(g, [x3, y, b, z])?.description
      == "argument 0: 'x' has shape (1, 3, 3): ks takes 2-D arrays (rows, dim); batch dimensions are not supported")
  }

  @Test func parameterShape() throws {
    let gp = try makeGenred("Sum(x)*Sum(p)", ["x = Vi(3)", "p = Pm(2)"])
    #expect(callError(gp, [x, NDArray(shape: [3], float64: [1, 2, 3])])?.description
      == "argument 1: 'p' is a Pm(2) parameter: expected length 2, got 3")
    #expect(callError(gp, [x, NDArray(shape: [1, 2], float64: [1, 2])])?.description
      == "argument 1: 'p' is a Pm(2) parameter: expected a 1-D array of length 2, got shape (1, 2)")
  }
}
