/// Reads an MCAP file through its summary: schemas, channels, statistics and
/// the chunk indexes come from the end of the file, and a query decompresses
/// only the chunks that can hold what it asks for.
///
/// Messages come in log-time order; ties keep file order (the chunk's file
/// offset, then the record's offset in the chunk). Chunks whose time ranges
/// overlap are merged; chunks that don't are read one at a time, so memory is
/// one chunk for a file written in time order.
public final class IndexedReader {
    public let source: ByteSource
    public let limits: ReadLimits
    public let footer: Footer
    public private(set) var schemas: [Schema] = []
    public private(set) var channels: [Channel] = []
    public private(set) var statistics: Statistics?
    public private(set) var chunkIndexes: [ChunkIndex] = []
    public private(set) var attachmentIndexes: [AttachmentIndex] = []
    public private(set) var metadataIndexes: [MetadataIndex] = []
    public private(set) var summaryOffsets: [SummaryOffset] = []

    private var decoder: ChunkDecoder
    private var window: ReadWindow

    /// The Footer is 29 bytes (opcode, length, three fields) before the closing magic.
    static let footerRecordSize: UInt64 = 1 + 8 + 8 + 8 + 4

    /// Opens the file and reads its summary.
    /// - Throws: `MCAPError.invalidIndex` when the file has no summary (use a
    ///   ``StreamReader``), or any error met in the footer or summary.
    public init(source: ByteSource, limits: ReadLimits = ReadLimits()) throws {
        self.source = source
        self.limits = limits
        decoder = ChunkDecoder(limits: limits)
        window = ReadWindow(source: source)
        let size = source.size
        let minimum = UInt64(8 + 8) + Self.footerRecordSize
        guard size >= minimum else {
            throw MCAPError.truncated(record: "file", offset: 0, needed: minimum, available: size)
        }
        let head: [UInt8] = try window.with(at: 0, count: 8) { Array($0) }
        guard head == mcapMagic else { throw MCAPError.invalidMagic(offset: 0, found: head) }
        let tail: [UInt8] = try window.with(at: size - 8, count: 8) { Array($0) }
        guard tail == mcapMagic else { throw MCAPError.invalidMagic(offset: size - 8, found: tail) }
        let footerOffset = size - 8 - Self.footerRecordSize
        let (footer, footerPrefix): (Footer, [UInt8]) = try window.with(at: footerOffset, count: Int(Self.footerRecordSize)) { (b) throws in
            guard b[0] == Opcode.footer.rawValue else {
                throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "expected the Footer opcode 0x02, found \(Opcode.name(of: b[0]))")
            }
            guard case .footer(let f) = try RecordParser.parse(opcode: b[0], content: UnsafeRawBufferPointer(rebasing: b[9...]), recordOffset: footerOffset) else {
                fatalError("unreachable: the Footer opcode parses to a Footer")
            }
            return (f, Array(b[..<25]))
        }
        self.footer = footer
        guard footer.summaryStart != 0 else {
            throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "the file has no summary (summary_start is 0)")
        }
        guard footer.summaryStart >= 8, footer.summaryStart <= footerOffset else {
            throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "summary_start \(footer.summaryStart) lies outside the file's data (8…\(footerOffset))")
        }
        let summaryLength = footerOffset - footer.summaryStart
        guard summaryLength <= limits.maxRecordSize_bytes else {
            throw MCAPError.recordTooLarge(record: "summary section", offset: footer.summaryStart, length: summaryLength, limit: limits.maxRecordSize_bytes)
        }
        var summary = [UInt8](repeating: 0, count: Int(summaryLength))
        try summary.withUnsafeMutableBytes { (b) throws in try source.read(at: footer.summaryStart, count: Int(summaryLength), into: b) }
        if limits.validateCRCs && footer.summaryCRC != 0 {
            let crc = CRC32.update(CRC32.checksum(summary), footerPrefix.withUnsafeBytes { $0 })
            if crc != footer.summaryCRC {
                throw MCAPError.crcMismatch(record: "summary (Footer summary_crc)", offset: footer.summaryStart, expected: footer.summaryCRC, actual: crc)
            }
        }
        try summary.withUnsafeBytes { (b) throws in
            var i = 0
            while i < b.count {
                let at = footer.summaryStart + UInt64(i)
                guard b.count - i >= 9 else {
                    throw MCAPError.truncated(record: "summary record header", offset: at, needed: 9, available: UInt64(b.count - i))
                }
                let op = b[i]
                let length = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self))
                guard length <= UInt64(b.count - i - 9) else {
                    throw MCAPError.truncated(record: Opcode.name(of: op), offset: at, needed: length &+ 9, available: UInt64(b.count - i))
                }
                let content = UnsafeRawBufferPointer(rebasing: b[(i + 9)..<(i + 9 + Int(length))])
                switch try RecordParser.parse(opcode: op, content: content, recordOffset: at) {
                case .schema(let s): schemas.addFirstDefinition(s)
                case .channel(let c): channels.addFirstDefinition(c)
                case .statistics(let s): statistics = s
                case .chunkIndex(let c): chunkIndexes.append(c)
                case .attachmentIndex(let a): attachmentIndexes.append(a)
                case .metadataIndex(let m): metadataIndexes.append(m)
                case .summaryOffset(let o): summaryOffsets.append(o)
                default: break  // other records are not expected here; the specification says to skip what we don't use
                }
                i += 9 + Int(length)
            }
        }
        for c in chunkIndexes {
            guard c.chunkStartOffset >= 8, c.chunkLength <= size, c.chunkStartOffset <= footer.summaryStart - min(c.chunkLength, footer.summaryStart) else {
                throw MCAPError.invalidIndex(record: "ChunkIndex", offset: footer.summaryStart,
                                             reason: "chunk at \(c.chunkStartOffset) of \(c.chunkLength) bytes lies outside the data section (8…\(footer.summaryStart))")
            }
        }
        if definitionsIncomplete { try scanDefinitions() }
    }

    public convenience init(path: String, limits: ReadLimits = ReadLimits()) throws {
        try self.init(source: try FileSource(path: path), limits: limits)
    }

    /// Whether messages live in indexed chunks. When false (an unchunked file)
    /// ``messages(topics:start_ns:end_ns:_:)`` reads the data section instead.
    public var hasChunkIndex: Bool { !chunkIndexes.isEmpty }

    /// The channel with `id`, if defined.
    public func channel(_ id: UInt16) -> Channel? { channels.first { $0.id == id } }

    /// The schema with `id`, if defined.
    public func schema(_ id: UInt16) -> Schema? { schemas.first { $0.id == id } }

    /// Calls `body` with every message on `topics` (all when nil) whose log time
    /// lies in `start_ns ... end_ns` (inclusive; open when nil), in log-time order.
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
        if chunkIndexes.isEmpty {
            if messageCount == 0 && statistics != nil { return }
            try unchunkedMessages(wanted: wanted, lo: lo, hi: hi, body)
            return
        }
        let selected = chunkIndexes.enumerated()
            .filter { (_, c) in
                guard c.messageEndTime_ns >= lo && c.messageStartTime_ns <= hi else { return false }
                guard let wanted, !c.messageIndexOffsets.isEmpty else { return true }
                return c.messageIndexOffsets.contains { wanted[Int($0.channelID)] }
            }
            .map { $0.element }
            .sorted { ($0.messageStartTime_ns, $0.chunkStartOffset) < ($1.messageStartTime_ns, $1.chunkStartOffset) }

        // Clusters of chunks whose time ranges overlap are merged together.
        var i = 0
        while i < selected.count {
            var j = i + 1
            var clusterEnd = selected[i].messageEndTime_ns
            var clusterLastOffset = selected[i].chunkStartOffset
            while j < selected.count {
                let next = selected[j]
                let overlaps = next.messageStartTime_ns < clusterEnd
                    || (next.messageStartTime_ns == clusterEnd && next.chunkStartOffset < clusterLastOffset)
                guard overlaps else { break }
                clusterEnd = max(clusterEnd, next.messageEndTime_ns)
                clusterLastOffset = max(clusterLastOffset, next.chunkStartOffset)
                j += 1
            }
            if j == i + 1 {
                try withChunk(selected[i]) { (records, chunkOffset) in
                    var entries = try self.entries(records, chunkOffset: chunkOffset, wanted: wanted, lo: lo, hi: hi)
                    if !isSorted(entries) { entries.sort { ($0.logTime, $0.offset) < ($1.logTime, $1.offset) } }
                    for e in entries {
                        let content = UnsafeRawBufferPointer(rebasing: records[(e.offset + 9)..<(e.offset + 9 + e.length)])
                        try body(try ChunkRecords.message(content, chunkOffset: chunkOffset))
                    }
                }
            } else {
                try mergeCluster(Array(selected[i..<j]), wanted: wanted, lo: lo, hi: hi, body)
            }
            i = j
        }
    }

    /// Reads the attachment an index entry points to, checking its bounds and CRC.
    public func attachment(_ index: AttachmentIndex) throws -> Attachment {
        guard case .attachment(let a) = try record(at: index.offset, length: index.length, expecting: .attachment) else {
            fatalError("unreachable: record(expecting:) checked the opcode")
        }
        return a
    }

    /// Reads the Metadata record an index entry points to.
    public func metadata(_ index: MetadataIndex) throws -> Metadata {
        guard case .metadata(let m) = try record(at: index.offset, length: index.length, expecting: .metadata) else {
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

    private func record(at offset: UInt64, length: UInt64, expecting op: Opcode) throws -> Record {
        let size = source.size
        guard offset < size, length >= 9, length <= size - offset, length <= limits.maxRecordSize_bytes else {
            throw MCAPError.invalidIndex(record: op.recordName + "Index", offset: offset, reason: "points at \(length) bytes at offset \(offset), outside the file of \(size) bytes")
        }
        return try window.with(at: offset, count: Int(length)) { (b) throws in
            guard b[0] == op.rawValue else {
                throw MCAPError.invalidIndex(record: op.recordName + "Index", offset: offset, reason: "expected a \(op.recordName) record there, found \(Opcode.name(of: b[0]))")
            }
            let declared = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            guard declared == length - 9 else {
                throw MCAPError.invalidIndex(record: op.recordName + "Index", offset: offset, reason: "index says \(length) bytes, the record says \(declared &+ 9)")
            }
            return try RecordParser.parse(opcode: b[0], content: UnsafeRawBufferPointer(rebasing: b[9...]), recordOffset: offset)
        }
    }

    /// Loads a chunk record through its index and hands over its uncompressed records.
    private func withChunk<R>(_ index: ChunkIndex, _ body: (UnsafeRawBufferPointer, UInt64) throws -> R) throws -> R {
        let offset = index.chunkStartOffset
        guard index.chunkLength <= limits.maxRecordSize_bytes else {
            throw MCAPError.recordTooLarge(record: "Chunk", offset: offset, length: index.chunkLength, limit: limits.maxRecordSize_bytes)
        }
        return try window.with(at: offset, count: Int(index.chunkLength)) { (b) throws -> Result<R, Error> in
            guard b.count >= 9, b[0] == Opcode.chunk.rawValue else {
                throw MCAPError.invalidIndex(record: "ChunkIndex", offset: offset, reason: "expected a Chunk record there, found \(b.count > 0 ? Opcode.name(of: b[0]) : "nothing")")
            }
            let declared = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            guard declared &+ 9 == index.chunkLength else {
                throw MCAPError.invalidIndex(record: "ChunkIndex", offset: offset, reason: "chunk_length \(index.chunkLength), but the Chunk record is \(declared &+ 9) bytes")
            }
            let (header, range) = try RecordParser.chunk(UnsafeRawBufferPointer(rebasing: b[9...]), recordOffset: offset)
            let payload = UnsafeRawBufferPointer(rebasing: b[9...][range.lowerBound + 9..<range.upperBound + 9])
            return try decoder.withRecords(header: header, payload: payload, chunkOffset: offset) { (records) throws -> Result<R, Error> in
                do { return .success(try body(records, offset)) } catch { return .failure(error) }
            }
        }.get()
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
                result.append(Entry(logTime: logTime, offset: at, length: content.count))
            case Opcode.schema.rawValue, Opcode.channel.rawValue:
                learn(try RecordParser.parse(opcode: op, content: content, recordOffset: chunkOffset))
            default: break
            }
        }
        return result
    }

    /// Merges chunks whose time ranges overlap: all their messages are loaded,
    /// sorted by (log time, chunk offset, offset in chunk), and handed over.
    private func mergeCluster(_ cluster: [ChunkIndex], wanted: [Bool]?, lo: UInt64, hi: UInt64, _ body: (MessageView) throws -> Void) throws {
        var buffers: [[UInt8]] = []
        var all: [(entry: Entry, chunk: Int)] = []
        for (k, index) in cluster.sorted(by: { $0.chunkStartOffset < $1.chunkStartOffset }).enumerated() {
            try withChunk(index) { (records, chunkOffset) in
                buffers.append(Array(records))
                for e in try self.entries(records, chunkOffset: chunkOffset, wanted: wanted, lo: lo, hi: hi) { all.append((e, k)) }
            }
        }
        all.sort { ($0.entry.logTime, $0.chunk, $0.entry.offset) < ($1.entry.logTime, $1.chunk, $1.entry.offset) }
        for (e, k) in all {
            try buffers[k].withUnsafeBytes { b in
                let content = UnsafeRawBufferPointer(rebasing: b[(e.offset + 9)..<(e.offset + 9 + e.length)])
                try body(try ChunkRecords.message(content, chunkOffset: cluster[k].chunkStartOffset))
            }
        }
    }

    /// For a file whose messages are not in chunks: read them front to back,
    /// then hand them over in log-time order.
    private func unchunkedMessages(wanted: [Bool]?, lo: UInt64, hi: UInt64, _ body: (MessageView) throws -> Void) throws {
        let reader = StreamReader(source: source, limits: limits)
        var found: [Message] = []
        while let record = try reader.next() {
            guard case .message(let m) = record, m.logTime_ns >= lo, m.logTime_ns <= hi else { continue }
            if let wanted, !wanted[Int(m.channelID)] { continue }
            found.append(m)
        }
        // A stable sort keeps file order among equal log times.
        let order = found.indices.sorted { (found[$0].logTime_ns, $0) < (found[$1].logTime_ns, $1) }
        for i in order {
            let m = found[i]
            try m.data.withUnsafeBytes { data in
                try body(MessageView(channelID: m.channelID, sequence: m.sequence, logTime_ns: m.logTime_ns, publishTime_ns: m.publishTime_ns, data: data))
            }
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
