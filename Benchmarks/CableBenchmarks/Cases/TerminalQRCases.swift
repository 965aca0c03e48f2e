import CableTerminalQR

/// QR symbol encoding and rendering of the Chrome QR URL.
///
/// Baseline: libqrencode's encode alone (`QRCode(encoding:)`), so each ratio says what rendering adds
/// on top of making the symbol.
enum TerminalQRCases {
    /// The baseline's name.
    static let encodeName = "libqrencode encode (QRCode(encoding:))"

    /// One case per rendering.
    static var all: [BenchmarkCase] {
        [
            self.renderCase("qr.render.utf8") { (code) throws(QRCodeError) in
                try QRTextRenderer(style: .utf8).render(code).text
            },
            self.renderCase("qr.render.ansi") { (code) throws(QRCodeError) in
                try QRTextRenderer(style: .ansi).render(code).text
            },
            self.renderCase("qr.render.ascii") { (code) throws(QRCodeError) in
                try QRTextRenderer(style: .ascii).render(code).text
            },
            self.renderCase("qr.render.svg") { (code) throws(QRCodeError) in try QRSVGRenderer().render(code) },
        ]
    }

    /// A case timing encode + `render` against encode alone.
    static func renderCase(
        _ name: String,
        render: @escaping @Sendable (QRCode) throws(QRCodeError) -> String
    ) -> BenchmarkCase {
        BenchmarkCase(name) { context in
            let url = try Fixtures.load().url
            let encodeOnly = TimedOperation(name: self.encodeName) { blackHole(try QRCode(encoding: url)) }
            let (figure, baseline) = try context.compare(
                { blackHole(try render(try QRCode(encoding: url))) },
                with: encodeOnly
            )
            return [.timed(name, figure, baseline: baseline)]
        }
    }
}
