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
    private var chunkIndexSpan: Range<UInt64> = 0..<0
    /// Whether the ChunkIndex records come sorted by (message start time,
    /// chunk offset), the order a query hands chunks over in.
    private(set) var chunkIndexesInTimeOrder = true
    /// Whether the ChunkIndex records come sorted by chunk offset.
    private(set) var chunkIndexesInFileOrder = true
    /// The most chunks a merge of overlapping chunks has held at once (for
    /// tests: it stays small however long a chain of overlaps runs).
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

    private var chunkBounds: ChunkBounds { ChunkBounds(summaryStart: footer.summaryStart, fileSize: source.size) }

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

        // Chunks arrive sorted by (start time, offset); a run of chunks whose
        // time ranges overlap is gathered and merged.
        var cluster: [ChunkRef] = []
        var clusterEnd: UInt64 = 0
        var clusterLastOffset: UInt64 = 0
        func flushCluster() throws {
            if cluster.count == 1 {
                try loader.withChunk(cluster[0]) { (records, chunkOffset) in
                    var entries = try self.entries(records, chunkOffset: chunkOffset, wanted: wanted, lo: lo, hi: hi)
                    if !isSorted(entries) { entries.sort { ($0.logTime, $0.offset) < ($1.logTime, $1.offset) } }
                    for e in entries {
                        let content = UnsafeRawBufferPointer(rebasing: records[(e.offset + 9)..<(e.offset + 9 + e.length)])
                        try body(try ChunkRecords.message(content, chunkOffset: chunkOffset))
                    }
                }
            } else if cluster.count > 1 {
                try mergeCluster(cluster, loader: loader, wanted: wanted, lo: lo, hi: hi, body)
            }
            cluster.removeAll(keepingCapacity: true)
        }
        try selectedChunks(wanted: wanted, lo: lo, hi: hi) { next in
            let overlaps = !cluster.isEmpty
                && (next.start_ns < clusterEnd || (next.start_ns == clusterEnd && next.offset < clusterLastOffset))
            if overlaps {
                clusterEnd = max(clusterEnd, next.end_ns)
                clusterLastOffset = max(clusterLastOffset, next.offset)
            } else {
                try flushCluster()
                clusterEnd = next.end_ns
                clusterLastOffset = next.offset
            }
            cluster.append(next)
        }
        try flushCluster()
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

    /// The CRC-32 of `range` of the source, read a MiB at a time.
    private static func checksum(_ source: ByteSource, _ range: Range<UInt64>) throws -> UInt32 {
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
    private func record(at offset: UInt64, length: UInt64, expecting op: Opcode, pointedAtBy pointer: String? = nil) throws -> Record {
        let pointer = pointer ?? op.recordName + "Index"
        let size = source.size
        guard offset < size, length >= 9, length <= size - offset, length <= limits.maxRecordSize_bytes else {
            throw MCAPError.invalidIndex(record: pointer, offset: offset, reason: "points at \(length) bytes at offset \(offset), outside the file of \(size) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        try bytes.withUnsafeMutableBytes { (b) throws in try source.read(at: offset, count: b.count, into: b) }
        return try bytes.withUnsafeBytes { (b) throws in
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

    /// Hands over the chunks a query selects, sorted by (start time, offset).
    /// ChunkIndex records already in that order are streamed; otherwise the
    /// selected chunks are gathered (32 bytes each) and sorted.
    private func selectedChunks(wanted: [Bool]?, lo: UInt64, hi: UInt64, _ body: (ChunkRef) throws -> Void) throws {
        let bounds = chunkBounds
        var records = SummaryRecords(source: source, span: chunkIndexSpan, limits: limits, only: .chunkIndex)
        /// The next ChunkIndex, whether the query wants its chunk, and
        /// whether every later one starts after the query's end.
        func next() throws -> (ref: ChunkRef, selected: Bool, pastEnd: Bool)? {
            guard let (at, ref, holdsWanted) = try records.nextRaw({ (at, _, content) throws in
                let (ref, holdsWanted) = try ChunkRef.read(content, recordAt: at, wanted: wanted)
                return (at, ref, holdsWanted)
            }) else { return nil }
            try bounds.check(start: ref.offset, length: ref.length, recordAt: at)
            return (ref, holdsWanted && ref.end_ns >= lo && ref.start_ns <= hi, ref.start_ns > hi)
        }
        if chunkIndexesInTimeOrder {
            while let (ref, selected, pastEnd) = try next() {
                if pastEnd { break }  // every later chunk starts later still
                if selected { try body(ref) }
            }
        } else {
            var refs: [ChunkRef] = []
            while let (ref, selected, _) = try next() {
                if selected { refs.append(ref) }
            }
            refs.sort { ($0.start_ns, $0.offset) < ($1.start_ns, $1.offset) }
            for r in refs { try body(r) }
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
                result.append(Entry(logTime: logTime, offset: at, length: content.count))
            case Opcode.schema.rawValue, Opcode.channel.rawValue:
                learn(try RecordParser.parse(opcode: op, content: content, recordOffset: chunkOffset))
            default: break
            }
        }
        return result
    }

    /// Merges chunks whose time ranges overlap, in (log time, chunk offset,
    /// offset in chunk) order. `cluster` comes in (start time, offset) order
    /// and each chunk is loaded only when the merge reaches its start time,
    /// then let go once its last message is handed over: a file whose
    /// chunks overlap one after another in a long chain (log times that
    /// jitter across chunk boundaries) holds a few chunks, not the chain.
    private func mergeCluster(_ cluster: [ChunkRef], loader: ChunkLoader, wanted: [Bool]?, lo: UInt64, hi: UInt64, _ body: (MessageView) throws -> Void) throws {
        struct Held {
            var chunkOffset: UInt64
            var records: [UInt8]
            /// Selected messages in (log time, offset) order; `next` is the first not handed over.
            var entries: [Entry]
            var next = 0
        }
        var held: [Held?] = []
        var freeSlots: [Int] = []
        var heap = MergeHeap()
        func key(_ slot: Int) -> MergeHeap.Key {
            let h = held[slot]!
            let e = h.entries[h.next]
            return MergeHeap.Key(logTime: e.logTime, chunkOffset: h.chunkOffset, offset: e.offset, slot: slot)
        }
        var pending = 0
        var holding = 0
        while true {
            // Every chunk that can hold a message at or before the earliest
            // one held is loaded before that message is handed over.
            while pending < cluster.count, heap.first.map({ cluster[pending].start_ns <= $0.logTime }) ?? true {
                let ref = cluster[pending]
                pending += 1
                try loader.withChunk(ref) { (records, chunkOffset) in
                    var entries = try self.entries(records, chunkOffset: chunkOffset, wanted: wanted, lo: lo, hi: hi)
                    guard !entries.isEmpty else { return }
                    if !isSorted(entries) { entries.sort { ($0.logTime, $0.offset) < ($1.logTime, $1.offset) } }
                    let h = Held(chunkOffset: chunkOffset, records: Array(records), entries: entries)
                    let slot: Int
                    if let free = freeSlots.popLast() {
                        slot = free
                        held[slot] = h
                    } else {
                        slot = held.count
                        held.append(h)
                    }
                    holding += 1
                    peakChunksHeldInMerge = max(peakChunksHeldInMerge, holding)
                    heap.push(key(slot))
                }
            }
            guard let top = heap.first else { break }
            let slot = top.slot
            let e = held[slot]!.entries[held[slot]!.next]
            try held[slot]!.records.withUnsafeBytes { b in
                let content = UnsafeRawBufferPointer(rebasing: b[(e.offset + 9)..<(e.offset + 9 + e.length)])
                try body(try ChunkRecords.message(content, chunkOffset: top.chunkOffset))
            }
            held[slot]!.next += 1
            if held[slot]!.next == held[slot]!.entries.count {
                held[slot] = nil
                freeSlots.append(slot)
                holding -= 1
                heap.popFirst()
            } else {
                heap.replaceFirst(key(slot))
            }
        }
    }

    /// For a file whose messages are not in indexed chunks: read front to
    /// back, handed over in log-time order (ties in file order). A first pass
    /// sees whether the selected messages already come in that order; if so
    /// a second pass hands them over as it reads. Otherwise each message's
    /// log time and place is kept and, after a stable sort, the
    /// message is read again from there (24 bytes a message); messages
    /// inside chunks the summary does not index are kept whole instead.
    private func unchunkedMessages(wanted: [Bool]?, lo: UInt64, hi: UInt64, _ body: (MessageView) throws -> Void) throws {
        func selects(_ m: Message) -> Bool {
            m.logTime_ns >= lo && m.logTime_ns <= hi && (wanted.map { $0[Int(m.channelID)] } ?? true)
        }
        func hand(_ m: Message) throws {
            try m.data.withUnsafeBytes { data in
                try body(MessageView(channelID: m.channelID, sequence: m.sequence, logTime_ns: m.logTime_ns, publishTime_ns: m.publishTime_ns, data: data))
            }
        }
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
                places.append((m.logTime_ns, scan.recordOffset, scan.recordLength))
            }
            let order = places.indices.sorted { (places[$0].logTime_ns, $0) < (places[$1].logTime_ns, $1) }
            for i in order {
                guard case .message(let m) = try record(at: places[i].offset, length: places[i].length, expecting: .message, pointedAtBy: "the first pass over the data section") else {
                    fatalError("unreachable: record(expecting:) checked the opcode")
                }
                try hand(m)
            }
        } else {
            var found: [Message] = []
            while let record = try scan.next() {
                if case .message(let m) = record, selects(m) { found.append(m) }
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

/// A binary min-heap of merge positions, for ``IndexedReader``'s merge of
/// overlapping chunks.
struct MergeHeap {
    struct Key {
        var logTime: UInt64
        var chunkOffset: UInt64
        var offset: Int
        var slot: Int

        static func < (a: Key, b: Key) -> Bool {
            (a.logTime, a.chunkOffset, a.offset) < (b.logTime, b.chunkOffset, b.offset)
        }
    }

    private var keys: [Key] = []

    var first: Key? { keys.first }

    mutating func push(_ k: Key) {
        keys.append(k)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard keys[i] < keys[parent] else { break }
            keys.swapAt(i, parent)
            i = parent
        }
    }

    /// Replaces the smallest key and restores the order.
    mutating func replaceFirst(_ k: Key) {
        keys[0] = k
        siftDown()
    }

    mutating func popFirst() {
        keys[0] = keys[keys.count - 1]
        keys.removeLast()
        if !keys.isEmpty { siftDown() }
    }

    private mutating func siftDown() {
        var i = 0
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < keys.count && keys[left] < keys[smallest] { smallest = left }
            if right < keys.count && keys[right] < keys[smallest] { smallest = right }
            if smallest == i { return }
            keys.swapAt(i, smallest)
            i = smallest
        }
    }
}
