/// Walks the records of a stretch of the summary, a window at a time,
/// checking each length against the stretch and the reader's limits.
struct SummaryRecords {
    /// How much one read of the summary fetches at least.
    static let windowBlock_bytes = 256 << 10

    private var window: ReadWindow
    /// Where the next record starts (the end of the one last returned).
    private(set) var position: UInt64
    private var end: UInt64
    private let limits: ReadLimits
    /// When set, records with other opcodes are skipped without parsing.
    private let only: Opcode?

    init(source: ByteSource, span: Range<UInt64>, limits: ReadLimits, only: Opcode? = nil) {
        window = ReadWindow(source: source, blockSize_bytes: Self.windowBlock_bytes)
        position = span.lowerBound
        end = span.upperBound
        self.limits = limits
        self.only = only
    }

    /// Moves to the records in `span`, keeping the window's buffer.
    mutating func seek(to span: Range<UInt64>) {
        position = span.lowerBound
        end = span.upperBound
    }

    /// Calls `body` with the next record's offset, opcode and content (valid
    /// only inside `body`); nil at the end of the stretch.
    mutating func nextRaw<R>(_ body: (_ at: UInt64, _ opcode: UInt8, _ content: UnsafeRawBufferPointer) throws -> R) throws -> R? {
        while position < end {
            let at = position
            let (op, length) = try window.checkedRecordHeader(at: at, end: end, limits: limits, what: "summary record header")
            position = at + 9 + length
            if let only, op != only.rawValue { continue }
            let result = try window.with(at: at + 9, count: Int(length)) { (content) throws in try body(at, op, content) }
            window.shrink()
            return result
        }
        return nil
    }

    /// The next record: where it starts and ends, and what it holds.
    mutating func next() throws -> (at: UInt64, end: UInt64, record: Record)? {
        guard let (at, record) = try nextRaw({ (at, op, content) throws in
            (at, try RecordParser.parse(opcode: op, content: content, recordOffset: at))
        }) else { return nil }
        return (at, position, record)
    }
}

/// Where the chunks a summary indexes may lie: inside the data section.
/// Checked when the summary is opened and again whenever a ChunkIndex is
/// read back, since the file may have changed in between.
struct ChunkBounds {
    let summaryStart: UInt64
    let fileSize: UInt64

    func check(start: UInt64, length: UInt64, recordAt: UInt64) throws {
        guard start >= 8, length <= fileSize, start <= summaryStart - min(length, summaryStart) else {
            throw MCAPError.invalidIndex(record: "ChunkIndex", offset: recordAt,
                                         reason: "chunk at \(start) of \(length) bytes lies outside the data section (8…\(summaryStart))")
        }
    }
}

/// What a query needs of a ChunkIndex: 32 bytes.
struct ChunkRef {
    var start_ns: UInt64
    var end_ns: UInt64
    var offset: UInt64
    var length: UInt64

    init(_ c: ChunkIndex) {
        start_ns = c.messageStartTime_ns
        end_ns = c.messageEndTime_ns
        offset = c.chunkStartOffset
        length = c.chunkLength
    }

    /// Reads a ChunkIndex record's leading fields in place, without the
    /// allocations a full parse makes (a query reads every record again):
    /// the reference, and whether the chunk holds any `wanted` channel
    /// (true when no filter is given or the record lists no channels).
    /// The layout is the specification's, as in ``RecordParser``.
    static func read(_ content: UnsafeRawBufferPointer, recordAt: UInt64, wanted: [Bool]?) throws -> (ref: ChunkRef, holdsWanted: Bool) {
        func field(_ i: Int) -> UInt64 { UInt64(littleEndian: content.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
        guard content.count >= 36 else {
            throw MCAPError.malformedRecord(record: "ChunkIndex", offset: recordAt, field: "message_index_offsets",
                                            reason: "needs 36 bytes before it, the record has \(content.count)")
        }
        let ref = ChunkRef(start_ns: field(0), end_ns: field(8), offset: field(16), length: field(24))
        let mapLength = Int(UInt32(littleEndian: content.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
        guard mapLength % 10 == 0, mapLength <= content.count - 36 else {
            throw MCAPError.malformedRecord(record: "ChunkIndex", offset: recordAt, field: "message_index_offsets",
                                            reason: "length \(mapLength) is not a multiple of 10 within the \(content.count - 36) bytes left")
        }
        guard let wanted, mapLength > 0 else { return (ref, true) }
        var i = 36
        while i < 36 + mapLength {
            if wanted[Int(UInt16(littleEndian: content.loadUnaligned(fromByteOffset: i, as: UInt16.self)))] { return (ref, true) }
            i += 10
        }
        return (ref, false)
    }

    private init(start_ns: UInt64, end_ns: UInt64, offset: UInt64, length: UInt64) {
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.offset = offset
        self.length = length
    }
}

/// Walks the summary's ChunkIndex records, checking where each chunk lies.
struct ChunkIndexCursor {
    private var records: SummaryRecords
    private let bounds: ChunkBounds

    init(source: ByteSource, span: Range<UInt64>, limits: ReadLimits, bounds: ChunkBounds) {
        records = SummaryRecords(source: source, span: span, limits: limits, only: .chunkIndex)
        self.bounds = bounds
    }

    /// The next ChunkIndex, where its record starts and ends; nil at the end.
    mutating func next() throws -> (at: UInt64, end: UInt64, index: ChunkIndex)? {
        guard let (at, end, record) = try records.next() else { return nil }
        guard case .chunkIndex(let c) = record else { fatalError("unreachable: only ChunkIndex records are parsed") }
        try bounds.check(start: c.chunkStartOffset, length: c.chunkLength, recordAt: at)
        return (at, end, c)
    }

    /// Moves to the records in `span` (to read one again by its place).
    mutating func seek(to span: Range<UInt64>) { records.seek(to: span) }
}
