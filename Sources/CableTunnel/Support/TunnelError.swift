import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of the tunnel transport (client, server and advert bus).
///
/// Shaped like swift-nio-ssh's and swift-certificates' errors: a ``Code`` whose cases live in a
/// private enum (new codes never break the API, and callers cannot mint codes), a ``reason`` for
/// people, and the cause kept as a value: the service's ``host``, the HTTP status of a refusal
/// (``httpStatus``), the WebSocket close code (``closeCode``), the configuration field at fault
/// (``field``) and the lower-level error (``underlying``: a TLS failure, a socket error). Equality
/// compares the code only.
///
/// ``description`` says what happened and what to do, in words a user of `cable` understands; it
/// names sizes, statuses, hosts and close codes, never message bytes (ciphertext above the
/// handshake, but still not ours to print) and never key material.
public struct TunnelError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A stable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidURL, unsupportedScheme, connectFailed, connectTimedOut, httpRefused, badRequest
            case tunnelNotFound, tunnelConflict, pairingGone, serviceUnavailable, subprotocolMismatch
            case missingRoutingID, invalidRoutingID, duplicateRoutingID, upgradeFailed, textMessage
            case messageTooLarge, protocolViolation, closedByRemote, connectionLost, channelClosed, concurrentReceive
            case certificateUntrusted, certificateExpired, certificateHostMismatch, tlsHandshakeFailed
            case tlsConfigurationInvalid
            case bindFailed, invalidServerState, invalidConfiguration
            case advertTooLarge
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The stable name (`connectFailed`), for logs, metrics and scripts; not meant for people.
        public var rawValue: String { self.base.rawValue }
        /// The stable name.
        public var description: String { self.base.rawValue }

        // MARK: Client

        /// The tunnel service URL could not be parsed.
        public static let invalidURL = Self(.invalidURL)
        /// The URL's scheme is known but cannot be used here.
        public static let unsupportedScheme = Self(.unsupportedScheme)
        /// The TCP connection could not be established (refused, unreachable, name not resolved);
        /// ``TunnelError/underlying`` holds the socket error.
        public static let connectFailed = Self(.connectFailed)
        /// Connecting, the TLS handshake and the WebSocket upgrade did not finish within the timeout.
        public static let connectTimedOut = Self(.connectTimedOut)
        /// The service answered the upgrade with an HTTP status this client has no specific code for.
        public static let httpRefused = Self(.httpRefused)
        /// HTTP 400: the service found the request malformed.
        public static let badRequest = Self(.badRequest)
        /// HTTP 404: no such tunnel (the other side is no longer waiting), or a routing ID of
        /// another server.
        public static let tunnelNotFound = Self(.tunnelNotFound)
        /// HTTP 409: the tunnel ID is already registered or already joined.
        public static let tunnelConflict = Self(.tunnelConflict)
        /// HTTP 410: the tunnel or pairing is gone; a pairing behind a contact ID must be forgotten
        /// (Chromium `pairing_is_invalid`).
        public static let pairingGone = Self(.pairingGone)
        /// HTTP 503: the service is at a capacity limit; retrying later may work.
        public static let serviceUnavailable = Self(.serviceUnavailable)
        /// The upgrade response did not select exactly the `fido.cable` subprotocol.
        public static let subprotocolMismatch = Self(.subprotocolMismatch)
        /// `/cable/new/` was answered without an `X-caBLE-Routing-ID` header.
        public static let missingRoutingID = Self(.missingRoutingID)
        /// An `X-caBLE-Routing-ID` header was not exactly 3 bytes of hex.
        public static let invalidRoutingID = Self(.invalidRoutingID)
        /// The `X-caBLE-Routing-ID` header appeared more than once.
        public static let duplicateRoutingID = Self(.duplicateRoutingID)
        /// The HTTP exchange of the upgrade was malformed, or the connection ended during it.
        public static let upgradeFailed = Self(.upgradeFailed)
        /// The remote end sent a text message; caBLE carries binary messages only.
        public static let textMessage = Self(.textMessage)
        /// A message exceeded the size limit (1 MiB, as Chromium's client accepts).
        public static let messageTooLarge = Self(.messageTooLarge)
        /// The remote end broke WebSocket framing rules.
        public static let protocolViolation = Self(.protocolViolation)
        /// The remote end closed the WebSocket with a code other than 1000 (see ``TunnelError/closeCode``).
        public static let closedByRemote = Self(.closedByRemote)
        /// The connection ended without a WebSocket close frame.
        public static let connectionLost = Self(.connectionLost)
        /// The channel was already closed by this side.
        public static let channelClosed = Self(.channelClosed)
        /// `receive()` was called while another `receive()` on the same connection was pending: a
        /// connection has one consumer (a programming error in the caller).
        public static let concurrentReceive = Self(.concurrentReceive)

        // MARK: TLS

        /// The service's certificate does not chain to a trusted certificate authority (unknown
        /// issuer, self-signed, incomplete chain).
        public static let certificateUntrusted = Self(.certificateUntrusted)
        /// The service's certificate is expired or not valid yet.
        public static let certificateExpired = Self(.certificateExpired)
        /// The service's certificate is valid, but for another host name.
        public static let certificateHostMismatch = Self(.certificateHostMismatch)
        /// The TLS handshake failed for a reason other than the certificate (the peer does not
        /// speak TLS, no common protocol version or cipher, a fatal alert).
        public static let tlsHandshakeFailed = Self(.tlsHandshakeFailed)
        /// A certificate, key or CA file could not be read or used.
        public static let tlsConfigurationInvalid = Self(.tlsConfigurationInvalid)

        // MARK: Server

        /// The server could not bind its listening socket.
        public static let bindFailed = Self(.bindFailed)
        /// The server was started twice, or after it was shut down.
        public static let invalidServerState = Self(.invalidServerState)
        /// A configuration value is out of range (the reason names the field).
        public static let invalidConfiguration = Self(.invalidConfiguration)

        // MARK: Advert bus

        /// An advert datagram exceeded the largest BLE advertising payload.
        public static let advertTooLarge = Self(.advertTooLarge)
    }

    /// Which rule failed.
    public let code: Code
    /// What happened and, where there is something to do, what to do: the text ``description`` prints.
    public let reason: String
    /// The tunnel service (`HOST:PORT`) the failure concerns, when there is one.
    public let host: String?
    /// The HTTP status the tunnel service answered, when the failure is an HTTP refusal.
    public let httpStatus: Int?
    /// The WebSocket close code the remote end sent, when the failure is a close.
    public let closeCode: WebSocketCloseCode?
    /// The configuration field at fault (`maxTunnels`), for ``Code/invalidConfiguration``: a program
    /// names its own option from it instead of parsing ``reason``.
    public let field: String?
    /// The lower-level cause, kept as a value: a TLS error (`NIOSSLError`, `NIOSSLExtraError`), a
    /// socket error (`IOError`, `NIOConnectionError`), or `nil` when this error is the cause.
    public let underlying: (any Error)?

    /// Creates an error.
    public init(
        _ code: Code,
        _ reason: String,
        host: String? = nil,
        httpStatus: Int? = nil,
        closeCode: WebSocketCloseCode? = nil,
        field: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.reason = reason
        self.host = host
        self.httpStatus = httpStatus
        self.closeCode = closeCode
        self.field = field
        self.underlying = underlying
    }

    /// The reason: one sentence for people (the `error:` line of `cable`), without type names.
    public var description: String { self.reason }

    /// Compares the codes only (reasons, hosts and causes are diagnostics).
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension TunnelError {
    /// The operating system's words for a socket error (`Address already in use`), from its errno,
    /// for a reason; the error itself goes in ``underlying``. Other errors have no such words.
    package static func systemMessage(of error: any Error) -> String? {
        var errnos: [CInt] = []
        if let io = error as? IOError {
            errnos = [io.errnoCode]
        } else if let connection = error as? NIOConnectionError {
            errnos = connection.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
        }
        guard let first = errnos.first else { return nil }
        return String(cString: strerror(first))
    }

    /// `reason`, then the system's words for `error` when it has some.
    package static func reason(_ reason: String, systemError error: any Error) -> String {
        Self.systemMessage(of: error).map { "\(reason): \($0)" } ?? reason
    }
}
