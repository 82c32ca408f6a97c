/// Writes an MCAP file as messages arrive, holding only the open chunk.
///
/// A chunk closes when it reaches `chunkSize_bytes` of uncompressed records or
/// spans `chunkSpan_ns` of log time, whichever comes first; it is then handed
/// to the sink (the operating system) at once, with its message indexes. A
/// writer killed at any instant therefore loses at most the open chunk.
/// Schema and Channel records go straight into the data section when they
/// are added, so every chunk on disk can be decoded on its own.
///
/// The output depends only on the calls made: no clock, no randomness, and
/// every map written in a fixed order. Equal calls give equal bytes.
public final class MCAPWriter {
    public enum Compression: Sendable, Equatable {
        case none
        case zstd(level: Int32)

        var name: String {
            switch self {
            case .none: ""
            case .zstd: "zstd"
            }
        }
    }

    public struct Options: Sendable {
        public var compression: Compression = .zstd(level: 3)
        public var chunkSize_bytes: Int = 1 << 20
        public var chunkSpan_ns: UInt64 = 1_000_000_000
        public var profile: String = ""
        /// Let a second thread compress the open chunk as it fills (zstd
        /// only), when it gets a core to run on; the recording thread
        /// compresses whatever it has not picked up. The file's bytes are
        /// the same either way; only the time the caller spends in the
        /// writer changes.
        public var compressInBackground = true
        /// (Tests) Let the compression thread take a segment only while the
        /// recording thread sleeps, as when both are confined to one core.
        var compressionThreadSharesOneCore = false
        /// How many bytes of ChunkIndex records (about 130 per chunk) the
        /// writer holds in memory before it moves them to a temporary file
        /// in `$TMPDIR` until `finish()`. The file's bytes do not depend on it.
        public var chunkIndexMemory_bytes: Int = 1 << 20
        /// Where those records go past that; nil means `$TMPDIR`, or `/tmp`.
        /// If no file can be made there they stay in memory.
        public var temporaryDirectory: String? = nil
        public var library: String = "touchdown \(touchdownVersion)"
        public init() {}
    }

    public var options: Options { core.pointee.options }
    /// ChunkIndex bytes moved to the temporary file so far (for tests).
    var spilledChunkIndex_bytes: UInt64 { core.pointee.spilledChunkIndex_bytes }
    /// What the zstd compressor has done so far: where the open chunk's
    /// segments were compressed, and how often the compression thread was
    /// woken. For benchmarks and tests; all zero without zstd. Read it on
    /// the thread that records.
    public struct CompressionCounts: Sendable, Equatable {
        /// Segments compressed on the thread that records.
        public var segmentsOnRecordingThread = 0
        /// Segments compressed on the writer's compression thread.
        public var segmentsOnHelper = 0
        /// Times the recording thread woke the sleeping compression thread.
        public var helperWakes = 0
        /// Chunks compressed wholly on the recording thread because it could
        /// run on one CPU only.
        public var chunksOnOneCPU = 0
        /// Chunks compressed wholly on the recording thread because no CPU
        /// had had time to spare over the last 100 ms or so.
        public var chunksWithNoSpareCPU = 0
        /// Segments the compression thread lost its CPU over for more than
        /// half the time it took (another thread ran on its CPU).
        public var slowSegmentsOnHelper = 0

        public init() {}
    }

    public var compressionCounts: CompressionCounts { core.pointee.compressionCounts }
    // All state lives in one struct, reached through a pointer the class owns:
    // a stored `var` would cost a run-time exclusivity check per message.
    private let core: UnsafeMutablePointer<MCAPWriterCore>

    public init(sink: ByteSink, options: Options = Options()) throws {
        // The core is made before `core` is set: a class whose stored
        // properties are all set runs its deinit when its init throws, and
        // that deinit must never meet an uninitialised core (it crashed when
        // the first write, the magic and Header, failed on a full disk).
        let made = try MCAPWriterCore(sink: sink, options: options)
        core = .allocate(capacity: 1)
        core.initialize(to: made)
    }

    deinit {
        core.deinitialize(count: 1)
        core.deallocate()
    }

    /// Registers a schema and writes its record; returns its id (1, 2, …).
    public func addSchema(name: String, encoding: String, data: [UInt8]) throws -> UInt16 {
        try core.pointee.addSchema(name: name, encoding: encoding, data: data)
    }

