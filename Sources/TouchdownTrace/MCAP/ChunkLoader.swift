/// The buffers a query loads chunks into: a read window over the file and
/// a decompressor with its output buffer.
final class ChunkLoader {
    private var window: ReadWindow
    private var decoder: ChunkDecoder
    private let limits: ReadLimits

    init(source: ByteSource, limits: ReadLimits) {
        window = ReadWindow(source: source)
        decoder = ChunkDecoder(limits: limits)
        self.limits = limits
    }

    /// Loads a chunk record and hands over its uncompressed records.
    func withChunk<R>(_ ref: ChunkRef, _ body: (UnsafeRawBufferPointer, UInt64) throws -> R) throws -> R {
        let offset = ref.offset
        guard ref.length <= limits.maxRecordSize_bytes else {
            throw MCAPError.recordTooLarge(record: "Chunk", offset: offset, length: ref.length, limit: limits.maxRecordSize_bytes)
        }
        return try window.with(at: offset, count: Int(ref.length)) { (b) throws -> Result<R, Error> in
            guard b.count >= 9, b[0] == Opcode.chunk.rawValue else {
                throw MCAPError.invalidIndex(record: "ChunkIndex", offset: offset, reason: "expected a Chunk record there, found \(b.count > 0 ? Opcode.name(of: b[0]) : "nothing")")
            }
            let declared = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            guard declared &+ 9 == ref.length else {
                throw MCAPError.invalidIndex(record: "ChunkIndex", offset: offset, reason: "chunk_length \(ref.length), but the Chunk record is \(declared &+ 9) bytes")
            }
            let (header, range) = try RecordParser.chunk(UnsafeRawBufferPointer(rebasing: b[9...]), recordOffset: offset)
            let payload = UnsafeRawBufferPointer(rebasing: b[9...][range.lowerBound + 9..<range.upperBound + 9])
            return try decoder.withRecords(header: header, payload: payload, chunkOffset: offset) { (records) throws -> Result<R, Error> in
                do { return .success(try body(records, offset)) } catch { return .failure(error) }
            }
        }.get()
    }

    /// Releases buffers an unusually large chunk needed.
    func shrink() {
        window.shrink()
        decoder.shrink()
    }
}
