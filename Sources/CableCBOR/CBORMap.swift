/// A CBOR map whose entries are always held in CTAP2 canonical key order.
///
/// The order is Chromium's `cbor::Value::Less` (RFC 7049 errata 4409, as CTAP2 §8 requires):
/// a lower major type sorts first; within a major type a shorter encoding sorts first; encodings of
/// equal length compare byte-wise. Because the map is kept sorted, encoding it is always canonical.
/// Only integers, byte strings and text strings may be keys.
public struct CBORMap: Hashable, Sendable, Sequence {
    /// One key and its value.
    public typealias Entry = (key: CBORValue, value: CBORValue)

    /// Entries in canonical order. Invariant: strictly increasing keys under ``canonicalOrder(_:_:)``.
    public private(set) var entries: [Entry]

    /// An empty map.
    public init() { self.entries = [] }

    /// Builds a map from pairs. Traps on a duplicate or non-key value (programmer error); use
    /// ``CBORDecoder`` for data that came from outside.
    public init(uniqueKeysWithValues pairs: some Sequence<(CBORValue, CBORValue)>) {
        self.entries = []
        for (k, v) in pairs {
            precondition(k.isValidMapKey, "CBOR map keys must be integers or strings")
            precondition(self[k] == nil, "duplicate CBOR map key \(k)")
            self[k] = v
        }
    }

    /// Adopts entries that are already strictly increasing in canonical order (the decoder checks this as
    /// it reads them, so sorting again would be wasted work).
    init(canonicallyOrderedEntries entries: [Entry]) {
        self.entries = entries
    }

    /// Number of entries.
    public var count: Int { self.entries.count }
    /// Whether the map has no entries.
    public var isEmpty: Bool { self.entries.isEmpty }

    /// Reads or writes the value for `key`; writing `nil` removes the entry. Keeps canonical order.
    public subscript(key: CBORValue) -> CBORValue? {
        get {
            guard let i = self.index(of: key) else { return nil }
            return self.entries[i].value
        }
        set {
            precondition(key.isValidMapKey, "CBOR map keys must be integers or strings")
            let (found, i) = self.search(key)
            switch (found, newValue) {
            case (true, .some(let v)): self.entries[i].value = v
            case (true, .none): self.entries.remove(at: i)
            case (false, .some(let v)): self.entries.insert((key, v), at: i)
            case (false, .none): break
            }
        }
    }

    /// Iterates the entries in canonical key order.
    public func makeIterator() -> IndexingIterator<[Entry]> { self.entries.makeIterator() }

    private func index(of key: CBORValue) -> Int? {
        let (found, i) = self.search(key)
        return found ? i : nil
    }

    /// Binary search for `key`; returns whether it was found and where it is or would go.
    private func search(_ key: CBORValue) -> (Bool, Int) {
        var lo = 0
        var hi = self.entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let order = CBORMap.canonicalOrder(self.entries[mid].key, key)
            if order == 0 { return (true, mid) }
            if order < 0 { lo = mid + 1 } else { hi = mid }
        }
        return (false, lo)
    }

    /// Compares two map keys in CTAP2 canonical order: negative if `a` sorts first, 0 if equal.
    public static func canonicalOrder(_ a: CBORValue, _ b: CBORValue) -> Int {
        let ma = majorType(a)
        let mb = majorType(b)
        if ma != mb { return ma < mb ? -1 : 1 }
        switch (a, b) {
        case (.integer(let x), .integer(let y)):
            if x == y { return 0 }
            // Unsigned: smaller first. Negative: closer to zero first. Both mean "shorter, then lexical".
            if x >= 0 { return x < y ? -1 : 1 }
            return x > y ? -1 : 1
        case (.textString(var x), .textString(var y)):
            // Compare the UTF-8 in place; iterating two UTF8Views in step is several times slower.
            return x.withUTF8 { xBytes in y.withUTF8 { yBytes in compareLengthThenBytes(xBytes, yBytes) } }
        case (.byteString(let x), .byteString(let y)):
            return compareLengthThenBytes(x, y)
        default:
            preconditionFailure("only integers and strings are CBOR map keys")
        }
    }

    private static func majorType(_ v: CBORValue) -> Int {
        switch v {
        case .integer(let i): return i >= 0 ? 0 : 1
        case .byteString: return 2
        case .textString: return 3
        case .array: return 4
        case .map: return 5
        case .bool, .null, .undefined: return 7
        }
    }

    private static func compareLengthThenBytes<Bytes: Collection<UInt8>>(_ x: Bytes, _ y: Bytes) -> Int {
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
        return 0
    }

    /// Maps are equal when they hold equal keys with equal values (order is canonical, so entry by entry).
    public static func == (lhs: CBORMap, rhs: CBORMap) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the entries in canonical order, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.entries.count)
        for e in self.entries {
            hasher.combine(e.key)
            hasher.combine(e.value)
        }
    }
}

extension CBORMap: CustomStringConvertible {
    /// Diagnostic notation in canonical order, with byte strings redacted as in ``CBORValue/description``.
    public var description: String {
        "{" + self.entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
}