    /// Registers a channel and writes its record; returns its id (1, 2, …).
    /// Metadata is written sorted by key.
    public func addChannel(topic: String, messageEncoding: String, schemaID: UInt16, metadata: StringPairs = []) throws -> UInt16 {
        try core.pointee.addChannel(topic: topic, messageEncoding: messageEncoding, schemaID: schemaID, metadata: metadata)
    }

    /// Appends a message whose payload is already encoded.
    public func write(channelID: UInt16, sequence: UInt32, logTime_ns: UInt64, publishTime_ns: UInt64,
                      payload: UnsafeRawBufferPointer) throws {
        try core.pointee.write(channelID: channelID, sequence: sequence, logTime_ns: logTime_ns, publishTime_ns: publishTime_ns) { w in
            w.raw(payload)
        }
    }

    /// Appends a message whose payload `encode` appends to the chunk directly,
    /// with no intermediate buffer. The sequence number is the count of
    /// messages written on the channel before this one.
    @inline(__always)
    func write(channelID: UInt16, logTime_ns: UInt64, publishTime_ns: UInt64,
               encode: (inout ByteWriter) -> Void) throws {
        try core.pointee.write(channelID: channelID, sequence: nil, logTime_ns: logTime_ns, publishTime_ns: publishTime_ns, encode: encode)
    }

    /// Writes an Attachment record (outside any chunk) and indexes it.
    public func addAttachment(_ attachment: Attachment) throws { try core.pointee.addAttachment(attachment) }

    /// Writes a Metadata record (outside any chunk), keys sorted, and indexes it.
    public func addMetadata(name: String, _ pairs: StringPairs) throws { try core.pointee.addMetadata(name: name, pairs) }

    /// Closes the open chunk now, so everything written so far is on disk.
    public func flush() throws { try core.pointee.flush() }

    /// Writes the summary, footer and closing magic, and closes the sink.
    /// Nothing may be written afterwards.
    public func finish() throws { try core.pointee.finish() }
}

/// The writer's state and logic; see ``MCAPWriter``.
struct MCAPWriterCore {
    typealias Options = MCAPWriter.Options
    let options: Options
    private let sink: ByteSink
    private var out = ByteWriter(capacity: 4096)
    /// The closing chunk's message index records.
    private var indexes = ByteWriter(capacity: 4096)
    private var chunk: ByteWriter
    private let compressor: ChunkCompressor?

    private var position: UInt64 = 0
    private var dataCRC: UInt32 = 0
    /// Why nothing more may be written: the writer finished, or its sink
    /// (or compressor) failed. Nil while the writer is open.
    private var refusal: String?

    private var schemas: [Schema] = []
    private var channels: [Channel] = []
    /// Per channel, indexed by id - 1: the open chunk's message index
    /// entries and the message count.
    private var channelTable = ChannelTable()
    private var chunkHasMessages = false
    private var chunkStart_ns: UInt64 = 0
    private var chunkEnd_ns: UInt64 = 0

    /// The summary's ChunkIndex records, kept encoded (about 130 bytes per
    /// chunk), in memory up to a limit and then in a temporary file.
    private let chunkIndexRecords: SpillBuffer
    private var chunkCount = 0
    private var attachmentIndexes: [AttachmentIndex] = []
    private var metadataIndexes: [MetadataIndex] = []
    private var messageCount: UInt64 = 0
    /// The span of the chunks closed so far (every message is in one).
    private var messageStart_ns: UInt64 = .max
    private var messageEnd_ns: UInt64 = 0

    var spilledChunkIndex_bytes: UInt64 { chunkIndexRecords.movedToFile_bytes }
    var compressionCounts: MCAPWriter.CompressionCounts { compressor?.counts ?? MCAPWriter.CompressionCounts() }

    init(sink: ByteSink, options: Options) throws {
        guard options.chunkSize_bytes > 0 else { throw MCAPError.invalidUse("chunk size must be positive") }
        guard options.chunkIndexMemory_bytes > 0 else { throw MCAPError.invalidUse("chunk index memory must be positive") }
        self.sink = sink
        self.options = options
        chunkIndexRecords = SpillBuffer(memoryLimit_bytes: options.chunkIndexMemory_bytes, directory: options.temporaryDirectory)
        chunk = ByteWriter(capacity: options.chunkSize_bytes + 4096)
        if case .zstd(let level) = options.compression {
            compressor = try ChunkCompressor(level: level, background: options.compressInBackground,
                                             sharesOneCore: options.compressionThreadSharesOneCore)
        } else {
            compressor = nil
        }
        out.raw(mcapMagic)
        let at = out.beginRecord(.header)
        out.string(options.profile)
        out.string(options.library)
        out.endRecord(at)
        try flushOut()
    }

