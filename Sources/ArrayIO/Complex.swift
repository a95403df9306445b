import Foundation

/// One complex number, stored as numpy stores it: the real part, then the imaginary part (so an
/// array of them has numpy's `complex64`/`complex128` memory layout).
public struct Complex<Real: BinaryFloatingPoint & Sendable & BitwiseCopyable>: Sendable, Equatable, BitwiseCopyable {
  public var re: Real
  public var im: Real

  @inline(__always)
  public init(_ re: Real, _ im: Real = 0) {
    self.re = re
    self.im = im
  }

  public static func == (a: Complex, b: Complex) -> Bool { a.re == b.re && a.im == b.im }

  public var isNaN: Bool { re.isNaN || im.isNaN }
  public var isInfinite: Bool { !isNaN && (re.isInfinite || im.isInfinite) }
  public var isFinite: Bool { re.isFinite && im.isFinite }
  public var isZero: Bool { re == 0 && im == 0 }
  public var conjugate: Complex { Complex(re, -im) }
}

extension Complex {
  @inline(__always) public static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
  @inline(__always) public static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
  @inline(__always) public static prefix func - (a: Complex) -> Complex { Complex(-a.re, -a.im) }
  @inline(__always) public static func * (a: Complex, b: Complex) -> Complex {
    Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
  }

  /// Division as numpy (and CPython) compute it: Smith's algorithm, scaling by the larger part of
  /// the divisor so that the intermediate products do not overflow.
  public static func / (a: Complex, b: Complex) -> Complex {
    let absRe = Swift.abs(b.re), absIm = Swift.abs(b.im)
    if absRe >= absIm {
      if absRe == 0 && absIm == 0 {
        // numpy: division by complex zero gives inf/nan parts as the real division would.
        return Complex(a.re / absRe, a.im / absRe)
      }
      let ratio = b.im / b.re
      let denom = b.re + b.im * ratio
      return Complex((a.re + a.im * ratio) / denom, (a.im - a.re * ratio) / denom)
    } else if absIm >= absRe {
      let ratio = b.re / b.im
      let denom = b.re * ratio + b.im
      return Complex((a.re * ratio + a.im) / denom, (a.im * ratio - a.re) / denom)
    } else {
      return Complex(.nan, .nan)
    }
  }
}

extension Complex where Real == Double {
  /// |z|, computed without overflow (hypot).
  public var magnitude: Double { Foundation.hypot(re, im) }
  /// The argument of z in (-pi, pi].
  public var angle: Double { Foundation.atan2(im, re) }

  public static func exp(_ z: Complex) -> Complex {
    if z.im == 0 && !z.re.isNaN { return Complex(Foundation.exp(z.re), z.im) }
    let r = Foundation.exp(z.re)
    return Complex(r * Foundation.cos(z.im), r * Foundation.sin(z.im))
  }

  public static func log(_ z: Complex) -> Complex { Complex(Foundation.log(z.magnitude), z.angle) }

  /// The principal square root (branch cut along the negative real axis, as C's csqrt).
  public static func sqrt(_ z: Complex) -> Complex {
    if z.re == 0 && z.im == 0 { return Complex(0, z.im) }
    if z.im.isInfinite { return Complex(.infinity, z.im) }
    let t = Foundation.sqrt((Swift.abs(z.re) + z.magnitude) / 2)
    if z.re >= 0 { return Complex(t, z.im / (2 * t)) }
    return Complex(Swift.abs(z.im) / (2 * t), Double(signOf: z.im, magnitudeOf: t))
  }

  /// z ** w, as CPython computes complex powers (an integer exponent by repeated squaring).
  public static func pow(_ z: Complex, _ w: Complex) -> Complex {
    if w.im == 0, w.re == w.re.rounded(), Swift.abs(w.re) <= 100 {
      var n = Int(w.re)
      let invert = n < 0
      n = Swift.abs(n)
      var result = Complex(1, 0), base = z
      while n > 0 {
        if n & 1 == 1 { result = result * base }
        base = base * base
        n >>= 1
      }
      return invert ? Complex(1, 0) / result : result
    }
    if w.re == 0 && w.im == 0 { return Complex(1, 0) }
    if z.re == 0 && z.im == 0 {
      return (w.im != 0 || w.re < 0) ? Complex(.nan, .nan) : Complex(0, 0)
    }
    let vabs = z.magnitude
    var len = Foundation.pow(vabs, w.re)
    let at = z.angle
    var phase = at * w.re
    if w.im != 0 {
      len /= Foundation.exp(at * w.im)
      phase += w.im * Foundation.log(vabs)
    }
    return Complex(len * Foundation.cos(phase), len * Foundation.sin(phase))
  }
}

public typealias Complex64 = Complex<Float>
public typealias Complex128 = Complex<Double>

extension Complex where Real == Float {
  public var wide: Complex128 { Complex128(Double(re), Double(im)) }
}

extension Complex where Real == Double {
  public var narrow: Complex64 { Complex64(Float(re), Float(im)) }
}
