import Foundation
import Testing

/// Complex numbers in the shell language and complex64/complex128 arrays in its numpy subset,
/// each compared with what python3 + numpy print for the same text.
@Suite struct ComplexNumpyTests {
  @Test("Python complex scalars: literals, arithmetic, repr, parts")
  func pythonComplexScalars() {
    NumpyHarness.compare(expressions: [
      "1j", "2.5e-3J", "1 + 2j", "-0.0 - 1j", "complex(0.0, -0.0)", "complex(-0.0, 0.0)", "0j", "-1j", "1e16 + 1j",
      "0.1 + 1e-5j", "complex(1, 2)", "complex(1j, 1j)", "complex('1-2j')", "complex(' (2.5+3j) ')", "complex('-1.5e-3j')",
      "complex(2)", "complex()", "(1 + 2j) * (3 - 4j)", "(1 + 2j) / (3 - 4j)", "(1 + 2j) - 2", "3 - (1 + 2j)",
      "2 * (1 + 2j)", "True + 1j", "(1 + 2j) ** 2", "(1 + 2j) ** -2", "1j ** 0.5", "(1 + 1j) ** (2 - 1j)", "2 ** 1j",
      "abs(3 + 4j)", "abs(-2j)", "(1 + 2j).real", "(1 + 2j).imag", "(1 + 2j).conjugate()", "(1.5).imag", "(3).real",
      "(1 + 2j) == 1 + 2j", "(1 + 0j) == 1", "1.0 == 1 + 0j", "(1 + 2j) != 1", "-(1 + 2j)", "+(1 - 2j)",
      "complex(float('nan'), float('inf'))", "complex(1, float('-inf'))", "str(1 + 2j)", "[1j, 2 + 0j]", "(1j, -0j)",
      "f'{1+2j}'", "f'{1.5-2j:>14.3e}|{1.5-2j:+.1f}|{1.5-2j:.3}|{2j:.3}|{1.5-2j:<12}|{1.5-2j:^14g}|'",
      "'{:.2f}'.format(np.complex64(1+2j))", "'%s' % (1-1j)", "sum([1j, 2, 0.5j])", "bool(0j)", "bool(1j)", "1e300j * 1e300", "123456789.0 + 1j",
    ])
  }

  @Test("complex arrays print as numpy prints them")
  func printing() {
    NumpyHarness.compare(expressions: [
      "np.array([1+2j, 3-4j])", "np.array([1+2j, 3-4j], dtype=np.complex64)", "np.zeros(3, dtype=complex)",
      "np.array([0.1+2j, 300-4.25j, np.nan, complex(1, np.inf)])", "np.array([1e-5+2j, 3e10-4j])",
      "np.array([-0.0-0.0j, 1j])", "np.array([complex(0.0, -0.0)])", "np.array(1j)", "np.array([], dtype=complex)",
      "np.array([[1+1j, -2.5j], [3, 4.125+1e-3j]])", "np.array([1.5, -2]) * 1j", "np.arange(12).reshape(3, 4) * (1 - 0.5j)",
      "np.array([1/3 + 2j/3, 1e8j], dtype=np.complex64)", "np.array([np.inf, -np.inf, np.nan]) + 0j",
      "np.array([complex(np.nan, -np.inf), complex(-np.inf, np.nan)])", "np.array([1e-9 + 1e9j, 1])",
      "np.arange(2000) * 1j", "np.array([1+1j, 1e20 - 1e-20j])", "np.complex64(1+2j)", "np.complex128(-0.0-1j)",
      "np.complex64(0.1 + 0.2j)", "np.complex64(123456789.0 + 1j)", "np.array([1+2j])[0]",
      "np.array([0.5+0.25j, 1]).astype(np.complex64)", "np.exp(np.linspace(0, 3, 7) * 1j)",
    ])
  }

  @Test("print options apply to both parts")
  func printOptions() {
    NumpyHarness.compare(setup: "np.set_printoptions(precision=3, suppress=True)", expressions: [
      "np.array([1/3 + 2j/3, 1e-6 + 100j])", "np.exp(np.linspace(0, 1, 4) * 2j)",
    ])
  }

  @Test("promotion and arithmetic follow numpy 2")
  func arithmetic() {
    NumpyHarness.compare(
      setup: """
        x = np.array([1.5, -2.0, 0.25], dtype=np.float32)
        z = np.array([1+2j, 3-4j, -0.5j])
        w = x + 1j * x
        """,
      expressions: [
        "w", "w.dtype", "(x * 1j).dtype", "(x + z).dtype", "(np.arange(3) * 1j).dtype", "(w + 1.5).dtype", "(w * np.float64(2)).dtype",
        "z + 1", "z - x", "z * z", "z / z", "1 / z[:2]", "z ** 2", "z ** 0.5", "z ** (1 + 1j)", "2 ** z", "w * w", "w / (1 + 1j)",
        "z[:, None] * z[None, :]", "z.reshape(3, 1) + np.arange(2)", "-z", "z == np.array([1+2j, 3, 0])", "z != 3-4j",
        "np.abs(z)", "np.abs(w)", "abs(z)", "np.exp(z)", "np.exp(w)", "np.sqrt(z)", "np.log(z[:2])", "np.square(z)", "np.sign(z)",
        "np.conj(z)", "z.conj()", "z.conjugate()", "np.real(z)", "np.imag(z)", "z.real", "z.imag", "w.real", "x.imag",
        "np.angle(z)", "np.angle(w).dtype", "np.round(np.angle(w), 5)", "np.angle(z, deg=True)", "np.isnan(z)", "np.isfinite(np.array([np.inf * 1j, 1]))",
        "np.maximum(z, 1 + 0j)", "z < 1", "np.iscomplexobj(z)", "np.isrealobj(x)", "np.iscomplex(np.array([1+0j, 1j]))",
        "np.sin(z)", "np.cos(w)", "np.tanh(z)",
      ])
  }

