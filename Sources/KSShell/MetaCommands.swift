import ArrayIO
import FormulaLanguage
import Foundation
import KSDiagnostics
import KernelOperations
import NumpySubset
import PyKeOpsBindings
import ShellRuntime
import ShellSyntax

// The meta-commands of the shell: lines that start with `:`, such as `:help SqDist` or
// `:save session.ks`. They run in interactive sessions and in scripts alike.

/// A meta-command: its name, its argument syntax and what it does (for `:help` and completion).
public struct MetaCommand: Sendable {
  /// The name without the colon, e.g. `save`.
  public var name: String
  /// The argument syntax, e.g. `FILE.ks`.
  public var arguments: String
  /// One line of description.
  public var summary: String
  /// Whether the argument is a file path (for completion).
  public var takesPath: Bool

  /// Every meta-command, in the order `:help` lists them.
  public static let all: [MetaCommand] = [
    MetaCommand(name: "help", arguments: "[topic]", summary: "this overview, or help on a function, operation, reduction or command", takesPath: false),
    MetaCommand(name: "vars", arguments: "", summary: "the variables: name, type, shape, dtype, memory", takesPath: false),
    MetaCommand(name: "aliases", arguments: "", summary: "the aliases declared with `alias x = Vi(3), ...`", takesPath: false),
    MetaCommand(name: "save", arguments: "FILE.ks", summary: "write the session's successful statements as a script that replays it", takesPath: true),
    MetaCommand(name: "read", arguments: "FILE.ks", summary: "run a script here, echoing each statement (also :load)", takesPath: true),
    MetaCommand(name: "log", arguments: "FILE | off", summary: "copy inputs and (commented) outputs to FILE from now on", takesPath: true),
    MetaCommand(name: "history", arguments: "[n]", summary: "the last n inputs of this session (all by default)", takesPath: false),
    MetaCommand(name: "time", arguments: "STATEMENT", summary: "run a statement and print how long it took", takesPath: false),
    MetaCommand(name: "engine", arguments: "[reference | cpu | cuda | auto]", summary: "show or choose the engine calls use when they name no backend", takesPath: false),
    MetaCommand(
      name: "set", arguments: "[NAME VALUE]",
      summary: "show the settings, or set one: precision, threshold, edgeitems, linewidth, suppress (as np.set_printoptions), progress N",
      takesPath: false),
    MetaCommand(name: "reset", arguments: "", summary: "forget every variable and alias, and reseed with 0", takesPath: false),
    MetaCommand(name: "quit", arguments: "", summary: "leave ks (also :exit, or Ctrl-D)", takesPath: false),
  ]

  /// Other spellings: `:load` is `:read`, `:exit` and `:q` are `:quit`, `:h` and `:?` are `:help`.
  public static let synonyms = ["load": "read", "exit": "quit", "q": "quit", "h": "help", "?": "help"]

  /// Every name completion offers after `:`.
  public static var allNames: [String] { all.map(\.name) + ["load", "exit"] }

  /// The command a typed name means, synonyms included.
  public static func named(_ name: String) -> MetaCommand? {
    let canonical = synonyms[name] ?? name
    return all.first { $0.name == canonical }
  }
}

