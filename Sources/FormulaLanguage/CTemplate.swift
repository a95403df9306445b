import Foundation

/// Substitutes `$0 $1 $2`, `$p0 $p1`, `$pow10p0` and `$T` in an operation's C template.
public func instantiateCTemplate(_ template: String, args: [String], params: [Int], type: String) -> String {
  var out = ""
  let s = Array(template.unicodeScalars)
  var k = 0
  func digit(_ at: Int) -> Int? {
    guard at < s.count, s[at].value >= 48 && s[at].value <= 57 else { return nil }
    return Int(s[at].value) - 48
  }
  while k < s.count {
    guard s[k] == "$" else {
      out.unicodeScalars.append(s[k])
      k += 1
      continue
    }
    let rest = String(String.UnicodeScalarView(s[(k + 1)...]))
    if rest.hasPrefix("T") {
      out += type
      k += 2
    } else if rest.hasPrefix("pow10p"), let p = digit(k + 7), p < params.count {
      out += "((\(type))\(cDoubleLiteral(Foundation.pow(10.0, Double(params[p])))))"
      k += 8
    } else if rest.hasPrefix("p"), let p = digit(k + 2), p < params.count {
      out += "(\(params[p] == Int.min ? "(-9223372036854775807LL - 1)" : "\(params[p])LL"))"
      k += 3
    } else if let a = digit(k + 1), a < args.count {
      out += args[a]
      k += 2
    } else {
      preconditionFailure("bad placeholder in C template \(template)")
    }
  }
  return out
}

