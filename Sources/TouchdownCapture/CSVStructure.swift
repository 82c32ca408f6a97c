import Foundation

/// A pass over a CSV file's bytes before it is parsed, for what the parser
/// (CSV.swift) lets through: a quoted cell left open at the end of the file
/// (it would swallow every row after it), text after a closing quote, and
/// bytes that are not UTF-8. It also gives the line each record starts on,
/// counting line breaks inside quoted cells (LF, CRLF and CR) as lines.
enum CSVStructure {
    /// The 1-based line each record starts on; record 0 is the header.
    static func recordLines(path: String) throws -> [Int] {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw CSVImportError(file: path, line: 0, message: "cannot open the CSV file")
        }
        defer { try? file.close() }
        var starts = [1]
        var line = 1
        var inQuotes = false, quoteOpenedOn = 0
        var afterQuote = false       // just read a quote inside a quoted cell
        var atFieldStart = true
        var pendingCR = false
        var continuation = 0         // UTF-8 continuation bytes still expected
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        var atEnd = false
        func fail(_ message: String) -> CSVImportError { CSVImportError(file: path, line: line, message: message) }
        func endRecord() { atFieldStart = true }
        while !atEnd {
            let chunk = try file.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true }
            for byte in chunk {
                // UTF-8.
                if continuation > 0 {
                    guard secondRange.contains(byte) else { throw fail("is not UTF-8 text here (byte 0x\(String(byte, radix: 16))); CSV files are read as UTF-8") }
                    secondRange = 0x80...0xBF
                    continuation -= 1
                    atFieldStart = false
                    afterQuote = false
                    continue
                }
                switch byte {
                case 0x00...0x7F: break
                case 0xC2...0xDF: continuation = 1
                case 0xE0: continuation = 2; secondRange = 0xA0...0xBF
                case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
                case 0xED: continuation = 2; secondRange = 0x80...0x9F
                case 0xF0: continuation = 3; secondRange = 0x90...0xBF
                case 0xF1...0xF3: continuation = 3
                case 0xF4: continuation = 3; secondRange = 0x80...0x8F
                default: throw fail("is not UTF-8 text here (byte 0x\(String(byte, radix: 16))); CSV files are read as UTF-8")
                }
                if continuation > 0 {
                    if afterQuote { throw fail("has text after the closing quote of a quoted cell; a quote inside a quoted cell is written twice (\"\")") }
                    atFieldStart = false
                    continue
                }
                // Line breaks: LF, CRLF, CR.
                if pendingCR {
                    pendingCR = false
                    if byte == 0x0A { continue }
                }
                let isBreak = byte == 0x0A || byte == 0x0D
                if byte == 0x0D { pendingCR = true }
                if afterQuote {
                    afterQuote = false
                    if byte == 0x22 { continue }  // an escaped quote
                    inQuotes = false
                    guard byte == 0x2C || isBreak else {
                        throw fail("has text after the closing quote of a quoted cell; a quote inside a quoted cell is written twice (\"\")")
                    }
                }
                if inQuotes {
                    if byte == 0x22 { afterQuote = true }
                    if isBreak { line += 1 }
                    continue
                }
                if isBreak {
                    line += 1
                    starts.append(line)
                    endRecord()
                    continue
                }
                if byte == 0x2C { atFieldStart = true; continue }
                if byte == 0x22 && atFieldStart {
                    inQuotes = true
                    quoteOpenedOn = line
                }
                atFieldStart = false
            }
        }
        if continuation > 0 { throw fail("ends inside a UTF-8 character; CSV files are read as UTF-8") }
        if inQuotes && !afterQuote {
            throw CSVImportError(file: path, line: quoteOpenedOn, message: "has a quoted cell that is never closed: it would take in every line after it to the end of the file")
        }
        // A break at the very end starts no record.
        if starts.count > 1 && starts.last == line && atFieldStart { starts.removeLast() }
        return starts
    }
}