extension Session {
  /// Runs `:name argument`.
  func runMetaCommand(
    _ name: String, _ argument: String, statement: Statement, in source: SourceText
  ) throws(ShellError) -> SessionOutcome {
    guard let command = MetaCommand.named(name) else {
      let hint = Suggestions.closest(to: name, among: MetaCommand.allNames).map { "; did you mean ':\($0)'?" } ?? ""
      throw ShellError("unknown meta-command ':\(name)'\(hint)", at: statement.range, notes: ["type :help for the list"])
    }
    let range = statement.range
    switch command.name {
    case "help":
      emitOutput(try HelpText.topic(argument, at: range))
    case "vars":
      emitOutput(variablesTable())
    case "aliases":
      let aliases = interpreter.state.aliases
      emitOutput(aliases.isEmpty ? "no aliases declared (declare some with: alias x = Vi(3), y = Vj(3))\n"
        : aliases.map { "alias \($0.name) = \($0.definition)\n" }.joined())
    case "save":
      let path = try pathArgument(argument, command, at: range)
      do {
        try AtomicFile.write(Array(savedScript().utf8), to: path)
      } catch {
        throw ShellError("\(error)", at: range)
      }
      let count = recorded.filter(\.succeeded).count
      emitOutput("saved \(count) statement\(count == 1 ? "" : "s") to \(path)\n")
    case "read":
      return try read(try pathArgument(argument, command, at: range), at: range)
    case "log":
      let path = try pathArgument(argument, command, at: range)
      if path == "off" {
        guard let open = log else { throw ShellError("no log is open", at: range) }
        log = nil
        emitOutput("stopped logging to \(open.path)\n")
      } else {
        do {
          log = try SessionLog(path: path)
        } catch {
          throw ShellError("\(error)", at: range)
        }
        emitOutput("logging inputs and outputs to \(path)\n")
      }
    case "history":
      emitOutput(try historyText(argument, at: range))
    case "time":
      return try time(argument, statement: statement, in: source)
    case "engine":
      try engine(argument, at: range)
      if !argument.isEmpty {
        recorded.append(RecordedStatement(text: ":engine \(Self.engineName(of: interpreter.state.engine))", succeeded: true))
      }
    case "set":
      try settings(argument, statement: statement)
    case "reset":
      reset()
      emitOutput("session reset: no variables, no aliases, random seed 0, default print options\n")
    case "quit":
      requestQuit()
      return .quit
    default:
      break
    }
    return .ok
  }

  func pathArgument(_ argument: String, _ command: MetaCommand, at range: SourceRange) throws(ShellError) -> String {
    var path = argument
    if path.count >= 2, let q = path.first, q == "\"" || q == "'", path.last == q {
      path = String(path.dropFirst().dropLast())
    }
    guard !path.isEmpty else {
      throw ShellError("usage: :\(command.name) \(command.arguments)", at: range)
    }
    if path == "~" || path.hasPrefix("~/") {
      path = NSHomeDirectory() + path.dropFirst()
    }
    return path
  }

  // MARK: - :read

