import ArrayIO
import Foundation
import FormulaLanguage
import Testing

@testable import KernelEngines

/// TensorDot on the reference engine against a direct implementation of its definition (numpy's
/// tensordot, kept axis k moved to position permute[k]), over many random layouts.
@Suite struct TensorDotTests {
  /// Row-major multi-index of a flat index.
  static func multiIndex(_ flat: Int, _ dims: [Int]) -> [Int] {
    var out = Array(repeating: 0, count: dims.count)
    var r = flat
    for k in dims.indices.reversed() {
      out[k] = r % dims[k]
      r /= dims[k]
    }
    return out
  }

  static func flat(_ index: [Int], _ dims: [Int]) -> Int { zip(index, dims).reduce(0) { $0 * $1.1 + $1.0 } }

  /// The definition, written plainly: every pair of entries whose contracted indices agree adds
  /// its product to the output entry of the kept indices.
  static func direct(_ a: [Double], _ b: [Double], _ l: TensorDotLayout) -> [Double] {
    let keepA = (0..<l.dimsA.count).filter { !l.contA.contains($0) }
    let keepB = (0..<l.dimsB.count).filter { !l.contB.contains($0) }
    let keepDims = keepA.map { l.dimsA[$0] } + keepB.map { l.dimsB[$0] }
    var outDims = Array(repeating: 0, count: keepDims.count)
    for (k, d) in keepDims.enumerated() { outDims[l.permute[k]] = d }
    var out = Array(repeating: 0.0, count: keepDims.reduce(1, *))
    for i in a.indices {
      let ia = multiIndex(i, l.dimsA)
      for j in b.indices {
        let jb = multiIndex(j, l.dimsB)
        guard zip(l.contA, l.contB).allSatisfy({ ia[$0] == jb[$1] }) else { continue }
        let kept = keepA.map { ia[$0] } + keepB.map { jb[$0] }
        var position = Array(repeating: 0, count: kept.count)
        for (k, v) in kept.enumerated() { position[l.permute[k]] = v }
        out[flat(position, outDims)] += a[i] * b[j]
      }
    }
    return out
  }

  @Test func randomLayoutsMatchTheDefinition() throws {
    var draws = Draws(state: 2024)
    func int(_ n: Int) -> Int { Int(draws.next(0...Double(n) - 1e-9)) }
    for _ in 0..<60 {
      let dimsA = (0..<(1 + int(3))).map { _ in 1 + int(3) }
      var dimsB = (0..<(1 + int(3))).map { _ in 1 + int(3) }
      // Contract up to min(#axes) random pairs, giving b's axis a's size.
      let pairs = int(min(dimsA.count, dimsB.count) + 1)
      let contA = Array(dimsA.indices.shuffled(using: &draws).prefix(pairs))
      let contB = Array(dimsB.indices.shuffled(using: &draws).prefix(pairs))
      for (x, y) in zip(contA, contB) { dimsB[y] = dimsA[x] }
      let kept = dimsA.count + dimsB.count - 2 * pairs
      let permute = Array((0..<kept).shuffled(using: &draws))
      let layout = TensorDotLayout(dimsA: dimsA, dimsB: dimsB, contA: contA, contB: contB, permute: permute)
      func tuple(_ xs: [Int]) -> String { "(" + xs.map(String.init).joined(separator: ",") + (xs.count == 1 ? ",)" : ")") }
      let formula = "TensorDot(a, b, \(tuple(dimsA)), \(tuple(dimsB)), \(tuple(contA)), \(tuple(contB)), \(tuple(permute)))"
      let na = dimsA.reduce(1, *), nb = dimsB.reduce(1, *)
      let a = (0..<na).map { _ in draws.next(-1...1) }, b = (0..<nb).map { _ in draws.next(-1...1) }
      let got = try evaluatePointwise(formula, [vectors("a", [a]), vectors("b", [b])]).uniform[0]
      let expected = Self.direct(a, b, layout)
      #expect(got.count == expected.count, "\(formula)")
      #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(formula): \(got) vs \(expected)")
    }
  }

  @Test func kronIsNumpysKron() throws {
    // np.kron of a 2x3 and a 3x2 matrix: entry (i*3+k, j*2+l) = A[i,j] B[k,l].
    let a = (0..<6).map { Double($0 + 1) }, b = (0..<6).map { Double(10 * $0 - 7) }
    let got = try evaluatePointwise("Kron(a, b, (2,3), (3,2))", [vectors("a", [a]), vectors("b", [b])]).uniform[0]
    var expected = Array(repeating: 0.0, count: 36)
    for i in 0..<2 { for j in 0..<3 { for k in 0..<3 { for l in 0..<2 {
      expected[(i * 3 + k) * 6 + (j * 2 + l)] = a[i * 3 + j] * b[k * 2 + l]
    } } } }
    #expect(got == expected)
  }
}

extension Draws: RandomNumberGenerator {
  mutating func next() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return state
  }
}

