#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `touchdown trace info` reports about a trace.
public struct TraceInfo: Sendable {
    public struct ChannelInfo: Sendable, Encodable {
        public var id: UInt16
        public var topic: String
        public var schemaName: String
        public var messageEncoding: String
        public var messageCount: UInt64
    }

    public struct AttachmentInfo: Sendable, Encodable {
        public var name: String
        public var mediaType: String
        public var size_bytes: UInt64
    }

    public var path: String
    public var fileSize_bytes: UInt64
    public var library: String
    public var profile: String
    public var messageCount: UInt64
    public var start_ns: UInt64
    public var end_ns: UInt64
    public var channels: [ChannelInfo]
    public var chunkCount: Int
    public var compressions: [String]
    public var compressedSize_bytes: UInt64
    public var uncompressedSize_bytes: UInt64
    public var metadata: [Metadata]
    public var attachments: [AttachmentInfo]
    /// True when the summary was read; false when the file was scanned.
    public var fromSummary: Bool

    public var duration_ns: UInt64 { end_ns >= start_ns ? end_ns - start_ns : 0 }

    /// Reads the summary when there is one, or scans the file when not.
    public init(path: String) throws {
        let source = try FileSource(path: path)
        self.path = path
        fileSize_bytes = source.size
        let stream = StreamReader(source: source)
        guard case .header(let header) = try stream.next() else {
            throw MCAPError.malformedRecord(record: "Header", offset: 8, field: "opcode", reason: "the first record is not a Header")
        }
        library = header.library
        profile = header.profile
        if let indexed = try? IndexedReader(source: source), let stats = indexed.statistics {
            fromSummary = true
            messageCount = stats.messageCount
            start_ns = stats.messageStartTime_ns
            end_ns = stats.messageEndTime_ns
            channels = indexed.channels.sorted { $0.id < $1.id }.map { c in
                ChannelInfo(id: c.id, topic: c.topic, schemaName: indexed.schema(c.schemaID)?.name ?? "",
                            messageEncoding: c.messageEncoding,
                            messageCount: stats.channelMessageCounts.first { $0.channelID == c.id }?.count ?? 0)
            }
            var chunks = ChunkTally()
            try indexed.forEachChunkIndex { chunks.add(compression: $0.compression, compressed: $0.compressedSize, uncompressed: $0.uncompressedSize) }
            chunkCount = chunks.count
            compressions = chunks.compressions.sorted()
            compressedSize_bytes = chunks.compressed_bytes
            uncompressedSize_bytes = chunks.uncompressed_bytes
            metadata = try indexed.metadataIndexes.map { try indexed.metadata($0) }
            attachments = indexed.attachmentIndexes.map { AttachmentInfo(name: $0.name, mediaType: $0.mediaType, size_bytes: $0.dataSize) }
            return
        }
        // No summary (or no statistics): count by reading everything.
        fromSummary = false
        var schemas: [Schema] = []
        var channelList: [Channel] = []
        var counts: [UInt64] = Array(repeating: 0, count: Int(UInt16.max) + 1)
        var chunks = ChunkTally()
        var total: UInt64 = 0
        var lo = UInt64.max, hi: UInt64 = 0
        var meta: [Metadata] = []
        var attached: [AttachmentInfo] = []
        while let record = try stream.next() {
            switch record {
            case .schema(let s): schemas.addFirstDefinition(s)
            case .channel(let c): channelList.addFirstDefinition(c)
            case .message(let m):
                counts[Int(m.channelID)] += 1
                total += 1
                lo = min(lo, m.logTime_ns)
                hi = max(hi, m.logTime_ns)
            case .chunk(let c): chunks.add(compression: c.compression, compressed: c.compressedSize, uncompressed: c.uncompressedSize)
            case .metadata(let m): meta.append(m)
            case .attachment(let a): attached.append(AttachmentInfo(name: a.name, mediaType: a.mediaType, size_bytes: UInt64(a.data.count)))
            default: break
            }
        }
        messageCount = total
        start_ns = total > 0 ? lo : 0
        end_ns = hi
        channels = channelList.sorted { $0.id < $1.id }.map { c in
            ChannelInfo(id: c.id, topic: c.topic, schemaName: schemas.first { $0.id == c.schemaID }?.name ?? "",
                        messageEncoding: c.messageEncoding, messageCount: counts[Int(c.id)])
        }
        chunkCount = chunks.count
        compressions = chunks.compressions.sorted()
        compressedSize_bytes = chunks.compressed_bytes
        uncompressedSize_bytes = chunks.uncompressed_bytes
        metadata = meta
        attachments = attached
    }

    /// Chunk figures summed as chunks go by, so a long trace costs no memory.
    private struct ChunkTally {
        var count = 0
        var compressions: [String] = []
        var compressed_bytes: UInt64 = 0
        var uncompressed_bytes: UInt64 = 0