  func read(_ path: String, at range: SourceRange) throws(ShellError) -> SessionOutcome {
    guard readDepth < 16 else { throw ShellError(":read is nested too deeply (a file that reads itself?)", at: range) }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ShellError("cannot read '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")", at: range)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ShellError("cannot read '\(path)': not UTF-8 text", at: range)
    }
    readDepth += 1
    defer { readDepth -= 1 }
    let outcome = run(SourceText(name: path, text: text), echo: true, keepGoing: false)
    if outcome == .quit { requestQuit() }
    return outcome
  }

  // MARK: - :time

  func time(_ argument: String, statement: Statement, in source: SourceText) throws(ShellError) -> SessionOutcome {
    guard !argument.isEmpty else { throw ShellError("usage: :time STATEMENT", at: statement.range) }
    // Parse the statement where it stands, so carets point into the typed line: in the parsed
    // copy, `:time ` becomes `pass; ` padded to the same width (the `pass` is then skipped).
    var bytes = Array(source.text.utf8)
    let statementText = statement.sourceText(in: source)
    let offset = statement.range.start + (statementText.utf8.count - argument.utf8.count)
    var lineStart = statement.range.start
    while lineStart > 0 && bytes[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
    let filler = Array("pass;".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: max(0, offset - lineStart - 5))
    bytes.replaceSubrange(lineStart..<offset, with: filler.prefix(offset - lineStart))
    let timedSource = SourceText(name: source.name, text: String(decoding: bytes, as: UTF8.self), firstLine: source.firstLine)
    let inner: [Statement]
    do {
      inner = try ScriptParser(source: timedSource).parse().filter { $0.range.start >= offset && $0.range.end <= statement.range.end }
    } catch {
      throw ShellError(located: [LocatedDiagnostic(error, in: source)])
    }
    if inner.contains(where: { if case .metaCommand = $0.kind { true } else { false } }) {
      throw ShellError(":time runs statements, not meta-commands", at: statement.range)
    }
    let start = DispatchTime.now().uptimeNanoseconds
    let outcome = run(inner, in: timedSource, echo: false, keepGoing: false, shownAs: source)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    if outcome == .ok { emitOutput("time: \(Self.duration(seconds))\n") }
    return outcome
  }

  /// `12.3 ms`, `1.23 s`, `81 µs`.
  static func duration(_ seconds: Double) -> String {
    if seconds < 1e-3 { return String(format: "%.0f µs", seconds * 1e6) }
    if seconds < 1 { return String(format: "%.1f ms", seconds * 1e3) }
    return String(format: "%.2f s", seconds)
  }

  // MARK: - :engine and :set

  /// The engine names `:engine` accepts, and the backend each one selects.
  public static let engineNames: [(name: String, backend: String)] = [
    ("reference", "reference"), ("cpu", "CPU"), ("cuda", "GPU"), ("auto", "auto"),
  ]

  /// The `:engine` name of a backend (`CPU` is `cpu`), or the backend itself (`GPU_1D`).
  static func engineName(of backend: String) -> String {
    engineNames.first { $0.backend == backend }?.name ?? backend
  }

  func engine(_ argument: String, at range: SourceRange) throws(ShellError) {
    if argument.isEmpty {
      emitOutput("engine: \(Self.engineName(of: interpreter.state.engine))\n")
      return
    }
    let key = argument.lowercased()
    guard let backend = Self.engineNames.first(where: { $0.name == key })?.backend
      ?? Backend.names.first(where: { $0.lowercased() == key })
    else {
      let names = Self.engineNames.map(\.name)
      let hint = Suggestions.closest(to: argument, among: names).map { "; did you mean '\($0)'?" } ?? ""
      throw ShellError("unknown engine '\(argument)'\(hint)", at: range, notes: ["expected one of: " + names.joined(separator: ", ")])
    }
    do {
      _ = try Backend.engine(named: backend)
    } catch {
      throw ShellError(Self.message(of: error), at: range)
    }
    interpreter.state.engine = backend
    emitOutput("engine: \(Self.engineName(of: backend))\n")
  }

  static func message(of error: OperationError) -> String {
    if case .option(_, let m) = error { return m }
    return "\(error)"
  }

  /// The settings `:set` knows: the print options (numpy's names), then `progress`.
  static let settingNames = ["precision", "threshold", "edgeitems", "linewidth", "suppress", "progress"]

  /// The `:set` listing: every setting with its value.
  func settingsText() -> String {
    let o = interpreter.state.printOptions
    let progress = progressEvery == 0 ? "0   (only the summary line when not on a terminal)" : "\(progressEvery)   (a line every \(progressEvery) iterations when not on a terminal)"
    func row(_ name: String, _ value: String, _ note: String) -> String {
      name.padding(toLength: 11, withPad: " ", startingAt: 0) + value.padding(toLength: max(value.count, 6), withPad: " ", startingAt: 0) + note + "\n"
    }
    return row("precision", "\(o.precision)", "(digits after the point when printing float arrays)")
      + row("threshold", "\(o.threshold)", "(arrays with more elements print summarized)")
      + row("edgeitems", "\(o.edgeItems)", "(items shown at each end of a summarized axis)")
      + row("linewidth", "\(o.lineWidth)", "(characters per line when printing arrays)")
      + row("suppress", o.suppress ? "True" : "False", "(True: small numbers print in fixed point, not scientific)")
      + "progress   \(progress)\n"
      + "engine     \(Self.engineName(of: interpreter.state.engine))\n"
  }

  /// `:set`, `:set progress N`, `:set precision 4` (also `threshold`, `edgeitems`, `linewidth`,
  /// `suppress`; several `NAME VALUE` pairs may follow one `:set`). Print options are recorded for
  /// `:save` as one canonical `:set` line.
  func settings(_ argument: String, statement: Statement) throws(ShellError) {
    let range = statement.range
    // The argument ends where the statement does: find each word's place for carets.
    let argumentStart = range.end - argument.utf8.count
    let bytes = Array(argument.utf8)
    var words: [(text: String, range: SourceRange)] = []
    var wordStart: Int?
    for k in 0...bytes.count {
      let separator = k == bytes.count || [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "=")].contains(bytes[k])
      if separator, let start = wordStart {
        words.append((String(decoding: bytes[start..<k], as: UTF8.self), SourceRange(argumentStart + start, argumentStart + k)))
        wordStart = nil
      } else if !separator && wordStart == nil {
        wordStart = k
      }
    }
    if words.isEmpty {
      emitOutput(settingsText())
      return
    }
    if words[0].text.lowercased() == "progress" {
      guard words.count == 2, let n = Int(words[1].text), n >= 0 else {
        throw ShellError("usage: :set progress N (N >= 0; 0 prints only the summary)", at: words.count == 2 ? words[1].range : range)
      }
      progressEvery = n
      emitOutput("progress: \(n == 0 ? "summary only" : "every \(n) iterations")\n")
      return
    }
    var options = interpreter.state.printOptions
    var changed: [String] = []
    var k = 0
    while k < words.count {
      let (name, nameRange) = (words[k].text.lowercased(), words[k].range)
      guard Self.settingNames.contains(name) else {
        let hint = Suggestions.closest(to: words[k].text, among: Self.settingNames).map { "; did you mean '\($0)'?" } ?? ""
        throw ShellError("unknown setting '\(words[k].text)'\(hint)", at: nameRange, notes: ["settings: " + Self.settingNames.joined(separator: ", ")])
      }
      if name == "progress" { throw ShellError("set progress on its own: :set progress N", at: nameRange) }
      guard k + 1 < words.count else {
        throw ShellError("usage: :set \(name) \(name == "suppress" ? "True|False" : "N")", at: nameRange)
      }
      let (value, valueRange) = (words[k + 1].text, words[k + 1].range)
      if name == "suppress" {
        switch value.lowercased() {
        case "true", "on", "1", "yes": options.suppress = true
        case "false", "off", "0", "no": options.suppress = false
        default: throw ShellError("suppress must be True or False", at: valueRange)
        }
        changed.append("suppress \(options.suppress ? "True" : "False")")
      } else {
        let n: Int
        if name == "threshold" && ["inf", "np.inf"].contains(value.lowercased()) {
          n = Int.max
        } else if let parsed = Int(value) {
          n = parsed
        } else {
          throw ShellError(PrintOptions.problem(setting: name, to: -1) ?? "\(name) must be an integer", at: valueRange)
        }
        if let problem = PrintOptions.problem(setting: name, to: n) { throw ShellError(problem, at: valueRange) }
        options[integer: name] = n
        changed.append("\(name) \(n)")
      }
      k += 2
    }
    interpreter.state.printOptions = options
    recorded.append(RecordedStatement(text: ":set " + changed.joined(separator: " "), succeeded: true))
    emitOutput(changed.map { $0.replacingOccurrences(of: " ", with: ": ") }.joined(separator: ", ") + "\n")
  }

  // MARK: - :history and :vars

  func historyText(_ argument: String, at range: SourceRange) throws(ShellError) -> String {
    var count = inputs.count
    if !argument.isEmpty {
      guard let n = Int(argument), n > 0 else { throw ShellError("usage: :history [n] (n > 0)", at: range) }
      count = min(n, inputs.count)
    }
    let first = inputs.count - count
    let width = String(inputs.count).count
    var out = ""
    for k in first..<inputs.count {
      let number = String(k + 1)
      let pad = String(repeating: " ", count: width - number.count)
      let lines = inputs[k].split(separator: "\n", omittingEmptySubsequences: false)
      out += "\(pad)\(number)  " + lines.joined(separator: "\n" + String(repeating: " ", count: width + 2)) + "\n"
    }
    return out
  }

  /// The `:vars` table: one row per variable (not `_`), sorted by name.
  public func variablesTable() -> String {
    let names = interpreter.state.variables.keys.filter { $0 != "_" }.sorted()
    if names.isEmpty { return "no variables\n" }
    var rows = [["name", "type", "shape", "dtype", "memory"]]
    for name in names {
      guard let v = interpreter.state.variables[name] else { continue }
      switch v {
      case .array(let a):
        let shape = a.rank == 1 ? "(\(a.shape[0]),)" : "(" + a.shape.map(String.init).joined(separator: ", ") + ")"
        rows.append([name, "ndarray", shape, a.dtype.rawValue, Self.memory(a.count * a.dtype.itemSize)])
      case .list(let items), .tuple(let items):
        rows.append([name, v.typeName, "len \(items.count)", "", ""])
      case .string(let s):
        rows.append([name, "str", "len \(s.text.count)", "", ""])
      case .module(let m):
        rows.append([name, "module", m, "", ""])
      case .object(let o as GenredObject):
        rows.append([name, "Genred", o.genred.reductionOp, "", ""])
      default:
        rows.append([name, v.typeName, "", "", ""])
      }
    }
    var widths = [Int](repeating: 0, count: 5)
    for row in rows { for (k, cell) in row.enumerated() { widths[k] = max(widths[k], cell.count) } }
    return rows.map { row in
      row.enumerated().map { k, cell in
        k == 4 ? String(repeating: " ", count: widths[k] - cell.count) + cell
          : cell + String(repeating: " ", count: widths[k] - cell.count)
      }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }.joined(separator: "\n") + "\n"
  }

  /// `24 B`, `70.3 KiB`, `11.4 MiB`.
  static func memory(_ bytes: Int) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return String(format: "%.1f %@", value, units[unit])
  }
}

