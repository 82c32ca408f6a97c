/// A structural problem `touchdown trace check` found: which record, where,
/// and what was expected against what was found.
public struct TraceProblem: Error, CustomStringConvertible, Sendable {
    public var record: String
    public var offset: UInt64
    public var message: String
    public var description: String { "\(record) at offset \(offset): \(message)" }
}

/// What a sound trace looks like, checked record by record.
public struct TraceCheckReport: Sendable {
    public var messageCount: UInt64 = 0
    public var chunkCount = 0
    public var hasSummary = false
    /// Things that are allowed but worth saying (no summary, CRCs not stored).
    public var notes: [String] = []
}

/// Validates a trace's structure, indexes, statistics and CRCs; throws the
/// first problem (an ``MCAPError`` from the readers or a ``TraceProblem``).
public enum TraceCheck {
    /// The chunk being checked: its messages' places (16 bytes each, in
    /// the order of their offsets) until its MessageIndex records have gone
    /// by, then only where those were.
    struct ChunkSeen {
        struct MessagePlace {
            var logTime_ns: UInt64
            var offset: UInt32
            var channelID: UInt16
        }

        var offset: UInt64
        var length: UInt64
        var header: ChunkHeader
        var messages: [MessagePlace] = []
        var lowest_ns = UInt64.max, highest_ns: UInt64 = 0
        /// One bit per message: listed by a MessageIndex.
        var listed: [UInt64] = []
        var listedCount = 0
        var indexPlaces: [(channelID: UInt16, offset: UInt64, length: UInt64)] = []
        var settled = false

        mutating func add(channelID: UInt16, logTime_ns: UInt64, offsetInChunk: Int) throws {
            guard let offset = UInt32(exactly: offsetInChunk) else {
                throw TraceProblem(record: "Chunk", offset: self.offset, message: "a message \(offsetInChunk) bytes into the records, past the 4 GiB a check can follow")
            }
            messages.append(MessagePlace(logTime_ns: logTime_ns, offset: offset, channelID: channelID))
            lowest_ns = min(lowest_ns, logTime_ns)
            highest_ns = max(highest_ns, logTime_ns)
        }

        /// Checks a MessageIndex of this chunk: each entry must name one of
        /// its messages (offset, log time and channel), none twice.
        mutating func check(_ x: MessageIndex, at: UInt64, length: UInt64) throws {
            if x.entries.isEmpty { throw TraceProblem(record: "MessageIndex", offset: at, message: "lists no messages") }
            if listed.isEmpty { listed = [UInt64](repeating: 0, count: (messages.count + 63) / 64) }
            for e in x.entries {
                let i = place(of: e.offset)
                guard let i, messages[i].channelID == x.channelID, messages[i].logTime_ns == e.logTime_ns else {
                    let found = i.map { "channel \(messages[$0].channelID) at \(messages[$0].logTime_ns) ns" } ?? "no message"
                    throw TraceProblem(record: "MessageIndex after Chunk", offset: self.offset,
                                       message: "the index for channel \(x.channelID) (at \(at)) lists a message at \(e.logTime_ns) ns offset \(e.offset), the chunk has \(found) there")
                }
                guard listed[i / 64] & (1 << UInt64(i % 64)) == 0 else {
                    throw TraceProblem(record: "MessageIndex after Chunk", offset: self.offset,
                                       message: "the message at offset \(e.offset) is listed twice (again by the index for channel \(x.channelID) at \(at))")
                }
                listed[i / 64] |= 1 << UInt64(i % 64)
                listedCount += 1
            }
            indexPlaces.append((x.channelID, at, length))
        }

