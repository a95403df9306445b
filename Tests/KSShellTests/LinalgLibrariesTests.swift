import Testing

@testable import NumpySubset

/// LAPACKE and CBLAS are opened at run time; these tests point the loader at libraries that do
/// not exist (or lack the symbols) and check what ks does then.
@Suite("LAPACK and BLAS loaded at run time")
struct LinalgLibrariesTests {
  @Test("the default libraries load here (the numpy comparison tests use them)")
  func defaultsLoad() throws {
    #expect(throws: Never.self) { try LinalgLibraries.loadLapack(LinalgLibraries.defaultLapackNames).get() }
    #expect(LinalgLibraries.loadBlas(LinalgLibraries.defaultBlasNames) != nil)
  }

  @Test("without LAPACKE each np.linalg function that needs it fails with one clear line")
  func missingLapack() {
    let cases = [
      ("np.linalg.solve(np.eye(2), np.ones(2))", "np.linalg.solve"),
      ("np.linalg.inv(np.eye(2))", "np.linalg.inv"),
      ("np.linalg.cholesky(np.eye(2))", "np.linalg.cholesky"),
      ("np.linalg.eigh(np.eye(2))", "np.linalg.eigh"),
      ("np.linalg.eigvalsh(np.eye(2))", "np.linalg.eigvalsh"),
      ("np.linalg.det(np.eye(2))", "np.linalg.det"),
      ("np.linalg.svd(np.eye(2))", "np.linalg.svd"),
      ("np.linalg.norm(np.eye(2), ord=2)", "np.linalg.norm"),
    ]
    LinalgLibraries.$lapackNamesOverride.withValue(["liblapacke-ks-missing.so.3", "liblapacke-ks-missing.so"]) {
      for (script, function) in cases {
        let e = NumpyHarness.error(script, onCallerThread: true)
        let line = "\(function) needs LAPACK (liblapacke-ks-missing.so.3 not found); install liblapacke or run on a machine that has it"
        #expect(e.contains("error: " + line + "\n"), "expected '\(line)' in:\n\(e)")
      }
      // Everything that does not need LAPACK still works.
      let run = NumpyHarness.ks("import numpy as np\nprint(np.linalg.norm(np.array([3., 4.])), np.eye(2) @ np.ones(2))\n", onCallerThread: true)
      #expect(run.errors == "")
      #expect(run.output == "5.0 [1. 1.]\n")
    }
  }

  @Test("a library without the LAPACKE symbols is named in the error")
  func libraryWithoutSymbols() {
    LinalgLibraries.$lapackNamesOverride.withValue(["libm.so.6"]) {
      let e = NumpyHarness.error("np.linalg.solve(np.eye(2), np.ones(2))", onCallerThread: true)
      #expect(e.contains("np.linalg.solve needs LAPACK (libm.so.6 has no LAPACKE_sgesv); install liblapacke"), "\(e)")
    }
  }

  @Test("without CBLAS matrix products use the Swift loop and agree with BLAS")
  func missingBlas() {
    let script = """
      import numpy as np
      a = np.arange(12.).reshape(3, 4) / 7
      b = np.arange(20.).reshape(4, 5) - 3.5
      print(np.round(a @ b, 12))
      print(np.round(np.dot(a.astype(np.float32), b.astype(np.float32)), 4))
      print(np.ones((2, 0)) @ np.ones((0, 3)))
      print(np.round(np.ones((2, 3, 4)) @ b, 12))

      """
    let withBlas = NumpyHarness.ks(script, onCallerThread: true)
    #expect(withBlas.errors == "")
    LinalgLibraries.$blasNamesOverride.withValue(["libcblas-ks-missing.so"]) {
      #expect(LinalgLibraries.blas == nil)
      let without = NumpyHarness.ks(script, onCallerThread: true)
      #expect(without.errors == "")
      #expect(without.output == withBlas.output)
    }
  }
}
