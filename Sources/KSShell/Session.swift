import ArrayIO
import Foundation
import KSDiagnostics
import KernelOperations
import MatplotlibSubset
import MessagePassing
import NumpySubset
import Plotting
import PyKeOpsBindings
import ShellRuntime
import ShellSyntax

/// Shows a solve's progress while it runs: the terminal's redrawn status line.
///
/// The session calls `update` on every conjugate-gradient iteration (the display throttles
/// itself) and `clear` before it prints anything else, so the live line never mixes with output.
public protocol ProgressDisplay: AnyObject {
  /// Shows the state of the solve after one more iteration.
  func update(_ progress: SolveProgress)
  /// Erases the live line, if one is drawn.
  func clear()
}

/// Draws figures where the user sees them: `plt.show()`'s figures and `:plot residuals`.
///
/// The terminal installs one when its output is a terminal (inline images or a braille plot);
/// without one, `plt.show()` prints where to save instead.
public protocol FigureDisplay: AnyObject {
  /// Draws `figure`.
  func show(_ figure: Figure)
}

/// How an input, a script or a meta-command ended.
public enum SessionOutcome: Sendable, Equatable {
  /// Everything ran.
  case ok
  /// A statement failed (its error has been printed).
  case failed
  /// The user pressed Ctrl-C (or sent SIGINT) during a statement.
  case interrupted
  /// `:quit` ran.
  case quit

  /// The process exit code of a script that ended this way: 0, 1, 130, or 0 for `:quit`.
  public var exitCode: Int32 {
    switch self {
    case .ok, .quit: 0
    case .failed: 1
    case .interrupted: 130
    }
  }
}

/// One statement the session ran: its text for `:save`, and what it printed for `:export`.
public struct RecordedStatement: Sendable, Equatable {
  /// What a record is.
  public enum Kind: Sendable, Equatable {
    /// A statement of the language; `:save` writes it (as a comment when it failed).
    case statement
    /// A meta-command that changes how later statements run (`:engine cpu`, `:set precision 4`);
    /// `:save` writes it.
    case setting
    /// A meta-command that only shows something (`:vars`, `:help SqDist`): notebooks show it with
    /// its output; `:save` leaves it out.
    case command
    /// Comment lines with no statement after them (typed alone, or ending a script): a markdown
    /// cell of a notebook; `:save` leaves it out.
    case comment
  }

  /// The statement's source text (a trailing `;` kept), or a meta-command line such as `:engine cpu`.
  public var text: String
  /// Whether it ran without error; `:save` writes failed statements as comments.
  public var succeeded: Bool
  /// What the record is.
  public var kind: Kind
  /// False for the statements of a script after the one that stopped it, kept when the session
  /// records them (`ks run --notebook` shows them as cells that did not run).
  public var ran = true
  /// The comment lines right above the statement in its source, as written (`# Fit the model`).
  public var comment: [String] = []
  /// The statement as written, with the comment that ends its last line (`x = 1  # the count`);
  /// nil when that is `text`.
  public var code: String?
  /// What it printed and showed, in order.
  public var outputs: [StatementOutput] = []

  /// Creates a record.
  public init(text: String, succeeded: Bool, kind: Kind = .statement) {
    self.text = text
    self.succeeded = succeeded
    self.kind = kind
  }

  /// Whether `:save` writes it: statements and settings that ran.
  public var isReplayed: Bool { ran && (kind == .statement || kind == .setting) }
}

/// One thing a statement printed or showed, as a notebook keeps it.
public enum StatementOutput: Sendable, Equatable {
  /// Text the statement printed (standard output).
  case printed(String)
  /// A solver's summary or progress line (the status stream: standard error in scripts).
  case status(String)
  /// The echoed value of an expression statement.
  case value(String)
  /// Rich output a library showed (a figure): one representation per MIME type.
  case display([String: String])
  /// The error that stopped the statement: Python's exception class, the message, and the
  /// diagnostic as the shell printed it (without colors).
  case error(type: String, message: String, rendered: String)
}

