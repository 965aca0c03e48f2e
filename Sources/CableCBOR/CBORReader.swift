/// The single-pass, iterative reader behind ``CBORDecoder``. The rules it enforces are documented there.
///
/// It walks an index through the input (never copying the rest of it) and keeps open arrays and maps on
/// an explicit stack, so the call stack stays flat however deep the input claims to nest.
struct CBORReader {
    private let bytes: [UInt8]
    private let limits: CBORDecodingLimits
    /// Index of the next unread byte.
    private var position = 0
    /// Data items started so far, checked against ``CBORDecodingLimits/maxItems``.
    private var itemCount = 0

    init(bytes: [UInt8], limits: CBORDecodingLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// An array or map whose members are still being read. Members are appended in place
    /// (`open[top].elements.append`), so no buffer is ever shared and copied.
    private struct OpenContainer {
        /// Offset of the container's head.
        let offset: Int
        /// Whether this is a map (entries) rather than an array (elements).
        let isMap: Bool
        /// Elements (arrays) or entries (maps) still to come.
        var remaining: Int
        /// The array's elements so far.
        var elements: [CBORValue] = []
        /// The map's entries so far, in strictly increasing key order.
        var entries: [CBORMap.Entry] = []
        /// For a map, the key read for the next entry, waiting for its value.
        var pendingKey: (key: CBORValue, offset: Int)?

        init(offset: Int, isMap: Bool, count: Int) {
            self.offset = offset
            self.isMap = isMap
            self.remaining = count
            // Capped so a declared count cannot reserve much memory before the members have been read.
            if isMap {
                self.entries.reserveCapacity(min(count, 1024))
            } else {
                self.elements.reserveCapacity(min(count, 1024))
            }
        }
    }

    /// What reading one item head produced.
    private enum ItemStart {
        /// A scalar, string, or empty container: complete already.
        case complete(CBORValue)
        /// A non-empty array of that many elements.
        case array(count: Int)
        /// A non-empty map of that many entries.
        case map(count: Int)
    }

    // MARK: - Items

    /// Decodes one data item that must span the whole input.
    mutating func decodeSingleItem() throws(CBORError) -> CBORValue {
        guard self.bytes.count <= self.limits.maxInputSize else {
            throw CBORError(.tooLarge, offset: max(0, self.limits.maxInputSize))
        }
        var open: [OpenContainer] = []
        while true {
            let itemOffset = self.position
            // The depth of the item about to be read is the number of containers around it.
            guard open.count <= self.limits.maxDepth else {
                throw CBORError(.tooMuchNesting, offset: itemOffset)
            }
            self.itemCount += 1
            guard self.itemCount <= self.limits.maxItems else {
                throw CBORError(.tooManyItems, offset: itemOffset)
            }

            var value: CBORValue
            switch try self.readItemStart(at: itemOffset) {
            case .complete(let item):
                value = item
            case .array(let count):
                open.append(OpenContainer(offset: itemOffset, isMap: false, count: count))
                continue
            case .map(let count):
                open.append(OpenContainer(offset: itemOffset, isMap: true, count: count))
                continue
            }

            // Hand the finished item to its container; a container that becomes full is itself finished
            // and handed on to its own parent.
            var valueOffset = itemOffset
            while let top = open.indices.last {
                if !open[top].isMap {
                    open[top].elements.append(value)
                } else if let pendingKey = open[top].pendingKey {
                    // Like Chromium, a key is judged only once its value has been read.
                    try Self.checkNextKey(pendingKey.key, at: pendingKey.offset, after: open[top].entries)
                    open[top].entries.append((key: pendingKey.key, value: value))
                    open[top].pendingKey = nil
                } else {
                    open[top].pendingKey = (key: value, offset: valueOffset)
                    break
                }
                open[top].remaining -= 1
                guard open[top].remaining == 0 else { break }

                let container = open.removeLast()
                if container.isMap {
                    value = .map(CBORMap(canonicallyOrderedEntries: container.entries))
                } else {
                    value = .array(container.elements)
                }
                valueOffset = container.offset
            }
            if open.isEmpty {
                guard self.position == self.bytes.count else {
                    throw CBORError(.extraneousData, offset: self.position)
                }
                return value
            }
        }
    }

    /// Reads one item head and, for scalars and strings, its content.
    private mutating func readItemStart(at itemOffset: Int) throws(CBORError) -> ItemStart {
        let initialByte = try self.readByte()
        let majorType = initialByte >> 5
        let additionalInfo = initialByte & 0x1f

        if majorType == 7 {
            return .complete(try self.readSimpleValue(additionalInfo: additionalInfo, at: itemOffset))
        }
        if additionalInfo == 31 {
            // Only strings, arrays and maps have an indefinite-length form; elsewhere 31 is malformed.
            let code: CBORError.Code = (2...5).contains(majorType) ? .indefiniteLength : .unknownAdditionalInfo
            throw CBORError(code, offset: itemOffset)
        }
        let argument = try self.readArgument(additionalInfo: additionalInfo, at: itemOffset)

        switch majorType {
        case 0:
            guard let integer = Int64(exactly: argument) else {
                throw CBORError(.outOfRangeInteger, offset: itemOffset)
            }
            return .complete(.integer(integer))
        case 1:
            // The value is -1 - argument, which fits Int64 exactly when argument does.
            guard let magnitude = Int64(exactly: argument) else {
                throw CBORError(.outOfRangeInteger, offset: itemOffset)
            }
            return .complete(.integer(-1 - magnitude))
        case 2:
            let content = try self.readContent(length: argument)
            return .complete(.byteString(Array(self.bytes[content])))
        case 3:
            let content = try self.readContent(length: argument)
            guard let text = ChromiumUTF8.string(self.bytes, content) else {
                throw CBORError(.invalidUTF8, offset: itemOffset)
            }
            return .complete(.textString(text))
        case 4:
            // Every element takes at least one byte: more elements than bytes left can never complete.
            guard argument <= UInt64(self.remainingByteCount) else {
                throw CBORError(.incompleteData, offset: self.bytes.count)
            }
            return argument == 0 ? .complete(.array([])) : .array(count: Int(argument))
        case 5:
            // Every entry takes at least two bytes (a key and a value).
            guard argument <= UInt64(self.remainingByteCount / 2) else {
                throw CBORError(.incompleteData, offset: self.bytes.count)
            }
            return argument == 0 ? .complete(.map(CBORMap())) : .map(count: Int(argument))
        default:
            // Major type 6: tags. Chromium reads and checks the head first, then refuses the type.
            throw CBORError(.unsupportedMajorType, offset: itemOffset)
        }
    }

    /// Major type 7: false, true, null and undefined are supported; floats and other simple values are not.
    private mutating func readSimpleValue(additionalInfo: UInt8, at itemOffset: Int) throws(CBORError) -> CBORValue {
        switch additionalInfo {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 0..<20:
            throw CBORError(.unsupportedSimpleValue, offset: itemOffset)
        case 24:
            // One-byte simple value: values below 24 had a shorter form; 24...255 are not supported.
            let simpleValue = try self.readByte()
            let code: CBORError.Code = simpleValue < 24 ? .nonMinimalEncoding : .unsupportedSimpleValue
            throw CBORError(code, offset: itemOffset)
        case 25, 26, 27:
            // Half, single and double precision floats: read (so truncation reports as such), then refuse.
            _ = try self.readContent(length: 1 << UInt64(additionalInfo - 24))
            throw CBORError(.unsupportedFloatingPointValue, offset: itemOffset)
        default:
            // 28–30 are reserved; 31 is "break", which has no meaning outside an indefinite-length item.
            throw CBORError(.unknownAdditionalInfo, offset: itemOffset)
        }
    }

    // MARK: - Heads and bytes

    /// Reads the argument that follows an initial byte and checks that it used the shortest form.
    private mutating func readArgument(additionalInfo: UInt8, at itemOffset: Int) throws(CBORError) -> UInt64 {
        let byteCount: Int
        switch additionalInfo {
        case 0..<24: return UInt64(additionalInfo)
        case 24: byteCount = 1
        case 25: byteCount = 2
        case 26: byteCount = 4
        case 27: byteCount = 8
        default: throw CBORError(.unknownAdditionalInfo, offset: itemOffset)
        }
        let content = try self.readContent(length: UInt64(byteCount))
        var argument: UInt64 = 0
        for index in content {
            argument = argument << 8 | UInt64(self.bytes[index])
        }
        // Shortest form: 1 byte only for ≥ 24, and n bytes only for values that do not fit n/2 bytes.
        let largestShorterValue: UInt64 = byteCount == 1 ? 23 : (1 << UInt64(4 * byteCount)) - 1
        guard argument > largestShorterValue else {
            throw CBORError(.nonMinimalEncoding, offset: itemOffset)
        }
        return argument
    }

    private var remainingByteCount: Int { self.bytes.count - self.position }

    private mutating func readByte() throws(CBORError) -> UInt8 {
        guard self.position < self.bytes.count else {
            throw CBORError(.incompleteData, offset: self.bytes.count)
        }
        defer { self.position += 1 }
        return self.bytes[self.position]
    }

    /// Consumes `length` bytes and returns their indices, checking the length before using it for anything.
    private mutating func readContent(length: UInt64) throws(CBORError) -> Range<Int> {
        guard length <= UInt64(self.remainingByteCount) else {
            throw CBORError(.incompleteData, offset: self.bytes.count)
        }
        let start = self.position
        self.position += Int(length)
        return start..<self.position
    }

    // MARK: - Maps

    /// Checks that `key` may follow the entries read so far (whose keys are strictly increasing).
    private static func checkNextKey(
        _ key: CBORValue,
        at offset: Int,
        after entries: [CBORMap.Entry]
    )
        throws(CBORError)
    {
        guard key.isValidMapKey else {
            throw CBORError(.incorrectMapKeyType, offset: offset)
        }
        guard let previous = entries.last else { return }
        let order = CBORMap.canonicalOrder(previous.key, key)
        if order < 0 { return }
        if order == 0 {
            throw CBORError(.duplicateKey, offset: offset)
        }
        // Chromium inserts into an ordered map, so a repeat of any earlier key is a duplicate, not disorder.
        var low = 0
        var high = entries.count - 1
        while low < high {
            let middle = (low + high) / 2
            let comparison = CBORMap.canonicalOrder(entries[middle].key, key)
            if comparison == 0 {
                throw CBORError(.duplicateKey, offset: offset)
            }
            if comparison < 0 { low = middle + 1 } else { high = middle }
        }
        throw CBORError(.outOfOrderKey, offset: offset)
    }
}
