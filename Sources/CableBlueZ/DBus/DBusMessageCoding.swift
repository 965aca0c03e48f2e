import CCableDBus

/// Reads message bodies into ``DBusValue`` and writes values into messages, through libdbus's
/// iterator API (no variadic C calls, which Swift cannot make).
///
/// libdbus has already checked that a received message is well-formed D-Bus (signatures, UTF-8,
/// its own depth limit of 32); what it cannot know is whether a peer sent the *types* the BlueZ API
/// promises. Reading therefore accepts any well-formed value, bounded in size, and leaves type
/// checks to the caller's pattern matching.
enum DBusMessageCoding {
    /// At most this many values are read from one message; a bigger body is refused as a whole
    /// (a `GetManagedObjects` reply from a busy BlueZ is a few thousand values).
    static let maxValuesPerMessage = 200_000
    /// Libdbus's own limit, repeated so the reader's recursion is bounded by its own check too.
    static let maxDepth = 32

    struct TooLarge: Error {}

    // MARK: Reading

    /// Every argument of `message`.
    static func arguments(of message: OpaquePointer) throws(TooLarge) -> [DBusValue] {
        var iter = DBusMessageIter()
        guard dbus_message_iter_init(message, &iter) != 0 else { return [] }
        var budget = self.maxValuesPerMessage
        var out: [DBusValue] = []
        while dbus_message_iter_get_arg_type(&iter) != DBusTypeCode.invalid {
            out.append(try self.read(&iter, depth: 0, budget: &budget))
            dbus_message_iter_next(&iter)
        }
        return out
    }

    private static func read(_ iter: inout DBusMessageIter, depth: Int, budget: inout Int) throws(TooLarge) -> DBusValue
    {
        budget -= 1
        guard budget >= 0, depth <= self.maxDepth else { throw TooLarge() }
        let type = dbus_message_iter_get_arg_type(&iter)
        switch type {
        case DBusTypeCode.byte: return .byte(self.basic(&iter, as: UInt8.self))
        case DBusTypeCode.boolean: return .boolean(self.basic(&iter, as: UInt32.self) != 0)
        case DBusTypeCode.int16: return .int16(self.basic(&iter, as: Int16.self))
        case DBusTypeCode.uint16: return .uint16(self.basic(&iter, as: UInt16.self))
        case DBusTypeCode.int32: return .int32(self.basic(&iter, as: Int32.self))
        case DBusTypeCode.uint32: return .uint32(self.basic(&iter, as: UInt32.self))
        case DBusTypeCode.int64: return .int64(self.basic(&iter, as: Int64.self))
        case DBusTypeCode.uint64: return .uint64(self.basic(&iter, as: UInt64.self))
        case DBusTypeCode.double: return .double(self.basic(&iter, as: Double.self))
        case DBusTypeCode.string: return .string(self.text(&iter))
        case DBusTypeCode.objectPath: return .objectPath(self.text(&iter))
        case DBusTypeCode.signature: return .signature(self.text(&iter))
        case DBusTypeCode.unixFD: return .unixFileDescriptor
        case DBusTypeCode.variant:
            var inner = DBusMessageIter()
            dbus_message_iter_recurse(&iter, &inner)
            return .variant(try self.read(&inner, depth: depth + 1, budget: &budget))
        case DBusTypeCode.structure:
            var inner = DBusMessageIter()
            dbus_message_iter_recurse(&iter, &inner)
            var fields: [DBusValue] = []
            while dbus_message_iter_get_arg_type(&inner) != DBusTypeCode.invalid {
                fields.append(try self.read(&inner, depth: depth + 1, budget: &budget))
                dbus_message_iter_next(&inner)
            }
            return .structure(fields)
        case DBusTypeCode.array:
            return try self.readArray(&iter, depth: depth, budget: &budget)
        default:
            // A type this reader does not know (libdbus would not hand one over): read as nothing.
            return .structure([])
        }
    }

