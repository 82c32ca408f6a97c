import Foundation
import TouchdownTrace

/// Small files that ask a reader for far more memory than they hold (issue
/// 13, item 11): each is written with `MCAPWriter`, some then have their
/// summary cut down by hand. The tests run the readers and the command line
/// on them under an address-space limit.
public enum HostileTraces {
    /// The ros2msg schema every message here uses: one byte sequence, so a
    /// message's size is its sequence's length and a schema-driven decoder
    /// makes one value per byte.
    public static let blobSchemaName = "hostile_msgs/msg/Blob"
    public static let blobSchemaText = "uint8[] data\n"
    public static let topic = "/blob"

    /// A CDR `Blob` of `size_bytes` in all (header and count included):
    /// the first `randomPrefix_bytes` of its data drawn from a seeded
    /// generator, so that zstd cannot squeeze them, the rest zeros.
    public static func blob(size_bytes: Int, randomPrefix_bytes: Int) -> [UInt8] {
        precondition(size_bytes >= 8 && randomPrefix_bytes <= size_bytes - 8)
        var bytes = [UInt8](repeating: 0, count: size_bytes)
        bytes[1] = 0x01  // CDR_LE
        let count = UInt32(size_bytes - 8)
        for i in 0..<4 { bytes[4 + i] = UInt8(truncatingIfNeeded: count >> (8 * UInt32(i))) }
        var random = SeededRandom(seed: 13, stream: "hostile-blob")
        var i = 8
        while i < 8 + randomPrefix_bytes {
            var word = random.next()
            for _ in 0..<8 where i < 8 + randomPrefix_bytes {
                bytes[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        return bytes
    }

    /// One `Blob` message of `messageSize_bytes` in one zstd chunk that
    /// compresses about 1000 to 1, inside `ReadLimits.maxCompressionRatio`:
    /// 255 MiB make a file of about 262 KB, the audit's input.
    public static func oneLargeMessage(path: String, messageSize_bytes: Int = 255 << 20) throws {
        let data = blob(size_bytes: messageSize_bytes, randomPrefix_bytes: messageSize_bytes / 1000)
        var options = MCAPWriter.Options()
        options.compression = .zstd(level: 1)
        options.chunkSize_bytes = messageSize_bytes + (1 << 20)
        options.compressInBackground = false
        let writer = try MCAPWriter(sink: try FileSink(path: path), options: options)
        let channel = try blobChannel(writer)
        try data.withUnsafeBytes { try writer.write(channelID: channel, sequence: 0, logTime_ns: 0, publishTime_ns: 0, payload: $0) }
        try writer.finish()
    }

    /// `chunkCount` chunks, each one message of just under 1 MiB of zeros
    /// (below the 1 MiB floor of the compression-ratio limit, so each takes
    /// about 100 bytes), written in descending log time, in a file whose
    /// summary keeps its Schema, Channel and Statistics records but no
    /// ChunkIndex: a reader that sorts the messages of unindexed chunks
    /// holds them all.
    public static func unindexedOutOfOrderChunks(path: String, chunkCount: Int = 2000, messageSize_bytes: Int = (1 << 20) - 256) throws {
        try writeChunks(path: path, chunkCount: chunkCount, messageSize_bytes: messageSize_bytes) { writer, channel, data, i in
            try data.withUnsafeBytes {
                try writer.write(channelID: channel, sequence: UInt32(i), logTime_ns: UInt64(chunkCount - i), publishTime_ns: 0, payload: $0)
            }
            try writer.flush()
        }
        try dropChunkIndexes(path: path)
    }

    /// `chunkCount` chunks that each span the same time range (a small
    /// message at 0, then one of just under 1 MiB of zeros at 1 s), with
    /// their summary intact: a reader that merges chunks whose time ranges
    /// overlap holds every chunk's messages at once.
    public static func overlappingChunks(path: String, chunkCount: Int = 2000, messageSize_bytes: Int = (1 << 20) - 256) throws {
        let small = blob(size_bytes: 16, randomPrefix_bytes: 0)
        try writeChunks(path: path, chunkCount: chunkCount, messageSize_bytes: messageSize_bytes) { writer, channel, data, i in
            try small.withUnsafeBytes { try writer.write(channelID: channel, sequence: UInt32(2 * i), logTime_ns: 0, publishTime_ns: 0, payload: $0) }
            try data.withUnsafeBytes {
                try writer.write(channelID: channel, sequence: UInt32(2 * i + 1), logTime_ns: 1_000_000_000, publishTime_ns: 0, payload: $0)
            }
            try writer.flush()
        }
    }

    /// One chunk of `messageCount` empty `Blob` messages (39 bytes a
    /// record), all at the same log time, with their MessageIndex: a
    /// checker that keeps much per message needs many times the chunk.
    public static func manySmallMessages(path: String, messageCount: Int) throws {
        var options = MCAPWriter.Options()
        options.compression = .zstd(level: 1)
        options.compressInBackground = false
        options.chunkSize_bytes = messageCount * 39 + 1
        let writer = try MCAPWriter(sink: try FileSink(path: path), options: options)
        let channel = try blobChannel(writer)
        let empty = blob(size_bytes: 8, randomPrefix_bytes: 0)
        try empty.withUnsafeBytes { data in
            for i in 0..<messageCount {
                try writer.write(channelID: channel, sequence: UInt32(truncatingIfNeeded: i), logTime_ns: 0, publishTime_ns: 0, payload: data)
            }
        }
        try writer.finish()
    }

    /// A writer with the `Blob` channel, a message of `messageSize_bytes`
    /// (by default just under 1 MiB, the floor of the compression-ratio
    /// limit), and `body` called once per chunk.
    private static func writeChunks(path: String, chunkCount: Int, messageSize_bytes: Int,
                                    _ body: (MCAPWriter, UInt16, [UInt8], Int) throws -> Void) throws {
        var options = MCAPWriter.Options()
        options.compression = .zstd(level: 1)
        options.compressInBackground = false
        options.chunkSpan_ns = .max  // chunks close where `body` flushes
        let writer = try MCAPWriter(sink: try FileSink(path: path), options: options)
        let channel = try blobChannel(writer)
        let data = blob(size_bytes: messageSize_bytes, randomPrefix_bytes: 0)
        for i in 0..<chunkCount { try body(writer, channel, data, i) }
        try writer.finish()
    }

    private static func blobChannel(_ writer: MCAPWriter) throws -> UInt16 {
        let schema = try writer.addSchema(name: blobSchemaName, encoding: "ros2msg", data: Array(blobSchemaText.utf8))
        return try writer.addChannel(topic: topic, messageEncoding: "cdr", schemaID: schema)
    }

    /// Rewrites the summary of the trace at `path` without its ChunkIndex
    /// and SummaryOffset records, and with no summary CRC.
    public static func dropChunkIndexes(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let bytes = try [UInt8](Data(contentsOf: url))
        let footer = try IndexedReader(path: path).footer
        let summaryStart = Int(footer.summaryStart)
        let footerStart = bytes.count - 8 - 29
        var out = Array(bytes[..<summaryStart])
        var at = summaryStart
        while at < footerStart {
            let op = bytes[at]
            var length = 0
            for i in 0..<8 { length |= Int(bytes[at + 1 + i]) << (8 * i) }
            let end = at + 9 + length
            if op != Opcode.chunkIndex.rawValue && op != Opcode.summaryOffset.rawValue { out += bytes[at..<end] }
            at = end
        }
        out.append(Opcode.footer.rawValue)
        out += littleEndian(UInt64(20)) + littleEndian(UInt64(summaryStart)) + littleEndian(UInt64(0)) + [0, 0, 0, 0]
        out += mcapMagic
        try Data(out).write(to: url)
    }

    private static func littleEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