/// An interactive or scripted ks session: an interpreter, what the user typed, and meta-commands.
///
/// Both the REPL and `ks run` go through a session, so meta-commands (`:engine cpu`, `:save`, ...)
/// work in scripts too. A session has no terminal code: it writes text through three closures,
/// `output` (results, echoed statements), `errors` (diagnostics) and `status` (solver summaries and
/// progress), and reports live progress through `progressDisplay`.
///
/// ```swift
/// let session = Session(output: { print($0, terminator: "") })
/// session.submit("x = 1 + 2")
/// session.submit("x")          // prints "3"
/// ```
///
/// **Reproducibility.** The session records the source text of every statement that ran, and
/// whether it succeeded. A failed statement changes nothing (the interpreter rolls it back,
/// random state included), so the successful statements, replayed from the same initial random
/// state, rebuild the same variables and print the same output. A session starts from
/// `np.random.seed(0)` (also after `:reset`); `:save` writes that seed at the top of the file,
/// and `np.random.seed(n)` calls typed during the session are replayed where they were typed.
public final class Session {
  /// The interpreter that runs the statements; its `state` holds the variables.
  public let interpreter: Interpreter
  /// Where results and echoed statements go.
  public var output: (String) -> Void
  /// Where diagnostics go.
  public var errors: (String) -> Void
  /// Where solver summaries and plain progress lines go.
  public var status: (String) -> Void
  /// Whether diagnostics are rendered with ANSI colors.
  public var color = false
  /// The live progress line, when the status stream is a terminal; otherwise progress is printed
  /// as one plain line every `progressEvery` iterations (never when it is 0).
  public var progressDisplay: ProgressDisplay?
  /// Where `plt.show()` and `:plot residuals` draw; nil off a terminal.
  public var figureDisplay: FigureDisplay?
  /// The last solve's report (`:plot residuals` draws its history) and its target (eps).
  public internal(set) var lastSolve: SolveReport?
  var lastSolveTarget: Double?
  private var runningSolveTarget: Double?
  /// `:set progress N`: print a plain progress line every N iterations (0: only the summary).
  public var progressEvery = 0
  /// The name interactive inputs carry in diagnostics.
  public var inputName = "<stdin>"
  /// The prompt printed before a statement echoed by `:read` or `ks run --echo`.
  public var echoPrompt = "ks> "
  /// The number of interactive inputs so far; input N is reported as line N of `<stdin>`.
  public private(set) var inputCount = 0
  /// Every interactive input, in order (`:history`).
  public private(set) var inputs: [String] = []
  /// The statements run since the session started or was last reset, with their outputs (`:save`,
  /// `:export`).
  public internal(set) var recorded: [RecordedStatement] = []
  /// Whether a script that stops at a failed statement records the statements after it as not
  /// run (`ks run --notebook` shows them as cells without outputs).
  public var recordsStatementsNotRun = false
  /// The outputs of the statement running now, collected for its record (nil between statements).
  var capturing: [StatementOutput]?
  /// Whether the values of bare expressions are printed (as in the interactive shell and `.ks`
  /// scripts); when false (`.py` scripts) they are still recorded, as Jupyter would show them.
  public var showsValues = true
  /// The random seed in effect when recording started (always 0: a fresh interpreter's seed).
  public private(set) var initialSeed: UInt64
  /// Set by `:quit`.
  public private(set) var quitRequested = false
  /// The `:log` file, if one is open.
  var log: SessionLog?
  /// How deeply `:read` calls are nested (a file that reads itself stops at 16).
  var readDepth = 0

  /// The width help text wraps to: the terminal's columns when the output is a terminal, else 80.
  public var helpWidth: () -> Int = { 80 } {
    didSet { HelpWidths.shared.set(helpWidth, for: interpreter) }
  }

  /// The libraries a session's language has beyond Python's builtins: numpy, PyKeOps, `help`.
  public static let libraries = [NumpyLibrary.library, PyKeOpsLibrary.library, Pyplot.library, HelpText.library]
  /// Every name the language knows without a variable: builtins, numpy, PyKeOps.
  public static let installed = LibrarySet([Builtins.library] + libraries)

