extension CableProtocolError.Code {
    /// A tunnel-service request path that is not one of the three caBLE paths.
    public static let invalidTunnelPath = Self(rawValue: "invalidTunnelPath")
}

/// Names and values of the tunnel service's HTTP/WebSocket protocol (Chromium `fido_constants.h`).
public enum TunnelServiceProtocol {
    /// The WebSocket subprotocol both sides must select (`kCableWebSocketProtocol`).
    public static let webSocketSubprotocol = "fido.cable"
    /// Response header carrying the routing ID on `/cable/new/` (`kCableRoutingIdHeader`).
    public static let routingIDHeader = "X-caBLE-Routing-ID"
    /// Request header carrying the hex CBOR client payload on `/cable/contact/`.
    public static let clientPayloadHeader = "X-caBLE-Client-Payload"
    /// Request/response header asking for the one-byte connect signal (linked flow).
    public static let signalConnectionHeader = "X-caBLE-Signal-Connection"
    /// The largest single WebSocket message Chromium's client accepts (`1 << 20`).
    public static let maxMessageSize = 1 << 20
}

/// One of the tunnel service's request paths, typed. Formats only at the wire (``path``).
public enum TunnelEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// `/cable/new/<TUNNEL ID>`: the phone registers a tunnel (QR flow).
    case new(TunnelID)
    /// `/cable/connect/<ROUTING ID>/<TUNNEL ID>`: the desktop (QR flow) or phone (linked flow) joins.
    case connect(RoutingID, TunnelID)
    /// `/cable/contact/<base64url contact ID>`: the desktop asks the service to wake a linked phone.
    case contact(contactID: [UInt8])

    /// The request path, with upper-case hex as Chromium emits it.
    public var path: String {
        switch self {
        case .new(let t): return "/cable/new/\(t.hex)"
        case .connect(let r, let t): return "/cable/connect/\(r.hex)/\(t.hex)"
        case .contact(let c): return "/cable/contact/\(Base64URL.encode(c))"
        }
    }

    public var description: String { self.path }

    /// The longest path accepted, to bound parsing of a stranger's request line.
    public static let maxPathLength = 512

    /// Parses a request path (query strings are refused; hex of either case is accepted).
    public init(path: some StringProtocol) throws(CableProtocolError) {
        guard path.utf8.count <= Self.maxPathLength else {
            throw CableProtocolError(.invalidTunnelPath, "path longer than \(Self.maxPathLength) bytes")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // A valid path starts with "/", so the first component is empty.
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == "cable" else {
            throw CableProtocolError(.invalidTunnelPath, "path does not start with /cable/")
        }
        do throws(CableProtocolError) {
            switch (parts[2], parts.count) {
            case ("new", 4):
                self = .new(try TunnelID(hex: parts[3]))
            case ("connect", 5):
                self = .connect(try RoutingID(hex: parts[3]), try TunnelID(hex: parts[4]))
            case ("contact", 4):
                guard !parts[3].isEmpty, let id = Base64URL.decode(parts[3]) else {
                    throw CableProtocolError(.invalidTunnelPath, "contact ID is not unpadded base64url")
                }
                self = .contact(contactID: id)
            default:
                throw CableProtocolError(.invalidTunnelPath, "unknown /cable/ path or wrong number of components")
            }
        } catch let e where e.code != .invalidTunnelPath {
            throw CableProtocolError(.invalidTunnelPath, "bad identifier in path: \(e.reason)")
        }
    }
}
