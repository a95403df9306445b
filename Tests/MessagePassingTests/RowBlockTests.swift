import Testing

@testable import MessagePassing

@Suite struct RowBlockTests {
  @Test func blocksCoverEveryRowOnceInOrder() {
    for m in [0, 1, 2, 5, 7, 10, 101, 1000] {
      for p in 1...6 {
        let blocks = (0..<p).map { rowBlock(rows: m, rank: $0, ranks: p) }
        #expect(blocks.first?.lowerBound == 0)
        #expect(blocks.last?.upperBound == m)
        for k in 1..<p { #expect(blocks[k].lowerBound == blocks[k - 1].upperBound) }
        let sizes = blocks.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1, "m=\(m) p=\(p): \(sizes)")
      }
    }
  }
}
