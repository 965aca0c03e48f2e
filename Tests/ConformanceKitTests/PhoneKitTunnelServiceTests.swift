import CableProtocol
import Testing

@testable import CableConformance

/// `cable conformance phone --interactive` without `--tunnel` (a real phone on its own tunnel
/// service): the kit meets the phone where its advert says, as a desktop without a fixed service does.
@Suite struct PhoneKitTunnelServiceTests {
    @Test func theAdvertsDomainNamesTheService() throws {
        let google = try PhoneConversation.tunnelService(named: .google)
        #expect(google.scheme == .wss && google.host == "cable.ua5v.com" && google.port == 443, "\(google)")
        let apple = try PhoneConversation.tunnelService(named: .apple)
        #expect(apple.scheme == .wss && apple.host == "cable.auth.com" && apple.port == 443, "\(apple)")
        // Hashed domains (≥ 256) lead to a generated cable.<hash>.<tld> name.
        let hashed = try PhoneConversation.tunnelService(named: TunnelServiceDomainID(rawValue: 266))
        #expect(hashed.scheme == .wss && hashed.host.hasPrefix("cable.") && hashed.host != google.host, "\(hashed)")
    }

    @Test func anUnassignedDomainIsTheScenariosFailure() {
        #expect {
            _ = try PhoneConversation.tunnelService(named: TunnelServiceDomainID(rawValue: 7))
        } throws: { error in
            (error as? ScenarioFailure)?.detail.contains("domain ID 7") == true
        }
    }
}