    /// Registers a schema and writes its record; returns its id (1, 2, …).
    mutating func addSchema(name: String, encoding: String, data: [UInt8]) throws -> UInt16 {
        try checkOpen()
        guard schemas.count < Int(UInt16.max) else { throw MCAPError.invalidUse("too many schemas") }
        let schema = Schema(id: UInt16(schemas.count + 1), name: name, encoding: encoding, data: data)
        schemas.append(schema)
        Self.encode(schema, into: &out)
        try flushOut()
        return schema.id
    }

    /// Registers a channel and writes its record; returns its id (1, 2, …).
    /// Metadata is written sorted by key.
    mutating func addChannel(topic: String, messageEncoding: String, schemaID: UInt16, metadata: StringPairs = []) throws -> UInt16 {
        try checkOpen()
        guard schemaID == 0 || Int(schemaID) <= schemas.count else {
            throw MCAPError.invalidUse("channel \(topic): schema \(schemaID) was not added")
        }
        guard channels.count < Int(UInt16.max) - 1 else { throw MCAPError.invalidUse("too many channels") }
        let channel = Channel(id: UInt16(channels.count + 1), schemaID: schemaID, topic: topic,
                              messageEncoding: messageEncoding, metadata: metadata.sorted { $0.key < $1.key })
        channels.append(channel)
        channelTable.append()
        Self.encode(channel, into: &out)
        try flushOut()
        return channel.id
    }

    /// Appends a message whose payload `encode` appends to the chunk directly,
    /// with no intermediate buffer.
    @inline(__always)
    mutating func write(channelID: UInt16, sequence: UInt32?, logTime_ns: UInt64, publishTime_ns: UInt64,
               encode: (inout ByteWriter) -> Void) throws {
        try checkOpen()
        guard channelID >= 1 && Int(channelID) <= channels.count else {
            throw MCAPError.invalidUse("message on channel \(channelID), which was not added")
        }
        if chunkHasMessages {
            let span = logTime_ns > chunkStart_ns ? logTime_ns - chunkStart_ns : chunkStart_ns - logTime_ns
            if span >= options.chunkSpan_ns { try closeChunk() }
        }
        let state = channelTable.base + (Int(channelID) - 1)
        // The Message record's fixed part in one claim: opcode, length
        // (patched once the payload is in), channel, sequence, log and
        // publish times.
        let offset = chunk.count
        let header = chunk.claim(31)
        header.storeBytes(of: Opcode.message.rawValue, as: UInt8.self)
        header.storeBytes(of: channelID.littleEndian, toByteOffset: 9, as: UInt16.self)
        header.storeBytes(of: (sequence ?? UInt32(truncatingIfNeeded: state.pointee.messageCount)).littleEndian, toByteOffset: 11, as: UInt32.self)
        header.storeBytes(of: logTime_ns.littleEndian, toByteOffset: 15, as: UInt64.self)
        header.storeBytes(of: publishTime_ns.littleEndian, toByteOffset: 23, as: UInt64.self)
        encode(&chunk)
        chunk.endRecord(offset + 1)

        let entry = state.pointee.entries.claim(16)
        entry.storeBytes(of: logTime_ns.littleEndian, as: UInt64.self)
        entry.storeBytes(of: UInt64(offset).littleEndian, toByteOffset: 8, as: UInt64.self)
        state.pointee.messageCount += 1
        messageCount += 1
        if chunkHasMessages {
            chunkStart_ns = Swift.min(chunkStart_ns, logTime_ns)
            chunkEnd_ns = Swift.max(chunkEnd_ns, logTime_ns)
        } else {
            chunkHasMessages = true
            chunkStart_ns = logTime_ns
            chunkEnd_ns = logTime_ns
        }
        compressor?.messageAppended(chunk)
        if chunk.count >= options.chunkSize_bytes { try closeChunk() }
    }

