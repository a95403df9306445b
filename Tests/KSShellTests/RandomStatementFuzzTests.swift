import Foundation
import Testing

/// A random-statement fuzzer over whole `ks run` processes: seeded random statements built from
/// numpy, KeOps and Python pieces with hostile arguments (huge, negative, overflowing, wrong
/// types). Whatever a statement does, the process must end by itself with status 0 or 1 — never
/// by a signal (a trap, an abort, an out-of-memory kill), never hanging.
@Suite struct RandomStatementFuzzTests {
  /// A small seeded generator (SplitMix64), so that a failure names a reproducible seed.
  struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
  }

  static let sizes = [
    "0", "1", "3", "-1", "-5", "7", "10**12", "2**62", "2**63 - 1", "10**10", "2**31", "(3, 4)", "(1, 10**12)",
    "(10**6, 10**6)", "()", "(2, -3)", "2.5", "None", "'a'", "[2, 3]", "(2**32, 2**32)", "-2**63",
  ]
  static let values = [
    "x", "y", "b", "a", "x[0]", "x[:, 0]", "b.T", "np.ones(3)", "1", "0", "-1", "2.5", "float('nan')",
    "float('inf')", "1e308", "True", "None", "'s'", "[1, 2]", "(1, 2)", "{}", "np.array(3.5)", "x[x > 0]",
    "np.arange(6).reshape(2, 3)", "np.zeros((0, 3))",
  ]
  static let formulas = [
    "Exp(-SqDist(x,y))*b", "Extract(x, 9223372036854775807, 1)", "ExtractT(x, 1, 9223372036854775807)",
    "Zero(4000000000000)", "TensorProd(x, y)", "Sum(x) * b", "Norm2(x - y)", "OneHot(b, 10**12)", "x",
    "Elem(x, -1)", "Concat(x, Zero(1048576))", "Var(4095, 3, 0)", "IntInv(0)", "RatCst(1, 0)",
  ]
  static let reductions = ["'Sum'", "'ArgKMin'", "'Min_ArgMin'", "'LogSumExp'", "'KMin'", "'Bogus'"]

  static func statement(_ g: inout Generator) -> String {
    let s = { (g: inout Generator) in sizes[Int(g.next() % UInt64(sizes.count))] }
    let v = { (g: inout Generator) in values[Int(g.next() % UInt64(values.count))] }
    switch g.next() % 32 {
    case 0: return "a = np.\(g.pick(["zeros", "ones", "empty"]))(\(s(&g)))"
    case 1: return "a = np.full(\(s(&g)), \(v(&g)))"
    case 2: return "np.linspace(\(v(&g)), \(v(&g)), \(s(&g)))"
    case 3: return "np.arange(\(v(&g)), \(s(&g)), \(v(&g)))"
    case 4: return "np.random.\(g.pick(["randn", "rand"]))(\(s(&g)), \(s(&g)))"
    case 5: return "randn(\(s(&g)))"
    case 6: return "np.random.randint(\(v(&g)), \(v(&g)), size=\(s(&g)))"
    case 7: return "np.eye(\(s(&g)))"
    case 8: return "np.diag(\(v(&g)), \(s(&g)))"
    case 9: return "\(v(&g)) \(g.pick(["+", "*", "@", "/", "//", "%", "**", "-", "<", "&"])) \(v(&g))"
    case 10: return "np.ones(\(s(&g))) + np.ones(\(s(&g)))"
    case 11: return "(\(v(&g))).reshape(\(s(&g)))"
    case 12: return "(\(v(&g))).repeat(\(s(&g)))"
    case 13: return "np.concatenate([\(v(&g)), \(v(&g))] * \(s(&g)))"
    case 14: return "[0] * \(s(&g))"
    case 15: return "'ab' * \(s(&g))"
    case 16: return "(\(v(&g)))[\(s(&g))]"
    case 17:
      return "Genred('\(g.pick(formulas))', ['x = Vi(3)', 'y = Vj(3)', 'b = Vj(1)'], reduction_op=\(g.pick(reductions)), axis=\(g.pick(["0", "1", "2"])), opt_arg=\(g.pick(["None", "3", "10**18", "0"])))"
    case 18: return "K(\(v(&g)), \(v(&g)), \(v(&g))\(g.pick(["", ", alpha=3", ", backend='reference'", ", bogus=1"])))"
    case 19:
      return "Kinv(x, x, \(g.pick(["b", "b[:5]", "b.astype('int64')", "np.zeros((40, 1))", "x"])), alpha=\(g.pick(["0.1", "-1", "float('nan')", "0", "1e308"])), eps=\(g.pick(["1e-6", "0", "-1", "1e-300", "float('inf')"])), maxiter=\(g.pick(["None", "0", "1", "5", "-3", "2.5"])))"
    case 20: return "np.\(g.pick(["sum", "mean", "sort", "argsort", "unique", "cumsum", "std"]))(\(v(&g)), axis=\(g.pick(["None", "0", "1", "-1", "5", "2**62"])))"
    case 21: return "np.linalg.\(g.pick(["norm", "solve", "inv", "det"]))(\(v(&g)))"
    case 22: return "'{:>\(g.pick(["5", "10**12", "-1", "2**62"]))}'.format(\(v(&g)))"
    // The language beyond expressions, and LazyTensors (x_i, y_j made in the prelude).
    case 24: return "f(\(v(&g)), \(g.pick(["", "k=\(s(&g))", "*\(v(&g))", "**{'z': 1}", "\(v(&g)), \(v(&g))"])))"
    case 25: return "rec(\(s(&g)))"
    case 26: return "try:\n    \(g.pick(["1 / 0", "x[10**12]", "raise ValueError(\(v(&g)))", "rec(2000)", "assert \(v(&g))"]))\nexcept \(g.pick(["Exception", "(IndexError, ZeroDivisionError)", "KeyboardInterrupt", "\(v(&g))"])) as e:\n    print(type(e).__name__)"
    case 27: return "(lambda q=\(v(&g)): q \(g.pick(["+", "*", "**"])) \(v(&g)))()"
    case 28: return "LazyTensor(\(g.pick(["x", "x[:, None, :]", "x[None]", "b", "np.ones((2, 3, 4, 5))", "3", "2.5", "(0, 3, 9)", "[1, 2]"])))\(g.pick(["", ".sum(1)", ".exp()", "[5]", ".argKmin(\(s(&g)), axis=1)"]))"
    case 29: return "(x_i - y_j).\(g.pick(["sum(-1)", "sqnorm2()", "norm2()", "abs()"])).\(g.pick(["sum", "min", "logsumexp", "argKmin"]))(\(g.pick(["axis=1", "axis=0", "axis=\(s(&g))", "3, axis=1", "dim=1"])))"
    case 30: return "(-(x_i - y_j).sqnorm2()).exp() @ \(g.pick(["b", "np.ones(30)", "np.ones((30, 2))", "x", "\(v(&g))"]))"
    case 31: return "(-(x_i.sqdist(x_j))).exp().solve(\(g.pick(["b", "b[:, 0]", "x", "np.ones((3, 1))", "\(v(&g))"])), alpha=\(g.pick(["0.1", "-1", "0", "float('nan')"])))"
    default: return "np.\(g.pick(["stack", "vstack", "hstack"]))([\(v(&g)), \(v(&g))])"
    }
  }

  static let prelude = """
    :engine reference
    import numpy as np
    x = np.random.randn(40, 3); y = np.random.randn(30, 3); b = np.random.randn(40, 1); a = np.ones(4)
    K = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)
    Kinv = KernelSolve("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], "b", axis=1)
    def f(p, q=1, *rest, k=2, **kw):
        return p + q + k + len(rest) + len(kw)
    def rec(n):
        return 0 if n <= 0 else 1 + rec(n - 1)
    x_i = LazyTensor(x[:, None, :]); x_j = LazyTensor(x[None, :, :]); y_j = LazyTensor(y[None, :, :])

    """

  /// 4 processes x 500 statements (KS_FUZZ_STATEMENTS=N for more), each seed a different
  /// stream; a 256 MiB array cap.
  @Test(arguments: [11, 22, 33, 44] as [UInt64])
  func randomStatementsNeverKillKS(seed: UInt64) throws {
    var g = Generator(state: seed)
    let count = ProcessInfo.processInfo.environment["KS_FUZZ_STATEMENTS"].flatMap { Int($0) } ?? 500
    let statements = (0..<count).map { _ in Self.statement(&g) }
    let path = try KSProcess.script(Self.prelude + statements.joined(separator: "\n") + "\nprint('survived')\n")
    let r = try KSProcess.run(["run", "--keep-going", path], environment: ["KS_MAX_ARRAY_BYTES": "\(256 << 20)"], timeout: 300)
    // The script stays for a failure to be replayed (`ks run --keep-going PATH`).
    let signal = r.killedBySignal, timedOut = r.timedOut, status = r.status, survived = r.stdout.hasSuffix("survived\n")
    if !signal && !timedOut && survived { try? FileManager.default.removeItem(atPath: path) }
    let tail = String(r.stderr.suffix(1500))
    #expect(!signal, "seed \(seed): ks died by a signal (replay: ks run --keep-going \(path)):\n\(tail)")
    #expect(!timedOut, "seed \(seed): ks did not finish (replay: ks run --keep-going \(path)):\n\(tail)")
    #expect(status == 0 || status == 1, "seed \(seed): exit status \(status)")
    #expect(survived, "seed \(seed): the last statement did not run (replay: ks run --keep-going \(path))")
  }
}
