import ArrayIO
import Foundation
import KSDiagnostics
import ShellSyntax

extension Interpreter {
  public func unary(_ op: UnaryOperator, _ v: Value, at range: SourceRange) throws -> Value {
    switch (op, v) {
    case (.not, _): return .bool(!(try truth(v, at: range)))
    case (.plus, .int), (.plus, .float): return v
    case (.negate, .int(let i)):
      let (r, o) = Int(0).subtractingReportingOverflow(i)
      if o { throw ShellError("integer overflow", at: range) }
      return .int(r)
    case (.negate, .float(let x)): return .float(-x)
    case (.negate, .complex(let re, let im)): return .complex(-re, -im)
    case (.plus, .complex): return v
    case (.negate, .bool(let b)): return .int(b ? -1 : 0)
    case (.invert, .int(let i)): return .int(~i)
    case (.invert, .bool(let b)): return .int(b ? -2 : -1)
    case (_, .array(let a)): return try arrays(at: range).unary(op, a, at: range)
    case (_, .object(let o)):
      if let r = try o.unary(op, at: range, in: self) { return r }
      throw ShellError("bad operand type for unary \(op.symbol): '\(v.typeName)'", at: range)
    default:
      throw ShellError("bad operand type for unary \(op.symbol): '\(v.typeName)'", at: range)
    }
  }

