/// JSON text the package writes by hand (the `cable --json` lines, the conformance kit's reports).
package enum JSONText {
    /// A JSON string literal (RFC 8259 §7) for `text`: the quote, the backslash and every control
    /// character escaped, and also U+2028 and U+2029, which JSON allows raw but JavaScript string
    /// literals before ES2019 do not (a report pasted into a script stays valid). Other characters,
    /// non-BMP ones included, are written as they are (UTF-8).
    package static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar == "\u{2028}" || scalar == "\u{2029}":
                let digits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
