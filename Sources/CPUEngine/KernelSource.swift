import Foundation
import FormulaLanguage
import KernelEngines

/// Generates the C11 source of a compiled kernel from a plan.
///
/// Generation is a pure function of the validated tree and the plan's options: the text contains
/// only numbers, fixed identifiers, the operation table's `cTemplate` strings and the C its block
/// emitters (`Operation.cEmit`) write. No user string (alias name, formula text) is ever pasted.
///
/// Two kernel shapes exist:
/// - the **exact** kernel, for every other plan: one output row at a time, the reduced index in
///   order, each node evaluated in double and rounded to the compute type where it is stored, and
///   KeOps' accumulator updates written out with explicit rounding. It reproduces the reference
///   engine bit for bit (same libm, `-ffp-contract=off`);
/// - the **vectorized** kernel, for Sum with `direct_sum` / `block_sum` over formulas whose C only
///   calls `exp`, `sqrt`, `fabs` and `floor`: node arithmetic in the compute type, reduced
///   variables transposed so SIMD lanes load contiguously, a register tile of several output rows
///   per pass, a polynomial `exp`, and lane-wise partial sums (see `vectorizedNotes`); compiled
///   with `-ffp-contract=fast` (`KernelCache.flags(for:)`, keyed on `vectorizedMarker`).
///
/// The generated library exports (C ABI, version `abiVersion`):
/// ```c
/// int  ks_kernel_abi(void);                 // returns abiVersion
/// long ks_scratch_bytes(long n_red);        // scratch the vectorized kernel needs (0: none)
/// void ks_prepare(const void *const *args, long n_red, void *scratch);
/// int  ks_reduce(const void *const *args, long n_out, long n_red, long i0, long i1,
///                const void *scratch, double *out, int (*cancelled)(void *), void *ctx);
/// ```
/// `ks_reduce` fills output rows `i0 ..< i1` (raw values, rounded to the data type) and returns 0,
/// or 1 when `cancelled(ctx)` answered nonzero at one of its checks (one per chunk of rows).
public enum KernelSource {
  /// The value `ks_kernel_abi` returns; bump it whenever the exported signatures change.
  public static let abiVersion: Int32 = 0x6b73_0001

  /// How the vectorized kernel differs from the reference (documentation for users and tests).
  public static let vectorizedNotes = """
    The vectorized Sum kernel computes each pair in the compute type (float for float16/float32 \
    data) with a polynomial exp of at most 2 ulp, and sums each block of reduced indices in SIMD \
    lanes before adding the block to the accumulator: a blocked sum at least as accurate as KeOps' \
    serial one, but not bit-identical to the reference engine.
    """

  /// The C source for `plan`.
  public static func generate(for plan: KernelPlan) -> String {
    Generator(plan: plan).source()
  }

  /// The C source of `plan`'s block-sparse kernel: the plan's dense kernel (`generate`, exported
  /// as `ks_reduce` with its `ks_scratch_bytes` / `ks_prepare`, so the library loads like any
  /// other) plus `ks_reduce_ranges`, which reduces each output row over the reduced intervals of
  /// its block, in order (keops-semantics.md section 4.4, `CpuReduc_ranges`):
  /// ```c
  /// int ks_reduce_ranges(const void *const *args, long n_out, long n_red, long i0, long i1,
  ///                      const long *row_block, const long *slice_ends, const long *red_ranges,
  ///                      const void *scratch, double *out, int (*cancelled)(void *), void *ctx);
  /// ```
  /// `row_block[i]` is the block of output row i (-1: none, the row gets the reduction's initial
  /// value); `scratch` is what `ks_prepare` filled. The plans with a SIMD dense kernel run the
  /// same SIMD loops over each interval, for tiles of rows of one block (the rows of a block share
  /// its intervals): the selection reductions stay bit-identical to the reference, the sums and
  /// the Max_SumShiftExp family differ as their dense kernels do (`vectorizedNotes`). The other
  /// plans use the exact arithmetic, bit for bit the reference's; there block_sum adds every term
  /// of a row into one temporary and folds it in once at the end (no periodic flush), as KeOps
  /// and the reference do with ranges.
  public static func generateRanged(for plan: KernelPlan) -> String {
    Generator(plan: plan).rangedSource()
  }

  /// True when `plan` gets a kernel that is not bit-identical to the reference: the SIMD Sum and
  /// the SIMD Max_SumShiftExp family (LogSumExp, SumSoftMaxWeight).
  public static func usesVectorizedKernel(_ plan: KernelPlan) -> Bool {
    Generator(plan: plan).vectorized
  }

  /// The kernel `plan` gets.
  public static func shape(of plan: KernelPlan) -> KernelShape {
    Generator(plan: plan).shape
  }

  /// The line that marks a vectorized kernel's source (after the includes); the cache compiles
  /// such sources with their own flags (`KernelCache.flags(for:)`).
  static let vectorizedMarker = "#define KS_VECTORIZED_KERNEL 1\n"

  /// True when `source` (a `generate` result) is a vectorized kernel.
  static func isVectorized(source: String) -> Bool {
    source.contains("\n" + vectorizedMarker)
  }
}

/// The kernels the CPU engine generates.
public enum KernelShape: String, Sendable {
  /// One row at a time, the reduced index in order, KeOps' accumulator: bit-identical to the
  /// reference (Kahan sums, float16 accumulators, formulas the SIMD kernels do not take).
  case exact
  /// Sum over SIMD lanes of reduced indices (see `KernelSource.vectorizedNotes`).
  case simdSum
  /// Min, Max, ArgMin, ArgMax, Min_ArgMin, Max_ArgMax, KMin, ArgKMin, KMin_ArgKMin: formula values
  /// of a block of reduced indices computed in SIMD with the reference's arithmetic, then a SIMD
  /// filter against the accumulator's threshold and KeOps' update, in order, only for the chunks
  /// that can change it. Bit-identical to the reference.
  case simdSelect
  /// The Max_SumShiftExp family (LogSumExp, SumSoftMaxWeight, ...): per block of reduced indices,
  /// the SIMD maximum, then the SIMD sum of exp(f - m) g, merged into the row's (m, s). Rows with a
  /// non-finite value are recomputed by the exact code, so infinities and NaN follow the reference.
  case simdShift
}

extension ReductionKind {
  /// The reductions that select values (comparisons only, no arithmetic on the accumulator).
  var isSelection: Bool {
    switch self {
    case .max, .min, .argMax, .argMin, .maxArgMax, .minArgMin, .kMin, .argKMin, .kMinArgKMin: return true
    case .sum, .maxSumShiftExpWeight: return false
    }
  }
}

// MARK: - The flattened formula

/// The flattened formula the generator walks.
typealias KernelGraph = FlatFormula

// MARK: - Generator

private struct Generator {
  let plan: KernelPlan
  let graph: KernelGraph
  let output: VariableCategory
  let reduction: ReductionKind
  let d: Int
  let rawDim: Int
  /// Storage type of node values.
  let t: String
  /// Which kernel the plan gets.
  let shape: KernelShape
  /// True for the kernels that are not bit-identical to the reference (SIMD sums and the
  /// Max_SumShiftExp family): compiled with contraction and the polynomial exp.
  var vectorized: Bool { shape == .simdSum || shape == .simdShift }
  /// True for the kernels that evaluate tiles of rows over blocks of reduced indices (every shape
  /// but the exact kernel): row variables in `u_` copies, reduced ones transposed in the scratch.
  var tiled: Bool { shape != .exact }
  /// True when nodes are evaluated in double and rounded to the compute type where stored (the
  /// reference's arithmetic): the exact kernel and the selection kernel.
  var exactArithmetic: Bool { shape == .exact || shape == .simdSelect }
  /// True for the kernels that buffer a block of formula values (selection, max-shift-exp); their
  /// scratch holds the reduced variables in blocks of KS_B indices, every component of a block
  /// contiguous (one base pointer per block, whatever the dimension).
  var buffered: Bool { shape == .simdSelect || shape == .simdShift }
  /// Reduced-category variables transposed into the scratch (dimension > 1; every one for the
  /// selection kernel, which also widens them to double), with offsets in units of `n_red` elements.
  let transposed: [(Variable, Int)]

  /// The largest formula dimension the vectorized kernel handles.
  static let maxVectorizedOutputDim = 32
  /// The largest dimension of a node evaluated per pair in the vectorized kernel.
  static let maxVectorizedNodeDim = 256
  /// Node arrays larger than this many elements live in thread-local storage, not on the stack.
  static let maxStackArray = 16384
  /// The largest formula dimension the selection kernel (Min, ArgKMin, ...) handles.
  static let maxSelectionDim = 64

  /// C functions the vectorized kernel may call: everything else blocks SIMD code generation.
  static let simdFunctions: Set<String> = ["exp", "sqrt", "fabs", "floor", "isfinite", "for", "if", "while", "return"]

