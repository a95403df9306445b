import ArrayIO
import Foundation
import FormulaLanguage
import KernelEngines
import KernelOperations
import Testing

@testable import CUDAEngine

/// One Genred definition of the conformance suite (`shared/conformance/cases/*/case.json`).
struct ConformanceFormula: Sendable, CustomStringConvertible {
  var name: String
  var formula: String
  var aliases: [String]
  var reduction: String
  var axis: Int
  var dtype: String
  var optArg: Int?
  var formula2: String?
  var sumScheme: String?
  var dtypeAcc: String?

  var description: String { name }

  /// The Genred options of the case (KernelSolve cases are their Sum Genred).
  var options: GenredOptions {
    var o = GenredOptions()
    o.reductionOp = reduction
    o.axis = axis
    o.optArg = optArg
    o.formula2 = formula2
    if let s = sumScheme { o.sumScheme = s }
    if let a = dtypeAcc { o.dtypeAcc = a }
    return o
  }

  /// The plan Genred resolves for `dtype` data (arrays of 3 rows, only shapes matter).
  func plan(dtype: DType) throws -> KernelPlan {
    let g = try Genred(formula: formula, aliases: aliases, options: options)
    let arrays = g.reduced.arguments.map { v -> NDArray in
      NDArray.zeros(v.category == .parameter ? [v.dim] : [3, v.dim], dtype: dtype)
    }
    return try g.prepare(arrays).0
  }

  /// The cases from `shared/conformance/cases` when the repository sits beside `shared/`, else
  /// the same definitions embedded below (a snapshot of the 51 cases).
  static let all: [ConformanceFormula] = {
    let dir = TestPaths.conformanceCases
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir), !names.isEmpty else { return embedded }
    var out: [ConformanceFormula] = []
    for name in names.sorted() {
      guard let data = FileManager.default.contents(atPath: "\(dir)/\(name)/case.json"),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let formula = json["formula"] as? String, let aliases = json["aliases"] as? [String]
      else { continue }
      let options = json["options"] as? [String: Any] ?? [:]
      out.append(
        ConformanceFormula(
          name: json["name"] as? String ?? name, formula: formula, aliases: aliases,
          reduction: json["reduction_op"] as? String ?? "Sum", axis: json["axis"] as? Int ?? 1,
          dtype: json["dtype"] as? String ?? "float64", optArg: json["opt_arg"] as? Int,
          formula2: json["formula2"] as? String, sumScheme: options["sum_scheme"] as? String,
          dtypeAcc: options["dtype_acc"] as? String))
    }
    return out.isEmpty ? embedded : out
  }()

  static let embedded: [ConformanceFormula] = [
    ConformanceFormula(
      name: "argmax_op", formula: "ArgMax(x-y)*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "atan_atan2", formula: "Atan(Elem(x,0)-Elem(y,0)) + Atan2(Elem(x,1),Elem(y,1))",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "cauchy", formula: "Inv(IntCst(1)+SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "clamp", formula: "Clamp(x-y, IntCst(-1), IntCst(1))",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "dim1_vars", formula: "Exp(-Square(x-y))*b",
      aliases: ["x = Vi(1)", "y = Vj(1)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "divide", formula: "(x-y)/(SqNorm2(x-y)+IntCst(1))",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "elem_mix", formula: "Cos(Elem(x,0)-Elem(y,1))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "extract", formula: "Extract(x-y,1,2)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "gauss_axis0", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vj(3)", "y = Vi(3)", "b = Vi(1)"], reduction: "Sum", axis: 0,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "gauss_param", formula: "Exp(-g*SqDist(x,y))*b",
      aliases: ["g = Pm(1)", "x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "gauss_sum_f16", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], reduction: "Sum", axis: 1,
      dtype: "float16", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "gauss_sum_f32", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float32", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "gauss_sum_f64", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "ifelse", formula: "IfElse(Elem(x,0)-Elem(y,0), b, -b)",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "inv_sqrt_exp_log", formula: "Inv(Exp(SqDist(x,y)))*Log(Sqrt(SqNorm2(x)+IntCst(1)))",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "log_kernel", formula: "Log(IntCst(1)+SqNorm2(x-y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "matvecmult", formula: "MatVecMult(m, Extract(x-y,0,2))",
      aliases: ["m = Pm(6)", "x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "max_op", formula: "Max(x-y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "multiquadric", formula: "Sqrt(SqDist(x,y)+IntCst(1))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "norm2_out", formula: "Norm2(x-y)*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "normalize", formula: "Normalize(x-y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "odd_sizes_big", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "poly_kernel", formula: "Pow((x|y)+IntCst(1),3)*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "positional_vars", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(0,3)", "y = Vj(1,3)", "b = Vj(2,1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_argkmin", formula: "SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "ArgKMin", axis: 1,
      dtype: "float64", optArg: 4, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_argmin", formula: "SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "ArgMin", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_kmin", formula: "SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "KMin", axis: 1,
      dtype: "float64", optArg: 3, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_kmin_argkmin", formula: "SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "KMin_ArgKMin", axis: 1,
      dtype: "float64", optArg: 2, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_logsumexp", formula: "-SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "LogSumExp", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_max", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Max", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_max_sumshiftexp", formula: "-SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Max_SumShiftExp", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_min", formula: "SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Min", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_min_argmin", formula: "SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Min_ArgMin", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_sum_f32_big", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float32", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "red_sumsoftmaxweight", formula: "-SqDist(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], reduction: "SumSoftMaxWeight", axis: 1,
      dtype: "float64", optArg: nil, formula2: "b", sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "scalar_times_vector", formula: "Elem(x,0)*y",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "scalprod", formula: "(x|y)*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "seed_exp_kernel", formula: "Exp(-Norm2(x-y))*a",
      aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "solve_f32", formula: "Exp(-SqDist(x,y)) * a",
      aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float32", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "solve_gauss_param", formula: "Exp(-g*SqDist(x,y)) * a",
      aliases: ["g = Pm(1)", "x = Vi(2)", "y = Vj(2)", "a = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "solve_seed_example", formula: "Exp(-Norm2(x-y)) * a",
      aliases: ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "sq_power_op", formula: "Exp(-SqDist(x,y)**2)*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "step_relu_sign", formula: "Step(Elem(x,0)-Elem(y,0))*b + ReLU(Elem(x,1)-Elem(y,1))*Sign(Elem(x,2)-Elem(y,2))",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "sumscheme_block_f32", formula: "b",
      aliases: ["b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float32", optArg: nil, formula2: nil, sumScheme: "block_sum", dtypeAcc: nil),
    ConformanceFormula(
      name: "sumscheme_direct_f32", formula: "b",
      aliases: ["b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float32", optArg: nil, formula2: nil, sumScheme: "direct_sum", dtypeAcc: nil),
    ConformanceFormula(
      name: "tensorprod", formula: "TensorProd(x,y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "tiny_sizes", formula: "Exp(-SqDist(x,y))*b",
      aliases: ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "vector_cos_scaled", formula: "Cos(x*y)",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "vector_out_diff", formula: "x-y",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "weighted_sqdist", formula: "Exp(-WeightedSqDist(w,x,y))*b",
      aliases: ["w = Pm(3)", "x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
    ConformanceFormula(
      name: "xlogx_sinxdivx", formula: "XLogX(SqDist(x,y)) + SinXDivX(Elem(x,0)-Elem(y,0))",
      aliases: ["x = Vi(3)", "y = Vj(3)"], reduction: "Sum", axis: 1,
      dtype: "float64", optArg: nil, formula2: nil, sumScheme: nil, dtypeAcc: nil),
  ]
}
