import CableTunnel
import Testing

@testable import CableRelay

/// Finding the end of a request head, fed in any pieces.
@Suite struct HTTPHeadScannerTests {
    static let head = Array("GET /cable/new/00 HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n".utf8)

    @Test func theHeadEndsAtTheEmptyLine() {
        var scanner = HTTPHeadScanner()
        let (consumed, complete) = scanner.scan(Self.head + Array("BODY".utf8))
        #expect(complete)
        #expect(consumed == Self.head.count)
    }

    @Test func anyByteSplitFindsTheSameEnd() {
        for split in 0...Self.head.count {
            var scanner = HTTPHeadScanner()
            let first = scanner.scan(Self.head[..<split])
            let second = scanner.scan(Self.head[split...])
            #expect(first.consumed + second.consumed == Self.head.count)
            #expect(second.complete || (first.complete && split == Self.head.count))
        }
    }

    @Test func bareLineFeedsEndTheHeadToo() {
        var scanner = HTTPHeadScanner()
        let head = Array("GET / HTTP/1.1\nHost: a\n\n".utf8)
        #expect(scanner.scan(head) == (head.count, true))
    }

    @Test func leadingEmptyLinesDoNotEndTheHead() {
        var scanner = HTTPHeadScanner()
        let (_, complete) = scanner.scan(Array("\r\n\r\n\r\nGET / HTTP/1.1\r\n".utf8))
        #expect(!complete)
    }

    @Test func anUnfinishedHeadIsNotComplete() {
        var scanner = HTTPHeadScanner()
        let partial = Array("GET / HTTP/1.1\r\nHost: a\r\n\r".utf8)
        #expect(scanner.scan(partial) == (partial.count, false))
        #expect(scanner.scan(Array("\n".utf8)) == (1, true))
    }
}
