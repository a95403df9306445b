import ArgumentParser
import CPUEngine
import CUDAEngine
import Foundation
import Glibc
import KSDiagnostics
import KSShell
import KSTerminal
import KernelOperations
import MessagePassing

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
///
/// A `.ks` script shows the value of each bare expression, as the interactive shell does (so a
/// saved session replays to what it showed); a `.py` file, or `--quiet-values`, runs as python
/// runs a script, showing only what it prints.
func runScript(
  _ source: SourceText, echo: Bool, keepGoing: Bool, quietValues: Bool = false, notebook: String? = nil
) throws {
  let showValues = !(quietValues || source.name.hasSuffix(".py"))
  let code = ScriptMode.run(source, echo: echo, keepGoing: keepGoing, showValues: showValues, notebook: notebook)
  if code != 0 { throw ExitCode(code) }
}

/// The help of `--notebook`.
let notebookHelp = ArgumentHelp(
  "Also write the session as a Jupyter notebook (OUT.ipynb, nbformat 4.5) or as Markdown (OUT.md, figures in OUT_files/).",
  discussion: """
    One code cell per statement or block with its outputs (printed text, values, solver summaries, \
    figures, errors), the comments above statements as markdown cells. Written also when a \
    statement fails: the statements after it become cells that did not run. See docs/notebooks.md.
    """,
  valueName: "OUT")