    /// Writes an Attachment record (outside any chunk) and indexes it.
    mutating func addAttachment(_ attachment: Attachment) throws {
        try checkOpen()
        let offset = position + UInt64(out.count)
        let at = out.beginRecord(.attachment)
        let crcFrom = out.count
        out.u64(attachment.logTime_ns)
        out.u64(attachment.createTime_ns)
        out.string(attachment.name)
        out.string(attachment.mediaType)
        out.u64(UInt64(attachment.data.count))
        out.raw(attachment.data)
        let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[crcFrom...])) }
        out.u32(crc)
        out.endRecord(at)
        let length = position + UInt64(out.count) - offset
        attachmentIndexes.append(AttachmentIndex(offset: offset, length: length, logTime_ns: attachment.logTime_ns,
                                                 createTime_ns: attachment.createTime_ns, dataSize: UInt64(attachment.data.count),
                                                 name: attachment.name, mediaType: attachment.mediaType))
        try flushOut()
    }

    /// Writes a Metadata record (outside any chunk), keys sorted, and indexes it.
    mutating func addMetadata(name: String, _ pairs: StringPairs) throws {
        try checkOpen()
        let offset = position + UInt64(out.count)
        let at = out.beginRecord(.metadata)
        out.string(name)
        out.stringMap(pairs.sorted { $0.key < $1.key })
        out.endRecord(at)
        metadataIndexes.append(MetadataIndex(offset: offset, length: position + UInt64(out.count) - offset, name: name))
        try flushOut()
    }

    /// Closes the open chunk now, so everything written so far is on disk.
    mutating func flush() throws {
        try checkOpen()
        try closeChunk()
    }

    /// Writes the summary, footer and closing magic, and closes the sink.
    /// Nothing may be written afterwards.
    mutating func finish() throws {
        try checkOpen()
        try closeChunk()
        compressor?.stop()
        try stoppingOnError { w in try w.writeDataEndAndSummary() }
        refusal = "the writer has finished; nothing more can be written"
        chunkIndexRecords.release()
    }

    /// DataEnd, the summary, the Footer and the closing magic; then the sink closes.
    private mutating func writeDataEndAndSummary() throws {
        let dataEndAt = out.beginRecord(.dataEnd)
        out.u32(0)  // patched below, once the CRC covers everything before DataEnd
        out.endRecord(dataEndAt)
        // The data section CRC covers every byte before the DataEnd record.
        let dataEndStart = out.count - 13
        dataCRC = out.withUnsafeBytes { CRC32.update(dataCRC, UnsafeRawBufferPointer(rebasing: $0[..<dataEndStart])) }
        out.patchU32(at: dataEndStart + 9, dataCRC)
        try flushOut()

        // The summary goes to the sink in pieces (the ChunkIndex records may
        // be far larger than memory should hold), its CRC kept as it goes.
        let summaryStart = position
        var s = ByteWriter(capacity: 1 << 16)
        var sent: UInt64 = 0
        var summaryCRC: UInt32 = 0
        func send(_ b: UnsafeRawBufferPointer) throws {
            try sink.write(b)
            summaryCRC = CRC32.update(summaryCRC, b)
            sent += UInt64(b.count)
        }
        func sendHeld() throws {
            try s.withUnsafeBytes { (b) throws in try send(b) }
            s.removeAll()
        }
        func here() -> UInt64 { summaryStart + sent + UInt64(s.count) }
        var groups: [SummaryOffset] = []
        func group(_ op: Opcode, _ body: () throws -> Void) rethrows {
            let start = here()
            try body()
            if here() > start {
                groups.append(SummaryOffset(groupOpcode: op.rawValue, groupStart: start, groupLength: here() - start))
            }
        }
        group(.schema) { for x in schemas { Self.encode(x, into: &s) } }
        group(.channel) { for x in channels { Self.encode(x, into: &s) } }
        group(.statistics) {
            let at = s.beginRecord(.statistics)
            s.u64(messageCount)
            s.u16(UInt16(schemas.count))
            s.u32(UInt32(channels.count))
            s.u32(UInt32(attachmentIndexes.count))
            s.u32(UInt32(metadataIndexes.count))
            s.u32(UInt32(chunkCount))
            s.u64(messageCount > 0 ? messageStart_ns : 0)
            s.u64(messageCount > 0 ? messageEnd_ns : 0)
            let mapAt = s.reserveU32()
            let mapStart = s.count
            for i in 0..<channelTable.count where channelTable.base[i].messageCount > 0 {
                s.u16(UInt16(i + 1))
                s.u64(channelTable.base[i].messageCount)
            }
            s.patchU32(at: mapAt, UInt32(s.count - mapStart))
            s.endRecord(at)
        }
        try group(.chunkIndex) {
            try sendHeld()
            try chunkIndexRecords.forEachBlock { try send($0) }
        }
        group(.attachmentIndex) {
            for x in attachmentIndexes {
                let at = s.beginRecord(.attachmentIndex)
                s.u64(x.offset)
                s.u64(x.length)
                s.u64(x.logTime_ns)
                s.u64(x.createTime_ns)
                s.u64(x.dataSize)
                s.string(x.name)
                s.string(x.mediaType)
                s.endRecord(at)
            }
        }
        group(.metadataIndex) {
            for x in metadataIndexes {
                let at = s.beginRecord(.metadataIndex)
                s.u64(x.offset)
                s.u64(x.length)
                s.string(x.name)
                s.endRecord(at)
            }
        }
        let summaryOffsetStart = here()
        for g in groups {
            let at = s.beginRecord(.summaryOffset)
            s.u8(g.groupOpcode)
            s.u64(g.groupStart)
            s.u64(g.groupLength)
            s.endRecord(at)
        }
        // The summary CRC covers the summary and the Footer up to its own field,
        // so the Footer's length is written directly (its content is 20 bytes).
        s.u8(Opcode.footer.rawValue)
        s.u64(20)
        s.u64(summaryStart)
        s.u64(summaryOffsetStart)
        s.u32(s.withUnsafeBytes { CRC32.update(summaryCRC, $0) })
        s.raw(mcapMagic)
        try s.withUnsafeBytes { (b) throws in try sink.write(b) }
        try sink.close()
    }

    // MARK: - Internals

    @inline(__always)
    private func checkOpen() throws {
        if let refusal { throw MCAPError.invalidUse(refusal) }
    }

    /// Runs a step that hands bytes to the sink; if it fails, the writer
    /// stops there. Retrying would repeat or misplace records, while what
    /// reached the sink before stays readable (`touchdown trace recover`
    /// rebuilds the summary).
    private mutating func stoppingOnError<R>(_ body: (inout Self) throws -> R) throws -> R {
        do {
            return try body(&self)
        } catch {
            if refusal == nil {
                refusal = "the writer stopped at an earlier error (\(error)); what it wrote before that is in the file, and `touchdown trace recover` can index it"
            }
            compressor?.stop()
            chunkIndexRecords.release()
            throw error
        }
    }

    /// Hands buffered non-chunk records to the sink, adding them to the data CRC.
    private mutating func flushOut() throws {
        guard out.count > 0 else { return }
        try stoppingOnError { w in try w.emit([w.out.bytes]) }
        out.removeAll()
    }

    /// Hands data-section buffers to the sink in one call, adding them to the
    /// data CRC and position.
    private mutating func emit(_ buffers: [UnsafeRawBufferPointer]) throws {
        try sink.write(gathering: buffers)
        for b in buffers {
            dataCRC = CRC32.update(dataCRC, b)
            position += UInt64(b.count)
        }
    }


    private mutating func closeChunk() throws {
        guard chunkHasMessages else { return }
        try stoppingOnError { w in try w.writeChunk() }
    }

    /// Closes the open chunk: its record and message indexes go to the sink
    /// in one call, its ChunkIndex to the summary's records.
    private mutating func writeChunk() throws {
        assert(out.count == 0, "records outside chunks go to the sink as they are added")
        // The payload: the zstd frame the compressor has been building as
        // the chunk filled, or the records themselves.
        let uncompressedCRC: UInt32
        let payload: UnsafeRawBufferPointer
        if let compressor {
            (uncompressedCRC, payload) = try compressor.endChunk(chunk)
        } else {
            uncompressedCRC = CRC32.checksum(chunk.bytes)
            payload = chunk.bytes
        }
        let payloadCount = payload.count
        let chunkStart = position
        let at = out.beginRecord(.chunk)
        out.u64(chunkStart_ns)
        out.u64(chunkEnd_ns)
        out.u64(UInt64(chunk.count))
        out.u32(uncompressedCRC)
        out.string(options.compression.name)
        out.u64(UInt64(payloadCount))
        out.patchU64(at: at, UInt64(out.count - at - 8 + payloadCount))
        let chunkLength = UInt64(out.count + payloadCount)

        // Header, payload and one MessageIndex per channel, in channel id
        // order, go to the sink in one call. Each channel's entries are
        // already in file form; only the records' 15-byte heads are
        // assembled, in `indexes`, reserved first so that none moves.
        indexes.removeAll()
        indexes.reserve(total: 15 * channelTable.count)
        var buffers = [out.bytes, payload]
        var offsets: [(channelID: UInt16, offset: UInt64)] = []
        var indexLength: UInt64 = 0
        for i in 0..<channelTable.count where channelTable.base[i].entries.count > 0 {
            let entries = channelTable.base[i].entries.bytes
            offsets.append((UInt16(i + 1), chunkStart + chunkLength + indexLength))
            let head = indexes.count
            indexes.u8(Opcode.messageIndex.rawValue)
            indexes.u64(UInt64(2 + 4 + entries.count))
            indexes.u16(UInt16(i + 1))
            indexes.u32(UInt32(entries.count))
            buffers.append(UnsafeRawBufferPointer(rebasing: indexes.bytes[head..<head + 15]))
            buffers.append(entries)
            indexLength += UInt64(15 + entries.count)
        }
        try emit(buffers)
        out.removeAll()
        for i in 0..<channelTable.count { channelTable.base[i].entries.removeAll() }

        chunkCount += 1
        let index = ChunkIndex(messageStartTime_ns: chunkStart_ns, messageEndTime_ns: chunkEnd_ns,
                               chunkStartOffset: chunkStart, chunkLength: chunkLength, messageIndexOffsets: offsets,
                               messageIndexLength: indexLength, compression: options.compression.name,
                               compressedSize: UInt64(payloadCount), uncompressedSize: UInt64(chunk.count))
        chunkIndexRecords.append { Self.encode(index, into: &$0) }
        messageStart_ns = Swift.min(messageStart_ns, chunkStart_ns)
        messageEnd_ns = Swift.max(messageEnd_ns, chunkEnd_ns)
        chunk.removeAll()
        chunkHasMessages = false
    }

    static func encode(_ x: Schema, into w: inout ByteWriter) {
        let at = w.beginRecord(.schema)
        w.u16(x.id)
        w.string(x.name)
        w.string(x.encoding)
        w.bytes32(x.data)
        w.endRecord(at)
    }

    static func encode(_ x: Channel, into w: inout ByteWriter) {
        let at = w.beginRecord(.channel)
        w.u16(x.id)
        w.u16(x.schemaID)
        w.string(x.topic)
        w.string(x.messageEncoding)
        w.stringMap(x.metadata)
        w.endRecord(at)
    }

    static func encode(_ x: ChunkIndex, into w: inout ByteWriter) {
        let at = w.beginRecord(.chunkIndex)
        w.u64(x.messageStartTime_ns)
        w.u64(x.messageEndTime_ns)
        w.u64(x.chunkStartOffset)
        w.u64(x.chunkLength)
        w.u32(UInt32(x.messageIndexOffsets.count * 10))
        for (id, offset) in x.messageIndexOffsets {
            w.u16(id)
            w.u64(offset)
        }
        w.u64(x.messageIndexLength)
        w.string(x.compression)
        w.u64(x.compressedSize)
        w.u64(x.uncompressedSize)
        w.endRecord(at)
    }
}

