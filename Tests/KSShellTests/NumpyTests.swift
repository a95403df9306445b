import KSShell
import ShellRuntime
import ShellSyntax
import Testing

/// ks's numpy against real numpy: every case prints `str` and `repr` of an expression in both, and
/// the texts must be identical. python3 with numpy 2.x must be installed; without it these tests
/// fail with a message saying so.
@Suite("numpy compatibility")
struct NumpyTests {
  @Test("numpy 2 is available for the comparisons")
  func numpyIsAvailable() {
    guard let version = NumpyHarness.numpyVersion() else { return }
    #expect(version.hasPrefix("2."), "the comparison tests need numpy 2.x, found \(version)")
  }

  // MARK: - Printing

  @Test("float arrays print as numpy prints them")
  func floatPrinting() {
    NumpyHarness.compare(expressions: [
      "np.array([1.0, 2.0])", "np.array([0.1, 0.2])", "np.array([1.5, 2.25, -3.125])", "np.array([1.0, 2.0]) / 3",
      "np.array([3.14159265358979, 2.718281828459045, 1.4142135623730951])", "np.array([1.123456789123, 2.0])",
      "np.array([0.1000000004, 0.5])", "np.array([-0.0, 0.0])", "np.array([0.0, 0.0])", "np.array([0.5, 0.25, 0.125, 0.0625, 0.03125])",
      // scientific notation: large, small, wide ranges
      "np.array([1e-10, 1.0])", "np.array([1e10, 1.0])", "np.array([1e300, 1e-300])", "np.array([1e-4, 1e-3])",
      "np.array([0.0001, 1.0])", "np.array([0.00009999, 1.0])", "np.array([1e8, 1.0])", "np.array([99999999., 1.0])",
      "np.array([1., 1000.])", "np.array([1., 1001.])", "np.array([1e16, 1.0])", "np.array([1e-8, 2e-8, 3e-8])",
      "np.array([-1.5e-10, 2.5e10])", "np.array([123456789.0, 1.0])", "np.array([[1e-5, 2.0], [3.0, 4.0]])",
      "np.array([0.0, 1e-5])", "np.array([-1e-5, 1.0])",
      // non-finite values
      "np.array([np.nan, 1.0, -np.inf])", "np.array([np.inf])", "np.array([np.nan, np.nan])", "np.array([-np.inf, 1e-5])",
      "np.array([np.nan, 1e-5, 1.0])", "np.array([1e10, -1.5, np.inf])", "np.array([np.nan, 2.5])",
    ])
  }

  @Test("int, bool, float32 and float16 arrays, and shapes")
  func otherDTypes() {
    NumpyHarness.compare(expressions: [
      "np.arange(10) - 5", "np.arange(12).reshape(3, 4)", "np.arange(24).reshape(2, 3, 4)", "np.arange(-20, 20) * 1000000",
      "np.array([-9223372036854775807, 5])", "np.array([[1, -2], [3, 4]])",
      "np.array([True, False, True])", "np.array([True, True])", "np.array([False, False])", "np.array([[True, False], [False, False]])",
      "np.array([0.1, 0.2], dtype=np.float32)", "np.array([1, 2, 3], dtype=np.float32) / 3", "np.array([1e-5], dtype=np.float32)",
      "np.array([1e20, 1.0], dtype=np.float32)", "np.array([1e6, 1.5], dtype=np.float32)", "np.array([1e-4], dtype=np.float32)",
      "np.array([0.1, 1.5, 1000., 60000.], dtype=np.float16)", "np.arange(24.).reshape(2, 3, 4) / 7",
      "np.arange(50).reshape(5, 10).T", "np.arange(30).reshape(3, 10) * 1e5", "np.arange(30).reshape(3, 10) * 1e-5",
      "np.arange(60).reshape(3, 20) / 7.0", "np.arange(90).reshape(3, 30)", "np.arange(200).reshape(2, 100)",
      "np.array([], dtype=np.float64)", "np.array([], dtype=np.int64)", "np.zeros((0, 3))", "np.zeros((2, 0))",
      "np.linspace(0, 1, 30)", "np.arange(10, dtype=np.float32)", "np.zeros((1, 1, 1))",
    ])
  }

