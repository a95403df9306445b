// swift-tools-version: 6.0
import PackageDescription

// KS_STATIC_LIBEDIT=1 links libedit and its dependencies from their .a archives (for a binary
// that runs where libedit is not installed, e.g. with --static-swift-stdlib on the GPU machine).
let staticEdit = Context.environment["KS_STATIC_LIBEDIT"].map { !$0.isEmpty && $0 != "0" } ?? false
let editLink: [LinkerSetting] =
  staticEdit
  ? [.unsafeFlags(["-Xlinker", "-l:libedit.a", "-Xlinker", "-l:libtinfo.a", "-Xlinker", "-l:libbsd.a", "-Xlinker", "-l:libmd.a"])]
  : [.linkedLibrary("edit")]

let package = Package(
  name: "ks",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "ks", targets: ["ks"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // MARK: - Pipeline
    .target(name: "KSDiagnostics"),
    .target(name: "FormulaLanguage", dependencies: ["KSDiagnostics"]),
    .target(name: "ArrayIO"),
    // LAPACKE and CBLAS opened with dlopen (no link-time dependency); used by KernelOperations and NumpySubset.
    .target(name: "DenseLinearAlgebra"),
    .target(name: "KernelEngines", dependencies: ["FormulaLanguage", "ArrayIO"]),
    .target(name: "CPUEngine", dependencies: ["KernelEngines", "FormulaLanguage", "ArrayIO"]),
    .target(name: "CUDAEngine", dependencies: ["KernelEngines", "FormulaLanguage", "ArrayIO"]),
    // Open MPI opened with dlopen when ks runs under mpirun/srun; reductions split by output rows.
    .target(name: "MessagePassing", dependencies: ["KernelEngines", "FormulaLanguage", "ArrayIO"]),
    .target(
      name: "KernelOperations",
      dependencies: [
        "KernelEngines", "FormulaLanguage", "ArrayIO", "CPUEngine", "CUDAEngine", "DenseLinearAlgebra", "MessagePassing",
      ]),
    // The shell language, one module per layer: syntax -> runtime -> numpy -> PyKeOps -> session.
    .target(name: "ShellSyntax", dependencies: ["KSDiagnostics"]),
    .target(name: "ShellRuntime", dependencies: ["ShellSyntax", "ArrayIO", "FormulaLanguage", "KernelEngines", "KSDiagnostics"]),
    .target(name: "NumpySubset", dependencies: ["ShellRuntime", "ShellSyntax", "ArrayIO", "KSDiagnostics", "DenseLinearAlgebra"]),
    .target(
      name: "PyKeOpsBindings",
      dependencies: [
        "NumpySubset", "ShellRuntime", "ShellSyntax", "KernelOperations", "KernelEngines", "FormulaLanguage", "ArrayIO",
        "KSDiagnostics",
      ]),
    .target(
      name: "KSShell",
      dependencies: [
        "PyKeOpsBindings", "NumpySubset", "MatplotlibSubset", "Plotting", "ShellRuntime", "ShellSyntax",
        "KernelOperations", "KernelEngines", "FormulaLanguage", "ArrayIO", "KSDiagnostics", "MessagePassing",
      ]),
    // Figures: Cairo draws SVG, PNG and PDF (docs/plotting.md says why); Plotting holds the figure
    // model and its renderers, MatplotlibSubset binds it to the language as matplotlib.pyplot.
    .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"]), .brew(["cairo"])]),
    .target(name: "Plotting", dependencies: ["CCairo"]),
    .target(name: "MatplotlibSubset", dependencies: ["Plotting", "ShellRuntime", "ShellSyntax", "ArrayIO", "KSDiagnostics"]),
    .systemLibrary(
      name: "CEditLine", pkgConfig: staticEdit ? nil : "libedit", providers: [.apt(["libedit-dev"]), .brew(["libedit"])]),
    .target(
      name: "KSTerminal",
      dependencies: ["KSShell", "Plotting", "ShellSyntax", "ShellRuntime", "CEditLine", "FormulaLanguage", "KernelOperations", "MessagePassing"],
      linkerSettings: editLink),
    .executableTarget(
      name: "ks",
      dependencies: [
        "KSShell", "KSTerminal", "KernelOperations", "CPUEngine", "CUDAEngine", "MessagePassing",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // MARK: - Tests
    .target(
      name: "_KSTestSupport", dependencies: ["ArrayIO", "FormulaLanguage", "KernelEngines"],
      path: "Tests/_KSTestSupport"),
    .testTarget(name: "KSDiagnosticsTests", dependencies: ["KSDiagnostics"]),
    .testTarget(name: "FormulaLanguageTests", dependencies: ["FormulaLanguage"]),
    .testTarget(name: "ArrayIOTests", dependencies: ["_KSTestSupport", "ArrayIO"]),
    .testTarget(name: "KernelEnginesTests", dependencies: ["_KSTestSupport", "KernelEngines", "FormulaLanguage", "ArrayIO"]),
    .testTarget(
      name: "CPUEngineTests", dependencies: ["_KSTestSupport", "CPUEngine", "KernelEngines", "FormulaLanguage", "ArrayIO"],
      exclude: ["Golden"]),
    .testTarget(
      name: "CUDAEngineTests",
      dependencies: ["_KSTestSupport", "CUDAEngine", "KernelOperations", "KernelEngines", "FormulaLanguage", "ArrayIO"],
      exclude: ["Emulation", "Golden"]),
    .testTarget(
      name: "KernelOperationsTests",
      dependencies: ["_KSTestSupport", "KernelOperations", "KernelEngines", "ArrayIO", "DenseLinearAlgebra", "CPUEngine"],
      exclude: ["Fixtures"]),
    .testTarget(name: "ShellSyntaxTests", dependencies: ["ShellSyntax", "KSDiagnostics"]),
    .testTarget(
      name: "KSShellTests",
      dependencies: [
        "KSShell", "ShellSyntax", "ShellRuntime", "NumpySubset", "MatplotlibSubset", "Plotting", "KernelOperations", "ArrayIO",
        "KSDiagnostics", "ks",
      ]),
    .testTarget(name: "PlottingTests", dependencies: ["Plotting"]),
    .testTarget(name: "KSTerminalTests", dependencies: ["KSTerminal", "KSShell", "Plotting", "ShellSyntax", "ShellRuntime", "ks"]),
    .testTarget(
      name: "MessagePassingTests",
      dependencies: ["MessagePassing", "KernelOperations", "CPUEngine", "KernelEngines", "FormulaLanguage", "ArrayIO"]),
  ]
)
