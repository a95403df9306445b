import Foundation
import ShellSyntax

/// The shell's seeded random generator (xoshiro256**, seeded through SplitMix64).
///
/// `np.random.seed(n)` makes every later draw reproducible in ks; the streams are not numpy's.
public struct RandomState: Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)
  private var spareNormal: Double?

  public init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s = (splitmix(), splitmix(), splitmix(), splitmix())
    spareNormal = nil
  }

  @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func nextUInt64() -> UInt64 {
    let result = Self.rotl(s.1 &* 5, 7) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = Self.rotl(s.3, 45)
    return result
  }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func uniform() -> Double {
    Double(nextUInt64() >> 11) * 0x1.0p-53
  }

  /// Standard normal (Marsaglia's polar method).
  public mutating func normal() -> Double {
    if let z = spareNormal {
      spareNormal = nil
      return z
    }
    while true {
      let u = 2 * uniform() - 1, v = 2 * uniform() - 1
      let s = u * u + v * v
      if s > 0 && s < 1 {
        let f = (-2 * Foundation.log(s) / s).squareRoot()
        spareNormal = v * f
        return u * f
      }
    }
  }

  /// Uniform integer in [low, high).
  public mutating func integer(_ low: Int, _ high: Int) -> Int {
    let span = UInt64(high - low)
    return low + Int(nextUInt64() % span)
  }
}
