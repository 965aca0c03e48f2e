import CableProtocol
import CableTunnel

/// What an accepted upgrade request asks for.
enum RelayRoute: Hashable, Sendable {
    /// `GET /cable/new/<T>`: register tunnel `T` (the phone, QR flow).
    case create(TunnelID)
    /// `GET /cable/connect/<R>/<T>`: join tunnel `T` at the server whose routing ID is `R`.
    case join(RoutingID, TunnelID)
}

/// Why the relay answers an HTTP status instead of upgrading: the status plus a stable name for
/// logs. No response body is sent (`Content-Length: 0`).
struct RelayRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status code.
    let status: Int
    /// Stable short name (log metadata `refusal`).
    let name: String
    /// One line for people (logged; never contains request bytes beyond the parsed rule).
    let detail: String

    var description: String { "\(self.status) \(self.name): \(self.detail)" }

    /// The reason phrase sent on the status line.
    var reasonPhrase: String {
        switch self.status {
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }

    static let methodNotAllowed = Self(status: 405, name: "methodNotAllowed", detail: "only GET is served")
    static func malformedPath(_ why: String) -> Self { Self(status: 400, name: "malformedPath", detail: why) }
    /// `/cable/contact/` has no meaning yet (no linking support): answered as a dead pairing.
    static let contactGone = Self(status: 410, name: "contactGone", detail: "contact IDs are not served")
    static let invalidUpgrade = Self(
        status: 400,
        name: "invalidUpgrade",
        detail: "WebSocket upgrade without a valid key or version 13"
    )
    static let notWebSocket = Self(status: 426, name: "notWebSocket", detail: "a WebSocket upgrade is required")
    static let missingSubprotocol = Self(
        status: 400,
        name: "missingSubprotocol",
        detail: "the fido.cable subprotocol was not offered"
    )
    static let unknownTunnel = Self(status: 404, name: "unknownTunnel", detail: "no tunnel with that ID is waiting")
    static let wrongRoutingID = Self(status: 404, name: "wrongRoutingID", detail: "routing ID of another server")
    static let tunnelExists = Self(status: 409, name: "tunnelExists", detail: "tunnel ID already registered")
    static let tunnelAlreadyJoined = Self(
        status: 409,
        name: "tunnelAlreadyJoined",
        detail: "tunnel already has two peers"
    )
    static let tooManyTunnels = Self(status: 503, name: "tooManyTunnels", detail: "tunnel limit reached")
    static let tooManyConnections = Self(status: 503, name: "tooManyConnections", detail: "connection limit reached")
    static let tooManyTunnelsFromAddress = Self(
        status: 429,
        name: "tooManyTunnelsFromAddress",
        detail: "tunnel limit per address reached"
    )
    static let tooManyConnectionsFromAddress = Self(
        status: 429,
        name: "tooManyConnectionsFromAddress",
        detail: "connection limit per address reached"
    )
    static let memoryBudgetExhausted = Self(
        status: 503,
        name: "memoryBudgetExhausted",
        detail: "the relay's buffer budget is nearly spent"
    )
    static let shuttingDown = Self(status: 503, name: "shuttingDown", detail: "tunnel service is shutting down")
    static let headTooLarge = Self(status: 431, name: "headTooLarge", detail: "request head exceeds the limit")
}

/// The static rules of a request, before any tunnel state is consulted (pure, so tests can run
/// every case without a socket). Checks run in this order: method (405), path (400), contact
/// (410), WebSocket upgrade (426), subprotocol (400).
enum RelayRequestPolicy {
    /// Classifies a request head.
    /// - Parameters:
    ///   - method: the HTTP method as sent.
    ///   - uri: the request target.
    ///   - isWebSocketUpgrade: whether the request asked to upgrade to `websocket`.
    ///   - offeredSubprotocols: every token of every `Sec-WebSocket-Protocol` header.
    static func route(
        method: String,
        uri: String,
        isWebSocketUpgrade: Bool,
        offeredSubprotocols: [String]
    ) -> Result<RelayRoute, RelayRefusal> {
        guard method == "GET" else { return .failure(.methodNotAllowed) }
        let endpoint: TunnelEndpoint
        do {
            endpoint = try TunnelEndpoint(path: uri)
        } catch {
            return .failure(.malformedPath(error.reason))
        }
        let route: RelayRoute
        switch endpoint {
        case .contact:
            return .failure(.contactGone)
        case .new(let tunnel):
            route = .create(tunnel)
        case .connect(let routing, let tunnel):
            route = .join(routing, tunnel)
        }
        guard isWebSocketUpgrade else { return .failure(.notWebSocket) }
        // Subprotocol tokens are case-sensitive (RFC 6455 §4.1); Chromium offers exactly this one.
        guard offeredSubprotocols.contains(TunnelServiceProtocol.webSocketSubprotocol) else {
            return .failure(.missingSubprotocol)
        }
        return .success(route)
    }
}