  init(plan: KernelPlan, forceExact: Bool = false) {
    self.plan = plan
    output = plan.formula.outputCategory
    reduction = plan.formula.reduction
    graph = KernelGraph(plan.mapFormula, output: output)
    d = graph.nodes[graph.root].dim
    rawDim = plan.formula.rawDimension
    t = plan.computePrecision == .float64 ? "double" : "float"
    // The SIMD kernels keep per-lane copies of the pair nodes for a tile of rows (and the sums one
    // partial sum per tile row and component in registers): both must stay small.
    let graph = self.graph
    let smallNodes = graph.nodes.allSatisfy { !$0.usesReduced || $0.dim <= Self.maxVectorizedNodeDim }
    let simdCalls = graph.nodes.allSatisfy { Self.simdSafe(Self.probe(graph, $0)) }
    let summable =
      plan.sumScheme != .kahanScheme && plan.accumulatorPrecision != .float16
      && graph.nodes[graph.root].dim <= Self.maxVectorizedOutputDim && smallNodes && simdCalls
    if forceExact {
      shape = .exact
    } else if reduction == .sum && summable {
      shape = .simdSum
    } else if reduction == .maxSumShiftExpWeight && summable {
      shape = .simdShift
    } else if reduction.isSelection && smallNodes && graph.nodes[graph.root].dim <= Self.maxSelectionDim
      && Accumulation.count(reduction, d: graph.nodes[graph.root].dim) <= Self.maxStackArray / 2
    {
      shape = .simdSelect
    } else {
      shape = .exact
    }
    var offset = 0
    var transposed: [(Variable, Int)] = []
    for v in graph.variables
    where v.category != output && v.category != .parameter && (v.dim > 1 || shape == .simdSelect) {
      transposed.append((v, offset))
      offset += v.dim
    }
    self.transposed = transposed
  }

  /// The C text a node would emit (with placeholder operands), to check which functions it calls.
  static func probe(_ graph: KernelGraph, _ n: KernelGraph.Node) -> String {
    guard case .operation(let op) = n.kind else { return "" }
    let dims = n.inputs.map { graph.nodes[$0].dim }
    if let template = op.cTemplate {
      return instantiateCTemplate(template, args: dims.map { _ in "(x_arg)" }, params: n.params, type: "float")
    }
    guard let emit = op.cEmit else { return "unsupported_op()" }
    return emit(
      CEmitContext(
        argumentDims: dims, params: n.params, outDim: n.dim, work: "float",
        arg: { _, _ in "(x_arg)" }, out: { _ in "x_out" }))
  }

