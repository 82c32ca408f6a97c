/// Limits a reader applies before it believes a size read from a file.
public struct ReadLimits: Sendable {
    /// The largest record (outside chunks) a reader will load.
    public var maxRecordSize_bytes: UInt64 = 1 << 30
    /// The largest uncompressed chunk a reader will allocate for.
    public var maxChunkSize_bytes: UInt64 = 256 << 20
    /// The largest ratio of uncompressed to compressed size a chunk may claim
    /// (above a 1 MiB floor), so that a small file cannot make a reader
    /// allocate far more than its bytes justify.
    public var maxCompressionRatio: UInt64 = 1024
    /// Whether stored CRCs (chunk, data section, summary, attachment) are checked.
    public var validateCRCs = true
    public init() {}
}

/// A message inside a buffer the reader owns; valid only during the callback
/// that receives it.
public struct MessageView {
    public var channelID: UInt16
    public var sequence: UInt32
    public var logTime_ns: UInt64
    public var publishTime_ns: UInt64
    public var data: UnsafeRawBufferPointer
}

/// Decompresses chunk payloads into a buffer reused from chunk to chunk.
struct ChunkDecoder {
    private var zstd: ZstdDecompressor?
    private var lz4: LZ4Decompressor?
    private(set) var buffer: [UInt8] = []
    let limits: ReadLimits

    init(limits: ReadLimits) { self.limits = limits }

    /// Decompresses and checks a chunk's payload, then calls `body` with the
    /// uncompressed records.
    mutating func withRecords<R>(
        header: ChunkHeader, payload: UnsafeRawBufferPointer, chunkOffset: UInt64,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        let size = header.uncompressedSize
        if size > limits.maxChunkSize_bytes {
            throw MCAPError.recordTooLarge(record: "Chunk (uncompressed_size)", offset: chunkOffset, length: size, limit: limits.maxChunkSize_bytes)
        }
        if header.compression != "" && size > max(1 << 20, UInt64(payload.count) * limits.maxCompressionRatio) {
            throw MCAPError.recordTooLarge(record: "Chunk (uncompressed_size, \(payload.count) bytes compressed)", offset: chunkOffset,
                                           length: size, limit: max(1 << 20, UInt64(payload.count) * limits.maxCompressionRatio))
        }
        let count = Int(size)
        let checkCRC = limits.validateCRCs && header.uncompressedCRC != 0
        switch header.compression {
        case "":
            guard UInt64(payload.count) == size else {
                throw MCAPError.malformedRecord(record: "Chunk", offset: chunkOffset, field: "records",
                                                reason: "uncompressed chunk holds \(payload.count) bytes, uncompressed_size says \(size)")
            }
            if checkCRC { try Self.check(payload, header, chunkOffset) }
            return try body(payload)
        case "zstd", "lz4":
            if header.compression == "zstd", let f = ZstdDecompressor.checkFrame(payload, expectedSize: size) {
                throw MCAPError.decompressionFailed(codec: "zstd", offset: chunkOffset, reason: f.reason)
            }
            if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
            let result: Result<Void, DecompressionFailure>
            if header.compression == "zstd" {
                if zstd == nil { zstd = try ZstdDecompressor() }
                let z = zstd!
                result = buffer.withUnsafeMutableBytes { z.decompress(payload, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count])) }
            } else {
                if lz4 == nil { lz4 = try LZ4Decompressor() }
                let l = lz4!
                result = buffer.withUnsafeMutableBytes { l.decompress(payload, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count])) }
            }
            if case .failure(let f) = result {
                throw MCAPError.decompressionFailed(codec: header.compression, offset: chunkOffset, reason: f.reason)
            }
            return try buffer.withUnsafeBytes { (b) throws in
                let records = UnsafeRawBufferPointer(rebasing: b[..<count])
                if checkCRC { try Self.check(records, header, chunkOffset) }
                return try body(records)
            }
        default:
            throw MCAPError.unsupportedCompression(header.compression, offset: chunkOffset)
        }
    }

    private static func check(_ records: UnsafeRawBufferPointer, _ header: ChunkHeader, _ offset: UInt64) throws {
        let actual = CRC32.checksum(records)
        if actual != header.uncompressedCRC {
            throw MCAPError.crcMismatch(record: "Chunk", offset: offset, expected: header.uncompressedCRC, actual: actual)
        }
    }

    /// Releases the buffer after an unusually large chunk.
    mutating func shrink() {
        if buffer.count > 16 << 20 { buffer = [] }
    }
}

/// Walks the records inside an uncompressed chunk.
enum ChunkRecords {
    /// The record starting at `i` of the uncompressed records: its opcode and
    /// the range of its content. Throws when it runs past the chunk's end.
    @inline(__always)
    static func record(at i: Int, in records: UnsafeRawBufferPointer, chunkOffset: UInt64) throws -> (opcode: UInt8, content: Range<Int>) {
        let n = records.count
        guard n - i >= 9 else {
            throw MCAPError.malformedRecord(record: "Chunk", offset: chunkOffset, field: "records",
                                            reason: "\(n - i) stray bytes at offset \(i) of the uncompressed records")
        }
        let op = records[i]
        let length = UInt64(littleEndian: records.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self))
        guard length <= UInt64(n - i - 9) else {
            throw MCAPError.malformedRecord(record: "Chunk", offset: chunkOffset, field: "records",
                                            reason: "\(Opcode.name(of: op)) at offset \(i) of the uncompressed records declares \(length) bytes, \(n - i - 9) left")
        }
        return (op, (i + 9)..<(i + 9 + Int(length)))
    }

    /// Calls `body(opcode, content, offsetInChunk)` for each record; throws when
    /// a record runs past the chunk's end.
    @inline(__always)
    static func walk(_ records: UnsafeRawBufferPointer, chunkOffset: UInt64,
                     _ body: (UInt8, UnsafeRawBufferPointer, Int) throws -> Void) throws {
        var i = 0
        while i < records.count {
            let (op, content) = try record(at: i, in: records, chunkOffset: chunkOffset)
            try body(op, UnsafeRawBufferPointer(rebasing: records[content]), i)
            i = content.upperBound
        }
    }

    /// Reads a Message record's content without copying its data.
    @inline(__always)
    static func message(_ content: UnsafeRawBufferPointer, chunkOffset: UInt64) throws -> MessageView {
        guard content.count >= 22 else {
            throw MCAPError.malformedRecord(record: "Message", offset: chunkOffset, field: "header", reason: "\(content.count) bytes, needs at least 22")
        }
        return MessageView(
            channelID: UInt16(littleEndian: content.loadUnaligned(fromByteOffset: 0, as: UInt16.self)),
            sequence: UInt32(littleEndian: content.loadUnaligned(fromByteOffset: 2, as: UInt32.self)),
            logTime_ns: UInt64(littleEndian: content.loadUnaligned(fromByteOffset: 6, as: UInt64.self)),
            publishTime_ns: UInt64(littleEndian: content.loadUnaligned(fromByteOffset: 14, as: UInt64.self)),
            data: UnsafeRawBufferPointer(rebasing: content[22...]))
    }
}