        /// Sizes saturate rather than wrap; a file that claims more than
        /// 2^64 bytes is shown at the maximum. At most 16 compression names
        /// are kept (a file could name a different one for every chunk).
        mutating func add(compression: String, compressed: UInt64, uncompressed: UInt64) {
            count += 1
            if compressions.count < 16 && !compressions.contains(compression) { compressions.append(compression) }
            compressed_bytes = Self.saturatingSum(compressed_bytes, compressed)
            uncompressed_bytes = Self.saturatingSum(uncompressed_bytes, uncompressed)
        }

        private static func saturatingSum(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? .max : sum
        }
    }

    public var compressionRatio: Double {
        compressedSize_bytes > 0 ? Double(uncompressedSize_bytes) / Double(compressedSize_bytes) : 1
    }

    /// The JSON form (sorted keys): `message_count`, `channels: [{topic,
    /// schema_name, message_count}]`, and the rest.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a string, an integer or a Bool: encoding cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The table form.
    public var text: String {
        var lines: [String] = []
        lines.append("file:        \(path) (\(fileSize_bytes) bytes)")
        lines.append("library:     \(library)\(profile.isEmpty ? "" : "  profile: \(profile)")")
        lines.append("messages:    \(messageCount)")
        lines.append("start:       \(formatTime(start_ns))")
        lines.append("end:         \(formatTime(end_ns))")
        lines.append("duration:    \(formatSeconds(duration_ns)) s")
        let ratio = (compressionRatio * 100).rounded() / 100
        lines.append("chunks:      \(chunkCount)  compression: \(compressions.isEmpty ? "none (unchunked)" : compressions.map { $0.isEmpty ? "none" : $0 }.joined(separator: ", "))  ratio: \(ratio)")
        lines.append("channels:")
        let width = channels.map(\.topic.count).max() ?? 0
        for c in channels {
            lines.append("  " + c.topic.padding(width) + "  " + String(c.messageCount).leftPadding(9) + "  " + c.schemaName + " [\(c.messageEncoding)]")
        }
        if !metadata.isEmpty {
            lines.append("metadata:")
            for m in metadata { lines.append("  \(m.name): " + m.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) }
        }
        if !attachments.isEmpty {
            lines.append("attachments:")
            for a in attachments { lines.append("  \(a.name) (\(a.mediaType), \(a.size_bytes) bytes)") }
        }
        if !fromSummary { lines.append("(no summary: counted by reading the whole file)") }
        return lines.joined(separator: "\n")
    }
}

/// `123.456789012` seconds, exactly, from nanoseconds.
public func formatSeconds(_ ns: UInt64) -> String {
    let frac = String(ns % 1_000_000_000)
    return "\(ns / 1_000_000_000)." + String(repeating: "0", count: 9 - frac.count) + frac
}

/// Nanoseconds and the same in seconds.
func formatTime(_ ns: UInt64) -> String { "\(ns) ns (\(formatSeconds(ns)) s)" }

extension String {
    /// Pads with spaces to `width` characters (no change when already wider).
    public func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    public func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

extension TraceInfo: Encodable {
    enum CodingKeys: String, CodingKey {
        case path, fileSize_bytes = "file_size_bytes", library, profile, messageCount = "message_count"
        case start_ns = "start_time_ns", end_ns = "end_time_ns", duration_ns, channels, chunkCount = "chunk_count"
        case compressions = "compression", compressedSize_bytes = "compressed_size_bytes"
        case uncompressedSize_bytes = "uncompressed_size_bytes", metadata, attachments, fromSummary = "from_summary"
    }

    struct MetadataJSON: Encodable {
        var name: String
        var metadata: [String: String]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(fileSize_bytes, forKey: .fileSize_bytes)
        try c.encode(library, forKey: .library)
        try c.encode(profile, forKey: .profile)
        try c.encode(messageCount, forKey: .messageCount)
        try c.encode(start_ns, forKey: .start_ns)
        try c.encode(end_ns, forKey: .end_ns)
        try c.encode(duration_ns, forKey: .duration_ns)
        try c.encode(channels, forKey: .channels)
        try c.encode(chunkCount, forKey: .chunkCount)
        try c.encode(compressions, forKey: .compressions)
        try c.encode(compressedSize_bytes, forKey: .compressedSize_bytes)
        try c.encode(uncompressedSize_bytes, forKey: .uncompressedSize_bytes)
        // A record's keys, the last value of a repeated key winning.
        try c.encode(metadata.map { m in
            MetadataJSON(name: m.name, metadata: Dictionary(m.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        }, forKey: .metadata)
        try c.encode(attachments, forKey: .attachments)
        try c.encode(fromSummary, forKey: .fromSummary)
    }
}

extension TraceInfo.ChannelInfo {
    enum CodingKeys: String, CodingKey {
        case id, topic, schemaName = "schema_name", messageEncoding = "message_encoding", messageCount = "message_count"
    }
}

extension TraceInfo.AttachmentInfo {
    enum CodingKeys: String, CodingKey {
        case name, mediaType = "media_type", size_bytes
    }
}