  @Test("float32 and float16 formats: digits past the shortest, type-dependent cutoffs")
  func narrowFloats() {
    NumpyHarness.compare(
      setup: "r = (np.arange(60) * 0.731 % 2.1 - 1.05)",
      expressions: [
        "r.astype(np.float32)", "r.reshape(3, 20).astype(np.float32)", "np.arange(1100).reshape(11, 100).astype(np.float32) / 3",
        "np.arange(17, dtype=np.float32) * 1.1", "np.arange(4, dtype=np.float16) / 3", "np.float32(3.4028235e38)",
        "np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32)", "np.array([2886.3, -7.58], dtype=np.float16)",
        "np.array([30000.0, -39000.0], dtype=np.float16)", "np.array([999.0, 1.0], dtype=np.float16)",
        "np.array([999999.0, 1.0], dtype=np.float32)", "np.array([1000000.0, 1.0], dtype=np.float32)",
        "np.array([0.1, 1.5, 60000.], dtype=np.float16) * 0.1", "np.array([0.1, 1.5, 7.25], dtype=np.float16) // 0.1",
        "np.array([0.1, 1.5, 7.25], dtype=np.float16) < 0.1", "r.reshape(2, 30) * 1e-6", "r.reshape(5, 12) * 1e9",
        "np.float64(5e-324)", "np.array([5e-324, 1.0])", "np.array([1.7976931348623157e308])", "np.array([2.5e-5, 1e5])",
        "np.array([-np.nan])", "np.array([1e-5, np.inf])", "np.array([-1.0, np.nan, 1e9])", "np.float64(1e22)",
        "np.float64(0.1 + 0.2)", "np.float32(0.1) + np.float32(0.2)", "np.array([[1.0, -1.0], [np.inf, 0.0]])",
        "np.arange(8.).reshape(2, 2, 2) * 1e-9", "np.array([1.5, 1e-5, 3e7])",
      ])
  }

  @Test("large arrays are summarised with edge items")
  func summarisation() {
    NumpyHarness.compare(expressions: [
      "np.arange(2000.)", "np.arange(1001) * 1.0", "np.arange(3000).reshape(1000, 3)", "np.arange(3000.).reshape(10, 300)",
      "np.arange(1001.).reshape(7, 143)", "np.arange(2002).reshape(2, 7, 143)", "np.arange(5000).reshape(5, 10, 100) * 0.5",
      "np.arange(1500) > 700", "np.arange(2000, dtype=np.float32).reshape(1000, 2)", "np.arange(1000)",
      "(np.arange(3000) * 0.37 % 1.3 - 0.6).reshape(100, 30)", "np.arange(40000).reshape(200, 200) / 3",
    ])
  }

  @Test("numpy scalars print as numpy 2 scalars")
  func scalars() {
    NumpyHarness.compare(expressions: [
      "np.float64(3)", "np.float64(1.5)", "np.float32(0.1)", "np.float32(1.0) / 3", "np.float64(1.0) / 3", "np.float32(1e-5)",
      "np.float32(16777217)", "np.float32(1e6)", "np.float32(999999.9)", "np.float32(1234567.0)", "np.float64(1e16)",
      "np.float64(123456789012.5)", "np.float64(-0.0)", "np.float64(np.nan)", "np.float64(np.inf) * -1", "np.int64(7)",
      "np.int64(-5)", "np.True_", "np.bool_(False)", "np.float16(0.1)", "np.float16(1000)", "np.float64(1e-5)",
      "np.float64(0.0001)", "np.arange(5)[2]", "np.arange(5.)[-1]", "np.sum(np.arange(10) * 0.1)",
      "np.array([True, False])[0]", "np.float32(2) * 3", "[np.float64(1.5), np.int64(2)]",
    ])
  }

  // MARK: - Arithmetic

