import ArrayIO
import Glibc
import FormulaLanguage
import KernelEngines

/// The two CUDA map-reduce schemes of KeOps (keops-semantics.md section 6.4).
public enum CUDAScheme: String, Sendable, Hashable, CaseIterable {
  /// One thread per output row; reduced rows staged through shared memory one tile at a time.
  case oneD = "1D"
  /// Blocks tile both the output rows and the reduced rows; each block writes partial results and a
  /// second kernel merges them with the reduction's merge rule.
  case twoD = "2D"
}

/// The CUDA C++ source of one plan, with what the launcher needs to know about it.
///
/// Generation is a pure function of the validated tree and the plan's options: the text contains
/// only numbers, fixed identifiers, the operation table's `cTemplate` strings and the code its
/// block emitters (`Operation.cEmit`) write, both instantiated with the compute type (`ks_t`,
/// `float` or `double`), so the GPU and the CPU engines share one definition of every operation.
/// No user string (alias name, formula text) is ever pasted, except the tree's own description
/// inside a comment.
///
/// Every source defines the same three `extern "C" __global__` entry points (`EntryPoint`), and a
/// block-sparse source (`generate(for:blockSparse:)`) a fourth, `ks_reduce_ranges`:
/// ```c
/// // 1D: output rows i0 ..< i1, one thread each, grid = ceil((i1 - i0) / ks_block), block = ks_block.
/// ks_reduce_1d(ks_t *out, long long i0, long long i1, long long nred, const ks_t *a0, ..., const ks_t *aN)
/// // 2D: grid = (ceil(nout / ks_block), jblocks), block = ks_block; block (x, y) folds reduced rows
/// // y*jchunk ..< min(nred, (y+1)*jchunk) into partial[(y*nout + i)*ks_acc_dim ...].
/// ks_reduce_2d(ks_acc_t *partial, long long nout, long long nred, long long jchunk, const ks_t *a0, ...)
/// // 2D, second pass: merges the jblocks partials of each row in order, writes the output.
/// ks_finish_2d(ks_t *out, const ks_acc_t *partial, long long nout, long long jblocks)
/// // ranges= (1D): grid = table rows, block = ks_block; row b of the table (3 values) is
/// // (output block or -1, first row, end row), at most ks_block rows (`CUDARangesTable`).
/// ks_reduce_ranges(ks_t *out, const long long *table, const long long *slices, const long long *redranges,
///                  long long nred, const ks_t *a0, ..., const ks_t *aN)
/// ```
/// The first parameter is always the buffer the kernel writes. Argument pointers follow in slot
/// order; slots the formula does not use are passed as null. Output rows hold
/// `plan.formula.rawDimension` values of type `ks_t`, KeOps' FinalizeOutput.
///
/// Accumulation is the shared `AccumulatorEmitter` in the CUDA dialect, following the reference
/// engine (`Accumulator`): same update rules, strict
/// comparisons (lowest index wins ties), stable KMin insertion, the (m, s) merge of
/// Max_SumShiftExp, `block_sum` with KeOps' CPU period (`n < 10 ? 100 : floor(sqrt(n))` terms,
/// counted per thread), Kahan compensation in the compute type, and dtype_acc (float16 is emulated
/// by rounding a float after every accumulator operation). In the 2D scheme each block starts from
/// the initial value and the partials are merged in j order in the accumulator type (Kahan merges
/// them with Kahan compensation). The launcher cuts the reduced rows at multiples of the
/// `block_sum` period (`CUDALaunchPolicy.twoDimensionalSplit`), so a `block_sum` associates
/// exactly as in the 1D scheme; `direct_sum` and Kahan associate differently, but the same way on
/// every GPU.
public struct CUDAKernelSource: Sendable {
  /// The fixed names of the kernels.
  public enum EntryPoint: String, Sendable, CaseIterable {
    case reduce1D = "ks_reduce_1d"
    case reduce2D = "ks_reduce_2d"
    case finish2D = "ks_finish_2d"
    case reduceRanges = "ks_reduce_ranges"
  }

