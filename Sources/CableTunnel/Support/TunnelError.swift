/// The one error type of the tunnel transport (client, server and advert bus).
///
/// Each failure has its own ``Code``; codes are string-backed statics, so new ones never break
/// API. Equality compares the code only. Diagnostics name sizes, statuses and close codes, never
/// message bytes (which are ciphertext above the handshake, but still not ours to print).
public struct TunnelError: Error, Hashable, CustomStringConvertible, Sendable {
    /// An extensible, stable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        /// The stable name, as logs and `cable` print it.
        public let rawValue: String
        /// Wraps a raw name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The stable name.
        public var description: String { self.rawValue }
    }

    /// Which rule failed.
    public let code: Code
    /// A short explanation for people.
    public let reason: String
    /// The HTTP status the tunnel service answered, when the failure is an HTTP refusal.
    public let httpStatus: Int?
    /// The WebSocket close code the remote end sent, when the failure is a close.
    public let closeCode: WebSocketCloseCode?

    /// Creates an error.
    public init(_ code: Code, _ reason: String, httpStatus: Int? = nil, closeCode: WebSocketCloseCode? = nil) {
        self.code = code
        self.reason = reason
        self.httpStatus = httpStatus
        self.closeCode = closeCode
    }

    /// `code: reason`, for logs and the `error:` line of `cable`.
    public var description: String { "\(self.code.rawValue): \(self.reason)" }

    /// Compares the codes only (reasons and statuses are diagnostics).
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

// MARK: - Client-side codes

extension TunnelError.Code {
    /// The tunnel service URL could not be parsed.
    public static let invalidURL = Self(rawValue: "invalidURL")
    /// The URL's scheme is known but not implemented yet (`wss://`: TLS is out of scope for now).
    public static let unsupportedScheme = Self(rawValue: "unsupportedScheme")
    /// The TCP connection could not be established.
    public static let connectFailed = Self(rawValue: "connectFailed")
    /// Connecting plus the WebSocket upgrade did not finish within the timeout.
    public static let connectTimedOut = Self(rawValue: "connectTimedOut")
    /// The service answered the upgrade with an HTTP status this client has no specific code for.
    public static let httpRefused = Self(rawValue: "httpRefused")
    /// HTTP 400: the service found the request malformed.
    public static let badRequest = Self(rawValue: "badRequest")
    /// HTTP 404: no such tunnel (or a routing ID of another server).
    public static let tunnelNotFound = Self(rawValue: "tunnelNotFound")
    /// HTTP 409: the tunnel ID is already registered or already joined.
    public static let tunnelConflict = Self(rawValue: "tunnelConflict")
    /// HTTP 410: the pairing behind a contact ID is dead; the desktop must forget it (Chromium
    /// `pairing_is_invalid`).
    public static let pairingGone = Self(rawValue: "pairingGone")
    /// HTTP 503: the service is at a capacity limit; retrying later may work.
    public static let serviceUnavailable = Self(rawValue: "serviceUnavailable")
    /// The upgrade response did not select exactly the `fido.cable` subprotocol.
    public static let subprotocolMismatch = Self(rawValue: "subprotocolMismatch")
    /// `/cable/new/` was answered without an `X-caBLE-Routing-ID` header.
    public static let missingRoutingID = Self(rawValue: "missingRoutingID")
    /// The `X-caBLE-Routing-ID` header was not exactly 3 bytes of hex.
    public static let invalidRoutingID = Self(rawValue: "invalidRoutingID")
    /// The `X-caBLE-Routing-ID` header appeared more than once.
    public static let duplicateRoutingID = Self(rawValue: "duplicateRoutingID")
    /// The HTTP exchange of the upgrade was malformed.
    public static let upgradeFailed = Self(rawValue: "upgradeFailed")
    /// The remote end sent a text message; caBLE carries binary messages only.
    public static let textMessage = Self(rawValue: "textMessage")
    /// A message exceeded the size limit (1 MiB, as Chromium's client accepts).
    public static let messageTooLarge = Self(rawValue: "messageTooLarge")
    /// The remote end broke WebSocket framing rules.
    public static let protocolViolation = Self(rawValue: "protocolViolation")
    /// The remote end closed the WebSocket with a code other than 1000 (see ``TunnelError/closeCode``).
    public static let closedByRemote = Self(rawValue: "closedByRemote")
    /// The connection ended without a WebSocket close frame.
    public static let connectionLost = Self(rawValue: "connectionLost")
    /// The channel was already closed by this side.
    public static let channelClosed = Self(rawValue: "channelClosed")
}

// MARK: - Server-side codes

extension TunnelError.Code {
    /// The server could not bind its listening socket.
    public static let bindFailed = Self(rawValue: "bindFailed")
    /// The server was started twice, or after it was shut down.
    public static let invalidServerState = Self(rawValue: "invalidServerState")
    /// A configuration value is out of range (the reason names the field).
    public static let invalidConfiguration = Self(rawValue: "invalidConfiguration")
}