  @Test("arithmetic broadcasts and promotes as numpy 2 (NEP 50)")
  func arithmetic() {
    NumpyHarness.compare(
      setup: """
        a = np.arange(12).reshape(3, 4)
        f = np.linspace(-1, 1, 7)
        g = f.astype(np.float32)
        b = np.array([True, False, True])
        n = np.array([-7, -3, 0, 3, 7])
        """,
      expressions: [
        "a * 2.5", "a / 3", "a // 5", "a % 5", "-a", "a ** 2", "2 ** a", "f ** 2", "f ** 0.5", "f ** -1", "g * 2.5", "g + f",
        "g * np.float64(2.5)", "np.float32(3) * np.array([1, 2])", "a + 1", "a + True", "b + b", "b * b", "1 - b", "b + 1.5",
        "n // 2", "n % 2", "n // -2", "n % -2", "n * 1.0 // 2", "n * 1.0 % -2", "np.array([-7.5, 7.5]) // np.array([2, -2])",
        "np.array([5, -5]) // np.array([0, 3])", "np.array([5., -5.]) % 0", "np.array([3]) / np.array([0])",
        "a - a[0]", "a - a[:, :1]", "f[:, None] * f[None, :3]", "a & 6", "a | 1", "a ^ 3", "~b", "~a", "b & b", "b | np.array([False, True, True])",
        "a << 1", "a >> 1", "np.array([1, 2], dtype=np.float32) * 2.5", "-np.array([1, 2], dtype=np.float16) * 3.3",
        "np.int64(3) + 1", "np.int64(3) / 2", "np.float32(0.1) + 0.2", "a @ a.T", "np.arange(3) @ np.arange(3)",
        "np.arange(6).reshape(2, 3) @ np.arange(3)", "np.ones((2, 3, 4)) @ np.ones((4, 2))", "1.5 * a", "10 - f", "2 / f[:3]",
        "np.array([1, 2]) * np.array([[1], [2], [3]])",
      ])
  }

  @Test("comparisons give bool arrays")
  func comparisons() {
    NumpyHarness.compare(
      setup: "a = np.arange(6).reshape(2, 3)\nf = np.array([np.nan, 0.5, 1.0])",
      expressions: [
        "a > 2", "a <= 2.5", "a == 3", "a != 3", "2 < a", "a == a.T[:2, :2].sum()", "f > 0.7", "f == f", "f != f",
        "np.float64(1.5) > 1", "a[0] < a[1]", "(a > 1) & (a < 4)", "(a > 4) | (a < 1)",
      ])
  }

  // MARK: - Indexing

  @Test("indexing reads as numpy")
  func indexing() {
    NumpyHarness.compare(
      setup: """
        a = np.arange(12).reshape(3, 4)
        f = np.linspace(-1, 1, 7)
        x = np.arange(24).reshape(2, 3, 4)
        labels = np.array([10, 20, 30, 40])
        """,
      expressions: [
        "a[1]", "a[-1]", "a[1, 2]", "a[-1, -1]", "a[:, 1]", "a[1:, ::2]", "a[::-1]", "a[:, ::-2]", "a[:2]", "a[5:]", "a[-2:, -3:]",
        "a[:, None, :].shape", "a[None]", "a[..., 1]", "a[1, ...]", "x[..., 0]", "x[0, ..., 1:]", "x[:, None, 1, :]", "a[np.newaxis, :, 1]",
        "a[[0, 2]]", "a[[0, 2], [1, 3]]", "a[np.array([[0, 1], [2, 0]])]", "labels[np.array([[0, 1], [3, 2]])]", "labels[[3, -1, 0]]",
        "a[:, [0, 0, 3]]", "a[[1], :]", "x[0, :, [0, 1]]", "x[:, [0, 2], 1]", "x[[0, 1], :, [1, 2]]", "x[1, [0, 2]]",
        "a[a % 2 == 0]", "f[f > 0]", "a[np.array([True, False, True])]", "a[:, np.array([True, False, True, False])]",
        "x[x > 20]", "a[a > 100]", "f[3]", "f[-7]", "a[1][2]", "a[()]",
      ])
  }

