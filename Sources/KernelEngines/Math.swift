import Foundation

@inline(__always) func _stdlib_exp(_ x: Double) -> Double { Foundation.exp(x) }

func sysconfNProcessors() -> Int { ProcessInfo.processInfo.activeProcessorCount }
