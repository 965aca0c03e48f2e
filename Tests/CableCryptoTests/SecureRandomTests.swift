import CableCrypto
import Testing

@Suite("SecureRandom")
struct SecureRandomTests {
    @Test(arguments: [0, 1, 16, 32, 1000])
    func returnsExactlyTheRequestedCount(count: Int) {
        #expect(SecureRandom.bytes(count: count).count == count)
    }

    @Test func successiveDrawsDiffer() {
        // Two equal 32-byte draws would have probability 2^-256.
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
    }

    @Test func drawsAreNotConstant() {
        let bytes = SecureRandom.bytes(count: 256)
        #expect(Set(bytes).count > 100, "256 random bytes have ~162 distinct values on average")
    }

    @Test func generatorProducesDistinctWordsAndBytes() {
        var generator = SecureRandomNumberGenerator()
        let words = (0..<16).map { _ in generator.next() }
        #expect(Set(words).count == words.count)
        #expect(generator.bytes(count: 13).count == 13)
        #expect(Int.random(in: 0..<10, using: &generator) < 10)
    }
}