  @Test("assignment into arrays broadcasts and casts as numpy")
  func assignment() {
    let cases: [NumpyHarness.Case] = [
      .init(setup: "y = np.arange(5); y[0] = 9", expression: "y"),
      .init(setup: "y = np.arange(5); y[-1] = 2.7", expression: "y"),
      .init(setup: "y = np.zeros((3, 2)); y[:, 0] = 1", expression: "y"),
      .init(setup: "y = np.zeros((3, 2)); y[:, 0] = np.array([1, 2, 3])", expression: "y"),
      .init(setup: "y = np.zeros((3, 2)); y[1] = np.array([4, 5])", expression: "y"),
      .init(setup: "y = np.zeros((3, 2)); y[:] = np.array([7, 8])", expression: "y"),
      .init(setup: "y = np.linspace(-1, 1, 5); y[y < 0] = 0", expression: "y"),
      .init(setup: "y = np.arange(6.); y[y > 2] = np.array([10, 20, 30])", expression: "y"),
      .init(setup: "y = np.arange(6); y[[0, 2]] = -1", expression: "y"),
      .init(setup: "y = np.zeros((2, 3), dtype=np.float32); y[0, 1:] = 0.1", expression: "y"),
      .init(setup: "y = np.zeros((3, 3)); y[np.array([True, False, True])] = 5", expression: "y"),
      .init(setup: "y = np.zeros((2, 2)); y[..., 1] = 3", expression: "y"),
      .init(setup: "y = np.arange(4); y += 1", expression: "y"),
      .init(setup: "y = np.ones((2, 2)); y[0, 0] += 5", expression: "y"),
      .init(setup: "y = np.array([True, False]); y[1] = 1", expression: "y"),
    ]
    NumpyHarness.compare(cases)
  }

  // MARK: - Methods and functions

  @Test("reductions and array methods")
  func reductions() {
    NumpyHarness.compare(
      setup: """
        a = np.arange(12).reshape(3, 4)
        f = np.linspace(-1, 1, 7)
        g = f.astype(np.float32)
        b = np.array([True, False, True])
        w = (np.arange(3000) * 0.37 % 1.3 - 0.6).reshape(1000, 3)
        """,
      expressions: [
        "a.sum()", "a.sum(0)", "a.sum(axis=1, keepdims=True)", "a.sum(axis=(0, 1))", "a.mean()", "a.mean(1)", "f.mean()",
        "f.std()", "g.std()", "g.mean()", "a.var(0)", "a.std(ddof=1)", "a.max(1)", "a.min()", "a.argmax()", "a.argmin(0)",
        "f.cumsum()", "a.cumsum(1)", "a.prod(0)", "b.any()", "b.all()", "(a > 3).mean()", "np.sum(b)", "np.prod(np.arange(1, 6))",
        "np.cumsum(b)", "w.sum()", "w.sum(0)", "w.sum(1)[:5]", "w.mean(0)", "w.std(0)", "w.var()", "np.mean(w, axis=-1)[-3:]",
        "w.sum().item()", "w.mean().item()", "w.std().item()", "np.arange(100000).mean()", "(np.arange(100000) * 0.1).sum()",
        "a.tolist()", "a.shape", "a.dtype", "a.ndim", "a.size", "f.item(2)", "a.item(1, 2)", "a.astype(np.float32) / 3",
        "a.reshape(4, -1)", "a.reshape((2, 6))", "a.reshape(-1)", "a.T", "a.transpose()", "a.reshape(2, 3, 2).transpose(1, 0, 2)",
        "a.flatten()", "a.ravel()", "a.copy()", "f.round(2)", "np.round(f * 10)", "np.round(np.array([0.5, 1.5, 2.5, -0.5]))",
        "np.max(a, axis=0)", "np.amin(a)", "np.argmax(f)", "np.std(a, axis=0)", "np.var(f)", "np.median(f)", "np.median(a, axis=1)",
        "np.count_nonzero(f > 0)", "np.count_nonzero(a, axis=0)", "a.clip(2, 8)", "np.ptp(a)",
      ])
  }

  @Test("sums follow numpy's order exactly (pairwise runs, buffered casts)")
  func summationOrder() {
    NumpyHarness.compare(
      setup: """
        u = (np.arange(6576) * 3.89123 % 1.74840 - 1.1) * 1e3
        v = (np.arange(20000) * 0.78916 % 1.90483 - 1.1)
        k = (np.arange(30000) * 7 % 1001 - 500)
        """,
      expressions: [
        "u.sum().item()", "u.reshape(6, 8, 137).sum(axis=(0, -1)).tolist()", "u.reshape(6, 8, 137).sum(axis=(0, 1)).tolist()[:4]",
        "u.reshape(6, 8, 137).sum(axis=1).tolist()[0][:4]", "u.reshape(48, 137).sum(0).tolist()[:4]", "u.reshape(48, 137).sum(1).tolist()[:4]",
        "u.reshape(6, 8, 137).var(axis=(0, -1)).tolist()", "v.sum().item()", "v.mean().item()", "v.std().item()", "v.var(ddof=1).item()",
        "v.astype(np.float32).sum().item()", "v.astype(np.float32).mean().item()", "v.reshape(100, 200).mean(1).tolist()[:3]",
        "k.mean().item()", "k.std().item()", "k.reshape(3, 10000).mean(1).tolist()", "np.cumsum(v)[-1].item()", "(1 + v * 1e-3).prod().item()",
      ])
  }

