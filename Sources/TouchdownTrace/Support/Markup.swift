/// Text made safe for XML and HTML, in element content and in attribute
/// values quoted with either quote: the five markup characters become
/// entities, line breaks and tabs character references; characters XML 1.0
/// cannot hold at all are replaced with U+FFFD. Everything else, non-ASCII
/// included, is kept as written (the documents are UTF-8).
public func escapeMarkup(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n": out += "&#10;"
        case "\t": out += "&#9;"
        case "\r": out += "&#13;"
        default:
            if u.value < 0x20 || (0xFFFE...0xFFFF).contains(u.value) { out += "\u{FFFD}" } else { out.unicodeScalars.append(u) }
        }
    }
    return out
}
