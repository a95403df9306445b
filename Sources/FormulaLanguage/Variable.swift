/// Which index a variable runs along: `Vi` rows (i), `Vj` rows (j), or a parameter `Pm`.
public enum VariableCategory: Int, Sendable, Hashable, CaseIterable {
  case i = 0
  case j = 1
  case parameter = 2

  /// `Vi`, `Vj` or `Pm`.
  public var keyword: String {
    switch self {
    case .i: return "Vi"
    case .j: return "Vj"
    case .parameter: return "Pm"
    }
  }
}

/// A formula input, KeOps' `Var(index, dim, cat)`: argument `index` of the call, of static dimension `dim`.
public struct Variable: Sendable, Hashable, CustomStringConvertible {
  public var index: Int
  public var dim: Int
  public var category: VariableCategory

  public init(index: Int, dim: Int, category: VariableCategory) {
    self.index = index
    self.dim = dim
    self.category = category
  }

  public var description: String { "Var(\(index),\(dim),\(category.rawValue))" }
}
