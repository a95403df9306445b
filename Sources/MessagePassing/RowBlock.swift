/// The rows `[start, end)` of an `m`-row output that rank `r` of `p` computes: consecutive blocks
/// of whole groups of `alignment` rows (the last group may be shorter), the first ranks taking one
/// group more when they do not divide evenly. The same on every rank and every run.
///
/// The alignment keeps results bitwise equal to one process's: the CPU engine's vectorized kernels
/// compute rows in tiles counted from the first row they are given, with a separate loop for the
/// rows left over, so a block must start where one process's tiles start (`rowAlignment`).
public func rowBlock(rows m: Int, rank r: Int, ranks p: Int, alignment: Int = rowAlignment) -> Range<Int> {
  let a = max(1, alignment)
  let groups = (m + a - 1) / a
  let base = groups / p, extra = groups % p
  let start = r * base + min(r, extra)
  let end = start + base + (r < extra ? 1 : 0)
  return min(start * a, m)..<min(end * a, m)
}

/// The row alignment of the blocks (`rowBlock`): 64, the CPU kernels' row block, a multiple of
/// every row tile they use.
public let rowAlignment = 64
