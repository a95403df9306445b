import KSDiagnostics
import ShellSyntax
import Testing

/// Tokens of `text`, or the lexical error's message.
private func lex(_ text: String) -> Result<[Token], Diagnostic> {
  do throws(Diagnostic) {
    return .success(try Lexer(source: SourceText(name: "t.ks", text: text)).tokenize())
  } catch {
    return .failure(error)
  }
}

/// A compact rendering of the token stream: `NAME:x`, `INT:1`, `'+'`, `NL`, `INDENT`, ...
private func kinds(_ text: String) -> String {
  switch lex(text) {
  case .failure(let error): return "error: \(error.message)"
  case .success(let tokens):
    return tokens.map { token -> String in
      switch token.kind {
      case .name: return "NAME:\(token.text)"
      case .keyword: return "KW:\(token.text)"
      case .integer(let v): return "INT:\(v)"
      case .float(let v): return "FLOAT:\(v)"
      case .imaginary(let v): return "IMAG:\(v)"
      case .string: return "STR:\(token.text)"
      case .punctuation: return "'\(token.text)'"
      case .metaCommand(let name, let argument): return "META:\(name)|\(argument)"
      case .newline: return "NL"
      case .indent: return "INDENT"
      case .dedent: return "DEDENT"
      case .endOfInput: return "EOF"
      }
    }.joined(separator: " ")
  }
}

private func lexError(_ text: String) -> String {
  switch lex(text) {
  case .failure(let error): return error.message
  case .success: return "no error"
  }
}

@Suite("Lexer")
struct LexerTests {
  @Test func simpleStatement() {
    #expect(kinds("x = 1 + 2.5") == "NAME:x '=' INT:1 '+' FLOAT:2.5 NL EOF")
  }

  @Test func emptyInputAndCommentsOnly() {
    #expect(kinds("") == "EOF")
    #expect(kinds("\n\n  # just a comment\n\n") == "EOF")
  }

  @Test func keywordsAndSoftKeywords() {
    #expect(kinds("if not x in y: pass") == "KW:if KW:not NAME:x KW:in NAME:y ':' KW:pass NL EOF")
    #expect(kinds("alias print True None") == "NAME:alias NAME:print KW:True KW:None NL EOF")
  }

  @Test func unicodeIdentifiers() {
    #expect(kinds("σ = 1") == "NAME:σ '=' INT:1 NL EOF")
  }

  @Test func integerLiterals() {
    #expect(kinds("0 00 7 1_000 0x1f 0XFF 0o17 0b101 0b_1") == "INT:0 INT:0 INT:7 INT:1000 INT:31 INT:255 INT:15 INT:5 INT:1 NL EOF")
  }

  @Test func floatLiterals() {
    #expect(kinds("1.5 .1 1e-6 2. 1E+3 1_0.2_5 3e2") == "FLOAT:1.5 FLOAT:0.1 FLOAT:1e-06 FLOAT:2.0 FLOAT:1000.0 FLOAT:10.25 FLOAT:300.0 NL EOF")
    #expect(kinds("1j 2.5e-3J 09j .5j 1_0j 1e2j") == "IMAG:1.0 IMAG:0.0025 IMAG:9.0 IMAG:0.5 IMAG:10.0 IMAG:100.0 NL EOF")
  }

  @Test(arguments: [
    ("x = 012", "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers"),
    ("x = 1__0", "invalid decimal literal"),
    ("x = 1_", "invalid decimal literal"),
    ("x = 1abc", "invalid decimal literal"),
    ("x = 1e", "invalid decimal literal"),
    ("x = 0x", "invalid hexadecimal literal"),
    ("x = 0b12", "invalid binary literal"),
    ("x = 0o8", "invalid octal literal"),
    ("x = 2jk", "invalid imaginary literal"),
    ("x = 0x2j", "invalid hexadecimal literal"),
    ("x = 99999999999999999999", "integer literal is too large"),
  ])
  func numberErrors(source: String, message: String) {
    #expect(lexError(source) == message)
  }

  @Test func operatorsMatchLongestFirst() {
    #expect(kinds("a**=b//c>>=d...e->f!=g") == "NAME:a '**=' NAME:b '//' NAME:c '>>=' NAME:d '...' NAME:e '->' NAME:f '!=' NAME:g NL EOF")
    #expect(kinds("a<<b<=c==d@e") == "NAME:a '<<' NAME:b '<=' NAME:c '==' NAME:d '@' NAME:e NL EOF")
  }

  @Test func stringLiterals() {
    #expect(kinds(#"'a' "b" r'\d' f"{x}" Rf'{y}'"#) == #"STR:'a' STR:"b" STR:r'\d' STR:f"{x}" STR:Rf'{y}' NL EOF"#)
  }

