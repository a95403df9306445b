import FormulaLanguage
import Foundation
import KSDiagnostics
import KernelOperations
import PyKeOpsBindings
import ShellRuntime
import ShellSyntax

// MARK: - :help

/// The text of `:help`, `:help TOPIC`, `?TOPIC` and `help(x)`.
///
/// Functions carry their own help (`BuiltinFunction.doc`, written where each is declared); this
/// only finds and lays it out.
enum HelpText {
  /// The modules whose functions `:help numpy` lists, with the prefix they are called with.
  static let numpyModules = [("numpy", "np."), ("numpy.random", "np.random."), ("numpy.linalg", "np.linalg.")]
  /// Other modules whose functions have help (`math.floor`, `time.sleep`, ...).
  static let otherModules = [
    ("math", "math."), ("time", "time."), ("pykeops", "pykeops."), ("pykeops.numpy", "pykeops.numpy."),
    ("pykeops.common.gpu_utils", "pykeops.common.gpu_utils."),
  ]

  /// One-line descriptions of the reductions.
  static let reductions: [String: String] = [
    "Sum": "sum over the reduced index",
    "Max": "largest value",
    "Min": "smallest value",
    "ArgMax": "index of the largest value",
    "ArgMin": "index of the smallest value",
    "Max_ArgMax": "largest value and its index",
    "Min_ArgMin": "smallest value and its index",
    "KMin": "the K smallest values (opt_arg=K)",
    "ArgKMin": "indices of the K smallest values (opt_arg=K)",
    "KMin_ArgKMin": "the K smallest values and their indices (opt_arg=K)",
    "LogSumExp": "log of the sum of exponentials, computed stably",
    "LogSumExpWeight": "log-sum-exp weighted by formula2",
    "SumSoftMaxWeight": "formula2 averaged with softmax weights of formula",
    "SoftMax": "softmax weights over the reduced index",
    "Max_SumShiftExp": "the (max, sum of shifted exponentials) pair behind LogSumExp",
    "Max_SumShiftExpWeight": "the weighted version of Max_SumShiftExp",
  ]

  /// Typical values for integer parameters in generated examples.
  static let parameterExamples = [
    "m": "2", "d": "3", "a": "0", "b": "1", "n": "1", "start": "0", "len": "2", "D": "3", "p": "1", "q": "2",
  ]

  /// Hand-written examples for the operations most formulas use.
  static let operationExamples = [
    "SqDist": "Exp(-SqDist(x, y)) * b", "Norm2": "Exp(-Norm2(x - y)) * b", "Exp": "Exp(-SqDist(x, y))",
    "Scalprod": "Scalprod(x, y)", "Sum": "Sum(x * y)", "Pow": "Pow(SqDist(x, y), 2)", "IfElse": "IfElse(x - y, x, y)",
    "Inv": "Inv(IntCst(1) + SqDist(x, y))", "Sqrt": "Sqrt(SqNorm2(x - y))", "Extract": "Extract(x, 0, 2)",
    "Elem": "Elem(x, 0)", "Concat": "Concat(x, y)",
  ]

  static func example(of op: FormulaLanguage.Operation) -> String {
    if let e = operationExamples[op.name] { return e }
    let args = ["x", "y", "z"].prefix(op.arity) + op.paramNames.map { parameterExamples[$0] ?? "1" }
    return "\(op.name)(\(args.joined(separator: ", ")))"
  }

  // MARK: Finding functions

  /// A callable global or module member: the name it is called with and its value.
  struct Callable {
    var name: String
    var value: Value
  }

  /// Python's builtins and ks's own globals (`load`, `Genred`, ...), sorted by name.
  static func globalCallables() -> [Callable] {
    let libraries = Session.installed
    return libraries.globalNames.sorted().compactMap { name in
      libraries.global(name).flatMap { isCallable($0) ? Callable(name: name, value: $0) : nil }
    }
  }

  /// The functions of `modules`, by the name they are called with (`np.zeros`), sorted.
  static func moduleCallables(_ modules: [(String, String)]) -> [Callable] {
    let libraries = Session.installed
    var out: [Callable] = []
    for (module, prefix) in modules {
      for name in Set(libraries.memberNames(of: module)).sorted() {
        if let v = libraries.member(of: module, name), isCallable(v) { out.append(Callable(name: prefix + name, value: v)) }
      }
    }
    return out
  }

  /// Every callable global and module member that has help.
  static func allCallables() -> [Callable] {
    globalCallables() + moduleCallables(numpyModules + otherModules)
  }

  static func isCallable(_ v: Value) -> Bool {
    if case .builtin = v { return true }
    if case .object(let o) = v, o is FunctionValue { return true }
    return false
  }

