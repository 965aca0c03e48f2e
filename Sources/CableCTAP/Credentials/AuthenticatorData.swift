import CableCBOR

/// The authenticator data structure that an authenticator signs (WebAuthn §6.1):
///
/// ```
/// rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian)
///   ‖ [attestedCredentialData: aaguid (16) ‖ credentialIdLength (2, big-endian) ‖ credentialId ‖ COSE key]
///   ‖ [extensions: CBOR map]
/// ```
///
/// Parsing is strict: the attested credential data is present exactly when the AT flag is set, the
/// extensions map exactly when ED is set, nothing may follow, the credential ID is at most 1023 bytes,
/// and the COSE key and extensions must each be one canonical CBOR item.
public struct AuthenticatorData: Hashable, Sendable {
    /// Length of the RP ID hash.
    public static let rpIDHashByteCount = 32
    /// Length of the fixed prefix (rpIdHash, flags, signCount).
    public static let fixedPartByteCount = 37

    /// The flags byte (WebAuthn §6.1, "flags").
    public struct Flags: OptionSet, Hashable, Sendable, CustomStringConvertible {
        /// The flags byte.
        public let rawValue: UInt8
        /// Wraps a flags byte.
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// UP (bit 0): the user was present.
        public static let userPresent = Self(rawValue: 0x01)
        /// UV (bit 2): the user was verified (biometric, PIN).
        public static let userVerified = Self(rawValue: 0x04)
        /// BE (bit 3): the credential may be backed up (synced passkey).
        public static let backupEligible = Self(rawValue: 0x08)
        /// BS (bit 4): the credential is currently backed up.
        public static let backedUp = Self(rawValue: 0x10)
        /// AT (bit 6): attested credential data follows.
        public static let attestedCredentialData = Self(rawValue: 0x40)
        /// ED (bit 7): an extensions map follows.
        public static let extensionData = Self(rawValue: 0x80)

        /// The byte and the set flags, e.g. `0x45 [UP,UV,AT]`.
        public var description: String {
            let names: [(Self, String)] = [
                (.userPresent, "UP"), (.userVerified, "UV"), (.backupEligible, "BE"), (.backedUp, "BS"),
                (.attestedCredentialData, "AT"), (.extensionData, "ED"),
            ]
            let set = names.filter { self.contains($0.0) }.map(\.1)
            let hex = String(self.rawValue, radix: 16)
            return "0x\(hex.count == 1 ? "0" + hex : hex) [\(set.joined(separator: ","))]"
        }
    }

    /// SHA-256 of the RP ID the credential is scoped to.
    public let rpIDHash: [UInt8]
    /// The flags; AT and ED always agree with ``attestedCredentialData`` and ``extensions``.
    public let flags: Flags
    /// The signature counter (0 when the authenticator keeps none, as synced passkeys do).
    public let signCount: UInt32
    /// The new credential (registrations only).
    public let attestedCredentialData: AttestedCredentialData?
    /// Authenticator extension outputs, keyed by extension identifier.
    public let extensions: CBORMap?

    /// Builds authenticator data (what an authenticator does before signing).
    ///
    /// AT and ED in `flags` are replaced to match whether `attestedCredentialData` and `extensions` are
    /// present, so the result is always self-consistent.
    /// - Precondition: `rpIDHash` is 32 bytes (it is computed by the caller, never read from outside).
    public init(
        rpIDHash: [UInt8],
        flags: Flags,
        signCount: UInt32,
        attestedCredentialData: AttestedCredentialData? = nil,
        extensions: CBORMap? = nil
    ) {
        precondition(rpIDHash.count == Self.rpIDHashByteCount, "rpIdHash must be 32 bytes")
        var flags = flags
        flags.remove([.attestedCredentialData, .extensionData])
        if attestedCredentialData != nil { flags.insert(.attestedCredentialData) }
        if extensions != nil { flags.insert(.extensionData) }
        self.rpIDHash = rpIDHash
        self.flags = flags
        self.signCount = signCount
        self.attestedCredentialData = attestedCredentialData
        self.extensions = extensions
    }

    /// Parses authenticator data strictly.
    /// - Throws: ``CTAPError`` with ``CTAPError/Code/truncated``, ``CTAPError/Code/trailingBytes``,
    ///   ``CTAPError/Code/tooLong`` (credential ID), ``CTAPError/Code/invalidCBOR`` or a COSE key error.
    public init(bytes input: some Collection<UInt8>, field: String = "authenticatorData") throws(CTAPError) {
        let bytes = Array(input)
        guard bytes.count <= CTAPLimits.maxMessageSize else {
            throw CTAPError(
                .tooLong,
                field: field,
                "\(bytes.count) bytes, at most \(CTAPLimits.maxMessageSize) allowed"
            )
        }
        guard bytes.count >= Self.fixedPartByteCount else {
            throw CTAPError(
                .truncated,
                field: field,
                "\(bytes.count) bytes, the fixed part alone is \(Self.fixedPartByteCount)"
            )
        }
        self.rpIDHash = Array(bytes[0..<32])
        self.flags = Flags(rawValue: bytes[32])
        self.signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        var index = Self.fixedPartByteCount

        if self.flags.contains(.attestedCredentialData) {
            let (credential, end) = try AttestedCredentialData.parse(
                bytes,
                from: index,
                field: "\(field).attestedCredentialData"
            )
            self.attestedCredentialData = credential
            index = end
        } else {
            self.attestedCredentialData = nil
        }

        if self.flags.contains(.extensionData) {
            guard index < bytes.count else {
                throw CTAPError(.truncated, field: "\(field).extensions", "the ED flag is set but no extensions follow")
            }
            let end: Int
            do {
                end = try CBORItemBoundary.end(of: bytes, from: index)
            } catch .truncated {
                throw CTAPError(.truncated, field: "\(field).extensions", "the input ends inside the extensions map")
            } catch {
                throw CTAPError(.invalidCBOR, field: "\(field).extensions", "the extensions are not well-formed CBOR")
            }
            guard end == bytes.count else {
                throw CTAPError(.trailingBytes, field: field, "\(bytes.count - end) bytes after the extensions map")
            }
            let value = try CTAPCBOR.decode(bytes[index..<end], field: "\(field).extensions")
            self.extensions = try CTAPRead.textKeyedMap(value, "\(field).extensions")
        } else {
            guard index == bytes.count else {
                let what = self.flags.contains(.attestedCredentialData) ? "the COSE key" : "signCount"
                throw CTAPError(
                    .trailingBytes,
                    field: field,
                    "\(bytes.count - index) bytes after \(what) while the ED flag is clear"
                )
            }
            self.extensions = nil
        }
    }