  @Test("elementwise functions")
  func elementwise() {
    NumpyHarness.compare(
      setup: "a = np.arange(12).reshape(3, 4)\nf = np.linspace(-1, 1, 7)",
      expressions: [
        "np.sqrt(a)", "np.exp(f)", "np.log(np.arange(1, 5))", "np.log10(np.array([1., 10., 1000.]))", "np.abs(f)", "np.abs(-a)",
        "np.sign(f)", "np.sign(a - 5)", "np.floor(f * 3)", "np.ceil(f * 3)", "np.floor(a)", "np.round(f, 2)", "np.around(f, 1)",
        "np.maximum(f, 0)", "np.minimum(a, 5)", "np.maximum(np.array([np.nan, 1.0]), 0.5)", "np.clip(f, -0.5, 0.5)",
        "np.clip(a, 3, None)", "np.where(f > 0, f, 0)", "np.where(a > 5, a, -a)", "np.where(f > 0)", "np.sin(f)", "np.cos(f)",
        "np.tanh(f)", "np.arctan(f)", "np.arctan2(f, 1.0)", "np.isnan(np.array([1., np.nan]))", "np.isfinite(np.array([1., np.inf, np.nan]))",
        "np.allclose(f, f + 1e-10)", "np.allclose(f, f + 1e-3)", "np.isclose(f, 0)", "np.sqrt(2)", "np.exp(1)", "np.sqrt(np.float32(2))",
        "np.abs(-3)", "np.square(f)", "np.power(a, 2)", "np.add(a, 1)", "np.multiply(f, 2)", "np.divide(a, 4)", "np.negative(f)",
        "np.logical_and(a > 2, a < 6)", "np.nonzero(a > 8)",
      ])
  }

  @Test("array creation, joining, sorting and products")
  func creation() {
    NumpyHarness.compare(
      setup: "a = np.arange(12).reshape(3, 4)\nf = np.linspace(-1, 1, 7)",
      expressions: [
        "np.zeros((2, 3))", "np.zeros(3, dtype=np.int64)", "np.ones(3, dtype=np.int64)", "np.ones((2, 2), dtype=np.float32)",
        "np.empty(2).shape", "np.full((2, 2), 7)", "np.full(3, 0.5)", "np.full((2,), True)", "np.zeros_like(a)", "np.ones_like(f)",
        "np.eye(3)", "np.eye(2, 3, k=1)", "np.identity(2, dtype=np.int64)", "np.arange(5)", "np.arange(2, 8, 2)", "np.arange(0, 1, 0.1)",
        "np.arange(1, 2, 0.15)", "np.arange(10, dtype=np.float32)", "np.arange(0.5, 3)", "np.arange(5, 0, -1)", "np.linspace(0, 10, 4)",
        "np.linspace(0, 1, 5, endpoint=False)", "np.linspace(-2.5, 7.25, 13)", "np.linspace(0, 1, 1)", "np.array([[1, 2], [3, 4.5]])",
        "np.array([1, 2], dtype=np.float32)", "np.array([True, 2])", "np.asarray([1.5, 2])", "np.array((1, 2, 3))", "np.array([np.float32(1), 2.0])",
        "np.array(a)", "np.float64(3)", "np.int64(2.7)", "np.float32(np.arange(3))", "np.concatenate([a, a])",
        "np.concatenate([a, a], axis=1)", "np.concatenate([f, np.arange(3)])", "np.stack([f, f])", "np.stack([f, f], axis=1).shape",
        "np.vstack([f, f]).shape", "np.hstack([f, f])", "np.column_stack([f, f]).shape", "np.sort(np.array([3, 1, 2]))",
        "np.sort(np.array([[3., 1., np.nan], [0., -1., 5.]]))", "np.sort(a, axis=0)", "np.argsort(np.array([3., 1., 2., 1.]))",
        "np.argsort(a * -1, axis=1)", "np.argsort(np.array([2, 1, 2, 1, 0]))", "np.unique(np.array([3, 1, 2, 3, 1]))",
        "np.unique(np.array([3., 1., 3.]), return_counts=True)", "np.dot(f, f)", "np.dot(a, np.arange(4))", "np.outer(np.arange(3), np.arange(3))",
        "np.diag(np.arange(3))", "np.diag(a)", "np.trace(a[:, :3])", "np.matmul(a, a.T)", "np.expand_dims(f, 0).shape", "np.squeeze(a[None]).shape",
        "np.flip(f)", "np.swapaxes(a, 0, 1)", "np.reshape(a, (2, -1))", "np.transpose(a)", "a.T.copy()",
      ])
  }

