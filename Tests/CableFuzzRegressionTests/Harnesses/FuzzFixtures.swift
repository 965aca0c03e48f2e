import Foundation

/// Fixed keys and messages the harnesses need, read from the known-answer vectors in `Spec/vectors/`
/// (never invented here), so a seed taken from the same vector passes every check and the fuzzer starts
/// from the accepting path.
///
/// A missing vector is a broken checkout, not fuzz input: it traps with the file and vector ID.
enum FuzzFixtures {
    /// `noise-knpsk0.json` `knpsk0_fixed_ephemerals`: QR-flow handshake keys.
    static let qrHandshake = Self.vector("noise-knpsk0", "knpsk0_fixed_ephemerals")
    /// `noise-nkpsk0.json` `nkpsk0_fixed_ephemerals`: linked-flow handshake keys.
    static let linkedHandshake = Self.vector("noise-nkpsk0", "nkpsk0_fixed_ephemerals")
    /// `crypter.json` `crypter_constructions_new_counter0`: a read key at sequence number 0.
    static let crypter = Self.vector("crypter", "crypter_constructions_new_counter0")
    /// `eid-advert.json` `eid_decrypt_known`: the QR secret behind a captured advert.
    static let advert = Self.vector("eid-advert", "eid_decrypt_known")
    /// `webauthn-registrations.json` `registration_none_py_webauthn`: a browser registration.
    static let registration = Self.vector("webauthn-registrations", "registration_none_py_webauthn")
    /// `webauthn-assertions.json` `assertion_ec2_py_webauthn`: a browser assertion and its credential.
    static let assertion = Self.vector("webauthn-assertions", "assertion_ec2_py_webauthn")
    /// `ctap-requests.json` `make_credential_derived_session`: a makeCredential the phone accepts.
    static let makeCredential = Self.vector("ctap-requests", "make_credential_derived_session")

    /// The `input` object of one vector.
    struct Vector: Sendable {
        let file: String
        let id: String
        let input: [String: String]
        let numbers: [String: Int]

        /// A hex field of `input`, decoded.
        func bytes(_ key: String) -> [UInt8] {
            guard let text = self.input[key], let bytes = FuzzFixtures.decodeHex(text) else {
                preconditionFailure("Spec/vectors/\(self.file).json \(self.id): input.\(key) is not hex")
            }
            return bytes
        }

        /// A text field of `input`.
        func text(_ key: String) -> String {
            guard let text = self.input[key] else {
                preconditionFailure("Spec/vectors/\(self.file).json \(self.id): input.\(key) is missing")
            }
            return text
        }

        /// An integer field of `input`.
        func integer(_ key: String) -> Int {
            guard let number = self.numbers[key] else {
                preconditionFailure("Spec/vectors/\(self.file).json \(self.id): input.\(key) is not an integer")
            }
            return number
        }
    }

    /// The repository's `Spec/vectors`, found by walking up from this file (also when it is reached
    /// through the `Fuzz/Sources/FuzzHarnesses` symlink).
    static let vectorDirectory: URL = {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("Spec/vectors")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        preconditionFailure("Spec/vectors not found above \(#filePath)")
    }()

    /// Loads one vector's string and integer inputs.
    static func vector(_ file: String, _ id: String) -> Vector {
        let url = Self.vectorDirectory.appendingPathComponent("\(file).json")
        guard let data = try? Data(contentsOf: url),
            let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let vectors = root["vectors"] as? [[String: Any]],
            let vector = vectors.first(where: { $0["id"] as? String == id }),
            let input = vector["input"] as? [String: Any]
        else {
            preconditionFailure("Spec/vectors/\(file).json has no vector \(id)")
        }
        return Vector(
            file: file,
            id: id,
            input: input.compactMapValues { $0 as? String },
            numbers: input.compactMapValues { ($0 as? NSNumber)?.intValue }
        )
    }

    /// Strict lower- or upper-case hex.
    static func decodeHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
