// libFuzzer target: the .ks script parser and interpreter, in one long-lived session.
//
// Each input is submitted as one interactive input. Arrays are capped at 32 MiB
// (ArrayAllocation.limit), every call runs on the reference engine (no C compiler), a watchdog
// interrupts a statement after 2 s (the interpreter's Ctrl-C path), and inputs that could touch
// files or the engine choice (meta-commands, save/load, backend=) are skipped.
import ArrayIO
import Dispatch
import KSShell

nonisolated(unsafe) private var session: Session?
nonisolated(unsafe) private var generation = 0
nonisolated(unsafe) private var inputs = 0
private let watchdog = DispatchQueue(label: "fuzz.watchdog")

private func makeSession() -> Session {
  ArrayAllocation.limit = 32 << 20
  let s = Session(output: { _ in }, errors: { _ in }, status: { _ in })
  s.submit(":engine reference")
  s.submit("import numpy as np")
  s.submit("x = np.random.randn(20, 3); y = np.random.randn(30, 3); b = np.random.randn(30, 1)")
  return s
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScript(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  for banned in ["save", "load", "backend", "log", "read", "open", "engine", "set_printoptions"] where text.contains(banned) { return 0 }
  if text.split(separator: "\n").contains(where: { $0.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix(":") }) { return 0 }
  if session == nil { session = makeSession() }
  let s = session!
  // A fresh session now and then, so that state built by earlier inputs does not pile up.
  // (The session also records every input for :save, so it is replaced every 2000 inputs.)
  inputs &+= 1
  if s.interpreter.state.variables.count > 200 || inputs % 2000 == 0 { session = makeSession() }
  generation &+= 1
  let mine = generation
  let token = session!.interpreter.cancel
  token.reset()
  watchdog.asyncAfter(deadline: .now() + 2) { if generation == mine { token.cancel() } }
  session!.submit(text)
  generation &+= 1
  token.reset()
  return 0
}