  @Test("linear algebra")
  func linalg() {
    NumpyHarness.compare(
      setup: """
        A = np.array([[4., 1., 0.5], [1., 3., 0.25], [0.5, 0.25, 2.]])
        rhs = np.array([1., 2., 3.])
        f = np.linspace(-1, 1, 7)
        a = np.arange(12).reshape(3, 4)
        """,
      expressions: [
        "np.linalg.norm(f)", "np.linalg.norm(a)", "np.linalg.norm(a, axis=1)", "np.linalg.norm(a, axis=0)", "np.linalg.norm(f, ord=1)",
        "np.linalg.norm(f, ord=np.inf)", "np.linalg.norm(a, ord='fro')", "np.linalg.norm(a, ord=1)", "np.linalg.norm(a, ord=np.inf)",
        "np.round(np.linalg.norm(A, ord=2), 10)", "np.linalg.norm(a, axis=1, keepdims=True)",
        "np.round(np.linalg.solve(A, rhs), 12)", "np.round(np.linalg.solve(A, np.eye(3)), 12)",
        "np.round(np.linalg.inv(np.array([[2., 1.], [1., 3.]])), 12)", "np.linalg.solve(np.array([[2., 1.], [1., 3.]]), np.array([1., 2.]))",
        "np.round(np.linalg.cholesky(A), 12)", "np.linalg.det(np.array([[1., 2.], [3., 4.]]))", "np.round(np.linalg.eigh(A)[0], 12)",
        "np.round(np.abs(np.linalg.eigh(A)[1]), 12)", "np.round(np.linalg.eigvalsh(A), 12)", "np.linalg.solve(A.astype(np.float32), rhs.astype(np.float32)).dtype",
        "np.round(np.linalg.svd(A)[1], 10)", "np.round(A @ np.linalg.solve(A, rhs), 12)",
      ])
  }

  // MARK: - ks-only checks

