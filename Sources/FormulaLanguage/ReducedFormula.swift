import KSDiagnostics

/// The internal reductions of KeOps (section 3 of keops-semantics.md).
public enum ReductionKind: Sendable, Hashable, CustomStringConvertible {
  case sum, max, min, argMax, argMin, maxArgMax, minArgMin
  case kMin(Int), argKMin(Int), kMinArgKMin(Int)
  /// (m, s) = (max_j f, sum_j exp(f - m) g); LogSumExp and SoftMax are built on it.
  case maxSumShiftExpWeight

  /// KeOps' name of the reduction, with K for the K-min family: `KMin(K=3)`.
  public var description: String {
    switch self {
    case .sum: return "Sum"
    case .max: return "Max"
    case .min: return "Min"
    case .argMax: return "ArgMax"
    case .argMin: return "ArgMin"
    case .maxArgMax: return "Max_ArgMax"
    case .minArgMin: return "Min_ArgMin"
    case .kMin(let k): return "KMin(K=\(k))"
    case .argKMin(let k): return "ArgKMin(K=\(k))"
    case .kMinArgKMin(let k): return "KMin_ArgKMin(K=\(k))"
    case .maxSumShiftExpWeight: return "Max_SumShiftExpWeight"
    }
  }

  /// True for the reductions that accumulate sums (where dtype_acc and sum_scheme apply).
  public var isSumType: Bool { self == .sum || self == .maxSumShiftExpWeight }

  /// The number of values per output row before post-processing, for a formula of dimension d
  /// (and a weight of dimension dg for Max_SumShiftExpWeight).
  public func rawDimension(formulaDim d: Int, weightDim dg: Int) -> Int {
    switch self {
    case .sum, .max, .min, .argMax, .argMin: return d
    case .maxArgMax, .minArgMin: return 2 * d
    case .kMin(let k), .argKMin(let k): return k * d
    case .kMinArgKMin(let k): return 2 * k * d
    case .maxSumShiftExpWeight: return 1 + dg
    }
  }
}

/// Which of the strings given to Genred a diagnostic points into.
public enum FormulaOrigin: Sendable, Equatable {
  case formula
  case formula2
  case alias(Int)
}

/// A diagnostic about the formula, the second formula, or one alias string.
public struct FormulaError: Error, Sendable {
  public var diagnostic: Diagnostic
  public var origin: FormulaOrigin

  public init(_ diagnostic: Diagnostic, origin: FormulaOrigin) {
    self.diagnostic = diagnostic
    self.origin = origin
  }
}

/// A validated `Reduction_j F(...)`: the map formula, the reduction, and the argument slots.
public struct ReducedFormula: Sendable {
  public let reduction: ReductionKind
  /// The map formula F (for Max_SumShiftExpWeight, the scalar f).
  public let formula: FormulaNode
  /// The weight g of Max_SumShiftExpWeight (IntCst(1) for plain LogSumExp); nil otherwise.
  public let weight: FormulaNode?
  /// Output rows are indexed by this category: `.i` when reducing over j (axis=1), `.j` for axis=0.
  public let outputCategory: VariableCategory
  /// Argument slot k of a call binds `arguments[k]`.
  public let arguments: [Variable]
  /// Alias name of each slot, when it has one.
  public let argumentNames: [String?]
  /// Slots in alias-list order (KeOps takes M and N from the first Vi and Vj alias in this order).
  public let sizeOrder: [Int]

  /// Values per output row before post-processing.
  public var rawDimension: Int { reduction.rawDimension(formulaDim: formula.dim, weightDim: weight?.dim ?? 0) }

  /// The category reduced over.
  public var reducedCategory: VariableCategory { outputCategory == .i ? .j : .i }