  /// Creates a session; `errors` and `status` default to `output`. `extraLibraries` come after
  /// numpy and PyKeOps (a test's own functions).
  public init(
    output: @escaping (String) -> Void, errors: ((String) -> Void)? = nil, status: ((String) -> Void)? = nil,
    extraLibraries: [ShellLibrary] = []
  ) {
    self.output = output
    self.errors = errors ?? output
    self.status = status ?? output
    interpreter = Interpreter(libraries: Self.libraries + extraLibraries, output: { _ in })
    initialSeed = interpreter.state.seed
    interpreter.echoValues = true
    interpreter.output = { [unowned self] text in emitOutput(text) }
    interpreter.echoOutput = { [unowned self] text in
      progressDisplay?.clear()
      if showsValues {
        output(text)
        log?.output(text)
      }
      capture(.value(text))
    }
    interpreter.events = { [unowned self] event in
      if let progress = event as? SolveProgress {
        runningSolveTarget = progress.target > 0 ? progress.target : nil
        showProgress(progress)
      }
      if let report = event as? SolveReport {
        lastSolve = report
        lastSolveTarget = runningSolveTarget
        runningSolveTarget = nil
        emitStatus(Self.summary(of: report) + "\n")
      }
      if let display = event as? DisplayData { capture(.display(display.data)) }
      if let shown = event as? FigureShown { showFigure(shown.figure) }
      if let warning = event as? ShellWarning {
        emitError("warning: \(warning.message)\n")
        capture(.status("warning: \(warning.message)\n"))
      }
    }
  }

  // MARK: - Running input

  /// Runs one interactive input: one or more statements or a meta-command, possibly several lines.
  ///
  /// Input N is named `<stdin>` with its first line numbered N, so an error in the third input is
  /// reported as `<stdin>:3:COL`. Blank input (only spaces or comments) runs nothing and is not
  /// counted.
  @discardableResult
  public func submit(_ text: String) -> SessionOutcome {
    let statements: [Statement]
    let source = SourceText(name: inputName, text: text, firstLine: inputCount + 1)
    do {
      statements = try ScriptParser(source: source).parse()
    } catch {
      countInput(text)
      emitError(DiagnosticRenderer(useColor: color).render(error, in: source))
      var record = RecordedStatement(text: text, succeeded: false)
      record.outputs = [Self.syntaxErrorOutput(error, in: source)]
      recorded.append(record)
      return .failed
    }
    if statements.isEmpty {
      // A comment typed alone is kept for notebooks (a markdown cell).
      let comment = Self.commentLines(in: source, from: 0, to: source.text.utf8.count)
      if !comment.isEmpty {
        var record = RecordedStatement(text: "", succeeded: true, kind: .comment)
        record.comment = comment
        recorded.append(record)
      }
      return .ok
    }
    countInput(text)
    interpreter.cancel.reset()
    return run(statements, in: source, echo: false, keepGoing: false)
  }

  /// Runs a whole script (`ks run FILE`, `ks < FILE`, `:read FILE`).
  ///
  /// Stops at the first failed statement unless `keepGoing`; a `:quit` in the script stops it
  /// with `.quit`. With `echo`, each statement is printed after `echoPrompt` before its output.
  @discardableResult
  public func run(_ source: SourceText, echo: Bool = false, keepGoing: Bool = false) -> SessionOutcome {
    let statements: [Statement]
    do {
      statements = try ScriptParser(source: source).parse()
    } catch {
      emitError(DiagnosticRenderer(useColor: color).render(error, in: source))
      // Inside `:read`, the error is an output of its cell; a script's notebook shows the script
      // as one failed cell.
      if capturing != nil {
        capture(Self.syntaxErrorOutput(error, in: source))
      } else if recordsStatementsNotRun {
        var record = RecordedStatement(text: source.text, succeeded: false)
        record.outputs = [Self.syntaxErrorOutput(error, in: source)]
        recorded.append(record)
      }
      return .failed
    }
    return run(statements, in: source, echo: echo, keepGoing: keepGoing)
  }