  /// The value a dotted name means without variables: `np.linalg.norm`, `math.floor`, `print`.
  static func resolve(_ dotted: String) -> Value? {
    let libraries = Session.installed
    var parts = dotted.split(separator: ".").map(String.init)
    guard !parts.isEmpty else { return nil }
    var value: Value
    if let g = libraries.global(parts[0]) {
      value = g
    } else if parts[0] == "numpy" || libraries.modules[parts[0]] != nil {
      value = .module(parts[0])
    } else {
      return nil
    }
    parts.removeFirst()
    for part in parts {
      guard case .module(let m) = value, let next = libraries.member(of: m, part) else { return nil }
      value = next
    }
    return value
  }

  // MARK: Layout

  /// The help of one function: signature, then summary and example, indented.
  static func functionEntry(_ name: String, _ value: Value) -> String {
    switch value {
    case .builtin(let b):
      guard let doc = b.doc else { return "  \(name)(...)\n" }
      return "  \(doc.signature)\n      \(doc.summary); e.g. \(doc.example)\n"
    case .object(let f as FunctionValue):
      let summary = f.docstring.map { firstLine($0) } ?? "a function written in the language"
      return "  \(qualified(f.signature, f.name, as: name))\n      \(summary)\n"
    default:
      return "  \(name)\n"
    }
  }

  /// A script function's signature under the name it is called with (`utils.squared_distances(x, y)`).
  static func qualified(_ signature: String, _ name: String, as shown: String) -> String {
    signature.hasPrefix(name + "(") ? shown + signature.dropFirst(name.count) : signature
  }

