import Foundation
import FormulaLanguage
import KernelEngines

/// Generates the C11 source of a compiled kernel from a plan.
///
/// Generation is a pure function of the validated tree and the plan's options: the text contains
/// only numbers, fixed identifiers, the operation table's `cTemplate` strings and the C its block
/// emitters (`Operation.cEmit`) write. No user string (alias name, formula text) is ever pasted.
///
/// The kernel shapes (`KernelShape`):
/// - the **exact** kernel, for the plans no SIMD kernel takes: one output row at a time, the
///   reduced index in order, each node evaluated in double and rounded to the compute type where
///   it is stored, and KeOps' accumulator updates written out with explicit rounding. It
///   reproduces the reference engine bit for bit (same libm, `-ffp-contract=off`);
/// - the **vectorized Sum** kernel, for Sum with `direct_sum` / `block_sum` over formulas whose C
///   only calls `exp`, `sqrt`, `fabs` and `floor`: node arithmetic in the compute type, reduced
///   variables transposed so SIMD lanes load contiguously, a register tile of up to 8 output rows
///   per pass written node by node across the rows (their dependency chains overlap: the loop is
///   latency-bound, not pipe-bound), row values set up once per ~128 KiB chunk of sum blocks,
///   explicit vectors with a table-driven `exp` where the formula allows, and lane-wise
///   partial sums (see `vectorizedNotes`); compiled with `-ffp-contract=fast`
///   (`KernelCache.flags(for:)`, keyed on `vectorizedMarker`);
/// - the **selection** kernel (Min, Max, their Arg and pair forms, the KMin family): SIMD values,
///   a SIMD filter against the accumulator's threshold, KeOps' update at the indices that pass;
///   bit-identical to the reference (float32 SqDist gets a float pre-filter with a rigorous bound);
/// - the **max-shift-exp** kernel (LogSumExp, SumSoftMaxWeight, ...): per-block SIMD (m, s), not
///   bit-identical; non-finite rows recomputed exactly.
/// `generateRanged` adds `ks_reduce_ranges` (block-sparse) running the same loops per interval.
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
    Generator(plan: plan, filteredSelection: false).rangedSource()
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
  /// that can change it. For a float32 SqDist of two variables the SIMD pass is in float against
  /// a rigorous bound of the threshold, and only the passing indices are recomputed in the
  /// reference's arithmetic. Bit-identical to the reference.
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
  /// False: no filtered float32 SqDist selection kernel (see `init`).
  let filteredSelection: Bool
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

  /// `filteredSelection: false` keeps the float32 SqDist selection plans on the general selection
  /// kernel (the block-sparse library's `ks_reduce_ranges` runs that kernel's loops over its
  /// scratch layout).
  init(plan: KernelPlan, forceExact: Bool = false, filteredSelection: Bool = true) {
    self.plan = plan
    self.filteredSelection = filteredSelection
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
    // Very large values (say a big TensorProd) go to thread-local storage: worker stacks are small.
    let storageClass = graph.nodes[id].dim > Self.maxStackArray ? "static _Thread_local " : ""
    let code = graph.computation(id, into: storage(id, row: r), type: t, work: work, storage: storageClass) {
      operand($0, $1, row: r)
    }
    return code.map { indent + $0 + "\n" } ?? ""
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
    let tile = sumTile
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
            const long ks_r0 = ks_redranges[2 * ks_l];
            long ks_i = ks_ib;

      """
    s += sumTiles(tile, from: "ks_r0", to: "ks_r1")
    s += "    }\n"
    s += sumRowsOut
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
    s += shiftState(tile: tile, sums: sums)
    s += rangedRowChunkHead
    s += shiftRowReset(sums: sums, indent: "    ")
    s += rangedBlockLoopHead
    s += shiftTile(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))")
    if tile > 1 {
      s += shiftTile(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)")
    }
    s += "      }\n    }\n"
    s += shiftRowsOut(
      sums: sums,
      exactCall: """
        ks_exact_ranged_rows(ks_args, ks_nout, ks_nred, ks_i, ks_i + 1, ks_rowblock, ks_slices, ks_redranges,
                                     ks_scratch, ks_out, 0, 0);
        """)
    s += "  }\n  return 0;\n}\n"
    return s
  }

  // MARK: Vectorized kernel

  func vectorizedKernel() -> String {
    let tile = sumTile
    let accType = plan.accumulatorPrecision == .float64 ? "double" : "float"
    let sumType = plan.sumScheme == .blockSum ? t : accType
    var s = Self.vectorMath
    s += "typedef \(accType) ks_acc_t;\ntypedef \(sumType) ks_sum_t;\n"
    if vectorLoop { s += vectorTypes }
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
        /* Chunks of whole sum blocks, about \(Self.chunkBytes / 1024) KiB of reduced data, stay in cache while
         * KS_RB output rows pass; every row tile runs a SIMD loop over each block of the chunk. */
        const long ks_cs = ks_bs * (ks_bs * \(max(1, bytesPerJ)) >= \(Self.chunkBytes) ? 1 : \(Self.chunkBytes) / (ks_bs * \(max(1, bytesPerJ))));
        enum { KS_RB = \(Self.rowBlock) };
        for (long ks_ib = ks_i0; ks_ib < ks_i1; ks_ib += KS_RB) {
          const long ks_ie = ks_ib + KS_RB < ks_i1 ? ks_ib + KS_RB : ks_i1;
          if (ks_cancelled && ks_cancelled(ks_ctx)) return 1;
          ks_acc_t ks_acc[KS_RB * \(d)];
          for (int ks_k = 0; ks_k < KS_RB * \(d); ks_k++) ks_acc[ks_k] = 0;
          for (long ks_cb = 0; ks_cb < ks_nred; ks_cb += ks_cs) {
            const long ks_ce = ks_cb + ks_cs < ks_nred ? ks_cb + ks_cs : ks_nred;
            long ks_i = ks_ib;

      """
    s += sumTiles(tile, from: "ks_cb", to: "ks_ce")
    s += "    }\n"
    s += sumRowsOut
    s += "  }\n  return 0;\n}\n"
    return s
  }

  /// Rows per register tile of the SIMD Sum kernels: enough independent chains per vector of
  /// reduced indices to hide the latency of a long formula (exp is a chain of 13 operations),
  /// without spilling the lane sums (rows x d of the 32 vector registers).
  /// Eight rows only when each row's pair work is small (operands of at most 16 components): at
  /// D = 64 eight rows were 17% faster than four but tripled the C compile time (6 s).
  var sumTile: Int {
    let pairWidth = graph.nodes.filter { $0.usesReduced && $0.usesOutput }
      .flatMap { $0.inputs.map { graph.nodes[$0].dim } }.max() ?? 1
    return d == 1 && vectorLoop && pairWidth <= 16 ? 8 : d <= 4 ? 4 : (d <= 8 ? 2 : 1)
  }

  /// The tile loops of the SIMD Sum kernels over the rows ks_i ..< ks_ie: tiles of `tile` rows,
  /// then (after 8-row tiles) at most one of 4, then single rows.
  func sumTiles(_ tile: Int, from: String, to: String) -> String {
    var s = tileLoop(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))", from: from, to: to)
    if tile > 4 {
      s += tileLoop(rows: 4, loop: "for (; ks_i + 4 <= ks_ie; ks_i += 4)", from: from, to: to)
    }
    if tile > 1 {
      s += tileLoop(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)", from: from, to: to)
    }
    return s
  }

  /// Output rows per cache block of the vectorized kernel (a multiple of every tile height).
  static let rowBlock = 64

  /// Bytes of reduced-variable data per chunk of the vectorized Sum kernel (whole sum blocks; at
  /// least one): the chunk stays in L2 while a block of output rows passes, and each row tile sets
  /// up its row values once per chunk instead of once per sum block.
  static let chunkBytes = 131072

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
    if let operands = sqDistOperands { return filteredSelectionKernel(x: operands.x, y: operands.y) }
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

  // MARK: Filtered selection kernel (float32 SqDist)

  /// The largest dimension of SqDist's operands the filtered selection kernel takes.
  static let maxFilteredDim = 256
  /// Output rows per tile of the filtered selection kernel.
  static let filteredRows = 8

  /// The operands (output variable, reduced variable) when the filtered selection kernel applies:
  /// a selection reduction in float32 arithmetic whose formula is SqDist of an output variable and
  /// a reduced variable of the same dimension (k-nearest neighbours, nearest-point distances).
  var sqDistOperands: (x: Variable, y: Variable)? {
    guard filteredSelection, shape == .simdSelect, plan.computePrecision == .float32, d == 1 else { return nil }
    let root = graph.nodes[graph.root]
    guard case .operation(let op) = root.kind, op.name == "SqDist", root.inputs.count == 2 else { return nil }
    var operands: [Variable] = []
    for id in root.inputs {
      guard case .variable(let v) = graph.nodes[id].kind else { return nil }
      operands.append(v)
    }
    guard operands[0].dim == operands[1].dim, operands[0].dim <= Self.maxFilteredDim else { return nil }
    func reduced(_ v: Variable) -> Bool { v.category != output && v.category != .parameter }
    if operands[0].category == output && reduced(operands[1]) { return (operands[0], operands[1]) }
    if operands[1].category == output && reduced(operands[0]) { return (operands[1], operands[0]) }
    return nil
  }

  /// The selection kernel for a float32 SqDist(x, y): a SIMD pass computes s~, SqDist in float
  /// arithmetic (GCC vector extensions, 16 lanes with AVX-512, fused multiply-adds allowed), for a
  /// tile of rows and a block of reduced indices, and compares it with a bound derived from the
  /// row's threshold (the best value, KMin's K-th). The bound is such that a value the reference
  /// computes (double, rounded once to float) can beat the threshold only if its s~ passes: with
  /// u = 2^-24, |s~ - S| <= (D + 3) u S + D 2^-150 and |ref - S| <= (D + 2) 2^-53 S (S the exact
  /// value), so the bound is th (1 + 2 (D + 8) u) + 2^-126 rounded up for `<` (and the mirror
  /// image for `>`); s~ = inf passes only an infinite bound, NaN never passes (the reference's NaN
  /// never changes an accumulator either). Each passing index, in order, is then recomputed in the
  /// reference's arithmetic and runs KeOps' update; the bound follows the tightened threshold. The
  /// results are therefore the reference's bit for bit (ties to the lowest index, KMin's order).
  func filteredSelectionKernel(x: Variable, y: Variable) -> String {
    let exact = Generator(plan: plan, forceExact: true)
    let acc = Accumulation(gen: exact, scheme: .directSum)
    let (thresholdIndex, comparison) = acc.threshold(0)
    let below = comparison == "<"
    let pass = below ? "<=" : ">="
    let count = acc.accCount
    let rowBlock = max(Self.filteredRows, min(64, 8192 / count) / Self.filteredRows * Self.filteredRows)
    let margin = "\(x.dim + 8) * 0x1p-23"
    var s = exactMacros
    s += """
      /* Filtered selection: s~ = SqDist in float SIMD against a bound of the threshold, then the
       * reference's arithmetic and KeOps' update for the indices that pass (see KernelSource.swift). */
      #if defined(__AVX512F__) || defined(__AVX__)
      #include <immintrin.h>
      #endif
      #if defined(__AVX512F__)
      enum { KS_L = 16 };
      #else
      enum { KS_L = 8 };
      #endif
      enum { KS_B = 256, KS_D = \(x.dim), KS_R = \(Self.filteredRows), KS_RB = \(rowBlock) };
      typedef float ks_vf __attribute__((vector_size(KS_L * 4)));
      typedef int ks_vi __attribute__((vector_size(KS_L * 4)));


      """
    if below {
      s += """
        /* The float s~ must not exceed for its value to possibly be below threshold th. */
        static inline float ks_bound(double ks_th) {
          const double ks_t = (ks_th * (1.0 + \(margin)) + 0x1p-126) * (1.0 + 0x1p-22);
          return ks_t >= 0x1.fffffep127 ? __builtin_inff() : (float)ks_t;
        }


        """
    } else {
      s += """
        /* The float s~ must reach for its value to possibly be above threshold th. */
        static inline float ks_bound(double ks_th) {
          if (ks_th == __builtin_inf()) return __builtin_inff();
          double ks_t = ks_th * (1.0 - \(margin)) - 0x1p-126;
          ks_t -= __builtin_fabs(ks_t) * 0x1p-22;
          return ks_t <= -0x1.fffffep127 ? -__builtin_inff() : (float)ks_t;
        }


        """
    }
    let predicate = below ? "_CMP_LE_OQ" : "_CMP_GE_OQ"
    s += """
      /* Bit l set when b[l] \(pass) t, for l < 16. */
      static inline uint32_t ks_pass_mask(const float *ks_b, float ks_t) {
      #if defined(__AVX512F__)
        return (uint32_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(ks_b), _mm512_set1_ps(ks_t), \(predicate));
      #elif defined(__AVX__)
        const __m256 ks_v = _mm256_set1_ps(ks_t);
        return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(ks_b), ks_v, \(predicate)))
          | (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(ks_b + 8), ks_v, \(predicate))) << 8;
      #else
        uint32_t ks_m = 0;
        for (int ks_l = 0; ks_l < 16; ks_l++) ks_m |= (uint32_t)(ks_b[ks_l] \(pass) ks_t) << ks_l;
        return ks_m;
      #endif
      }

      /* s~ for KS_R rows (row r at x + r * KS_D; rows from n_rows on repeat row 0) against the KS_B
       * points of a block of the scratch, into buf[r * KS_B + jj]; bit r of the result is set when
       * an s~ of row r passes T[r]. */
      __attribute__((optimize("fp-contract=fast")))
      static int ks_approx(const ks_t *ks_x, int ks_rows, const float *ks_y, const float *ks_T, float *ks_buf) {
        #pragma STDC FP_CONTRACT ON
        ks_vi ks_hit = {0};
        for (int ks_jj = 0; ks_jj < KS_B; ks_jj += KS_L) {
          ks_vf ks_s[KS_R];
          for (int ks_r = 0; ks_r < KS_R; ks_r++) ks_s[ks_r] = (ks_vf){0};
          for (int ks_k = 0; ks_k < KS_D; ks_k++) {
            ks_vf ks_yv;
            memcpy(&ks_yv, ks_y + ks_k * KS_B + ks_jj, sizeof ks_yv);
            for (int ks_r = 0; ks_r < KS_R; ks_r++) {
              const float ks_xr = ks_x[(ks_r < ks_rows ? ks_r : 0) * KS_D + ks_k];
              const ks_vf ks_d = ks_xr - ks_yv;
              ks_s[ks_r] += ks_d * ks_d;
            }
          }
          for (int ks_r = 0; ks_r < KS_R; ks_r++) {
            memcpy(ks_buf + ks_r * KS_B + ks_jj, &ks_s[ks_r], sizeof(ks_vf));
            ks_hit |= (ks_s[ks_r] \(pass) ks_T[ks_r]) & ((ks_vi){0} + (1 << ks_r));
          }
        }
        int ks_h = 0;
        for (int ks_l = 0; ks_l < KS_L; ks_l++) ks_h |= ks_hit[ks_l];
        return ks_h;
      }

      /* The reduced variable in float, in blocks of KS_B points (component k of point j at
       * [(j / KS_B) * KS_D * KS_B + k * KS_B + j % KS_B]), the last block padded with zeros. */
      long ks_scratch_bytes(long ks_nred) { return (ks_nred + KS_B - 1) / KS_B * KS_B * KS_D * (long)sizeof(float); }

      void ks_prepare(const void *const *ks_args, long ks_nred, void *ks_scratch) {
        float *ks_dst = (float *)ks_scratch;
        const ks_t *ks_src = (const ks_t *)ks_args[\(y.index)];
        const long ks_full = (ks_nred + KS_B - 1) / KS_B * KS_B;
        for (long ks_j = 0; ks_j < ks_full; ks_j++) {
          float *ks_p = ks_dst + ks_j / KS_B * KS_D * KS_B + ks_j % KS_B;
          for (int ks_k = 0; ks_k < KS_D; ks_k++) ks_p[ks_k * KS_B] = ks_j < ks_nred ? (float)ks_src[ks_j * KS_D + ks_k] : 0.0f;
        }
      }

      \(Self.signature) {
        (void)ks_nout;

      """
    s += argumentPointers
    s += """
        float ks_buf[KS_R * KS_B];
        double ks_accs[KS_RB * \(count)];
        for (long ks_ib = ks_i0; ks_ib < ks_i1; ks_ib += KS_RB) {
          const long ks_ie = ks_ib + KS_RB < ks_i1 ? ks_ib + KS_RB : ks_i1;
          if (ks_cancelled && ks_cancelled(ks_ctx)) return 1;
          for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {
            double *ks_acc = ks_accs + (ks_i - ks_ib) * \(count);

      """
    s += acc.initialization(indent: "      ")
    s += """
          }
          for (long ks_jb = 0; ks_jb < ks_nred; ks_jb += KS_B) {
            const long ks_n = ks_jb + KS_B < ks_nred ? KS_B : ks_nred - ks_jb;
            const float *ks_y = (const float *)ks_scratch + ks_jb * KS_D;
            for (long ks_it = ks_ib; ks_it < ks_ie; ks_it += KS_R) {
              const int ks_rows = ks_ie - ks_it < KS_R ? (int)(ks_ie - ks_it) : KS_R;
              float ks_T[KS_R];
              for (int ks_r = 0; ks_r < KS_R; ks_r++)
                ks_T[ks_r] = ks_r < ks_rows ? ks_bound(ks_accs[(ks_it - ks_ib + ks_r) * \(count) + \(thresholdIndex)]) : __builtin_nanf("");
              const int ks_hits = ks_approx(ks_a\(x.index) + ks_it * KS_D, ks_rows, ks_y, ks_T, ks_buf);
              if (!ks_hits) continue;
              for (int ks_r = 0; ks_r < ks_rows; ks_r++) {
                if (!(ks_hits >> ks_r & 1)) continue;
                const long ks_i = ks_it + ks_r;
                double *ks_acc = ks_accs + (ks_i - ks_ib) * \(count);
                const float *ks_b = ks_buf + ks_r * KS_B;
                float ks_th = ks_T[ks_r];
                for (long ks_c = 0; ks_c < ks_n; ks_c += 16) {
                  uint32_t ks_mask = ks_pass_mask(ks_b + ks_c, ks_th);
                  if (ks_n - ks_c < 16) ks_mask &= (1u << (ks_n - ks_c)) - 1;
                  while (ks_mask) {
                    const long ks_jj = ks_c + __builtin_ctz(ks_mask);
                    ks_mask &= ks_mask - 1;
                    if (!(ks_b[ks_jj] \(pass) ks_th)) continue;
                    const long ks_j = ks_jb + ks_jj;

      """
    // The reduced point is read from the block in the scratch (the same floats, already in cache).
    s += exact.emit(graph.root, row: 0, indent: "              ").replacingOccurrences(
      of: "ks_a\(y.index)[ks_j * \(y.dim) + k]", with: "ks_y[(k) * KS_B + ks_jj]")
    s += acc.update(indent: "              ")
    s += """
                    ks_th = ks_bound(ks_acc[\(thresholdIndex)]);
                  }
                }
              }
            }
          }
          for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {
            const double *ks_acc = ks_accs + (ks_i - ks_ib) * \(count);

      """
    s += acc.finish(indent: "      ")
    s += "    }\n  }\n  return 0;\n}\n"
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

      """
    s += shiftState(tile: tile, sums: sums)
    s += """
        for (long ks_ib = ks_i0; ks_ib < ks_i1; ks_ib += KS_RB) {
          const long ks_ie = ks_ib + KS_RB < ks_i1 ? ks_ib + KS_RB : ks_i1;
          if (ks_cancelled && ks_cancelled(ks_ctx)) return 1;

      """
    s += shiftRowReset(sums: sums, indent: "    ")
    s += blockLoopHead
    s += shiftTile(rows: tile, loop: "for (; ks_i + \(tile) <= ks_ie; ks_i += \(tile))")
    if tile > 1 {
      s += shiftTile(rows: 1, loop: "for (; ks_i < ks_ie; ks_i++)")
    }
    s += "    }\n"
    s += shiftRowsOut(sums: sums, exactCall: "ks_exact_rows(ks_args, ks_nout, ks_nred, ks_i, ks_i + 1, ks_scratch, ks_out, 0, 0);")
    s += "  }\n  return 0;\n}\n"
    return s
  }

  /// The end of a row chunk of the SIMD Sum kernels (dense and block-sparse): each row's
  /// accumulators rounded to the data type into the output.
  var sumRowsOut: String {
    "    for (long ks_r = 0; ks_r < ks_ie - ks_ib; ks_r++)\n"
      + "      for (int ks_k = 0; ks_k < \(d); ks_k++) ks_out[(ks_ib + ks_r) * \(rawDim) + ks_k] = KS_RD((double)ks_acc[ks_r * \(d) + ks_k]);\n"
  }

  /// The row state of the max-shift-exp kernels (dense and block-sparse): the tile's value
  /// buffer and, per row of a block of KS_RB rows, m, the sums and the non-finite flag.
  func shiftState(tile: Int, sums: Int) -> String {
    """
      enum { KS_RB = \(Self.rowBlock) };
      ks_t ks_buf[\(tile * d) * KS_B];
      ks_t ks_am[KS_RB];
      ks_acc_t ks_as[KS_RB * \(max(1, sums))];
      int ks_bad[KS_RB];

    """
  }

  /// The start of a row block of the max-shift-exp kernels: every row's state reset.
  func shiftRowReset(sums: Int, indent: String) -> String {
    """
    \(indent)for (int ks_r = 0; ks_r < KS_RB; ks_r++) {
    \(indent)  ks_am[ks_r] = -(ks_t)__builtin_inf(); ks_bad[ks_r] = 0;
    \(indent)  for (int ks_k = 0; ks_k < \(max(1, sums)); ks_k++) ks_as[ks_r * \(max(1, sums)) + ks_k] = 0;
    \(indent)}

    """
  }

  /// The end of a row chunk of the max-shift-exp kernels (dense and block-sparse): each row's
  /// (m, s) written out, or the row recomputed by `exactCall` when a value is not finite.
  func shiftRowsOut(sums: Int, exactCall: String) -> String {
    """
        for (long ks_i = ks_ib; ks_i < ks_ie; ks_i++) {
          const long ks_r = ks_i - ks_ib;
          const ks_acc_t *ks_s = ks_as + ks_r * \(max(1, sums));
          int ks_ok = !ks_bad[ks_r] && isfinite(ks_am[ks_r]);
          for (int ks_k = 0; ks_k < \(sums); ks_k++) ks_ok = ks_ok && isfinite(ks_s[ks_k]);
          if (!ks_ok) {
            \(exactCall)
            continue;
          }
          ks_out[ks_i * \(rawDim)] = KS_RD((double)ks_am[ks_r]);
          for (int ks_k = 0; ks_k < \(sums); ks_k++) ks_out[ks_i * \(rawDim) + 1 + ks_k] = KS_RD((double)ks_s[ks_k]);
        }

    """
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
  func tileLoop(rows: Int, loop: String, from: String, to: String) -> String {
    let outVars = graph.variables.filter { $0.category == output }
    let rowRange = 0..<rows
    var pad = "      "
    var s = "\(pad)\(loop) {\n"
    for r in rowRange {
      for v in outVars {
        s += "\(pad)  ks_t u_a\(v.index)_\(r)[\(v.dim)]; memcpy(u_a\(v.index)_\(r), ks_a\(v.index) + (ks_i + \(r)) * \(v.dim), sizeof u_a\(v.index)_\(r));\n"
      }
      for id in 0..<graph.nodes.count where graph.nodes[id].usesOutput && !graph.nodes[id].usesReduced {
        s += unrolled(emit(id, row: r, indent: pad + "  "))
      }
    }
    // The sum blocks of [from, to) (KS_BS indices each): the row values above are set up once for all.
    s += "\(pad)  for (long ks_jb = \(from); ks_jb < \(to); ks_jb += ks_bs) {\n"
    s += "\(pad)    const long ks_je = ks_jb + ks_bs < \(to) ? ks_jb + ks_bs : \(to);\n"
    pad += "  "
    let sums = rowRange.flatMap { r in (0..<d).map { "ks_sum_\(r)_\($0)" } }
    if vectorLoop {
      // Whole vectors of reduced indices in explicit SIMD code, the rest in the scalar loop below.
      s += vectorPairLoop(rows: rows, pad: pad + "  ")
      s += "\(pad)  ks_sum_t \(sums.map { "\($0) = ks_vhsum(ks_vs_\($0.dropFirst(7)))" }.joined(separator: ", "));\n"
    } else {
      s += "\(pad)  ks_sum_t \(sums.map { "\($0) = 0" }.joined(separator: ", "));\n"
    }
    // The indices left after the vector loop (fewer than KS_W): with the vector loop, one plain
    // loop per row, the same code whatever the tile, so a row's value does not depend on the tile
    // it falls in (in one loop for the tile's rows, the compiler fused the operations of some
    // rows otherwise than a lone row's: results depended on the thread count); vectorizing and
    // unrolling these loops would only cost compile time. Without the vector loop, the
    // auto-vectorized loop over every index for all rows at once.
    let groups: [[Int]] = vectorLoop ? rowRange.map { [$0] } : [Array(rowRange)]
    let code = { (c: String) in self.vectorLoop ? c : self.unrolled(c) }
    for rows in groups {
      if !vectorLoop { s += "\(pad)  #pragma omp simd reduction(+: \(sums.joined(separator: ", ")))\n" }
      s += "\(pad)  for (long ks_j = \(vectorLoop ? "ks_jv" : "ks_jb"); ks_j < ks_je; ks_j++) {\n"
      for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && !graph.nodes[id].usesOutput {
        s += code(emit(id, row: 0, indent: pad + "    "))
      }
      for r in rows {
        for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && graph.nodes[id].usesOutput {
          s += code(emit(id, row: r, indent: pad + "    "))
        }
      }
      for r in rows {
        s += "\(pad)    " + (0..<d).map { "ks_sum_\(r)_\($0) += (ks_sum_t)\(value(graph.root, "\($0)", row: r));" }
          .joined(separator: " ") + "\n"
      }
      s += "\(pad)  }\n"
    }
    for r in rowRange {
      s += "\(pad)  " + (0..<d).map { "ks_acc[(ks_i - ks_ib + \(r)) * \(d) + \($0)] += (ks_acc_t)ks_sum_\(r)_\($0);" }
        .joined(separator: " ") + "\n"
    }
    s += "\(pad)}\n"
    s += "\(pad.dropLast(2))}\n"
    return s
  }

  // MARK: Explicit-vector pair loop

  /// Operations the explicit-vector pair loop of the Sum kernel evaluates: elementwise ones (a
  /// dimension-1 operand broadcasts) and the component sums.
  static let vectorOperations: Set<String> = [
    "Minus", "Add", "Subtract", "Mult", "Divide", "Square", "Inv", "Exp", "Sqrt", "Abs", "SqDist", "SqNorm2", "Sum",
  ]

  /// True when the Sum kernel runs its pair loop in explicit vector code (GCC vector extensions,
  /// AVX-512 intrinsics where the CPU has them): every node that depends on the reduced index is a
  /// variable or a `vectorOperations` operation with matching dimensions, and the lane sums are in
  /// the compute type. Other plans keep the auto-vectorized scalar loop.
  var vectorLoop: Bool {
    guard shape == .simdSum else { return false }
    let accType = plan.accumulatorPrecision == .float64 ? "double" : "float"
    guard (plan.sumScheme == .blockSum ? t : accType) == t else { return false }
    for n in graph.nodes where n.usesReduced {
      switch n.kind {
      case .variable: continue
      case .real: return false
      case .operation(let op):
        guard Self.vectorOperations.contains(op.name), n.params.isEmpty else { return false }
        let dims = n.inputs.map { graph.nodes[$0].dim }
        switch op.name {
        case "SqDist":
          guard dims.count == 2, dims[0] == dims[1] || dims.contains(1), n.dim == 1 else { return false }
        case "SqNorm2", "Sum":
          guard dims.count == 1, n.dim == 1 else { return false }
        default:
          guard dims.allSatisfy({ $0 == n.dim || $0 == 1 }) else { return false }
        }
      }
    }
    return true
  }

  /// The C expression (a vector when the node depends on the reduced index, else a scalar that
  /// broadcasts) of component `k` of node `id` in tile row `r`.
  func vectorValue(_ id: Int, _ k: Int, row r: Int) -> String {
    let n = graph.nodes[id]
    let k = n.dim == 1 ? 0 : k
    guard n.usesReduced else { return "(\(value(id, "\(k)", row: r)))" }
    if case .variable(let v) = n.kind {
      if v.dim == 1 { return "ks_vload(ks_a\(v.index) + ks_j)" }
      return "ks_vload(ks_s\(v.index) + \(k) * ks_nred + ks_j)"
    }
    return "w_\(id)_\(n.usesOutput ? r : 0)_\(k)"
  }

  /// The statements computing every component of pair node `id` for tile rows 0 ..< rows: an Exp
  /// runs each step of the exp for all rows at once (`ks_vexp_rows`), a sum of squares each
  /// component for all rows (`sumOfSquares`), other nodes row after row.
  func vectorStatements(_ id: Int, rows: Int, pad: String) -> String {
    let n = graph.nodes[id]
    guard rows > 1, case .operation(let op) = n.kind, ["Exp", "SqDist", "SqNorm2"].contains(op.name) else {
      return (0..<rows).map { vectorStatements(id, row: $0, pad: pad) }.joined()
    }
    if op.name != "Exp" { return sumOfSquares(id, rows: 0..<rows, pad: pad) }
    let (base, scale) = expArgument(n.inputs[0])
    var s = ""
    for k in 0..<n.dim {
      let inputs = (0..<rows).map { vectorValue(base, k, row: $0) }.joined(separator: ", ")
      s += "\(pad)ks_v ks_e_\(id)_\(k)[\(rows)]; { const ks_v ks_y[\(rows)] = {\(inputs)}; "
        + "ks_vexp_rows(\(rows), ks_e_\(id)_\(k), ks_y, (ks_t)\(cDoubleLiteral(scale)), \(nonNegative(base) ? 1 : 0)); }\n"
      s += "\(pad)" + (0..<rows).map { "const ks_v w_\(id)_\($0)_\(k) = ks_e_\(id)_\(k)[\($0)];" }.joined(separator: " ") + "\n"
    }
    return s
  }

  /// `SqDist` or `SqNorm2` node `id` for tile rows `rows`, component by component, each for every
  /// row: the rows' sums are independent chains (a D = 64 distance is a chain of 64 fmas per row);
  /// each row adds in component order, whatever the rows.
  func sumOfSquares(_ id: Int, rows: Range<Int>, pad: String) -> String {
    let n = graph.nodes[id]
    let name = { (r: Int) in "w_\(id)_\(n.usesOutput ? r : 0)_0" }
    let a = { (i: Int, k: Int, r: Int) in self.vectorValue(n.inputs[i], k, row: r) }
    let count = n.inputs.map { graph.nodes[$0].dim }.max() ?? 1
    // (b - a)^2 = (a - b)^2 exactly; the vector first lets a scalar be a broadcast memory operand.
    let squareOnly = n.inputs.count == 1
    let scalarFirst = !squareOnly && !graph.nodes[n.inputs[0]].usesReduced
    func term(_ k: Int, _ r: Int) -> String {
      squareOnly ? a(0, k, r) : scalarFirst ? "\(a(1, k, r)) - \(a(0, k, r))" : "\(a(0, k, r)) - \(a(1, k, r))"
    }
    var s = "\(pad)ks_v " + rows.map(name).joined(separator: ", ") + ";\n"
    for k in 0..<max(1, count) {
      s += "\(pad){ ks_v ks_d;" + rows.map { " ks_d = \(term(k, $0)); \(name($0)) \(k == 0 ? "=" : "+=") ks_d * ks_d;" }.joined() + " }\n"
    }
    return s
  }

  /// True when every value of node `id` is >= 0 or NaN (a sum of squares, a square).
  func nonNegative(_ id: Int) -> Bool {
    guard case .operation(let op) = graph.nodes[id].kind else { return false }
    return ["SqDist", "SqNorm2", "Square"].contains(op.name)
  }

  /// The statements computing every component of operation node `id` for tile row `r`.
  func vectorStatements(_ id: Int, row r: Int, pad: String) -> String {
    let n = graph.nodes[id]
    guard case .operation(let op) = n.kind else { return "" }
    let name = { (k: Int) in "w_\(id)_\(n.usesOutput ? r : 0)_\(k)" }
    let a = { (i: Int, k: Int) in self.vectorValue(n.inputs[i], k, row: r) }
    switch op.name {
    case "SqDist", "SqNorm2":
      return sumOfSquares(id, rows: r..<(r + 1), pad: pad)
    case "Sum":
      let count = graph.nodes[n.inputs[0]].dim
      return "\(pad)ks_v \(name(0)) = " + (0..<count).map { a(0, $0) }.joined(separator: " + ") + ";\n"
    default:
      var s = ""
      for k in 0..<n.dim {
        let e: String
        switch op.name {
        case "Minus": e = "-\(a(0, k))"
        case "Add": e = "\(a(0, k)) + \(a(1, k))"
        case "Subtract": e = "\(a(0, k)) - \(a(1, k))"
        case "Mult": e = "\(a(0, k)) * \(a(1, k))"
        case "Divide": e = "\(a(0, k)) / \(a(1, k))"
        case "Square": e = "\(a(0, k)) * \(a(0, k))"
        case "Inv": e = "(ks_t)1 / \(a(0, k))"
        case "Exp":
          let (base, scale) = expArgument(n.inputs[0])
          e = "ks_vexp_s(\(vectorValue(base, k, row: r)), (ks_t)\(cDoubleLiteral(scale)), \(nonNegative(base) ? 1 : 0))"
        case "Sqrt": e = "ks_vsqrt(\(a(0, k)))"
        case "Abs": e = "ks_vabs(\(a(0, k)))"
        default: preconditionFailure("no vector form for \(op.name)")
        }
        s += "\(pad)const ks_v \(name(k)) = \(e);\n"
      }
      return s
    }
  }

  /// The argument of an Exp as (node, s) with the argument = s * node exactly: Minus and products
  /// or quotients by constant powers of two are peeled off (|s| between 2^-4 and 2^4), so the exp
  /// takes s into its constants (`ks_vexp_s`) instead of a multiplication per pair. Exact: scaling by
  /// a power of two commutes with rounding, so the result is exp of the computed argument.
  func expArgument(_ id: Int) -> (Int, Double) {
    var id = id, s = 1.0
    func constant(_ c: Int) -> Double? {
      let n = graph.nodes[c]
      guard n.dim == 1, !n.usesOutput, !n.usesReduced else { return nil }
      switch n.kind {
      case .real(let x): return x
      case .operation(let op) where op.name == "IntCst" && n.params.count == 1: return Double(n.params[0])
      default: return nil
      }
    }
    func powerOfTwo(_ x: Double) -> Bool { x.isFinite && x != 0 && x.significand == 1 && abs(x.exponent) <= 4 }
    peel: while case .operation(let op) = graph.nodes[id].kind {
      let n = graph.nodes[id]
      switch op.name {
      case "Minus":
        s = -s; id = n.inputs[0]
      case "Mult", "Divide":
        let dims = n.inputs.map { graph.nodes[$0].dim }
        if let c = constant(n.inputs[1]), powerOfTwo(c), dims[0] == n.dim, powerOfTwo(s * c) {
          s = op.name == "Mult" ? s * c : s / c; id = n.inputs[0]
        } else if op.name == "Mult", let c = constant(n.inputs[0]), powerOfTwo(c), dims[1] == n.dim, powerOfTwo(s * c) {
          s *= c; id = n.inputs[1]
        } else {
          break peel
        }
      default:
        break peel
      }
    }
    return (id, s)
  }

  /// The explicit-vector loop over whole vectors of reduced indices from `ks_jb`: declares the
  /// lane sums `ks_vs_<row>_<component>` and leaves `ks_jv` at the first index it did not take.
  func vectorPairLoop(rows: Int, pad: String) -> String {
    let sums = (0..<rows).flatMap { r in (0..<d).map { "ks_vs_\(r)_\($0)" } }
    var s = "\(pad)ks_v \(sums.map { "\($0) = (ks_v){0}" }.joined(separator: ", "));\n"
    s += "\(pad)long ks_jv = ks_jb;\n"
    s += "\(pad)for (; ks_jv + KS_W <= ks_je; ks_jv += KS_W) {\n"
    s += "\(pad)  const long ks_j = ks_jv;\n"
    for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && !graph.nodes[id].usesOutput {
      s += vectorStatements(id, row: 0, pad: pad + "  ")
    }
    // Node by node, each for every row: the rows' independent chains interleave.
    for id in 0..<graph.nodes.count where graph.nodes[id].usesReduced && graph.nodes[id].usesOutput {
      s += vectorStatements(id, rows: rows, pad: pad + "  ")
    }
    for r in 0..<rows {
      s += "\(pad)  " + (0..<d).map { "ks_vs_\(r)_\($0) += \(vectorValue(graph.root, $0, row: r));" }
        .joined(separator: " ") + "\n"
    }
    s += "\(pad)}\n"
    return s
  }

  /// The vector type of the explicit-vector loop and its helpers: 64-byte vectors with AVX-512
  /// (exp by `vscalefps`/`vrndscaleps`, no bit tricks), 32 with AVX, 16 otherwise (SSE, NEON),
  /// where exp is the bit-trick `ks_expf`/`ks_exp` written on vectors. Same accuracy (at most 2
  /// ulp, `vectorizedNotes`).
  var vectorTypes: String {
    let f = t == "float"
    let sfx = f ? "ps" : "pd"
    let bits = f ? 23 : 52
    let intType = f ? "int32_t" : "int64_t"
    let uintType = f ? "uint32_t" : "uint64_t"
    let lit = { (x: String) in f ? x + "f" : x }
    let m = f ? "__m512" : "__m512d"
    // Cody-Waite split of ln 2 and the polynomial of ks_expf / ks_exp (Horner, highest first).
    let poly =
      f
      ? ["1.9875691500e-4f", "1.3981999507e-3f", "8.3334519073e-3f", "4.1665795894e-2f", "1.6666665459e-1f",
        "5.0000001201e-1f", "1.0f", "1.0f"]
      : ["0x1.ad7f3bd0f3276p-26", "0x1.28ad9b8bba56ep-22", "0x1.71df25b4eb8b1p-19", "0x1.a01999e25c2cdp-16",
        "0x1.a01a012a0e6a9p-13", "0x1.6c16c18438b31p-10", "0x1.1111111127d11p-7", "0x1.555555555083ep-5",
        "0x1.55555555554f9p-3", "0x1.000000000000ap-1", "1.0", "1.0"]
    let horner = poly.dropFirst().map { "  p = p * r + (ks_t)\($0);\n" }.joined()
    let clamp = f ? "104.0f" : "746.0"
    let shifter = f ? "12583166.0f" : "6755399441057790.0"
    // 2^(i/16), correctly rounded, for the AVX-512 exp.
    let table =
      f
      ? ["0x1.000000p+0f", "0x1.0b5586p+0f", "0x1.172b84p+0f", "0x1.2387a6p+0f", "0x1.306fe0p+0f", "0x1.3dea64p+0f",
        "0x1.4bfdaep+0f", "0x1.5ab07ep+0f", "0x1.6a09e6p+0f", "0x1.7a1148p+0f", "0x1.8ace54p+0f", "0x1.9c4918p+0f",
        "0x1.ae89fap+0f", "0x1.c199bep+0f", "0x1.d5818ep+0f", "0x1.ea4afap+0f"]
      : ["0x1.0000000000000p+0", "0x1.0b5586cf9890fp+0", "0x1.172b83c7d517bp+0", "0x1.2387a6e756238p+0",
        "0x1.306fe0a31b715p+0", "0x1.3dea64c123422p+0", "0x1.4bfdad5362a27p+0", "0x1.5ab07dd485429p+0",
        "0x1.6a09e667f3bcdp+0", "0x1.7a11473eb0187p+0", "0x1.8ace5422aa0dbp+0", "0x1.9c49182a3f090p+0",
        "0x1.ae89f995ad3adp+0", "0x1.c199bdd85529cp+0", "0x1.d5818dcfba487p+0", "0x1.ea4afa2a490dap+0"]
    let tableLookup =
      f
      ? "    const __m512 T = _mm512_permutexvar_ps(_mm512_castps_si512(t[u]), _mm512_setr_ps(\(table.joined(separator: ", "))));"
      : "    const __m512d T = _mm512_permutex2var_pd(_mm512_setr_pd(\(table[0..<8].joined(separator: ", "))), "
        + "_mm512_castpd_si512(t[u]), _mm512_setr_pd(\(table[8..<16].joined(separator: ", "))));"
    // q(r) = sum_{j=1..n} s^j r^(j-1) / j!, Horner from the top.
    let degree = f ? 3 : 7
    let factorials = (0...degree).map { j in (1...max(1, j)).reduce(1.0) { $0 * Double($1) } }
    let top = "_mm512_set1_\(sfx)(\(lit("1.0")) / (ks_t)\(Int(factorials[degree])) * \((0..<degree).map { _ in "s" }.joined(separator: " * ")))"
    var taylor = ""
    for j in stride(from: degree - 1, through: 1, by: -1) {
      let coefficient = "_mm512_set1_\(sfx)(\(lit("1.0")) / (ks_t)\(Int(factorials[j])) * \((0..<j).map { _ in "s" }.joined(separator: " * ")))"
      taylor += "  KS_ROWS(n) q[u] = _mm512_fmadd_\(sfx)(\(j == degree - 1 ? top : "q[u]"), r[u], \(coefficient));\n"
    }
    let reduction = f ? ("-0.693359375f", "2.12194440e-4f") : ("-6.93147180369123816490e-01", "-1.90821492927058770002e-10")
    return """

      /* Explicit vectors for the pair loop: KS_W lanes of ks_t. */
      #if defined(__AVX512F__)
      #include <immintrin.h>
      #define KS_VBYTES 64
      #elif defined(__AVX__)
      #define KS_VBYTES 32
      #else
      #define KS_VBYTES 16
      #endif
      enum { KS_W = KS_VBYTES / (int)sizeof(ks_t) };
      typedef ks_t ks_v __attribute__((vector_size(KS_VBYTES)));
      typedef \(intType) ks_vi __attribute__((vector_size(KS_VBYTES)));
      typedef \(uintType) ks_vu __attribute__((vector_size(KS_VBYTES)));
      static inline ks_v ks_vload(const ks_t *p) { ks_v v; memcpy(&v, p, sizeof v); return v; }
      /* The lanes' sum by a pairwise tree: lane l plus lane l + KS_W/2, and so on. */
      static inline ks_t ks_vhsum(ks_v v) {
      #if defined(__AVX512F__)
        return _mm512_reduce_add_\(sfx)((\(m))v); /* this tree in registers */
      #else
        ks_t s[KS_W]; memcpy(s, &v, sizeof s);
        _Pragma("GCC unroll 8") for (int w = KS_W / 2; w > 0; w /= 2)
          _Pragma("GCC unroll 8") for (int l = 0; l < w; l++) s[l] += s[l + w];
        return s[0];
      #endif
      }
      /* The sign bit in every lane (an integer constant: 0.0 + -0.0 would be +0.0). */
      #define KS_VSIGN ((ks_vi){0} + (\(intType))((\(uintType))1 << \(f ? 31 : 63)))
      static inline ks_v ks_vabs(ks_v x) { return (ks_v)((ks_vi)x & ~KS_VSIGN); }
      static inline ks_v ks_vsqrt(ks_v x) {
      #if defined(__AVX512F__)
        return (ks_v)_mm512_sqrt_\(sfx)((\(m))x);
      #else
        for (int l = 0; l < KS_W; l++) x[l] = \(f ? "__builtin_sqrtf" : "__builtin_sqrt")(x[l]);
        return x;
      #endif
      }
      /* exp(s y) for a constant s = +-2^e (ks_vexp_s(y, 1, 0) is exp), at most 2 ulp. ks_vexp_rows
       * takes n <= 8 vectors (one per tile row) and runs each step for all of them (KS_ROWS) before
       * the next, so the rows' chains of 13 dependent operations overlap. nonneg: y >= 0 or NaN (a
       * sum of squares), so the clamp needs one bound.
       * AVX-512: s y = (k/16) ln 2 + s r with k = round(16 s y / ln 2) (|s y| clamped to \(clamp), NaN
       * passes): t = 1.5 2^\(f ? 19 : 48) + s y / ln 2 rounds to a multiple of 1/16, so kh = t - 1.5 2^\(f ? 19 : 48) = k/16
       * and the low 4 bits of t are k mod 16; r from two Cody-Waite steps (exact products),
       * 2^(k mod 16 / 16) from a table of 16 values (`vpermp`), e^(s r) = 1 + s r q(r) by a Taylor polynomial of degree \(f ? 3 : 7)
       * (truncation < 0.02 ulp on |s r| <= ln2/32), T e^(s r) = T + (T r) q in one fma, and
       * 2^floor(kh) by vscalefp (gradual underflow rounds once). s only scales constants.
       * Elsewhere: the bit-trick exp of \(f ? "ks_expf" : "ks_exp") on vectors, of s y (exact). */
      #define KS_ROWS(n) _Pragma("GCC unroll 8") for (int u = 0; u < (n); u++)
      #if !defined(__AVX512F__)
      static inline ks_v ks_vexp_1(ks_v y, const ks_t s) {
        const ks_v x = y * s;
        const ks_vi sign = KS_VSIGN;
        const ks_vi big = (ks_vi)((ks_v)((ks_vi)x & ~sign) > ((ks_v){0} + (ks_t)\(clamp)));
        const ks_vi bound = ((ks_vi)x & sign) | (ks_vi)((ks_v){0} + (ks_t)\(clamp));
        const ks_v c = (ks_v)(((ks_vi)x & ~big) | (bound & big));
        union { ks_v f; ks_vu u; } t, s1, s2;
        t.f = c * (ks_t)\(lit("1.4426950408889634")) + (ks_t)\(shifter);
        const ks_v kf = t.f - (ks_t)\(shifter);
        ks_v r = kf * (ks_t)\(reduction.0) + c;
        r = kf * (ks_t)\(reduction.1) + r;
        ks_v p = (ks_v){0} + (ks_t)\(poly[0]);
      \(horner)  s1.u = (t.u >> 1) << \(bits);
        s2.u = (t.u << \(bits)) - s1.u;
        return p * s1.f * s2.f;
      }
      #endif
      static inline void ks_vexp_rows(const int n, ks_v *o, const ks_v *y, const ks_t s, const int nonneg) {
      #if defined(__AVX512F__)
        const ks_t as = s < 0 ? -s : s;
        \(m) c[8], t[8], kh[8], r[8], q[8];
        /* min (and max) with y second: a NaN y passes (vrangep would return the bound) */
        KS_ROWS(n) c[u] = nonneg ? _mm512_min_\(sfx)(_mm512_set1_\(sfx)((ks_t)\(clamp) / as), (\(m))y[u])
                                 : _mm512_min_\(sfx)(_mm512_set1_\(sfx)((ks_t)\(clamp) / as), _mm512_max_\(sfx)(_mm512_set1_\(sfx)(-(ks_t)\(clamp) / as), (\(m))y[u]));
        KS_ROWS(n) t[u] = _mm512_fmadd_\(sfx)(c[u], _mm512_set1_\(sfx)(\(lit("1.4426950408889634")) * s), _mm512_set1_\(sfx)(\(lit(f ? "786432.0" : "422212465065984.0"))));
        KS_ROWS(n) kh[u] = _mm512_sub_\(sfx)(t[u], _mm512_set1_\(sfx)(\(lit(f ? "786432.0" : "422212465065984.0"))));
        KS_ROWS(n) r[u] = _mm512_fmadd_\(sfx)(kh[u], _mm512_set1_\(sfx)(\(reduction.0) / s), c[u]);
        KS_ROWS(n) r[u] = _mm512_fmadd_\(sfx)(kh[u], _mm512_set1_\(sfx)(\(reduction.1) / s), r[u]);
      \(taylor)  KS_ROWS(n) {
      \(tableLookup)
          o[u] = (ks_v)_mm512_scalef_\(sfx)(_mm512_fmadd_\(sfx)(_mm512_mul_\(sfx)(T, r[u]), q[u], T), kh[u]);
        }
      #else
        (void)nonneg;
        KS_ROWS(n) o[u] = ks_vexp_1(y[u], s);
      #endif
      }
      static inline ks_v ks_vexp_s(ks_v y, const ks_t s, const int nonneg) { ks_v o; ks_vexp_rows(1, &o, &y, s, nonneg); return o; }


      """
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
/// A thin adapter over the shared `AccumulatorEmitter` (the CUDA engine uses the same one).
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

  /// The C dialect: every value a double, `KS_RT`/`KS_RA`/`KS_RD` round to the compute,
  /// accumulator and data precisions; arrays too large for the stack are thread-local statics.
  static let dialect = AccumulatorDialect(
    accumulatorType: "double", valueType: "double", outputType: "double", accumulatorRounding: "KS_RA",
    temporaryRounding: "KS_RT", outputRounding: "KS_RD", castsBetweenTypes: false,
    largeArrayStorage: "static _Thread_local ", largeArrayThreshold: Generator.maxStackArray)

  var emitter: AccumulatorEmitter {
    AccumulatorEmitter(kind: kind, d: d, scheme: scheme, dialect: Self.dialect, periodicFlush: periodicFlush)
  }

  /// Component `k` (a C expression) of the formula value, as a double.
  func x(_ k: String) -> String { component?(k) ?? "((double)\(gen.value(gen.graph.root, k, row: 0)))" }

  /// Doubles in the accumulator of `kind` for a formula of dimension `d`.
  static func count(_ kind: ReductionKind, d: Int) -> Int { AccumulatorEmitter.count(kind, d: d) }

  var accCount: Int { Self.count(kind, d: d) }

  /// For the selection reductions: the accumulator entry a value of component `k` must beat to
  /// change anything (the best value, or KMin's K-th), and the comparison that beats it.
  func threshold(_ k: Int) -> (index: Int, comparison: String) { emitter.threshold(k) }

  func declarations(indent: String) -> String {
    emitter.declaration(indent: indent) + initialization(indent: indent)
  }

  /// Sets `ks_acc` (declared by the caller) to KeOps' initial values; declares the temporaries.
  func initialization(indent: String) -> String {
    emitter.initialValues(indent: indent) + emitter.temporaries(indent: indent)
  }

  /// KeOps' (m, s) merge of `src` into `dst` with rounding macro `r`.
  func merge(into dst: String, from src: (String) -> String, round r: String, indent: String) -> String {
    emitter.merge(into: dst, type: "double", from: src, round: r, indent: indent)
  }

  func flush(indent: String) -> String { emitter.flush(indent: indent) }

  func update(indent: String) -> String { emitter.update(term: x, indent: indent) }

  /// Writes the row's output; `finalOperation: false` skips block_sum's last fold, as KeOps does
  /// for rows no block of `ranges` covers.
  func finish(indent: String, finalOperation: Bool = true) -> String {
    var s = scheme == .blockSum && finalOperation ? flush(indent: indent) : ""
    s += "\(indent){\n\(indent)  double *ks_o = ks_out + ks_i * \(gen.rawDim);\n"
    s += emitter.finalize(into: "ks_o", indent: indent + "  ")
    s += "\(indent)}\n"
    return s
  }
}