  /// The CUDA C++ text.
  public let text: String
  /// Whether the source has the block-sparse entry point `ks_reduce_ranges`.
  public let blockSparse: Bool
  /// Threads per block of `ks_reduce_1d` and `ks_reduce_2d` (KeOps: min(192, 49152 / (dimY * sizeof T))).
  public let blockSize: Int
  /// Threads per block of `ks_finish_2d`.
  public let finishBlockSize: Int
  /// Values per row of the 2D partial buffer (the accumulator of one row).
  public let accumulatorDimension: Int
  /// Bytes of one accumulator value (`sizeof(ks_acc_t)`).
  public let accumulatorBytes: Int
  /// Bytes of one data value on the device (`sizeof(ks_t)`: 4 for float16 and float32 data).
  public let valueBytes: Int
  /// Values per output row (`plan.formula.rawDimension`).
  public let outputDimension: Int
  /// The number of argument slots (kernel parameters after the fixed ones).
  public let argumentCount: Int
  /// The slots the formula reads: only these are copied to the device.
  public let usedArguments: [Int]
  /// Values per reduced row staged in shared memory.
  public let stagedValuesPerRow: Int

  /// The entry points this source defines.
  public var entryPoints: [EntryPoint] { blockSparse ? EntryPoint.allCases : [.reduce1D, .reduce2D, .finish2D] }

  /// The C parameter types of an entry point, in order (for launchers and CPU test harnesses).
  public func parameterTypes(of entry: EntryPoint) -> [String] {
    let args = [String](repeating: "const ks_t *", count: argumentCount)
    switch entry {
    case .reduce1D: return ["ks_t *", "long long", "long long", "long long"] + args
    case .reduce2D: return ["ks_acc_t *", "long long", "long long", "long long"] + args
    case .finish2D: return ["ks_t *", "const ks_acc_t *", "long long", "long long"]
    case .reduceRanges: return ["ks_t *", "const long long *", "const long long *", "const long long *", "long long"] + args
    }
  }

  /// The largest number of values per reduced row a plan may stage (one row must fit in 48 KiB).
  public static func maxStagedValues(valueBytes: Int) -> Int { 49152 / valueBytes }

  /// Generates the source for `plan`, with `blockSparse` also `ks_reduce_ranges` (a separate
  /// source, so that dense calls do not compile it); fails only when a reduced row does not fit in
  /// shared memory.
  public static func generate(for plan: KernelPlan, blockSparse: Bool = false) throws(EngineError) -> CUDAKernelSource {
    let g = CUDAGenerator(plan: plan)
    let bytes = plan.computePrecision == .float64 ? 8 : 4
    guard g.dimY <= maxStagedValues(valueBytes: bytes) else {
      throw .failed(
        "the reduced variables of this formula have \(g.dimY) values per row; the CUDA engine stages at most "
          + "\(maxStagedValues(valueBytes: bytes)) per row in shared memory (use backend=\"CPU\")")
    }
    return CUDAKernelSource(
      text: g.source(blockSparse: blockSparse), blockSparse: blockSparse, blockSize: g.blockSize, finishBlockSize: CUDAGenerator.finishBlock,
      accumulatorDimension: g.accCount, accumulatorBytes: g.accBytes, valueBytes: bytes,
      outputDimension: plan.formula.rawDimension, argumentCount: plan.formula.arguments.count,
      usedArguments: g.graph.variables.map(\.index).sorted(), stagedValuesPerRow: g.dimY)
  }

  /// KeOps' 1D block size: min(192, 49152 / (dimY * sizeof T)), rounded down to a multiple of 32
  /// when that leaves at least 32 threads.
  public static func blockSize(stagedValuesPerRow dimY: Int, valueBytes: Int) -> Int {
    var b = min(192, 49152 / max(1, dimY * valueBytes))
    if b >= 32 { b = b / 32 * 32 }
    return max(1, b)
  }
}

// MARK: - The flattened formula

/// The flattened formula the generator walks.
typealias CUDAGraph = FlatFormula


// MARK: - Generator

struct CUDAGenerator {
  static let finishBlock = 128
  /// Parameters (`Pm`) up to this dimension are copied to registers once per thread.
  static let maxRegisterParameter = 16