  static func firstLine(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: true).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
  }

  static func operationLine(_ op: FormulaLanguage.Operation) -> String {
    "  \(op.signature)\n      \(op.summary); e.g. \"\(example(of: op))\"\n"
  }

  static func reductionLine(_ name: String) -> String {
    "  \(name)\n      \(reductions[name] ?? "a reduction"); e.g. reduction_op=\"\(name)\"\n"
  }

  static func metaLine(_ c: MetaCommand) -> String {
    let head = ":\(c.name)" + (c.arguments.isEmpty ? "" : " \(c.arguments)")
    return "  \(head)\n      \(c.summary); e.g. \(c.example)\n"
  }

  /// The topics and what they list.
  static let topicList: [(String, String)] = [
    ("builtins", "Python's builtins and ks's own functions (print, len, load, Genred, ...)"),
    ("numpy", "the numpy functions: np.*, np.random.*, np.linalg.*, and Python's math.*"),
    ("operations", "the formula operations inside Genred/KernelSolve formula strings"),
    ("reductions", "the reductions (reduction_op=)"),
    ("commands", "the meta-commands (:vars, :save, :engine, ...)"),
    ("lazytensor", "LazyTensor, Vi, Vj, Pm and the methods of a LazyTensor"),
    ("plotting", "matplotlib.pyplot: plot, scatter, imshow, hist, savefig (SVG, PNG, PDF), show; :plot residuals"),
  ]

  static var overview: String {
    var out = """
      ks: KeOps-style kernel reductions and solvers (Genred, KernelSolve, LazyTensor) in a Python subset with numpy.
      Type Python/numpy statements, or a meta-command (a line starting with ':').
      Keys: Up/Down history, Ctrl-R search, Tab completion, Ctrl-C cancels a line or a computation, Ctrl-D quits.
      `_` is the last result.
      Help on one thing: :help NAME, ?NAME or help(x), e.g. ?np.zeros, :help SqDist, help(K).
      Help topics:

      """
    out += topicList.map { "  :help \($0.0)\n      \($0.1)\n" }.joined()
    return out
  }

  /// The globals that are numpy's functions without `np.` (`sqrt`, `zeros`): listed once, under numpy.
  static func isNumpyAlias(_ c: Callable) -> Bool {
    guard case .builtin(let b) = c.value, case .builtin(let n)? = Session.installed.member(of: "numpy", c.name) else { return false }
    return b.doc == n.doc
  }

  static var builtinsText: String {
    let globals = globalCallables()
    return "Builtin functions:\n" + globals.filter { !isNumpyAlias($0) }.map { functionEntry($0.name, $0.value) }.joined()
      + "\nAlso without np. (see :help numpy): " + globals.filter(isNumpyAlias).map(\.name).joined(separator: ", ") + "\n"
  }

  static var numpyText: String {
    "numpy functions:\n" + moduleCallables(numpyModules).map { functionEntry($0.name, $0.value) }.joined()
      + "\nPython's math module:\n" + moduleCallables([("math", "math.")]).map { functionEntry($0.name, $0.value) }.joined()
      + "\nPython's time module:\n" + moduleCallables([("time", "time.")]).map { functionEntry($0.name, $0.value) }.joined()
  }

  static var lazyTensorText: String {
    var out = "LazyTensor (pykeops.numpy):\n"
    out += """
        LazyTensor(x, axis=None)
            a symbolic array: x[:, None, :] is indexed by i, x[None, :, :] by j; operations build a formula and
            reductions (.sum(axis), .min(axis), ...) run it; e.g. x_i = LazyTensor(x[:, None, :])

      """
    for name in ["Vi", "Vj", "Pm"] {
      if let v = resolve("pykeops.numpy." + name) { out += functionEntry(name, v) }
    }
    out += "\nMethods of a LazyTensor:\n" + "  " + LazyTensorObject.methodNames.joined(separator: ", ") + "\n"
    return out
  }

  static var plottingText: String {
    """
    Plotting: import matplotlib.pyplot as plt (the subset KeOps' gallery uses; docs/plotting.md).
      figures and axes: figure(figsize=), subplot(r, c, k), subplots(r, c) -> fig, axes; gcf, gca, close, clf
      drawing: plot(x, y, "r--", label=, lw=), semilogy, semilogx, loglog, scatter(x, y, c=, s=, cmap=),
               imshow(A, cmap=, extent=, origin=), pcolormesh, contourf, hist(x, bins=), bar, text
      decoration: title, xlabel, ylabel, legend(loc=), axis, xlim, ylim, xticks, yticks, grid, colorbar,
                  suptitle, tight_layout; the same as Axes methods: ax.plot, ax.set_title, ax.set_xlim, ...
      output: savefig("f.svg" | "f.png" | "f.pdf", dpi=); show() draws in the terminal (inline image on
              kitty/iTerm2, braille elsewhere) or, off a terminal, says where to save
      other matplotlib calls are accepted and ignored, with one warning each
      :plot residuals [FILE]   the last solve's convergence curve (log scale), drawn or saved

    """
  }

  static var commandsText: String { "Meta-commands:\n" + MetaCommand.all.map { metaLine($0) }.joined() }

  // MARK: Topics

  /// `:help` with no topic prints the overview; with a topic, that list or entry.
  static func topic(_ raw: String, at range: SourceRange) throws(ShellError) -> String {
    var topic = raw.trimmingCharacters(in: .whitespaces)
    if topic.isEmpty { return overview }
    switch topic.lowercased() {
    case "builtins", "functions": return builtinsText
    case "numpy", "np": return numpyText
    case "operations", "formulas", "formula": return "Formula operations:\n" + FormulaLanguage.Operation.table.map { operationLine($0) }.joined()
    case "reductions": return "Reductions (reduction_op=):\n" + Genred.reductionNames.map { reductionLine($0) }.joined()
    case "commands", "meta", "meta-commands": return commandsText
    case "lazytensor": return lazyTensorText
    case "plotting", "plot", "plt", "matplotlib", "pyplot", "matplotlib.pyplot": return plottingText
    default: break
    }
    if topic.hasPrefix(":") {
      topic.removeFirst()
      if let c = MetaCommand.named(topic) { return metaLine(c) }
    }
    if topic.hasPrefix("numpy.") { topic = "np." + topic.dropFirst(6) }
    var found: [String] = []
    if let v = resolve(topic) {
      if isCallable(v) {
        found.append(functionEntry(topic, v))
      } else if case .module(let m) = v {
        found.append(moduleText(m, as: topic))
      } else if case .object(let o) = v, o is LazyTensorClass {
        found.append(lazyTensorText)
      }
    } else if let v = resolve("np." + topic), isCallable(v) {
      found.append(functionEntry("np." + topic, v))
    } else if let v = resolve("pykeops.numpy." + topic), isCallable(v) {
      found.append(functionEntry(topic, v))
    }
    if let op = FormulaLanguage.Operation.named(topic) { found.append(operationLine(op)) }
    if Genred.reductionNames.contains(topic) { found.append("reduction:\n" + reductionLine(topic)) }
    if let c = MetaCommand.named(topic) { found.append(metaLine(c)) }
    if !found.isEmpty { return found.joined() }
    let hint = Suggestions.closest(to: topic, among: topics).map { "; did you mean '\($0)'?" } ?? ""
    throw ShellError("no help for '\(topic)'\(hint)", at: range)
  }

  /// A module's members: its functions with their help, then its other names.
  static func moduleText(_ module: String, as shown: String) -> String {
    let libraries = Session.installed
    var functions: [String] = []
    var others: [String] = []
    for name in Set(libraries.memberNames(of: module)).sorted() {
      guard let v = libraries.member(of: module, name) else { continue }
      if isCallable(v) { functions.append(functionEntry("\(shown).\(name)", v)) } else { others.append(name) }
    }
    var out = "module \(shown):\n" + functions.joined()
    if !others.isEmpty { out += "  other members: " + others.joined(separator: ", ") + "\n" }
    return out
  }

  /// `help(x)`: the help of a value.
  static func describe(_ value: Value, in interpreter: Interpreter) -> String {
    switch value {
    case .builtin(let b):
      let shown = allCallables().first { if case .builtin(let c) = $0.value { return c.name == b.name && c.doc == b.doc } else { return false } }
      return functionEntry(shown?.name ?? b.name, value)
    case .object(let f as FunctionValue):
      var out = "  \(f.signature)\n"
      if let doc = f.docstring { out += doc.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0.trimmingCharacters(in: .whitespaces) + "\n" }.joined() }
      return out
    case .module(let m):
      return moduleText(m, as: m == "numpy" ? "np" : (m.hasPrefix("numpy.") ? "np." + m.dropFirst(6) : m))
    case .object(let o) where o is LazyTensorClass || o is LazyTensorObject:
      return lazyTensorText
    case .object(let o) where o is GenredObject:
      return functionEntry("Genred", resolve("Genred")!) + "  (a Genred: call it on arrays, K(x, y, b))\n"
    case .object(let o) where o is KernelSolveObject:
      return functionEntry("KernelSolve", resolve("KernelSolve")!) + "  (a KernelSolve: call it on arrays, Kinv(x, y, b, alpha=0.1))\n"
    default:
      return "\(value.typeName) value: \(value.repr)\n"
    }
  }

  /// Every topic `:help` knows, for completion and suggestions.
  static var topics: [String] {
    Array(Set(allCallables().map(\.name) + FormulaLanguage.Operation.allNames + Genred.reductionNames
      + MetaCommand.allNames + topicList.map(\.0))).sorted()
  }

  // MARK: Wrapping

  /// `text` wrapped to `width` columns: a line longer than that breaks at spaces, and its
  /// continuation keeps the line's indentation (plus 2 more for a first line of an entry).
  static func wrap(_ text: String, width: Int) -> String {
    let width = max(width, 20)
    var out: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.count <= width {
        out.append(String(line))
        continue
      }
      let indentCount = line.prefix(while: { $0 == " " }).count
      let continuation = String(repeating: " ", count: min(indentCount + (indentCount <= 2 ? 4 : 2), width / 2))
      var current = String(line.prefix(indentCount))
      var atStart = true
      for word in line.dropFirst(indentCount).split(separator: " ", omittingEmptySubsequences: true) {
        if !atStart && current.count + 1 + word.count > width {
          out.append(current)
          current = continuation
          atStart = true
        }
        current += (atStart ? "" : " ") + word
        atStart = false
      }
      out.append(current)
    }
    return out.joined(separator: "\n")
  }
}