// MARK: - Completion vocabulary

/// The names tab completion offers, taken from the session as it is now.
public struct CompletionVocabulary {
  /// Variables defined in the session (`_` included).
  public var variables: [String]
  /// Aliases declared with `alias`.
  public var aliases: [String]
  /// Builtin functions and names (`print`, `Genred`, `np` is a variable once imported).
  public var builtins: [String]
  /// Keyword arguments of Genred, KernelSolve and their calls, without `=`.
  public var keywords: [String]
  /// Language keywords (`for`, `import`, `alias`, ...).
  public var languageKeywords: [String]
  /// The attributes of a dotted expression such as `np`, `np.random` or `x`, or nil.
  public var members: (String) -> [String]?

  /// Creates a vocabulary.
  public init(
    variables: [String] = [], aliases: [String] = [], builtins: [String] = [], keywords: [String] = [],
    languageKeywords: [String] = [], members: @escaping (String) -> [String]? = { _ in nil }
  ) {
    self.variables = variables
    self.aliases = aliases
    self.builtins = builtins
    self.keywords = keywords
    self.languageKeywords = languageKeywords
    self.members = members
  }
}

extension Session {
  /// The keyword arguments completion offers inside a call.
  public static let callKeywords: [String] = {
    var names = ["reduction_op", "axis", "alpha", "backend", "formula2", "opt_arg", "eps", "maxiter", "dtype"]
    for k in KeOpsBuiltins.genredKeywords + ["device_id", "ranges", "sep", "end"] where !names.contains(k) { names.append(k) }
    return names
  }()