  /// Parses and validates a Genred definition.
  ///
  /// - Parameters:
  ///   - formula: the formula string, e.g. `"Exp(-SqDist(x,y))*b"`.
  ///   - aliases: the alias strings, e.g. `["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"]`.
  ///   - formula2: the weight formula of LogSumExp / SumSoftMaxWeight, if any.
  ///   - axis: 1 reduces over j (output indexed by i), 0 reduces over i.
  public static func compile(
    formula: String, aliases: [String], reduction: ReductionKind, formula2: String? = nil,
    axis: Int, softMaxWeight: Bool = false
  ) throws(FormulaError) -> ReducedFormula {
    var decls: [AliasDeclaration] = []
    var names: [String: Variable] = [:]
    for (k, text) in aliases.enumerated() {
      do throws(Diagnostic) {
        let d = try AliasDeclaration.parse(text, positionInList: k)
        if let n = d.name {
          if names[n] != nil {
            throw Diagnostic("alias '\(n)' is declared twice", at: SourceRange(0, text.utf8.count))
          }
          names[n] = d.variable
        }
        decls.append(d)
      } catch {
        throw FormulaError(error, origin: .alias(k))
      }
    }

    var builder = FormulaBuilder(names: names)
    builder.outputCategory = axis == 1 ? .i : .j
    let f: FormulaNode
    do throws(Diagnostic) {
      f = try builder.build(try FormulaParser.parse(formula))
    } catch {
      throw FormulaError(error, origin: .formula)
    }
    let inlineFromF = builder.inlineVariables.count
    var g: FormulaNode?
    if let text = formula2 {
      do throws(Diagnostic) {
        var node = try builder.build(try FormulaParser.parse(text))
        if softMaxWeight {
          node = try FormulaNode.make(
            Operation.named("Concat")!,
            [try FormulaNode.make(Operation.named("IntCst")!, [], params: [1]), node])
        }
        g = node
      } catch {
        throw FormulaError(error, origin: .formula2)
      }
    } else if reduction == .maxSumShiftExpWeight {
      g = try? FormulaNode.make(Operation.named("IntCst")!, [], params: [1])
    }
    if reduction == .maxSumShiftExpWeight && f.dim != 1 {
      throw FormulaError(
        Diagnostic(
          "this reduction needs a scalar formula (dimension 1), but the formula has dimension \(f.dim)",
          at: f.range), origin: .formula)
    }

    // Argument slots: every alias (used or not), then Var(...) written in the formulas.
    var slots: [Int: (Variable, String?)] = [:]
    var order: [Int] = []
    for (k, d) in decls.enumerated() {
      if let (existing, _) = slots[d.variable.index], existing != d.variable {
        throw FormulaError(
          Diagnostic(
            "position \(d.variable.index) is already \(existing) but this alias declares \(d.variable)",
            at: SourceRange(0, aliases[k].utf8.count)), origin: .alias(k))
      }
      if slots[d.variable.index] == nil {
        slots[d.variable.index] = (d.variable, d.name)
        order.append(d.variable.index)
      }
    }
    for (n, (v, range)) in builder.inlineVariables.enumerated() {
      let origin: FormulaOrigin = n < inlineFromF ? .formula : .formula2
      if let (existing, name) = slots[v.index] {
        if existing != v {
          let what = name.map { "alias '\($0)' = \(existing)" } ?? "\(existing)"
          throw FormulaError(Diagnostic("\(v) conflicts with \(what) at the same position", at: range), origin: origin)
        }
      } else {
        slots[v.index] = (v, nil)
      }
    }
    for index in slots.keys.sorted() where !order.contains(index) { order.append(index) }
    let nargs = (slots.keys.max() ?? -1) + 1
    var arguments: [Variable] = []
    var argumentNames: [String?] = []
    for k in 0..<nargs {
      guard let (v, name) = slots[k] else {
        throw FormulaError(
          Diagnostic(
            "no alias or Var(...) declares argument position \(k) (positions must be 0 ..< \(nargs) without gaps)",
            at: nil), origin: .formula)
      }
      arguments.append(v)
      argumentNames.append(name)
    }
    return ReducedFormula(
      reduction: reduction, formula: f, weight: g, outputCategory: axis == 1 ? .i : .j,
      arguments: arguments, argumentNames: argumentNames, sizeOrder: order)
  }

  public init(
    reduction: ReductionKind, formula: FormulaNode, weight: FormulaNode?, outputCategory: VariableCategory,
    arguments: [Variable], argumentNames: [String?], sizeOrder: [Int]
  ) {
    self.reduction = reduction
    self.formula = formula
    self.weight = weight
    self.outputCategory = outputCategory
    self.arguments = arguments
    self.argumentNames = argumentNames
    self.sizeOrder = sizeOrder
  }
}