  @Test("reductions, shapes and indexing")
  func reductions() {
    NumpyHarness.compare(
      setup: """
        y = np.arange(12).reshape(3, 4) * (1 + 0.5j) - 2j
        w = y.astype(np.complex64)
        """,
      expressions: [
        "y.sum()", "y.sum(axis=0)", "y.sum(axis=1, keepdims=True)", "w.sum(axis=0)", "y.mean()", "y.mean(axis=1)", "w.mean()",
        "y.prod(axis=1)", "np.prod(w, axis=0)", "np.cumsum(y, axis=1)", "y.std()", "np.var(y, axis=0)", "y.max()", "y.min(axis=0)",
        "np.argmin(np.array([1+2j, 1+1j, 0+5j]))", "np.argmax(y, axis=1)", "np.sort(np.array([1+2j, 1+1j, 0+5j, np.nan]))",
        "y.T", "y.transpose()", "y.reshape(2, 6)", "y[1]", "y[1, 2]", "y[:, ::2]", "y[y.real > 5]", "y[[0, 2]]",
        "np.concatenate([y, np.ones((1, 4))])", "np.stack([y[0], y[1]])", "np.vstack([w, w])", "y.flatten()",
        "np.allclose(y, y + 1e-10j)", "np.allclose(y, y + 1e-3j)", "np.isclose(y[0], y[0] + 1e-7)", "np.isclose(1j, 1j + 1e-9)",
        "y @ y.T", "np.dot(y[0], y[1])", "w @ w.T", "y.tolist()", "y[0, 1].item()", "np.where(y.real > 4, y, 0)",
        "np.unique(np.array([1j, 1j, 2, 1j]))", "y.round()", "np.round(y / 3, 2)", "np.diag(y[:, :3])", "y[:, :3].trace()",
        "np.repeat(y[0], 2)", "np.tile(w[0], 2)", "np.flip(y, axis=1)", "np.outer(y[0], y[1])", "np.moveaxis(y[None], 0, 2).shape",
        "np.ones_like(w)", "np.count_nonzero(y)", "np.complex128('1-2.5j')", "np.complex64(3)", "np.conj(2 - 1j)", "np.abs(3 - 4j)", "np.zeros_like(w)", "np.full((2,), 1 - 1j)", "y.copy()[2]",
      ])
  }

  @Test("assignment into complex arrays")
  func assignment() {
    NumpyHarness.compare(
      setup: """
        z = np.zeros(4, dtype=complex)
        z[1] = 2 - 1j
        z[2:] = np.array([1.5, -1])
        z[0] += 1j
        v = np.zeros(3, dtype=np.complex64)
        v[0] = 0.1 + 0.2j
        """,
      expressions: ["z", "v", "v.dtype"])
  }

  @Test(arguments: [
    ("1j < 2", "TypeError: '<' not supported between instances of 'complex' and 'int'"),
    ("float(1j)", "TypeError: float() argument must be a string or a real number, not 'complex'"),
    ("int(1j)", "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'complex'"),
    ("1j // 2", "TypeError: unsupported operand types for //: 'complex' and 'int'"),
    ("1 / 0j", "ZeroDivisionError: complex division by zero"),
    ("0j ** -1", "ZeroDivisionError: zero to a negative or complex power"),
    ("round(1j)", "TypeError: round() argument must be a real number, not complex"),
    ("complex('1+')", "ValueError: complex() arg is a malformed string"),
    ("complex(1, 'a')", "TypeError: complex() second arg can't be a string"),
    ("np.median(np.array([1j]))", "TypeError: np.median does not support complex arrays in ks (got complex128); use .real, .imag or np.abs first"),
    ("np.floor(np.array([1j], dtype=np.complex64))", "TypeError: np.floor does not support complex arrays in ks (got complex64); use .real, .imag or np.abs first"),
    ("a = np.zeros(2); a[0] = 1j", "TypeError: cannot assign a complex number into a float64 array; make the array complex first (a = a.astype(complex))"),
    ("np.array([1j], dtype=float)", "TypeError: cannot convert complex values to float64 (take .real or abs() first)"),
    ("np.array([1j]) // 2", "TypeError: ufunc 'floor_divide' not supported for complex inputs (numpy refuses it too)"),
    ("np.arctan2(np.array([1j]), 1)", "TypeError: np.arctan2 does not support complex arrays in ks (got complex128); use .real, .imag or np.abs first"),
    ("np.array([1j]).clip(0, 1)", "TypeError: a.clip() does not support complex arrays in ks"),
  ])
  func refusalsRaisePythonsExceptionTypes(_ statement: String, _ expected: String) {
    let r = NumpyHarness.ks(
      "import numpy as np\ntry:\n    \(statement)\nexcept Exception as e:\n    print(type(e).__name__ + ': ' + str(e))\n")
    #expect(r.errors == "")
    #expect(r.output == expected + "\n")
  }

  @Test("np.arange with a complex dtype")
  func arange() {
    NumpyHarness.compare(expressions: ["np.arange(3, dtype=complex)", "np.arange(0.5, 2, 0.5, dtype=np.complex64)"])
  }
}