extension HelpText {
  /// `help(x)` as a library of the language.
  static let library = ShellLibrary(globals: [
    "help": Builtins.anyFn(
      "help",
      doc: FunctionDoc(
        "help(obj)", "print the help of a function, a module's functions, a script function's docstring or a LazyTensor's methods",
        "help(np.zeros)")
    ) { ctx in
      let value = try ctx.optional(0, "request")
      try ctx.finish(maxPositional: 1)
      let text = value.map { describe($0, in: ctx.interpreter) } ?? overview
      ctx.interpreter.output(wrap(text, width: HelpWidths.shared.width(for: ctx.interpreter)) + (text.hasSuffix("\n") ? "" : "\n"))
      return .none
    }
  ])
}

/// The help width of each session's interpreter (`help(x)` runs inside the interpreter).
///
/// Entries hold the interpreter weakly and are checked by identity: a new interpreter allocated
/// at a freed one's address must not inherit its width.
final class HelpWidths: @unchecked Sendable {
  static let shared = HelpWidths()
  private let lock = NSLock()
  private struct Entry {
    weak var interpreter: Interpreter?
    var width: () -> Int
  }
  private var widths: [ObjectIdentifier: Entry] = [:]

  func set(_ width: @escaping () -> Int, for interpreter: Interpreter) {
    lock.lock()
    defer { lock.unlock() }
    widths = widths.filter { $0.value.interpreter != nil }
    widths[ObjectIdentifier(interpreter)] = Entry(interpreter: interpreter, width: width)
  }

  func width(for interpreter: Interpreter) -> Int {
    lock.lock()
    let entry = widths[ObjectIdentifier(interpreter)]
    lock.unlock()
    guard let entry, entry.interpreter === interpreter else { return 80 }
    return entry.width()
  }
}

extension Session {
  /// The topics `:help` accepts (completion after `:help `).
  public static var helpTopics: [String] { HelpText.topics }
}
