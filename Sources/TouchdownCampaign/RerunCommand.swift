/// The command that flies one run of a campaign again, as results lines,
/// JUnit cases and reports print it: `touchdown campaign FILE --only ID`,
/// with FILE quoted for a POSIX shell where it needs to be, so that it can
/// be pasted into one whatever the file is called.
public enum RerunCommand {
    static let prefix = "touchdown campaign "
    static let only = " --only "

    public static func text(campaignFile file: String, runID id: String) -> String {
        prefix + shellWord(file) + only + shellWord(id)
    }

    /// The campaign file a rerun command names, or nil where the text is
    /// not one.
    public static func campaignFile(in rerun: String) -> String? {
        guard rerun.hasPrefix(prefix) else { return nil }
        var rest = Substring(rerun.dropFirst(prefix.count))
        guard let file = readShellWord(&rest), rest.hasPrefix(only) else { return nil }
        return file
    }

    /// Characters a POSIX shell takes literally in a word.
    private static func isPlain(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".", "/", "+", "=", ":", ",", "@", "%": true
        default: false
        }
    }

    /// `word` as is where every character is plain, otherwise in single
    /// quotes, each single quote in it written `'\''`.
    static func shellWord(_ word: String) -> String {
        if !word.isEmpty && word.unicodeScalars.allSatisfy(isPlain) { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// Reads one word written by `shellWord` off the front of `text`.
    static func readShellWord(_ text: inout Substring) -> String? {
        var word = ""
        var read = false
        while let c = text.first, c != " " {
            read = true
            if c == "'" {
                text.removeFirst()
                guard let close = text.firstIndex(of: "'") else { return nil }
                word += text[..<close]
                text = text[text.index(after: close)...]
            } else if c == "\\" {
                text.removeFirst()
                guard let escaped = text.first else { return nil }
                word.append(escaped)
                text.removeFirst()
            } else {
                word.append(c)
                text.removeFirst()
            }
        }
        return read ? word : nil
    }
}
