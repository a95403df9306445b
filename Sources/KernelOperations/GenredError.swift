import FormulaLanguage
import KSDiagnostics
import KernelEngines

/// Why a Genred or KernelSolve definition or call failed. The shell places each case: formula
/// errors inside the formula string, option errors at the keyword, argument errors at the argument.
public enum OperationError: Error, Sendable, CustomStringConvertible {
  /// A problem inside the formula, formula2 or an alias string.
  case formula(FormulaError)
  /// A bad keyword option, e.g. `sum_scheme="block"`.
  case option(name: String, message: String)
  /// A bad call argument (index into the positional arguments).
  case argument(index: Int, message: String)
  /// A problem with the call as a whole (argument count, sizes).
  case call(String)
  /// The engine failed or was interrupted.
  case engine(EngineError)

  public var description: String {
    switch self {
    case .formula(let e): return e.diagnostic.message
    case .option(let name, let message): return "\(name): \(message)"
    case .argument(let index, let message): return "argument \(index): \(message)"
    case .call(let message): return message
    case .engine(let e): return e.description
    }
  }
}