  let plan: KernelPlan
  let graph: CUDAGraph
  let output: VariableCategory
  let reduced: VariableCategory
  let reduction: ReductionKind
  /// Dimension of the map formula's value.
  let d: Int
  let rawDim: Int
  let scheme: SumScheme
  /// Compute type and accumulator type names.
  let t: String
  let a: String
  let accBytes: Int
  /// Offsets of the reduced variables inside one staged row, by argument slot.
  var offsets: [Int: Int] = [:]
  var dimY = 0
  var blockSize: Int

  init(plan: KernelPlan) {
    self.plan = plan
    output = plan.formula.outputCategory
    reduced = plan.formula.reducedCategory
    reduction = plan.formula.reduction
    graph = CUDAGraph(plan.mapFormula, output: plan.formula.outputCategory)
    d = graph.nodes[graph.root].dim
    rawDim = plan.formula.rawDimension
    scheme = reduction.isSumType ? plan.sumScheme : .directSum
    t = plan.computePrecision == .float64 ? "double" : "float"
    let accPrecision = reduction.isSumType ? plan.accumulatorPrecision : plan.computePrecision
    a = accPrecision == .float64 ? "double" : "float"
    accBytes = accPrecision == .float64 ? 8 : 4
    for v in graph.variables where v.category == reduced {
      offsets[v.index] = dimY
      dimY += v.dim
    }
    blockSize = CUDAKernelSource.blockSize(stagedValuesPerRow: dimY, valueBytes: t == "double" ? 8 : 4)
  }

  var accCount: Int { AccumulatorEmitter.count(reduction, d: d) }

  /// The CUDA dialect of the shared accumulator code: each value in its own type (`ks_acc_t`,
  /// `ks_t`), converted by casts; `KS_RA` rounds to dtype_acc (float16 needs code); the compute
  /// type rounds by itself.
  static let dialect = AccumulatorDialect(
    accumulatorType: "ks_acc_t", valueType: "ks_t", outputType: "ks_t", accumulatorRounding: "KS_RA",
    temporaryRounding: "", outputRounding: "", castsBetweenTypes: true)

  /// The accumulator code of this plan (`periodicFlush` false: ranges= mode).
  func accumulator(periodicFlush: Bool = true) -> AccumulatorEmitter {
    AccumulatorEmitter(kind: reduction, d: d, scheme: scheme, dialect: Self.dialect, periodicFlush: periodicFlush)
  }

  var halfAccumulator: Bool { reduction.isSumType && plan.accumulatorPrecision == .float16 }

  var reductionDescription: String { reduction.description }

  // MARK: Values

  /// The C expression of component `index` of node `id` (a `ks_t` value).
  func value(_ id: Int, _ index: String) -> String {
    let n = graph.nodes[id]
    let idx = n.dim == 1 ? "0" : index
    switch n.kind {
    case .variable(let v):
      if v.category == .parameter {
        return v.dim <= Self.maxRegisterParameter ? "ks_p\(v.index)[\(idx)]" : "ks_a\(v.index)[\(idx)]"
      }
      if v.category == reduced { return "ks_y[\(offsets[v.index]!) + \(idx)]" }
      return "ks_x\(v.index)[\(idx)]"
    default:
      return "ks_v\(id)[\(idx)]"
    }
  }

  /// The statements computing node `id`, declaring its array.
  func emit(_ id: Int, indent: String) -> String {
    let code = graph.computation(id, into: "ks_v\(id)", type: "ks_t", work: "ks_t") { "(\(value($0, $1)))" }
    return code.map { indent + $0 + "\n" } ?? ""
  }

  /// Component `k` of the formula value, as a `ks_t`.
  func x(_ k: String) -> String { value(graph.root, k) }

  // MARK: Source

