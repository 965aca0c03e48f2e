/// Where a tunnel service listens: `ws://HOST:PORT` (loopback runs) or `wss://HOST[:PORT]` (TLS).
///
/// Only the origin is held (scheme, host, port); the request path comes from `TunnelEndpoint`, so
/// the two cannot be mixed up. IPv6 literals are written in brackets (`ws://[::1]:8080`).
public struct TunnelServiceURL: Hashable, Sendable, CustomStringConvertible {
    /// The URL scheme.
    public enum Scheme: String, Hashable, Sendable {
        /// Plain WebSocket over TCP (loopback runs and tests).
        case ws
        /// WebSocket over TLS, as real tunnel services require.
        case wss

        /// The port implied when the URL names none (RFC 6455 §3).
        public var defaultPort: Int {
            switch self {
            case .ws: return 80
            case .wss: return 443
            }
        }
    }

    /// The longest URL text accepted, to bound parsing of command-line or configuration input.
    public static let maxLength = 2048

    /// `ws` or `wss`.
    public let scheme: Scheme
    /// Host name or IP literal, without brackets.
    public let host: String
    /// TCP port, 1...65535.
    public let port: Int

    /// Creates a URL from parts.
    public init(scheme: Scheme = .ws, host: String, port: Int? = nil) throws(TunnelError) {
        guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: { $0 == "/" || $0.isWhitespace }) else {
            throw TunnelError(.invalidURL, "host must be 1–255 characters without '/' or spaces")
        }
        let port = port ?? scheme.defaultPort
        guard (1...65535).contains(port) else {
            throw TunnelError(.invalidURL, "port \(port) is outside 1–65535")
        }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses `ws://HOST[:PORT][/]` or `wss://HOST[:PORT][/]` (scheme case-insensitive). Paths,
    /// queries, fragments and user info are refused: the endpoint supplies the path.
    public init(string: String) throws(TunnelError) {
        guard string.utf8.count <= Self.maxLength else {
            throw TunnelError(.invalidURL, "URL longer than \(Self.maxLength) bytes")
        }
        guard let separator = string.firstRange(of: "://") else {
            throw TunnelError(.invalidURL, "URL has no scheme (expected ws://HOST:PORT)")
        }
        guard let scheme = Scheme(rawValue: string[..<separator.lowerBound].lowercased()) else {
            throw TunnelError(.invalidURL, "scheme must be ws or wss")
        }
        var authority = string[separator.upperBound...]
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.contains(where: { "/?#@".contains($0) }) else {
            throw TunnelError(.invalidURL, "only ws://HOST:PORT is accepted (no path, query or user info)")
        }
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            // An IPv6 literal: "[" address "]" [":" port].
            guard let close = authority.firstIndex(of: "]") else {
                throw TunnelError(.invalidURL, "IPv6 literal is missing ']'")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw TunnelError(.invalidURL, "junk after IPv6 literal") }
                portText = rest.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII),
                let value = Int(portText)
            else {
                throw TunnelError(.invalidURL, "port is not a number")
            }
            port = value
        }
        try self.init(scheme: scheme, host: String(host), port: port)
    }

    /// The host as it appears in a URL or `Host` header: IPv6 literals in brackets.
    public var hostForURL: String { self.host.contains(":") ? "[\(self.host)]" : self.host }

    /// The `Host` header value (RFC 7230 §5.4): the port is omitted when it is the default.
    public var hostHeader: String {
        self.port == self.scheme.defaultPort ? self.hostForURL : "\(self.hostForURL):\(self.port)"
    }

    /// `HOST:PORT` (IPv6 literals in brackets), as error messages name a service.
    public var authority: String { "\(self.hostForURL):\(self.port)" }

    /// The `Origin` header Chromium sends on tunnel requests: the URL's origin
    /// (`url::Origin::Create(url)` in `FidoTunnelDevice`), serialized without a default port.
    public var origin: String { "\(self.scheme.rawValue)://\(self.hostHeader.lowercased())" }

    /// `ws://HOST:PORT`.
    public var description: String { "\(self.scheme.rawValue)://\(self.hostForURL):\(self.port)" }
}