    private static func readArray(
        _ iter: inout DBusMessageIter,
        depth: Int,
        budget: inout Int
    ) throws(TooLarge) -> DBusValue {
        let signature = self.signature(&iter)
        var inner = DBusMessageIter()
        dbus_message_iter_recurse(&iter, &inner)
        if dbus_message_iter_get_element_type(&iter) == DBusTypeCode.byte {
            var pointer: UnsafeMutableRawPointer?
            var count: Int32 = 0
            dbus_message_iter_get_fixed_array(&inner, &pointer, &count)
            budget -= Int(count)
            guard budget >= 0 else { throw TooLarge() }
            guard let pointer, count > 0 else { return .bytes([]) }
            let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: Int(count)))
            return .bytes(bytes)
        }
        if signature.hasPrefix("a{"), signature.count >= 4 {
            let chars = Array(signature)
            let key = String(chars[2])
            let value = String(chars[3..<(chars.count - 1)])
            var entries: [DBusDictEntry] = []
            while dbus_message_iter_get_arg_type(&inner) == DBusTypeCode.dictEntry {
                var entry = DBusMessageIter()
                dbus_message_iter_recurse(&inner, &entry)
                let k = try self.read(&entry, depth: depth + 2, budget: &budget)
                dbus_message_iter_next(&entry)
                let v = try self.read(&entry, depth: depth + 2, budget: &budget)
                entries.append(DBusDictEntry(key: k, value: v))
                dbus_message_iter_next(&inner)
            }
            return .dictionary(keySignature: key, valueSignature: value, entries)
        }
        var elements: [DBusValue] = []
        while dbus_message_iter_get_arg_type(&inner) != DBusTypeCode.invalid {
            elements.append(try self.read(&inner, depth: depth + 1, budget: &budget))
            dbus_message_iter_next(&inner)
        }
        return .array(elementSignature: String(signature.dropFirst()), elements)
    }

    private static func basic<T: FixedWidthInteger>(_ iter: inout DBusMessageIter, as: T.Type) -> T {
        var value: T = 0
        withUnsafeMutablePointer(to: &value) { dbus_message_iter_get_basic(&iter, $0) }
        return value
    }

    private static func basic(_ iter: inout DBusMessageIter, as: Double.Type) -> Double {
        var value = 0.0
        withUnsafeMutablePointer(to: &value) { dbus_message_iter_get_basic(&iter, $0) }
        return value
    }

    private static func text(_ iter: inout DBusMessageIter) -> String {
        var pointer: UnsafePointer<CChar>?
        withUnsafeMutablePointer(to: &pointer) { dbus_message_iter_get_basic(&iter, $0) }
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    private static func signature(_ iter: inout DBusMessageIter) -> String {
        guard let raw = dbus_message_iter_get_signature(&iter) else { return "" }
        defer { dbus_free(raw) }
        return String(cString: raw)
    }

    // MARK: Writing

    /// Why a value cannot be written: libdbus aborts the process on some invalid arguments
    /// (its "check failed" warnings are fatal), so every value is validated here first.
    struct Unwritable: Error {
        let reason: String
    }

    /// Appends `values` as the message's arguments.
    static func append(_ values: [DBusValue], to message: OpaquePointer) throws(Unwritable) {
        for v in values { try self.validate(v) }
        var iter = DBusMessageIter()
        dbus_message_iter_init_append(message, &iter)
        for v in values {
            guard self.write(v, to: &iter) else { throw Unwritable(reason: "out of memory writing a D-Bus message") }
        }
    }

    /// Checks what libdbus would otherwise assert on.
    static func validate(_ value: DBusValue, depth: Int = 0) throws(Unwritable) {
        guard depth <= self.maxDepth else { throw Unwritable(reason: "value nested too deep") }
        switch value {
        case .string(let s):
            guard !s.utf8.contains(0) else { throw Unwritable(reason: "a string holds NUL") }
        case .objectPath(let p):
            guard Self.isValidObjectPath(p) else { throw Unwritable(reason: "\(p) is not a D-Bus object path") }
        case .signature(let s):
            guard !s.utf8.contains(0), s.withCString({ dbus_signature_validate($0, nil) }) != 0 else {
                throw Unwritable(reason: "not a D-Bus signature")
            }
        case .array(let element, let values):
            guard element.withCString({ dbus_signature_validate_single($0, nil) }) != 0 else {
                throw Unwritable(reason: "array element signature \(element) is not a single type")
            }
            for v in values {
                guard v.signature == element else { throw Unwritable(reason: "array element is not \(element)") }
                try self.validate(v, depth: depth + 1)
            }
        case .dictionary(let key, let valueSignature, let entries):
            guard key.count == 1, "ybnqiuxtdsog".contains(key),
                valueSignature.withCString({ dbus_signature_validate_single($0, nil) }) != 0
            else { throw Unwritable(reason: "dictionary signature a{\(key)\(valueSignature)} is invalid") }
            for e in entries {
                guard e.key.signature == key, e.value.signature == valueSignature else {
                    throw Unwritable(reason: "dictionary entry does not match a{\(key)\(valueSignature)}")
                }
                try self.validate(e.key, depth: depth + 2)
                try self.validate(e.value, depth: depth + 2)
            }
        case .structure(let fields):
            guard !fields.isEmpty else { throw Unwritable(reason: "an empty structure cannot be written") }
            for f in fields { try self.validate(f, depth: depth + 1) }
        case .variant(let inner):
            try self.validate(inner, depth: depth + 1)
        case .unixFileDescriptor:
            throw Unwritable(reason: "file descriptors are not sent")
        case .byte, .boolean, .int16, .uint16, .int32, .uint32, .int64, .uint64, .double:
            break
        }
    }

    /// Whether libdbus accepts `path` as an object path.
    static func isValidObjectPath(_ path: String) -> Bool {
        !path.utf8.contains(0) && path.withCString { dbus_validate_path($0, nil) } != 0
    }

    private static func write(_ value: DBusValue, to iter: inout DBusMessageIter) -> Bool {
        switch value {
        case .byte(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.byte, &v) != 0
        case .boolean(let b):
            var v: UInt32 = b ? 1 : 0
            return dbus_message_iter_append_basic(&iter, DBusTypeCode.boolean, &v) != 0
        case .int16(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.int16, &v) != 0
        case .uint16(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.uint16, &v) != 0
        case .int32(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.int32, &v) != 0
        case .uint32(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.uint32, &v) != 0
        case .int64(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.int64, &v) != 0
        case .uint64(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.uint64, &v) != 0
        case .double(var v): return dbus_message_iter_append_basic(&iter, DBusTypeCode.double, &v) != 0
        case .string(let s): return self.appendText(s, type: DBusTypeCode.string, to: &iter)
        case .objectPath(let s): return self.appendText(s, type: DBusTypeCode.objectPath, to: &iter)
        case .signature(let s): return self.appendText(s, type: DBusTypeCode.signature, to: &iter)
        case .unixFileDescriptor: return false
        case .variant(let inner):
            return self.container(DBusTypeCode.variant, inner.signature, &iter) { sub in self.write(inner, to: &sub) }
        case .structure(let fields):
            return self.container(DBusTypeCode.structure, nil, &iter) { sub in
                fields.allSatisfy { self.write($0, to: &sub) }
            }
        case .array(let element, let values):
            return self.container(DBusTypeCode.array, element, &iter) { sub in
                values.allSatisfy { self.write($0, to: &sub) }
            }
        case .dictionary(let key, let valueSignature, let entries):
            return self.container(DBusTypeCode.array, "{" + key + valueSignature + "}", &iter) { sub in
                entries.allSatisfy { e in
                    self.container(DBusTypeCode.dictEntry, nil, &sub) { pair in
                        self.write(e.key, to: &pair) && self.write(e.value, to: &pair)
                    }
                }
            }
        }
    }

    private static func appendText(_ s: String, type: Int32, to iter: inout DBusMessageIter) -> Bool {
        s.withCString { c in
            var pointer: UnsafePointer<CChar>? = c
            return dbus_message_iter_append_basic(&iter, type, &pointer) != 0
        }
    }

    private static func container(
        _ type: Int32,
        _ contained: String?,
        _ iter: inout DBusMessageIter,
        _ body: (inout DBusMessageIter) -> Bool
    ) -> Bool {
        var sub = DBusMessageIter()
        let opened: Bool
        if let contained {
            opened = contained.withCString { dbus_message_iter_open_container(&iter, type, $0, &sub) } != 0
        } else {
            opened = dbus_message_iter_open_container(&iter, type, nil, &sub) != 0
        }
        guard opened else { return false }
        guard body(&sub) else {
            dbus_message_iter_abandon_container(&iter, &sub)
            return false
        }
        return dbus_message_iter_close_container(&iter, &sub) != 0
    }
}

/// The D-Bus type codes (libdbus defines them as cast macros, which Swift does not import).
enum DBusTypeCode {
    static let invalid: Int32 = 0
    static let byte = Int32(UInt8(ascii: "y"))
    static let boolean = Int32(UInt8(ascii: "b"))
    static let int16 = Int32(UInt8(ascii: "n"))
    static let uint16 = Int32(UInt8(ascii: "q"))
    static let int32 = Int32(UInt8(ascii: "i"))
    static let uint32 = Int32(UInt8(ascii: "u"))
    static let int64 = Int32(UInt8(ascii: "x"))
    static let uint64 = Int32(UInt8(ascii: "t"))
    static let double = Int32(UInt8(ascii: "d"))
    static let string = Int32(UInt8(ascii: "s"))
    static let objectPath = Int32(UInt8(ascii: "o"))
    static let signature = Int32(UInt8(ascii: "g"))
    static let unixFD = Int32(UInt8(ascii: "h"))
    static let array = Int32(UInt8(ascii: "a"))
    static let variant = Int32(UInt8(ascii: "v"))
    static let structure = Int32(UInt8(ascii: "r"))
    static let dictEntry = Int32(UInt8(ascii: "e"))
}