  func source(blockSparse: Bool = false) -> String {
    let argList = (0..<plan.formula.arguments.count).map { ", const ks_t *__restrict__ ks_a\($0)" }.joined()
    let argNames = (0..<plan.formula.arguments.count).map { ", ks_a\($0)" }.joined()
    var s = """
      /* Generated by ks (CUDAEngine). Do not edit: the CUBIN cache key is a hash of this text.
       * map formula: \(plan.mapFormula.description)
       * reduction: \(reductionDescription), output category \(output.rawValue), data \(plan.dataType.rawValue), \
      compute \(plan.computePrecision.rawValue), accumulator \(plan.accumulatorPrecision.rawValue), \
      scheme \(plan.sumScheme.rawValue)
       * entry points: ks_reduce_1d, ks_reduce_2d, ks_finish_2d\(blockSparse ? ", ks_reduce_ranges" : "") (see CUDAKernelSource)
       */
      #if defined(__CUDACC_RTC__) || defined(__CUDACC__)
      /* The operation table's C spells infinities and NaNs with GCC builtins. */
      #define __builtin_inf() __longlong_as_double(0x7ff0000000000000LL)
      #define __builtin_nan(s) __longlong_as_double(0x7ff8000000000000LL)
      #endif

      typedef \(t) ks_t;     /* data and compute type */
      typedef \(a) ks_acc_t; /* accumulator type */

      constexpr int ks_block = \(blockSize);   /* threads per block of the reduce kernels */
      constexpr int ks_dimy = \(max(1, dimY));    /* values per staged reduced row */
      constexpr int ks_acc_dim = \(accCount); /* accumulator values per output row */
      constexpr int ks_out_dim = \(rawDim); /* output values per row */


      """
    s += accumulatorRounding()
    s += initFunction()
    s += finalizeFunction()
    s += foldFunction(argList: argList)
    if blockSparse { s += foldFunction(argList: argList, ranged: true) }
    s += """
      /* 1D scheme: one thread per output row i0 <= i < i1. */
      extern "C" __global__ void ks_reduce_1d(ks_t *ks_out, long long ks_i0, long long ks_i1, long long ks_nred\(argList)) {
        const long long ks_i = ks_i0 + (long long)blockIdx.x * ks_block + threadIdx.x;
        const bool ks_active = ks_i < ks_i1;
        ks_acc_t ks_acc[ks_acc_dim];
        ks_init(ks_acc);
        ks_fold(ks_acc, ks_i, ks_active, 0, ks_nred, ks_nred\(argNames));
        if (ks_active) ks_finalize(ks_acc, ks_out + ks_i * ks_out_dim);
      }

      /* 2D scheme, first pass: block (x, y) folds reduced rows [y*jchunk, (y+1)*jchunk) into partials. */
      extern "C" __global__ void ks_reduce_2d(ks_acc_t *ks_part, long long ks_nout, long long ks_nred, long long ks_jchunk\(argList)) {
        const long long ks_i = (long long)blockIdx.x * ks_block + threadIdx.x;
        const bool ks_active = ks_i < ks_nout;
        const long long ks_jb = (long long)blockIdx.y * ks_jchunk;
        const long long ks_je = ks_jb + ks_jchunk < ks_nred ? ks_jb + ks_jchunk : ks_nred;
        ks_acc_t ks_acc[ks_acc_dim];
        ks_init(ks_acc);
        ks_fold(ks_acc, ks_i, ks_active, ks_jb, ks_je, ks_nred\(argNames));
        if (ks_active) {
          ks_acc_t *ks_p = ks_part + ((long long)blockIdx.y * ks_nout + ks_i) * ks_acc_dim;
          for (int ks_k = 0; ks_k < ks_acc_dim; ks_k++) ks_p[ks_k] = ks_acc[ks_k];
        }
      }


      """
    s += finishKernel()
    if blockSparse { s += "\n" + rangesKernel(argList: argList, argNames: argNames) }
    return s
  }

  /// `KS_RA`: rounding to dtype_acc after each accumulator operation (only float16 needs code).
  func accumulatorRounding() -> String {
    if !halfAccumulator { return "#define KS_RA(x) (x)\n\n" }
    return """
      /* dtype_acc=float16: the accumulator is a float rounded to the nearest half (ties to even). */
      __device__ __forceinline__ float ks_round_half(float ks_x) {
        const float ks_m = fabsf(ks_x);
        if (ks_m != ks_m) return ks_x;
        if (ks_m >= 65520.0f) return ks_x > 0 ? (float)__builtin_inf() : -(float)__builtin_inf();
        if (ks_m < 6.103515625e-05f) return rintf(ks_x * 16777216.0f) * 5.9604644775390625e-08f;
        unsigned int ks_u = __float_as_uint(ks_x);
        ks_u += 0x0FFFu + ((ks_u >> 13) & 1u);
        return __uint_as_float(ks_u & 0xFFFFE000u);
      }
      #define KS_RA(x) ks_round_half(x)


      """
  }

