import CableProtocol
import CableTunnel
import CableTunnelTestSupport
import Testing

@testable import CableRelay

/// The relay's routing rules, without sockets: outbounds are names, messages are byte arrays.
@Suite struct TunnelRoutingTableTests {
    typealias Table = TunnelRoutingTable<String, [UInt8]>

    static let limits = RelayLimits(
        maxTunnels: 3,
        maxMessagesPerTunnel: 10,
        maxBytesPerTunnel: 1000,
        maxHeldMessages: 5,
        maxHeldBytes: 100,
        peerWaitTimeout: .seconds(10),
        idleTimeout: .seconds(20),
        tunnelLifetime: .seconds(60)
    )
    let t0 = ContinuousClock.now
    let phone = RelayConnectionID(rawValue: 1)
    let desktop = RelayConnectionID(rawValue: 2)
    let tunnel = TunnelID.random()

    /// A tunnel with both parties attached and live.
    func paired() throws -> Table {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        #expect(table.attach(connection: self.phone, outbound: "phone") == .live)
        try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        #expect(table.attach(connection: self.desktop, outbound: "desktop") == .live)
        return table
    }

    func deliveredTo(_ outcome: Table.ForwardOutcome) -> String? {
        if case .deliver(let target) = outcome { return target }
        return nil
    }

    func messages(_ items: [Table.Delivery]) -> [[UInt8]] {
        items.compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }

    func closes(_ items: [Table.Delivery]) -> [WebSocketCloseReason] {
        items.compactMap { if case .close(let r) = $0 { return r } else { return nil } }
    }

    // MARK: - Admission

