/// Reads an MCAP file through its summary: schemas, channels, statistics and
/// the attachment and metadata indexes come from the end of the file, and a
/// query decompresses only the chunks that can hold what it asks for.
///
/// Messages come in log-time order; ties keep file order (the chunk's file
/// offset, then the record's offset in the chunk). Chunks whose time ranges
/// overlap are merged; chunks that don't are read one at a time.
///
/// Memory does not grow with the trace: the ChunkIndex records stay in the
/// file and each query reads them again, a window at a time. A query holds
/// one chunk, or where chunks overlap in time the few that cover the instant
/// being merged. ChunkIndex records out of log-time order cost 32 bytes per
/// selected chunk, to sort them.
public final class IndexedReader {
    public let source: ByteSource
    public let limits: ReadLimits
    public let footer: Footer
    public private(set) var schemas: [Schema] = []
    public private(set) var channels: [Channel] = []
    public private(set) var statistics: Statistics?
    /// How many ChunkIndex records the summary holds; read them with
    /// ``forEachChunkIndex(_:)``.
    public private(set) var chunkIndexCount = 0
    public private(set) var attachmentIndexes: [AttachmentIndex] = []
    public private(set) var metadataIndexes: [MetadataIndex] = []
    public private(set) var summaryOffsets: [SummaryOffset] = []

    /// Where the summary's ChunkIndex records lie: from the first one's start
    /// to the last one's end (other records between them are skipped).
    private(set) var chunkIndexSpan: Range<UInt64> = 0..<0
    /// Whether the ChunkIndex records come sorted by (message start time,
    /// chunk offset), the order a query hands chunks over in.
    private(set) var chunkIndexesInTimeOrder = true
    /// Whether the ChunkIndex records come sorted by chunk offset.
    private(set) var chunkIndexesInFileOrder = true
    /// The most chunks any query's merge of overlapping chunks has held at
    /// once over this reader's life (for tests: it stays small however long
    /// a chain of overlaps runs).
    private(set) var peakChunksHeldInMerge = 0
    /// Buffers for loading chunks; a query takes them while it runs, so a
    /// call made from inside its callback gets buffers of its own.
    private var loader: ChunkLoader?

    /// The Footer is 29 bytes (opcode, length, three fields) before the closing magic.
    static let footerRecordSize: UInt64 = 1 + 8 + 8 + 8 + 4

