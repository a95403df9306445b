import Foundation
import Glibc
import Testing

/// The `ks` binary without a terminal: exit codes 0, 1, 2 and 130, and error locations.
@Suite struct ExitCodeTests {
  @Test func successIsZero() throws {
    let r = try runKS(["-c", "x = 6 * 7; print(x)"])
    #expect(r.status == 0)
    #expect(r.stdout == "42\n")
    #expect(r.stderr == "")
  }

  @Test func pipedScriptRuns() throws {
    let r = try runKS([], stdin: "n = 2\nprint(n ** 10)\n")
    #expect(r.status == 0)
    #expect(r.stdout == "1024\n")
  }

  @Test func errorInLineThreeNamesFileLineAndColumn() throws {
    let dir = try temporaryDirectory("ks-exit")
    try "a = 1\nb = a + 1\nc = b * undefined_name\nprint(c)\n".write(
      toFile: dir + "/bad.ks", atomically: true, encoding: .utf8)
    let r = try runKS(["run", "bad.ks"], directory: dir)
    #expect(r.status == 1)
    #expect(r.stdout == "")
    #expect(r.stderr.hasPrefix("bad.ks:3:9: error: name 'undefined_name' is not defined"))
    #expect(r.stderr.contains("  3 | c = b * undefined_name\n"))
    #expect(r.stderr.contains("    |         ^~~~~~~~~~~~~~\n"))
    #expect(!r.stderr.contains("\u{1B}["), "no color when stderr is not a terminal")

    // `ks FILE` is the same as `ks run FILE`; --keep-going runs the rest and still exits 1.
    #expect(try runKS(["bad.ks"], directory: dir).status == 1)
    let going = try runKS(["run", "bad.ks", "--keep-going"], directory: dir)
    #expect(going.status == 1)
    #expect(going.stderr.contains("bad.ks:4:7: error: name 'c' is not defined"))
  }

  @Test func syntaxErrorIsAFailedStatement() throws {
    let r = try runKS(["-c", "x = (1 +\n"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("<command>:"))
  }

  @Test func usageAndIOErrorsAreTwo() throws {
    #expect(try runKS(["run", "no-such-file.ks"]).status == 2)
    #expect(try runKS(["run", "no-such-file.ks"]).stderr.contains("cannot read 'no-such-file.ks'"))
    #expect(try runKS(["--no-such-option"]).status == 2)
    #expect(try runKS(["bench", "--repeats", "many"]).status == 2)
    #expect(try runKS(["cache", "frobnicate"]).status == 2)
    let help = try runKS(["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("USAGE"))
  }

  @Test func cacheListAndClear() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ks-cache-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let env = ["KS_CACHE_DIR=\(dir)"]
    func runKS(_ arguments: [String]) throws -> RunResult { try BatchProcess(arguments, environment: env).finish() }
    let run = try runKS(["-c", "print(Genred('Exp(-SqDist(x,y))*b', ['x = Vi(2)', 'y = Vj(2)', 'b = Vj(1)'], axis=1)([[0., 0.]], [[0., 0.]], [[2.]], backend='CPU'))"])
    #expect(run.status == 0)
    #expect(run.stdout.contains("[[2.]]"))
    let list = try runKS(["cache", "list"])
    #expect(list.status == 0)
    #expect(list.stdout.contains("1 CPU kernel"))
    let clear = try runKS(["cache", "clear"])
    #expect(clear.stdout.contains("removed 1 CPU kernel"))
    #expect(try runKS(["cache", "list"]).stdout.contains("0 CPU kernels"))
  }

  @Test func interruptIs130() throws {
    let dir = try temporaryDirectory("ks-exit")
    try "print(\"started\")\ni = 0\nwhile True:\n    i += 1\n".write(
      toFile: dir + "/loop.ks", atomically: true, encoding: .utf8)
    let ks = try BatchProcess(["run", "loop.ks"], directory: dir)
    #expect(ks.waitForOutput("started"))
    kill(ks.pid, SIGINT)
    let r = ks.finish()
    #expect(r.status == 130)
    #expect(r.stderr.contains("interrupted"))
  }

  @Test func metaCommandsWorkInScripts() throws {
    let r = try runKS(["-c", ":engine reference\nalias x = Vi(3), y = Vj(3)\n:aliases\n:quit\nprint(1)"])
    #expect(r.status == 0)
    #expect(r.stdout == "engine: reference\nalias x = Vi(3)\nalias y = Vj(3)\n")
  }
}
