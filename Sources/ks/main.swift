import ArgumentParser
import Foundation
import KSDiagnostics
import KSShell

/// Writes to stdout unbuffered-in-order with stderr (one sink per stream, flushed each write).
func writeOut(_ s: String) {
  FileHandle.standardOutput.write(s.data(using: .utf8) ?? Data())
}

func writeErr(_ s: String) {
  FileHandle.standardError.write(s.data(using: .utf8) ?? Data())
}

struct KS: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ks",
    abstract: "The KernelSolve shell: KeOps-style kernel reductions and solvers at a terminal.",
    discussion: """
      Exit codes: 0 ok, 1 a statement failed, 2 usage or I/O error, 130 interrupted.
      """,
    subcommands: [Run.self, Shell.self],
    defaultSubcommand: Shell.self)
}

/// Reads a script file, or fails with exit code 2.
func readScript(_ path: String) throws -> SourceText {
  guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
    writeErr("ks: cannot read '\(path)': \(FileManager.default.fileExists(atPath: path) ? "not UTF-8 text or unreadable" : "no such file")\n")
    throw ExitCode(2)
  }
  return SourceText(name: path, text: text)
}

func runScript(_ source: SourceText, echo: Bool, keepGoing: Bool) throws {
  let interpreter = Interpreter(output: writeOut)
  interpreter.echoValues = true
  interpreter.solveSummary = { report in
    writeOut("CG converged in \(report.iterations) iterations, rms \(String(format: "%.1e", report.rmsResidual)), \(String(format: "%.2f", report.elapsed)) s\n")
  }
  var runner = ScriptRunner(echo: echo, keepGoing: keepGoing)
  runner.color = false
  let code = runner.run(source, on: interpreter, errors: writeErr)
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
    commandName: "shell", abstract: "Start the interactive shell, or run FILE.ks, or -c STATEMENT.")

  @ArgumentParser.Argument(help: "A script to run instead of the interactive shell.") var file: String?
  @Option(name: .customShort("c"), help: "Run one statement (or several separated by ';' or newlines).") var command: String?
  @Flag(help: "Print each statement before its output.") var echo = false
  @Flag(help: "Go on after a failed statement.") var keepGoing = false

  func run() throws {
    if let command {
      try runScript(SourceText(name: "<command>", text: command), echo: echo, keepGoing: keepGoing)
      return
    }
    if let file {
      try runScript(try readScript(file), echo: echo, keepGoing: keepGoing)
      return
    }
    // Standard input: a script when piped.
    let data = FileHandle.standardInput.readDataToEndOfFile()
    let text = String(data: data, encoding: .utf8) ?? ""
    try runScript(SourceText(name: "<stdin>", text: text), echo: echo, keepGoing: keepGoing)
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
    writeOut(message + "\n")
    exit(0)
  }
  writeErr(message + "\n")
  exit(2)
}