/// The writer's per-channel state, in memory it owns and reaches through a
/// pointer: an array element would cost a uniqueness check per message.
private struct ChannelTable {
    struct State {
        /// The open chunk's message index entries, already in the file's
        /// byte form: 16 bytes each, log time then offset.
        var entries = ByteWriter(capacity: 1024)
        /// Messages written on the channel, all chunks.
        var messageCount: UInt64 = 0
    }

    private final class Storage {
        var base: UnsafeMutablePointer<State>
        var count = 0
        var capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }
        deinit {
            base.deinitialize(count: count)
            base.deallocate()
        }
    }

    private let storage = Storage(capacity: 16)
    /// Valid until the next `append`.
    private(set) var base: UnsafeMutablePointer<State>
    private(set) var count = 0

    init() { base = storage.base }

    mutating func append() {
        if storage.count == storage.capacity {
            let bigger = UnsafeMutablePointer<State>.allocate(capacity: storage.capacity * 2)
            bigger.moveInitialize(from: storage.base, count: storage.count)
            storage.base.deallocate()
            storage.base = bigger
            storage.capacity *= 2
        }
        (storage.base + storage.count).initialize(to: State())
        storage.count += 1
        base = storage.base
        count = storage.count
    }
}

/// The version written into every trace's Header `library` field.
public let touchdownVersion = "0.2.0"
