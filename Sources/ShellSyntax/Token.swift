import KSDiagnostics

/// One lexical token of a `.ks` script, with its place in the source.
public struct Token: Sendable, Equatable {
  /// What kind of token this is (and its decoded payload, for literals).
  public var kind: TokenKind
  /// The token's exact source text (empty for the synthetic NEWLINE, INDENT, DEDENT, end tokens).
  public var text: String
  /// The UTF-8 byte range of the token; zero-width for synthetic tokens.
  public var range: SourceRange

  /// Creates a token.
  public init(kind: TokenKind, text: String, range: SourceRange) {
    self.kind = kind
    self.text = text
    self.range = range
  }

  /// Whether this is the punctuation or operator token `symbol`.
  public func isPunctuation(_ symbol: String) -> Bool {
    kind == .punctuation && text == symbol
  }

  /// Whether this is the reserved word `word`.
  public func isKeyword(_ word: String) -> Bool {
    kind == .keyword && text == word
  }

  /// Whether this is an identifier (not a reserved word).
  public var isName: Bool { kind == .name }
}

/// The kinds of tokens the lexer produces (a Python 3 token set plus ks meta-commands).
public enum TokenKind: Sendable, Equatable {
  /// An identifier that is not a reserved word, e.g. `np`, `alias`, `print`.
  case name
  /// A Python reserved word, e.g. `if`, `for`, `True`, `not`.
  case keyword
  /// An integer literal with its value (`1_000`, `0x1f`).
  case integer(Int)
  /// A floating-point literal with its value (`1.5`, `.1`, `1e-6`, `2.`).
  case float(Double)
  /// An imaginary literal with its imaginary part (`1j`, `2.5e-3J`).
  case imaginary(Double)
  /// One string literal (its prefix flags and where its content lies); not yet decoded.
  case string(StringToken)
  /// An operator or delimiter; `Token.text` holds it (`+`, `**=`, `(`, `...`).
  case punctuation
  /// A meta-command line such as `:help Genred`: the command name and the trimmed rest of the line.
  case metaCommand(name: String, argument: String)
  /// The end of a logical line.
  case newline
  /// The start of a deeper indented block.
  case indent
  /// The end of an indented block.
  case dedent
  /// The end of the input.
  case endOfInput
}

/// A string literal token as written: its prefix flags, quotes, and content span.
public struct StringToken: Sendable, Equatable {
  /// Whether the literal has an `r` prefix (backslashes are kept as written).
  public var isRaw: Bool
  /// Whether the literal has an `f` prefix (its `{...}` fields are expressions).
  public var isFormatted: Bool
  /// Whether the literal uses triple quotes.
  public var isTripleQuoted: Bool
  /// The quote character, `'` or `"`.
  public var quote: Character
  /// The byte range of the content between the quotes.
  public var contentRange: SourceRange

  /// Creates a string token description.
  public init(
    isRaw: Bool, isFormatted: Bool, isTripleQuoted: Bool, quote: Character, contentRange: SourceRange
  ) {
    self.isRaw = isRaw
    self.isFormatted = isFormatted
    self.isTripleQuoted = isTripleQuoted
    self.quote = quote
    self.contentRange = contentRange
  }
}

extension Lexer {
  /// The reserved words of Python 3; `alias` is deliberately not among them (it is a soft keyword).
  static let keywords: Set<String> = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
    "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
    "yield",
  ]

  /// Python keywords that ks scripts do not support; using one is reported by name.
  static let unsupportedKeywords: Set<String> = ["async", "await", "class", "with", "yield"]

  /// Operators and delimiters, longest first so that the lexer can match greedily.
  static let punctuationSymbols: [String] = [
    "**=", "//=", ">>=", "<<=", "...",
    "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "->", "+=", "-=", "*=", "/=", "%=", "@=", "&=",
    "|=", "^=", ":=",
    "+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",",
    ":", ".", ";", "=",
  ]

  /// The punctuation symbols with their UTF-8 bytes, in matching order.
  static let punctuationBytes: [(String, [UInt8])] = punctuationSymbols.map { ($0, Array($0.utf8)) }
}