  /// Attribute names probed on values for completion after `x.`.
  static let probedAttributes = [
    "shape", "dtype", "ndim", "size", "T", "astype", "item", "reshape", "tolist", "copy", "flatten", "ravel",
    "sum", "mean", "max", "min", "argmin", "argmax", "std", "var", "round", "transpose", "squeeze", "any", "all",
    "cumsum", "dot", "format", "upper", "lower", "strip", "split", "join", "startswith", "endswith", "replace",
    "name", "itemsize", "formula", "append", "keys", "values", "items",
  ]

  /// What completion can offer now: variables, aliases, builtins, keywords and members.
  public func completionVocabulary() -> CompletionVocabulary {
    let state = interpreter.state
    return CompletionVocabulary(
      variables: Array(state.variables.keys),
      aliases: state.aliases.map(\.name),
      builtins: interpreter.libraries.globalNames,
      keywords: Self.callKeywords,
      languageKeywords: [
        "alias", "and", "break", "continue", "elif", "else", "False", "for", "from", "if", "import", "in", "is",
        "None", "not", "or", "pass", "True", "while",
      ],
      members: { [weak self] path in self?.members(of: path) })
  }

  /// The attribute names of a dotted path (`np`, `np.random`, `x`), when it names a value.
  func members(of path: String) -> [String]? {
    let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard let first = parts.first, var value = interpreter.state.variables[first] ?? interpreter.libraries.global(first) else {
      return nil
    }
    for part in parts.dropFirst() {
      guard let next = try? interpreter.attribute(of: value, part, at: SourceRange(0, 0)) else { return nil }
      value = next
    }
    if case .module(let m) = value { return interpreter.libraries.memberNames(of: m) }
    let probed = Self.probedAttributes.filter { (try? interpreter.attribute(of: value, $0, at: SourceRange(0, 0))) != nil }
    return probed.isEmpty ? nil : probed
  }
}

// MARK: - :help

/// The text of `:help` and `:help TOPIC`.
enum HelpText {
  /// A builtin function's help: signature, one line of description, one example.
  struct Entry {
    var signature: String
    var summary: String
    var example: String
  }