/// Checks a `--notebook` path's extension before the script runs.
func checkNotebookPath(_ path: String?) throws {
  guard let path else { return }
  let lower = path.lowercased()
  guard lower.hasSuffix(".ipynb") || lower.hasSuffix(".md") else {
    throw ValidationError("--notebook \(path): name the file .ipynb (Jupyter) or .md (Markdown)")
  }
}

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a .ks (or .py) script.",
    discussion: """
      Stops at the first statement that fails (--keep-going runs them all). With --notebook OUT.ipynb \
      the session is also written as a Jupyter notebook, e.g. ks run fit.ks --notebook fit.ipynb.
      """)

  @ArgumentParser.Argument(help: "The script to run.") var file: String
  @Flag(help: "Print each statement before its output.") var echo = false
  @Flag(help: "Go on after a failed statement (exit 1 at the end).") var keepGoing = false
  @Flag(help: "Show only what the script prints, not the values of bare expressions (the default for .py files).")
  var quietValues = false
  @Option(help: notebookHelp) var notebook: String?
  @Flag(help: "Report on stderr the rows each reduction computes (under mpirun: each rank its own).")
  var verbose = false

  func validate() throws { try checkNotebookPath(notebook) }

  func run() throws {
    Distributed.verbose = verbose
    try runScript(try readScript(file), echo: echo, keepGoing: keepGoing, quietValues: quietValues, notebook: notebook)
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
  @Flag(help: "Show only what a script prints, not the values of bare expressions (the default for .py files).")
  var quietValues = false
  @Option(help: notebookHelp) var notebook: String?
  @Flag(help: "Report on stderr the rows each reduction computes (under mpirun: each rank its own).")
  var verbose = false

  func validate() throws { try checkNotebookPath(notebook) }

  func run() throws {
    Distributed.verbose = verbose
    if let command {
      try runScript(SourceText(name: "<command>", text: command), echo: echo, keepGoing: keepGoing, notebook: notebook)
      return
    }
    if let file {
      try runScript(try readScript(file), echo: echo, keepGoing: keepGoing, quietValues: quietValues, notebook: notebook)
      return
    }
    if notebook != nil && isatty(STDIN_FILENO) != 0 {
      throw ValidationError("--notebook needs a script (a file, -c, or piped input); in the shell, use :export OUT.ipynb")
    }
    if Distributed.size > 1 {
      // mpirun gives standard input to rank 0 only: the other ranks would run another script.
      FileOutput.standardError.write(
        "ks: under mpirun, give the script as a file (ks run script.ks) or with -c: only rank 0 can read standard input\n")
      throw ExitCode(2)
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
    try runScript(SourceText(name: "<stdin>", text: text), echo: echo, keepGoing: keepGoing, notebook: notebook)
  }
}

/// `ks bench`: the standard benchmark cases on the CPU engine (or the GPU with `--gpu`).
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the standard reductions on the compiled CPU engine (or the GPU with --gpu).",
    discussion: """
      CPU: the Gaussian sum Exp(-SqDist(x,y))*b (D=3) at each size, float32 and float64, the
      documentation example's Exp(-Norm2(x-y))*a, a D=64 case, the first-call compile time of a
      fresh formula and the cached call overhead, then the other reductions in float32 (Min, ArgKMin
      K=10 at D=3 and D=64, LogSumExp, SumSoftMaxWeight; --workload selects some of them and skips
      the rest). Each figure is the median of --repeats runs.
      GPU: the Gaussian sum at each size, float32 and float64, GPU_1D and GPU_2D, each checked \
      against the reference engine, then a table beside KeOps' published GPU times; exits 1 when \
      no GPU can be used, a call fails or a result is wrong.
      `ks bench solve`: KernelSolve's iterations and times with precond=None, "jacobi", "nystrom" and
      method="direct" on the documentation example and on Gaussian kernel ridge regression, at
      N = 10^3, 10^4, 10^5 (--sizes, --case, --method, --budget, --backend).
      """)

  @ArgumentParser.Argument(help: "\"solve\" for the KernelSolve benchmark; nothing for the reductions.")
  var suite: String?
  @Option(name: .customLong("case"), help: "ks bench solve: only this system (repeatable): doc, krr.")
  var solveCases: [String] = []
  @Option(name: .customLong("method"), help: "ks bench solve: only this method (repeatable): none, jacobi, nystrom, direct, auto.")
  var solveMethods: [String] = []
  @Option(help: "ks bench solve: skip a method whose estimated time is over this many seconds.") var budget = 120.0
  @Option(help: "ks bench solve: the engine (auto, CPU, GPU, reference).") var backend = "auto"

  @Option(
    name: .customLong("workload"),
    help: "Only this reduction workload (repeatable): \(CPUBenchmark.reductionWorkloads.map(\.key).joined(separator: ", ")).")
  var workloads: [String] = []

  @Option(parsing: .upToNextOption, help: "M = N of the Gaussian cases.") var sizes: [Int] = []
  @Option(help: "M = N of the D=64 case.") var highDimensionSize = 20_000
  @Option(help: "Runs per figure.") var repeats = 3
  @Flag(help: "Benchmark the CUDA engine instead.") var gpu = false
  @Option(help: "The GPU to use with --gpu.") var deviceId = -1

  func run() throws {
    if let suite {
      guard suite == "solve" else { throw ValidationError("unknown benchmark '\(suite)'; expected 'solve' or nothing") }
      if let bad = solveCases.first(where: { !SolveBenchmark.cases.contains($0) }) {
        throw ValidationError("unknown case '\(bad)'; expected \(SolveBenchmark.cases.joined(separator: ", "))")
      }
      if let bad = solveMethods.first(where: { !SolveBenchmark.methods.contains($0) }) {
        throw ValidationError("unknown method '\(bad)'; expected \(SolveBenchmark.methods.joined(separator: ", "))")
      }
      SolveBenchmark.run(
        sizes: sizes.isEmpty ? [1_000, 10_000, 100_000] : sizes, cases: solveCases.isEmpty ? SolveBenchmark.cases : solveCases,
        methods: solveMethods.isEmpty ? ["none", "jacobi", "nystrom", "direct"] : solveMethods, budget: budget,
        backend: backend, output: { FileOutput.standardOutput.write($0 + "\n") })
      return
    }
    if gpu {
      let report = CUDABenchmark.run(
        sizes: sizes.isEmpty ? [10_000, 100_000, 1_000_000] : sizes, repetitions: repeats, deviceID: deviceId,
        progress: { FileOutput.standardOutput.write($0 + "\n") })
      // No GPU, a failed call or a wrong result: exit 1 (the failing lines were printed above).
      if !report.passed { throw ExitCode(1) }
      return
    }
    let known = Set(CPUBenchmark.reductionWorkloads.map(\.key))
    if let bad = workloads.first(where: { !known.contains($0) }) {
      throw ValidationError("unknown workload '\(bad)'; expected one of \(known.sorted().joined(separator: ", "))")
    }
    if workloads.isEmpty {
      let report = CPUBenchmark.run(
        sizes: sizes.isEmpty ? [10_000, 100_000] : sizes, highDimensionSize: highDimensionSize, repeats: repeats)
      FileOutput.standardOutput.write(report.hasSuffix("\n") ? report : report + "\n")
    }
    let reductions = CPUBenchmark.runReductions(only: workloads, repeats: repeats)
    FileOutput.standardOutput.write(reductions + "\n")
  }
}

