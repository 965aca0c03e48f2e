import CableLocking
import NIOCore
import NIOSSL
import NIOTLS

#if canImport(Glibc)
@preconcurrency import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Which certificate authorities the tunnel client trusts for `wss://` services.
///
/// Verification is always full: the chain must lead to a trusted root, every certificate must be
/// within its validity period, and the leaf must name the host (SNI carries the host name; IP
/// literals are matched against the certificate's IP addresses). Nothing here turns verification off.
public struct TunnelTLSTrust: Sendable {
    /// Whether the system's trust store is used.
    public let usesSystemTrustStore: Bool
    /// Certificate authorities trusted in addition (or, without the system store, only these).
    let additionalRoots: [NIOSSLCertificate]

    /// The system's trust store only: what talking to `cable.ua5v.com` / `cable.auth.com` needs.
    public static let systemTrustStore = Self(usesSystemTrustStore: true, additionalRoots: [])

    private init(usesSystemTrustStore: Bool, additionalRoots: [NIOSSLCertificate]) {
        self.usesSystemTrustStore = usesSystemTrustStore
        self.additionalRoots = additionalRoots
    }

    /// The system's trust store plus the CA certificates of a PEM file (`cable … --ca-file FILE`).
    public static func systemTrustStore(plusCAFile path: String) throws(TunnelError) -> Self {
        Self(usesSystemTrustStore: true, additionalRoots: try Self.certificates(pem: TLSFile.read(path), from: path))
    }

    /// The system's trust store plus the CA certificates in `pem`.
    public static func systemTrustStore(plusCAPEM pem: [UInt8]) throws(TunnelError) -> Self {
        Self(usesSystemTrustStore: true, additionalRoots: try Self.certificates(pem: pem, from: "the CA certificates"))
    }

    /// Only the CA certificates in `pem` (a private deployment, or a test that must not depend on
    /// the machine's trust store).
    public static func only(caPEM pem: [UInt8]) throws(TunnelError) -> Self {
        Self(usesSystemTrustStore: false, additionalRoots: try Self.certificates(pem: pem, from: "the CA certificates"))
    }

    /// How many certificates are trusted in addition to (or instead of) the system's.
    public var additionalCertificateCount: Int { self.additionalRoots.count }

    private static func certificates(pem: [UInt8], from source: String) throws(TunnelError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw TunnelError(
                .tlsConfigurationInvalid,
                "\(source) could not be read as PEM certificates",
                underlying: error
            )
        }
        guard !certificates.isEmpty else {
            throw TunnelError(.tlsConfigurationInvalid, "\(source) holds no PEM certificate")
        }
        return certificates
    }

    /// The client context: TLS 1.2 or newer, full verification.
    func makeContext() throws(TunnelError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        // Bounds close(): a service that never answers close_notify does not hold the caller for NIO's 5 s.
        configuration.shutdownTimeout = .seconds(1)
        if self.usesSystemTrustStore {
            configuration.trustRoots = .default
            if !self.additionalRoots.isEmpty {
                configuration.additionalTrustRoots = [.certificates(self.additionalRoots)]
            }
        } else {
            configuration.trustRoots = .certificates(self.additionalRoots)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TunnelError(
                .tlsConfigurationInvalid,
                "cannot set up TLS: the trust store could not be loaded",
                underlying: error
            )
        }
    }
}

/// The tunnel service's TLS identity: a certificate chain and its private key, loaded from PEM.
///
/// With one, `CableRelay`'s `TunnelService` serves `wss://` (TLS 1.2 or newer) and prints `listening on wss://…`.
public struct TunnelServiceTLS: Hashable, Sendable {
    /// The server context, for a pipeline's `NIOSSLServerHandler` (the relay's `tlsContext`).
    public let context: NIOSSLContext
    /// Certificates in the chain, leaf first.
    public let chainLength: Int

    /// Loads `certificateChainFile` (PEM, leaf first, intermediates after it) and
    /// `privateKeyFile` (PEM), as `cable relay --tls-cert FILE --tls-key FILE` does.
    public init(certificateChainFile: String, privateKeyFile: String) throws(TunnelError) {
        try self.init(
            certificateChainPEM: TLSFile.read(certificateChainFile),
            privateKeyPEM: TLSFile.read(privateKeyFile),
            certificateSource: certificateChainFile,
            keySource: privateKeyFile
        )
    }

    /// The same from PEM bytes.
    public init(certificateChainPEM: [UInt8], privateKeyPEM: [UInt8]) throws(TunnelError) {
        try self.init(
            certificateChainPEM: certificateChainPEM,
            privateKeyPEM: privateKeyPEM,
            certificateSource: "the certificate chain",
            keySource: "the private key"
        )
    }

    private init(
        certificateChainPEM: [UInt8],
        privateKeyPEM: [UInt8],
        certificateSource: String,
        keySource: String
    ) throws(TunnelError) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateChainPEM)
        } catch {
            throw TunnelError(
                .tlsConfigurationInvalid,
                "\(certificateSource) could not be read as PEM certificates",
                underlying: error
            )
        }
        guard !chain.isEmpty else {
            throw TunnelError(.tlsConfigurationInvalid, "\(certificateSource) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: privateKeyPEM, format: .pem)
        } catch {
            // The error never carries key bytes; neither does this message.
            throw TunnelError(
                .tlsConfigurationInvalid,
                "\(keySource) could not be read as a PEM private key",
                underlying: error
            )
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TunnelError(
                .tlsConfigurationInvalid,
                "\(certificateSource) and \(keySource) cannot be used together (does the key belong to the certificate?)",
                underlying: error
            )
        }
        self.chainLength = chain.count
    }

    /// The same loaded identity (compared by identity: two loads of one file are two values).
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.context === rhs.context }
    /// Hashes the loaded identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self.context)) }

    /// The handler a relay puts first in each accepted connection's pipeline.
    public func makeServerHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: self.context)
    }
}