        /// The index of the message at `offset` in the chunk, if one starts there.
        private func place(of offset: UInt64) -> Int? {
            var lo = 0, hi = messages.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if UInt64(messages[mid].offset) < offset { lo = mid + 1 } else { hi = mid }
            }
            return lo < messages.count && UInt64(messages[lo].offset) == offset ? lo : nil
        }
    }

    /// Checks a chunk's time range against its messages and, when it has
    /// MessageIndex records, that they listed every message; then drops
    /// the places (memory stays one chunk's worth).
    static func settle(_ c: inout ChunkSeen) throws {
        guard !c.settled else { return }
        c.settled = true
        defer {
            c.messages = []
            c.listed = []
        }
        if !c.messages.isEmpty && (c.header.messageStartTime_ns != c.lowest_ns || c.header.messageEndTime_ns != c.highest_ns) {
            throw TraceProblem(record: "Chunk", offset: c.offset, message: "message_start_time/end_time say \(c.header.messageStartTime_ns)…\(c.header.messageEndTime_ns), its messages span \(c.lowest_ns)…\(c.highest_ns)")
        }
        guard !c.indexPlaces.isEmpty, c.listedCount != c.messages.count else { return }
        let firstUnlisted = c.messages.indices.first { c.listed[$0 / 64] & (1 << UInt64($0 % 64)) == 0 }.map { c.messages[$0] }
        throw TraceProblem(record: "MessageIndex records after Chunk", offset: c.offset,
                           message: "list \(c.listedCount) messages, the chunk holds \(c.messages.count)"
                               + (firstUnlisted.map { "; first not listed: channel \($0.channelID) at \($0.logTime_ns) ns offset \($0.offset)" } ?? ""))
    }

    public static func run(path: String) throws -> TraceCheckReport {
        try run(source: try FileSource(path: path))
    }

    /// Checks the trace in `source` (a file, or memory), reading it with `limits`.
    public static func run(source: ByteSource, limits: ReadLimits = ReadLimits()) throws -> TraceCheckReport {
        var report = TraceCheckReport()
        let stream = StreamReader(source: source, limits: limits)
        var schemaIDs: [UInt16] = []
        var channelIDs: [UInt16] = []
        var channelCounts = [UInt64](repeating: 0, count: Int(UInt16.max) + 1)
        // One chunk is held at a time: once its MessageIndex records have
        // gone by, it is checked against its ChunkIndex and dropped.
        var chunk: ChunkSeen?
        var chunkCount = 0
        var attachments: [(offset: UInt64, length: UInt64, name: String, mediaType: String, dataSize: UInt64)] = []
        var metadata: [(offset: UInt64, length: UInt64, name: String)] = []
        var lo = UInt64.max, hi: UInt64 = 0
        var footer: Footer?
        var dataEnd: DataEnd?
        var inSummary = false
        var first = true
        // The summary is opened first so that its ChunkIndex records can be
        // walked beside the chunks; its problems are reported after the data
        // section's, in file order.
        let summary = Result { try IndexedReader(source: source, limits: limits) }
        var chunkIndexes = ChunkIndexWalk(summary)
        var mismatch: Error?
        func settleChunk() throws {
            guard var c = chunk else { return }
            chunk = nil
            try settle(&c)
            do { try chunkIndexes.check(c) } catch { if mismatch == nil { mismatch = error } }
        }
        while let record = try stream.next() {
            let at = stream.recordOffset
            if first {
                guard case .header = record else { throw TraceProblem(record: record.opcodeName, offset: at, message: "expected a Header as the first record") }
                first = false
            }
            let insideChunk = stream.offsetInChunk != nil
            if !insideChunk, record.opcode != Opcode.messageIndex.rawValue { try settleChunk() }
            switch record {
            case .schema(let s):
                if !inSummary && !schemaIDs.contains(s.id) { schemaIDs.append(s.id) }
            case .channel(let c):
                if !inSummary {
                    guard c.schemaID == 0 || schemaIDs.contains(c.schemaID) else {
                        throw TraceProblem(record: "Channel \(c.id) (\(c.topic))", offset: at, message: "refers to schema \(c.schemaID), which no earlier Schema record defines")
                    }
                    if !channelIDs.contains(c.id) { channelIDs.append(c.id) }
                }
            case .message(let m):
                guard channelIDs.contains(m.channelID) else { throw MCAPError.unknownChannel(id: m.channelID, offset: at) }
                channelCounts[Int(m.channelID)] += 1
                report.messageCount += 1
                lo = min(lo, m.logTime_ns)
                hi = max(hi, m.logTime_ns)
                if insideChunk, let off = stream.offsetInChunk {
                    try chunk?.add(channelID: m.channelID, logTime_ns: m.logTime_ns, offsetInChunk: off)
                }
            case .chunk(let h):
                chunk = ChunkSeen(offset: at, length: stream.recordLength, header: h)
                chunkCount += 1
                if h.uncompressedCRC == 0 && !report.notes.contains("some chunks store no CRC") { report.notes.append("some chunks store no CRC") }
            case .messageIndex(let x):
                guard chunk != nil else {
                    throw TraceProblem(record: "MessageIndex", offset: at, message: chunkCount == 0 ? "no Chunk precedes it" : "a record other than MessageIndex separates it from its Chunk")
                }
                try chunk?.check(x, at: at, length: stream.recordLength)
            case .attachment(let a): attachments.append((at, stream.recordLength, a.name, a.mediaType, UInt64(a.data.count)))
            case .metadata(let m): metadata.append((at, stream.recordLength, m.name))
            case .dataEnd(let d):
                dataEnd = d
                inSummary = true
                if d.dataSectionCRC == 0 { report.notes.append("the data section CRC is not stored") }
            case .footer(let f): footer = f
            default: break
            }
        }
        guard let footer else { throw TraceProblem(record: "Footer", offset: source.size, message: "missing") }
        if dataEnd == nil { report.notes.append("no DataEnd record") }
        report.chunkCount = chunkCount
        try settleChunk()

        guard footer.summaryStart != 0 else {
            report.notes.append("no summary section")
            return report
        }
        report.hasSummary = true
        let indexed = try summary.get()
        // Chunk indexes must match the chunks, one for one.
        if indexed.chunkIndexCount != chunkCount {
            throw TraceProblem(record: "summary", offset: footer.summaryStart, message: "\(indexed.chunkIndexCount) ChunkIndex records, the file holds \(chunkCount) chunks")
        }
        if let mismatch { throw mismatch }
        if let s = indexed.statistics {
            func expect<T: Equatable>(_ field: String, _ stated: T, _ actual: T) throws {
                if stated != actual { throw TraceProblem(record: "Statistics", offset: footer.summaryStart, message: "\(field) is \(stated), the file has \(actual)") }
            }
            try expect("message_count", s.messageCount, report.messageCount)
            try expect("chunk_count", Int(s.chunkCount), chunkCount)
            try expect("schema_count", Int(s.schemaCount), schemaIDs.count)
            try expect("channel_count", Int(s.channelCount), channelIDs.count)
            try expect("attachment_count", Int(s.attachmentCount), attachments.count)
            try expect("metadata_count", Int(s.metadataCount), metadata.count)
            if report.messageCount > 0 {
                try expect("message_start_time", s.messageStartTime_ns, lo)
                try expect("message_end_time", s.messageEndTime_ns, hi)
            }
            for id in channelIDs {
                let stated = s.channelMessageCounts.first { $0.channelID == id }?.count ?? 0
                try expect("channel_message_counts[\(id)]", stated, channelCounts[Int(id)])
            }
        } else {
            report.notes.append("no Statistics record")
        }
        for x in indexed.attachmentIndexes {
            guard let a = attachments.first(where: { $0.offset == x.offset }) else {
                throw TraceProblem(record: "AttachmentIndex '\(x.name)'", offset: footer.summaryStart, message: "points at offset \(x.offset), where no Attachment starts")
            }
            if a.length != x.length || a.name != x.name || a.dataSize != x.dataSize || a.mediaType != x.mediaType {
                throw TraceProblem(record: "AttachmentIndex '\(x.name)'", offset: footer.summaryStart, message: "does not match the Attachment at \(x.offset) (length, name, media type or size)")
            }
        }
        if indexed.attachmentIndexes.count != attachments.count {
            throw TraceProblem(record: "summary", offset: footer.summaryStart, message: "\(indexed.attachmentIndexes.count) AttachmentIndex records for \(attachments.count) attachments")
        }
        for x in indexed.metadataIndexes {
            guard let m = metadata.first(where: { $0.offset == x.offset }), m.length == x.length, m.name == x.name else {
                throw TraceProblem(record: "MetadataIndex '\(x.name)'", offset: footer.summaryStart, message: "does not match a Metadata record at offset \(x.offset)")
            }
        }
        if indexed.metadataIndexes.count != metadata.count {
            throw TraceProblem(record: "summary", offset: footer.summaryStart, message: "\(indexed.metadataIndexes.count) MetadataIndex records for \(metadata.count) Metadata records")
        }
        // Summary offsets must point at groups of their opcode inside the summary.
        let summaryEnd = source.size - 8 - IndexedReader.footerRecordSize
        var window = ReadWindow(source: source, blockSize_bytes: SummaryRecords.windowBlock_bytes)
        for o in indexed.summaryOffsets where o.groupLength > 0 {
            guard o.groupStart >= footer.summaryStart, o.groupStart <= summaryEnd, o.groupLength <= summaryEnd - o.groupStart else {
                throw TraceProblem(record: "SummaryOffset for \(Opcode.name(of: o.groupOpcode))", offset: footer.summaryOffsetStart, message: "group \(o.groupStart)+\(o.groupLength) lies outside the summary \(footer.summaryStart)…\(summaryEnd)")
            }
            var position = o.groupStart
            let groupEnd = o.groupStart + o.groupLength
            while position < groupEnd {
                guard groupEnd - position >= 9 else { break }
                let (op, length) = try window.recordHeader(at: position)
                guard op == o.groupOpcode else {
                    throw TraceProblem(record: "SummaryOffset for \(Opcode.name(of: o.groupOpcode))", offset: footer.summaryOffsetStart, message: "its group holds a \(Opcode.name(of: op)) at \(position)")
                }
                guard length <= groupEnd - position - 9 else { break }
                position += 9 + length
            }
            guard position == groupEnd else {
                throw TraceProblem(record: "SummaryOffset for \(Opcode.name(of: o.groupOpcode))", offset: footer.summaryOffsetStart, message: "group length \(o.groupLength) does not end on a record boundary")
            }
        }
        return report
    }
}

