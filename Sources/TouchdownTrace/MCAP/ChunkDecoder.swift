/// Limits a reader applies before it believes a size read from a file, and
/// on what it holds at once: together they bound a reader's memory whatever
/// the file claims and however well its chunks compress (docs/traces.md,
/// "What the readers accept"). Past a limit, reading stops with
/// ``MCAPError/recordTooLarge(record:offset:length:limit:)`` or
/// ``MCAPError/overReadLimit(what:offset:size:limit:setting:)``.
public struct ReadLimits: Sendable {
    /// The largest record (outside chunks) a reader will load.
    public var maxRecordSize_bytes: UInt64 = 1 << 30
    /// The largest uncompressed chunk a reader will allocate for.
    public var maxChunkSize_bytes: UInt64 = 256 << 20
    /// The largest ratio of uncompressed to compressed size a chunk may claim
    /// (above a 1 MiB floor), so that a small file cannot make a reader
    /// allocate far more than its bytes justify.
    public var maxCompressionRatio: UInt64 = 1024
    /// The largest message a reader hands over: the data of a Message
    /// record (after its 22-byte header), inside a chunk or not. Readers
    /// copy a message at most once (the streamed reader's `Message`, a
    /// merge's held messages), so this bounds what one message costs.
    public var maxMessageSize_bytes: UInt64 = 64 << 20
    /// The most a query holds at once to hand messages over in log-time
    /// order: the selected messages of chunks whose time ranges overlap
    /// (their records, plus 24 bytes each for their place), or of chunks
    /// the summary does not index.
    public var maxHeldMessages_bytes: UInt64 = 128 << 20
    /// Whether stored CRCs (chunk, data section, summary, attachment) are checked.
    public var validateCRCs = true
    public init() {}

    /// Throws when a Message record's content (`contentCount` bytes, the
    /// 22-byte header included) holds more data than ``maxMessageSize_bytes``.
    /// - Parameters:
    ///   - recordOffset: the record's file offset, or its chunk's.
    ///   - offsetInChunk: where the record starts in its chunk's uncompressed records.
    @inline(__always)
    func checkMessage(contentCount: Int, recordOffset: UInt64, offsetInChunk: Int?) throws {
        let data = UInt64(max(contentCount - 22, 0))
        guard data <= maxMessageSize_bytes else {
            let what = offsetInChunk.map { "data of the Message \($0) bytes into the uncompressed records of the Chunk" } ?? "data of the Message"
            throw MCAPError.overReadLimit(what: what, offset: recordOffset, size: data,
                                          limit: maxMessageSize_bytes, setting: "maxMessageSize_bytes")
        }
    }
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
    /// uncompressed records: the payload itself when it is stored
    /// uncompressed, else the decoder's buffer.
    mutating func withRecords<R>(
        header: ChunkHeader, payload: UnsafeRawBufferPointer, chunkOffset: UInt64,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        if header.compression == "" {
            _ = try checkedSize(header, payload, chunkOffset)
            if limits.validateCRCs && header.uncompressedCRC != 0 { try Self.check(payload, header, chunkOffset) }
            return try body(payload)
        }
        // Taken out while it is filled, so that `decode` may change self.
        var records = buffer
        buffer = []
        defer { buffer = records }
        let count = try decode(header: header, payload: payload, chunkOffset: chunkOffset, into: &records)
        return try records.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// Decompresses (or copies) and checks a chunk's payload into the first
    /// bytes of `records`, which grows when it is too small, and returns how
    /// many: for a reader that keeps the records after the payload is gone,
    /// without a second copy of them.
    mutating func decode(header: ChunkHeader, payload: UnsafeRawBufferPointer, chunkOffset: UInt64,
                         into records: inout [UInt8]) throws -> Int {
        let count = try checkedSize(header, payload, chunkOffset)
        switch header.compression {
        case "", "lz4": break
        case "zstd":
            if let f = ZstdDecompressor.checkFrame(payload, expectedSize: UInt64(count)) {
                throw MCAPError.decompressionFailed(codec: "zstd", offset: chunkOffset, reason: f.reason)
            }
        default:
            throw MCAPError.unsupportedCompression(header.compression, offset: chunkOffset)
        }
        if records.count < count {
            records = []  // the old contents are not needed: never hold both
            records = [UInt8](repeating: 0, count: count)
        }
        switch header.compression {
        case "":
            if count > 0 { records.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: count) } }
        case "zstd":
            if zstd == nil { zstd = try ZstdDecompressor() }
            let z = zstd!
            let result = records.withUnsafeMutableBytes { z.decompress(payload, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count])) }
            if case .failure(let f) = result { throw MCAPError.decompressionFailed(codec: "zstd", offset: chunkOffset, reason: f.reason) }
        case "lz4":
            if lz4 == nil { lz4 = try LZ4Decompressor() }
            let l = lz4!
            let result = records.withUnsafeMutableBytes { l.decompress(payload, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count])) }
            if case .failure(let f) = result { throw MCAPError.decompressionFailed(codec: "lz4", offset: chunkOffset, reason: f.reason) }
        default:
            preconditionFailure("unreachable: the codec was checked above")
        }
        if limits.validateCRCs && header.uncompressedCRC != 0 {
            try records.withUnsafeBytes { try Self.check(UnsafeRawBufferPointer(rebasing: $0[..<count]), header, chunkOffset) }
        }
        return count
    }

    /// The chunk's uncompressed size, once checked against the limits and,
    /// for a chunk stored uncompressed, against its payload.
    private func checkedSize(_ header: ChunkHeader, _ payload: UnsafeRawBufferPointer, _ chunkOffset: UInt64) throws -> Int {
        let size = header.uncompressedSize
        if size > limits.maxChunkSize_bytes {
            throw MCAPError.recordTooLarge(record: "Chunk (uncompressed_size)", offset: chunkOffset, length: size, limit: limits.maxChunkSize_bytes)
        }
        if header.compression != "" && size > max(1 << 20, UInt64(payload.count) * limits.maxCompressionRatio) {
            throw MCAPError.recordTooLarge(record: "Chunk (uncompressed_size, \(payload.count) bytes compressed)", offset: chunkOffset,
                                           length: size, limit: max(1 << 20, UInt64(payload.count) * limits.maxCompressionRatio))
        }
        if header.compression == "" && UInt64(payload.count) != size {
            throw MCAPError.malformedRecord(record: "Chunk", offset: chunkOffset, field: "records",
                                            reason: "uncompressed chunk holds \(payload.count) bytes, uncompressed_size says \(size)")
        }
        return Int(size)
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
