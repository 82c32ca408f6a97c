@testable import TouchdownTrace

/// Helpers for the CDR tests, namespaced so they cannot clash with other suites' helpers.
enum CDRTestData {
    /// Bytes from hex text; spaces are ignored. Traps on malformed hex (a test-data bug).
    static func bytes(hex lines: [String]) -> [UInt8] {
        let digits = Array(lines.joined().filter { !$0.isWhitespace }.utf8)
        precondition(digits.count.isMultiple(of: 2), "odd number of hex digits")
        func nibble(_ digit: UInt8) -> UInt8 {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
            default: preconditionFailure("not a hex digit: \(digit)")
            }
        }
        return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
    }

    /// Lower-case hex, for readable comparisons of byte arrays.
    static func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Compiles a schema; parse errors surface as thrown test failures.
    static func compile(_ name: String, _ text: String) throws -> CompiledMessageSchema {
        try CompiledMessageSchema(schemaName: name, schemaText: text)
    }
}

extension MessageValue {
    /// A message literal with fields in the order written.
    static func fields(_ pairs: KeyValuePairs<String, MessageValue>) -> MessageValue {
        .message(pairs.map { MessageField(name: $0.key, value: $0.value) })
    }
}
