import CableAuthenticator
import CableCTAP
import CableCeremonies
import CableProtocol
import CableRelyingParty
import CableTestSupport
import Foundation
import Logging
import Testing

/// The same WebAuthn Level 3 JSON verified by this relying party and by py_webauthn (Duo Labs, PyPI
/// `webauthn`): real responses from py_webauthn's own test suite (Spec/vectors/webauthn-json-responses.json)
/// and responses our phone model produces through ``WebAuthnClient``, intact and broken. Both must give
/// the same verdict on every case.
@Suite(.serialized) struct PyWebAuthnCrossCheckTests {
    /// One case as both verifiers see it.
    struct Case: Codable, Sendable {
        var id: String
        var kind: String
        var credential: String
        var challenge: String
        var rpId: String
        var origins: [String]
        var requireUserVerification: Bool
        var credentialPublicKey: String?
        var signCount: UInt32?
        /// The record's user handle (ours only; py_webauthn is given the key and counter).
        var userHandle: String?

        enum CodingKeys: String, CodingKey {
            case id, kind, credential, challenge, rpId, requireUserVerification, credentialPublicKey, signCount
            case origins = "origin"
        }
    }

    struct Verdict: Equatable {
        var ok: Bool
        var signCount: UInt32?
        var detail: String
    }

    // MARK: Our verdict

    static func ours(_ c: Case) -> Verdict {
        let relyingParty = RelyingParty(
            id: c.rpId,
            origin: c.origins[0],
            policy: RelyingParty.Policy(requireUserVerification: c.requireUserVerification)
        )
        let challenge = Base64URL.decode(c.challenge) ?? []
        let far = Date(timeIntervalSince1970: 4_000_000_000)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let key = c.credentialPublicKey.flatMap { Base64URL.decode($0) }.flatMap {
            try? COSEKey(encoded: $0, field: "key")
        }
        do throws(RelyingPartyError) {
            if c.kind == "registration" {
                let response = try RegistrationResponseJSON(json: Array(c.credential.utf8))
                let expected = ExpectedRegistration(
                    challenge: Base64URLBytes(challenge),
                    rpID: c.rpId,
                    origins: c.origins,
                    allowedTopOrigins: [],
                    userHandle: Base64URLBytes([1]),
                    userName: "user",
                    userDisplayName: "user",
                    requireUserVerification: c.requireUserVerification,
                    expiresAt: far
                )
                let verified = try relyingParty.verifyRegistrationResponse(response, expected: expected, now: now)
                return Verdict(ok: true, signCount: verified.signCount, detail: Base64URL.encode(verified.credentialID))
            }
            let response = try AuthenticationResponseJSON(json: Array(c.credential.utf8))
            let handle = response.response.userHandle?.bytes ?? c.userHandle.flatMap { Base64URL.decode($0) } ?? [1]
            guard let key else { return Verdict(ok: false, detail: "credentialPublicKey is not an ES256 COSE key") }
            let record = CredentialRecord(
                credentialID: response.rawId.bytes,
                friendlyName: c.id,
                aaguid: .zero,
                publicKey: key,
                signCount: c.signCount ?? 0,
                userName: "user",
                userHandle: handle,
                attestationFormat: "none",
                createdAt: now
            )
            let expected = ExpectedAuthentication(
                challenge: Base64URLBytes(challenge),
                rpID: c.rpId,
                origins: c.origins,
                allowedTopOrigins: [],
                allowCredentials: [response.rawId],
                userHandle: Base64URLBytes(handle),
                requireUserVerification: c.requireUserVerification,
                expiresAt: far
            )
            let verified = try relyingParty.verifyAuthenticationResponse(response, expected: expected, now: now) {
                (id: [UInt8]) throws(RelyingPartyError) -> CredentialRecord? in id == record.credentialID ? record : nil
            }
            return Verdict(ok: true, signCount: verified.newSignCount, detail: Base64URL.encode(verified.credentialID))
        } catch {
            return Verdict(ok: false, detail: error.code.rawValue)
        }
    }

    // MARK: py_webauthn's verdict

