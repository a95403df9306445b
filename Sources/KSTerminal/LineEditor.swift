@preconcurrency import CEditLine
import Foundation
import Glibc

// The only file that talks to libedit (through its readline-compatible layer). See
// shared/design/terminal-and-style-notes.md, part A, for the interop rules followed here.

/// The completion hook libedit calls back: libedit's callbacks are C functions that capture
/// nothing, so the completer lives in globals that only the thread inside `readline` touches.
private enum CompletionHook {
  /// Completes the text typed so far (continuation lines included) up to the cursor.
  nonisolated(unsafe) static var complete: ((String) -> Completion)?
  /// The lines of the current input entered before this one, each followed by `\n`.
  nonisolated(unsafe) static var pendingText = ""
  /// The candidates of the current Tab press, handed out by `generator`.
  nonisolated(unsafe) static var candidates: [String] = []
  /// Keys handed to libedit before the terminal's (the auto-indent), by `readKey`: libedit
  /// clears its line after the startup hooks run, so the text is typed for the user instead.
  nonisolated(unsafe) static var queuedKeys: [UInt8] = []
  /// True while every key of the current line was a space or a tab (after the auto-indent).
  nonisolated(unsafe) static var onlyBlanksTyped = true
}

/// libedit's key reader (`rl_getc_function`): reads one byte, as libedit's own does (EOF on an
/// interrupted read, so Ctrl-C still ends `readline`), and makes Ctrl-D end the input also on a
/// line that holds only the auto-indent (libedit would treat it as delete-character there).
private let readKey: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { stream in
  if !CompletionHook.queuedKeys.isEmpty { return Int32(CompletionHook.queuedKeys.removeFirst()) }
  var c: UInt8 = 0
  let fd = stream.map { fileno($0) } ?? STDIN_FILENO
  guard read(fd, &c, 1) == 1 else { return -1 }
  if c == 4 {
    if CompletionHook.onlyBlanksTyped { return -1 }
  } else if c != 32 && c != 9 {
    CompletionHook.onlyBlanksTyped = false
  }
  return Int32(c)
}



/// Hands out `CompletionHook.candidates` one by one, as `rl_completion_matches` asks.
private let generator: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
  let k = Int(state)
  guard k < CompletionHook.candidates.count else { return nil }
  return strdup(CompletionHook.candidates[k])  // libedit frees it
}

/// libedit's completion entry point: runs the completer on the text before the cursor and fits
/// the candidates to the word libedit is about to replace.
private let attemptCompletion:
  @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = {
    text, _, _ in
    rl_attempted_completion_over = 1  // never fall back to file names
    guard let complete = CompletionHook.complete, let buffer = rl_line_buffer else { return nil }
    let bytes = Array(String(cString: buffer).utf8)
    let cursor = max(0, min(Int(rl_point), bytes.count))
    let beforeCursor = String(decoding: bytes[0..<cursor], as: UTF8.self)
    let result = complete(CompletionHook.pendingText + beforeCursor)
    let libeditWord = text.map { String(cString: $0) } ?? ""
    CompletionHook.candidates = LineEditor.fit(result.candidates, word: result.word, to: libeditWord)
    guard !CompletionHook.candidates.isEmpty else { return nil }
    rl_completion_append_character = result.appendSpace ? 32 : 0
    return rl_completion_matches(text, generator)
  }

/// Reads lines from the terminal with libedit: editing keys, history (Up/Down, Ctrl-R), Tab.
///
/// History is kept in memory by libedit, loaded from `historyPath` at start and written back
/// atomically (a temporary file renamed over the target) by `saveHistory()`, at most
/// `historyLimit` lines. Only one `LineEditor` may exist at a time (libedit's readline layer is
/// global).
public final class LineEditor {
  /// The history file, e.g. `~/.ks_history`; nil keeps no file.
  public let historyPath: String?
  /// The most lines the history keeps.
  public let historyLimit: Int

  /// Sets libedit up; `completer` is called with the text before the cursor on Tab.
  public init(historyPath: String?, historyLimit: Int = 1000, completer: ((String) -> Completion)? = nil) {
    self.historyPath = historyPath
    self.historyLimit = historyLimit
    rl_readline_name = UnsafePointer(strdup("ks"))
    rl_getc_function = readKey  // before rl_initialize, which installs it
    _ = rl_initialize()
    // Word breaks for libedit's idea of the word; `fit` reconciles it with the completer's.
    rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"'`@$><=;|&{}()[],+-*/%:!~^#.\\"))
    rl_attempted_completion_function = attemptCompletion
    CompletionHook.complete = completer
    stifle_history(Int32(historyLimit))
    if let historyPath { _ = read_history(historyPath) }
  }

  /// Reads one line after `prompt`; nil on end of input (Ctrl-D) or when Ctrl-C interrupted the
  /// read (check `Interrupts.takePending()`). `pending` is the text of the current input's
  /// earlier lines, for completion.
  public func readLine(prompt: String, pending: String = "", initialText: String = "") -> String? {
    CompletionHook.pendingText = pending
    CompletionHook.queuedKeys = Array(initialText.utf8)
    CompletionHook.onlyBlanksTyped = true
    defer { CompletionHook.queuedKeys = [] }
    guard let line = readline(prompt) else { return nil }
    defer { free(line) }
    return String(cString: line)
  }

  /// Whether more input is already waiting on standard input (the rest of a paste, or keys typed
  /// ahead): the shell then neither indents the next line nor ends a block at a blank line.
  public static func inputPending(fd: Int32 = STDIN_FILENO) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0 && p.revents & Int16(POLLIN) != 0
  }

  /// Adds a line to the history (blank lines and repeats of the last line are skipped).
  public func addHistory(_ line: String) {
    guard !line.allSatisfy({ $0 == " " || $0 == "\t" }) else { return }
    if history_length > 0, let last = history_get(history_base + history_length - 1)?.pointee.line,
      String(cString: last) == line
    {
      return
    }
    _ = add_history(line)
  }

  /// Writes the history file atomically: to a temporary file beside it, then `rename(2)`.
  public func saveHistory() {
    guard let historyPath else { return }
    let temporary = historyPath + ".tmp.\(getpid())"
    if write_history(temporary) == 0 {
      if rename(temporary, historyPath) != 0 { unlink(temporary) }
    } else {
      unlink(temporary)
    }
  }

  /// The candidates rewritten to replace `libeditWord` (what libedit will replace) instead of
  /// `word` (what the completer meant). Both end at the cursor, so one is a suffix of the other.
  static func fit(_ candidates: [String], word: String, to libeditWord: String) -> [String] {
    if libeditWord == word { return candidates }
    if libeditWord.hasSuffix(word) {
      let head = String(libeditWord.dropLast(word.count))
      return candidates.map { head + $0 }
    }
    if word.hasSuffix(libeditWord) {
      let drop = word.count - libeditWord.count
      return candidates.filter { $0.count >= drop }.map { String($0.dropFirst(drop)) }
    }
    return []
  }
}