  @Test("random functions draw the asked shapes, dtypes and ranges")
  func random() {
    let run = NumpyHarness.ks(
      """
      import numpy as np
      np.random.seed(3)
      print(np.random.randn(4, 2).shape, np.random.rand(3).dtype)
      r = np.random.randint(2, 5, size=1000)
      print(r.dtype, r.min() >= 2, r.max() <= 4, r.shape)
      print(np.random.randint(0, 1))
      u = np.random.uniform(-1, 1, (10, 10))
      print(u.shape, u.min() >= -1, u.max() < 1)
      g = np.random.normal(3, 0.1, 5000)
      print(abs(g.mean() - 3) < 0.01, abs(g.std() - 0.1) < 0.01)
      p = np.random.permutation(10)
      print(np.sort(p))
      c = np.random.choice(10, 10, replace=False)
      print(np.sort(c))
      print(np.random.choice(5, size=(2, 3)).shape)
      print(np.random.permutation(np.arange(6).reshape(3, 2)).shape)
      """)
    #expect(run.errors == "")
    #expect(
      run.output == """
        (4, 2) float64
        int64 True True (1000,)
        0
        (10, 10) True True
        True True
        [0 1 2 3 4 5 6 7 8 9]
        [0 1 2 3 4 5 6 7 8 9]
        (2, 3)
        (3, 2)

        """)
    let a = NumpyHarness.ks("import numpy as np\nnp.random.seed(7)\nprint(np.random.randn(3))\n").output
    let b = NumpyHarness.ks("import numpy as np\nnp.random.seed(7)\nprint(np.random.randn(3))\n").output
    #expect(a == b, "np.random.seed makes draws reproducible")
  }

  @Test("errors carry numpy's messages and point at the offending code")
  func errors() {
    func check(_ script: String, _ message: String, caret: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
      let e = NumpyHarness.error(script)
      #expect(e.contains(message), "expected '\(message)' in:\n\(e)", sourceLocation: sourceLocation)
      if let caret { #expect(e.contains(caret), "expected the caret line '\(caret)' in:\n\(e)", sourceLocation: sourceLocation) }
    }
    check("a = np.ones((3, 2))\nb = np.ones(4)\na + b", "operands could not be broadcast together with shapes (3,2) (4,)", caret: "| ^~~~~")
    check("x = np.arange(10)\nx[10]", "index 10 is out of bounds for axis 0 with size 10", caret: "|   ^~")
    check("x = np.zeros((2, 5))\nx[1, -6]", "index -6 is out of bounds for axis 1 with size 5", caret: "|      ^~")
    check("x = np.arange(3)\nx[[0, 5]]", "index 5 is out of bounds for axis 0 with size 3")
    check("x = np.arange(3)\nx[1, 2]", "too many indices for array: array is 1-dimensional, but 2 were indexed")
    check("x = np.arange(3)\nx[np.array([True, False])]", "boolean index did not match indexed array along axis 0; size of axis is 3 but size of corresponding boolean axis is 2")
    check("x = np.arange(3)\nx[1.5]", "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are valid indices")
    check("np.linalg.solve(np.ones((2, 2)), np.ones(2))", "Singular matrix")
    check("np.linalg.inv(np.zeros((2, 2)))", "Singular matrix")
    check("np.linalg.solve(np.ones((2, 3)), np.ones(2))", "Last 2 dimensions of the array must be square")
    check("np.linalg.cholesky(np.array([[1., 2.], [2., 1.]]))", "Matrix is not positive definite")
    check("np.ones((2, 3)) @ np.ones((2, 3))", "matmul: Input operand 1 has a mismatch in its core dimension 0")
    check("np.arange(6).reshape(4, -1)", "cannot reshape array of size 6 into shape (4,newaxis)")
    check("np.ones(3).reshape(2, 2)", "cannot reshape array of size 3 into shape (2,2)")
    check("np.dot(np.ones(3), np.ones(2))", "shapes (3,) and (2,) not aligned: 3 (dim 0) != 2 (dim 0)")
    check("np.linalg.solve(np.eye(3), np.ones(2))", "solve1: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (m,m),(m)->(m) (size 2 is different from 3)", caret: ":2:28: error")
    check("np.arange(6).sum(axis=2)", "axis 2 is out of bounds for array of dimension 1")
    check("np.arange(3) ** -1", "Integers to negative integer powers are not allowed.")
    check("-np.array([True])", "The numpy boolean negative, the `-` operator, is not supported")
    check("np.array([1.5]) & 1", "ufunc 'bitwise_and' not supported for the input types")
    check("y = np.zeros(3)\ny[:2] = np.ones(3)", "could not broadcast input array from shape (3,) into shape (2,)")
    check("y = np.zeros(3)\ny[y == 0] = np.ones(2)", "NumPy boolean array indexing assignment cannot assign 2 input values to the 3 output values where the mask is true")
    check("np.array([[1, 2], [3]])", "setting an array element with a sequence. The requested array has an inhomogeneous shape after 1 dimensions.")
    check("np.zeros(3).max(axis=0) + np.zeros((0,)).max()", "zero-size array to reduction operation maximum which has no identity")
    check("if np.arange(3) > 1:\n  pass", "the truth value of an array with more than one element is ambiguous")
  }

  @Test("numpy scalars work as Python numbers")
  func scalarInterop() {
    let run = NumpyHarness.ks(
      """
      import numpy as np
      x = np.arange(5)
      items = ["a", "b", "c", "d", "e"]
      print(items[x[2]], items[np.argmax(x)])
      print(list(range(np.int64(3))), int(x[3]) + 1, float(np.float32(0.5)))
      print(x[1].item() + 1, x.sum().item())
      s = 0
      for v in x:
          s = s + v
      print(s, repr(s))
      print(f"{np.float64(2.5):.3f}", np.float64(1.5) == 1.5, 2 in x, 7 in x)
      print(len(np.zeros((4, 2))), np.zeros((4, 2)).shape[1])
      """)
    #expect(run.errors == "")
    #expect(
      run.output == """
        c e
        [0, 1, 2] 4 0.5
        2 10
        10 np.int64(10)
        2.500 True True False
        4 2

        """)
  }
}