    /// The encoding (identical to the parsed input, because parsing accepts only canonical CBOR).
    public var bytes: [UInt8] {
        var out = self.rpIDHash
        out.append(self.flags.rawValue)
        out += [
            UInt8(self.signCount >> 24 & 0xFF), UInt8(self.signCount >> 16 & 0xFF),
            UInt8(self.signCount >> 8 & 0xFF), UInt8(self.signCount & 0xFF),
        ]
        if let credential = self.attestedCredentialData { out += credential.bytes }
        if let extensions = self.extensions { out += CBORValue.map(extensions).encoded }
        return out
    }
}

/// The credential part of registration authenticator data (WebAuthn §6.5.1).
public struct AttestedCredentialData: Hashable, Sendable {
    /// The authenticator model.
    public let aaguid: AAGUID
    /// The credential ID (1…1023 bytes).
    public let credentialID: [UInt8]
    /// The credential public key.
    public let publicKey: COSEKey

    /// Builds attested credential data.
    /// - Throws: ``CTAPError/Code/tooLong`` for a credential ID over 1023 bytes,
    ///   ``CTAPError/Code/invalidLength`` for an empty one.
    public init(aaguid: AAGUID, credentialID: [UInt8], publicKey: COSEKey) throws(CTAPError) {
        try Self.checkCredentialIDLength(credentialID.count, field: "attestedCredentialData.credentialId")
        self.aaguid = aaguid
        self.credentialID = credentialID
        self.publicKey = publicKey
    }

    /// `aaguid ‖ credentialIdLength (BE) ‖ credentialId ‖ COSE key`.
    public var bytes: [UInt8] {
        self.aaguid.bytes + [UInt8(self.credentialID.count >> 8), UInt8(self.credentialID.count & 0xFF)]
            + self.credentialID + self.publicKey.encoded
    }

    /// Parses attested credential data starting at `start`; returns it and the index just past the COSE key.
    static func parse(_ bytes: [UInt8], from start: Int, field: String) throws(CTAPError) -> (Self, Int) {
        // aaguid (16) + credentialIdLength (2)
        guard bytes.count - start >= AAGUID.byteCount + 2 else {
            throw CTAPError(.truncated, field: field, "the AT flag is set but only \(bytes.count - start) bytes follow")
        }
        let aaguid = try AAGUID(bytes: bytes[start..<start + 16], field: "\(field).aaguid")
        let length = Int(bytes[start + 16]) << 8 | Int(bytes[start + 17])
        try Self.checkCredentialIDLength(length, field: "\(field).credentialIdLength")
        let idStart = start + 18
        guard bytes.count - idStart >= length else {
            throw CTAPError(
                .truncated,
                field: "\(field).credentialId",
                "length says \(length) bytes, \(bytes.count - idStart) remain"
            )
        }
        let keyStart = idStart + length
        let keyEnd: Int
        do {
            keyEnd = try CBORItemBoundary.end(of: bytes, from: keyStart)
        } catch .truncated {
            throw CTAPError(.truncated, field: "\(field).credentialPublicKey", "the input ends inside the COSE key")
        } catch {
            throw CTAPError(.invalidCBOR, field: "\(field).credentialPublicKey", "the COSE key is not well-formed CBOR")
        }
        let key = try COSEKey(encoded: bytes[keyStart..<keyEnd], field: "\(field).credentialPublicKey")
        let credential = Self(uncheckedAAGUID: aaguid, credentialID: Array(bytes[idStart..<keyStart]), publicKey: key)
        return (credential, keyEnd)
    }

    private init(uncheckedAAGUID aaguid: AAGUID, credentialID: [UInt8], publicKey: COSEKey) {
        self.aaguid = aaguid
        self.credentialID = credentialID
        self.publicKey = publicKey
    }

    private static func checkCredentialIDLength(_ length: Int, field: String) throws(CTAPError) {
        guard length >= 1 else { throw CTAPError(.invalidLength, field: field, "a credential ID cannot be empty") }
        guard length <= CTAPLimits.maxCredentialIDLength else {
            throw CTAPError(
                .tooLong,
                field: field,
                "\(length) bytes, at most \(CTAPLimits.maxCredentialIDLength) allowed"
            )
        }
    }
}

extension CTAPError.Code {
    /// The input ends before a structure it announces (fixed part, credential, COSE key, extensions).
    public static let truncated = Self("truncated", status: .invalidLength)
    /// Bytes follow the last structure the flags announce.
    public static let trailingBytes = Self("trailingBytes", status: .invalidLength)
}
