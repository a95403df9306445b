import ArrayIO
import Foundation
import KernelEngines

/// What a rank is about to do, exchanged by every rank before each distributed reduction and at
/// the end of a run, so that ranks running different statements, or the same one on different
/// data, stop with a clear error instead of hanging in mismatched MPI calls.
///
/// A fixed 384-byte record: kind, status, a hash of the plan (formula, reduction, dtypes,
/// options), the sizes, a hash per argument array (of its bytes), the script location and a
/// short description of the call.
struct CallRecord: Equatable {
  enum Kind: UInt64 { case reduction = 1, finished = 2 }
  static let byteCount = 384
  static let argumentSlots = 16

  var kind: Kind
  var status: UInt64 = 0
  var failures: UInt64 = 0
  var plan: UInt64 = 0
  var outputRows: UInt64 = 0
  var reducedRows: UInt64 = 0
  var width: UInt64 = 0
  var argumentCount: UInt64 = 0
  var arguments = [UInt64](repeating: 0, count: argumentSlots)
  var ranges: UInt64 = 0
  var location = ""
  var text = ""

  static func finished(status: Int32, failures: Int, location: String) -> CallRecord {
    var r = CallRecord(kind: .finished)
    r.status = UInt64(UInt32(bitPattern: status))
    r.failures = UInt64(failures)
    r.location = location
    return r
  }

  static func reduction(_ plan: KernelPlan, _ args: KernelArguments, location: String) -> CallRecord {
    var r = CallRecord(kind: .reduction)
    r.plan = fnv(Array(planText(plan).utf8))
    r.outputRows = UInt64(args.outputRows)
    r.reducedRows = UInt64(args.reducedRows)
    r.width = UInt64(plan.formula.rawDimension)
    r.argumentCount = UInt64(args.arrays.count)
    for (k, a) in args.arrays.enumerated() {
      let slot = min(k, argumentSlots - 1)
      r.arguments[slot] = r.arguments[slot] &* 31 &+ arrayHash(a)
    }
    if let b = args.ranges {
      r.ranges = fnv((b.outputRanges + [-1] + b.sliceEnds + [-1] + b.reducedRanges).map { UInt64(bitPattern: Int64($0)) })
    }
    r.location = location
    r.text = describe(plan)
    return r
  }

  /// `Sum reduction of Mult(Exp(Minus(SqDist(x,y))),b)`: KeOps' notation with the alias names.
  static func describe(_ plan: KernelPlan) -> String {
    var f = "\(plan.formula.formula)"
    for (v, name) in zip(plan.formula.arguments, plan.formula.argumentNames) {
      if let name { f = f.replacingOccurrences(of: v.description, with: name) }
    }
    return "\(plan.formula.reduction) reduction of \(f)"
  }

  /// Everything that decides the kernel and its result, as text (the same on every rank).
  static func planText(_ plan: KernelPlan) -> String {
    let f = plan.formula
    return "\(f.reduction)|\(f.formula)|\(f.weight.map { "\($0)" } ?? "-")|\(f.outputCategory)|\(f.arguments)|"
      + "\(plan.dataType.rawValue)|\(plan.computePrecision)|\(plan.accumulatorPrecision)|\(plan.sumScheme)"
  }

  /// FNV-1a over 64-bit words.
  static func fnv(_ words: [UInt64]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for w in words { h = (h ^ w) &* 0x100_0000_01b3 }
    return h
  }

  static func fnv(_ bytes: [UInt8]) -> UInt64 { fnv(bytes.map { UInt64($0) }) }

  /// The most elements `arrayHash` reads from one array.
  static let hashedElements = 1 << 16

  /// A hash of an array's shape, dtype and elements' bits: every element of arrays up to
  /// `hashedElements`, else that many at an even stride plus the last one, so the check costs
  /// O(1) per call however large N is (arrays made without a common seed, or read from different
  /// files, differ almost everywhere; a change confined to a few entries of a huge array may pass).
  static func arrayHash(_ a: NDArray) -> UInt64 {
    let count = a.storage.count
    if count > hashedElements {
      let stride = count / hashedElements
      func sample<T>(_ v: [T]) -> [T] { Swift.stride(from: 0, to: count, by: stride).map { v[$0] } + [v[count - 1]] }
      let sampled: ArrayStorage
      switch a.storage {
      case .float64(let v): sampled = .float64(sample(v))
      case .float32(let v): sampled = .float32(sample(v))
      case .float16(let v): sampled = .float16(sample(v))
      case .int64(let v): sampled = .int64(sample(v))
      case .bool(let v): sampled = .bool(sample(v))
      case .complex64(let v): sampled = .complex64(sample(v))
      case .complex128(let v): sampled = .complex128(sample(v))
      }
      return fnv([fullHash(NDArray(shape: [sampled.count], storage: sampled)), UInt64(count)] + a.shape.map { UInt64($0) })
    }
    return fullHash(a)
  }

