import DenseLinearAlgebra
import KSDiagnostics
import ShellRuntime

/// numpy's name for the run-time LAPACKE/CBLAS loader, which lives in DenseLinearAlgebra (below
/// KernelOperations, which uses it too).
typealias LinalgLibraries = LinearAlgebraLibraries

extension LinearAlgebraLibraries {
  /// LAPACKE, or an error naming `function` (e.g. "np.linalg.solve") and what is missing.
  static func lapack(for function: String, at range: SourceRange) throws(ShellError) -> Lapack {
    switch lapack {
    case .success(let l): return l
    case .failure(let f):
      throw ShellError(
        "\(function) needs LAPACK (\(f.reason)); install liblapacke or run on a machine that has it", at: range)
    }
  }
}
