import ArrayIO
import Foundation
import Testing

@testable import KernelOperations


struct GenredTestFailure: Error, CustomStringConvertible {
  var description: String
}

/// An array from rows.
func array(_ rows: [[Double]], _ dtype: DType = .float64) -> NDArray {
  NDArray(shape: [rows.count, rows.first?.count ?? 0], doubles: rows.flatMap { $0 }, dtype: dtype)
}

/// Builds a Genred, turning its error into a readable test failure.
func makeGenred(_ formula: String, _ aliases: [String], _ configure: (inout GenredOptions) -> Void = { _ in }) throws -> Genred {
  var o = GenredOptions()
  configure(&o)
  do {
    return try Genred(formula: formula, aliases: aliases, options: o)
  } catch {
    throw GenredTestFailure(description: "Genred(\(formula)) failed: \(error)")
  }
}

/// Runs a Genred on the reference backend and returns its single array.
func callSingle(_ g: Genred, _ args: [NDArray]) throws -> NDArray {
  let r: ReductionResult
  do {
    r = try g.call(args, backend: "reference")
  } catch {
    throw GenredTestFailure(description: "call failed: \(error)")
  }
  guard case .single(let a) = r else { throw GenredTestFailure(description: "expected one array, got a pair") }
  return a
}

/// Runs a Genred on the reference backend and returns its (values, indices) pair.
func callPair(_ g: Genred, _ args: [NDArray]) throws -> (NDArray, NDArray) {
  let r: ReductionResult
  do {
    r = try g.call(args, backend: "reference")
  } catch {
    throw GenredTestFailure(description: "call failed: \(error)")
  }
  guard case .pair(let a, let b) = r else { throw GenredTestFailure(description: "expected a pair, got one array") }
  return (a, b)
}

/// The error of a definition that must fail.
func definitionError(
  _ formula: String, _ aliases: [String], sourceLocation: SourceLocation = #_sourceLocation,
  _ configure: (inout GenredOptions) -> Void
) -> OperationError? {
  var o = GenredOptions()
  configure(&o)
  do {
    _ = try Genred(formula: formula, aliases: aliases, options: o)
    Issue.record("Genred(\(formula)) must fail", sourceLocation: sourceLocation)
    return nil
  } catch {
    return error
  }
}

/// The error of a call that must fail.
func callError(_ g: Genred, _ args: [NDArray], sourceLocation: SourceLocation = #_sourceLocation) -> OperationError? {
  do {
    _ = try g.call(args, backend: "reference")
    Issue.record("the call must fail", sourceLocation: sourceLocation)
    return nil
  } catch {
    return error
  }
}

func allClose(_ a: [Double], _ b: [Double], tolerance: Double) -> Bool {
  a.count == b.count
    && zip(a, b).allSatisfy { x, y in
      x == y || Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y))
    }
}