  /// True when every identifier called in `code` is in `simdFunctions`.
  static func simdSafe(_ code: String) -> Bool {
    let chars = Array(code.utf8)
    var k = 0
    while k < chars.count {
      let c = chars[k]
      if isIdentStart(c) {
        var e = k
        while e < chars.count && isIdentChar(chars[e]) { e += 1 }
        var p = e
        while p < chars.count && chars[p] == UInt8(ascii: " ") { p += 1 }
        if p < chars.count && chars[p] == UInt8(ascii: "(") {
          let name = String(decoding: chars[k..<e], as: UTF8.self)
          if !simdFunctions.contains(name) { return false }
        }
        k = e
      } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
        // Skip numeric literals such as 0x1.8p+1 whole.
        while k < chars.count && (isIdentChar(chars[k]) || chars[k] == UInt8(ascii: ".")) { k += 1 }
      } else {
        k += 1
      }
    }
    return true
  }

  static func isIdentStart(_ c: UInt8) -> Bool {
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95
  }

  static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 48 && c <= 57) }

  // MARK: Naming and access

  /// The C expression of component `index` of node `id` in row instance `r` of the tile.
  func value(_ id: Int, _ index: String, row r: Int) -> String {
    let n = graph.nodes[id]
    let idx = n.dim == 1 ? "0" : index
    switch n.kind {
    case .variable(let v):
      let a = "ks_a\(v.index)"
      if v.category == .parameter { return "\(a)[\(idx)]" }
      if v.category == output {
        return tiled ? "u_a\(v.index)_\(r)[\(idx)]" : "\(a)[ks_i * \(v.dim) + \(idx)]"
      }
      if !tiled { return "\(a)[ks_j * \(v.dim) + \(idx)]" }
      if v.dim == 1 && shape != .simdSelect { return "\(a)[ks_j]" }
      if buffered { return "ks_s\(v.index)[(\(idx)) * KS_B + ks_jj]" }
      return "ks_s\(v.index)[(\(idx)) * ks_nred + ks_j]"
    default:
      if tiled && n.usesOutput { return "v_\(id)_\(r)[\(idx)]" }
      return "v_\(id)[\(idx)]"
    }
  }

  /// The array name node `id` is stored in for row instance `r`.
  func storage(_ id: Int, row r: Int) -> String {
    tiled && graph.nodes[id].usesOutput ? "v_\(id)_\(r)" : "v_\(id)"
  }

  /// The type expressions are evaluated in: double for the exact and selection kernels (the
  /// reference's arithmetic), the compute type otherwise.
  var work: String { exactArithmetic ? "double" : t }

  /// An operand read as a `work` value.
  func operand(_ id: Int, _ index: String, row r: Int) -> String {
    exactArithmetic ? "((double)\(value(id, index, row: r)))" : "(\(value(id, index, row: r)))"
  }

  /// The statements computing node `id` (row instance `r`), declaring its array.
  func emit(_ id: Int, row r: Int, indent: String) -> String {
    let n = graph.nodes[id]
    let name = storage(id, row: r)
    switch n.kind {
    case .variable:
      return ""
    case .real(let x):
      return "\(indent)\(t) \(name)[1]; \(name)[0] = (\(t))\(cDoubleLiteral(x));\n"
    case .operation(let op):
      // Very large values (say a big TensorProd) go to thread-local storage: worker stacks are small.
      let storageClass = n.dim > Self.maxStackArray ? "static _Thread_local " : ""
      var code = "\(indent)\(storageClass)\(t) \(name)[\(n.dim)];"
      if let template = op.cTemplate {
        if n.dim == 1 {
          let args = n.inputs.map { operand($0, "0", row: r) }
          code += " \(name)[0] = \(instantiateCTemplate(template, args: args, params: n.params, type: work));"
        } else {
          let args = n.inputs.map { operand($0, "ks_k", row: r) }
          code +=
            " for (int ks_k = 0; ks_k < \(n.dim); ks_k++) \(name)[ks_k] = "
            + "\(instantiateCTemplate(template, args: args, params: n.params, type: work));"
        }
      } else if let emitter = op.cEmit {
        let inputs = n.inputs
        let context = CEmitContext(
          argumentDims: inputs.map { graph.nodes[$0].dim }, params: n.params, outDim: n.dim, work: work,
          arg: { a, index in operand(inputs[a], index, row: r) },
          out: { index in "\(name)[\(index)]" })
        code += " " + emitter(context)
      } else {
        preconditionFailure("operation \(op.name) has neither a C template nor a C emitter")
      }
      return code + "\n"
    }
  }

  // MARK: Source

  func source() -> String {
    var s = """
      /* Generated by ks (CPUEngine). Do not edit: the cache key is a hash of this text.
       * map formula: \(graph.nodes.isEmpty ? "" : plan.mapFormula.description)
       * reduction: \(reductionDescription), output category \(output.rawValue), data \(plan.dataType.rawValue),
       * compute \(plan.computePrecision.rawValue), accumulator \(plan.accumulatorPrecision.rawValue), \
      scheme \(plan.sumScheme.rawValue), kernel \(shapeName)
       */
      #include <math.h>
      #include <stdint.h>
      #include <string.h>
      \(vectorized ? KernelSource.vectorizedMarker : "")
      typedef \(t) ks_t;

      \(Self.roundingHelpers)
      int ks_kernel_abi(void) { return 0x\(String(KernelSource.abiVersion, radix: 16)); }


      """
    switch shape {
    case .exact: s += exactKernel()
    case .simdSum: s += vectorizedKernel()
    case .simdSelect: s += selectionKernel()
    case .simdShift: s += shiftKernel()
    }
    return s
  }

  /// The kernel's name in the source's header comment.
  var shapeName: String {
    switch shape {
    case .exact: return "exact"
    case .simdSum: return "vectorized"
    case .simdSelect: return "simd selection"
    case .simdShift: return "simd max-shift-exp"
    }
  }

  var reductionDescription: String { reduction.description }

  /// The rounding macro body for a precision (values are held in double).
  static func rounding(_ p: Precision) -> String {
    switch p {
    case .float64: return "(x)"
    case .float32: return "ks_round32(x)"
    case .float16: return "ks_round16(x)"
    }
  }

  /// Rounding helpers. The empty asm makes the rounded value opaque: GCC 12's SLP vectorizer
  /// otherwise drops the double -> float -> double round trip of an accumulator kept in a vector
  /// register across iterations (wrong code observed with -O3 on `acc = (double)(float)(acc + v)`).
  static let roundingHelpers = """
    #if defined(__x86_64__) || defined(__i386__)
    #define KS_OPAQUE(v) __asm__("" : "+x"(v))
    #elif defined(__aarch64__)
    #define KS_OPAQUE(v) __asm__("" : "+w"(v))
    #else
    #define KS_OPAQUE(v) do { volatile float ks_opaque_ = (v); (v) = ks_opaque_; } while (0)
    #endif
    static inline double ks_round32(double x) { float f = (float)x; KS_OPAQUE(f); return (double)f; }
    #ifdef __FLT16_MAX__
    static inline double ks_round16(double x) { float f = (float)(_Float16)(float)x; KS_OPAQUE(f); return (double)f; }
    #endif

    """

  var argumentPointers: String {
    graph.variables.map { "  const ks_t *ks_a\($0.index) = (const ks_t *)ks_args[\($0.index)];\n" }.joined()
  }

  static let signature =
    "int ks_reduce(const void *const *ks_args, long ks_nout, long ks_nred, long ks_i0, long ks_i1,\n"
    + "              const void *ks_scratch, double *ks_out, int (*ks_cancelled)(void *), void *ks_ctx)"

  // MARK: Exact kernel

  /// The rounding macros of the exact arithmetic.
  var exactMacros: String {
    let accPrecision = reduction.isSumType ? plan.accumulatorPrecision : plan.computePrecision
    return """
      /* Rounding to the compute (T), accumulator (A) and data (D) precisions; values live in double. */
      #define KS_RT(x) \(Self.rounding(plan.computePrecision))
      #define KS_RA(x) \(Self.rounding(accPrecision))
      #define KS_RD(x) \(Self.rounding(Precision(plan.dataType)))

      """
  }

  func exactKernel() -> String {
    var s = exactMacros + """

      long ks_scratch_bytes(long ks_nred) { (void)ks_nred; return 0; }

      void ks_prepare(const void *const *ks_args, long ks_nred, void *ks_scratch) {
        (void)ks_args; (void)ks_nred; (void)ks_scratch;
      }

      \(Self.signature) {

      """
    s += exactBody()
    return s
  }

  /// The exact kernel's body (after the opening brace of a function with `signature`'s parameters,
  /// or `rangedSignature`'s when `ranged`).
  func exactBody(ranged: Bool = false) -> String {
    let scheme = reduction.isSumType ? plan.sumScheme : .directSum
    var s = ranged ? "  (void)ks_nout; (void)ks_nred; (void)ks_scratch;\n" : "  (void)ks_nout; (void)ks_scratch;\n"
    s += argumentPointers
    if !ranged {
      s += "  const long ks_period = ks_nred < 10 ? 100 : (long)sqrt((double)ks_nred);\n  (void)ks_period;\n"
    }
    let order = Array(0..<graph.nodes.count)
    for id in order where !graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
      s += emit(id, row: 0, indent: "  ")
    }
    s += "  for (long ks_i = ks_i0; ks_i < ks_i1; ks_i++) {\n"
    s += "    if (ks_cancelled && ((ks_i - ks_i0) & 15) == 0 && ks_cancelled(ks_ctx)) return 1;\n"
    // block_sum with ranges: one temporary for the whole row, folded in at the end (no period).
    let acc = Accumulation(gen: self, scheme: scheme, periodicFlush: !ranged)
    if ranged {
      s += "    const long ks_blk = ks_rowblock[ks_i];\n"
      s += "    if (ks_blk < 0) {\n"
      s += "      /* No block covers the row: KeOps' InitializeReduction then FinalizeOutput. */\n"
      s += acc.declarations(indent: "      ")
      s += acc.finish(indent: "      ", finalOperation: false)
      s += "      continue;\n    }\n"
    }
    for id in order where graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
      s += emit(id, row: 0, indent: "    ")
    }
    s += acc.declarations(indent: "    ")
    if ranged {
      s += "    for (long ks_l = ks_blk == 0 ? 0 : ks_slices[ks_blk - 1]; ks_l < ks_slices[ks_blk]; ks_l++)\n"
      s += "    for (long ks_j = ks_redranges[2 * ks_l]; ks_j < ks_redranges[2 * ks_l + 1]; ks_j++) {\n"
    } else {
      s += "    for (long ks_j = 0; ks_j < ks_nred; ks_j++) {\n"
    }
    for id in order where graph.nodes[id].usesReduced {
      s += emit(id, row: 0, indent: "      ")
    }
    s += acc.update(indent: "      ")
    s += "    }\n"
    s += acc.finish(indent: "    ")
    s += "  }\n  return 0;\n}\n"
    return s
  }

  static let rangedSignature =
    "int ks_reduce_ranges(const void *const *ks_args, long ks_nout, long ks_nred, long ks_i0, long ks_i1,\n"
    + "                     const long *ks_rowblock, const long *ks_slices, const long *ks_redranges,\n"
    + "                     const void *ks_scratch, double *ks_out, int (*ks_cancelled)(void *), void *ks_ctx)"

  /// The block-sparse library: the dense library and `ks_reduce_ranges` (see
  /// `KernelSource.generateRanged`).
  func rangedSource() -> String {
    var s = source()
    s += "\n/* Block-sparse reduction (ranges=): each row over the reduced intervals of its block. */\n"
    switch shape {
    case .exact:
      s += "\(Self.rangedSignature) {\n"
      s += exactBody(ranged: true)
    case .simdSum: s += rangedSumKernel()
    case .simdSelect: s += rangedSelectionKernel()
    case .simdShift: s += rangedShiftKernel()
    }
    return s
  }

  // MARK: Block-sparse SIMD kernels

  /// The start of the SIMD block-sparse kernels' loop over output rows: chunks `ks_ib ..< ks_ie`
  /// of at most KS_RB rows of one block `ks_blk` (-1: no block), and that block's intervals
  /// `ks_l0 ..< ks_l1` (none for rows of no block, which keep the initial value).
  var rangedRowChunkHead: String {
    """
      long ks_chunks = 0;
      for (long ks_ib = ks_i0, ks_ie; ks_ib < ks_i1; ks_ib = ks_ie) {
        const long ks_blk = ks_rowblock[ks_ib];
        ks_ie = ks_ib + 1;
        while (ks_ie < ks_i1 && ks_ie - ks_ib < KS_RB && ks_rowblock[ks_ie] == ks_blk) ks_ie++;
        if (ks_cancelled && (ks_chunks++ & 15) == 0 && ks_cancelled(ks_ctx)) return 1;
        const long ks_l0 = ks_blk <= 0 ? 0 : ks_slices[ks_blk - 1], ks_l1 = ks_blk < 0 ? 0 : ks_slices[ks_blk];

    """
  }

  /// For the buffered kernels: the loop over the block's intervals, each cut into pieces
  /// `ks_jb ..< ks_je` (`ks_n` indices) that stay within one KS_B block of the scratch, with the
  /// piece's pointers into it (component k of point j at `ks_s[k * KS_B + j - ks_jb]`), as
  /// `blockLoopHead` gives the dense kernels. Closed by two braces.
  var rangedBlockLoopHead: String {
    var s = """
          for (long ks_l = ks_l0; ks_l < ks_l1; ks_l++) {
            const long ks_r1 = ks_redranges[2 * ks_l + 1];
            for (long ks_jb = ks_redranges[2 * ks_l], ks_je; ks_jb < ks_r1; ks_jb = ks_je) {
              const long ks_q = ks_jb / KS_B;
              ks_je = (ks_q + 1) * KS_B < ks_r1 ? (ks_q + 1) * KS_B : ks_r1;
              const long ks_n = ks_je - ks_jb;
              (void)ks_q;

      """
    for (v, offset) in transposed {
      s += "        const ks_w *ks_s\(v.index) = (const ks_w *)ks_scratch + ks_q * \(scratchDims - 1) * KS_B + ks_jb + \(offset) * KS_B;\n"
    }
    s += "        long ks_i = ks_ib;\n"
    return s
  }

  /// `ks_reduce_ranges` for the SIMD Sum: `tileLoop` over pieces of each interval.
  func rangedSumKernel() -> String {
    let tile = d <= 4 ? 4 : (d <= 8 ? 2 : 1)
    var s = "\(Self.rangedSignature) {\n  (void)ks_nout;\n"
    s += argumentPointers
    for (v, offset) in transposed {
      s += "  const ks_t *ks_s\(v.index) = (const ks_t *)ks_scratch + \(offset) * ks_nred;\n"
    }
    if plan.sumScheme == .blockSum {
      s += "  /* block_sum: the lanes add pieces of about sqrt(n_red) indices in the compute type. */\n"
      s += "  long ks_bs = ks_nred < 10 ? 100 : (long)sqrt((double)ks_nred);\n"
      s += "  ks_bs = (ks_bs + 63) / 64 * 64;\n"
    } else {
      s += "  const long ks_bs = 4096;\n"
    }
    s += tiledPrologue
    s += "  enum { KS_RB = \(Self.rowBlock) };\n"
    s += rangedRowChunkHead
    s += """
          ks_acc_t ks_acc[KS_RB * \(d)];
          for (int ks_k = 0; ks_k < KS_RB * \(d); ks_k++) ks_acc[ks_k] = 0;
          for (long ks_l = ks_l0; ks_l < ks_l1; ks_l++) {
            const long ks_r1 = ks_redranges[2 * ks_l + 1];
            for (long ks_jb = ks_redranges[2 * ks_l], ks_je; ks_jb < ks_r1; ks_jb = ks_je) {
              ks_je = ks_jb + ks_bs < ks_r1 ? ks_jb + ks_bs : ks_r1;
              long ks_i = ks_ib;

      """
    s += tileLoop(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))")
    if tile > 1 {
      s += tileLoop(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)")
    }
    s += "      }\n    }\n"
    s += "    for (long ks_r = 0; ks_r < ks_ie - ks_ib; ks_r++)\n"
    s += "      for (int ks_k = 0; ks_k < \(d); ks_k++) ks_out[(ks_ib + ks_r) * \(rawDim) + ks_k] = KS_RD((double)ks_acc[ks_r * \(d) + ks_k]);\n"
    s += "  }\n  return 0;\n}\n"
    return s
  }

  /// `ks_reduce_ranges` for the selection reductions: `selectionTile` over pieces of each
  /// interval, the intervals in order, so ties and KMin's order are the reference's.
  func rangedSelectionKernel() -> String {
    let acc = Accumulation(gen: self, scheme: .directSum, component: { "((double)ks_b[(\($0)) * KS_B + ks_jj])" })
    let tile = bufferedTile
    let rowBlock = max(tile, min(64, 8192 / acc.accCount) / tile * tile)
    var s = "\(Self.rangedSignature) {\n  (void)ks_nout; (void)ks_nred;\n"
    s += argumentPointers
    s += tiledPrologue
    s += """
        enum { KS_RB = \(rowBlock), KS_C = 32 };
        ks_t ks_buf[\(tile * d) * KS_B];
        double ks_accs[KS_RB * \(acc.accCount)];

      """
    s += rangedRowChunkHead
    s += "    for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {\n"
    s += "      double *ks_acc = ks_accs + (ks_i - ks_ib) * \(acc.accCount);\n"
    s += acc.initialization(indent: "      ")
    s += "    }\n"
    s += rangedBlockLoopHead
    s += selectionTile(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))", acc: acc)
    if tile > 1 {
      s += selectionTile(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)", acc: acc)
    }
    s += "      }\n    }\n"
    s += "    for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {\n"
    s += "      const double *ks_acc = ks_accs + (ks_i - ks_ib) * \(acc.accCount);\n"
    s += acc.finish(indent: "      ")
    s += "    }\n  }\n  return 0;\n}\n"
    return s
  }

  /// `ks_reduce_ranges` for the Max_SumShiftExp family: `shiftTile` over pieces of each interval;
  /// rows with a non-finite value (and rows of no block, whose m stays -inf) are recomputed by
  /// the exact block-sparse code.
  func rangedShiftKernel() -> String {
    let exact = Generator(plan: plan, forceExact: true)
    let tile = bufferedTile
    let sums = max(0, d - 1)
    var s = "/* The exact block-sparse kernel (libm's exp), for the rows with a non-finite value. */\n"
    s += "#pragma push_macro(\"exp\")\n#undef exp\n"
    s += "__attribute__((optimize(\"fp-contract=off\")))\n"
    s += "static " + Self.rangedSignature.replacingOccurrences(of: "ks_reduce_ranges(", with: "ks_exact_ranged_rows(")
      .replacingOccurrences(of: "\n                     ", with: "\n                                 ") + " {\n"
    s += exact.exactBody(ranged: true)
    s += "#pragma pop_macro(\"exp\")\n\n"
    s += "\(Self.rangedSignature) {\n"
    s += argumentPointers
    s += tiledPrologue
    s += """
        enum { KS_RB = \(Self.rowBlock) };
        ks_t ks_buf[\(tile * d) * KS_B];
        ks_t ks_am[KS_RB];
        ks_acc_t ks_as[KS_RB * \(max(1, sums))];
        int ks_bad[KS_RB];

      """
    s += rangedRowChunkHead
    s += """
        for (int ks_r = 0; ks_r < KS_RB; ks_r++) {
          ks_am[ks_r] = -(ks_t)__builtin_inf(); ks_bad[ks_r] = 0;
          for (int ks_k = 0; ks_k < \(max(1, sums)); ks_k++) ks_as[ks_r * \(max(1, sums)) + ks_k] = 0;
        }

    """
    s += rangedBlockLoopHead
    s += shiftTile(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))")
    if tile > 1 {
      s += shiftTile(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)")
    }
    s += """
          }
        }
        for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {
          const long ks_r = ks_i - ks_ib;
          const ks_acc_t *ks_s = ks_as + ks_r * \(max(1, sums));
          int ks_ok = !ks_bad[ks_r] && isfinite(ks_am[ks_r]);
          for (int ks_k = 0; ks_k < \(sums); ks_k++) ks_ok = ks_ok && isfinite(ks_s[ks_k]);
          if (!ks_ok) {
            ks_exact_ranged_rows(ks_args, ks_nout, ks_nred, ks_i, ks_i + 1, ks_rowblock, ks_slices, ks_redranges,
                                 ks_scratch, ks_out, 0, 0);
            continue;
          }
          ks_out[ks_i * \(rawDim)] = KS_RD((double)ks_am[ks_r]);
          for (int ks_k = 0; ks_k < \(sums); ks_k++) ks_out[ks_i * \(rawDim) + 1 + ks_k] = KS_RD((double)ks_s[ks_k]);
        }
      }
      return 0;
    }

    """
    return s
  }

  // MARK: Vectorized kernel

  func vectorizedKernel() -> String {
    // Rows per register tile: enough independent work per lane without spilling accumulators.
    let tile = d <= 4 ? 4 : (d <= 8 ? 2 : 1)
    let accType = plan.accumulatorPrecision == .float64 ? "double" : "float"
    let sumType = plan.sumScheme == .blockSum ? t : accType
    var s = Self.vectorMath
    s += "typedef \(accType) ks_acc_t;\ntypedef \(sumType) ks_sum_t;\n"
    s += "#define KS_RD(x) \(Self.rounding(Precision(plan.dataType)))\n\n"
    let scratchDims = transposed.reduce(0) { $0 + $1.0.dim }
    s += "long ks_scratch_bytes(long ks_nred) { return ks_nred * \(scratchDims) * (long)sizeof(ks_t); }\n\n"
    s += "/* Reduced variables of dimension > 1, transposed: component k of point j at [k * n_red + j]. */\n"
    s += "void ks_prepare(const void *const *ks_args, long ks_nred, void *ks_scratch) {\n"
    s += "  ks_t *ks_dst = (ks_t *)ks_scratch; (void)ks_args; (void)ks_dst; (void)ks_nred;\n"
    for (v, offset) in transposed {
      s += "  { const ks_t *ks_src = (const ks_t *)ks_args[\(v.index)]; ks_t *ks_p = ks_dst + \(offset) * ks_nred;\n"
      s += "    for (long ks_j = 0; ks_j < ks_nred; ks_j++)\n"
      s += "      for (int ks_k = 0; ks_k < \(v.dim); ks_k++) ks_p[ks_k * ks_nred + ks_j] = ks_src[ks_j * \(v.dim) + ks_k]; }\n"
    }
    s += "}\n\n"
    s += "\(Self.signature) {\n  (void)ks_nout;\n"
    s += argumentPointers
    for (v, offset) in transposed {
      s += "  const ks_t *ks_s\(v.index) = (const ks_t *)ks_scratch + \(offset) * ks_nred;\n"
    }
    // Bytes of reduced-variable data per reduced index, to size cache blocks.
    let bytesPerJ = graph.variables.filter { $0.category != output && $0.category != .parameter }
      .reduce(0) { $0 + $1.dim } * (t == "double" ? 8 : 4)
    if plan.sumScheme == .blockSum {
      s += "  /* block_sum: blocks of about sqrt(n_red) reduced indices (KeOps' period), rounded up to whole vectors. */\n"
      s += "  long ks_bs = ks_nred < 10 ? 100 : (long)sqrt((double)ks_nred);\n"
      s += "  ks_bs = (ks_bs + 63) / 64 * 64;\n"
    } else {
      // direct_sum: the blocking only splits the lane partial sums, which stay in the accumulator type.
      let bs = max(256, min(4096, 32768 / max(1, bytesPerJ) / 64 * 64))
      s += "  /* direct_sum: cache blocks of reduced indices; lane partial sums in the accumulator type. */\n"
      s += "  const long ks_bs = \(bs);\n"
    }
    for id in 0..<graph.nodes.count where !graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
      s += emit(id, row: 0, indent: "  ")
    }
    s += """
        /* Blocks of KS_RB output rows; for each block of reduced indices (kept in cache), every row
         * tile of the block runs a SIMD loop over the reduced index. */
        enum { KS_RB = \(Self.rowBlock) };
        for (long ks_ib = ks_i0; ks_ib < ks_i1; ks_ib += KS_RB) {
          const long ks_ie = ks_ib + KS_RB < ks_i1 ? ks_ib + KS_RB : ks_i1;
          if (ks_cancelled && ks_cancelled(ks_ctx)) return 1;
          ks_acc_t ks_acc[KS_RB * \(d)];
          for (int ks_k = 0; ks_k < KS_RB * \(d); ks_k++) ks_acc[ks_k] = 0;
          for (long ks_jb = 0; ks_jb < ks_nred; ks_jb += ks_bs) {
            const long ks_je = ks_jb + ks_bs < ks_nred ? ks_jb + ks_bs : ks_nred;
            long ks_i = ks_ib;

      """
    s += tileLoop(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))")
    if tile > 1 {
      s += tileLoop(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)")
    }
    s += "    }\n"
    s += "    for (long ks_r = 0; ks_r < ks_ie - ks_ib; ks_r++)\n"
    s += "      for (int ks_k = 0; ks_k < \(d); ks_k++) ks_out[(ks_ib + ks_r) * \(rawDim) + ks_k] = KS_RD((double)ks_acc[ks_r * \(d) + ks_k]);\n"
    s += "  }\n  return 0;\n}\n"
    return s
  }

  /// Output rows per cache block of the vectorized kernel (a multiple of every tile height).
  static let rowBlock = 64

  // MARK: Shared pieces of the tiled kernels

  /// Values per component in the scratch (the total dimension of `transposed`).
  var scratchDims: Int { transposed.reduce(0) { $0 + $1.0.dim } }

  /// `KS_B`, `ks_scratch_bytes` and `ks_prepare` of the buffered kernels: the reduced variables in
  /// `transposed`, as `ks_w` values, in blocks of KS_B reduced indices: component k of variable
  /// v (at offset o) of point j at [(j / KS_B) * S * KS_B + (o + k) * KS_B + j % KS_B].
  var scratchFunctions: String {
    let dims = scratchDims
    var s = "enum { KS_B = \(bufferedBlock) };\n\n"
    s += "long ks_scratch_bytes(long ks_nred) { return (ks_nred + KS_B - 1) / KS_B * KS_B * \(dims) * (long)sizeof(ks_w); }\n\n"
    s += "void ks_prepare(const void *const *ks_args, long ks_nred, void *ks_scratch) {\n"
    s += "  ks_w *ks_dst = (ks_w *)ks_scratch; (void)ks_args; (void)ks_dst; (void)ks_nred;\n"
    for (v, offset) in transposed {
      s += "  { const ks_t *ks_src = (const ks_t *)ks_args[\(v.index)];\n"
      s += "    for (long ks_j = 0; ks_j < ks_nred; ks_j++) {\n"
      s += "      ks_w *ks_p = ks_dst + ks_j / KS_B * \(dims) * KS_B + \(offset) * KS_B + ks_j % KS_B;\n"
      s += "      for (int ks_k = 0; ks_k < \(v.dim); ks_k++) ks_p[ks_k * KS_B] = ks_src[ks_j * \(v.dim) + ks_k];\n"
      s += "    } }\n"
    }
    s += "}\n\n"
    return s
  }

  /// The statements of the nodes that depend on neither index.
  var tiledPrologue: String {
    var s = ""
    for id in 0..<graph.nodes.count where !graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
      s += emit(id, row: 0, indent: "  ")
    }
    return s
  }

  /// The start of the loop over blocks of reduced indices of the buffered kernels: `ks_jb`,
  /// `ks_je`, `ks_n` and the block's pointers into the scratch.
  var blockLoopHead: String {
    var s = """
          for (long ks_jb = 0; ks_jb < ks_nred; ks_jb += KS_B) {
            const long ks_je = ks_jb + KS_B < ks_nred ? ks_jb + KS_B : ks_nred;
            const long ks_n = ks_je - ks_jb;

      """
    for (v, offset) in transposed {
      s += "      const ks_w *ks_s\(v.index) = (const ks_w *)ks_scratch + ks_jb * \(scratchDims) + \(offset) * KS_B;\n"
    }
    s += "      long ks_i = ks_ib;\n"
    return s
  }

  /// Rows per register tile of the selection and max-shift-exp kernels, from the size of the pair
  /// nodes (evaluated once per tile row) and the formula's dimension.
  var bufferedTile: Int {
    let pairDim = graph.nodes.filter { $0.usesReduced && $0.usesOutput }.map(\.dim).max() ?? 1
    if pairDim > 64 { return 1 }
    return d <= 4 && pairDim <= 16 ? 4 : 2
  }

  /// Reduced indices per block of the buffered kernels: the values of a tile stay within 16 KiB.
  var bufferedBlock: Int { min(256, max(32, 4096 / (bufferedTile * d) / 32 * 32)) }

  /// For `rows` rows from `ks_i`, the values of the formula at the reduced indices
  /// `ks_jb ..< ks_je`, computed in a SIMD loop and stored in `ks_buf` (component k of tile row r
  /// at [(r * d + k) * KS_B + j - ks_jb]).
  func valuePass(rows: Int, pad: String) -> String {
    var s = ""
    for r in 0..<rows {
      for v in graph.variables where v.category == output {
        let name = "u_a\(v.index)_\(r)"
        if exactArithmetic && t != "double" {
          s += "\(pad)double \(name)[\(v.dim)]; for (int ks_k = 0; ks_k < \(v.dim); ks_k++) "
            + "\(name)[ks_k] = ks_a\(v.index)[(ks_i + \(r)) * \(v.dim) + ks_k];\n"
        } else {
          s += "\(pad)ks_t \(name)[\(v.dim)]; memcpy(\(name), ks_a\(v.index) + (ks_i + \(r)) * \(v.dim), sizeof \(name));\n"
        }
      }
      for id in 0..<graph.nodes.count where graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
        s += unrolled(emit(id, row: r, indent: pad))
      }
    }
    s += "\(pad)#pragma omp simd\n"
    s += "\(pad)for (long ks_jj = 0; ks_jj < ks_n; ks_jj++) {\n"
    s += "\(pad)  const long ks_j = ks_jb + ks_jj;\n"
    for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && !graph.nodes[id].usesOutput {
      s += unrolled(emit(id, row: 0, indent: pad + "  "))
    }
    for r in 0..<rows {
      for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && graph.nodes[id].usesOutput {
        s += unrolled(emit(id, row: r, indent: pad + "  "))
      }
    }
    for r in 0..<rows {
      for k in 0..<d {
        s += "\(pad)  ks_buf[\(r * d + k) * KS_B + ks_jj] = (ks_t)\(value(graph.root, "\(k)", row: r));\n"
      }
    }
    s += "\(pad)}\n"
    return s
  }

  // MARK: Selection kernel

  /// Min, Max, their Arg and pair versions and the KMin family: a SIMD pass computes the formula
  /// on a block of reduced indices for a tile of rows, in the reference's arithmetic (double,
  /// rounded to the compute type per node); a SIMD filter then compares each chunk of KS_C = 32
  /// values with the accumulator's threshold into a bit mask, and only the indices whose bit is
  /// set run KeOps' update, in order. Since any other value leaves the accumulator unchanged, the result is the
  /// reference's, bit for bit: ties to the lowest index, KMin's stable order.
  func selectionKernel() -> String {
    let acc = Accumulation(gen: self, scheme: .directSum, component: { "((double)ks_b[(\($0)) * KS_B + ks_jj])" })
    let tile = bufferedTile
    let rowBlock = max(tile, min(64, 8192 / acc.accCount) / tile * tile)
    var s = exactMacros + "typedef double ks_w;\n\n"
    s += scratchFunctions
    s += "\(Self.signature) {\n  (void)ks_nout;\n"
    s += argumentPointers
    s += tiledPrologue
    s += """
        /* Blocks of KS_RB rows keep their accumulators while blocks of KS_B reduced indices pass. */
        enum { KS_RB = \(rowBlock), KS_C = 32 };
        ks_t ks_buf[\(tile * d) * KS_B];
        double ks_accs[KS_RB * \(acc.accCount)];
        for (long ks_ib = ks_i0; ks_ib < ks_i1; ks_ib += KS_RB) {
          const long ks_ie = ks_ib + KS_RB < ks_i1 ? ks_ib + KS_RB : ks_i1;
          if (ks_cancelled && ks_cancelled(ks_ctx)) return 1;
          for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {
            double *ks_acc = ks_accs + (ks_i - ks_ib) * \(acc.accCount);

      """
    s += acc.initialization(indent: "      ")
    s += """
          }

      """
    s += blockLoopHead
    s += selectionTile(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))", acc: acc)
    if tile > 1 {
      s += selectionTile(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)", acc: acc)
    }
    s += "    }\n"
    s += "    for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {\n"
    s += "      const double *ks_acc = ks_accs + (ks_i - ks_ib) * \(acc.accCount);\n"
    s += acc.finish(indent: "      ")
    s += "    }\n  }\n  return 0;\n}\n"
    return s
  }

  /// One tile of the selection kernel: the value pass, then the filter and update per row.
  func selectionTile(rows: Int, loop: String, acc: Accumulation) -> String {
    let pad = "      "
    var s = "\(pad)\(loop) {\n"
    s += valuePass(rows: rows, pad: pad + "  ")
    let (thresholdIndex, comparison) = acc.threshold(0)
    for r in 0..<rows {
      s += """
        \(pad)  {
        \(pad)    double *ks_acc = ks_accs + (ks_i - ks_ib + \(r)) * \(acc.accCount);
        \(pad)    const ks_t *ks_b = ks_buf + \(r * d) * KS_B;
        \(pad)    for (long ks_c = 0; ks_c < ks_n; ks_c += KS_C) {
        \(pad)      const long ks_ce = ks_c + KS_C < ks_n ? ks_c + KS_C : ks_n;
        \(pad)      /* Bit l: index ks_c + l beats a threshold (thresholds only tighten within the chunk). */
        \(pad)      uint32_t ks_mask = 0;
        \(pad)      for (int ks_q = 0; ks_q < \(d); ks_q++) {
        \(pad)        const ks_t ks_th = (ks_t)ks_acc[\(thresholdIndex) + ks_q];
        \(pad)        #pragma omp simd reduction(|: ks_mask)
        \(pad)        for (long ks_jj = ks_c; ks_jj < ks_ce; ks_jj++)
        \(pad)          ks_mask |= (uint32_t)(ks_b[ks_q * KS_B + ks_jj] \(comparison) ks_th) << (ks_jj - ks_c);
        \(pad)      }
        \(pad)      while (ks_mask) {
        \(pad)        const long ks_jj = ks_c + __builtin_ctz(ks_mask);
        \(pad)        const long ks_j = ks_jb + ks_jj;
        \(pad)        ks_mask &= ks_mask - 1;

        """
      s += acc.update(indent: pad + "        ")
      s += "\(pad)      }\n\(pad)    }\n\(pad)  }\n"
    }
    s += "\(pad)}\n"
    return s
  }

  // MARK: Max-shift-exp kernel

  /// The Max_SumShiftExp family (LogSumExp, SumSoftMaxWeight, ...), F = (f, g): per block of
  /// reduced indices and row, a SIMD maximum M of f (merged with the row's m), then the SIMD sum
  /// of exp(f - M) g in the compute type, added to the row's s rescaled by exp(m - M). A row whose
  /// f or result is not finite is recomputed by the exact code, so infinities and NaN come out as
  /// in the reference (whose merge gives NaN for a leading -inf, for instance).
  func shiftKernel() -> String {
    let exact = Generator(plan: plan, forceExact: true)
    let accType = plan.accumulatorPrecision == .float64 ? "double" : "float"
    let tile = bufferedTile
    let sums = max(0, d - 1)
    var s = exact.exactMacros
    s += "/* The exact kernel, for the rows with a non-finite value (no contraction, libm's exp). */\n"
    s += "__attribute__((optimize(\"fp-contract=off\")))\n"
    s += "static " + Self.signature.replacingOccurrences(of: "ks_reduce(", with: "ks_exact_rows(")
      .replacingOccurrences(of: "\n              ", with: "\n                     ") + " {\n"
    s += exact.exactBody()
    s += "\n" + Self.vectorMath
    s += "typedef ks_t ks_w;\ntypedef \(accType) ks_acc_t;\n\n"
    s += scratchFunctions
    s += "\(Self.signature) {\n"
    s += argumentPointers
    s += tiledPrologue
    s += """
        /* Per row of a block of KS_RB rows: m (compute type), s (accumulator type), and whether a
         * non-finite value sends the row to the exact code. */
        enum { KS_RB = \(Self.rowBlock) };
        ks_t ks_buf[\(tile * d) * KS_B];
        ks_t ks_am[KS_RB];
        ks_acc_t ks_as[KS_RB * \(max(1, sums))];
        int ks_bad[KS_RB];
        for (long ks_ib = ks_i0; ks_ib < ks_i1; ks_ib += KS_RB) {
          const long ks_ie = ks_ib + KS_RB < ks_i1 ? ks_ib + KS_RB : ks_i1;
          if (ks_cancelled && ks_cancelled(ks_ctx)) return 1;
          for (int ks_r = 0; ks_r < KS_RB; ks_r++) {
            ks_am[ks_r] = -(ks_t)__builtin_inf(); ks_bad[ks_r] = 0;
            for (int ks_k = 0; ks_k < \(max(1, sums)); ks_k++) ks_as[ks_r * \(max(1, sums)) + ks_k] = 0;
          }

      """
    s += blockLoopHead
    s += shiftTile(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))")
    if tile > 1 {
      s += shiftTile(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)")
    }
    s += """
          }
          for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {
            const long ks_r = ks_i - ks_ib;
            const ks_acc_t *ks_s = ks_as + ks_r * \(max(1, sums));
            int ks_ok = !ks_bad[ks_r] && isfinite(ks_am[ks_r]);
            for (int ks_k = 0; ks_k < \(sums); ks_k++) ks_ok = ks_ok && isfinite(ks_s[ks_k]);
            if (!ks_ok) {
              ks_exact_rows(ks_args, ks_nout, ks_nred, ks_i, ks_i + 1, ks_scratch, ks_out, 0, 0);
              continue;
            }
            ks_out[ks_i * \(rawDim)] = KS_RD((double)ks_am[ks_r]);
            for (int ks_k = 0; ks_k < \(sums); ks_k++) ks_out[ks_i * \(rawDim) + 1 + ks_k] = KS_RD((double)ks_s[ks_k]);
          }
        }
        return 0;
      }

      """
    return s
  }

  /// One tile of the max-shift-exp kernel: the value pass, then per row the block's maximum and
  /// the rescaled sums.
  func shiftTile(rows: Int, loop: String) -> String {
    let pad = "      "
    let sums = max(0, d - 1)
    let names = (1..<max(1, d)).map { "ks_z\($0)" }
    var s = "\(pad)\(loop) {\n"
    s += valuePass(rows: rows, pad: pad + "  ")
    for r in 0..<rows {
      s += """
        \(pad)  {
        \(pad)    const long ks_r = ks_i - ks_ib + \(r);
        \(pad)    const ks_t *ks_b = ks_buf + \(r * d) * KS_B;
        \(pad)    ks_t ks_m = -(ks_t)__builtin_inf(), ks_chk = 0;
        \(pad)    #pragma omp simd reduction(max: ks_m) reduction(+: ks_chk)
        \(pad)    for (long ks_jj = 0; ks_jj < ks_n; ks_jj++) {
        \(pad)      const ks_t ks_f = ks_b[ks_jj];
        \(pad)      ks_m = ks_f > ks_m ? ks_f : ks_m;
        \(pad)      ks_chk += ks_f * 0;
        \(pad)    }
        \(pad)    /* ks_chk is NaN when some f is infinite or NaN. */
        \(pad)    if (!(ks_chk == 0)) ks_bad[ks_r] = 1;
        \(pad)    if (!ks_bad[ks_r]) {
        \(pad)      const ks_t ks_mm = ks_m > ks_am[ks_r] ? ks_m : ks_am[ks_r];

        """
      if sums > 0 {
        s += "\(pad)      ks_t \(names.map { "\($0) = 0" }.joined(separator: ", "));\n"
        s += "\(pad)      #pragma omp simd reduction(+: \(names.joined(separator: ", ")))\n"
        s += "\(pad)      for (long ks_jj = 0; ks_jj < ks_n; ks_jj++) {\n"
        s += "\(pad)        const ks_t ks_e = exp(ks_b[ks_jj] - ks_mm);\n"
        for k in 1..<d {
          s += "\(pad)        ks_z\(k) += ks_e * ks_b[\(k) * KS_B + ks_jj];\n"
        }
        s += "\(pad)      }\n"
        s += "\(pad)      const ks_acc_t ks_sc = exp((ks_acc_t)ks_am[ks_r] - (ks_acc_t)ks_mm);\n"
        for k in 1..<d {
          s += "\(pad)      ks_as[ks_r * \(sums) + \(k - 1)] = ks_as[ks_r * \(sums) + \(k - 1)] * ks_sc + (ks_acc_t)ks_z\(k);\n"
        }
      }
      s += "\(pad)      ks_am[ks_r] = ks_mm;\n\(pad)    }\n\(pad)  }\n"
    }
    s += "\(pad)}\n"
    return s
  }

  /// One tile of `rows` output rows over the current block of reduced indices: SIMD over the
  /// reduced index, one partial sum per row and component, added to the row's accumulator.
  func tileLoop(rows: Int, loop: String) -> String {
    let outVars = graph.variables.filter { $0.category == output }
    let rowRange = 0..<rows
    let pad = "      "
    var s = "\(pad)\(loop) {\n"
    for r in rowRange {
      for v in outVars {
        s += "\(pad)  ks_t u_a\(v.index)_\(r)[\(v.dim)]; memcpy(u_a\(v.index)_\(r), ks_a\(v.index) + (ks_i + \(r)) * \(v.dim), sizeof u_a\(v.index)_\(r));\n"
      }
      for id in 0..<graph.nodes.count where graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
        s += unrolled(emit(id, row: r, indent: pad + "  "))
      }
    }
    let sums = rowRange.flatMap { r in (0..<d).map { "ks_sum_\(r)_\($0)" } }
    s += "\(pad)  ks_sum_t \(sums.map { "\($0) = 0" }.joined(separator: ", "));\n"
    s += "\(pad)  #pragma omp simd reduction(+: \(sums.joined(separator: ", ")))\n"
    s += "\(pad)  for (long ks_j = ks_jb; ks_j < ks_je; ks_j++) {\n"
    for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && !graph.nodes[id].usesOutput {
      s += unrolled(emit(id, row: 0, indent: pad + "    "))
    }
    for r in rowRange {
      for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && graph.nodes[id].usesOutput {
        s += unrolled(emit(id, row: r, indent: pad + "    "))
      }
    }
    for r in rowRange {
      s += "\(pad)    " + (0..<d).map { "ks_sum_\(r)_\($0) += (ks_sum_t)\(value(graph.root, "\($0)", row: r));" }
        .joined(separator: " ") + "\n"
    }
    s += "\(pad)  }\n"
    for r in rowRange {
      s += "\(pad)  " + (0..<d).map { "ks_acc[(ks_i - ks_ib + \(r)) * \(d) + \($0)] += (ks_acc_t)ks_sum_\(r)_\($0);" }
        .joined(separator: " ") + "\n"
    }
    s += "\(pad)}\n"
    return s
  }

  /// Asks GCC to unroll the component loops of a node's code completely, so the loop over the
  /// reduced index is the only loop left to vectorize (GCC does not vectorize an outer loop
  /// around several inner loops).
  func unrolled(_ code: String) -> String {
    code.replacingOccurrences(of: "for (", with: "_Pragma(\"GCC unroll 128\") for (")
  }

  /// Fast, vectorizable exp for the SIMD kernel, and macros that route the math calls of the
  /// operation templates to single-precision versions when the compute type is float.
  static let vectorMath = """
    #ifdef __FMA__
    #define KS_FMAF(a, b, c) fmaf(a, b, c)
    #define KS_FMA(a, b, c) fma(a, b, c)
    #else
    #define KS_FMAF(a, b, c) ((a) * (b) + (c))
    #define KS_FMA(a, b, c) ((a) * (b) + (c))
    #endif

    /* exp in float: Cody-Waite reduction by ln 2, Cephes' degree-7 polynomial evaluated by Horner
     * to the end (1 + r(1 + r(1/2 + ...))), 2^k applied in two halves so gradual underflow rounds
     * once. One comparison clamps |x| to 104 (NaN passes through it and through r). The rounded
     * t = 1.5 * 2^23 + 254 + k holds k' = k + 254 in its low bits (the high bits shift out), so
     * 2^(floor(k/2)) = (k' >> 1) << 23 and 2^(ceil(k/2)) = (k' << 23) minus that: no float to int
     * conversion. Max error 0.90 ulp (every float checked against double exp). */
    static inline float ks_expf(float x) {
      union { uint32_t u; float f; } t, s1, s2;
      const float c = __builtin_fabsf(x) > 104.0f ? __builtin_copysignf(104.0f, x) : x;
      t.f = KS_FMAF(c, 1.44269504088896341f, 12583166.0f);
      const float kf = t.f - 12583166.0f;
      float r = KS_FMAF(kf, -0.693359375f, c);
      r = KS_FMAF(kf, 2.12194440e-4f, r);
      float p = 1.9875691500e-4f;
      p = KS_FMAF(p, r, 1.3981999507e-3f);
      p = KS_FMAF(p, r, 8.3334519073e-3f);
      p = KS_FMAF(p, r, 4.1665795894e-2f);
      p = KS_FMAF(p, r, 1.6666665459e-1f);
      p = KS_FMAF(p, r, 5.0000001201e-1f);
      p = KS_FMAF(p, r, 1.0f);
      p = KS_FMAF(p, r, 1.0f);
      s1.u = (t.u >> 1) << 23;
      s2.u = (t.u << 23) - s1.u;
      return p * s1.f * s2.f;
    }

    /* exp in double: Cody-Waite reduction by ln 2 (fdlibm's split), a degree-11 minimax polynomial
     * for the relative error on |r| <= ln2/2 (1 + r + r^2 Q(r), Q of degree 9 fitted by Remez,
     * 0.016 ulp of approximation error) evaluated by Horner to the end, 2^k applied in two halves
     * (gradual underflow rounds once) from the bits of t = 1.5 * 2^52 + 2046 + k as in ks_expf, one
     * comparison clamping |x| to 746 (NaN passes through). Max error 0.92 ulp (measured against
     * mpmath on 1.4e6 points, and against expl on 3e7 points of [-745.2, 710]). */
    static inline double ks_exp(double x) {
      union { uint64_t u; double f; } t, s1, s2;
      const double c = __builtin_fabs(x) > 746.0 ? __builtin_copysign(746.0, x) : x;
      t.f = KS_FMA(c, 1.4426950408889634, 6755399441057790.0);
      const double kf = t.f - 6755399441057790.0;
      double r = KS_FMA(kf, -6.93147180369123816490e-01, c);
      r = KS_FMA(kf, -1.90821492927058770002e-10, r);
      double p = 0x1.ad7f3bd0f3276p-26;
      p = KS_FMA(p, r, 0x1.28ad9b8bba56ep-22);
      p = KS_FMA(p, r, 0x1.71df25b4eb8b1p-19);
      p = KS_FMA(p, r, 0x1.a01999e25c2cdp-16);
      p = KS_FMA(p, r, 0x1.a01a012a0e6a9p-13);
      p = KS_FMA(p, r, 0x1.6c16c18438b31p-10);
      p = KS_FMA(p, r, 0x1.1111111127d11p-7);
      p = KS_FMA(p, r, 0x1.555555555083ep-5);
      p = KS_FMA(p, r, 0x1.55555555554f9p-3);
      p = KS_FMA(p, r, 0x1.000000000000ap-1);
      p = KS_FMA(p, r, 1.0);
      p = KS_FMA(p, r, 1.0);
      s1.u = (t.u >> 1) << 52;
      s2.u = (t.u << 52) - s1.u;
      return p * s1.f * s2.f;
    }

    #define exp(x) _Generic((x), float: ks_expf, default: ks_exp)(x)
    #define sqrt(x) _Generic((x), float: sqrtf, default: sqrt)(x)
    #define fabs(x) _Generic((x), float: fabsf, default: fabs)(x)
    #define floor(x) _Generic((x), float: floorf, default: floor)(x)


    """
}