  /// Runs parsed statements; errors are shown in `shownAs` (same offsets) when given.
  func run(
    _ statements: [Statement], in source: SourceText, echo: Bool, keepGoing: Bool, shownAs: SourceText? = nil
  ) -> SessionOutcome {
    var failed = false
    var previousEnd = 0
    for (k, statement) in statements.enumerated() {
      if interpreter.cancel.isCancelled {
        emitError("\(source.name): interrupted\n")
        recordNotRun(statements[k...], in: source, after: previousEnd)
        return .interrupted
      }
      if echo { emitOutput(echoed(statement, in: source), recorded: false) }
      // (`:time`'s statements, run in a copy of the line shown as `shownAs`, have no comments.)
      let comment = shownAs == nil ? Self.commentLines(in: source, from: previousEnd, to: statement.range.start) : []
      previousEnd = Self.lineEnd(after: statement, in: source)
      switch runStatement(statement, in: source, shownAs: shownAs ?? source, comment: comment) {
      case .ok: continue
      case .failed:
        failed = true
        if !keepGoing {
          recordNotRun(statements[(k + 1)...], in: source, after: previousEnd)
          return .failed
        }
      case .interrupted:
        recordNotRun(statements[(k + 1)...], in: source, after: previousEnd)
        return .interrupted
      case .quit: return .quit
      }
    }
    // Comments after the last statement (the end of a script) become a markdown cell.
    let trailing = Self.commentLines(in: source, from: previousEnd, to: source.text.utf8.count)
    if !trailing.isEmpty && shownAs == nil {
      var record = RecordedStatement(text: "", succeeded: true, kind: .comment)
      record.comment = trailing
      recorded.append(record)
    }
    return failed ? .failed : .ok
  }

  /// Records the statements a stopped script did not run, when the session keeps them.
  func recordNotRun(_ statements: ArraySlice<Statement>, in source: SourceText, after start: Int) {
    guard recordsStatementsNotRun else { return }
    var previousEnd = start
    for statement in statements {
      var record = RecordedStatement(text: Self.savedText(of: statement, in: source), succeeded: false)
      if case .metaCommand = statement.kind { record.kind = .command }
      record.ran = false
      record.comment = Self.commentLines(in: source, from: previousEnd, to: statement.range.start)
      record.code = Self.writtenText(of: statement, in: source)
      previousEnd = Self.lineEnd(after: statement, in: source)
      recorded.append(record)
    }
    let trailing = Self.commentLines(in: source, from: previousEnd, to: source.text.utf8.count)
    if !trailing.isEmpty {
      var record = RecordedStatement(text: "", succeeded: true, kind: .comment)
      record.comment = trailing
      recorded.append(record)
    }
  }

  /// The meta-commands that are not part of what a session did (`:export` leaves them out).
  static let unrecordedCommands: Set<String> = ["save", "log", "history", "export", "quit", "reset"]

  /// Runs one parsed statement, records it with its outputs, and prints its error if it fails.
  func runStatement(
    _ statement: Statement, in source: SourceText, shownAs shown: SourceText, comment: [String] = []
  ) -> SessionOutcome {
    let outer = capturing
    capturing = []
    defer { capturing = outer }
    if case .metaCommand(let name, let argument) = statement.kind {
      let before = recorded.count
      var outcome: SessionOutcome
      var failure: StatementOutput?
      do {
        outcome = try runMetaCommand(name, argument, statement: statement, in: source)
      } catch {
        progressDisplay?.clear()
        emitError(ErrorPrinter.render(error, in: shown, color: color))
        failure = Self.errorOutput(error, in: shown)
        outcome = error.interrupted ? .interrupted : .failed
      }
      let canonical = MetaCommand.named(name)?.name ?? name
      guard !Self.unrecordedCommands.contains(canonical), recorded.count >= before else { return outcome }
      var outputs = capturedOutputs
      if let failure { outputs.append(failure) }
      // A setting recorded itself; `:read` and `:time` recorded the statements they ran. What the
      // command printed itself (`time: 12.3 ms`) goes with the last of them that ran.
      if let last = recorded[before...].lastIndex(where: { $0.ran && $0.kind != .comment }) {
        if recorded[before].comment.isEmpty { recorded[before].comment = comment }
        recorded[last].outputs += outputs
      } else {
        var record = RecordedStatement(
          text: statement.sourceText(in: source), succeeded: outcome == .ok, kind: .command)
        record.comment = comment
        record.outputs = outputs
        recorded.append(record)
      }
      return outcome
    }
    var record = RecordedStatement(text: Self.savedText(of: statement, in: source), succeeded: true)
    record.comment = comment
    let written = Self.writtenText(of: statement, in: source)
    if written != record.text { record.code = written }
    var outcome = SessionOutcome.ok
    if Distributed.world != nil || Distributed.verbose {
      Distributed.location = "\(shown.name):\(shown.location(of: statement.range.start).line)"
    }
    do {
      try interpreter.execute(statement, in: source)
      progressDisplay?.clear()
    } catch {
      progressDisplay?.clear()
      emitError(ErrorPrinter.render(error, in: shown, color: color))
      capture(Self.errorOutput(error, in: shown))
      record.succeeded = false
      outcome = error.interrupted ? .interrupted : .failed
    }
    record.outputs = capturedOutputs
    recorded.append(record)
    return outcome
  }