    @Test func secondNewForALiveTunnelIsAConflict() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        #expect(throws: RelayRefusal.tunnelExists) {
            try table.admitCreator(self.tunnel, connection: RelayConnectionID(rawValue: 9), now: self.t0)
        }
    }

    @Test func tunnelsBeyondTheLimitAreRefused() throws {
        var table = Table(limits: Self.limits)
        for i in 0..<Self.limits.maxTunnels {
            try table.admitCreator(.random(), connection: RelayConnectionID(rawValue: UInt64(i)), now: self.t0)
        }
        #expect(throws: RelayRefusal.tooManyTunnels) {
            try table.admitCreator(.random(), connection: RelayConnectionID(rawValue: 99), now: self.t0)
        }
        #expect(table.tunnelCount == Self.limits.maxTunnels)
    }

    @Test func joiningAnUnknownTunnelIsNotFound() {
        var table = Table(limits: Self.limits)
        #expect(throws: RelayRefusal.unknownTunnel) {
            try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        }
    }

    @Test func aSecondJoinerIsAConflict() throws {
        var table = try self.paired()
        #expect(throws: RelayRefusal.tunnelAlreadyJoined) {
            try table.admitJoiner(self.tunnel, connection: RelayConnectionID(rawValue: 3), now: self.t0)
        }
    }

    @Test func aTunnelWhoseCreatorLeftBeforeAnyJoinIsGoneAndItsIDReusable() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        let (notices, removed) = table.detach(connection: self.phone, cause: .vanished, now: self.t0 + .seconds(1))
        #expect(notices.isEmpty)
        #expect(removed?.paired == false)
        #expect(table.tunnelCount == 0)
        #expect(throws: RelayRefusal.unknownTunnel) {
            try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        }
        try table.admitCreator(self.tunnel, connection: RelayConnectionID(rawValue: 5), now: self.t0)
    }

    @Test func attachingAConnectionThatWasNeverAdmittedIsRefused() {
        var table = Table(limits: Self.limits)
        #expect(table.attach(connection: self.phone, outbound: "phone") == .notAdmitted)
    }

    // MARK: - Forwarding and holding

    @Test func livePeersGetMessagesDirectlyBothWays() throws {
        var table = try self.paired()
        #expect(self.deliveredTo(table.forward([1], from: self.phone, now: self.t0)) == "desktop")
        #expect(self.deliveredTo(table.forward([2], from: self.desktop, now: self.t0)) == "phone")
    }

    @Test func bytesHeldForAJoinerThatNeverCameAreReleasedWithTheTunnel() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        for i in 0..<3 { _ = table.forward([UInt8(i), 0], from: self.phone, now: self.t0) }
        #expect(table.heldBytes == 6)
        let (_, removed) = table.detach(connection: self.phone, cause: .vanished, now: self.t0)
        #expect(removed != nil)
        #expect(table.tunnelCount == 0)
        #expect(table.heldBytes == 0)
    }

    @Test func tunnelsPerAddressAreCountedAndFreedWithTheTunnel() throws {
        var limits = Self.limits
        limits.maxTunnelsPerAddress = 1
        var table = Table(limits: limits)
        try table.admitCreator(self.tunnel, connection: self.phone, address: "192.0.2.1", now: self.t0)
        #expect(throws: RelayRefusal.tooManyTunnelsFromAddress) {
            try table.admitCreator(
                .random(),
                connection: RelayConnectionID(rawValue: 9),
                address: "192.0.2.1",
                now: self.t0
            )
        }
        // Another address, and joiners, are not counted against it.
        try table.admitCreator(
            .random(),
            connection: RelayConnectionID(rawValue: 10),
            address: "192.0.2.2",
            now: self.t0
        )
        try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        #expect(table.tunnelCount(from: "192.0.2.1") == 1)
        _ = table.detach(connection: self.phone, cause: .vanished, now: self.t0)
        _ = table.detach(connection: self.desktop, cause: .vanished, now: self.t0)
        #expect(table.tunnelCount(from: "192.0.2.1") == 0)
        try table.admitCreator(
            .random(),
            connection: RelayConnectionID(rawValue: 11),
            address: "192.0.2.1",
            now: self.t0
        )
    }

    @Test func messagesBeforeTheJoinerArrivesAreHeldAndDrainedInOrder() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        for i in 0..<3 {
            guard case .held = table.forward([UInt8(i)], from: self.phone, now: self.t0) else {
                Issue.record("message \(i) was not held")
                return
            }
        }
        #expect(table.heldBytes == 3)
        try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        // Admitted but not running yet: still held.
        guard case .held = table.forward([3], from: self.phone, now: self.t0) else {
            Issue.record("message to a reserved joiner was not held")
            return
        }
        #expect(table.attach(connection: self.desktop, outbound: "desktop") == .drain)
        // While draining, new messages queue behind the held ones.
        guard case .held = table.forward([4], from: self.phone, now: self.t0) else {
            Issue.record("message to a draining joiner was not held")
            return
        }
        #expect(self.messages(table.drain(connection: self.desktop)) == [[0], [1], [2], [3], [4]])
        // An empty drain makes the joiner live.
        #expect(table.drain(connection: self.desktop).isEmpty)
        #expect(table.heldBytes == 0)
        #expect(self.deliveredTo(table.forward([5], from: self.phone, now: self.t0)) == "desktop")
    }

    @Test func tooManyHeldMessagesCloseTheTunnel() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        for i in 0..<Self.limits.maxHeldMessages { _ = table.forward([UInt8(i)], from: self.phone, now: self.t0) }
        guard case .refuse(let notices) = table.forward([9], from: self.phone, now: self.t0) else {
            Issue.record("held-message limit not enforced")
            return
        }
        #expect(notices.map(\.outbound) == ["phone"])
        #expect(notices.first?.reason.code == .policyViolation)
        // The tunnel is closing: nothing more is accepted, and nobody can join.
        guard case .discarded = table.forward([10], from: self.phone, now: self.t0) else {
            Issue.record("a closing tunnel still forwarded")
            return
        }
        #expect(throws: RelayRefusal.unknownTunnel) {
            try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        }
    }

    @Test func tooManyHeldBytesCloseTheTunnelAndTheReservedPeerGetsTheClose() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        _ = table.forward(Array(repeating: 1, count: 60), from: self.phone, now: self.t0)
        guard case .refuse(let notices) = table.forward(Array(repeating: 2, count: 41), from: self.phone, now: self.t0)
        else {
            Issue.record("held-byte limit not enforced")
            return
        }
        #expect(notices.map(\.outbound) == ["phone"])
        #expect(table.attach(connection: self.desktop, outbound: "desktop") == .drain)
        let items = table.drain(connection: self.desktop)
        #expect(self.messages(items) == [Array(repeating: 1, count: 60)])
        #expect(self.closes(items).map(\.code) == [.policyViolation])
    }

    @Test func theMessageLimitPerTunnelClosesBothSides() throws {
        var table = try self.paired()
        for i in 0..<Self.limits.maxMessagesPerTunnel {
            let from = i.isMultiple(of: 2) ? self.phone : self.desktop
            #expect(self.deliveredTo(table.forward([0], from: from, now: self.t0)) != nil)
        }
        guard case .refuse(let notices) = table.forward([0], from: self.phone, now: self.t0) else {
            Issue.record("message limit not enforced")
            return
        }
        #expect(Set(notices.map(\.outbound)) == ["phone", "desktop"])
        #expect(notices.allSatisfy { $0.reason.code == .policyViolation })
    }

    @Test func theByteLimitPerTunnelClosesBothSides() throws {
        var table = try self.paired()
        #expect(self.deliveredTo(table.forward(Array(repeating: 0, count: 600), from: self.phone, now: self.t0)) != nil)
        #expect(
            self.deliveredTo(table.forward(Array(repeating: 0, count: 400), from: self.desktop, now: self.t0)) != nil
        )
        guard case .refuse(let notices) = table.forward([0], from: self.phone, now: self.t0) else {
            Issue.record("byte limit not enforced")
            return
        }
        #expect(Set(notices.map(\.outbound)) == ["phone", "desktop"])
    }

    // MARK: - Endings

    @Test func aCleanCloseIsForwardedAs1000() throws {
        var table = try self.paired()
        let (notices, removed) = table.detach(connection: self.desktop, cause: .closedCleanly, now: self.t0)
        #expect(notices.map(\.outbound) == ["phone"])
        #expect(notices.first?.reason == .peerClosed)
        #expect(notices.first?.reason.code == .normalClosure)
        #expect(removed == nil)
        let (again, summary) = table.detach(connection: self.phone, cause: .closedCleanly, now: self.t0 + .seconds(2))
        #expect(again.isEmpty)
        #expect(summary?.paired == true)
        #expect(summary?.age == .seconds(2))
        #expect(table.tunnelCount == 0)
    }

    @Test func aVanishedPeerIsReportedAs1001() throws {
        var table = try self.paired()
        let (notices, _) = table.detach(connection: self.phone, cause: .vanished, now: self.t0)
        #expect(notices.map(\.outbound) == ["desktop"])
        #expect(notices.first?.reason.code == .goingAway)
        guard case .discarded = table.forward([1], from: self.desktop, now: self.t0) else {
            Issue.record("a tunnel whose peer left still forwarded")
            return
        }
    }

    @Test func theLastMessagesBeforeACloseReachAJoinerThatIsNotRunningYet() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        _ = table.forward([7, 7], from: self.phone, now: self.t0)
        let (notices, _) = table.detach(connection: self.phone, cause: .closedCleanly, now: self.t0)
        #expect(notices.isEmpty)
        #expect(table.attach(connection: self.desktop, outbound: "desktop") == .drain)
        let items = table.drain(connection: self.desktop)
        #expect(self.messages(items) == [[7, 7]])
        #expect(self.closes(items) == [.peerClosed])
        #expect(table.drain(connection: self.desktop).isEmpty)
    }

    @Test func aViolatorsPeerIsToldAtOnceAndTheViolatorIsNotToldTwice() throws {
        var table = try self.paired()
        let notices = table.abandon(connection: self.phone)
        #expect(notices.map(\.outbound) == ["desktop"])
        #expect(notices.first?.reason == .peerVanished)
        guard case .discarded = table.forward([1], from: self.desktop, now: self.t0) else {
            Issue.record("an abandoned tunnel still forwarded")
            return
        }
        let (later, _) = table.detach(connection: self.phone, cause: .vanished, now: self.t0)
        #expect(later.isEmpty)
        #expect(table.closeAll(reason: .serverShutdown).isEmpty)
    }

    // MARK: - Deadlines

    @Test func aTunnelWhosePeerNeverJoinsExpires() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        #expect(table.expire(now: self.t0 + .seconds(9)).isEmpty)
        let notices = table.expire(now: self.t0 + .seconds(10))
        #expect(notices.map(\.outbound) == ["phone"])
        #expect(notices.first?.reason.text == "peer did not join in time")
        #expect(table.expire(now: self.t0 + .seconds(11)).isEmpty, "a doomed tunnel is told once")
    }

    @Test func anIdleTunnelExpiresButActivityKeepsItAlive() throws {
        var table = try self.paired()
        _ = table.forward([1], from: self.phone, now: self.t0 + .seconds(15))
        #expect(table.expire(now: self.t0 + .seconds(30)).isEmpty)
        let notices = table.expire(now: self.t0 + .seconds(35))
        #expect(Set(notices.map(\.outbound)) == ["phone", "desktop"])
        #expect(notices.first?.reason.text == "tunnel idle for too long")
    }

    @Test func aBusyTunnelStillEndsAtItsLifetime() throws {
        var table = try self.paired()
        for second in stride(from: 6, through: 54, by: 6) {
            _ = table.forward([1], from: self.phone, now: self.t0 + .seconds(second))
        }
        #expect(table.expire(now: self.t0 + .seconds(59)).isEmpty)
        let notices = table.expire(now: self.t0 + .seconds(60))
        #expect(notices.first?.reason.text == "tunnel lifetime exceeded")
    }

    @Test func expiryClosesAReservedJoinerThroughItsInbox() throws {
        var table = Table(limits: Self.limits)
        try table.admitCreator(self.tunnel, connection: self.phone, now: self.t0)
        _ = table.attach(connection: self.phone, outbound: "phone")
        try table.admitJoiner(self.tunnel, connection: self.desktop, now: self.t0)
        let notices = table.expire(now: self.t0 + .seconds(20))
        #expect(notices.map(\.outbound) == ["phone"])
        #expect(table.attach(connection: self.desktop, outbound: "desktop") == .drain)
        #expect(self.closes(table.drain(connection: self.desktop)).map(\.code) == [.policyViolation])
    }

    @Test func shutdownClosesEveryTunnelWith1001() throws {
        var table = try self.paired()
        let notices = table.closeAll(reason: .serverShutdown)
        #expect(Set(notices.map(\.outbound)) == ["phone", "desktop"])
        #expect(notices.allSatisfy { $0.reason.code == .goingAway })
    }
}
