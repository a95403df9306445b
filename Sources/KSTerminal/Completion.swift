import Foundation
import FormulaLanguage
import KSShell
import ShellRuntime
import ShellSyntax
import KernelOperations

/// What Tab completes: the word before the cursor and what it can become.
public struct Completion: Equatable, Sendable {
  /// The text just before the cursor that the candidates replace (may be empty).
  public var word: String
  /// Full replacements for `word`, sorted, without duplicates.
  public var candidates: [String]
  /// Whether a single candidate is followed by a space.
  public var appendSpace: Bool

  /// Creates a completion.
  public init(word: String, candidates: [String], appendSpace: Bool = false) {
    self.word = word
    self.candidates = candidates
    self.appendSpace = appendSpace
  }

  /// Nothing to offer.
  public static let none = Completion(word: "", candidates: [])
}

/// Context-aware completion for the shell, independent of the line editor.
///
/// It looks at everything typed before the cursor (continuation lines included) and decides:
/// * after a leading `:`, meta-command names, then their argument (a path for `:read`, `:save`
///   and `:log`; topics for `:help`; engines for `:engine`; a statement for `:time`);
/// * inside a string literal, a file path when the string is the argument of `load(...)` or
///   `save(...)`, a reduction after `reduction_op=`, a backend after `backend=`, `Vi`/`Vj`/`Pm`
///   inside an alias list, and otherwise formula operations and declared aliases;
/// * elsewhere, members after a dot (`np.ran` -> `np.random`), keyword arguments inside a call
///   (`al` -> `alpha=`), variables, builtins and language keywords; on a blank continuation
///   line, an indentation.
public struct Completer {
  /// The session's names.
  public var vocabulary: CompletionVocabulary
  /// Lists a directory: (name, isDirectory) pairs. Replaceable for tests.
  public var listDirectory: (String) -> [(name: String, isDirectory: Bool)]

  /// A completer over `vocabulary` that lists real directories.
  public init(
    vocabulary: CompletionVocabulary,
    listDirectory: ((String) -> [(name: String, isDirectory: Bool)])? = nil
  ) {
    self.vocabulary = vocabulary
    self.listDirectory = listDirectory ?? Completer.list
  }

