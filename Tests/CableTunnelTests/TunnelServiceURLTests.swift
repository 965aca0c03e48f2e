import Testing

@testable import CableTunnel

/// Parsing the service origin a role is told to use (`--tunnel ws://HOST:PORT`).
@Suite struct TunnelServiceURLTests {
    @Test(arguments: [
        ("ws://127.0.0.1:8080", TunnelServiceURL.Scheme.ws, "127.0.0.1", 8080, "127.0.0.1:8080"),
        ("WS://localhost:9/", .ws, "localhost", 9, "localhost:9"),
        ("ws://relay.example", .ws, "relay.example", 80, "relay.example"),
        ("wss://cable.ua5v.com", .wss, "cable.ua5v.com", 443, "cable.ua5v.com"),
        ("ws://[::1]:8080", .ws, "::1", 8080, "[::1]:8080"),
    ])
    func validURLsParse(
        text: String,
        scheme: TunnelServiceURL.Scheme,
        host: String,
        port: Int,
        hostHeader: String
    ) throws {
        let url = try TunnelServiceURL(string: text)
        #expect(url.scheme == scheme)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.hostHeader == hostHeader)
    }

    @Test(arguments: [
        "", "127.0.0.1:8080", "http://127.0.0.1:8080", "ws://", "ws://:80", "ws://host:0", "ws://host:65536",
        "ws://host:-1", "ws://host:8080/cable/new", "ws://host?x", "ws://user@host", "ws://host:80a", "ws://[::1",
        "ws://[::1]x", "ws://ho st", "ws://host:٣",
    ])
    func malformedURLsAreRefused(text: String) {
        #expect(throws: TunnelError(.invalidURL, "")) { try TunnelServiceURL(string: text) }
    }

    @Test func overlongInputIsRefusedBeforeParsing() {
        let text = "ws://" + String(repeating: "a", count: TunnelServiceURL.maxLength)
        #expect(throws: TunnelError(.invalidURL, "")) { try TunnelServiceURL(string: text) }
    }

    @Test func descriptionIsTheURL() throws {
        #expect(try TunnelServiceURL(string: "ws://[::1]:80").description == "ws://[::1]:80")
        #expect(try TunnelServiceURL(string: "ws://a").description == "ws://a:80")
    }
}
