import KSDiagnostics

/// Whether text typed at the interactive prompt can be run yet.
public enum InputCompleteness: Sendable, Equatable {
  /// The input is whole: run it.
  case complete
  /// More lines are needed; `prompt` names what is open: `(`, `[`, `{`, `"""`, `'''`, `\`, or `:` (a block).
  case incomplete(prompt: String)
  /// No further lines can make the input valid: run it so that the syntax error is reported.
  case invalid
}

/// Decides whether the lines typed so far form complete input, following Python's REPL rules.
///
/// `text` is the lines entered so far joined by `"\n"`, without a line break after the last one
/// (so a text ending in `"\n"` means the user has just entered an empty line). Input is incomplete
/// while a bracket or a triple-quoted string is open, after a trailing backslash, and, once it
/// contains a compound statement (`if`, `for`, `while`) or an indented block, until an empty line
/// is entered.
public func checkCompleteness(_ text: String) -> InputCompleteness {
  let source = SourceText(name: "<stdin>", text: text)
  let bytes = Array(text.utf8)
  let lex = Lexer(source: source, bytes: bytes, range: 0..<bytes.count, insideBrackets: false).scan()
  if lex.error != nil {
    if let prompt = lex.continuationPrompt { return .incomplete(prompt: prompt) }
    return .invalid
  }
  let tokens = lex.tokens
  if tokens.count <= 1 { return .complete }
  let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  let endsWithEmptyLine =
    lines.count >= 2 && lines[lines.count - 1].allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
  var engine = ScriptParserEngine(source: source, bytes: bytes, lex: lex)
  do throws(Diagnostic) {
    _ = try engine.parseFile()
  } catch {
    if engine.endedExpectingBlock && !endsWithEmptyLine { return .incomplete(prompt: ":") }
    return .invalid
  }
  var hasBlock = false
  for (index, token) in tokens.enumerated() {
    if token.kind == .indent {
      hasBlock = true
      break
    }
    if token.kind == .keyword && ["if", "for", "while"].contains(token.text) {
      let previous = index > 0 ? tokens[index - 1].kind : .newline
      if previous == .newline || previous == .indent || previous == .dedent {
        hasBlock = true
        break
      }
    }
  }
  if hasBlock && !endsWithEmptyLine { return .incomplete(prompt: ":") }
  return .complete
}