  /// Completes at the end of `text`, the input typed so far up to the cursor.
  public func complete(_ text: String) -> Completion {
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).last.map(String.init) ?? ""
    let firstLine = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    if firstLine.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix(":") && !text.contains("\n") {
      return completeMetaCommand(String(line.drop(while: { $0 == " " || $0 == "\t" }).dropFirst()))
    }
    return completeStatement(text, line: line)
  }

  // MARK: - Meta-commands

  func completeMetaCommand(_ afterColon: String) -> Completion {
    guard let space = afterColon.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
      return Completion(word: afterColon, candidates: Self.matching(MetaCommand.allNames, afterColon), appendSpace: true)
    }
    let name = String(afterColon[..<space])
    let argument = String(afterColon[space...].drop(while: { $0 == " " || $0 == "\t" }))
    guard let command = MetaCommand.named(name) else { return .none }
    if command.takesPath { return completePath(argument) }
    switch command.name {
    case "help":
      return Completion(word: argument, candidates: Self.matching(Session.helpTopics, argument))
    case "engine":
      return Completion(word: argument, candidates: Self.matching(Session.engineNames.map(\.name), argument))
    case "set":
      return Completion(word: argument, candidates: Self.matching(["progress"], argument), appendSpace: true)
    case "time":
      return completeStatement(argument, line: argument)
    default:
      return .none
    }
  }

  // MARK: - Statements

  func completeStatement(_ text: String, line: String) -> Completion {
    let scan = Scan(text)
    if let string = scan.openString {
      return completeInString(text, string: string, brackets: scan.brackets)
    }
    if scan.inComment { return .none }
    if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
      // A blank (continuation) line: Tab indents.
      return text.contains("\n") ? Completion(word: "", candidates: ["    "]) : .none
    }
    let word = Self.trailingIdentifier(text)
    let beforeWord = text.dropLast(word.count)
    if beforeWord.last == "." {
      let path = Self.trailingDottedPath(String(beforeWord.dropLast()))
      guard !path.isEmpty, let members = vocabulary.members(path) else { return .none }
      return Completion(word: word, candidates: Self.matching(members, word))
    }
    guard !word.isEmpty, !(word.first?.isNumber ?? false) else { return .none }
    var names = vocabulary.variables + vocabulary.builtins
    let atStatementStart = line.dropLast(word.count).allSatisfy { $0 == " " || $0 == "\t" }
    names += vocabulary.languageKeywords.filter { atStatementStart || Self.expressionKeywords.contains($0) }
    if scan.brackets.last?.character == "(" {
      names += vocabulary.keywords.map { $0 + "=" }
    }
    return Completion(word: word, candidates: Self.matching(names, word))
  }

  func completeInString(_ text: String, string: Scan.OpenString, brackets: [Scan.Bracket]) -> Completion {
    let content = String(text[string.contentStart...])
    let before = String(text[..<string.quoteStart])
    let enclosing = brackets.last(where: { $0.position < string.quoteStart })
    // The keyword or function the string is an argument of.
    let lead = before.reversed().drop(while: { $0 == " " || $0 == "\t" })
    if lead.first == "=" {
      let keyword = Self.trailingIdentifier(String(String(lead.dropFirst()).reversed()).trimmingCharacters(in: .whitespaces))
      switch keyword {
      case "reduction_op":
        return Completion(word: content, candidates: Self.matching(Genred.reductionNames, content))
      case "backend":
        return Completion(word: content, candidates: Self.matching(Backend.names, content))
      case "dtype", "dtype_acc":
        return Completion(word: content, candidates: Self.matching(["float16", "float32", "float64"], content))
      case "sum_scheme":
        return Completion(
          word: content, candidates: Self.matching(["direct_sum", "block_sum", "kahan_scheme", "auto"], content))
      default:
        break
      }
    }
    if let enclosing, enclosing.character == "(" {
      let callee = Self.trailingDottedPath(String(text[..<enclosing.position]))
      let last = callee.split(separator: ".").last.map(String.init) ?? ""
      if ["load", "save", "open", "loadtxt", "savetxt"].contains(last) {
        return completePath(content)
      }
    }
    let word = Self.trailingIdentifier(content)
    // An alias definition, `"x = V`: only the variable kinds fit.
    if content.range(of: #"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*[A-Za-z]*$"#, options: .regularExpression) != nil {
      return Completion(word: word, candidates: Self.matching(["Vi", "Vj", "Pm"], word))
    }
    let names = FormulaLanguage.Operation.allNames + vocabulary.aliases + Self.declaredAliases(in: text)
    return Completion(word: word, candidates: Self.matching(names, word))
  }

  /// Alias names declared in the strings typed so far: `"x = Vi(3)"` gives `x`.
  static func declaredAliases(in text: String) -> [String] {
    guard let regex = try? NSRegularExpression(pattern: #"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:Vi|Vj|Pm)\s*\("#) else {
      return []
    }
    let range = NSRange(text.startIndex..., in: text)
    return regex.matches(in: text, range: range).compactMap { m in
      Range(m.range(at: 1), in: text).map { String(text[$0]) }
    }
  }

  // MARK: - Paths

  func completePath(_ partial: String) -> Completion {
    var expanded = partial
    if partial == "~" || partial.hasPrefix("~/") { expanded = NSHomeDirectory() + partial.dropFirst() }
    let slash = expanded.lastIndex(of: "/")
    let directory = slash.map { String(expanded[...$0]) } ?? ""
    let prefix = slash.map { String(expanded[expanded.index(after: $0)...]) } ?? expanded
    let shownDirectory = partial.hasPrefix("~") ? "~" + directory.dropFirst(NSHomeDirectory().count) : directory
    let entries = listDirectory(directory.isEmpty ? "." : directory)
      .filter { $0.name.hasPrefix(prefix) && (prefix.hasPrefix(".") || !$0.name.hasPrefix(".")) }
      .map { shownDirectory + $0.name + ($0.isDirectory ? "/" : "") }
    return Completion(word: partial, candidates: Array(Set(entries)).sorted())
  }

  static func list(_ directory: String) -> [(name: String, isDirectory: Bool)] {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return [] }
    return names.map { name in
      var isDirectory: ObjCBool = false
      let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      _ = fm.fileExists(atPath: path, isDirectory: &isDirectory)
      return (name, isDirectory.boolValue)
    }
  }

  // MARK: - Helpers

  /// Keywords that can appear inside an expression (the others only start a statement).
  static let expressionKeywords: Set<String> = ["and", "else", "False", "for", "if", "in", "is", "None", "not", "or", "True"]

  /// The candidates that start with `prefix`, sorted and unique.
  static func matching(_ names: [String], _ prefix: String) -> [String] {
    Array(Set(names.filter { $0.hasPrefix(prefix) && $0 != "" })).sorted()
  }

  static func isIdentifierCharacter(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber }

  /// The identifier characters at the end of `text`.
  static func trailingIdentifier(_ text: String) -> String {
    String(text.reversed().prefix(while: isIdentifierCharacter).reversed())
  }

  /// The dotted name at the end of `text`: `np.random` in `x = np.random`.
  static func trailingDottedPath(_ text: String) -> String {
    String(text.reversed().prefix(while: { isIdentifierCharacter($0) || $0 == "." }).reversed())
  }
}