/// Bounded reads of certificate and key files: regular files only (a FIFO or a device would block
/// or never end), at most 1 MiB.
enum TLSFile {
    static let maxSize = 1 << 20

    static func read(_ path: String) throws(TunnelError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TunnelError(.tlsConfigurationInvalid, "cannot open \(path): \(Self.errnoText())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw TunnelError(.tlsConfigurationInvalid, "cannot read \(path): \(Self.errnoText())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw TunnelError(.tlsConfigurationInvalid, "\(path) is not a regular file")
        }
        guard status.st_size <= Self.maxSize else {
            throw TunnelError(.tlsConfigurationInvalid, "\(path) is larger than \(Self.maxSize) bytes")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TunnelError(.tlsConfigurationInvalid, "cannot read \(path): \(Self.errnoText())")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= Self.maxSize else {
                throw TunnelError(.tlsConfigurationInvalid, "\(path) is larger than \(Self.maxSize) bytes")
            }
        }
        return bytes
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

// MARK: - Client-side failure classification

/// What the client's TLS layer saw, recorded on the event loop and read by `TunnelClient.connect`
/// after the connection failed, so that a failure is reported as its TLS cause (untrusted, expired,
/// wrong host) instead of as the connection ending.
final class TLSHandshakeRecord: Sendable {
    struct State {
        var handshakeCompleted = false
        var failure: (any Error)?
        /// The leaf's validity period (seconds since 1970), read when verification failed.
        var leafValidity: (notBefore: Int, notAfter: Int)?
    }

    let state = LockedValue(State())

    var handshakeCompleted: Bool { self.state.withLock { $0.handshakeCompleted } }
    var failure: (any Error)? { self.state.withLock { $0.failure } }
    var leafValidity: (notBefore: Int, notAfter: Int)? { self.state.withLock { $0.leafValidity } }
}

/// Sits right behind `NIOSSLClientHandler` and records the handshake's outcome.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let record: TLSHandshakeRecord

    init(record: TLSHandshakeRecord) { self.record = record }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            self.record.state.withLock { $0.handshakeCompleted = true }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let completed = self.record.handshakeCompleted
        if !completed {
            // BoringSSL keeps the peer's certificate after a failed verification; its dates tell
            // "expired" from "untrusted issuer".
            let leaf = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            self.record.state.withLock { state in
                if state.failure == nil { state.failure = error }
                if state.leafValidity == nil, let leaf {
                    state.leafValidity = (Int(leaf.notValidBefore), Int(leaf.notValidAfter))
                }
            }
        }
        context.fireErrorCaught(error)
    }
}

extension TunnelError {
    /// The error for a TLS failure during connect, naming the host and the reason.
    static func tls(
        _ failure: any Error,
        service: TunnelServiceURL,
        leafValidity: (notBefore: Int, notAfter: Int)?,
        now: Int = Int(time(nil))
    ) -> TunnelError {
        let host = service.authority
        if let extra = failure as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return TunnelError(
                .certificateHostMismatch,
                "the certificate of the tunnel service at \(host) is not valid for the name \(service.hostForURL) "
                    + "— check the --tunnel URL (the host name must be one the certificate names)",
                host: host,
                underlying: failure
            )
        }
        let reasons = Self.boringSSLReasons(failure)
        if reasons.contains("CERTIFICATE_VERIFY_FAILED") {
            if let validity = leafValidity, now > validity.notAfter {
                return TunnelError(
                    .certificateExpired,
                    "the certificate of the tunnel service at \(host) expired on \(Self.date(validity.notAfter)) "
                        + "— the service must renew it (or this machine's clock is wrong)",
                    host: host,
                    underlying: failure
                )
            }
            if let validity = leafValidity, now < validity.notBefore {
                return TunnelError(
                    .certificateExpired,
                    "the certificate of the tunnel service at \(host) is not valid before "
                        + "\(Self.date(validity.notBefore)) — check this machine's clock",
                    host: host,
                    underlying: failure
                )
            }
            return TunnelError(
                .certificateUntrusted,
                "the certificate of the tunnel service at \(host) was not issued by a trusted certificate authority "
                    + "(unknown issuer) — if the service uses a private CA, pass its certificate with --ca-file",
                host: host,
                underlying: failure
            )
        }
        let detail = reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))"
        return TunnelError(
            .tlsHandshakeFailed,
            "the TLS handshake with the tunnel service at \(host) failed\(detail) "
                + "— is it a TLS (wss://) service? For a plain service use ws://",
            host: host,
            underlying: failure
        )
    }

    /// BoringSSL's reason names (`CERTIFICATE_VERIFY_FAILED`, `WRONG_VERSION_NUMBER`) in an error,
    /// without the file paths and numbers around them.
    static func boringSSLReasons(_ error: any Error) -> [String] {
        var reasons: [String] = []
        var current = ""
        for character in "\(error) " {
            if character.isUppercase || character == "_" || (character.isNumber && !current.isEmpty) {
                current.append(character)
            } else {
                if current.count >= 6, current.contains("_"), !reasons.contains(current) { reasons.append(current) }
                current = ""
            }
        }
        return reasons
    }

    /// `2026-12-07` for a time in seconds since 1970 (UTC).
    private static func date(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
    }
}
