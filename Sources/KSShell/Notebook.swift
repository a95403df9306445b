import ArrayIO
import Foundation

/// A session laid out as notebook cells: what `:export` and `ks run --notebook` write, as a
/// Jupyter notebook (nbformat 4.5) or as Markdown.
///
/// Cells, in order: a setup cell (the imports Jupyter needs for names ks defines without one, and
/// the session's initial random seed; it did not run in ks, so it has no execution count), then
/// for each recorded statement the comment lines above it as a markdown cell and the statement as
/// a code cell with what it printed (`stream` stdout), its solver summaries (`stream` stderr), its
/// echoed value (`execute_result`), the figures it showed (`display_data`) and its error (`error`).
/// Meta-commands become code cells with the line commented out (`# ks: :vars`), except `:set`
/// print options, which become the `np.set_printoptions(...)` call that does the same.
public struct Notebook: Equatable {
  /// One cell.
  public enum Cell: Equatable {
    /// Text: the comments above a statement, with their `#` removed.
    case markdown(String)
    /// A statement: its code, its execution count (nil: it did not run), its outputs, and
    /// whether it failed.
    case code(String, executionCount: Int?, outputs: [StatementOutput], failed: Bool)
  }

  /// The cells in order.
  public var cells: [Cell]
  /// What the session ran (a script's path), kept in the notebook's metadata; nil for the shell.
  public var sourceName: String?

  /// The first line of the setup cell: what it is for.
  static let setupComment = "# Setup for Jupyter: ks defines these names without an import and starts from random seed"
  /// The prefix of a meta-command's line in a code cell.
  public static let commandPrefix = "# ks: "

  /// The notebook of `records`, a session that started from random seed `initialSeed`.
  public init(records: [RecordedStatement], initialSeed: UInt64, sourceName: String? = nil) {
    self.sourceName = sourceName
    var cells: [Cell] = [.code(Self.setup(for: records, seed: initialSeed), executionCount: nil, outputs: [], failed: false)]
    var count = 0
    for record in records {
      let text = Self.markdown(ofComment: record.comment)
      if !text.isEmpty { cells.append(.markdown(text)) }
      if record.kind == .comment { continue }
      var outputs = record.outputs
      let code: String
      switch record.kind {
      case .setting where record.text.hasPrefix(":set "):
        if let call = Self.printOptionsCall(record.text) {
          code = call
          // `np.set_printoptions` prints nothing; drop `:set`'s acknowledgement with it.
          outputs.removeAll { if case .printed = $0 { true } else { false } }
        } else {
          code = Self.commentedCommand(record.text)
        }
      case .setting, .command:
        code = Self.commentedCommand(record.text)
      default:
        code = record.code ?? record.text
      }
      var executionCount: Int?
      if record.ran {
        count += 1
        executionCount = count
      }
      cells.append(.code(code, executionCount: executionCount, outputs: record.ran ? outputs : [], failed: !record.succeeded && record.ran))
    }
    self.cells = cells
  }

  /// The names of `pykeops.numpy` that ks defines without an import.
  static let pykeopsNames = ["Genred", "KernelSolve", "LazyTensor", "Vi", "Vj", "Pm"]

  /// The setup cell: numpy, the `pykeops.numpy` names the statements use (none: no import, so a
  /// notebook that does not use PyKeOps runs without it), and the initial random seed.
  static func setup(for records: [RecordedStatement], seed: UInt64) -> String {
    let code = records.filter { $0.kind == .statement }.map { $0.code ?? $0.text }.joined(separator: "\n")
    let used = pykeopsNames.filter { name in
      code.range(of: "\\b\(name)\\b", options: .regularExpression) != nil
    }
    var lines = ["\(setupComment) \(seed).", "import numpy as np"]
    if !used.isEmpty { lines.append("from pykeops.numpy import " + used.joined(separator: ", ")) }
    lines.append("np.random.seed(\(seed))")
    return lines.joined(separator: "\n")
  }

  /// A meta-command as a code cell's text: each line commented with `# ks: `.
  static func commentedCommand(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { commandPrefix + $0 }.joined(separator: "\n")
  }

  /// `:set precision 4 suppress True` as `np.set_printoptions(precision=4, suppress=True)`.
  static func printOptionsCall(_ text: String) -> String? {
    let words = text.dropFirst(":set ".count).split(separator: " ").map(String.init)
    guard !words.isEmpty, words.count % 2 == 0 else { return nil }
    var arguments: [String] = []
    for k in stride(from: 0, to: words.count, by: 2) {
      let (name, value) = (words[k], words[k + 1])
      guard Session.settingNames.contains(name), name != "progress" else { return nil }
      arguments.append("\(name)=\(value)")
    }
    return "np.set_printoptions(" + arguments.joined(separator: ", ") + ")"
  }

