import ArgumentParser
import Foundation
import Glibc
import KSDiagnostics
import KSShell
import KSTerminal

// The `ks` executable: argument parsing and exit codes. The shell itself lives in KSShell
// (sessions, meta-commands) and KSTerminal (the line editor, the live progress line, signals).

struct KS: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ks",
    abstract: "The KernelSolve shell: KeOps-style kernel reductions and solvers at a terminal.",
    discussion: """
      With no arguments on a terminal, ks starts the interactive shell (history in \
      ~/.ks_history, or $KS_HISTORY). With a file, -c, or piped input, it runs the statements \
      and stops at the first one that fails (--keep-going runs them all).

      Exit codes: 0 ok, 1 a statement failed, 2 usage or I/O error, 130 interrupted. \
      Results go to stdout; errors and solver summaries go to stderr.
      """,
    subcommands: [Shell.self, Run.self, Bench.self, Cache.self],
    defaultSubcommand: Shell.self)
}

/// Reads a script file, or fails with exit code 2.
func readScript(_ path: String) throws -> SourceText {
  guard let data = FileManager.default.contents(atPath: path) else {
    let why = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
    FileOutput.standardError.write("ks: cannot read '\(path)': \(why)\n")
    throw ExitCode(2)
  }
  guard let text = String(data: data, encoding: .utf8) else {
    FileOutput.standardError.write("ks: cannot read '\(path)': not UTF-8 text\n")
    throw ExitCode(2)
  }
  return SourceText(name: path, text: text)
}

/// Runs a script and turns its outcome into the process's exit code.
func runScript(_ source: SourceText, echo: Bool, keepGoing: Bool) throws {
  let code = ScriptMode.run(source, echo: echo, keepGoing: keepGoing)
  if code != 0 { throw ExitCode(code) }
}

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run a .ks script.")

  @ArgumentParser.Argument(help: "The script to run.") var file: String
  @Flag(help: "Print each statement before its output.") var echo = false
  @Flag(help: "Go on after a failed statement (exit 1 at the end).") var keepGoing = false

  func run() throws {
    try runScript(try readScript(file), echo: echo, keepGoing: keepGoing)
  }
}

struct Shell: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "shell", abstract: "Start the interactive shell, or run FILE.ks, -c STATEMENT, or piped input.")

  @ArgumentParser.Argument(help: "A script to run instead of the interactive shell.") var file: String?
  @Option(name: .customShort("c"), help: "Run one statement (or several separated by ';' or newlines).")
  var command: String?
  @Flag(help: "Print each statement before its output.") var echo = false
  @Flag(help: "Go on after a failed statement (exit 1 at the end).") var keepGoing = false

  func run() throws {
    if let command {
      try runScript(SourceText(name: "<command>", text: command), echo: echo, keepGoing: keepGoing)
      return
    }
    if let file {
      try runScript(try readScript(file), echo: echo, keepGoing: keepGoing)
      return
    }
    if isatty(STDIN_FILENO) != 0 {
      let code = Repl(historyPath: Repl.defaultHistoryPath()).run()
      if code != 0 { throw ExitCode(code) }
      return
    }
    // Piped input: a script.
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = String(data: data, encoding: .utf8) else {
      FileOutput.standardError.write("ks: standard input is not UTF-8 text\n")
      throw ExitCode(2)
    }
    try runScript(SourceText(name: "<stdin>", text: text), echo: echo, keepGoing: keepGoing)
  }
}

/// Placeholder until the benchmark driver is wired in.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Time reductions and solves on the available engines.")

  @ArgumentParser.Argument(parsing: .captureForPassthrough, help: "Benchmark options.") var options: [String] = []

  func run() throws {
    FileOutput.standardError.write("ks bench: not available in this build\n")
    throw ExitCode(2)
  }
}

/// Placeholder until the compiled-kernel cache is wired in.
struct Cache: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List or clear the compiled-kernel cache.", subcommands: [List.self, Clear.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the cached kernels.")
    func run() throws {
      FileOutput.standardError.write("ks cache list: not available in this build\n")
      throw ExitCode(2)
    }
  }

  struct Clear: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove every cached kernel.")
    func run() throws {
      FileOutput.standardError.write("ks cache clear: not available in this build\n")
      throw ExitCode(2)
    }
  }
}

do {
  var command = try KS.parseAsRoot()
  try command.run()
} catch let code as ExitCode {
  exit(code.rawValue)
} catch {
  let code = KS.exitCode(for: error)
  let message = KS.fullMessage(for: error)
  if code == .success {
    FileOutput.standardOutput.write(message + "\n")
    exit(0)
  }
  FileOutput.standardError.write(message + "\n")
  exit(2)
}
