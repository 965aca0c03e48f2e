import ArgumentParser
import CableBlueZ
import CableProtocol
import CableTunnel
import Foundation

/// `--radio auto|bluez|udp` (cli.md, "Radios").
enum RadioChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, bluez, udp

    static let help = ArgumentHelp(
        "Where adverts travel: bluez (Bluetooth LE through BlueZ on the D-Bus system bus), "
            + "udp (the loopback bus) or auto (bluez when the system bus offers a BlueZ adapter, else udp)."
    )
}

/// The advert scanner or transmitter the CLI chose, with what ends it.
struct OpenedRadio<Seam: Sendable>: Sendable {
    let seam: Seam
    /// Stops discovery / unregisters the advert, closes sockets. Idempotent.
    let close: @Sendable () async -> Void
    /// For BlueZ: resolves when the radio fails in a way retrying cannot fix (nil when closed).
    let permanentFailure: (@Sendable () async -> BlueZError?)?
}

enum Radio {
    /// Resolves `auto`: BlueZ when the system bus offers an `org.bluez` adapter, else UDP.
    static func resolve(_ choice: RadioChoice) async -> RadioChoice {
        guard choice == .auto else { return choice }
        guard let adapters = try? await BlueZ.adapters(), !adapters.isEmpty else { return .udp }
        return .bluez
    }

    /// The desktop's scanner. Prints the one `radio:` line on stderr.
    static func openScanner(_ choice: RadioChoice, advertListen: String) async throws -> OpenedRadio<any AdvertScanner>
    {
        switch await self.resolve(choice) {
        case .bluez:
            let scanner: BlueZScanner
            do { scanner = try await BlueZScanner.start() } catch { throw Output.failure(error.reason) }
            Output.diagnostic("radio: bluez \(scanner.adapter)")
            let radio = OpenedRadio<any AdvertScanner>(
                seam: scanner,
                close: { await scanner.close() },
                permanentFailure: nil
            )
            self.closeOnInterrupt { await scanner.stopDiscovery() }
            return radio
        case .udp, .auto:
            let listen = try HostPort(advertListen, option: "--advert-listen")
            let listener: UDPAdvertListener
            do { listener = try await UDPAdvertListener.bind(host: listen.host, port: listen.port) } catch {
                throw Output.failure(error.reason)
            }
            Output.diagnostic("radio: udp \(advertListen)")
            return OpenedRadio(seam: listener, close: { await listener.close() }, permanentFailure: nil)
        }
    }

    /// The phone's transmitter. Prints the one `radio:` line on stderr.
    static func openTransmitter(
        _ choice: RadioChoice,
        advertTo: String
    ) async throws -> OpenedRadio<any AdvertTransmitter> {
        switch await self.resolve(choice) {
        case .bluez:
            let advertiser: BlueZAdvertiser
            do { advertiser = try await BlueZAdvertiser.open() } catch { throw Output.failure(error.reason) }
            Output.diagnostic("radio: bluez \(advertiser.adapter)")
            let radio = OpenedRadio<any AdvertTransmitter>(
                seam: advertiser,
                close: { await advertiser.close() },
                permanentFailure: { await advertiser.permanentFailure() }
            )
            self.closeOnInterrupt(radio.close)
            return radio
        case .udp, .auto:
            let target = try HostPort(advertTo, option: "--advert-to")
            let transmitter: UDPAdvertTransmitter
            do { transmitter = try await UDPAdvertTransmitter.connect(host: target.host, port: target.port) } catch {
                throw Output.failure("cannot send adverts to \(advertTo): \(FailureText.describe(error))")
            }
            Output.diagnostic("radio: udp \(advertTo)")
            return OpenedRadio(seam: transmitter, close: { await transmitter.close() }, permanentFailure: nil)
        }
    }

    /// Ends the process with `error: …` when the radio fails for good (e.g. BlueZ refuses the
    /// advertisement), instead of retrying until a timeout.
    static func exitOnPermanentFailure(_ radio: OpenedRadio<some Sendable>) -> Task<Void, Never>? {
        guard let wait = radio.permanentFailure else { return nil }
        return Task {
            guard let error = await wait() else { return }
            await radio.close()
            _ = Output.failure(error.reason)
            exit(1)
        }
    }

    /// On SIGINT or SIGTERM, stop the radio (StopDiscovery / UnregisterAdvertisement) before exiting
    /// with 130, so Ctrl-C leaves BlueZ as it was.
    private static func closeOnInterrupt(_ close: @escaping @Sendable () async -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                Task {
                    await close()
                    exit(130)
                }
            }
            source.resume()
            // Kept for the life of the process (a released source stops delivering).
            _ = Unmanaged.passRetained(source as AnyObject)
        }
    }
}
