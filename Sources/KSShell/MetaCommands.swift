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
  /// An example of its use.
  public var example = ""

  /// Every meta-command, in the order `:help` lists them.
  public static let all: [MetaCommand] = [
    MetaCommand(name: "help", arguments: "[topic]", summary: "an overview, or help on a topic, function, operation, reduction or command (also ?TOPIC)", takesPath: false, example: ":help np.zeros"),
    MetaCommand(name: "vars", arguments: "", summary: "the variables: name, type, shape, dtype, memory", takesPath: false, example: ":vars"),
    MetaCommand(name: "aliases", arguments: "", summary: "the aliases declared with `alias x = Vi(3), ...`", takesPath: false, example: ":aliases"),
    MetaCommand(name: "save", arguments: "FILE.ks", summary: "write the session's successful statements as a script that replays it", takesPath: true, example: ":save session.ks"),
    MetaCommand(
      name: "export", arguments: "FILE.ipynb | FILE.md",
      summary: "write the session so far with its outputs and figures as a Jupyter notebook (.ipynb) or Markdown (.md)",
      takesPath: true, example: ":export session.ipynb"),
    MetaCommand(name: "read", arguments: "FILE.ks", summary: "run a script here, echoing each statement (also :load)", takesPath: true, example: ":read setup.ks"),
    MetaCommand(name: "log", arguments: "FILE | off", summary: "copy inputs and (commented) outputs to FILE from now on", takesPath: true, example: ":log session.log"),
    MetaCommand(name: "history", arguments: "[n]", summary: "the last n inputs of this session (all by default)", takesPath: false, example: ":history 10"),
    MetaCommand(name: "time", arguments: "STATEMENT", summary: "run a statement and print how long it took", takesPath: false, example: ":time a = K(x, y, b)"),
    MetaCommand(name: "engine", arguments: "[reference | cpu | cuda | auto]", summary: "show or choose the engine calls use when they name no backend", takesPath: false, example: ":engine cpu"),
    MetaCommand(
      name: "set", arguments: "[NAME VALUE]",
      summary: "show the settings, or set one: precision, threshold, edgeitems, linewidth, suppress (as np.set_printoptions), progress N",
      takesPath: false, example: ":set precision 4"),
    MetaCommand(
      name: "plot", arguments: "residuals [FILE.svg|.png|.pdf]",
      summary: "draw the last solve's convergence curve (RMS residual per iteration, log scale), or save it to FILE",
      takesPath: false, example: ":plot residuals"),
    MetaCommand(name: "reset", arguments: "", summary: "forget every variable and alias, and reseed with 0", takesPath: false, example: ":reset"),
    MetaCommand(name: "quit", arguments: "", summary: "leave ks (also :exit, or Ctrl-D)", takesPath: false, example: ":quit"),
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
      emitOutput(HelpText.wrap(try HelpText.topic(argument, at: range), width: helpWidth()))
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
      let count = recorded.filter { $0.isReplayed && $0.succeeded }.count
      emitOutput("saved \(count) statement\(count == 1 ? "" : "s") to \(path)\n")
    case "export":
      let path = try pathArgument(argument, command, at: range)
      let report: String
      do {
        report = try notebook().write(to: path)
      } catch {
        throw ShellError("\(error)", at: range)
      }
      emitOutput(report + "\n")
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
        recorded.append(RecordedStatement(text: ":engine \(Self.engineName(of: interpreter.state.engine))", succeeded: true, kind: .setting))
      }
    case "set":
      try settings(argument, statement: statement)
    case "plot":
      try plot(argument, at: range)
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
    recorded.append(RecordedStatement(text: ":set " + changed.joined(separator: " "), succeeded: true, kind: .setting))
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