  /// Comment lines as Markdown: each loses its `#` and the space after it; lines of only `#`, `=`,
  /// `-`, `*` (rulers drawn in comments) are dropped; consecutive lines form a paragraph.
  static func markdown(ofComment lines: [String]) -> String {
    var out: [String] = []
    for line in lines {
      var text = Substring(line)
      if text.first == "#" { text = text.dropFirst() }
      if text.first == " " { text = text.dropFirst() }
      let ruler = line.count >= 3 && line.allSatisfy { "#=-*~_ ".contains($0) }
      if ruler || text.trimmingCharacters(in: .whitespaces).isEmpty {
        if let last = out.last, !last.isEmpty { out.append("") }
        continue
      }
      out.append(String(text))
    }
    while out.last == "" { out.removeLast() }
    return out.joined(separator: "\n")
  }

  // MARK: - nbformat

  /// The notebook as a Jupyter `.ipynb` file: nbformat 4.5 JSON (cell ids, one-space indentation,
  /// sorted keys), Python 3 as its kernel. Text outputs carry no terminal escape codes.
  public func ipynb() -> String {
    var json: [JSONValue] = []
    for (k, cell) in cells.enumerated() {
      let id = JSONValue.string("cell-\(k + 1)")
      switch cell {
      case .markdown(let text):
        json.append(.object(["cell_type": .string("markdown"), "id": id, "metadata": .object([:]), "source": .lines(text)]))
      case .code(let code, let executionCount, let outputs, let failed):
        // `raises-exception`: nbconvert and nbval go on past a cell that is meant to fail.
        let metadata: [String: JSONValue] = failed ? ["tags": .array([.string("raises-exception")])] : [:]
        json.append(
          .object([
            "cell_type": .string("code"), "id": id, "metadata": .object(metadata), "source": .lines(code),
            "execution_count": executionCount.map { .int($0) } ?? .null,
            "outputs": .array(outputs.map { Self.json(of: $0, executionCount: executionCount) }),
          ]))
      }
    }
    var ks: [String: JSONValue] = ["exported_by": .string("ks")]
    if let sourceName { ks["source"] = .string(sourceName) }
    let metadata: [String: JSONValue] = [
      "kernelspec": .object(["display_name": .string("Python 3 (ipykernel)"), "language": .string("python"), "name": .string("python3")]),
      "language_info": .object([
        "name": .string("python"), "file_extension": .string(".py"), "mimetype": .string("text/x-python"),
        "codemirror_mode": .object(["name": .string("ipython"), "version": .int(3)]),
        "nbconvert_exporter": .string("python"), "pygments_lexer": .string("ipython3"),
      ]),
      "ks": .object(ks),
    ]
    let notebook = JSONValue.object([
      "cells": .array(json), "metadata": .object(metadata), "nbformat": .int(4), "nbformat_minor": .int(5),
    ])
    return notebook.serialized() + "\n"
  }

  static func json(of output: StatementOutput, executionCount: Int?) -> JSONValue {
    switch output {
    case .printed(let text):
      return .object(["output_type": .string("stream"), "name": .string("stdout"), "text": .lines(plain(text))])
    case .status(let text):
      return .object(["output_type": .string("stream"), "name": .string("stderr"), "text": .lines(plain(text))])
    case .value(let text):
      var value = plain(text)
      if value.hasSuffix("\n") { value.removeLast() }
      return .object([
        "output_type": .string("execute_result"), "execution_count": executionCount.map { .int($0) } ?? .null,
        "data": .object(["text/plain": .lines(value)]), "metadata": .object([:]),
      ])
    case .display(let data):
      var bundle: [String: JSONValue] = [:]
      for (mime, value) in data {
        // Images in base64 are one string, as Jupyter stores them; text is a list of lines.
        bundle[mime] = mime.hasPrefix("image/") && !mime.hasSuffix("+xml") ? .string(value) : .lines(mime.hasPrefix("text/") ? plain(value) : value)
      }
      return .object(["output_type": .string("display_data"), "data": .object(bundle), "metadata": .object([:])])
    case .error(let type, let message, let rendered):
      var lines = plain(rendered).split(separator: "\n", omittingEmptySubsequences: false).map { JSONValue.string(String($0)) }
      if lines.last == .string("") { lines.removeLast() }
      return .object([
        "output_type": .string("error"), "ename": .string(type), "evalue": .string(plain(message)), "traceback": .array(lines),
      ])
    }
  }

  /// Text without terminal escape codes or carriage returns.
  static func plain(_ text: String) -> String { SessionLog.plainText(text) }

