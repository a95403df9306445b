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
/// Every source defines the same three `extern "C" __global__` entry points (`EntryPoint`):
/// ```c
/// // 1D: output rows i0 ..< i1, one thread each, grid = ceil((i1 - i0) / ks_block), block = ks_block.
/// ks_reduce_1d(ks_t *out, long long i0, long long i1, long long nred, const ks_t *a0, ..., const ks_t *aN)
/// // 2D: grid = (ceil(nout / ks_block), jblocks), block = ks_block; block (x, y) folds reduced rows
/// // y*jchunk ..< min(nred, (y+1)*jchunk) into partial[(y*nout + i)*ks_acc_dim ...].
/// ks_reduce_2d(ks_acc_t *partial, long long nout, long long nred, long long jchunk, const ks_t *a0, ...)
/// // 2D, second pass: merges the jblocks partials of each row in order, writes the output.
/// ks_finish_2d(ks_t *out, const ks_acc_t *partial, long long nout, long long jblocks)
/// ```
/// The first parameter is always the buffer the kernel writes. Argument pointers follow in slot
/// order; slots the formula does not use are passed as null. Output rows hold
/// `plan.formula.rawDimension` values of type `ks_t`, KeOps' FinalizeOutput.
///
/// Accumulation follows the reference engine (`Accumulator`): same update rules, strict
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
  }

  /// The CUDA C++ text.
  public let text: String
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

  /// The C parameter types of an entry point, in order (for launchers and CPU test harnesses).
  public func parameterTypes(of entry: EntryPoint) -> [String] {
    let args = [String](repeating: "const ks_t *", count: argumentCount)
    switch entry {
    case .reduce1D: return ["ks_t *", "long long", "long long", "long long"] + args
    case .reduce2D: return ["ks_acc_t *", "long long", "long long", "long long"] + args
    case .finish2D: return ["ks_t *", "const ks_acc_t *", "long long", "long long"]
    }
  }

  /// The largest number of values per reduced row a plan may stage (one row must fit in 48 KiB).
  public static func maxStagedValues(valueBytes: Int) -> Int { 49152 / valueBytes }

  /// Generates the source for `plan`; fails only when a reduced row does not fit in shared memory.
  public static func generate(for plan: KernelPlan) throws(EngineError) -> CUDAKernelSource {
    let g = CUDAGenerator(plan: plan)
    let bytes = plan.computePrecision == .float64 ? 8 : 4
    guard g.dimY <= maxStagedValues(valueBytes: bytes) else {
      throw .failed(
        "the reduced variables of this formula have \(g.dimY) values per row; the CUDA engine stages at most "
          + "\(maxStagedValues(valueBytes: bytes)) per row in shared memory (use backend=\"CPU\")")
    }
    return CUDAKernelSource(
      text: g.source(), blockSize: g.blockSize, finishBlockSize: CUDAGenerator.finishBlock,
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

  var accCount: Int {
    switch reduction {
    case .sum, .max, .min, .maxSumShiftExpWeight: return d
    case .argMax, .argMin, .maxArgMax, .minArgMin: return 2 * d
    case .kMin(let k), .argKMin(let k), .kMinArgKMin(let k): return 2 * k * d
    }
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
    let n = graph.nodes[id]
    let name = "ks_v\(id)"
    switch n.kind {
    case .variable:
      return ""
    case .real(let x):
      return "\(indent)ks_t \(name)[1] = {(ks_t)\(cDoubleLiteral(x))};\n"
    case .operation(let op):
      var code = "\(indent)ks_t \(name)[\(n.dim)];"
      if let template = op.cTemplate {
        if n.dim == 1 {
          let args = n.inputs.map { "(\(value($0, "0")))" }
          code += " \(name)[0] = \(instantiateCTemplate(template, args: args, params: n.params, type: "ks_t"));"
        } else {
          let args = n.inputs.map { "(\(value($0, "ks_k")))" }
          code +=
            " for (int ks_k = 0; ks_k < \(n.dim); ks_k++) \(name)[ks_k] = "
            + "\(instantiateCTemplate(template, args: args, params: n.params, type: "ks_t"));"
        }
      } else if let emitter = op.cEmit {
        let inputs = n.inputs
        let context = CEmitContext(
          argumentDims: inputs.map { graph.nodes[$0].dim }, params: n.params, outDim: n.dim, work: "ks_t",
          arg: { k, index in "(\(value(inputs[k], index)))" },
          out: { index in "\(name)[\(index)]" })
        code += " " + emitter(context)
      } else {
        preconditionFailure("operation \(op.name) has neither a C template nor a C emitter")
      }
      return code + "\n"
    }
  }

  /// Component `k` of the formula value, as a `ks_t`.
  func x(_ k: String) -> String { value(graph.root, k) }

  // MARK: Source

  func source() -> String {
    let argList = (0..<plan.formula.arguments.count).map { ", const ks_t *__restrict__ ks_a\($0)" }.joined()
    let argNames = (0..<plan.formula.arguments.count).map { ", ks_a\($0)" }.joined()
    var s = """
      /* Generated by ks (CUDAEngine). Do not edit: the CUBIN cache key is a hash of this text.
       * map formula: \(plan.mapFormula.description)
       * reduction: \(reductionDescription), output category \(output.rawValue), data \(plan.dataType.rawValue), \
      compute \(plan.computePrecision.rawValue), accumulator \(plan.accumulatorPrecision.rawValue), \
      scheme \(plan.sumScheme.rawValue)
       * entry points: ks_reduce_1d, ks_reduce_2d, ks_finish_2d (see CUDAKernelSource)
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
    var body: String
    switch reduction {
    case .sum:
      body = "  for (int ks_k = 0; ks_k < \(d); ks_k++) ks_acc[ks_k] = 0;\n"
    case .max:
      body = "  for (int ks_k = 0; ks_k < \(d); ks_k++) ks_acc[ks_k] = -(ks_acc_t)__builtin_inf();\n"
    case .min:
      body = "  for (int ks_k = 0; ks_k < \(d); ks_k++) ks_acc[ks_k] = (ks_acc_t)__builtin_inf();\n"
    case .argMax, .maxArgMax:
      body = "  for (int ks_k = 0; ks_k < \(d); ks_k++) { ks_acc[ks_k] = -(ks_acc_t)__builtin_inf(); ks_acc[\(d) + ks_k] = 0; }\n"
    case .argMin, .minArgMin:
      body = "  for (int ks_k = 0; ks_k < \(d); ks_k++) { ks_acc[ks_k] = (ks_acc_t)__builtin_inf(); ks_acc[\(d) + ks_k] = 0; }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      body =
        "  for (int ks_r = 0; ks_r < \(kk); ks_r++) for (int ks_k = 0; ks_k < \(d); ks_k++) "
        + "{ ks_acc[ks_r * \(2 * d) + ks_k] = (ks_acc_t)__builtin_inf(); ks_acc[ks_r * \(2 * d) + \(d) + ks_k] = 0; }\n"
    case .maxSumShiftExpWeight:
      body = "  ks_acc[0] = -(ks_acc_t)__builtin_inf(); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_acc[ks_k] = 0;\n"
    }
    return "/* The reduction's initial value. */\n__device__ __forceinline__ void ks_init(ks_acc_t *ks_acc) {\n\(body)}\n\n"
  }

  func finalizeFunction() -> String {
    var body: String
    switch reduction {
    case .sum, .max, .min, .maxArgMax, .minArgMin, .maxSumShiftExpWeight, .kMinArgKMin:
      body = "  for (int ks_k = 0; ks_k < \(accCount); ks_k++) ks_o[ks_k] = (ks_t)ks_acc[ks_k];\n"
    case .argMax, .argMin:
      body = "  for (int ks_k = 0; ks_k < \(d); ks_k++) ks_o[ks_k] = (ks_t)ks_acc[\(d) + ks_k];\n"
    case .kMin(let kk):
      body =
        "  for (int ks_r = 0; ks_r < \(kk); ks_r++) for (int ks_k = 0; ks_k < \(d); ks_k++) "
        + "ks_o[ks_r * \(d) + ks_k] = (ks_t)ks_acc[ks_r * \(2 * d) + ks_k];\n"
    case .argKMin(let kk):
      body =
        "  for (int ks_r = 0; ks_r < \(kk); ks_r++) for (int ks_k = 0; ks_k < \(d); ks_k++) "
        + "ks_o[ks_r * \(d) + ks_k] = (ks_t)ks_acc[ks_r * \(2 * d) + \(d) + ks_k];\n"
    }
    return "/* KeOps' FinalizeOutput: the raw output row from the accumulator. */\n"
      + "__device__ __forceinline__ void ks_finalize(const ks_acc_t *ks_acc, ks_t *ks_o) {\n\(body)}\n\n"
  }

  // MARK: Folding reduced rows

  func foldFunction(argList: String) -> String {
    let outVars = graph.variables.filter { $0.category == output }
    let redVars = graph.variables.filter { $0.category == reduced }
    var s = """
      /* Folds reduced rows [ks_jb, ks_je) into the accumulator of output row ks_i. Every thread of
       * the block must call it (it stages tiles of ks_block rows in shared memory); inactive
       * threads (ks_i past the end) only help staging. */
      __device__ __forceinline__ void ks_fold(ks_acc_t *ks_acc, long long ks_i, bool ks_active, long long ks_jb,
                                              long long ks_je, long long ks_nred\(argList)) {
        __shared__ ks_t ks_sh[ks_block * ks_dimy];

      """
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
    s += temporaries(indent: "  ")
    if scheme == .blockSum {
      s += "  const int ks_period = ks_nred < 10 ? 100 : (int)sqrt((double)ks_nred);\n"
      s += "  int ks_cnt = 0;\n"
    } else {
      s += "  (void)ks_nred;\n"
    }
    s += """
        for (long long ks_jt = ks_jb; ks_jt < ks_je; ks_jt += ks_block) {
          const long long ks_js = ks_jt + threadIdx.x;

      """
    if !redVars.isEmpty {
      s += "    if (ks_js < ks_je) {\n"
      for v in redVars {
        s += "      for (int ks_k = 0; ks_k < \(v.dim); ks_k++) ks_sh[threadIdx.x * ks_dimy + \(offsets[v.index]!) + ks_k] = ks_a\(v.index)[ks_js * \(v.dim) + ks_k];\n"
      }
      s += "    }\n"
    } else {
      s += "    (void)ks_js;\n"
    }
    s += """
          __syncthreads();
          if (ks_active) {
            const int ks_n = ks_je - ks_jt < ks_block ? (int)(ks_je - ks_jt) : ks_block;
            for (int ks_q = 0; ks_q < ks_n; ks_q++) {
              const long long ks_j = ks_jt + ks_q;
              const ks_t *ks_y = ks_sh + ks_q * ks_dimy;
              (void)ks_j; (void)ks_y;

      """
    for id in graph.nodes.indices where graph.nodes[id].usesReduced {
      s += emit(id, indent: "        ")
    }
    s += update(indent: "        ")
    s += """
            }
          }
          __syncthreads();
        }

      """
    if scheme == .blockSum { s += flush(indent: "  ") }
    s += "}\n\n"
    return s
  }

  /// block_sum's temporary accumulator and Kahan's compensation, both in the compute type.
  func temporaries(indent: String) -> String {
    switch (scheme, reduction) {
    case (.blockSum, .maxSumShiftExpWeight):
      return "\(indent)ks_t ks_tmp[\(d)]; ks_tmp[0] = -(ks_t)__builtin_inf(); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    case (.kahanScheme, .maxSumShiftExpWeight):
      return "\(indent)ks_t ks_tmp[\(max(1, d - 1))]; for (int ks_k = 0; ks_k < \(d - 1); ks_k++) ks_tmp[ks_k] = 0;\n"
    case (.blockSum, _), (.kahanScheme, _):
      return "\(indent)ks_t ks_tmp[\(d)]; for (int ks_k = 0; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    default:
      return ""
    }
  }

  /// KeOps' (m, s) merge of `src` into `dst` (arrays of `d` values), rounding with `r`, in type `w`.
  func merge(into dst: String, from src: (String) -> String, round r: String, type w: String, indent: String) -> String {
    """
    \(indent)if (\(dst)[0] > (\(w))\(src("0"))) {
    \(indent)  const \(w) ks_e = \(r)(exp((\(w))\(src("0")) - \(dst)[0]));
    \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) \(dst)[ks_k] = \(r)(\(dst)[ks_k] + \(r)((\(w))\(src("ks_k")) * ks_e));
    \(indent)} else {
    \(indent)  const \(w) ks_e = \(r)(exp(\(dst)[0] - (\(w))\(src("0"))));
    \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) \(dst)[ks_k] = \(r)((\(w))\(src("ks_k")) + \(r)(ks_e * \(dst)[ks_k]));
    \(indent)  \(dst)[0] = (\(w))\(src("0"));
    \(indent)}

    """
  }

  /// block_sum: folds the temporary into the accumulator and resets it.
  func flush(indent: String) -> String {
    if reduction == .maxSumShiftExpWeight {
      return merge(into: "ks_acc", from: { "ks_tmp[\($0)]" }, round: "KS_RA", type: "ks_acc_t", indent: indent)
        + "\(indent)ks_tmp[0] = -(ks_t)__builtin_inf(); for (int ks_k = 1; ks_k < \(d); ks_k++) ks_tmp[ks_k] = 0;\n"
    }
    return "\(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) { ks_acc[ks_k] = KS_RA(ks_acc[ks_k] + (ks_acc_t)ks_tmp[ks_k]); ks_tmp[ks_k] = 0; }\n"
  }

  /// Kahan update of `ks_acc[k]` with term `term(k)` and compensation array `c` of type `ct`.
  func kahanSum(term: (String) -> String, c: String, ct: String, indent: String) -> String {
    """
    \(indent)for (int ks_k = 0; ks_k < \(d); ks_k++) {
    \(indent)  const ks_acc_t ks_yk = KS_RA((ks_acc_t)\(term("ks_k")) - (ks_acc_t)\(c)[ks_k]);
    \(indent)  const ks_acc_t ks_b = KS_RA(ks_acc[ks_k] + ks_yk);
    \(indent)  \(c)[ks_k] = (\(ct))KS_RA(KS_RA(ks_b - ks_acc[ks_k]) - ks_yk);
    \(indent)  ks_acc[ks_k] = ks_b;
    \(indent)}

    """
  }

  /// Kahan variant of the (m, s) merge (the reference's `kahanShiftExp`), compensation `c` of type `ct`.
  func kahanShiftExp(term: (String) -> String, c: String, ct: String, indent: String) -> String {
    """
    \(indent)if (ks_acc[0] > (ks_acc_t)\(term("0"))) {
    \(indent)  const ks_acc_t ks_e = KS_RA(exp((ks_acc_t)\(term("0")) - ks_acc[0]));
    \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) {
    \(indent)    const ks_acc_t ks_yk = KS_RA(KS_RA((ks_acc_t)\(term("ks_k")) * ks_e) - (ks_acc_t)\(c)[ks_k - 1]);
    \(indent)    const ks_acc_t ks_b = KS_RA(ks_acc[ks_k] + ks_yk);
    \(indent)    \(c)[ks_k - 1] = (\(ct))KS_RA(KS_RA(ks_b - ks_acc[ks_k]) - ks_yk);
    \(indent)    ks_acc[ks_k] = ks_b;
    \(indent)  }
    \(indent)} else {
    \(indent)  const ks_acc_t ks_e = KS_RA(exp(ks_acc[0] - (ks_acc_t)\(term("0"))));
    \(indent)  for (int ks_k = 1; ks_k < \(d); ks_k++) {
    \(indent)    const ks_acc_t ks_u = KS_RA(ks_e * ks_acc[ks_k]);
    \(indent)    const ks_acc_t ks_yk = KS_RA((ks_acc_t)\(term("ks_k")) - KS_RA(ks_e * (ks_acc_t)\(c)[ks_k - 1]));
    \(indent)    const ks_acc_t ks_b = KS_RA(ks_u + ks_yk);
    \(indent)    \(c)[ks_k - 1] = (\(ct))KS_RA(KS_RA(ks_b - ks_u) - ks_yk);
    \(indent)    ks_acc[ks_k] = ks_b;
    \(indent)  }
    \(indent)  ks_acc[0] = (ks_acc_t)\(term("0"));
    \(indent)}

    """
  }

  /// Insertion of value `v` with index `idx` into the K sorted slots of component ks_k (strict <:
  /// stable, the lowest index first on ties).
  func kMinInsert(k kk: Int, value v: String, index idx: String, indent: String) -> String {
    """
    \(indent){
    \(indent)  const ks_t ks_val = \(v);
    \(indent)  const ks_t ks_idx = \(idx);
    \(indent)  int ks_l = ks_k + \((kk - 1) * 2 * d);
    \(indent)  while (ks_l >= ks_k && ks_val < ks_acc[ks_l]) {
    \(indent)    const ks_t ks_sv = ks_acc[ks_l], ks_si = ks_acc[ks_l + \(d)];
    \(indent)    ks_acc[ks_l] = ks_val; ks_acc[ks_l + \(d)] = ks_idx;
    \(indent)    if (ks_l < ks_k + \(2 * d * (kk - 1))) { ks_acc[ks_l + \(2 * d)] = ks_sv; ks_acc[ks_l + \(3 * d)] = ks_si; }
    \(indent)    ks_l -= \(2 * d);
    \(indent)  }
    \(indent)}

    """
  }

  /// The accumulator update for the current term (reduced index `ks_j`).
  func update(indent: String) -> String {
    let loop = "for (int ks_k = 0; ks_k < \(d); ks_k++)"
    var s = ""
    switch reduction {
    case .sum:
      switch scheme {
      case .directSum:
        s += "\(indent)\(loop) ks_acc[ks_k] = KS_RA(ks_acc[ks_k] + (ks_acc_t)\(x("ks_k")));\n"
      case .blockSum:
        s += "\(indent)\(loop) ks_tmp[ks_k] = ks_tmp[ks_k] + \(x("ks_k"));\n"
      case .kahanScheme:
        s += kahanSum(term: x, c: "ks_tmp", ct: "ks_t", indent: indent)
      }
    case .maxSumShiftExpWeight:
      switch scheme {
      case .directSum:
        s += merge(into: "ks_acc", from: x, round: "KS_RA", type: "ks_acc_t", indent: indent)
      case .blockSum:
        s += merge(into: "ks_tmp", from: x, round: "", type: "ks_t", indent: indent)
      case .kahanScheme:
        s += kahanShiftExp(term: x, c: "ks_tmp", ct: "ks_t", indent: indent)
      }
    case .max:
      s += "\(indent)\(loop) { const ks_t ks_val = \(x("ks_k")); if (ks_val > ks_acc[ks_k]) ks_acc[ks_k] = ks_val; }\n"
    case .min:
      s += "\(indent)\(loop) { const ks_t ks_val = \(x("ks_k")); if (ks_val < ks_acc[ks_k]) ks_acc[ks_k] = ks_val; }\n"
    case .argMax, .maxArgMax:
      s += "\(indent)\(loop) { const ks_t ks_val = \(x("ks_k")); if (ks_val > ks_acc[ks_k]) { ks_acc[ks_k] = ks_val; ks_acc[\(d) + ks_k] = (ks_t)ks_j; } }\n"
    case .argMin, .minArgMin:
      s += "\(indent)\(loop) { const ks_t ks_val = \(x("ks_k")); if (ks_val < ks_acc[ks_k]) { ks_acc[ks_k] = ks_val; ks_acc[\(d) + ks_k] = (ks_t)ks_j; } }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      s += "\(indent)\(loop)\n" + kMinInsert(k: kk, value: x("ks_k"), index: "(ks_t)ks_j", indent: indent)
    }
    if scheme == .blockSum {
      s += "\(indent)if (++ks_cnt == ks_period) {\n\(indent)  ks_cnt = 0;\n"
      s += flush(indent: indent + "  ")
      s += "\(indent)}\n"
    }
    return s
  }

  // MARK: 2D merge

  func finishKernel() -> String {
    let p: (String) -> String = { "ks_p[\($0)]" }
    let loop = "for (int ks_k = 0; ks_k < \(d); ks_k++)"
    let ind = "    "
    var merge = ""
    var decl = ""
    switch reduction {
    case .sum:
      if scheme == .kahanScheme {
        decl = "  ks_acc_t ks_c[\(d)]; for (int ks_k = 0; ks_k < \(d); ks_k++) ks_c[ks_k] = 0;\n"
        merge = kahanSum(term: p, c: "ks_c", ct: "ks_acc_t", indent: ind)
      } else {
        merge = "\(ind)\(loop) ks_acc[ks_k] = KS_RA(ks_acc[ks_k] + ks_p[ks_k]);\n"
      }
    case .maxSumShiftExpWeight:
      if scheme == .kahanScheme {
        decl = "  ks_acc_t ks_c[\(max(1, d - 1))]; for (int ks_k = 0; ks_k < \(d - 1); ks_k++) ks_c[ks_k] = 0;\n"
        merge = kahanShiftExp(term: p, c: "ks_c", ct: "ks_acc_t", indent: ind)
      } else {
        merge = self.merge(into: "ks_acc", from: p, round: "KS_RA", type: "ks_acc_t", indent: ind)
      }
    case .max:
      merge = "\(ind)\(loop) if (ks_p[ks_k] > ks_acc[ks_k]) ks_acc[ks_k] = ks_p[ks_k];\n"
    case .min:
      merge = "\(ind)\(loop) if (ks_p[ks_k] < ks_acc[ks_k]) ks_acc[ks_k] = ks_p[ks_k];\n"
    case .argMax, .maxArgMax:
      merge = "\(ind)\(loop) if (ks_p[ks_k] > ks_acc[ks_k]) { ks_acc[ks_k] = ks_p[ks_k]; ks_acc[\(d) + ks_k] = ks_p[\(d) + ks_k]; }\n"
    case .argMin, .minArgMin:
      merge = "\(ind)\(loop) if (ks_p[ks_k] < ks_acc[ks_k]) { ks_acc[ks_k] = ks_p[ks_k]; ks_acc[\(d) + ks_k] = ks_p[\(d) + ks_k]; }\n"
    case .kMin(let kk), .argKMin(let kk), .kMinArgKMin(let kk):
      // The block's K smallest, in order, inserted after the earlier blocks' (all of lower index).
      merge = "\(ind)for (int ks_r = 0; ks_r < \(kk); ks_r++) \(loop)\n"
        + kMinInsert(k: kk, value: "ks_p[ks_r * \(2 * d) + ks_k]", index: "ks_p[ks_r * \(2 * d) + \(d) + ks_k]", indent: ind)
    }
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
