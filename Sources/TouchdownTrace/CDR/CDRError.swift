/// Why CDR bytes could not be decoded, or a ``MessageValue`` could not be encoded.
///
/// Offsets count from the first byte of the buffer, the 4-byte encapsulation header
/// included. Field paths name the failing field from the top-level message, e.g.
/// `orientation.x` or `points[3].label`; an empty path is the top-level message itself.
public enum CDRError: Error, CustomStringConvertible, Equatable {
    /// Fewer than the 4 bytes of the encapsulation header.
    case headerTooShort(byteCount: Int)
    /// The encapsulation identifier is not plain CDR (0x0000 big-endian, 0x0001 little-endian).
    case unsupportedEncapsulation(found: UInt16)
    /// The data ends before a value; `needed_bytes` includes any alignment padding.
    case truncated(offset: Int, fieldPath: String, expected: String, needed_bytes: Int, remaining_bytes: Int)
    /// A count (sequence length) asks for more elements than the remaining bytes could hold,
    /// each element taking at least `minimumElementSize_bytes`.
    case countExceedsData(offset: Int, fieldPath: String, count: Int, minimumElementSize_bytes: Int, remaining_bytes: Int)
    /// A bounded sequence `T[<=N]` or string `string<=N` holds more than N elements or bytes.
    case boundExceeded(offset: Int, fieldPath: String, count: Int, bound: Int)
    /// A string's bytes are not valid UTF-8.
    case invalidUTF8(offset: Int, fieldPath: String, length_bytes: Int)
    /// A string's last byte (counted in its length) is not the NUL terminator.
    case missingStringTerminator(offset: Int, fieldPath: String, found: UInt8)
    /// Encoding: a value has the wrong kind for its field, e.g. `.string` for a `float64`.
    case valueTypeMismatch(fieldPath: String, expected: String, found: String)
    /// Encoding: a message value's field names differ from the schema's, in order.
    case fieldsMismatch(fieldPath: String, expected: [String], found: [String])
    /// Encoding: a number does not fit its field type.
    case valueOutOfRange(fieldPath: String, type: String, value: String)
    /// Encoding: a fixed array `T[N]` has a different number of elements.
    case arrayCountMismatch(fieldPath: String, expected: Int, found: Int)

    /// One sentence naming where, what was needed and what was there.
    public var description: String {
        switch self {
        case .headerTooShort(let byteCount):
            return "CDR data is \(byteCount) bytes long; needed at least the 4-byte encapsulation header"
        case .unsupportedEncapsulation(let found):
            let hex = "0x" + String(found, radix: 16, uppercase: false).leftPadded(to: 4)
            let name: String = switch found {
            case 0x0002: " (PL_CDR_BE)"
            case 0x0003: " (PL_CDR_LE)"
            case 0x0006...0x000b: " (XCDR2)"
            default: ""
            }
            return "CDR encapsulation at byte offset 0 is \(hex)\(name); expected 0x0000 (CDR_BE) or 0x0001 (CDR_LE)"
        case .truncated(let offset, let fieldPath, let expected, let needed, let remaining):
            return "CDR data ends at byte offset \(offset) in \(Self.describe(fieldPath)): needed \(needed) bytes for \(expected), \(remaining) remain"
        case .countExceedsData(let offset, let fieldPath, let count, let minimumElementSize, let remaining):
            return "CDR count \(count) at byte offset \(offset) in \(Self.describe(fieldPath)) needs at least \(count) × \(minimumElementSize) bytes, but only \(remaining) remain"
        case .boundExceeded(let offset, let fieldPath, let count, let bound):
            return "CDR length \(count) at byte offset \(offset) in \(Self.describe(fieldPath)) exceeds the schema bound of \(bound)"
        case .invalidUTF8(let offset, let fieldPath, let length):
            return "CDR string of \(length) bytes at byte offset \(offset) in \(Self.describe(fieldPath)) is not valid UTF-8"
        case .missingStringTerminator(let offset, let fieldPath, let found):
            return "CDR string in \(Self.describe(fieldPath)) ends at byte offset \(offset) with 0x\(String(found, radix: 16)); expected the NUL terminator 0x00"
        case .valueTypeMismatch(let fieldPath, let expected, let found):
            return "cannot encode \(Self.describe(fieldPath)): expected \(expected), found \(found)"
        case .fieldsMismatch(let fieldPath, let expected, let found):
            return "cannot encode \(Self.describe(fieldPath)): expected fields [\(expected.joined(separator: ", "))] in that order, found [\(found.joined(separator: ", "))]"
        case .valueOutOfRange(let fieldPath, let type, let value):
            return "cannot encode \(Self.describe(fieldPath)): \(value) does not fit in \(type)"
        case .arrayCountMismatch(let fieldPath, let expected, let found):
            return "cannot encode \(Self.describe(fieldPath)): fixed array needs exactly \(expected) elements, found \(found)"
        }
    }

    private static func describe(_ fieldPath: String) -> String {
        fieldPath.isEmpty ? "the top-level message" : "field `\(fieldPath)`"
    }

    /// The field path this error refers to, if any.
    public var fieldPath: String? {
        switch self {
        case .headerTooShort, .unsupportedEncapsulation: nil
        case .truncated(_, let path, _, _, _), .countExceedsData(_, let path, _, _, _),
             .boundExceeded(_, let path, _, _), .invalidUTF8(_, let path, _),
             .missingStringTerminator(_, let path, _), .valueTypeMismatch(let path, _, _),
             .fieldsMismatch(let path, _, _), .valueOutOfRange(let path, _, _),
             .arrayCountMismatch(let path, _, _):
            path
        }
    }

    /// This error with `component` (a field name or `[index]`) put in front of its field path.
    ///
    /// Decoders add path components only while an error propagates, so a successful
    /// decode does no string work for paths.
    func prependingPathComponent(_ component: String) -> CDRError {
        func join(_ path: String) -> String {
            if path.isEmpty { return component }
            return path.hasPrefix("[") ? component + path : component + "." + path
        }
        switch self {
        case .headerTooShort, .unsupportedEncapsulation:
            return self
        case .truncated(let offset, let path, let expected, let needed, let remaining):
            return .truncated(offset: offset, fieldPath: join(path), expected: expected, needed_bytes: needed, remaining_bytes: remaining)
        case .countExceedsData(let offset, let path, let count, let minimum, let remaining):
            return .countExceedsData(offset: offset, fieldPath: join(path), count: count, minimumElementSize_bytes: minimum, remaining_bytes: remaining)
        case .boundExceeded(let offset, let path, let count, let bound):
            return .boundExceeded(offset: offset, fieldPath: join(path), count: count, bound: bound)
        case .invalidUTF8(let offset, let path, let length):
            return .invalidUTF8(offset: offset, fieldPath: join(path), length_bytes: length)
        case .missingStringTerminator(let offset, let path, let found):
            return .missingStringTerminator(offset: offset, fieldPath: join(path), found: found)
        case .valueTypeMismatch(let path, let expected, let found):
            return .valueTypeMismatch(fieldPath: join(path), expected: expected, found: found)
        case .fieldsMismatch(let path, let expected, let found):
            return .fieldsMismatch(fieldPath: join(path), expected: expected, found: found)
        case .valueOutOfRange(let path, let type, let value):
            return .valueOutOfRange(fieldPath: join(path), type: type, value: value)
        case .arrayCountMismatch(let path, let expected, let found):
            return .arrayCountMismatch(fieldPath: join(path), expected: expected, found: found)
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
