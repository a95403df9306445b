import Testing

@testable import MessagePassing

@Suite struct RowBlockTests {
  @Test func blocksCoverEveryRowOnceInOrder() {
    for m in [0, 1, 2, 5, 7, 10, 101, 1000] {
      for p in 1...6 {
        let blocks = (0..<p).map { rowBlock(rows: m, rank: $0, ranks: p, alignment: 1) }
        #expect(blocks.first?.lowerBound == 0)
        #expect(blocks.last?.upperBound == m)
        for k in 1..<p { #expect(blocks[k].lowerBound == blocks[k - 1].upperBound) }
        let sizes = blocks.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1, "m=\(m) p=\(p): \(sizes)")
      }
    }
  }

  @Test func alignedBlocksStartOnWholeGroups() {
    for m in [0, 1, 63, 64, 65, 113, 1000, 12_345] {
      for p in 1...5 {
        let blocks = (0..<p).map { rowBlock(rows: m, rank: $0, ranks: p, alignment: 64) }
        #expect(blocks.first?.lowerBound == 0)
        #expect(blocks.last?.upperBound == m)
        for k in 1..<p {
          #expect(blocks[k].lowerBound == blocks[k - 1].upperBound)
          #expect(blocks[k].lowerBound % 64 == 0 || blocks[k].lowerBound == m, "m=\(m) p=\(p): \(blocks)")
        }
        let groups = blocks.map { ($0.count + 63) / 64 }
        #expect(groups.max()! - groups.min()! <= 1, "m=\(m) p=\(p): \(blocks)")
      }
    }
    #expect(rowBlock(rows: 113, rank: 0, ranks: 2) == 0..<64)
    #expect(rowBlock(rows: 113, rank: 1, ranks: 2) == 64..<113)
    #expect(rowBlock(rows: 113, rank: 2, ranks: 3) == 113..<113)
  }
}
