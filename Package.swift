// swift-tools-version: 6.0
import PackageDescription

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
    .target(name: "KernelEngines", dependencies: ["FormulaLanguage", "ArrayIO"]),
    .target(name: "KernelOperations", dependencies: ["KernelEngines", "FormulaLanguage", "ArrayIO"]),
    .target(
      name: "KSShell",
      dependencies: ["KernelOperations", "KernelEngines", "FormulaLanguage", "ArrayIO", "KSDiagnostics"]),
    .executableTarget(
      name: "ks",
      dependencies: [
        "KSShell", "KernelOperations",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // MARK: - Tests
    .testTarget(name: "KSDiagnosticsTests", dependencies: ["KSDiagnostics"]),
    .testTarget(name: "FormulaLanguageTests", dependencies: ["FormulaLanguage"]),
    .testTarget(name: "ArrayIOTests", dependencies: ["ArrayIO"]),
    .testTarget(name: "KernelEnginesTests", dependencies: ["KernelEngines", "FormulaLanguage", "ArrayIO"]),
    .testTarget(
      name: "KernelOperationsTests", dependencies: ["KernelOperations", "KernelEngines", "ArrayIO"]),
    .testTarget(name: "KSShellTests", dependencies: ["KSShell", "ks"]),
  ]
)
