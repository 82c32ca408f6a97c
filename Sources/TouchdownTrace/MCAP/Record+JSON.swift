/// The record-level JSON form of the MCAP conformance suite: `{"type": "Name",
/// "fields": [[name, value], ...]}` with fields sorted by name, integers as
/// decimal strings, bytes as arrays of decimal strings, maps as objects.
/// `touchdown trace dump` prints it; the conformance tests compare it.
extension Record {
    /// The record in conformance JSON, or nil for records that form leaves out
    /// (Chunk, MessageIndex and unknown opcodes). Holds the whole text: to
    /// print records of any size use ``writeConformanceJSON(to:)``.
    public var conformanceJSON: String? {
        guard hasConformanceJSON else { return nil }
        return TextOutput.collect { writeConformanceJSON(to: $0) }
    }

    /// Whether the conformance form has this record: all but Chunk,
    /// MessageIndex and unknown opcodes.
    public var hasConformanceJSON: Bool {
        switch self {
        case .chunk, .messageIndex, .unknown: false
        default: true
        }
    }

    /// Writes the record in conformance JSON (nothing for records the form
    /// leaves out), byte fields a block at a time: a message's data of N
    /// bytes becomes 5N to 7N bytes of text, never held whole.
    public func writeConformanceJSON(to output: TextOutput) {
        guard hasConformanceJSON else { return }
        output.append("{\"type\": \"\(opcodeName)\", \"fields\": [")
        for (i, field) in conformanceFields.enumerated() {
            output.append((i > 0 ? ", " : "") + "[\"\(field.name)\", ")
            switch field.value {
            case .text(let text): output.append(text)
            case .bytes(let bytes): Self.writeQuotedDecimals(bytes, to: output)
            }
            output.append("]")
        }
        output.append("]}")
    }

    /// A field's value in the conformance form: JSON text, or bytes
    /// written later as an array of decimal strings.
    private enum ConformanceValue {
        case text(String)
        case bytes([UInt8])
    }

    /// The record's fields, sorted by name; byte fields are not rendered yet.
    private var conformanceFields: [(name: String, value: ConformanceValue)] {
        var fields: [(name: String, value: ConformanceValue)] = []
        func int<T: BinaryInteger>(_ name: String, _ v: T) { fields.append((name, .text(jsonString(String(v))))) }
        func str(_ name: String, _ v: String) { fields.append((name, .text(jsonString(v)))) }
        func bytes(_ name: String, _ v: [UInt8]) { fields.append((name, .bytes(v))) }
        func map(_ name: String, _ pairs: [(String, String)]) {
            fields.append((name, .text("{" + pairs.map { jsonString($0.0) + ": " + jsonString($0.1) }.joined(separator: ", ") + "}")))
        }
        switch self {
        case .header(let h):
            str("library", h.library); str("profile", h.profile)
        case .footer(let f):
            int("summary_crc", f.summaryCRC); int("summary_offset_start", f.summaryOffsetStart); int("summary_start", f.summaryStart)
        case .schema(let s):
            bytes("data", s.data); str("encoding", s.encoding); int("id", s.id); str("name", s.name)
        case .channel(let c):
            int("id", c.id); str("message_encoding", c.messageEncoding); map("metadata", c.metadata.map { ($0.key, $0.value) })
            int("schema_id", c.schemaID); str("topic", c.topic)
        case .message(let m):
            int("channel_id", m.channelID); bytes("data", m.data); int("log_time", m.logTime_ns)
            int("publish_time", m.publishTime_ns); int("sequence", m.sequence)
        case .chunk, .messageIndex, .unknown:
            break
        case .chunkIndex(let c):
            int("chunk_length", c.chunkLength); int("chunk_start_offset", c.chunkStartOffset); int("compressed_size", c.compressedSize)
            str("compression", c.compression); int("message_end_time", c.messageEndTime_ns); int("message_index_length", c.messageIndexLength)
            map("message_index_offsets", c.messageIndexOffsets.map { (String($0.channelID), String($0.offset)) })
            int("message_start_time", c.messageStartTime_ns); int("uncompressed_size", c.uncompressedSize)
        case .attachment(let a):
            int("create_time", a.createTime_ns); bytes("data", a.data); int("log_time", a.logTime_ns)
            str("media_type", a.mediaType); str("name", a.name)
        case .attachmentIndex(let a):
            int("create_time", a.createTime_ns); int("data_size", a.dataSize); int("length", a.length); int("log_time", a.logTime_ns)
            str("media_type", a.mediaType); str("name", a.name); int("offset", a.offset)
        case .statistics(let s):
            int("attachment_count", s.attachmentCount); int("channel_count", s.channelCount)
            map("channel_message_counts", s.channelMessageCounts.map { (String($0.channelID), String($0.count)) })
            int("chunk_count", s.chunkCount); int("message_count", s.messageCount); int("message_end_time", s.messageEndTime_ns)
            int("message_start_time", s.messageStartTime_ns); int("metadata_count", s.metadataCount); int("schema_count", s.schemaCount)
        case .metadata(let m):
            map("metadata", m.metadata.map { ($0.key, $0.value) }); str("name", m.name)
        case .metadataIndex(let m):
            int("length", m.length); str("name", m.name); int("offset", m.offset)
        case .summaryOffset(let s):
            int("group_length", s.groupLength); int("group_opcode", s.groupOpcode); int("group_start", s.groupStart)
        case .dataEnd(let d):
            int("data_section_crc", d.dataSectionCRC)
        }
        return fields
    }

    /// `["0", "255", ...]`, written a block of bytes at a time.
    private static func writeQuotedDecimals(_ bytes: [UInt8], to output: TextOutput) {
        output.append("[")
        var at = 0
        while at < bytes.count {
            let end = min(at + 4096, bytes.count)
            output.append { text in
                for i in at..<end {
                    if i > 0 { text += ", " }
                    text += quotedDecimalText[Int(bytes[i])]
                }
            }
            at = end
        }
        output.append("]")
    }
}

/// "\"0\"" to "\"255\"", for bytes written as decimal strings.
private let quotedDecimalText: [String] = (0...255).map { "\"\($0)\"" }

/// A JSON string literal for `s`: quotes, backslashes and control characters escaped.
public func jsonString(_ s: String) -> String {
    var out = "\""
    appendJSONEscaped(s, to: &out)
    out += "\""
    return out
}

/// Appends `s` escaped for the inside of a JSON string literal.
public func appendJSONEscaped(_ s: String, to out: inout String) {
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let h = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        default: out.unicodeScalars.append(scalar)
        }
    }
}
