import ArrayIO
import KSDiagnostics
import KernelOperations
import ShellRuntime
import ShellSyntax

/// A Genred object of the shell: the definition and the formula it was made from.
public struct GenredObject: ShellObject {
  public var genred: Genred
  public var name: String

  public init(genred: Genred, name: String) {
    self.genred = genred
    self.name = name
  }

  public var typeName: String { "Genred" }
  public func repr(with options: PrintOptions) -> String { "<Genred \(name)>" }

  public func attribute(_ attribute: String, at range: SourceRange, in interpreter: Interpreter) throws -> Value? {
    attribute == "formula" ? .str(genred.formulaText) : nil
  }

  public func call(_ ctx: inout CallContext) throws -> Value {
    try KeOpsBuiltins.callGenred(self, &ctx)
  }
}

/// A KernelSolve object of the shell.
public struct KernelSolveObject: ShellObject {
  public var solver: KernelSolve
  public var name: String

  public init(solver: KernelSolve, name: String) {
    self.solver = solver
    self.name = name
  }

  public var typeName: String { "KernelSolve" }
  public func repr(with options: PrintOptions) -> String { "<KernelSolve \(name)>" }

  public func call(_ ctx: inout CallContext) throws -> Value {
    try KeOpsBuiltins.callKernelSolve(self, &ctx)
  }
}

extension SolveProgress: RuntimeEvent {}
extension SolveReport: RuntimeEvent {}

/// PyKeOps' numpy binding as a library of the language: `Genred`, `KernelSolve` and the
/// `pykeops` modules.
public enum PyKeOpsLibrary {
  /// The library to install into an interpreter.
  public static let library: ShellLibrary = {
    let genred = Builtins.fn("Genred") { (ctx: inout CallContext) throws(ShellError) -> Value in
      try KeOpsBuiltins.makeGenred(&ctx)
    }
    let kernelSolve = Builtins.fn("KernelSolve") { (ctx: inout CallContext) throws(ShellError) -> Value in
      try KeOpsBuiltins.makeKernelSolve(&ctx)
    }
    let members: [String: Value] = ["Genred": genred, "KernelSolve": kernelSolve]
    return ShellLibrary(
      globals: members,
      modules: [ShellModule("pykeops", members: [:]), ShellModule("pykeops.numpy", members: members)])
  }()
}
