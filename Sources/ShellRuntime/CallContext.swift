import KSDiagnostics
import ShellSyntax

/// The arguments of one call, with their places for error messages.
public struct CallContext {
  public var name: String
  public var positional: [Value]
  public var positionalRanges: [SourceRange]
  public var keywords: [(name: String, value: Value, range: SourceRange)]
  public var range: SourceRange
  /// The interpreter, for builtins that need the session (random state, output, engine).
  public unowned(unsafe) var interpreter: Interpreter
  private var used: Set<String> = []
  /// Values the call gives back through keyword arguments (numpy's `out=`): the interpreter
  /// stores each where its keyword's argument was read from, when that is a variable or an item.
  public var writeBack: [(keyword: String, value: Value)] = []

  public init(
    name: String, positional: [Value], positionalRanges: [SourceRange],
    keywords: [(name: String, value: Value, range: SourceRange)], range: SourceRange, interpreter: Interpreter
  ) {
    self.name = name
    self.positional = positional
    self.positionalRanges = positionalRanges
    self.keywords = keywords
    self.range = range
    self.interpreter = interpreter
  }

  /// The range of positional argument k (or of the call).
  public func rangeOf(_ k: Int) -> SourceRange { k < positionalRanges.count ? positionalRanges[k] : range }

  /// The range of a keyword argument (or of the call).
  public func rangeOf(keyword: String) -> SourceRange {
    keywords.first { $0.name == keyword }?.range ?? range
  }

  /// Positional argument `index` or keyword `name`, or nil when absent.
  public mutating func optional(_ index: Int?, _ name: String) throws(ShellError) -> Value? {
    let kw = keywords.first { $0.name == name }
    if let i = index, i < positional.count {
      if let kw { throw ShellError("\(self.name)() got multiple values for argument '\(name)'", at: kw.range) }
      used.insert(name)
      return positional[i]
    }
    if let kw {
      used.insert(name)
      return kw.value
    }
    return nil
  }

  /// A required argument.
  public mutating func required(_ index: Int?, _ name: String) throws(ShellError) -> Value {
    guard let v = try optional(index, name) else {
      throw ShellError("\(self.name)() missing required argument '\(name)'", at: range)
    }
    return v
  }

  /// The range of an argument given positionally at `index` or by `name`.
  public func rangeOf(_ index: Int?, _ name: String) -> SourceRange {
    if let i = index, i < positionalRanges.count { return positionalRanges[i] }
    return rangeOf(keyword: name)
  }

  /// Fails on keywords that no parameter consumed, and on too many positional arguments.
  public func finish(maxPositional: Int) throws(ShellError) {
    if positional.count > maxPositional {
      throw ShellError(
        "\(name)() takes at most \(maxPositional) positional argument\(maxPositional == 1 ? "" : "s") but \(positional.count) were given",
        at: positionalRanges[maxPositional])
    }
    for kw in keywords where !used.contains(kw.name) {
      throw ShellError("\(name)() got an unexpected keyword argument '\(kw.name)'", at: kw.range)
    }
  }

  // MARK: Typed accessors

  public func int(_ v: Value, _ what: String, at r: SourceRange) throws(ShellError) -> Int {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    case .array(let a) where a.count == 1 && a.dtype == .int64: return Int(a.double(at: 0))
    default: throw ShellError("\(what) must be an integer, not \(v.typeName)", at: r)
    }
  }

  public func double(_ v: Value, _ what: String, at r: SourceRange) throws(ShellError) -> Double {
    switch v {
    case .int(let i): return Double(i)
    case .float(let x): return x
    case .bool(let b): return b ? 1 : 0
    case .array(let a) where a.count == 1 && !a.dtype.isComplex: return a.double(at: 0)
    case .complex, .array(_):
      if case .array(let a) = v, !a.dtype.isComplex || a.count != 1 {
        throw ShellError("\(what) must be a number, not \(v.typeName)", at: r)
      }
      throw ShellError("\(what) must be a real number, not complex", type: "TypeError", at: r)
    default: throw ShellError("\(what) must be a number, not \(v.typeName)", at: r)
    }
  }

  public func string(_ v: Value, _ what: String, at r: SourceRange) throws(ShellError) -> StringValue {
    guard case .string(let s) = v else { throw ShellError("\(what) must be a string, not \(v.typeName)", at: r) }
    return s
  }

  public func bool(_ v: Value, _ what: String, at r: SourceRange) throws(ShellError) -> Bool {
    switch v {
    case .bool(let b): return b
    case .int(let i): return i != 0
    default: throw ShellError("\(what) must be True or False, not \(v.typeName)", at: r)
    }
  }
}
