import Foundation

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
