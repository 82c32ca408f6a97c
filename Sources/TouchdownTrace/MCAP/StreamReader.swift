/// Reads an MCAP file front to back, record by record, without its summary.
///
/// Works on files with no summary and on damaged ones: `next()` returns every
/// record up to the damage, then throws an error that names it. Chunks are
/// decompressed and checked one at a time; their records follow the Chunk.
/// Unknown opcodes are reported as `.unknown` and skipped, and extra bytes at
/// the end of known records are ignored, as the specification requires.
public final class StreamReader {
    public let source: ByteSource
    public let limits: ReadLimits

    /// File offset of the record `next()` returned last (for records inside a
    /// chunk, the chunk's offset).
    public private(set) var recordOffset: UInt64 = 0
    /// Length in bytes (opcode and length prefix included) of the top-level
    /// record `next()` returned last, or of the enclosing chunk.
    public private(set) var recordLength: UInt64 = 0
    /// For records inside a chunk, their offset in the uncompressed records.
    public private(set) var offsetInChunk: Int?
    /// True once the Footer and closing magic have been read.
    public private(set) var reachedEnd = false
    /// Offset of the DataEnd record, once met.
    public private(set) var dataEndOffset: UInt64?

    private var window: ReadWindow
    private var decoder: ChunkDecoder
    private var position: UInt64 = 0
    private var started = false
    /// The open chunk's uncompressed records: its first `chunkRecordCount`
    /// bytes, decompressed straight into it (the only copy held).
    private var chunkRecords: [UInt8] = []
    private var chunkRecordCount = 0
    private var chunkPosition = 0
    private var chunkOffset: UInt64 = 0
    private var dataCRC: UInt32 = 0

    public init(source: ByteSource, limits: ReadLimits = ReadLimits()) {
        self.source = source
        self.limits = limits
        window = ReadWindow(source: source)
        decoder = ChunkDecoder(limits: limits)
    }

    public convenience init(path: String, limits: ReadLimits = ReadLimits()) throws {
        self.init(source: try FileSource(path: path), limits: limits)
    }

    /// The next record, or nil after the closing magic.
    public func next() throws -> Record? {
        if !started {
            try readMagic(at: 0)
            started = true
            position = 8
        }
        if chunkPosition < chunkRecordCount {
            return try nextInChunk()
        }
        if reachedEnd { return nil }
        offsetInChunk = nil
        let size = source.size
        recordOffset = position
        let (op, length) = try window.checkedRecordHeader(at: position, end: size, limits: limits, what: "record header")
        let offset = position
        let total = 9 + Int(length)
        recordLength = UInt64(total)
        if op == Opcode.dataEnd.rawValue { dataEndOffset = offset }
        let record: Record = try window.with(at: offset, count: total) { (b) throws -> Record in
            let content = UnsafeRawBufferPointer(rebasing: b[9...])
            // The data section CRC covers every byte from the magic up to DataEnd.
            if dataEndOffset == nil && limits.validateCRCs { dataCRC = CRC32.update(dataCRC, b) }
            if op == Opcode.chunk.rawValue {
                let (header, range) = try RecordParser.chunk(content, recordOffset: offset)
                let payload = UnsafeRawBufferPointer(rebasing: content[range])
                chunkRecordCount = try decoder.decode(header: header, payload: payload, chunkOffset: offset, into: &chunkRecords)
                chunkPosition = 0
                chunkOffset = offset
                return .chunk(header)
            }
            if op == Opcode.message.rawValue { try limits.checkMessage(contentCount: content.count, recordOffset: offset, offsetInChunk: nil) }
            let record = try RecordParser.parse(opcode: op, content: content, recordOffset: offset)
            if case .dataEnd(let end) = record, limits.validateCRCs, end.dataSectionCRC != 0, dataCRC != end.dataSectionCRC {
                throw MCAPError.crcMismatch(record: "DataEnd (data section)", offset: offset, expected: end.dataSectionCRC, actual: dataCRC)
            }
            return record
        }
        position = offset + UInt64(total)
        if op == Opcode.footer.rawValue {
            try readMagic(at: position)
            reachedEnd = true
        }
        window.shrink()
        return record
    }

    private func nextInChunk() throws -> Record {
        recordOffset = chunkOffset
        offsetInChunk = chunkPosition
        let n = chunkRecordCount
        let limits = limits
        let record: Record = try chunkRecords.withUnsafeBytes { (all) throws -> Record in
            let b = UnsafeRawBufferPointer(rebasing: all[..<n])
            let (op, content) = try ChunkRecords.record(at: chunkPosition, in: b, chunkOffset: chunkOffset)
            if op == Opcode.message.rawValue {
                try limits.checkMessage(contentCount: content.count, recordOffset: chunkOffset, offsetInChunk: chunkPosition)
            }
            chunkPosition = content.upperBound
            return try RecordParser.parse(opcode: op, content: UnsafeRawBufferPointer(rebasing: b[content]), recordOffset: chunkOffset)
        }
        if chunkPosition >= n {
            if chunkRecords.count > 16 << 20 { chunkRecords = [] }
            chunkRecordCount = 0
            chunkPosition = 0
        }
        return record
    }

    private func readMagic(at offset: UInt64) throws {
        let size = source.size
        let available = offset <= size ? size - offset : 0
        let found: [UInt8] = try window.with(at: offset, count: Int(min(8, available))) { Array($0) }
        if found.count == 8 && found == mcapMagic {
            if offset == 0 && limits.validateCRCs { dataCRC = CRC32.checksum(found) }
            return
        }
        if found.count < 8 && found == Array(mcapMagic[..<found.count]) {
            throw MCAPError.truncated(record: "magic", offset: offset, needed: 8, available: available)
        }
        throw MCAPError.invalidMagic(offset: offset, found: found)
    }
}
