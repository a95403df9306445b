import KSDiagnostics
import ShellRuntime

extension KeOpsBuiltins {
  /// The error for a keyword that is neither an alias name nor an option of the call, as Python
  /// words it, with the keywords the call does take.
  static func unexpectedKeyword(_ name: String, names: [String?], options: Set<String>, at range: SourceRange) -> ShellError {
    let arrays = names.compactMap { $0 }
    let accepted = arrays + options.sorted()
    let hint = Suggestions.closest(to: name, among: accepted).map { "; did you mean '\($0)'?" } ?? ""
    var note = "this call takes the arrays"
    note += arrays.isEmpty ? " by position" : " (\(arrays.joined(separator: ", ")), by position or by name)"
    note += " and the keywords " + options.sorted().map { "\($0)=" }.joined(separator: ", ")
    if name == "alpha" || name == "eps" || name == "maxiter" { note += "; \(name)= belongs to KernelSolve calls" }
    return ShellError("got an unexpected keyword argument '\(name)'\(hint)", at: range, notes: [note])
  }
}