  @Test func stringTokenContentRange() throws {
    let text = #"x = r"ab\"c" + '''tri"ple'''"#
    let tokens = try #require(try? lex(text).get())
    guard case .string(let raw) = tokens[2].kind, case .string(let triple) = tokens[4].kind else {
      Issue.record("expected string tokens")
      return
    }
    #expect(raw.isRaw && !raw.isFormatted && !raw.isTripleQuoted && raw.quote == "\"")
    let bytes = Array(text.utf8)
    #expect(String(decoding: bytes[raw.contentRange.start..<raw.contentRange.end], as: UTF8.self) == #"ab\"c"#)
    #expect(triple.isTripleQuoted && triple.quote == "'")
    #expect(String(decoding: bytes[triple.contentRange.start..<triple.contentRange.end], as: UTF8.self) == #"tri"ple"#)
  }

  @Test func tripleQuotedStringSpansLines() {
    #expect(kinds("s = \"\"\"a\nb\"\"\"\nt = 1") == "NAME:s '=' STR:\"\"\"a\nb\"\"\" NL NAME:t '=' INT:1 NL EOF")
  }

  @Test(arguments: [
    ("s = 'abc", "unterminated string literal"),
    ("s = \"abc\nt = 1", "unterminated string literal"),
    ("s = '''abc\n", "unterminated triple-quoted string literal"),
    ("s = b'abc'", "bytes literals are not supported"),
    ("x = $", "invalid character '$' (U+0024)"),
    ("x = a ? b", "invalid character '?' (U+003F)"),
    ("x = 1 \\ y", "unexpected character after line continuation character"),
    ("x = 1 \\", "unexpected end of input after line continuation character"),
    ("f(a, [1,\n", "'[' was never closed"),
  ])
  func lexicalErrors(source: String, message: String) {
    #expect(lexError(source) == message)
  }

  @Test func newlinesInsideBracketsAndAfterBackslashAreIgnored() {
    #expect(kinds("f(a,\n  b)\nx = 1 + \\\n  2") == "NAME:f '(' NAME:a ',' NAME:b ')' NL NAME:x '=' INT:1 '+' INT:2 NL EOF")
  }

  @Test func commentsAreSkipped() {
    #expect(kinds("x = 1  # set x\n# whole line\ny") == "NAME:x '=' INT:1 NL NAME:y NL EOF")
  }

  @Test func indentAndDedent() {
    let text = """
      for a in xs:
          if a:
              print(a)

          # comment at another indent
        # and another
      y = 1
      """
    #expect(kinds(text) == "KW:for NAME:a KW:in NAME:xs ':' NL INDENT KW:if NAME:a ':' NL INDENT NAME:print '(' NAME:a ')' NL DEDENT DEDENT NAME:y '=' INT:1 NL EOF")
  }

  @Test func dedentsAtEndOfInput() {
    #expect(kinds("if a:\n  if b:\n    c") == "KW:if NAME:a ':' NL INDENT KW:if NAME:b ':' NL INDENT NAME:c NL DEDENT DEDENT EOF")
  }

  @Test func tabsIndentConsistently() {
    #expect(kinds("if a:\n\tb\n\tc") == "KW:if NAME:a ':' NL INDENT NAME:b NL NAME:c NL DEDENT EOF")
  }

  @Test func inconsistentTabsAndSpacesAreAnError() {
    // A tab (8 columns) and then 8 spaces look the same at tab width 8 but not at other widths.
    #expect(lexError("if a:\n\tb\n        c") == "inconsistent use of tabs and spaces in indentation")
  }

  @Test func unindentMustMatchAnOuterLevel() {
    #expect(lexError("if a:\n    b\n  c") == "unindent does not match any outer indentation level")
  }

  @Test func carriageReturnLineEndings() {
    #expect(kinds("x = 1\r\nif x:\r\n  y\r\n") == "NAME:x '=' INT:1 NL KW:if NAME:x ':' NL INDENT NAME:y NL DEDENT EOF")
  }

  @Test func metaCommands() {
    #expect(kinds(":help Genred  \n:save out.ks\n:engine cpu\n:quit") == "META:help|Genred NL META:save|out.ks NL META:engine|cpu NL META:quit| NL EOF")
    #expect(kinds("x = {1:\n:2}") == "NAME:x '=' '{' INT:1 ':' ':' INT:2 '}' NL EOF")
  }

  @Test func questionMarkAtTheStartOfALineIsHelp() {
    #expect(kinds("?np.zeros\n?  len  \nx = 1") == "META:help|np.zeros NL META:help|len NL NAME:x '=' INT:1 NL EOF")
  }

  @Test func metaCommandKeepsTheRawRestOfTheLine() {
    #expect(kinds(":run  a b.ks # not a comment ") == "META:run|a b.ks # not a comment NL EOF")
  }

  @Test func newlineTokenSitsAfterTheLastToken() throws {
    let tokens = try #require(try? lex("x = 1   # c\n").get())
    #expect(tokens[3].kind == .newline)
    #expect(tokens[3].range == SourceRange(5, 5))
    #expect(tokens[4].kind == .endOfInput)
  }

  @Test func tokenRangesAreByteOffsets() throws {
    let tokens = try #require(try? lex("é = 'ü'").get())
    #expect(tokens[0].range == SourceRange(0, 2))
    #expect(tokens[1].range == SourceRange(3, 4))
    #expect(tokens[2].range == SourceRange(5, 9))
  }
}