/// KeOps' accumulator for the exact kernel, written out in C with explicit rounding: values are
/// held in double and rounded after every operation to the precision the reference uses there.
private struct Accumulation {
  let gen: Generator
  let scheme: SumScheme
  /// block_sum: fold the temporary into the accumulator every `ks_period` terms (dense
  /// reductions); false with ranges, where one temporary takes the whole row.
  var periodicFlush = true
  /// Component `k` (a C expression) of the formula value, as a double; nil: the root node's value.
  var component: ((String) -> String)? = nil

  var kind: ReductionKind { gen.reduction }
  var d: Int { gen.d }

  /// Component `k` (a C expression) of the formula value, as a double.
  func x(_ k: String) -> String { component?(k) ?? "((double)\(gen.value(gen.graph.root, k, row: 0)))" }

  /// Doubles in the accumulator of `kind` for a formula of dimension `d`.
  static func count(_ kind: ReductionKind, d: Int) -> Int {
    switch kind {
    case .sum, .max, .min, .maxSumShiftExpWeight: return d
    case .argMax, .argMin, .maxArgMax, .minArgMin: return 2 * d
    case .kMin(let k), .argKMin(let k), .kMinArgKMin(let k): return 2 * k * d
    }
  }

  var accCount: Int { Self.count(kind, d: d) }