  /// A failed statement's error as a notebook keeps it.
  static func errorOutput(_ error: ShellError, in source: SourceText) -> StatementOutput {
    .error(type: error.pythonType, message: error.message, rendered: ErrorPrinter.render(error, in: source, color: false))
  }

  /// A syntax error as a notebook keeps it.
  static func syntaxErrorOutput(_ error: Diagnostic, in source: SourceText) -> StatementOutput {
    .error(type: "SyntaxError", message: error.message, rendered: DiagnosticRenderer(useColor: false).render(error, in: source))
  }

  func countInput(_ text: String) {
    inputCount += 1
    inputs.append(text)
    log?.input(text)
  }

  /// Clears the variables, aliases, random state and recorded statements (`:reset`); the engine stays.
  public func reset() {
    let engine = interpreter.state.engine
    interpreter.state = SessionState()
    interpreter.state.engine = engine
    initialSeed = interpreter.state.seed
    recorded = []
    // The engine outlives a reset; keep it in what `:save` writes.
    if engine != SessionState().engine {
      recorded.append(RecordedStatement(text: ":engine \(Self.engineName(of: engine))", succeeded: true, kind: .setting))
    }
  }

  /// Marks the session finished, as `:quit` does.
  public func requestQuit() { quitRequested = true }

  // MARK: - Saving

  /// The text `:save` writes: the seed in effect at the start, then every successful statement in
  /// order; failed statements become comments.
  public func savedScript() -> String {
    var out = """
      # A ks session saved with :save; replay it with `ks run FILE`.
      # The session started from random seed \(initialSeed); statements that failed are comments.
      import numpy as np
      np.random.seed(\(initialSeed))

      """
    for r in recorded where r.isReplayed {
      if r.succeeded {
        out += r.text + "\n"
      } else {
        let lines = r.text.split(separator: "\n", omittingEmptySubsequences: false)
        out += "# failed: " + lines.joined(separator: "\n#         ") + "\n"
      }
    }
    return out
  }

  /// A statement's text as `:save` writes it: its exact source, with `;` when it was quiet.
  static func savedText(of statement: Statement, in source: SourceText) -> String {
    statement.sourceText(in: source) + (statement.isQuiet ? ";" : "")
  }

  /// The echo of a statement: the prompt, the statement, `... ` before its continuation lines.
  func echoed(_ statement: Statement, in source: SourceText) -> String {
    let lines = Self.savedText(of: statement, in: source).split(separator: "\n", omittingEmptySubsequences: false)
    return echoPrompt + lines.joined(separator: "\n... ") + "\n"
  }

  // MARK: - Output

  /// Prints `text`; unless `recorded` is false (an echoed statement), it is also one of the
  /// outputs of the statement running now.
  func emitOutput(_ text: String, recorded: Bool = true) {
    progressDisplay?.clear()
    output(text)
    log?.output(text)
    if recorded { capture(.printed(text)) }
  }

  func emitError(_ text: String) {
    progressDisplay?.clear()
    errors(text)
    log?.output(text)
  }

  func emitStatus(_ text: String) {
    progressDisplay?.clear()
    status(text)
    log?.output(text)
    capture(.status(text))
  }