  func initFunction() -> String {
    "/* The reduction's initial value. */\n__device__ __forceinline__ void ks_init(ks_acc_t *ks_acc) {\n"
      + accumulator().initialValues(indent: "  ") + "}\n\n"
  }

  func finalizeFunction() -> String {
    "/* KeOps' FinalizeOutput: the raw output row from the accumulator. */\n"
      + "__device__ __forceinline__ void ks_finalize(const ks_acc_t *ks_acc, ks_t *ks_o) {\n"
      + accumulator().finalize(into: "ks_o", indent: "  ") + "}\n\n"
  }

  // MARK: Folding reduced rows

  /// `ks_fold`, or with `ranged` `ks_fold_ranges`: the same tile loop over the reduced intervals
  /// `ks_iv0 ..< ks_iv1` of `ks_redranges` in order, with KeOps' ranges-mode block_sum (one
  /// temporary for all the row's terms, folded in at the end).
  func foldFunction(argList: String, ranged: Bool = false) -> String {
    let outVars = graph.variables.filter { $0.category == output }
    let redVars = graph.variables.filter { $0.category == reduced }
    let acc = accumulator(periodicFlush: !ranged)
    var s: String
    if ranged {
      s = """
        /* Folds the reduced intervals ks_iv0 <= l < ks_iv1 of ks_redranges, in order, into the
         * accumulator of output row ks_i (ranges=). Every thread of the block calls it with the same
         * intervals (it stages tiles in shared memory); inactive threads only help staging. */
        __device__ __forceinline__ void ks_fold_ranges(ks_acc_t *ks_acc, long long ks_i, bool ks_active,
                                                       const long long *ks_redranges, long long ks_iv0,
                                                       long long ks_iv1, long long ks_nred\(argList)) {
          __shared__ ks_t ks_sh[ks_block * ks_dimy];

        """
    } else {
      s = """
        /* Folds reduced rows [ks_jb, ks_je) into the accumulator of output row ks_i. Every thread of
         * the block must call it (it stages tiles of ks_block rows in shared memory); inactive
         * threads (ks_i past the end) only help staging. */
        __device__ __forceinline__ void ks_fold(ks_acc_t *ks_acc, long long ks_i, bool ks_active, long long ks_jb,
                                                long long ks_je, long long ks_nred\(argList)) {
          __shared__ ks_t ks_sh[ks_block * ks_dimy];

        """
    }
    for v in graph.variables where v.category == .parameter && v.dim <= Self.maxRegisterParameter {
      s += "  ks_t ks_p\(v.index)[\(v.dim)];\n"
      s += "  for (int ks_k = 0; ks_k < \(v.dim); ks_k++) ks_p\(v.index)[ks_k] = ks_a\(v.index)[ks_k];\n"
    }
    for v in outVars {
      s += "  ks_t ks_x\(v.index)[\(v.dim)];\n"
      s += "  for (int ks_k = 0; ks_k < \(v.dim); ks_k++) ks_x\(v.index)[ks_k] = ks_active ? ks_a\(v.index)[ks_i * \(v.dim) + ks_k] : (ks_t)0;\n"
    }
    if graph.nodes.contains(where: { !$0.usesReduced && !$0.isVariable }) {
      s += "  /* Nodes that do not depend on the reduced index: once per thread. */\n"
    }
    for id in graph.nodes.indices where !graph.nodes[id].usesReduced {
      s += emit(id, indent: "  ")
    }
    if scheme == .blockSum && !ranged {
      s += "  const int ks_period = ks_nred < 10 ? 100 : (int)sqrt((double)ks_nred);\n"
    } else {
      s += "  (void)ks_nred;\n"
    }
    s += acc.temporaries(indent: "  ")
    var tiles = """
        for (long long ks_jt = ks_jb; ks_jt < ks_je; ks_jt += ks_block) {
          const long long ks_js = ks_jt + threadIdx.x;

      """
    if !redVars.isEmpty {
      tiles += "    if (ks_js < ks_je) {\n"
      for v in redVars {
        tiles += "      for (int ks_k = 0; ks_k < \(v.dim); ks_k++) ks_sh[threadIdx.x * ks_dimy + \(offsets[v.index]!) + ks_k] = ks_a\(v.index)[ks_js * \(v.dim) + ks_k];\n"
      }
      tiles += "    }\n"
    } else {
      tiles += "    (void)ks_js;\n"
    }
    tiles += """
          __syncthreads();
          if (ks_active) {
            const int ks_n = ks_je - ks_jt < ks_block ? (int)(ks_je - ks_jt) : ks_block;
            for (int ks_q = 0; ks_q < ks_n; ks_q++) {
              const long long ks_j = ks_jt + ks_q;
              const ks_t *ks_y = ks_sh + ks_q * ks_dimy;
              (void)ks_j; (void)ks_y;

      """
    for id in graph.nodes.indices where graph.nodes[id].usesReduced {
      tiles += emit(id, indent: "        ")
    }
    tiles += acc.update(term: x, indent: "        ")
    tiles += """
            }
          }
          __syncthreads();
        }

      """
    if ranged {
      s += "  for (long long ks_iv = ks_iv0; ks_iv < ks_iv1; ks_iv++) {\n"
      s += "    const long long ks_jb = ks_redranges[2 * ks_iv], ks_je = ks_redranges[2 * ks_iv + 1];\n"
      s += tiles.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
        .joined(separator: "\n")
      s += "  }\n"
    } else {
      s += tiles
    }
    if scheme == .blockSum { s += acc.flush(indent: "  ") }
    s += "}\n\n"
    return s
  }

