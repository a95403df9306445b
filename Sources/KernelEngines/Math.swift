import Foundation

@inline(__always) func _stdlib_exp(_ x: Double) -> Double { Foundation.exp(x) }

func sysconfNProcessors() -> Int { processorCount }

/// Read once: `activeProcessorCount` reads the cgroup files (quota, cpuset) at every call, about
/// 20 microseconds, and every Genred call asks for it.
private let processorCount = ProcessInfo.processInfo.activeProcessorCount