  public func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    if case .object(let o) = a, let r = try o.binary(op, b, reflected: false, at: range, in: self) { return r }
    if case .object(let o) = b, let r = try o.binary(op, a, reflected: true, at: range, in: self) { return r }
    if case .array = a { return try arrays(at: range).binary(op, a, b, at: range) }
    // "%s" % array is Python string formatting, not numpy's remainder.
    if case .array = b, !(op == .modulo && { if case .string = a { return true } else { return false } }()) {
      return try arrays(at: range).binary(op, a, b, at: range)
    }
    switch (a, b) {
    case (.int, .int), (.bool, .int), (.int, .bool), (.bool, .bool):
      return try intBinary(op, intValue(a), intValue(b), at: range)
    case (.int, .float), (.float, .int), (.float, .float), (.bool, .float), (.float, .bool):
      return try floatBinary(op, doubleValue(a), doubleValue(b), at: range)
    case (.complex, _) where isNumber(b) || isComplex(b), (_, .complex) where isNumber(a):
      return try complexBinary(op, a, b, at: range)
    case (.string(let x), .string(let y)) where op == .add:
      return .str(x.text + y.text)
    case (.string(let x), .int(let n)) where op == .multiply:
      try Allocation.checkSequence(Allocation.product(x.text.utf8.count, max(0, n), "str", at: range), itemSize: 1, typeName: "str", at: range)
      return .str(String(repeating: x.text, count: max(0, n)))
    case (.string(let x), _) where op == .modulo:
      return .str(try Format.percent(x.text, b, options: state.printOptions, at: range))
    case (.list(let x), .list(let y)) where op == .add: return .list(x + y)
    case (.tuple(let x), .tuple(let y)) where op == .add: return .tuple(x + y)
    case (.list(let x), .int(let n)) where op == .multiply:
      try Allocation.checkSequence(Allocation.product(x.count, max(0, n), "list", at: range), itemSize: 8, typeName: "list", at: range)
      return .list(Array([[Value]](repeating: x, count: max(0, n)).joined()))
    default:
      throw ShellError("unsupported operand types for \(op.symbol): '\(a.typeName)' and '\(b.typeName)'", at: range)
    }
  }

  func isComplex(_ v: Value) -> Bool {
    if case .complex = v { return true }
    return false
  }

  /// A Python number as a complex value (ints, floats and bools get a zero imaginary part).
  public func complexValue(_ v: Value) -> Complex128 {
    if case .complex(let re, let im) = v { return Complex128(re, im) }
    return Complex128(doubleValue(v), 0)
  }

  /// Python's complex arithmetic (the real operand converted to complex first, as CPython does).
  func complexBinary(_ op: BinaryOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    let x = complexValue(a), y = complexValue(b)
    func value(_ z: Complex128) -> Value { .complex(z.re, z.im) }
    switch op {
    case .add: return value(x + y)
    case .subtract: return value(x - y)
    case .multiply: return value(x * y)
    case .divide:
      if y.isZero { throw ShellError("complex division by zero", type: "ZeroDivisionError", at: range) }
      return value(x / y)
    case .power:
      if x.isZero && (y.im != 0 || y.re < 0) {
        throw ShellError("zero to a negative or complex power", type: "ZeroDivisionError", at: range)
      }
      return value(Complex128.pow(x, y))
    default:
      throw ShellError(
        "unsupported operand types for \(op.symbol): '\(a.typeName)' and '\(b.typeName)'", type: "TypeError", at: range)
    }
  }

  public func intValue(_ v: Value) -> Int {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    default: return 0
    }
  }

  public func doubleValue(_ v: Value) -> Double {
    switch v {
    case .int(let i): return Double(i)
    case .bool(let b): return b ? 1 : 0
    case .float(let x): return x
    default: return .nan
    }
  }

  func intBinary(_ op: BinaryOperator, _ x: Int, _ y: Int, at range: SourceRange) throws -> Value {
    func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
      if r.overflow { throw ShellError("integer overflow (ks integers are 64-bit)", at: range) }
      return .int(r.partialValue)
    }
    switch op {
    case .add: return try checked(x.addingReportingOverflow(y))
    case .subtract: return try checked(x.subtractingReportingOverflow(y))
    case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
    case .divide:
      if y == 0 { throw ShellError("division by zero", at: range) }
      return .float(Double(x) / Double(y))
    case .floorDivide:
      if y == 0 { throw ShellError("integer division or modulo by zero", at: range) }
      let q = x / y
      return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
    case .modulo:
      if y == 0 { throw ShellError("integer division or modulo by zero", at: range) }
      let r = x % y
      return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
    case .power:
      if y < 0 { return .float(Foundation.pow(Double(x), Double(y))) }
      // 0, 1 and -1 never overflow: answer them at once instead of looping y times (0**8**11).
      if x == 0 || x == 1 { return .int(y == 0 ? 1 : x) }
      if x == -1 { return .int(y % 2 == 0 ? 1 : -1) }
      var result = 1
      for _ in 0..<y {
        let (v, o) = result.multipliedReportingOverflow(by: x)
        if o { throw ShellError("integer overflow (ks integers are 64-bit)", at: range) }
        result = v
      }
      return .int(result)
    case .bitwiseAnd: return .int(x & y)
    case .bitwiseOr: return .int(x | y)
    case .bitwiseXor: return .int(x ^ y)
    case .leftShift: return .int(x << y)
    case .rightShift: return .int(x >> y)
    case .matrixMultiply: throw ShellError("unsupported operand types for @: 'int' and 'int'", at: range)
    }
  }

  func floatBinary(_ op: BinaryOperator, _ x: Double, _ y: Double, at range: SourceRange) throws -> Value {
    switch op {
    case .add: return .float(x + y)
    case .subtract: return .float(x - y)
    case .multiply: return .float(x * y)
    case .divide:
      if y == 0 { throw ShellError("float division by zero", at: range) }
      return .float(x / y)
    case .floorDivide:
      if y == 0 { throw ShellError("float floor division by zero", at: range) }
      return .float(Foundation.floor(x / y))
    case .modulo:
      if y == 0 { throw ShellError("float modulo", at: range) }
      let r = Foundation.fmod(x, y)
      return .float(r != 0 && (r < 0) != (y < 0) ? r + y : r)
    case .power: return .float(Foundation.pow(x, y))
    default: throw ShellError("unsupported operand types for \(op.symbol): 'float'", at: range)
    }
  }

  public func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value, at range: SourceRange) throws -> Value {
    if case .object(let o) = a, let r = try o.compare(op, b, reflected: false, at: range, in: self) { return r }
    if case .object(let o) = b, let r = try o.compare(op, a, reflected: true, at: range, in: self) { return r }
    if case .array = a { return try arrays(at: range).compare(op, a, b, at: range) }
    if case .array = b { return try arrays(at: range).compare(op, a, b, at: range) }
    switch op {
    case .isIn, .notIn:
      let items = try iterate(b, at: range)
      var found = false
      if case .string(let hay) = b, case .string(let needle) = a {
        found = needle.text.isEmpty || hay.text.contains(needle.text)
      } else {
        for x in items where valuesEqual(a, x) { found = true; break }
      }
      return .bool(op == .isIn ? found : !found)
    case .identical, .notIdentical:
      let same = identical(a, b)
      return .bool(op == .identical ? same : !same)
    case .equal: return .bool(valuesEqual(a, b))
    case .notEqual: return .bool(!valuesEqual(a, b))
    default:
      switch (a, b) {
      case (.string(let x), .string(let y)):
        return .bool(orderHolds(op, x.text < y.text ? -1 : (x.text == y.text ? 0 : 1)))
      case (.int, .int), (.int, .bool), (.bool, .int), (.bool, .bool):
        let x = intValue(a), y = intValue(b)
        return .bool(orderHolds(op, x < y ? -1 : (x == y ? 0 : 1)))
      default:
        let x = doubleValue(a), y = doubleValue(b)
        if !isNumber(a) || !isNumber(b) {
          throw ShellError("'\(op.symbol)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", at: range)
        }
        if x.isNaN || y.isNaN { return .bool(false) }
        return .bool(orderHolds(op, x < y ? -1 : (x == y ? 0 : 1)))
      }
    }
  }

  public func isNumber(_ v: Value) -> Bool {
    switch v {
    case .int, .float, .bool: return true
    default: return false
    }
  }

  func orderHolds(_ op: ComparisonOperator, _ c: Int) -> Bool {
    switch op {
    case .less: return c < 0
    case .lessOrEqual: return c <= 0
    case .greater: return c > 0
    case .greaterOrEqual: return c >= 0
    default: return false
    }
  }

  public func valuesEqual(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.none, .none): return true
    case (.string(let x), .string(let y)): return x.text == y.text
    case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { valuesEqual($0, $1) }
    case (.dtype(let x), .dtype(let y)): return x == y
    case (.dtype(let x), .string(let y)), (.string(let y), .dtype(let x)): return x == DType(name: y.text)
    // `a.dtype == float`: the Python type names numpy's default dtypes.
    case (.dtype(let x), .builtin(let b)), (.builtin(let b), .dtype(let x)):
      return ["float": DType.float64, "int": .int64, "bool": .bool, "complex": .complex128][b.name] == x
    case (.builtin, .builtin), (.object, .object), (.module, .module): return identical(a, b)
    default:
      if isNumber(a) && isNumber(b) { return doubleValue(a) == doubleValue(b) }
      if (isNumber(a) || isComplex(a)) && (isNumber(b) || isComplex(b)) { return complexValue(a) == complexValue(b) }
      return false
    }
  }

  /// Python's `is`: None, booleans, and the same builtin, module, class or type.
  func identical(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.none, .none): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.builtin(let x), .builtin(let y)): return x.name == y.name
    case (.module(let x), .module(let y)): return x == y
    case (.dtype(let x), .dtype(let y)): return x == y
    case (.object(let x), .object(let y)):
      // Classes and types are singletons by name; other objects are values, never the same object.
      guard x.typeName == "type", y.typeName == "type" else { return false }
      return x.repr(with: .defaults) == y.repr(with: .defaults)
    default: return false
    }
  }
}
