/// Every fuzz target, named as its executable in `Fuzz/Package.swift` and its directories under
/// `Fuzz/corpora/` and `Fuzz/regressions/`.
public enum FuzzTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    /// ``CBORHarness``.
    case cbor = "FuzzCBOR"
    /// ``DigitsHarness``.
    case digits = "FuzzDigits"
    /// ``QRPayloadHarness``.
    case qrPayload = "FuzzQRPayload"
    /// ``AdvertHarness``.
    case advert = "FuzzAdvert"
    /// ``AdvertisingDataHarness``.
    case advertisingData = "FuzzAdvertisingData"
    /// ``HandshakeResponderHarness``.
    case handshakeResponder = "FuzzHandshakeResponder"
    /// ``HandshakeInitiatorHarness``.
    case handshakeInitiator = "FuzzHandshakeInitiator"
    /// ``CrypterOpenHarness``.
    case crypterOpen = "FuzzCrypterOpen"
    /// ``TunnelFrameHarness``.
    case tunnelFrame = "FuzzTunnelFrame"
    /// ``PostHandshakeHarness``.
    case postHandshake = "FuzzPostHandshake"
    /// ``CTAPRequestHarness``.
    case ctapRequest = "FuzzCTAPRequest"
    /// ``CTAPResponseHarness``.
    case ctapResponse = "FuzzCTAPResponse"
    /// ``AttestationHarness``.
    case attestation = "FuzzAttestation"
    /// ``RelyingPartyHarness``.
    case relyingParty = "FuzzRelyingParty"
    /// ``RelayPathsHarness``.
    case relayPaths = "FuzzRelayPaths"
    /// ``MetadataBLOBHarness``.
    case metadataBLOB = "FuzzMetadataBLOB"
    /// ``AttestationStatementHarness``.
    case attestationStatement = "FuzzAttestationStatement"

    /// Runs this target's harness on one input.
    public func run(_ input: [UInt8]) async -> FuzzReport {
        switch self {
        case .cbor: return CBORHarness.run(input)
        case .digits: return DigitsHarness.run(input)
        case .qrPayload: return QRPayloadHarness.run(input)
        case .advert: return AdvertHarness.run(input)
        case .advertisingData: return AdvertisingDataHarness.run(input)
        case .handshakeResponder: return HandshakeResponderHarness.run(input)
        case .handshakeInitiator: return HandshakeInitiatorHarness.run(input)
        case .crypterOpen: return CrypterOpenHarness.run(input)
        case .tunnelFrame: return TunnelFrameHarness.run(input)
        case .postHandshake: return PostHandshakeHarness.run(input)
        case .ctapRequest: return await CTAPRequestHarness.run(input)
        case .ctapResponse: return CTAPResponseHarness.run(input)
        case .attestation: return AttestationHarness.run(input)
        case .relyingParty: return RelyingPartyHarness.run(input)
        case .relayPaths: return RelayPathsHarness.run(input)
        case .metadataBLOB: return MetadataBLOBHarness.run(input)
        case .attestationStatement: return AttestationStatementHarness.run(input)
        }
    }

    /// The executable's name.
    public var description: String { self.rawValue }
}