  // MARK: - Markdown

  /// A figure the Markdown export writes next to its file.
  public struct Figure: Equatable {
    /// The file name, e.g. `figure-1.svg`.
    public var name: String
    /// The file's contents.
    public var bytes: [UInt8]
  }

  /// The notebook as Markdown: markdown cells as they are, code in ```` ```python ```` blocks, text
  /// outputs and errors in ```` ```text ```` blocks, figures as image links to files in
  /// `figuresFolder` (a path relative to the Markdown file), which the caller writes.
  public func markdown(figuresFolder: String) -> (text: String, figures: [Figure]) {
    var blocks: [String] = []
    var figures: [Figure] = []
    for cell in cells {
      switch cell {
      case .markdown(let text):
        blocks.append(text)
      case .code(let code, let executionCount, let outputs, _):
        blocks.append(Self.fenced(code, "python"))
        if executionCount == nil && cell != cells.first {
          blocks.append("*(not run: the script stopped at an earlier error)*")
        }
        var text = ""
        func flush() {
          if !text.isEmpty { blocks.append(Self.fenced(text, "text")) }
          text = ""
        }
        for output in outputs {
          switch output {
          case .printed(let t), .status(let t), .value(let t):
            text += Self.plain(t)
            if !text.hasSuffix("\n") { text += "\n" }
          case .error(_, _, let rendered):
            text += Self.plain(rendered)
          case .display(let data):
            flush()
            let number = figures.count + 1
            if let svg = data["image/svg+xml"] {
              figures.append(Figure(name: "figure-\(number).svg", bytes: Array(svg.utf8)))
            } else if let png = data["image/png"], let bytes = Data(base64Encoded: png, options: .ignoreUnknownCharacters) {
              figures.append(Figure(name: "figure-\(number).png", bytes: Array(bytes)))
            } else {
              text += Self.plain(data["text/plain"] ?? "")
              continue
            }
            let alt = (data["text/plain"] ?? "figure \(number)").replacingOccurrences(of: "\n", with: " ")
              .replacingOccurrences(of: "]", with: ")").replacingOccurrences(of: "[", with: "(")
            blocks.append("![\(alt)](\(figuresFolder)/\(figures[figures.count - 1].name))")
          }
        }
        flush()
      }
    }
    return (blocks.joined(separator: "\n\n") + "\n", figures)
  }

  /// `text` in a fenced block, the fence longer than any run of backticks inside.
  static func fenced(_ text: String, _ language: String) -> String {
    var longest = 0
    var run = 0
    for ch in text {
      run = ch == "`" ? run + 1 : 0
      longest = max(longest, run)
    }
    let fence = String(repeating: "`", count: max(3, longest + 1))
    var body = text
    while body.hasSuffix("\n") { body.removeLast() }
    return fence + language + "\n" + body + "\n" + fence
  }

  // MARK: - Writing

  /// Writes the notebook to `path`: `.ipynb` as a Jupyter notebook; `.md` as Markdown, with its
  /// figures in the folder `NAME_files` beside it. Every file is written atomically (figures
  /// first, so the notebook never links a figure that is missing). Returns a one-line report.
  public func write(to path: String) throws -> String {
    let lower = path.lowercased()
    let cellCount = "\(cells.count) cell\(cells.count == 1 ? "" : "s")"
    if lower.hasSuffix(".ipynb") {
      try AtomicFile.write(Array(ipynb().utf8), to: path)
      return "exported \(cellCount) to \(path)"
    }
    guard lower.hasSuffix(".md") else {
      throw ArrayIOError("cannot tell the format of '\(path)': name it .ipynb (Jupyter) or .md (Markdown)")
    }
    let url = URL(fileURLWithPath: path)
    let folderName = url.deletingPathExtension().lastPathComponent + "_files"
    let (text, figures) = markdown(figuresFolder: folderName)
    if !figures.isEmpty {
      let folder = url.deletingLastPathComponent().appendingPathComponent(folderName).path
      do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw ArrayIOError("cannot create the figures folder '\(folder)': \(error.localizedDescription)")
      }
      for figure in figures { try AtomicFile.write(figure.bytes, to: folder + "/" + figure.name) }
    }
    try AtomicFile.write(Array(text.utf8), to: path)
    let figureNote = figures.isEmpty ? "" : " and \(figures.count) figure\(figures.count == 1 ? "" : "s") to \(folderName)/"
    return "exported \(cellCount) to \(path)\(figureNote)"
  }
}

extension Session {
  /// The session so far (since it started or was last reset) as a notebook.
  public func notebook(sourceName: String? = nil) -> Notebook {
    Notebook(records: recorded, initialSeed: initialSeed, sourceName: sourceName)
  }
}