    static func theirs(_ cases: [Case]) async throws -> [String: Verdict] {
        let python = try #require(PythonVenv.interpreter, "Python venv .venv-tools not found: run `make venv`")
        let input = FileManager.default.temporaryDirectory.appendingPathComponent(
            "py-webauthn-\(UUID().uuidString).json"
        )
        defer { try? FileManager.default.removeItem(at: input) }
        try JSONEncoder().encode(cases).write(to: input)
        let output = try await PythonVenv.run(
            python,
            script: PythonVenv.script("py_webauthn_verdicts.py"),
            arguments: [input.path]
        )
        let last = try #require(
            output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            "no JSON from python:\n\(output)"
        )
        let result = try JSONDecoder().decode(JSONValue.self, from: Data(last.utf8))
        let verdicts = try #require(result["verdicts"]?.object)
        return verdicts.mapValues { v in
            Verdict(
                ok: v["ok"]?.bool ?? false,
                signCount: v["signCount"]?.int64.map { UInt32(clamping: $0) },
                detail: v["error"]?.string ?? v["credentialId"]?.string ?? ""
            )
        }
    }

    static func compare(_ cases: [Case], expectations: [String: Bool]) async throws {
        let verdicts = try await Self.theirs(cases)
        for c in cases {
            let mine = Self.ours(c)
            let other = try #require(verdicts[c.id], "py_webauthn gave no verdict for \(c.id)")
            #expect(mine.ok == other.ok, "\(c.id): ours \(mine), py_webauthn \(other)")
            if mine.ok, other.ok {
                #expect(mine.signCount == other.signCount, "\(c.id)")
                #expect(mine.detail == other.detail, "\(c.id): credential IDs differ")
            }
            if let expected = expectations[c.id] {
                #expect(mine.ok == expected, "\(c.id): ours \(mine)")
            }
        }
    }

    // MARK: Vectors from py_webauthn's test suite

    struct VectorFile: Decodable {
        struct Vector: Decodable {
            struct Input: Decodable {
                var kind: String
                var credential: String
                var challenge: String
                var rpId: String
                var origins: [String]
                var requireUserVerification: Bool
                var credentialPublicKey: String?
                var storedSignCount: UInt32?
            }
            var id: String
            var input: Input
            var result: String
            var errorCode: String?
        }
        var vectors: [Vector]
    }

    @Test func realResponsesFromPyWebAuthnsSuiteGetTheSameVerdictFromBoth() async throws {
        let file = try SpecVectors.load("webauthn-json-responses.json", as: VectorFile.self)
        #expect(file.vectors.count >= 8)
        let cases = file.vectors.map { v in
            Case(
                id: v.id,
                kind: v.input.kind,
                credential: v.input.credential,
                challenge: v.input.challenge,
                rpId: v.input.rpId,
                origins: v.input.origins,
                requireUserVerification: v.input.requireUserVerification,
                credentialPublicKey: v.input.credentialPublicKey,
                signCount: v.input.storedSignCount
            )
        }
        for (c, v) in zip(cases, file.vectors) where v.result == "invalid" {
            #expect(Self.ours(c).detail == v.errorCode, "\(v.id)")
        }
        // The same documents with the wrong challenge or origin: both refuse.
        var broken: [Case] = []
        for c in cases where c.id.hasSuffix("ec2_py_webauthn") || c.id == "registration_none_py_webauthn" {
            var wrongChallenge = c
            wrongChallenge.id += "+wrong-challenge"
            wrongChallenge.challenge = Base64URL.encode(Array(repeating: 7, count: 32))
            var wrongOrigin = c
            wrongOrigin.id += "+wrong-origin"
            wrongOrigin.origins = ["https://evil.example"]
            broken += [wrongChallenge, wrongOrigin]
        }
        #expect(broken.count == 4)
        var expectations = Dictionary(
            uniqueKeysWithValues: zip(cases.map(\.id), file.vectors.map { $0.result == "valid" })
        )
        for c in broken { expectations[c.id] = false }
        try await Self.compare(cases + broken, expectations: expectations)
    }

    // MARK: Responses from our phone model

    static let rpID = "login.example.com"

    /// A registration and a sign-in by the phone model, through the browser's part, as JSON.
    static func phoneModelCases() async throws -> [Case] {
        var logger = Logger(label: "test.phone")
        logger.logLevel = .critical
        let phone = PhoneAuthenticator(persona: .authenticatorAndroid, store: InMemoryCredentialStore(), logger: logger)
        let relyingParty = RelyingParty(id: Self.rpID)
        let client = WebAuthnClient(rpID: Self.rpID)
        let now = Date()
        let user = WebAuthnUser(id: [0xA1, 0x1C, 0xE0], name: "alice")
        let (creation, expectedRegistration) = relyingParty.generateRegistrationOptions(user: user, now: now)
        let pendingRegistration = client.makeCredential(creation)
        let made = try MakeCredentialResponse(
            encoded: try Self.ok(await phone.handle(CTAPRequest.makeCredential(pendingRegistration.request).frame))
        )
        let registration = try client.registrationResponse(made, for: pendingRegistration)
        let verified = try relyingParty.verifyRegistrationResponse(
            registration,
            expected: expectedRegistration,
            now: now
        )
        let record = expectedRegistration.record(for: verified, friendlyName: "phone", createdAt: now)

        let (request, expectedAuthentication) = relyingParty.generateAuthenticationOptions(now: now)
        let pendingAuthentication = client.getAssertion(request)
        let got = try GetAssertionResponse(
            encoded: try Self.ok(await phone.handle(CTAPRequest.getAssertion(pendingAuthentication.request).frame))
        )
        let authentication = try client.authenticationResponse(got, for: pendingAuthentication)

        let origin = "https://\(Self.rpID)"
        let registrationCase = Case(
            id: "phone-model-registration",
            kind: "registration",
            credential: String(decoding: registration.json, as: UTF8.self),
            challenge: expectedRegistration.challenge.base64URL,
            rpId: Self.rpID,
            origins: [origin],
            requireUserVerification: true
        )
        let authenticationCase = Case(
            id: "phone-model-authentication",
            kind: "authentication",
            credential: String(decoding: authentication.json, as: UTF8.self),
            challenge: expectedAuthentication.challenge.base64URL,
            rpId: Self.rpID,
            origins: [origin],
            requireUserVerification: true,
            credentialPublicKey: Base64URL.encode(record.publicKey.encoded),
            signCount: record.signCount,
            userHandle: Base64URL.encode(record.userHandle)
        )
        return [registrationCase, authenticationCase]
    }

    static func ok(_ frame: [UInt8]) throws -> [UInt8] {
        try #require(frame.first == 0, "CTAP status \(frame.first.map { String($0) } ?? "none")")
        return Array(frame.dropFirst())
    }

    @Test func phoneModelResponsesIntactAndBrokenGetTheSameVerdictFromBoth() async throws {
        let intact = try await Self.phoneModelCases()
        var cases = intact
        var expectations = Dictionary(uniqueKeysWithValues: intact.map { ($0.id, true) })
        for c in intact {
            var wrongChallenge = c
            wrongChallenge.id += "+wrong-challenge"
            wrongChallenge.challenge = Base64URL.encode(Array(repeating: 9, count: 32))
            var wrongOrigin = c
            wrongOrigin.id += "+wrong-origin"
            wrongOrigin.origins = ["https://evil.example"]
            var wrongRP = c
            wrongRP.id += "+wrong-rp-id"
            wrongRP.rpId = "example.org"
            wrongRP.origins = ["https://example.org"]
            cases += [wrongChallenge, wrongOrigin, wrongRP]
        }
        // A signature with one bit flipped (inside the DER integer, so it still parses).
        let assertion = try #require(intact.first { $0.kind == "authentication" })
        var response = try AuthenticationResponseJSON(json: Array(assertion.credential.utf8))
        response.response.signature.bytes[response.response.signature.bytes.count - 3] ^= 0x01
        var badSignature = assertion
        badSignature.id += "+bad-signature"
        badSignature.credential = String(decoding: response.json, as: UTF8.self)
        cases.append(badSignature)
        // The packed self-attestation signature of the registration, bit-flipped likewise.
        let registration = try #require(intact.first { $0.kind == "registration" })
        var made = try RegistrationResponseJSON(json: Array(registration.credential.utf8))
        let object = try AttestationObject(encoded: made.response.attestationObject.bytes)
        guard case .packed(var packed) = object.attestationStatement else {
            Issue.record("the Android persona attests with packed")
            return
        }
        packed.signature[packed.signature.count - 3] ^= 0x01
        let tampered = AttestationObject(
            attestationStatement: .packed(packed),
            authenticatorData: object.authenticatorData
        )
        made.response.attestationObject = Base64URLBytes(tampered.encoded)
        var badAttestation = registration
        badAttestation.id += "+bad-attestation-signature"
        badAttestation.credential = String(decoding: made.json, as: UTF8.self)
        cases.append(badAttestation)
        for c in cases where c.id.contains("+") { expectations[c.id] = false }
        #expect(cases.count == 10)
        try await Self.compare(cases, expectations: expectations)
    }

    // MARK: Options read by py_webauthn's strict options parser

    @Test func py_webauthnReadsOurOptionsAsWeMeantThem() async throws {
        let relyingParty = RelyingParty(id: Self.rpID)
        let existing = CredentialRecord(
            credentialID: [1, 2, 3, 4],
            friendlyName: "old",
            aaguid: .zero,
            publicKey: try TestKey.cose(),
            signCount: 0,
            userName: "alice",
            userHandle: [0xA1],
            attestationFormat: "none",
            createdAt: Date()
        )
        let (creation, _) = relyingParty.generateRegistrationOptions(
            user: WebAuthnUser(id: [0xA1], name: "alice", displayName: "Alice"),
            excludeCredentials: [existing],
            now: Date()
        )
        let (request, _) = relyingParty.generateAuthenticationOptions(allowCredentials: [existing], now: Date())
        var missingChallenge = try JSONSerialization.jsonObject(with: Data(creation.json)) as? [String: Any] ?? [:]
        missingChallenge["challenge"] = nil
        let brokenText = String(decoding: try JSONSerialization.data(withJSONObject: missingChallenge), as: UTF8.self)
        func options(_ id: String, _ kind: String, _ text: String) -> Case {
            Case(
                id: id,
                kind: kind,
                credential: text,
                challenge: "",
                rpId: Self.rpID,
                origins: [],
                requireUserVerification: false
            )
        }
        let cases = [
            options("creation", "creationOptions", String(decoding: creation.json, as: UTF8.self)),
            options("request", "requestOptions", String(decoding: request.json, as: UTF8.self)),
            options("creation-without-challenge", "creationOptions", brokenText),
        ]
        let python = try #require(PythonVenv.interpreter, "Python venv .venv-tools not found: run `make venv`")
        let input = FileManager.default.temporaryDirectory.appendingPathComponent(
            "py-webauthn-\(UUID().uuidString).json"
        )
        defer { try? FileManager.default.removeItem(at: input) }
        try JSONEncoder().encode(cases).write(to: input)
        let output = try await PythonVenv.run(
            python,
            script: PythonVenv.script("py_webauthn_verdicts.py"),
            arguments: [input.path]
        )
        let last = try #require(output.split(separator: "\n").last(where: { $0.hasPrefix("{") }), "\(output)")
        let verdicts = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(last.utf8))["verdicts"])

        let c = try #require(verdicts["creation"])
        #expect(c["ok"]?.bool == true, "\(c)")
        #expect(c["challenge"]?.string == creation.challenge.base64URL)
        #expect(c["rpId"]?.string == Self.rpID)
        #expect(c["userId"]?.string == Base64URL.encode([0xA1]))
        #expect(c["userName"]?.string == "alice")
        #expect(c["algorithms"]?.array?.compactMap(\.int) == [-7])
        #expect(c["excludeCredentials"]?.array?.compactMap(\.string) == [Base64URL.encode([1, 2, 3, 4])])
        #expect(c["userVerification"]?.string == "required")
        #expect(c["residentKey"]?.string == "required")
        #expect(c["attestation"]?.string == "none")
        #expect(c["timeout"]?.int == 300_000)

        let r = try #require(verdicts["request"])
        #expect(r["ok"]?.bool == true, "\(r)")
        #expect(r["challenge"]?.string == request.challenge.base64URL)
        #expect(r["rpId"]?.string == Self.rpID)
        #expect(r["allowCredentials"]?.array?.compactMap(\.string) == [Base64URL.encode([1, 2, 3, 4])])
        #expect(r["userVerification"]?.string == "required")

        // A document without its challenge: both parsers refuse it.
        #expect(verdicts["creation-without-challenge"]?["ok"]?.bool == false)
        let ours = #expect(throws: RelyingPartyError.self) {
            try PublicKeyCredentialCreationOptionsJSON(json: Array(brokenText.utf8))
        }
        #expect(ours?.field == "creationOptions.challenge")
    }
}