/// `ks cache list|clear`: the compiled kernels (CPU shared libraries and CUDA CUBINs).
struct Cache: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List or clear the compiled-kernel cache ($KS_CACHE_DIR, else $XDG_CACHE_HOME/ks, else ~/.cache/ks).",
    subcommands: [List.self, Clear.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the cached kernels.")
    func run() throws {
      let entries = KernelCache.list()
      let cubins = CUBINCache.list()
      var out = "cache: \(KernelCache.defaultDirectory)\n"
      var total = 0
      for e in entries {
        total += e.bytes
        out += "  \(e.name)  \(String(format: "%8.1f", Double(e.bytes) / 1024)) KiB\n"
      }
      for c in cubins { out += "  cuda/\(c)\n" }
      out += "\(entries.count) CPU kernel\(entries.count == 1 ? "" : "s") (\(String(format: "%.1f", Double(total) / 1024)) KiB), \(cubins.count) CUDA kernel\(cubins.count == 1 ? "" : "s")\n"
      FileOutput.standardOutput.write(out)
    }
  }

  struct Clear: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove every cached kernel.")
    func run() throws {
      do {
        let n = try KernelCache.clear()
        let m = CUBINCache.clear()
        FileOutput.standardOutput.write("removed \(n) CPU kernel\(n == 1 ? "" : "s") and \(m) CUDA kernel\(m == 1 ? "" : "s")\n")
      } catch {
        FileOutput.standardError.write("ks cache clear: \(error)\n")
        throw ExitCode(2)
      }
    }
  }
}

// Under mpirun (or srun), every rank joins the MPI job before anything is printed, so that only
// rank 0's output shows; outside MPI nothing is loaded and ks runs as one process.
do {
  try Distributed.start(environment: ProcessInfo.processInfo.environment)
} catch {
  FileOutput.standardError.write(
    "ks: started by an MPI launcher, but \(error.message); install Open MPI (openmpi-bin, libopenmpi-dev), set KS_MPI_LIBRARY to its libmpi.so, or KS_MPI=0 to run each process alone\n")
  exit(2)
}
if let warning = Distributed.unjoinedLauncherWarning(ProcessInfo.processInfo.environment),
  ProcessInfo.processInfo.environment["SLURM_PROCID"] == "0"
{
  FileOutput.standardError.write(warning + "\n")
}

/// Exits with `code` once every rank has finished (`Distributed.finish`: a rank that ended
/// differently says why; nobody is left waiting).
func finishAndExit(_ code: Int32) -> Never {
  exit(Distributed.finish(status: code))
}

do {
  var command = try KS.parseAsRoot()
  try command.run()
  finishAndExit(0)
} catch let code as ExitCode {
  finishAndExit(code.rawValue)
} catch {
  let code = KS.exitCode(for: error)
  let message = KS.fullMessage(for: error)
  if code == .success {
    FileOutput.standardOutput.write(message + "\n")
    finishAndExit(0)
  }
  FileOutput.standardError.write(message + "\n")
  finishAndExit(2)
}
