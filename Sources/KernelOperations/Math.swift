import Foundation

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }

@inline(__always) func _log10(_ x: Double) -> Double { Foundation.log10(x) }
@inline(__always) func pow10(_ e: Int) -> Double { Foundation.pow(10, Double(e)) }