/// BSpline and SoftDTW_SqDist against direct implementations of their definitions.
@Suite struct SequenceOperationTests {
  /// Cox-de Boor: B_i,0 = [t_i <= x < t_i+1], B_i,k = w_i,k B_i,k-1 + (1 - w_i+1,k) B_i+1,k-1 with
  /// w_i,k = (x - t_i) / (t_i+k - t_i) (0 for equal knots).
  static func coxDeBoor(_ t: [Double], _ x: Double, _ order: Int, _ i: Int) -> Double {
    if order == 0 { return t[i] <= x && x < t[i + 1] ? 1 : 0 }
    func w(_ j: Int) -> Double { t[j] < t[j + order] ? (x - t[j]) / (t[j + order] - t[j]) : 0 }
    return w(i) * coxDeBoor(t, x, order - 1, i) + (1 - w(i + 1)) * coxDeBoor(t, x, order - 1, i + 1)
  }

  @Test func bSplinesFollowCoxDeBoorAndSumToOne() throws {
    var draws = Draws(state: 77)
    for order in 0...3 {
      let knots = (0..<9).map { Double($0) + draws.next(-0.3...0.3) }
      let xs = (0..<6).map { _ in draws.next(knots[order]...knots[9 - order - 1]) }
      let got = try evaluatePointwise(
        "BSpline(t, x, \(order))", [vectors("t", Array(repeating: knots, count: xs.count)), scalars("x", xs)]
      ).uniform
      for (p, x) in xs.enumerated() {
        let expected = (0..<(9 - order - 1)).map { Self.coxDeBoor(knots, Double(Float(x)), order, $0) }
        #expect(zip(got[p], expected).allSatisfy { abs($0 - $1) < 1e-6 }, "order \(order) at \(x): \(got[p]) vs \(expected)")
        // Inside [t_order, t_K-order-1) the basis is a partition of unity.
        #expect(abs(got[p].reduce(0, +) - 1) < 1e-6)
      }
    }
  }

  /// The full soft-DTW table with infinite borders: R(-1,-1) = 0, R(i,-1) = R(-1,j) = inf.
  static func softDTW(_ x: [Double], _ y: [Double], _ g: Double) -> Double {
    var r = Array(repeating: Array(repeating: Double.infinity, count: y.count + 1), count: x.count + 1)
    r[0][0] = 0
    for i in 1...x.count {
      for j in 1...y.count {
        let d = x[i - 1] - y[j - 1]
        let s = [r[i - 1][j - 1], r[i - 1][j], r[i][j - 1]].reduce(0) { $0 + Foundation.exp(-$1 / g) }
        r[i][j] = d * d - g * Foundation.log(s)
      }
    }
    return r[x.count][y.count]
  }

  @Test func softDTWFollowsItsRecursion() throws {
    var draws = Draws(state: 5)
    for (n, m) in [(1, 1), (1, 4), (3, 1), (4, 5), (6, 3)] {
      for g in [0.1, 1.0, 2.5] {
        let x = (0..<n).map { _ in draws.next(-1...1) }, y = (0..<m).map { _ in draws.next(-1...1) }
        let got = try evaluatePointwise(
          "SoftDTW_SqDist(x, y, g)", [vectors("x", [x]), vectors("y", [y]), scalars("g", [g])]
        ).uniform[0][0]
        let expected = Self.softDTW(x, y, g)
        #expect(abs(got - expected) <= 1e-12 * max(1, abs(expected)), "n=\(n) m=\(m) g=\(g): \(got) vs \(expected)")
      }
    }
  }

  /// GradSoftDTW_SqDist (the gradient KeOps 2.3 uses for SoftDTW_SqDist) against central finite
  /// differences of the independent implementation above.
  @Test func softDTWGradientMatchesFiniteDifferences() throws {
    var draws = Draws(state: 11)
    for (n, m) in [(1, 1), (1, 3), (4, 1), (4, 5), (6, 3)] {
      for g in [0.3, 1.0, 2.5] {
        let x = (0..<n).map { _ in draws.next(-1...1) }, y = (0..<m).map { _ in draws.next(-1...1) }
        let got = try evaluatePointwise(
          "GradSoftDTW_SqDist(x, y, g)", [vectors("x", [x]), vectors("y", [y]), scalars("g", [g])]
        ).uniform[0]
        let h = 1e-6
        var expected: [Double] = []
        for k in 0..<n {
          var a = x, b = x
          a[k] += h
          b[k] -= h
          expected.append((Self.softDTW(a, y, g) - Self.softDTW(b, y, g)) / (2 * h))
        }
        for k in 0..<m {
          var a = y, b = y
          a[k] += h
          b[k] -= h
          expected.append((Self.softDTW(x, a, g) - Self.softDTW(x, b, g)) / (2 * h))
        }
        #expect(got.count == n + m)
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "n=\(n) m=\(m) g=\(g): \(got) vs \(expected)")
      }
    }
  }
}