  /// Four interleaved FNV lanes over every element, then the dtype and shape.
  static func fullHash(_ a: NDArray) -> UInt64 {
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (0xcbf2_9ce4_8422_2325, 0x84222325cbf29ce4, 0x9e37_79b9_7f4a_7c15, 0x1234_5678_9abc_def0)
    func mix<C: Collection>(_ c: C, _ bits: (C.Element) -> UInt64) where C.Index == Int {
      var (h0, h1, h2, h3) = lanes
      var k = c.startIndex
      let end = c.endIndex
      while k + 4 <= end {
        h0 = (h0 ^ bits(c[k])) &* 0x100_0000_01b3
        h1 = (h1 ^ bits(c[k + 1])) &* 0x100_0000_01b3
        h2 = (h2 ^ bits(c[k + 2])) &* 0x100_0000_01b3
        h3 = (h3 ^ bits(c[k + 3])) &* 0x100_0000_01b3
        k += 4
      }
      while k < end { h0 = (h0 ^ bits(c[k])) &* 0x100_0000_01b3; k += 1 }
      lanes = (h0, h1, h2, h3)
    }
    switch a.storage {
    case .float64(let v): mix(v) { $0.bitPattern }
    case .float32(let v): mix(v) { UInt64($0.bitPattern) }
    case .float16(let v): mix(v) { UInt64($0.bitPattern) }
    case .int64(let v): mix(v) { UInt64(bitPattern: $0) }
    case .bool(let v): mix(v) { $0 ? 1 : 0 }
    case .complex64(let v): mix(v) { UInt64($0.re.bitPattern) << 32 | UInt64($0.im.bitPattern) }
    case .complex128(let v): mix(v) { $0.re.bitPattern ^ ($0.im.bitPattern &* 0x9e37_79b9_7f4a_7c15) }
    }
    return fnv([lanes.0, lanes.1, lanes.2, lanes.3, UInt64(a.storage.dtype.rawValue.utf8.count)] + a.shape.map { UInt64($0) })
  }

  var bytes: [UInt8] {
    var words: [UInt64] = [kind.rawValue, status, failures, plan, outputRows, reducedRows, width, argumentCount]
    words += arguments
    words.append(ranges)
    var out = [UInt8]()
    out.reserveCapacity(Self.byteCount)
    for w in words { withUnsafeBytes(of: w.littleEndian) { out += $0 } }
    func field(_ s: String, _ n: Int) -> [UInt8] {
      let b = Array(s.utf8.prefix(n - 1))
      return b + [UInt8](repeating: 0, count: n - b.count)
    }
    out += field(location, 64)
    out += field(text, Self.byteCount - out.count)
    return out
  }

  init(kind: Kind) { self.kind = kind }

  init(bytes: [UInt8]) {
    func word(_ k: Int) -> UInt64 {
      var w: UInt64 = 0
      for b in 0..<8 { w |= UInt64(bytes[k * 8 + b]) << (8 * UInt64(b)) }
      return w
    }
    kind = Kind(rawValue: word(0)) ?? .finished
    status = word(1)
    failures = word(2)
    plan = word(3)
    outputRows = word(4)
    reducedRows = word(5)
    width = word(6)
    argumentCount = word(7)
    arguments = (0..<Self.argumentSlots).map { word(8 + $0) }
    ranges = word(8 + Self.argumentSlots)
    let base = (9 + Self.argumentSlots) * 8
    func string(_ r: Range<Int>) -> String {
      let b = bytes[r].prefix { $0 != 0 }
      return String(decoding: b, as: UTF8.self)
    }
    location = string(base..<(base + 64))
    text = string((base + 64)..<Self.byteCount)
  }

  /// `failed at demo.ks:7`, `finished`, `interrupted at ...`: how a finished rank ended.
  var summary: String {
    switch kind {
    case .reduction: return "at \(text)\(location.isEmpty ? "" : " (\(location))")"
    case .finished:
      let where_ = location.isEmpty ? "" : " at \(location)"
      switch status {
      case 0: return failures == 0 ? "finished the script" : "finished the script after \(failures) failed statement\(failures == 1 ? "" : "s")"
      case 130: return "was interrupted\(where_)"
      default: return "stopped on an error\(where_)"
      }
    }
  }

  /// Why the ranks' records disagree (the same text on every rank), or nil when they agree.
  /// `rankNames` names the arguments (`'x'`) for the data message.
  static func mismatch(_ records: [CallRecord], rankNames names: [String?]?) -> String? {
    guard let first = records.first else { return nil }
    for (r, rec) in records.enumerated().dropFirst() {
      if rec.kind == .finished && first.kind == .finished { continue }  // statuses are compared by `finish`
      if rec.kind != first.kind {
        let (done, busy) = rec.kind == .finished ? (r, 0) : (0, r)
        if records[done].status != 0 {
          return "rank \(done) \(records[done].summary)\(done == 0 ? "" : " (its error follows)") while rank \(busy) is \(records[busy].summary); stopping every rank"
        }
        return "the ranks ran different statements: rank \(done) \(records[done].summary) while rank \(busy) is \(records[busy].summary); mpirun runs the same script on every rank, and every rank must reach the same reductions"
      }
      if rec.plan != first.plan || rec.argumentCount != first.argumentCount || rec.width != first.width {
        return "the ranks ran different statements: rank 0 is \(first.summary), rank \(r) is \(rec.summary); every rank must run the same reductions in the same order"
      }
      if rec.outputRows != first.outputRows || rec.reducedRows != first.reducedRows {
        return "the ranks disagree on the sizes of \(first.text)\(first.location.isEmpty ? "" : " (\(first.location))"): rank 0 has \(first.outputRows) x \(first.reducedRows) rows, rank \(r) has \(rec.outputRows) x \(rec.reducedRows); every rank must hold the same arrays"
      }
      if let k = (0..<argumentSlots).first(where: { rec.arguments[$0] != first.arguments[$0] }) {
        let name = (names.flatMap { k < $0.count ? $0[k] : nil }).map { "'\($0)' (argument \(k))" } ?? "argument \(k)"
        return "rank \(r)'s \(name) of \(first.text)\(first.location.isEmpty ? "" : " (\(first.location))") differs from rank 0's: every rank must hold the same arrays (seed the random generator with np.random.seed, load the same files)"
      }
      if rec.ranges != first.ranges {
        return "rank \(r)'s ranges= of \(first.text) differ from rank 0's: every rank must pass the same ranges"
      }
    }
    return nil
  }
}
