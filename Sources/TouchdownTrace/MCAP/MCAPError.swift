/// Everything that can be wrong with an MCAP file or its use.
///
/// Each case carries where (the byte offset in the file, and the record) and
/// what was expected against what was found, so a person can open the file at
/// that offset and see the damage.
public enum MCAPError: Error, Sendable, Equatable {
    /// The first or last eight bytes are not the MCAP magic.
    case invalidMagic(offset: UInt64, found: [UInt8])
    /// The file ends inside a record (or before the first one).
    case truncated(record: String, offset: UInt64, needed: UInt64, available: UInt64)
    /// A record's declared length is larger than the configured limit.
    case recordTooLarge(record: String, offset: UInt64, length: UInt64, limit: UInt64)
    /// Reading would hold more than a ``ReadLimits`` setting allows: `what`
    /// (a message's data, the messages a merge holds), at or up to `offset`,
    /// needs `size` bytes; `setting` names the limit.
    case overReadLimit(what: String, offset: UInt64, size: UInt64, limit: UInt64, setting: String)
    /// A field inside a record runs past the record's end or is malformed.
    case malformedRecord(record: String, offset: UInt64, field: String, reason: String)
    /// A stored CRC does not match the bytes it covers.
    case crcMismatch(record: String, offset: UInt64, expected: UInt32, actual: UInt32)
    /// A chunk uses a compression this reader does not support.
    case unsupportedCompression(String, offset: UInt64)
    /// A chunk's compressed payload does not decompress to what the chunk declares.
    case decompressionFailed(codec: String, offset: UInt64, reason: String)
    /// Compression itself failed (writer side).
    case compressionFailed(codec: String, reason: String)
    /// The summary, footer or an index contradicts the file.
    case invalidIndex(record: String, offset: UInt64, reason: String)
    /// A message names a channel no Channel record defined before it.
    case unknownChannel(id: UInt16, offset: UInt64)
    /// The writer was misused (a contract the caller broke).
    case invalidUse(String)
    /// The operating system refused a read or write.
    case io(path: String, operation: String, errno: Int32)
    /// A path that is not a regular file (a FIFO, a device, a socket):
    /// reading it could block forever or never end.
    case notARegularFile(path: String, kind: String)
}

extension MCAPError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidMagic(let offset, let found):
            return "not an MCAP file: expected the magic 89 4D 43 41 50 30 0D 0A at offset \(offset), found \(hex(found))"
        case .truncated(let record, let offset, let needed, let available):
            return "truncated \(record) at offset \(offset): needs \(needed) bytes, only \(available) present"
        case .recordTooLarge(let record, let offset, let length, let limit):
            return "\(record) at offset \(offset) declares \(length) bytes, over the limit of \(limit)"
        case .overReadLimit(let what, let offset, let size, let limit, let setting):
            return "\(what) at offset \(offset): \(size) bytes, over the limit of \(limit) bytes (\(mebibytes(limit)); ReadLimits.\(setting))"
        case .malformedRecord(let record, let offset, let field, let reason):
            return "malformed \(record) at offset \(offset): field \(field): \(reason)"
        case .crcMismatch(let record, let offset, let expected, let actual):
            return "CRC mismatch in \(record) at offset \(offset): stored \(hex32(expected)), computed \(hex32(actual))"
        case .unsupportedCompression(let name, let offset):
            return "chunk at offset \(offset) uses compression '\(name)'; supported: '' (none), 'zstd', 'lz4'"
        case .decompressionFailed(let codec, let offset, let reason):
            return "chunk at offset \(offset) does not decompress (\(codec)): \(reason)"
        case .compressionFailed(let codec, let reason):
            return "\(codec) compression failed: \(reason)"
        case .invalidIndex(let record, let offset, let reason):
            return "\(record) at offset \(offset): \(reason)"
        case .unknownChannel(let id, let offset):
            return "Message at offset \(offset) refers to channel \(id), which no Channel record defines before it"
        case .invalidUse(let text):
            return text
        case .io(let path, let operation, let errno):
            return "\(operation) \(path): \(String(cString: strerror(errno)))"
        case .notARegularFile(let path, let kind):
            return "\(path) is \(kind), not a regular file; traces are read from regular files only"
        }
    }
}

extension MCAPError {
    /// Whether the error is a ``ReadLimits`` limit that was reached (the
    /// file may be sound; a reader with higher limits may read it), rather
    /// than damage.
    public var isReadLimit: Bool {
        switch self {
        case .recordTooLarge, .overReadLimit: true
        default: false
        }
    }
}

/// `n` bytes in MiB, for messages: "64 MiB", "0.5 MiB".
private func mebibytes(_ n: UInt64) -> String {
    n % (1 << 20) == 0 ? "\(n >> 20) MiB" : "\(formatFixed(Double(n) / Double(1 << 20), 1)) MiB"
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.isEmpty ? "nothing" : bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true) }.joined(separator: " ")
}

private func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
