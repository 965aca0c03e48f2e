/// One D-Bus value as it travels in a message body, typed the way the wire types it. Everything the
/// system bus hands us is read into this model first (bounded in depth and size), so the BlueZ code
/// above it only ever pattern-matches on values and never trusts a variant to hold what it should.
package indirect enum DBusValue: Hashable, Sendable {
    case byte(UInt8)
    case boolean(Bool)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case string(String)
    case objectPath(String)
    case signature(String)
    /// `a<element>`; the element signature is kept so an empty array can be written.
    case array(elementSignature: String, [DBusValue])
    /// `a{<key><value>}`, entries in wire order.
    case dictionary(keySignature: String, valueSignature: String, [DBusDictEntry])
    case structure([DBusValue])
    case variant(DBusValue)
    /// A file descriptor was received; it is not kept (nothing here needs one).
    case unixFileDescriptor

    /// The value's D-Bus type signature.
    package var signature: String {
        switch self {
        case .byte: return "y"
        case .boolean: return "b"
        case .int16: return "n"
        case .uint16: return "q"
        case .int32: return "i"
        case .uint32: return "u"
        case .int64: return "x"
        case .uint64: return "t"
        case .double: return "d"
        case .string: return "s"
        case .objectPath: return "o"
        case .signature: return "g"
        case .array(let element, _): return "a" + element
        case .dictionary(let key, let value, _): return "a{" + key + value + "}"
        case .structure(let fields): return "(" + fields.map(\.signature).joined() + ")"
        case .variant: return "v"
        case .unixFileDescriptor: return "h"
        }
    }

    // MARK: Reading, without trusting the type.

    /// The string, if this is a string.
    package var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The path, if this is an object path.
    package var objectPathValue: String? { if case .objectPath(let p) = self { return p } else { return nil } }
    /// The boolean, if this is a boolean.
    package var boolValue: Bool? { if case .boolean(let b) = self { return b } else { return nil } }
    /// What a variant holds; a non-variant is returned as is (BlueZ's dictionaries are `a{sv}`).
    package var unwrapped: DBusValue { if case .variant(let v) = self { return v.unwrapped } else { return self } }

    /// The bytes, if this is `ay`.
    package var byteArray: [UInt8]? {
        guard case .array(let element, let values) = self, element == "y" else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count)
        for v in values {
            guard case .byte(let b) = v else { return nil }
            out.append(b)
        }
        return out
    }

    /// A dictionary with string keys (`a{sv}`, `a{sa{sv}}`, …) as Swift pairs; `nil` for anything
    /// else. A repeated key keeps its first value, as a stranger's duplicates must not override.
    package var stringKeyedEntries: [(key: String, value: DBusValue)]? {
        guard case .dictionary(_, _, let entries) = self else { return nil }
        var seen = Set<String>()
        var out: [(key: String, value: DBusValue)] = []
        for e in entries {
            guard let key = e.key.stringValue ?? e.key.objectPathValue, seen.insert(key).inserted else { continue }
            out.append((key, e.value))
        }
        return out
    }

    /// The value under `key` of a string-keyed dictionary.
    package subscript(key: String) -> DBusValue? {
        self.stringKeyedEntries?.first { $0.key == key }?.value
    }

    // MARK: Building.

    /// `ay`.
    package static func bytes(_ bytes: [UInt8]) -> DBusValue { .array(elementSignature: "y", bytes.map { .byte($0) }) }

    /// `a{sv}`, keys in the given order.
    package static func properties(_ pairs: [(String, DBusValue)]) -> DBusValue {
        .dictionary(
            keySignature: "s",
            valueSignature: "v",
            pairs.map { DBusDictEntry(key: .string($0.0), value: .variant($0.1)) }
        )
    }
}

/// One entry of a D-Bus dictionary.
package struct DBusDictEntry: Hashable, Sendable {
    package let key: DBusValue
    package let value: DBusValue
    package init(key: DBusValue, value: DBusValue) {
        self.key = key
        self.value = value
    }
}