/// A light scan of Python-like text: open brackets, and whether it ends inside a string or comment.
struct Scan {
  struct Bracket {
    var character: Character
    var position: String.Index
  }

  struct OpenString {
    /// Where the opening quote (or its prefix letter) starts.
    var quoteStart: String.Index
    /// Where the string's content starts.
    var contentStart: String.Index
  }

  var brackets: [Bracket] = []
  var openString: OpenString?
  var inComment = false

  init(_ text: String) {
    var i = text.startIndex
    while i < text.endIndex {
      let c = text[i]
      if inComment {
        if c == "\n" { inComment = false }
        i = text.index(after: i)
        continue
      }
      switch c {
      case "#":
        inComment = true
        i = text.index(after: i)
      case "\"", "'":
        let triple = text[i...].hasPrefix(String(repeating: c, count: 3))
        let delimiter = String(repeating: c, count: triple ? 3 : 1)
        let contentStart = text.index(i, offsetBy: delimiter.count)
        var prefixStart = i
        while prefixStart > text.startIndex, "rRbBfFuU".contains(text[text.index(before: prefixStart)]) {
          prefixStart = text.index(before: prefixStart)
        }
        let raw = text[prefixStart..<i].lowercased().contains("r")
        var j = contentStart
        var closed = false
        while j < text.endIndex {
          if text[j] == "\\" && !raw {
            j = text.index(j, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
            continue
          }
          if !triple && text[j] == "\n" { break }
          if text[j...].hasPrefix(delimiter) {
            j = text.index(j, offsetBy: delimiter.count)
            closed = true
            break
          }
          j = text.index(after: j)
        }
        if !closed {
          if j == text.endIndex {
            openString = OpenString(quoteStart: i, contentStart: contentStart)
            return
          }
          // An unterminated one-line string ends at the line break.
        }
        i = j
      case "(", "[", "{":
        brackets.append(Bracket(character: c, position: i))
        i = text.index(after: i)
      case ")", "]", "}":
        if !brackets.isEmpty { brackets.removeLast() }
        i = text.index(after: i)
      default:
        i = text.index(after: i)
      }
    }
  }
}
