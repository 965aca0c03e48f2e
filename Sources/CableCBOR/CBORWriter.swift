/// Appends canonical encodings to a byte buffer. Used by ``CBOREncoder``.
struct CBORWriter {
    /// The encoding so far.
    private(set) var bytes: [UInt8] = []

    /// Appends the encoding of `value`.
    ///
    /// Recursion is as deep as `value` is nested; values that came from ``CBORDecoder`` are at most
    /// ``CBORDecodingLimits/maxDepth`` deep, and values built in code are as deep as their author made them.
    mutating func write(_ value: CBORValue) {
        switch value {
        case .integer(let integer):
            if integer >= 0 {
                self.writeHead(majorType: 0, argument: UInt64(integer))
            } else {
                // Major type 1 carries -1 - n; for negative n, ~n == -1 - n and cannot overflow.
                self.writeHead(majorType: 1, argument: UInt64(~integer))
            }
        case .byteString(let content):
            self.writeHead(majorType: 2, argument: UInt64(content.count))
            self.bytes.append(contentsOf: content)
        case .textString(let text):
            let utf8 = text.utf8
            self.writeHead(majorType: 3, argument: UInt64(utf8.count))
            self.bytes.append(contentsOf: utf8)
        case .array(let elements):
            self.writeHead(majorType: 4, argument: UInt64(elements.count))
            for element in elements {
                self.write(element)
            }
        case .map(let map):
            // CBORMap keeps its entries in canonical key order, so writing them in order is canonical.
            self.writeHead(majorType: 5, argument: UInt64(map.count))
            for entry in map.entries {
                self.write(entry.key)
                self.write(entry.value)
            }
        case .bool(let flag):
            self.bytes.append(flag ? 0xf5 : 0xf4)
        case .null:
            self.bytes.append(0xf6)
        case .undefined:
            self.bytes.append(0xf7)
        }
    }

    /// Appends an item head with the shortest argument encoding (RFC 8949 §4.2.1).
    private mutating func writeHead(majorType: UInt8, argument: UInt64) {
        let major = majorType << 5
        switch argument {
        case 0..<24:
            self.bytes.append(major | UInt8(argument))
        case 24...0xff:
            self.bytes.append(major | 24)
            self.bytes.append(UInt8(argument))
        case 0x100...0xffff:
            self.bytes.append(major | 25)
            self.appendBigEndian(argument, byteCount: 2)
        case 0x1_0000...0xffff_ffff:
            self.bytes.append(major | 26)
            self.appendBigEndian(argument, byteCount: 4)
        default:
            self.bytes.append(major | 27)
            self.appendBigEndian(argument, byteCount: 8)
        }
    }

    private mutating func appendBigEndian(_ argument: UInt64, byteCount: Int) {
        for index in stride(from: byteCount - 1, through: 0, by: -1) {
            self.bytes.append(UInt8(truncatingIfNeeded: argument >> (8 * UInt64(index))))
        }
    }
}