  /// For the selection reductions: the accumulator entry a value of component `k` must beat to
  /// change anything (the best value, or KMin's K-th), and the comparison that beats it.
  func threshold(_ k: Int) -> (index: Int, comparison: String) {
    switch kind {
    case .max, .argMax, .maxArgMax: return (k, ">")
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk): return ((kk - 1) * 2 * d + k, "<")
    default: return (k, "<")
    }
  }

  func declarations(indent: String) -> String {
    let big = accCount > Generator.maxStackArray ? "static _Thread_local " : ""
    return "\(indent)\(big)double ks_acc[\(accCount)];\n" + initialization(indent: indent)
  }

  /// Sets `ks_acc` (declared by the caller) to KeOps' initial values.
  func initialization(indent: String) -> String {
    let big = accCount > Generator.maxStackArray ? "static _Thread_local " : ""
    var s = ""
    switch kind {
    case .sum:
      s += "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) ks_acc[ks_k] = 0;\n"
    case .max:
      s += "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) ks_acc[ks_k] = -__builtin_inf();\n"
    case .min:
      s += "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) ks_acc[ks_k] = __builtin_inf();\n"
    case .argMax, .maxArgMax:
      s += "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) { ks_acc[ks_k] = -__builtin_inf(); ks_acc[\(d) + ks_k] = 0; }\n"
    case .argMin, .minArgMin:
      s += "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) { ks_acc[ks_k] = __builtin_inf(); ks_acc[\(d) + ks_k] = 0; }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      s += "\(indent)for (int ks_r = 0; ks_r < \(kk); ks_r++) for (int ks_k = 0; ks_k < \(d); ks_k++) "
        + "{ ks_acc[ks_r * \(2 * d) + ks_k] = __builtin_inf(); ks_acc[ks_r * \(2 * d) + \(d) + ks_k] = 0; }\n"
    case .maxSumShiftExpWeight:
      s += "\(indent)ks_acc[0] = -__builtin_inf(); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_acc[ks_k] = 0;\n"
    }
    switch (scheme, kind) {
    case (.blockSum, .maxSumShiftExpWeight):
      s += "\(indent)\(big)double ks_tmp[\(d)]; ks_tmp[0] = -__builtin_inf(); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    case (.kahanScheme, .maxSumShiftExpWeight):
      s += "\(indent)\(big)double ks_tmp[\(max(1, d - 1))]; for (int ks_k = 0; ks_k < \(d - 1); ks_k++) ks_tmp[ks_k] = 0;\n"
    case (.blockSum, _), (.kahanScheme, _):
      s += "\(indent)\(big)double ks_tmp[\(d)]; for (int ks_k = 0; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    default:
      break
    }
    if scheme == .blockSum && periodicFlush { s += "\(indent)long ks_cnt = 0;\n" }
    return s
  }

  /// KeOps' (m, s) merge of `src` into `dst` with rounding macro `r`.
  func merge(into dst: String, from src: (String) -> String, round r: String, indent: String) -> String {
    """
    \(indent)if (\(dst)[0] > \(src("0"))) {
    \(indent)  const double ks_e = \(r)(exp(\(src("0")) - \(dst)[0]));
    \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) \(dst)[ks_k] = \(r)(\(dst)[ks_k] + \(r)(\(src("ks_k")) * ks_e));
    \(indent)} else {
    \(indent)  const double ks_e = \(r)(exp(\(dst)[0] - \(src("0"))));
    \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) \(dst)[ks_k] = \(r)(\(src("ks_k")) + \(r)(ks_e * \(dst)[ks_k]));
    \(indent)  \(dst)[0] = \(src("0"));
    \(indent)}

    """
  }

  func flush(indent: String) -> String {
    if kind == .maxSumShiftExpWeight {
      return merge(into: "ks_acc", from: { "ks_tmp[\($0)]" }, round: "KS_RA", indent: indent)
        + "\(indent)ks_tmp[0] = -__builtin_inf(); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    }
    return "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) { ks_acc[ks_k] = KS_RA(ks_acc[ks_k] + ks_tmp[ks_k]); ks_tmp[ks_k] = 0; }\n"
  }

  func update(indent: String) -> String {
    let loop = "for (int ks_k = 0; ks_k < \(d); ks_k++)"
    var s = ""
    switch kind {
    case .sum:
      switch scheme {
      case .directSum:
        s += "\(indent)\(loop) ks_acc[ks_k] = KS_RA(ks_acc[ks_k] + \(x("ks_k")));\n"
      case .blockSum:
        s += "\(indent)\(loop) ks_tmp[ks_k] = KS_RT(ks_tmp[ks_k] + \(x("ks_k")));\n"
      case .kahanScheme:
        s += """
          \(indent)\(loop) {
          \(indent)  const double ks_y = KS_RA(\(x("ks_k")) - ks_tmp[ks_k]);
          \(indent)  const double ks_b = KS_RA(ks_acc[ks_k] + ks_y);
          \(indent)  ks_tmp[ks_k] = KS_RT(KS_RA(KS_RA(ks_b - ks_acc[ks_k]) - ks_y));
          \(indent)  ks_acc[ks_k] = ks_b;
          \(indent)}

          """
      }
    case .maxSumShiftExpWeight:
      switch scheme {
      case .directSum:
        s += merge(into: "ks_acc", from: x, round: "KS_RA", indent: indent)
      case .blockSum:
        s += merge(into: "ks_tmp", from: x, round: "KS_RT", indent: indent)
      case .kahanScheme:
        s += """
          \(indent)if (ks_acc[0] > \(x("0"))) {
          \(indent)  const double ks_e = KS_RA(exp(\(x("0")) - ks_acc[0]));
          \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) {
          \(indent)    const double ks_y = KS_RA(KS_RA(\(x("ks_k")) * ks_e) - ks_tmp[ks_k - 1]);
          \(indent)    const double ks_b = KS_RA(ks_acc[ks_k] + ks_y);
          \(indent)    ks_tmp[ks_k - 1] = KS_RT(KS_RA(KS_RA(ks_b - ks_acc[ks_k]) - ks_y));
          \(indent)    ks_acc[ks_k] = ks_b;
          \(indent)  }
          \(indent)} else {
          \(indent)  const double ks_e = KS_RA(exp(ks_acc[0] - \(x("0"))));
          \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) {
          \(indent)    const double ks_u = KS_RA(ks_e * ks_acc[ks_k]);
          \(indent)    const double ks_y = KS_RA(\(x("ks_k")) - KS_RA(ks_e * ks_tmp[ks_k - 1]));
          \(indent)    const double ks_b = KS_RA(ks_u + ks_y);
          \(indent)    ks_tmp[ks_k - 1] = KS_RT(KS_RA(KS_RA(ks_b - ks_u) - ks_y));
          \(indent)    ks_acc[ks_k] = ks_b;
          \(indent)  }
          \(indent)  ks_acc[0] = \(x("0"));
          \(indent)}

          """
      }
    case .max:
      s += "\(indent)\(loop) { const double ks_v = \(x("ks_k")); if (ks_v > ks_acc[ks_k]) ks_acc[ks_k] = ks_v; }\n"
    case .min:
      s += "\(indent)\(loop) { const double ks_v = \(x("ks_k")); if (ks_v < ks_acc[ks_k]) ks_acc[ks_k] = ks_v; }\n"
    case .argMax, .maxArgMax:
      s += "\(indent)\(loop) { const double ks_v = \(x("ks_k")); if (ks_v > ks_acc[ks_k]) { ks_acc[ks_k] = ks_v; ks_acc[\(d) + ks_k] = (double)ks_j; } }\n"
    case .argMin, .minArgMin:
      s += "\(indent)\(loop) { const double ks_v = \(x("ks_k")); if (ks_v < ks_acc[ks_k]) { ks_acc[ks_k] = ks_v; ks_acc[\(d) + ks_k] = (double)ks_j; } }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      // Insertion from the last rank upward while strictly smaller: stable, lowest index first.
      s += """
        \(indent)\(loop) {
        \(indent)  const double ks_v = \(x("ks_k"));
        \(indent)  long ks_l = ks_k + \((kk - 1) * 2 * d);
        \(indent)  while (ks_l >= ks_k && ks_v < ks_acc[ks_l]) {
        \(indent)    const double ks_sv = ks_acc[ks_l], ks_si = ks_acc[ks_l + \(d)];
        \(indent)    ks_acc[ks_l] = ks_v; ks_acc[ks_l + \(d)] = (double)ks_j;
        \(indent)    if (ks_l < ks_k + \(2 * d * (kk - 1))) { ks_acc[ks_l + \(2 * d)] = ks_sv; ks_acc[ks_l + \(3 * d)] = ks_si; }
        \(indent)    ks_l -= \(2 * d);
        \(indent)  }
        \(indent)}

        """
    }
    if scheme == .blockSum && periodicFlush {
      s += "\(indent)if (++ks_cnt == ks_period) {\n"
      s += "\(indent)  ks_cnt = 0;\n"
      s += flush(indent: indent + "  ")
      s += "\(indent)}\n"
    }
    return s
  }

  /// Writes the row's output; `finalOperation: false` skips block_sum's last fold, as KeOps does
  /// for rows no block of `ranges` covers.
  func finish(indent: String, finalOperation: Bool = true) -> String {
    var s = scheme == .blockSum && finalOperation ? flush(indent: indent) : ""
    let out = "ks_out + ks_i * \(gen.rawDim)"
    s += "\(indent){\n\(indent)  double *ks_o = \(out);\n"
    switch kind {
    case .sum, .max, .min, .maxArgMax, .minArgMin, .maxSumShiftExpWeight, .kMinArgKMin:
      s += "\(indent)  for (int ks_k = 0; ks_k < \(accCount); ks_k++) ks_o[ks_k] = KS_RD(ks_acc[ks_k]);\n"
    case .argMax, .argMin:
      s += "\(indent)  for (int ks_k = 0; ks_k < \(d); ks_k++) ks_o[ks_k] = KS_RD(ks_acc[\(d) + ks_k]);\n"
    case .kMin(let kk):
      s += "\(indent)  for (int ks_r = 0; ks_r < \(kk); ks_r++) for (int ks_k = 0; ks_k < \(d); ks_k++) "
        + "ks_o[ks_r * \(d) + ks_k] = KS_RD(ks_acc[ks_r * \(2 * d) + ks_k]);\n"
    case .argKMin(let kk):
      s += "\(indent)  for (int ks_r = 0; ks_r < \(kk); ks_r++) for (int ks_k = 0; ks_k < \(d); ks_k++) "
        + "ks_o[ks_r * \(d) + ks_k] = KS_RD(ks_acc[ks_r * \(2 * d) + \(d) + ks_k]);\n"
    }
    s += "\(indent)}\n"
    return s
  }
}
