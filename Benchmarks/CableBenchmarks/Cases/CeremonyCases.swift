/// A full register + sign-in, desktop and phone in one process.
///
/// PENDING: the lead is building the in-process ceremony API in `CableClient` / `CableAuthenticator`
/// (a loopback demo such as `LoopbackCeremony` or `HybridDemo`). When it exists, time one register and
/// one sign-in through it here (no baseline: the figure is the end-to-end cost, to be read beside
/// `handshake.knpsk0` and `relay.forward.rtt`). Until then the row reports "not yet available", so the
/// gap shows in every run.
enum CeremonyCases {
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("ceremony.registerAndSignIn") { _ in
                [
                    .unavailable(
                        "ceremony.registerAndSignIn",
                        reason: "not yet available: the in-process register + sign-in API is not in CableClient yet")
                ]
            }
        ]
    }
}