  /// Help for the builtin functions, by the name they are called with (`np.` for numpy's).
  static let builtins: [String: Entry] = [
    "print": Entry(signature: "print(*values, sep=' ', end='\\n')", summary: "print values (arrays as numpy's str)", example: "print(\"mean error:\", err)"),
    "len": Entry(signature: "len(obj)", summary: "number of items; the rows of an array", example: "len(x)"),
    "str": Entry(signature: "str(obj)", summary: "the printed form of a value", example: "str(3.5)"),
    "repr": Entry(signature: "repr(obj)", summary: "the echoed form of a value", example: "repr(\"a\")"),
    "int": Entry(signature: "int(x)", summary: "an integer, truncating a float or parsing a string", example: "int(2.7)"),
    "float": Entry(signature: "float(x)", summary: "a float from a number or a string", example: "float(\"1e-6\")"),
    "bool": Entry(signature: "bool(x)", summary: "truth value", example: "bool(0)"),
    "abs": Entry(signature: "abs(x)", summary: "absolute value", example: "abs(-2)"),
    "round": Entry(signature: "round(x, ndigits=None)", summary: "round half to even, as Python does", example: "round(2.675, 2)"),
    "range": Entry(signature: "range(stop) / range(start, stop, step=1)", summary: "integers for a for loop", example: "for k in range(3): print(k)"),
    "enumerate": Entry(signature: "enumerate(iterable, start=0)", summary: "(index, item) pairs", example: "for k, v in enumerate([\"a\", \"b\"]): print(k, v)"),
    "zip": Entry(signature: "zip(*iterables)", summary: "tuples of items taken in step", example: "list(zip([1, 2], [3, 4]))"),
    "list": Entry(signature: "list(iterable)", summary: "a list of the items", example: "list(range(3))"),
    "tuple": Entry(signature: "tuple(iterable)", summary: "a tuple of the items", example: "tuple([1, 2])"),
    "sorted": Entry(signature: "sorted(iterable, reverse=False)", summary: "the items in ascending order", example: "sorted([3, 1, 2])"),
    "min": Entry(signature: "min(iterable) / min(a, b, ...)", summary: "smallest item", example: "min(3, 1, 2)"),
    "max": Entry(signature: "max(iterable) / max(a, b, ...)", summary: "largest item", example: "max([3, 1, 2])"),
    "sum": Entry(signature: "sum(iterable, start=0)", summary: "sum of the items", example: "sum(range(10))"),
    "isinstance": Entry(signature: "isinstance(obj, type)", summary: "whether obj has the type", example: "isinstance(3, int)"),
    "load": Entry(signature: "load(path)", summary: "read a .npy or .csv file into an array", example: "x = load(\"x.npy\")"),
    "save": Entry(signature: "save(array, path)", summary: "write an array to .npy or .csv, atomically", example: "save(a, \"a.npy\")"),
    "Genred": Entry(
      signature: "Genred(formula, aliases, reduction_op='Sum', axis=0, dtype=None, opt_arg=None, formula2=None, ...)",
      summary: "a kernel reduction; call it on arrays (K(x, y, b), backend='auto')",
      example: "K = Genred(\"Exp(-SqDist(x, y)) * b\", [\"x = Vi(3)\", \"y = Vj(3)\", \"b = Vj(1)\"], axis=1)"),
    "KernelSolve": Entry(
      signature: "KernelSolve(formula, aliases, varinvalias, axis=0, dtype=None, ...); call: Kinv(..., alpha=1e-10, eps=1e-6, maxiter=None)",
      summary: "solve (alpha Id + K) a = b by conjugate gradient",
      example: "Kinv = KernelSolve(\"Exp(-SqDist(x, y)) * a\", [\"x = Vi(3)\", \"y = Vj(3)\", \"a = Vj(1)\"], \"a\", axis=1)"),
    "np.random.seed": Entry(signature: "np.random.seed(n)", summary: "reseed the random generator (a session starts with 0)", example: "np.random.seed(1)"),
    "np.random.randn": Entry(signature: "np.random.randn(d0, d1, ...)", summary: "standard normal samples of that shape", example: "x = np.random.randn(1000, 3)"),
    "np.random.rand": Entry(signature: "np.random.rand(d0, d1, ...)", summary: "uniform samples in [0, 1)", example: "u = np.random.rand(10)"),
    "np.array": Entry(signature: "np.array(object, dtype=None)", summary: "an array from nested lists", example: "np.array([[1, 2], [3, 4]], dtype=\"float32\")"),
    "np.zeros": Entry(signature: "np.zeros(shape, dtype=float64)", summary: "an array of zeros", example: "np.zeros((3, 2))"),
    "np.ones": Entry(signature: "np.ones(shape, dtype=float64)", summary: "an array of ones", example: "np.ones(5)"),
    "np.eye": Entry(signature: "np.eye(n)", summary: "the identity matrix", example: "np.eye(3)"),
    "np.linspace": Entry(signature: "np.linspace(start, stop, num=50)", summary: "evenly spaced numbers", example: "np.linspace(0, 1, 5)"),
    "np.arange": Entry(signature: "np.arange(start, stop, step=1)", summary: "a range as an array", example: "np.arange(4)"),
    "np.sqrt": Entry(signature: "np.sqrt(x)", summary: "elementwise square root", example: "np.sqrt(a)"),
    "np.exp": Entry(signature: "np.exp(x)", summary: "elementwise exponential", example: "np.exp(-d2)"),
    "np.log": Entry(signature: "np.log(x)", summary: "elementwise natural logarithm", example: "np.log(a)"),
    "np.sin": Entry(signature: "np.sin(x)", summary: "elementwise sine", example: "np.sin(t)"),
    "np.cos": Entry(signature: "np.cos(x)", summary: "elementwise cosine", example: "np.cos(t)"),
    "np.sum": Entry(signature: "np.sum(a, axis=None)", summary: "sum of the elements", example: "np.sum(a, axis=0)"),
    "np.mean": Entry(signature: "np.mean(a, axis=None)", summary: "mean of the elements", example: "np.mean(err)"),
    "np.abs": Entry(signature: "np.abs(x)", summary: "elementwise absolute value", example: "np.abs(a - b).max()"),
    "np.concatenate": Entry(signature: "np.concatenate(arrays, axis=0)", summary: "join arrays along an axis", example: "np.concatenate([a, b])"),
    "np.sort": Entry(signature: "np.sort(a, axis=-1)", summary: "sorted copy", example: "np.sort(d)"),
    "np.argsort": Entry(signature: "np.argsort(a, axis=-1)", summary: "indices that sort the array", example: "np.argsort(d)"),
    "np.load": Entry(signature: "np.load(path)", summary: "read a .npy file", example: "x = np.load(\"x.npy\")"),
    "np.save": Entry(signature: "np.save(path, array)", summary: "write a .npy file, atomically", example: "np.save(\"a.npy\", a)"),
    "np.set_printoptions": Entry(
      signature: "np.set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, suppress=None)",
      summary: "how arrays print (also :set precision 4); None keeps a value", example: "np.set_printoptions(precision=3)"),
    "np.get_printoptions": Entry(signature: "np.get_printoptions()", summary: "the print options, as a dict", example: "np.get_printoptions()['precision']"),
    "np.linalg.norm": Entry(signature: "np.linalg.norm(x)", summary: "Euclidean norm", example: "np.linalg.norm(a - b)"),
    "np.linalg.solve": Entry(signature: "np.linalg.solve(A, b)", summary: "dense linear solve", example: "np.linalg.solve(K, b)"),
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

  /// The builtins ks has, by the name they are called with: globals, then `np.` functions.
  static func builtinNames() -> [String] {
    let libraries = Session.installed
    let globals = libraries.globalNames.filter { libraries.global($0).map(isCallable) ?? false }.sorted()
    var numpy: [String] = []
    for (module, prefix) in [("numpy", "np."), ("numpy.random", "np.random."), ("numpy.linalg", "np.linalg.")] {
      numpy += libraries.memberNames(of: module).filter { libraries.member(of: module, $0).map(isCallable) ?? false }
        .map { prefix + $0 }
    }
    return globals + Array(Set(numpy)).sorted()
  }

  static func isCallable(_ v: Value) -> Bool {
    if case .builtin = v { return true }
    return false
  }

  static func builtinLine(_ name: String) -> String {
    // Bare numpy names (`sqrt`, `zeros`) share the `np.` entry.
    if let e = builtins[name] ?? builtins["np." + name] {
      return "  \(e.signature)\n      \(e.summary); e.g. \(e.example)\n"
    }
    return "  \(name)(...)\n      (no description yet); e.g. \(name)(...)\n"
  }

  static func operationLine(_ op: FormulaLanguage.Operation) -> String {
    "  \(op.signature)\n      \(op.summary); e.g. \"\(example(of: op))\"\n"
  }

  static func reductionLine(_ name: String) -> String {
    "  \(name)\n      \(reductions[name] ?? "a reduction"); e.g. reduction_op=\"\(name)\"\n"
  }

  static func metaLine(_ c: MetaCommand) -> String {
    let head = ":\(c.name)" + (c.arguments.isEmpty ? "" : " \(c.arguments)")
    return "  " + head.padding(toLength: max(head.count, 36), withPad: " ", startingAt: 0) + "  \(c.summary)\n"
  }

  static var overview: String {
    var out = """
      ks: KeOps-style kernel reductions and solvers. Type Python/numpy statements, or a meta-command.
      Keys: Up/Down history, Ctrl-R search, Tab completion, Ctrl-C cancels a line or a computation,
      Ctrl-D quits. `_` is the last result. :help TOPIC for one function, operation or command;
      :help builtins, :help operations, :help reductions, :help commands for the full lists.

      Meta-commands:

      """
    out += MetaCommand.all.map { metaLine($0) }.joined()
    out += "\nBuiltin functions:\n" + builtinNames().map { builtinLine($0) }.joined()
    out += "\nFormula operations (inside Genred/KernelSolve formula strings):\n"
      + FormulaLanguage.Operation.table.map { operationLine($0) }.joined()
    out += "\nReductions (reduction_op=):\n" + Genred.reductionNames.map { reductionLine($0) }.joined()
    return out
  }

  /// `:help` with no topic lists everything; with a topic, that one entry or list.
  static func topic(_ raw: String, at range: SourceRange) throws(ShellError) -> String {
    var topic = raw.trimmingCharacters(in: .whitespaces)
    if topic.isEmpty { return overview }
    switch topic.lowercased() {
    case "builtins", "functions": return "Builtin functions:\n" + builtinNames().map { builtinLine($0) }.joined()
    case "operations", "formulas", "formula": return "Formula operations:\n" + FormulaLanguage.Operation.table.map { operationLine($0) }.joined()
    case "reductions": return "Reductions (reduction_op=):\n" + Genred.reductionNames.map { reductionLine($0) }.joined()
    case "commands", "meta", "meta-commands": return "Meta-commands:\n" + MetaCommand.all.map { metaLine($0) }.joined()
    default: break
    }
    if topic.hasPrefix(":") {
      topic.removeFirst()
      if let c = MetaCommand.named(topic) { return metaLine(c) }
    }
    if topic.hasPrefix("numpy.") { topic = "np." + topic.dropFirst(6) }
    var found: [String] = []
    if builtins[topic] != nil || builtinNames().contains(topic) { found.append(builtinLine(topic)) }
    if builtins["np." + topic] != nil { found.append(builtinLine("np." + topic)) }
    if let op = FormulaLanguage.Operation.named(topic) { found.append(operationLine(op)) }
    if Genred.reductionNames.contains(topic) { found.append("reduction:\n" + reductionLine(topic)) }
    if let c = MetaCommand.named(topic) { found.append(metaLine(c)) }
    if !found.isEmpty { return found.joined() }
    let everything = builtinNames() + Array(builtins.keys) + FormulaLanguage.Operation.allNames + Genred.reductionNames
      + MetaCommand.allNames + ["builtins", "operations", "reductions", "commands"]
    let hint = Suggestions.closest(to: topic, among: everything).map { "; did you mean '\($0)'?" } ?? ""
    throw ShellError("no help for '\(topic)'\(hint)", at: range)
  }

  /// Every topic `:help` knows, for completion.
  static var topics: [String] {
    Array(Set(builtinNames() + Array(builtins.keys) + FormulaLanguage.Operation.allNames + Genred.reductionNames
      + MetaCommand.allNames + ["builtins", "operations", "reductions", "commands"])).sorted()
  }
}

extension Session {
  /// The topics `:help` accepts (completion after `:help `).
  public static var helpTopics: [String] { HelpText.topics }
}
