import FormulaLanguage

/// A formula tree flattened into steps (post-order, shared subtrees once) that the reference engine
/// runs over blocks of points.
struct FormulaProgram {
  enum Kind {
    case variable(argument: Int, category: VariableCategory)
    case constant(Double)
    case operation(Evaluation, params: [Int])
  }

  struct Step {
    var kind: Kind
    var inputs: [Int]
    var dim: Int
    /// True when the value does not depend on the reduced index (computed once per block point 0).
    var uniform: Bool
  }

  var steps: [Step] = []
  var root: Int { steps.count - 1 }

  init(_ root: FormulaNode, reducedCategory: VariableCategory) {
    let output: VariableCategory = reducedCategory == .j ? .i : .j
    let flat = FlatFormula(root, output: output)
    for node in flat.nodes {
      let kind: Kind
      switch node.kind {
      case .variable(let v): kind = .variable(argument: v.index, category: v.category)
      case .real(let x): kind = .constant(x)
      case .operation(let op): kind = .operation(op.evaluation, params: node.params)
      }
      steps.append(Step(kind: kind, inputs: node.inputs, dim: node.dim, uniform: !node.usesReduced))
    }
  }
}

/// Per-thread scratch memory and the current operands of a `FormulaProgram`.
struct ProgramState {
  let program: FormulaProgram
  let blockSize: Int
  let round: Precision
  var operands: [Operand]
  var buffers: [UnsafeMutablePointer<Double>?]

  init(program: FormulaProgram, blockSize: Int, round: Precision, parameters: (Int) -> UnsafePointer<Double>) {
    self.program = program
    self.blockSize = blockSize
    self.round = round
    var operands: [Operand] = []
    var buffers: [UnsafeMutablePointer<Double>?] = []
    let dummy = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    dummy.initialize(to: 0)
    for step in program.steps {
      switch step.kind {
      case .constant(let x):
        let b = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        b.initialize(to: round.round(x))
        buffers.append(b)
        operands.append(Operand(base: UnsafePointer(b), stride: 0, dim: 1))
      case .variable(let arg, let cat):
        buffers.append(nil)
        let base = cat == .parameter ? parameters(arg) : UnsafePointer(dummy)
        operands.append(Operand(base: base, stride: 0, dim: step.dim))
      case .operation:
        let n = (step.uniform ? 1 : blockSize) * step.dim
        let b = UnsafeMutablePointer<Double>.allocate(capacity: n)
        b.initialize(repeating: 0, count: n)
        buffers.append(b)
        operands.append(Operand(base: UnsafePointer(b), stride: step.uniform ? 0 : step.dim, dim: step.dim))
      }
    }
    buffers.append(dummy)
    self.operands = operands
    self.buffers = buffers
  }

  func release() {
    for b in buffers { b?.deallocate() }
  }

  /// Points a variable step at its data: `rowBase` is the first point's values, `stride` its step.
  mutating func bind(step: Int, base: UnsafePointer<Double>, stride: Int) {
    operands[step].base = base
    operands[step].stride = stride
  }

  /// Evaluates every step for `count` points. With `uniformOnly`, only steps that do not depend on
  /// the reduced index run (once per output row).
  mutating func run(count: Int, uniformOnly: Bool) {
    for (s, step) in program.steps.enumerated() {
      guard case .operation(let evaluation, let params) = step.kind else { continue }
      if step.uniform != uniformOnly { continue }
      let n = step.uniform ? 1 : count
      guard let out = buffers[s] else { continue }
      let d = step.dim
      let x = step.inputs.map { operands[$0] }
      switch evaluation {
      case .unary(let f):
        let a = x[0]
        for p in 0..<n { for k in 0..<d { out[p * d + k] = f(a[p, k]) } }
      case .unaryWithParams(let f):
        let a = x[0]
        for p in 0..<n { for k in 0..<d { out[p * d + k] = f(a[p, k], params) } }
      case .binary(let f):
        let a = x[0], b = x[1]
        for p in 0..<n { for k in 0..<d { out[p * d + k] = f(a[p, k], b[p, k]) } }
      case .ternary(let f):
        let a = x[0], b = x[1], c = x[2]
        for p in 0..<n { for k in 0..<d { out[p * d + k] = f(a[p, k], b[p, k], c[p, k]) } }
      case .block(let f):
        f(x, params, n, out, d)
      }
      if round != .float64 {
        for q in 0..<(n * d) { out[q] = round.round(out[q]) }
      }
    }
  }
}