/// The summary's ChunkIndex records in chunk-offset order, checked one by
/// one against the chunks as the data section is read. Records the writer
/// left in file order are streamed from the file; for any other order,
/// where each record lies is gathered (24 bytes a chunk) and sorted, and
/// the records are read again one at a time.
struct ChunkIndexWalk {
    private var cursor: ChunkIndexCursor?
    /// For records out of file order: (chunk offset, record start, record end), sorted.
    private var places: [(chunkOffset: UInt64, at: UInt64, end: UInt64)]?
    private var next = 0
    /// An error met gathering the places, reported at the first chunk.
    private var failure: Error?

    init(_ summary: Result<IndexedReader, Error>) {
        guard case .success(let indexed) = summary else { return }
        var cursor = indexed.chunkIndexCursor()
        if !indexed.chunkIndexesInFileOrder {
            do {
                var places: [(chunkOffset: UInt64, at: UInt64, end: UInt64)] = []
                places.reserveCapacity(indexed.chunkIndexCount)
                while let (at, end, x) = try cursor.next() { places.append((x.chunkStartOffset, at, end)) }
                self.places = places.sorted { $0.chunkOffset < $1.chunkOffset }
            } catch {
                failure = error
            }
        }
        self.cursor = cursor
    }

    /// Checks the next ChunkIndex against chunk `c`. Running out of indexes
    /// is not an error here: the counts are compared at the end.
    mutating func check(_ c: TraceCheck.ChunkSeen) throws {
        if let failure { throw failure }
        guard cursor != nil else { return }
        if let places {
            guard next < places.count else { return }
            cursor!.seek(to: places[next].at..<places[next].end)
            next += 1
        }
        guard let (at, _, x) = try cursor!.next() else { return }
        func expect<T: Equatable>(_ field: String, _ indexed: T, _ actual: T) throws {
            if indexed != actual {
                throw TraceProblem(record: "ChunkIndex for chunk at \(c.offset)", offset: at, message: "\(field) is \(indexed), the chunk has \(actual)")
            }
        }
        try expect("chunk_start_offset", x.chunkStartOffset, c.offset)
        try expect("chunk_length", x.chunkLength, c.length)
        try expect("message_start_time", x.messageStartTime_ns, c.header.messageStartTime_ns)
        try expect("message_end_time", x.messageEndTime_ns, c.header.messageEndTime_ns)
        try expect("compression", x.compression, c.header.compression)
        try expect("compressed_size", x.compressedSize, c.header.compressedSize)
        try expect("uncompressed_size", x.uncompressedSize, c.header.uncompressedSize)
        if !x.messageIndexOffsets.isEmpty || !c.indexPlaces.isEmpty {
            try expect("message_index_offsets", x.messageIndexOffsets.map { "\($0.channelID)@\($0.offset)" }.sorted(),
                       c.indexPlaces.map { "\($0.channelID)@\($0.offset)" }.sorted())
            try expect("message_index_length", x.messageIndexLength, c.indexPlaces.reduce(0) { $0 + $1.length })
        }
    }
}
