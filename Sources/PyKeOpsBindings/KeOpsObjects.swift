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
    let genred = Builtins.fn(
      "Genred",
      doc: FunctionDoc(
        "Genred(formula, aliases, reduction_op='Sum', axis=0, dtype=None, opt_arg=None, formula2=None, ...); call: K(*args, backend='auto', device_id=-1, ranges=None)",
        "a kernel reduction out_i = Red_j F(x_i, y_j, ...); call it on arrays",
        "K = Genred(\"Exp(-SqDist(x, y)) * b\", [\"x = Vi(3)\", \"y = Vj(3)\", \"b = Vj(1)\"], axis=1)")
    ) { (ctx: inout CallContext) throws(ShellError) -> Value in
      try KeOpsBuiltins.makeGenred(&ctx)
    }
    let kernelSolve = Builtins.fn(
      "KernelSolve",
      doc: FunctionDoc(
        "KernelSolve(formula, aliases, varinvalias, axis=0, dtype=None, ...); call: Kinv(*args, alpha=1e-10, eps=1e-6, maxiter=10000, precond='auto', method='auto', backend='auto', ranges=None)",
        "solve (alpha Id + K) a = b by conjugate gradient (preconditioned: precond='nystrom'/'jacobi'/None) or directly (method='direct'); see docs/solvers.md",
        "Kinv = KernelSolve(\"Exp(-SqDist(x, y)) * a\", [\"x = Vi(3)\", \"y = Vj(3)\", \"a = Vj(1)\"], \"a\", axis=1)")
    ) { (ctx: inout CallContext) throws(ShellError) -> Value in
      try KeOpsBuiltins.makeKernelSolve(&ctx)
    }
    var members: [String: Value] = ["Genred": genred, "KernelSolve": kernelSolve]
    members["LazyTensor"] = .object(LazyTensorClass())
    members["ComplexLazyTensor"] = .object(LazyTensorClass(complex: true))
    // Vi(x), Vj(x), Pm(x): LazyTensor(x, axis=0/1/2); Vi(ind, dim) etc. make a symbolic variable.
    let axisWords = ["Vi": "an i-indexed (axis 0)", "Vj": "a j-indexed (axis 1)", "Pm": "a parameter (axis 2)"]
    for (name, category) in [("Vi", 0), ("Vj", 1), ("Pm", 2)] {
      let doc = FunctionDoc(
        "\(name)(x) / \(name)(ind, dim)", "\(axisWords[name]!) LazyTensor from an array, or a symbolic variable",
        name == "Pm" ? "s = Pm(np.array([0.5]))" : (name == "Vi" ? "x_i = Vi(x)" : "y_j = Vj(y)"))
      members[name] = Builtins.anyFn(name, doc: doc) { ctx in
        let x = try ctx.required(0, "x_or_ind")
        let dim = try ctx.optional(1, "dim").flatMap { $0.isNone ? nil : $0 }
        try ctx.finish(maxPositional: 2)
        if let dim {
          let d = try ctx.int(dim, "dim", at: ctx.rangeOf(1, "dim"))
          let ind = try ctx.int(x, "ind", at: ctx.rangeOf(0))
          return .object(try LazyTensorObject.make(.tuple([.int(ind), .int(d), .int(category)]), axis: nil, at: ctx.range, in: ctx.interpreter))
        }
        if case .array(let a) = x, category == 2, a.rank == 2 {
          throw ShellError("Pm(x) needs a number, a list or a 1-D array", type: "ValueError", at: ctx.rangeOf(0))
        }
        return .object(try LazyTensorObject.make(x, axis: category, at: ctx.rangeOf(0), in: ctx.interpreter))
      }
    }
    return ShellLibrary(
      globals: ["Genred": genred, "KernelSolve": kernelSolve, "LazyTensor": members["LazyTensor"]!],
      modules: PyKeOpsModules.modules(numpy: members))
  }()
}