    /// Opens the file and reads its summary, record by record.
    /// - Throws: `MCAPError.invalidIndex` when the file has no summary (use a
    ///   ``StreamReader``), or any error met in the footer or summary.
    public init(source: ByteSource, limits: ReadLimits = ReadLimits()) throws {
        self.source = source
        self.limits = limits
        let size = source.size
        let minimum = UInt64(8 + 8) + Self.footerRecordSize
        guard size >= minimum else {
            throw MCAPError.truncated(record: "file", offset: 0, needed: minimum, available: size)
        }
        var head = [UInt8](repeating: 0, count: 8), tail = head
        try head.withUnsafeMutableBytes { try source.read(at: 0, count: 8, into: $0) }
        guard head == mcapMagic else { throw MCAPError.invalidMagic(offset: 0, found: head) }
        try tail.withUnsafeMutableBytes { try source.read(at: size - 8, count: 8, into: $0) }
        guard tail == mcapMagic else { throw MCAPError.invalidMagic(offset: size - 8, found: tail) }
        let footerOffset = size - 8 - Self.footerRecordSize
        var footerBytes = [UInt8](repeating: 0, count: Int(Self.footerRecordSize))
        try footerBytes.withUnsafeMutableBytes { try source.read(at: footerOffset, count: $0.count, into: $0) }
        guard footerBytes[0] == Opcode.footer.rawValue else {
            throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "expected the Footer opcode 0x02, found \(Opcode.name(of: footerBytes[0]))")
        }
        let footer: Footer = try footerBytes.withUnsafeBytes { (b) throws in
            guard case .footer(let f) = try RecordParser.parse(opcode: b[0], content: UnsafeRawBufferPointer(rebasing: b[9...]), recordOffset: footerOffset) else {
                fatalError("unreachable: the Footer opcode parses to a Footer")
            }
            return f
        }
        self.footer = footer
        guard footer.summaryStart != 0 else {
            throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "the file has no summary (summary_start is 0)")
        }
        guard footer.summaryStart >= 8, footer.summaryStart <= footerOffset else {
            throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "summary_start \(footer.summaryStart) lies outside the file's data (8…\(footerOffset))")
        }
        let summary = footer.summaryStart..<footerOffset
        if limits.validateCRCs && footer.summaryCRC != 0 {
            // The CRC covers the summary and the Footer up to its own field.
            var crc = try Self.checksum(source, summary)
            crc = footerBytes.withUnsafeBytes { CRC32.update(crc, UnsafeRawBufferPointer(rebasing: $0[..<25])) }
            if crc != footer.summaryCRC {
                throw MCAPError.crcMismatch(record: "summary (Footer summary_crc)", offset: footer.summaryStart, expected: footer.summaryCRC, actual: crc)
            }
        }
        try readSummary(summary)
        if definitionsIncomplete { try scanDefinitions() }
    }

    public convenience init(path: String, limits: ReadLimits = ReadLimits()) throws {
        try self.init(source: try FileSource(path: path), limits: limits)
    }

    /// Whether messages live in indexed chunks. When false (an unchunked file)
    /// ``messages(topics:start_ns:end_ns:_:)`` reads the data section instead.
    public var hasChunkIndex: Bool { chunkIndexCount > 0 }

    /// The channel with `id`, if defined.
    public func channel(_ id: UInt16) -> Channel? { channels.first { $0.id == id } }

    /// The schema with `id`, if defined.
    public func schema(_ id: UInt16) -> Schema? { schemas.first { $0.id == id } }

    /// Calls `body` with each ChunkIndex record of the summary, in file
    /// order, read from the file again (memory stays a window's worth).
    public func forEachChunkIndex(_ body: (ChunkIndex) throws -> Void) throws {
        var cursor = chunkIndexCursor()
        while let (_, _, c) = try cursor.next() { try body(c) }
    }

    /// Every ChunkIndex record, in file order. This holds them all in memory
    /// (about 200 bytes each): for long traces use ``forEachChunkIndex(_:)``.
    public func allChunkIndexes() throws -> [ChunkIndex] {
        var all: [ChunkIndex] = []
        all.reserveCapacity(chunkIndexCount)
        try forEachChunkIndex { all.append($0) }
        return all
    }

    /// A walk over the summary's ChunkIndex records, read from the file.
    func chunkIndexCursor() -> ChunkIndexCursor {
        ChunkIndexCursor(source: source, span: chunkIndexSpan, limits: limits, bounds: chunkBounds)
    }

    var chunkBounds: ChunkBounds { ChunkBounds(summaryStart: footer.summaryStart, fileSize: source.size) }

    /// Calls `body` with every message on `topics` (all when nil) whose log time
    /// lies in `start_ns ... end_ns` (inclusive; open when nil), in log-time order.
    ///
    /// `body` may call this reader again (for an attachment, or another query).
    public func messages(topics: [String]? = nil, start_ns: UInt64? = nil, end_ns: UInt64? = nil,
                         _ body: (MessageView) throws -> Void) throws {
        let lo = start_ns ?? 0
        let hi = end_ns ?? .max
        guard lo <= hi else { return }
        // Channel ids wanted, as a bitmap over the 16-bit id space.
        var wanted: [Bool]? = nil
        if let topics {
            var w = [Bool](repeating: false, count: Int(UInt16.max) + 1)
            for c in channels where topics.contains(c.topic) { w[Int(c.id)] = true }
            wanted = w
        }
        let messageCount = statistics?.messageCount ?? 0
        if chunkIndexCount == 0 {
            if messageCount == 0 && statistics != nil { return }
            try unchunkedMessages(wanted: wanted, lo: lo, hi: hi, body)
            return
        }
        let loader = self.loader ?? ChunkLoader(source: source, limits: limits)
        self.loader = nil
        defer {
            loader.shrink()
            self.loader = loader
        }

        // Chunks arrive sorted by (start time, offset). One that overlaps
        // no other is handed over straight from the decompression buffer;
        // overlapping ones go through the merge, which loads each when the
        // merge reaches its start time and lets it go after its last message.
        var chunks = try ChunkSelection(self, wanted: wanted, lo: lo, hi: hi)
        var merge = ChunkMerge(limit_bytes: limits.maxHeldMessages_bytes)
        defer { peakChunksHeldInMerge = max(peakChunksHeldInMerge, merge.peakHeld) }
        func selected(_ records: UnsafeRawBufferPointer, _ chunkOffset: UInt64) throws -> [Entry] {
            var entries = try self.entries(records, chunkOffset: chunkOffset, wanted: wanted, lo: lo, hi: hi)
            if !isSorted(entries) { entries.sort { ($0.logTime, $0.offset) < ($1.logTime, $1.offset) } }
            return entries
        }
        func hold(_ ref: ChunkRef) throws {
            try loader.withChunk(ref) { (records, chunkOffset) in
                try merge.hold(chunkOffset: chunkOffset, records: records, entries: try selected(records, chunkOffset))
            }
        }
        var pending = try chunks.next()
        while true {
            if merge.isEmpty {
                guard let ref = pending else { break }
                pending = try chunks.next()
                // Sorted by (start, offset), the next chunk is the only one
                // that could share an instant with this one.
                let overlapsNext = pending.map { $0.start_ns < ref.end_ns || ($0.start_ns == ref.end_ns && $0.offset < ref.offset) } ?? false
                guard overlapsNext else {
                    try loader.withChunk(ref) { (records, chunkOffset) in
                        for e in try selected(records, chunkOffset) {
                            let content = UnsafeRawBufferPointer(rebasing: records[(e.offset + 9)..<(e.offset + 9 + e.length)])
                            try body(try ChunkRecords.message(content, chunkOffset: chunkOffset))
                        }
                    }
                    continue
                }
                try hold(ref)
            }
            // Every chunk that can hold a message at or before the earliest
            // one held is loaded before that message is handed over (the
            // ChunkIndex start times are trusted for this).
            while let next = pending, let first = merge.first, next.start_ns <= first.logTime {
                try hold(next)
                pending = try chunks.next()
            }
            if !merge.isEmpty { try merge.handOverFirst(body) }
        }
    }

    /// Reads the attachment an index entry points to, checking its bounds and CRC.
    public func attachment(_ index: AttachmentIndex) throws -> Attachment {
        var window = ReadWindow(source: source, blockSize_bytes: 0)
        guard case .attachment(let a) = try record(at: index.offset, length: index.length, expecting: .attachment, in: &window) else {
            fatalError("unreachable: record(expecting:) checked the opcode")
        }
        return a
    }

    /// Reads the Metadata record an index entry points to.
    public func metadata(_ index: MetadataIndex) throws -> Metadata {
        var window = ReadWindow(source: source, blockSize_bytes: 0)
        guard case .metadata(let m) = try record(at: index.offset, length: index.length, expecting: .metadata, in: &window) else {
            fatalError("unreachable: record(expecting:) checked the opcode")
        }
        return m
    }

    // MARK: - Internals

    struct Entry {
        var logTime: UInt64
        var offset: Int
        var length: Int
    }

    private func isSorted(_ e: [Entry]) -> Bool {
        var i = 1
        while i < e.count {
            if e[i].logTime < e[i - 1].logTime { return false }
            i += 1
        }
        return true
    }

    /// The CRC-32 of `range` of the source, read a MiB at a time.
    /// What verifying the data section found.
    public enum DataSectionCheck: Sendable, Equatable {
        /// Its CRC matches: every byte before the summary is as written.
        case verified
        /// The file stores no data section CRC (0), or no DataEnd record
        /// where the summary begins: nothing to verify against.
        case notStored
    }

    /// Verifies the data section CRC (the DataEnd record's, over every byte
    /// from the magic to DataEnd): the one check that covers records
    /// without a CRC of their own, such as Metadata and the Schema and
    /// Channel records outside chunks. Reads the data section once.
    /// - Throws: `MCAPError.crcMismatch` naming DataEnd and its offset.
    public func verifyDataSection() throws -> DataSectionCheck {
        let dataEndSize: UInt64 = 1 + 8 + 4
        guard footer.summaryStart >= 8 + dataEndSize else { return .notStored }
        let at = footer.summaryStart - dataEndSize
        var record = [UInt8](repeating: 0, count: Int(dataEndSize))
        try record.withUnsafeMutableBytes { try source.read(at: at, count: $0.count, into: $0) }
        let length = record[1..<9].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard record[0] == Opcode.dataEnd.rawValue, length == 4 else { return .notStored }
        let stored = record[9..<13].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard stored != 0 else { return .notStored }
        let actual = try Self.checksum(source, 0..<at)
        guard actual == stored else {
            throw MCAPError.crcMismatch(record: "DataEnd (data section)", offset: at, expected: stored, actual: actual)
        }
        return .verified
    }

    static func checksum(_ source: ByteSource, _ range: Range<UInt64>) throws -> UInt32 {
        var crc: UInt32 = 0
        var buffer = [UInt8](repeating: 0, count: Int(min(UInt64(1 << 20), UInt64(range.count))))
        var at = range.lowerBound
        while at < range.upperBound {
            let n = Int(min(UInt64(buffer.count), range.upperBound - at))
            try buffer.withUnsafeMutableBytes { (b) throws in
                try source.read(at: at, count: n, into: b)
                crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: b[..<n]))
            }
            at += UInt64(n)
        }
        return crc
    }

    /// Reads every summary record once: keeps the definitions, statistics and
    /// attachment and metadata indexes; checks each ChunkIndex and notes
    /// where they lie and in which order, without keeping them.
    private func readSummary(_ summary: Range<UInt64>) throws {
        let bounds = chunkBounds
        var records = SummaryRecords(source: source, span: summary, limits: limits)
        var previous: ChunkRef?
        var spanStart: UInt64?
        var spanEnd: UInt64 = 0
        while let (at, end, record) = try records.next() {
            switch record {
            case .schema(let s): schemas.addFirstDefinition(s)
            case .channel(let c): channels.addFirstDefinition(c)
            case .statistics(let s): statistics = s
            case .chunkIndex(let c):
                try bounds.check(start: c.chunkStartOffset, length: c.chunkLength, recordAt: at)
                let ref = ChunkRef(c)
                if let p = previous {
                    if (ref.start_ns, ref.offset) < (p.start_ns, p.offset) { chunkIndexesInTimeOrder = false }
                    if ref.offset < p.offset { chunkIndexesInFileOrder = false }
                }
                previous = ref
                chunkIndexCount += 1
                if spanStart == nil { spanStart = at }
                spanEnd = end
            case .attachmentIndex(let a): attachmentIndexes.append(a)
            case .metadataIndex(let m): metadataIndexes.append(m)
            case .summaryOffset(let o): summaryOffsets.append(o)
            default: break  // other records are not expected here; the specification says to skip what we don't use
            }
        }
        if let spanStart { chunkIndexSpan = spanStart..<spanEnd }
    }

    /// Reads the record an index (or an earlier pass) points at, checking
    /// that it lies in the file and is what was expected.
    /// `window` is the caller's, so a loop of reads reuses one buffer.
    private func record(at offset: UInt64, length: UInt64, expecting op: Opcode, pointedAtBy pointer: String? = nil,
                        in window: inout ReadWindow) throws -> Record {
        let pointer = pointer ?? op.recordName + "Index"
        let size = source.size
        guard offset < size, length >= 9, length <= size - offset else {
            throw MCAPError.invalidIndex(record: pointer, offset: offset, reason: "points at \(length) bytes at offset \(offset), outside the file of \(size) bytes")
        }
        // The limit is on a record's content, as the streamed reader applies it.
        guard length - 9 <= limits.maxRecordSize_bytes else {
            throw MCAPError.recordTooLarge(record: op.recordName, offset: offset, length: length - 9, limit: limits.maxRecordSize_bytes)
        }
        return try window.with(at: offset, count: Int(length)) { (b) throws in
            guard b[0] == op.rawValue else {
                throw MCAPError.invalidIndex(record: pointer, offset: offset, reason: "expected a \(op.recordName) record there, found \(Opcode.name(of: b[0]))")
            }
            let declared = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            guard declared == length - 9 else {
                throw MCAPError.invalidIndex(record: pointer, offset: offset, reason: "index says \(length) bytes, the record says \(declared &+ 9)")
            }
            return try RecordParser.parse(opcode: b[0], content: UnsafeRawBufferPointer(rebasing: b[9...]), recordOffset: offset)
        }
    }

    /// The messages of one chunk that pass the filters, in chunk order; also
    /// learns Schema and Channel records the chunk holds.
    private func entries(_ records: UnsafeRawBufferPointer, chunkOffset: UInt64, wanted: [Bool]?, lo: UInt64, hi: UInt64) throws -> [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(records.count / 64)
        try ChunkRecords.walk(records, chunkOffset: chunkOffset) { (op, content, at) throws in
            switch op {
            case Opcode.message.rawValue:
                guard content.count >= 22 else {
                    throw MCAPError.malformedRecord(record: "Message", offset: chunkOffset, field: "header", reason: "\(content.count) bytes at chunk offset \(at), needs at least 22")
                }
                let channelID = UInt16(littleEndian: content.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
                let logTime = UInt64(littleEndian: content.loadUnaligned(fromByteOffset: 6, as: UInt64.self))
                if logTime < lo || logTime > hi { return }
                if let wanted, !wanted[Int(channelID)] { return }
                try limits.checkMessage(contentCount: content.count, recordOffset: chunkOffset, offsetInChunk: at)
                result.append(Entry(logTime: logTime, offset: at, length: content.count))
            case Opcode.schema.rawValue, Opcode.channel.rawValue:
                learn(try RecordParser.parse(opcode: op, content: content, recordOffset: chunkOffset))
            default: break
            }
        }
        return result
    }

    /// For a file whose messages are not in indexed chunks: read front to
    /// back, handed over in log-time order (ties in file order). A first pass
    /// sees whether the selected messages already come in that order; if so
    /// a second pass hands them over as it reads. Otherwise each message's
    /// log time and place is kept and, after a stable sort, the
    /// message is read again from there (24 bytes a message); messages
    /// inside chunks the summary does not index are kept whole instead, up
    /// to `ReadLimits.maxHeldMessages_bytes`.
    private func unchunkedMessages(wanted: [Bool]?, lo: UInt64, hi: UInt64, _ body: (MessageView) throws -> Void) throws {
        func selects(_ m: Message) -> Bool {
            m.logTime_ns >= lo && m.logTime_ns <= hi && (wanted.map { $0[Int(m.channelID)] } ?? true)
        }
        func hand(_ m: Message) throws { try m.withView(body) }
        var inOrder = true
        var inChunks = false
        var previous_ns: UInt64 = 0
        var scan = StreamReader(source: source, limits: limits)
        while let record = try scan.next() {
            guard case .message(let m) = record, selects(m) else { continue }
            if m.logTime_ns < previous_ns { inOrder = false }
            previous_ns = m.logTime_ns
            if scan.offsetInChunk != nil { inChunks = true }
        }
        scan = StreamReader(source: source, limits: limits)
        if inOrder {
            while let record = try scan.next() {
                if case .message(let m) = record, selects(m) { try hand(m) }
            }
        } else if !inChunks {
            var places: [(logTime_ns: UInt64, offset: UInt64, length: UInt64)] = []
            while let record = try scan.next() {
                guard case .message(let m) = record, selects(m) else { continue }
                guard scan.offsetInChunk == nil else {
                    throw MCAPError.invalidIndex(record: "data section", offset: scan.recordOffset,
                                                 reason: "changed while being read: a message inside a chunk, where the first pass found none")
                }
                places.append((m.logTime_ns, scan.recordOffset, scan.recordLength))
            }
            // File offsets grow, so sorting by (log time, offset) keeps file order among ties.
            places.sort { ($0.logTime_ns, $0.offset) < ($1.logTime_ns, $1.offset) }
            var window = ReadWindow(source: source, blockSize_bytes: 0)
            for place in places {
                guard case .message(let m) = try record(at: place.offset, length: place.length, expecting: .message,
                                                        pointedAtBy: "the data section's first pass", in: &window) else {
                    fatalError("unreachable: record(expecting:) checked the opcode")
                }
                try hand(m)
            }
        } else {
            var found: [Message] = []
            var found_bytes: UInt64 = 0
            while let record = try scan.next() {
                guard case .message(let m) = record, selects(m) else { continue }
                found_bytes += UInt64(m.data.count + MemoryLayout<Message>.stride)
                guard found_bytes <= limits.maxHeldMessages_bytes else {
                    throw MCAPError.overReadLimit(
                        what: "\(found.count + 1) messages held to sort them by log time (in chunks the summary does not index), the last in the record",
                        offset: scan.recordOffset, size: found_bytes, limit: limits.maxHeldMessages_bytes, setting: "maxHeldMessages_bytes")
                }
                found.append(m)
            }
            let order = found.indices.sorted { (found[$0].logTime_ns, $0) < (found[$1].logTime_ns, $1) }
            for i in order { try hand(found[i]) }
        }
    }

    /// Whether the summary lacks Schema or Channel records the file defines.
    private var definitionsIncomplete: Bool {
        if channels.isEmpty && (statistics.map { $0.channelCount > 0 } ?? true) { return true }
        if let s = statistics, Int(s.channelCount) > channels.count || Int(s.schemaCount) > schemas.count { return true }
        return channels.contains { c in c.schemaID != 0 && !schemas.contains { $0.id == c.schemaID } }
    }

    /// Finds Schema and Channel records the summary does not repeat by reading
    /// the data section front to back (chunks included). Only files written
    /// without repeated definitions pay for this.
    private func scanDefinitions() throws {
        let reader = StreamReader(source: source, limits: limits)
        while let record = try reader.next() {
            if case .dataEnd = record { break }
            learn(record)
        }
    }
}

extension IndexedReader {
    /// Adds a Schema or Channel record to the reader's tables, first definition winning.
    fileprivate func learn(_ record: Record) {
        switch record {
        case .schema(let s): schemas.addFirstDefinition(s)
        case .channel(let c): channels.addFirstDefinition(c)
        default: break
        }
    }
}