  /// The block-sparse entry point (ranges=, KeOps' 1D scheme with a launch table).
  func rangesKernel(argList: String, argNames: String) -> String {
    """
    /* ranges= (block-sparse), 1D: thread block b serves output rows [ks_tab[3b+1], ks_tab[3b+2])
     * (at most ks_block) of output block ks_tab[3b], or, when that is -1, rows no block covers:
     * they get the reduction's initial value (no sum-scheme fold, as KeOps). Output block k is
     * reduced over the intervals l of ks_redranges in [k == 0 ? 0 : ks_slices[k-1], ks_slices[k]). */
    extern "C" __global__ void ks_reduce_ranges(ks_t *ks_out, const long long *ks_tab, const long long *ks_slices,
                                                const long long *ks_redranges, long long ks_nred\(argList)) {
      const long long ks_blk = ks_tab[3 * (long long)blockIdx.x];
      const long long ks_i = ks_tab[3 * (long long)blockIdx.x + 1] + threadIdx.x;
      const bool ks_active = ks_i < ks_tab[3 * (long long)blockIdx.x + 2];
      ks_acc_t ks_acc[ks_acc_dim];
      ks_init(ks_acc);
      if (ks_blk >= 0) {
        ks_fold_ranges(ks_acc, ks_i, ks_active, ks_redranges, ks_blk == 0 ? 0 : ks_slices[ks_blk - 1], ks_slices[ks_blk],
                       ks_nred\(argNames));
      }
      if (ks_active) ks_finalize(ks_acc, ks_out + ks_i * ks_out_dim);
    }


    """
  }

  // MARK: 2D merge

  func finishKernel() -> String {
    let acc = accumulator()
    let decl = acc.partialMergeDeclarations(indent: "  ")
    let merge = acc.mergePartial(from: { "ks_p[\($0)]" }, indent: "    ")
    return """
      /* 2D scheme, second pass: merges the partials of each row in j order and writes the output. */
      extern "C" __global__ void ks_finish_2d(ks_t *ks_out, const ks_acc_t *ks_part, long long ks_nout, long long ks_nblocks) {
        const long long ks_i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
        if (ks_i >= ks_nout) return;
        ks_acc_t ks_acc[ks_acc_dim];
        ks_init(ks_acc);
      \(decl)  for (long long ks_blk = 0; ks_blk < ks_nblocks; ks_blk++) {
          const ks_acc_t *ks_p = ks_part + (ks_blk * ks_nout + ks_i) * ks_acc_dim;
      \(merge)  }
        ks_finalize(ks_acc, ks_out + ks_i * ks_out_dim);
      }

      """
  }
}
