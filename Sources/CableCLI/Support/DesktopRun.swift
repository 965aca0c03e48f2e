import CableCeremonies
import CableDesktop
import CableRelyingParty
import CableTrust
import CableTunnel
import Foundation
import Logging

/// What `register` and `sign-in` share: the UDP advert listener, the tunnel connector, the relying
/// party, the QR code shown on the `.qrCode` event, the step lines and the live status line.
enum DesktopRun {
    typealias Body =
        @Sendable (PasskeyCeremonies, StepTimer, @escaping @Sendable (DesktopEvent) -> Void) async throws
        -> ([String], JSONLine)

    static func run(
        ceremony: String,
        options: DesktopOptions,
        policy: RelyingParty.Policy = RelyingParty.Policy(),
        trust: TrustPolicy? = nil,
        drawing: QRStyleOptions,
        body: Body
    ) async throws {
        let listener = try await Radio.openScanner(options.radio, advertListen: options.advertListen)
        let timeout = Duration.seconds(options.timeout)
        var logger = Logger(label: "cable.desktop")
        logger.logLevel = .warning
        let tlsTrust = try options.tunnelTrust()
        let desktop = HybridDesktop(
            scanner: listener.seam,
            connector: WebSocketTunnelConnector(fixedService: options.tunnelService, trust: tlsTrust),
            timeouts: .all(timeout),
            logger: logger
        )
        let records: SQLiteCredentialRecordStore
        do {
            let location = try StoreLocation.resolve(
                options.rpStore,
                defaultName: StoreLocation.relyingPartyFileName,
                create: true
            )
            records = try SQLiteCredentialRecordStore(fileURL: location.url)
        } catch let error as RelyingPartyError {
            throw Output.failure("relying-party store: \(error.message)", step: "store")
        }
        let ceremonies = PasskeyCeremonies(
            desktop: desktop,
            relyingParty: RelyingParty(id: options.rpId, policy: policy, trust: trust),
            records: records
        )
        let timer = StepTimer(ceremony: ceremony, timeout: timeout, quiet: false)
        let onEvent: @Sendable (DesktopEvent) -> Void = { event in
            // The QR code and its URL line come first, before any waiting.
            if case .qrCode(let url) = event {
                timer.showingQRCode { QRDisplay.showOrReport(url: url, options: drawing) }
            }
            timer.desktopEvent(event)
        }
        let status = timer.runStatusLine()
        do {
            let (lines, json) = try await body(ceremonies, timer, onEvent)
            status?.cancel()
            timer.finish()
            await listener.close()
            for l in lines { print(l) }
            if options.json { print(json.text) }
        } catch {
            status?.cancel()
            timer.finish()
            await listener.close()
            throw Output.failure(
                CeremonyOutput.message(for: error),
                step: FailureText.step(of: error)
            )
        }
    }
}
