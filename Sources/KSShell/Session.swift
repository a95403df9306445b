import ArrayIO
import Foundation
import KSDiagnostics
import KernelOperations
import MessagePassing
import NumpySubset
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

/// One statement the session ran, as `:save` writes it back.
public struct RecordedStatement: Sendable, Equatable {
  /// The statement's source text (a trailing `;` kept), or a meta-command line such as `:engine cpu`.
  public var text: String
  /// Whether it ran without error; `:save` writes failed statements as comments.
  public var succeeded: Bool

  /// Creates a record.
  public init(text: String, succeeded: Bool) {
    self.text = text
    self.succeeded = succeeded
  }
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
  /// The statements run since the session started or was last reset (`:save`).
  public internal(set) var recorded: [RecordedStatement] = []
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
  public static let libraries = [NumpyLibrary.library, PyKeOpsLibrary.library, HelpText.library]
  /// Every name the language knows without a variable: builtins, numpy, PyKeOps.
  public static let installed = LibrarySet([Builtins.library] + libraries)

  /// Creates a session; `errors` and `status` default to `output`.
  public init(
    output: @escaping (String) -> Void, errors: ((String) -> Void)? = nil, status: ((String) -> Void)? = nil
  ) {
    self.output = output
    self.errors = errors ?? output
    self.status = status ?? output
    interpreter = Interpreter(libraries: Self.libraries, output: { _ in })
    initialSeed = interpreter.state.seed
    interpreter.echoValues = true
    interpreter.output = { [unowned self] text in emitOutput(text) }
    interpreter.events = { [unowned self] event in
      if let progress = event as? SolveProgress { showProgress(progress) }
      if let report = event as? SolveReport { emitStatus(Self.summary(of: report) + "\n") }
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
      recorded.append(RecordedStatement(text: text, succeeded: false))
      return .failed
    }
    if statements.isEmpty { return .ok }
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
      return .failed
    }
    return run(statements, in: source, echo: echo, keepGoing: keepGoing)
  }

  /// Runs parsed statements; errors are shown in `shownAs` (same offsets) when given.
  func run(
    _ statements: [Statement], in source: SourceText, echo: Bool, keepGoing: Bool, shownAs: SourceText? = nil
  ) -> SessionOutcome {
    var failed = false
    for statement in statements {
      if interpreter.cancel.isCancelled {
        emitError("\(source.name): interrupted\n")
        return .interrupted
      }
      if echo { emitOutput(echoed(statement, in: source)) }
      switch runStatement(statement, in: source, shownAs: shownAs ?? source) {
      case .ok: continue
      case .failed:
        failed = true
        if !keepGoing { return .failed }
      case .interrupted: return .interrupted
      case .quit: return .quit
      }
    }
    return failed ? .failed : .ok
  }

  /// Runs one parsed statement, records it, and prints its error if it fails.
  func runStatement(_ statement: Statement, in source: SourceText, shownAs shown: SourceText) -> SessionOutcome {
    if case .metaCommand(let name, let argument) = statement.kind {
      do {
        return try runMetaCommand(name, argument, statement: statement, in: source)
      } catch {
        progressDisplay?.clear()
        emitError(ErrorPrinter.render(error, in: shown, color: color))
        return error.interrupted ? .interrupted : .failed
      }
    }
    let text = Self.savedText(of: statement, in: source)
    if Distributed.world != nil || Distributed.verbose {
      Distributed.location = "\(shown.name):\(shown.location(of: statement.range.start).line)"
    }
    do {
      try interpreter.execute(statement, in: source)
      progressDisplay?.clear()
      recorded.append(RecordedStatement(text: text, succeeded: true))
      return .ok
    } catch {
      progressDisplay?.clear()
      emitError(ErrorPrinter.render(error, in: shown, color: color))
      recorded.append(RecordedStatement(text: text, succeeded: false))
      return error.interrupted ? .interrupted : .failed
    }
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
      recorded.append(RecordedStatement(text: ":engine \(Self.engineName(of: engine))", succeeded: true))
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
    for r in recorded {
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

  func emitOutput(_ text: String) {
    progressDisplay?.clear()
    output(text)
    log?.output(text)
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