  /// Adds an output to the running statement's record (joined by `capturedOutputs`).
  func capture(_ item: StatementOutput) {
    capturing?.append(item)
  }

  /// The outputs captured for the running statement, consecutive text of one stream joined into
  /// one output (in one pass: a loop that prints a million lines stays linear).
  var capturedOutputs: [StatementOutput] {
    var out: [StatementOutput] = []
    var pieces: [String] = []
    var printed = true
    func flush() {
      if !pieces.isEmpty { out.append(printed ? .printed(pieces.joined()) : .status(pieces.joined())) }
      pieces = []
    }
    for item in capturing ?? [] {
      switch item {
      case .printed(let text), .status(let text):
        let isPrinted = if case .printed = item { true } else { false }
        if isPrinted != printed { flush() }
        printed = isPrinted
        pieces.append(text)
      default:
        flush()
        out.append(item)
      }
    }
    flush()
    return out
  }

  /// Draws a figure on the display, or says how to save it when there is none.
  func showFigure(_ figure: Figure) {
    if let display = figureDisplay {
      progressDisplay?.clear()
      display.show(figure)
    } else {
      // A status line, not captured: a notebook holds the figure itself (its DisplayData).
      let text = "plt.show(): not a terminal, so the figure is not drawn; save it with plt.savefig('figure.png') (or .svg, .pdf)\n"
      progressDisplay?.clear()
      status(text)
      log?.output(text)
    }
  }

  func showProgress(_ progress: SolveProgress) {
    if let display = progressDisplay {
      display.update(progress)
    } else if progressEvery > 0 && progress.iteration > 0 && progress.iteration % progressEvery == 0 {
      emitStatus(
        "\(progress.method) iteration \(progress.iteration): rms \(Self.scientific(progress.rmsResidual)), "
          + "\(String(format: "%.2f", progress.elapsed)) s\n")
    }
  }

  /// The line printed when a solve ends, naming the method that ran:
  /// `CG converged in 88 iterations, rms 8.1e-07, 0.41 s`,
  /// `PCG (Nyström, 800 centres) converged in 21 iterations, rms 8.1e-07, 1.30 s`,
  /// `Direct (Cholesky, 2000 x 2000) solved, rms 3.2e-13, 0.52 s`, then `on 2 ranks` under MPI
  /// and auto's note if any.
  public static func summary(of report: SolveReport) -> String {
    var line: String
    if report.direct {
      line = "\(report.method) \(report.converged ? "solved" : "stopped above eps")"
      if report.iterations > 0 { line += " after \(report.iterations) refinement\(report.iterations == 1 ? "" : "s")" }
    } else {
      line = "\(report.method) \(report.converged ? "converged in" : "stopped after") \(report.iterations) iteration\(report.iterations == 1 ? "" : "s")"
    }
    line += ", rms \(scientific(report.rmsResidual)), \(String(format: "%.2f", report.elapsed)) s"
    if report.ranks > 1 { line += " on \(report.ranks) ranks" }
    if let note = report.note { line += " (\(note))" }
    return line
  }

  /// Two significant digits in C's `%.1e` form: `8.1e-07`.
  public static func scientific(_ x: Double) -> String { String(format: "%.1e", x) }
}

/// The `:log` file: inputs as typed, everything printed as `#` comments, so the log replays.
final class SessionLog {
  let path: String
  private let handle: FileHandle
  private var atLineStart = true

  init(path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path)
    else {
      throw ArrayIOError("cannot open '\(path)' for writing")
    }
    self.path = path
    handle = h
  }

  deinit { try? handle.close() }

  /// Writes an input as it was typed.
  func input(_ text: String) {
    if !atLineStart { write("\n") }
    write(text + "\n")
    atLineStart = true
  }

  /// Writes printed text, each line commented with `# `.
  func output(_ text: String) {
    var out = ""
    for ch in Self.plainText(text) {
      if atLineStart {
        out += "# "
        atLineStart = false
      }
      out.append(ch)
      if ch == "\n" { atLineStart = true }
    }
    write(out)
  }

  private func write(_ s: String) {
    try? handle.write(contentsOf: Data(s.utf8))
  }
}
