/// Bounds-checked reading of one record's content. Every length read from the
/// file is checked against the bytes left in the record before it is used.
struct FieldReader {
    let buffer: UnsafeRawBufferPointer
    var position: Int = 0
    let record: String
    /// File offset of the record's opcode, for error messages.
    let recordOffset: UInt64

    init(_ buffer: UnsafeRawBufferPointer, record: String, recordOffset: UInt64) {
        self.buffer = buffer
        self.record = record
        self.recordOffset = recordOffset
    }

    var remaining: Int { buffer.count - position }

    func fail(_ field: String, _ reason: String) -> MCAPError {
        .malformedRecord(record: record, offset: recordOffset, field: field, reason: reason)
    }

    @inline(__always)
    mutating func need(_ n: Int, _ field: String) throws {
        if n > remaining {
            throw fail(field, "needs \(n) bytes at content offset \(position), \(remaining) left in the record")
        }
    }

    @inline(__always)
    mutating func u8(_ field: String) throws -> UInt8 {
        try need(1, field)
        defer { position += 1 }
        return buffer[position]
    }

    @inline(__always)
    mutating func u16(_ field: String) throws -> UInt16 {
        try need(2, field)
        defer { position += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    @inline(__always)
    mutating func u32(_ field: String) throws -> UInt32 {
        try need(4, field)
        defer { position += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    @inline(__always)
    mutating func u64(_ field: String) throws -> UInt64 {
        try need(8, field)
        defer { position += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    mutating func string(_ field: String) throws -> String {
        let n = try u32(field + " length")
        guard n <= remaining else { throw fail(field, "string length \(n) exceeds the \(remaining) bytes left in the record") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[position..<position + Int(n)]), as: UTF8.self)
        position += Int(n)
        return s
    }

    /// A slice of `n` bytes, as a range of the buffer.
    mutating func slice(_ n: UInt64, _ field: String) throws -> Range<Int> {
        guard n <= UInt64(remaining) else { throw fail(field, "declares \(n) bytes, \(remaining) left in the record") }
        let r = position..<position + Int(n)
        position += Int(n)
        return r
    }

    mutating func bytes32(_ field: String) throws -> [UInt8] {
        let n = try u32(field + " length")
        return Array(UnsafeRawBufferPointer(rebasing: buffer[try slice(UInt64(n), field)]))
    }

    mutating func bytes64(_ field: String) throws -> [UInt8] {
        let n = try u64(field + " length")
        return Array(UnsafeRawBufferPointer(rebasing: buffer[try slice(n, field)]))
    }

    /// The rest of the record.
    mutating func rest() -> [UInt8] {
        defer { position = buffer.count }
        return Array(UnsafeRawBufferPointer(rebasing: buffer[position...]))
    }

    mutating func stringMap(_ field: String) throws -> StringPairs {
        let n = try u32(field + " length")
        let range = try slice(UInt64(n), field)
        var inner = FieldReader(UnsafeRawBufferPointer(rebasing: buffer[range]), record: record, recordOffset: recordOffset)
        var pairs: StringPairs = []
        while inner.remaining > 0 {
            let k = try inner.string(field + " key")
            let v = try inner.string(field + " value")
            pairs.append((k, v))
        }
        return pairs
    }
}

/// Turns a record's content into a ``Record``. Chunks come back as their
/// header only; the caller reads the payload from `chunkPayload`.
enum RecordParser {
    /// Parses a Chunk's fields and returns its header and the payload's byte range within `content`.
    static func chunk(_ content: UnsafeRawBufferPointer, recordOffset: UInt64) throws -> (ChunkHeader, Range<Int>) {
        var r = FieldReader(content, record: "Chunk", recordOffset: recordOffset)
        let start = try r.u64("message_start_time")
        let end = try r.u64("message_end_time")
        let size = try r.u64("uncompressed_size")
        let crc = try r.u32("uncompressed_crc")
        let compression = try r.string("compression")
        let n = try r.u64("records length")
        let range = try r.slice(n, "records")
        return (ChunkHeader(messageStartTime_ns: start, messageEndTime_ns: end, uncompressedSize: size,
                            uncompressedCRC: crc, compression: compression, compressedSize: n), range)
    }

    static func parse(opcode: UInt8, content: UnsafeRawBufferPointer, recordOffset: UInt64) throws -> Record {
        guard let op = Opcode(rawValue: opcode) else {
            return .unknown(opcode: opcode, length: UInt64(content.count))
        }
        var r = FieldReader(content, record: op.recordName, recordOffset: recordOffset)
        switch op {
        case .header:
            let profile = try r.string("profile")
            return .header(Header(profile: profile, library: try r.string("library")))
        case .footer:
            return .footer(Footer(summaryStart: try r.u64("summary_start"), summaryOffsetStart: try r.u64("summary_offset_start"),
                                  summaryCRC: try r.u32("summary_crc")))
        case .schema:
            let id = try r.u16("id")
            let name = try r.string("name")
            let encoding = try r.string("encoding")
            return .schema(Schema(id: id, name: name, encoding: encoding, data: try r.bytes32("data")))
        case .channel:
            let id = try r.u16("id")
            let schemaID = try r.u16("schema_id")
            let topic = try r.string("topic")
            let encoding = try r.string("message_encoding")
            return .channel(Channel(id: id, schemaID: schemaID, topic: topic, messageEncoding: encoding, metadata: try r.stringMap("metadata")))
        case .message:
            let channelID = try r.u16("channel_id")
            let sequence = try r.u32("sequence")
            let logTime = try r.u64("log_time")
            let publishTime = try r.u64("publish_time")
            return .message(Message(channelID: channelID, sequence: sequence, logTime_ns: logTime, publishTime_ns: publishTime, data: r.rest()))
        case .chunk:
            return .chunk(try chunk(content, recordOffset: recordOffset).0)
        case .messageIndex:
            let channelID = try r.u16("channel_id")
            let n = try r.u32("records length")
            guard n % 16 == 0 else { throw r.fail("records", "length \(n) is not a multiple of 16") }
            let range = try r.slice(UInt64(n), "records")
            var entries: [MessageIndexEntry] = []
            entries.reserveCapacity(Int(n) / 16)
            var i = range.lowerBound
            while i < range.upperBound {
                entries.append(MessageIndexEntry(
                    logTime_ns: UInt64(littleEndian: content.loadUnaligned(fromByteOffset: i, as: UInt64.self)),
                    offset: UInt64(littleEndian: content.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))))
                i += 16
            }
            return .messageIndex(MessageIndex(channelID: channelID, entries: entries))
        case .chunkIndex:
            let start = try r.u64("message_start_time")
            let end = try r.u64("message_end_time")
            let chunkStart = try r.u64("chunk_start_offset")
            let chunkLength = try r.u64("chunk_length")
            let n = try r.u32("message_index_offsets length")
            guard n % 10 == 0 else { throw r.fail("message_index_offsets", "length \(n) is not a multiple of 10") }
            let range = try r.slice(UInt64(n), "message_index_offsets")
            var offsets: [(channelID: UInt16, offset: UInt64)] = []
            var i = range.lowerBound
            while i < range.upperBound {
                offsets.append((UInt16(littleEndian: content.loadUnaligned(fromByteOffset: i, as: UInt16.self)),
                                UInt64(littleEndian: content.loadUnaligned(fromByteOffset: i + 2, as: UInt64.self))))
                i += 10
            }
            let indexLength = try r.u64("message_index_length")
            let compression = try r.string("compression")
            let compressed = try r.u64("compressed_size")
            let uncompressed = try r.u64("uncompressed_size")
            return .chunkIndex(ChunkIndex(messageStartTime_ns: start, messageEndTime_ns: end, chunkStartOffset: chunkStart,
                                          chunkLength: chunkLength, messageIndexOffsets: offsets, messageIndexLength: indexLength,
                                          compression: compression, compressedSize: compressed, uncompressedSize: uncompressed))
        case .attachment:
            let logTime = try r.u64("log_time")
            let createTime = try r.u64("create_time")
            let name = try r.string("name")
            let mediaType = try r.string("media_type")
            let data = try r.bytes64("data")
            let crcAt = r.position
            let crc = try r.u32("crc")
            if crc != 0 {
                let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: content[0..<crcAt]))
                if actual != crc { throw MCAPError.crcMismatch(record: "Attachment '\(name)'", offset: recordOffset, expected: crc, actual: actual) }
            }
            return .attachment(Attachment(logTime_ns: logTime, createTime_ns: createTime, name: name, mediaType: mediaType, data: data, crc: crc))
        case .attachmentIndex:
            let offset = try r.u64("offset")
            let length = try r.u64("length")
            let logTime = try r.u64("log_time")
            let createTime = try r.u64("create_time")
            let dataSize = try r.u64("data_size")
            let name = try r.string("name")
            return .attachmentIndex(AttachmentIndex(offset: offset, length: length, logTime_ns: logTime, createTime_ns: createTime,
                                                    dataSize: dataSize, name: name, mediaType: try r.string("media_type")))
        case .statistics:
            let messageCount = try r.u64("message_count")
            let schemaCount = try r.u16("schema_count")
            let channelCount = try r.u32("channel_count")
            let attachmentCount = try r.u32("attachment_count")
            let metadataCount = try r.u32("metadata_count")
            let chunkCount = try r.u32("chunk_count")
            let start = try r.u64("message_start_time")
            let end = try r.u64("message_end_time")
            let n = try r.u32("channel_message_counts length")
            guard n % 10 == 0 else { throw r.fail("channel_message_counts", "length \(n) is not a multiple of 10") }
            let range = try r.slice(UInt64(n), "channel_message_counts")
            var counts: [(channelID: UInt16, count: UInt64)] = []
            var i = range.lowerBound
            while i < range.upperBound {
                counts.append((UInt16(littleEndian: content.loadUnaligned(fromByteOffset: i, as: UInt16.self)),
                               UInt64(littleEndian: content.loadUnaligned(fromByteOffset: i + 2, as: UInt64.self))))
                i += 10
            }
            return .statistics(Statistics(messageCount: messageCount, schemaCount: schemaCount, channelCount: channelCount,
                                          attachmentCount: attachmentCount, metadataCount: metadataCount, chunkCount: chunkCount,
                                          messageStartTime_ns: start, messageEndTime_ns: end, channelMessageCounts: counts))
        case .metadata:
            let name = try r.string("name")
            return .metadata(Metadata(name: name, metadata: try r.stringMap("metadata")))
        case .metadataIndex:
            let offset = try r.u64("offset")
            let length = try r.u64("length")
            return .metadataIndex(MetadataIndex(offset: offset, length: length, name: try r.string("name")))
        case .summaryOffset:
            let op = try r.u8("group_opcode")
            let start = try r.u64("group_start")
            return .summaryOffset(SummaryOffset(groupOpcode: op, groupStart: start, groupLength: try r.u64("group_length")))
        case .dataEnd:
            return .dataEnd(DataEnd(dataSectionCRC: try r.u32("data_section_crc")))
        }
    }
}
