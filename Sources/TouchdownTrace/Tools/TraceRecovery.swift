/// What `touchdown trace recover` kept and lost.
public struct RecoveryReport: Sendable {
    public var keptMessages: UInt64 = 0
    /// Messages known to be lost (from surviving indexes or the original statistics).
    public var lostMessages: UInt64 = 0
    /// True when some damage hides how many messages it held.
    public var lostCountUnknown = false
    /// One line per damaged place.
    public var damage: [String] = []
    public var keptSchemas = 0
    public var keptChannels = 0

    public var lostAnything: Bool { lostMessages > 0 || lostCountUnknown }
}

/// Rebuilds a valid, indexed trace from a truncated or damaged one.
///
/// Top-level records are read front to back. A record that fails (bad CRC,
/// bad compression, truncated) is skipped by its length when its header is
/// believable; otherwise the scan moves forward byte by byte to the next
/// Chunk that decodes and passes its CRC. Everything intact is written to the
/// output in file order with a new summary. Messages on a channel whose
/// definition was lost cannot be decoded and count as lost.
public enum TraceRecovery {
    public static func recover(input: String, output: String) throws -> RecoveryReport {
        try OutputGuard.refuse(output: output, sameAsAnyOf: [input])
        let source = try FileSource(path: input)
        var report = RecoveryReport()
        let size = source.size
        var head = [UInt8](repeating: 0, count: Int(min(8, size)))
        try head.withUnsafeMutableBytes { try source.read(at: 0, count: $0.count, into: $0) }
        guard head == mcapMagic else { throw MCAPError.invalidMagic(offset: 0, found: head) }

        // The original statistics, if the summary survived, say how many messages there were.
        let expected = (try? IndexedReader(source: source))?.statistics?.messageCount

        let writer = try MCAPWriter(sink: try FileSink(path: output))
        var schemaMap = [UInt16](repeating: 0, count: Int(UInt16.max) + 1)   // old id → new id (0: none)
        var channelMap = [UInt16](repeating: 0, count: Int(UInt16.max) + 1)
        var pendingChannels: [Channel] = []   // channels whose schema has not been seen yet
        var decoder = ChunkDecoder(limits: ReadLimits())
        var knownLostInDamagedChunk = false

        func defineSchema(_ s: Schema) throws {
            guard schemaMap[Int(s.id)] == 0 else { return }
            schemaMap[Int(s.id)] = try writer.addSchema(name: s.name, encoding: s.encoding, data: s.data)
            report.keptSchemas += 1
            for c in pendingChannels where c.schemaID == s.id { try defineChannel(c) }
            pendingChannels.removeAll { $0.schemaID == s.id }
        }
        func defineChannel(_ c: Channel) throws {
            guard channelMap[Int(c.id)] == 0 else { return }
            if c.schemaID != 0 && schemaMap[Int(c.schemaID)] == 0 {
                pendingChannels.append(c)
                return
            }
            channelMap[Int(c.id)] = try writer.addChannel(topic: c.topic, messageEncoding: c.messageEncoding,
                                                          schemaID: c.schemaID == 0 ? 0 : schemaMap[Int(c.schemaID)], metadata: c.metadata)
            report.keptChannels += 1
        }
        func keep(_ m: MessageView) throws {
            let id = channelMap[Int(m.channelID)]
            guard id != 0 else {
                report.lostMessages += 1
                return
            }
            try writer.write(channelID: id, sequence: m.sequence, logTime_ns: m.logTime_ns, publishTime_ns: m.publishTime_ns, payload: m.data)
            report.keptMessages += 1
        }

        var window = ReadWindow(source: source)
        var position: UInt64 = 8
        scan: while position < size {
            guard size - position >= 9 else {
                report.damage.append("offset \(position): \(size - position) stray bytes at the end (truncated record header)")
                break
            }
            let (op, length) = try window.recordHeader(at: position)
            let believable = Opcode(rawValue: op) != nil && length <= size - position - 9 && length <= ReadLimits().maxRecordSize_bytes
            guard believable else {
                let what = Opcode(rawValue: op) == nil ? "unknown opcode 0x\(String(op, radix: 16))" : "\(Opcode.name(of: op)) declaring \(length) bytes with \(size - position - 9) left"
                if Opcode(rawValue: op) != nil && length > size - position - 9 {
                    report.damage.append("offset \(position): truncated \(Opcode.name(of: op)) (\(what))")
                    if op == Opcode.chunk.rawValue { report.lostCountUnknown = true }
                    if let next = try resync(source: source, window: &window, decoder: &decoder, from: position + 1) {
                        position = next
                        continue scan
                    }
                    break scan
                }
                report.damage.append("offset \(position): \(what)")
                if let next = try resync(source: source, window: &window, decoder: &decoder, from: position + 1) {
                    report.lostCountUnknown = true
                    position = next
                    continue scan
                }
                report.lostCountUnknown = true
                break scan
            }
            let total = 9 + Int(length)
            let at = position
            position += UInt64(total)
            if op == Opcode.dataEnd.rawValue || op == Opcode.footer.rawValue { break scan }
            do {
                try window.with(at: at, count: total) { b in
                    let content = UnsafeRawBufferPointer(rebasing: b[9...])
                    if op == Opcode.chunk.rawValue {
                        let (header, range) = try RecordParser.chunk(content, recordOffset: at)
                        try decoder.withRecords(header: header, payload: UnsafeRawBufferPointer(rebasing: content[range]), chunkOffset: at) { records in
                            // Check the whole chunk first, so a bad one is all lost, not half kept.
                            try ChunkRecords.walk(records, chunkOffset: at) { _, _, _ in }
                            try ChunkRecords.walk(records, chunkOffset: at) { op, content, _ in
                                switch op {
                                case Opcode.message.rawValue: try keep(try ChunkRecords.message(content, chunkOffset: at))
                                case Opcode.schema.rawValue, Opcode.channel.rawValue:
                                    switch try RecordParser.parse(opcode: op, content: content, recordOffset: at) {
                                    case .schema(let s): try defineSchema(s)
                                    case .channel(let c): try defineChannel(c)
                                    default: break
                                    }
                                default: break
                                }
                            }
                        }
                        knownLostInDamagedChunk = false
                        return
                    }
                    switch try RecordParser.parse(opcode: op, content: content, recordOffset: at) {
                    case .schema(let s): try defineSchema(s)
                    case .channel(let c): try defineChannel(c)
                    case .message(let m):
                        try m.withView(keep)
                    case .attachment(let a): try writer.addAttachment(a)
                    case .metadata(let m): try writer.addMetadata(name: m.name, m.metadata)
                    case .messageIndex(let x):
                        // The index of a chunk that was lost says how many messages it held.
                        if knownLostInDamagedChunk { report.lostMessages += UInt64(x.entries.count) }
                    default: break
                    }
                }
            } catch let e as MCAPError {
                if case .io = e { throw e }
                report.damage.append("offset \(at): \(e)")
                if op == Opcode.chunk.rawValue {
                    knownLostInDamagedChunk = true
                    // If no MessageIndex follows, the count stays unknown.
                    var nextIsIndex = false
                    if position + 9 <= size {
                        nextIsIndex = try window.with(at: position, count: 1) { $0[0] } == Opcode.messageIndex.rawValue
                    }
                    if !nextIsIndex { report.lostCountUnknown = true }
                }
            }
        }
        try writer.finish()
        if let expected, report.keptMessages + report.lostMessages < expected {
            report.lostMessages = expected - report.keptMessages
            report.lostCountUnknown = false
        }
        if !pendingChannels.isEmpty {
            report.damage.append("\(pendingChannels.count) channels lost their schema: " + pendingChannels.map(\.topic).joined(separator: ", "))
        }
        return report
    }

    /// The offset of the next Chunk record at or after `from` that decodes and
    /// passes its CRC, or nil.
    static func resync(source: ByteSource, window: inout ReadWindow, decoder: inout ChunkDecoder, from: UInt64) throws -> UInt64? {
        let size = source.size
        var p = from
        while p + 9 + 8 * 4 <= size {
            let candidate = try window.with(at: p, count: 9) { b -> UInt64? in
                guard b[0] == Opcode.chunk.rawValue else { return nil }
                return UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            }
            if let length = candidate, length >= 8 * 3 + 4 + 4 + 8, length <= size - p - 9, length <= ReadLimits().maxRecordSize_bytes {
                let ok: Bool = (try? window.with(at: p, count: 9 + Int(length)) { b in
                    let content = UnsafeRawBufferPointer(rebasing: b[9...])
                    let (header, range) = try RecordParser.chunk(content, recordOffset: p)
                    guard header.uncompressedCRC != 0, range.upperBound == content.count else { return false }
                    try decoder.withRecords(header: header, payload: UnsafeRawBufferPointer(rebasing: content[range]), chunkOffset: p) { records in
                        try ChunkRecords.walk(records, chunkOffset: p) { _, _, _ in }
                    }
                    return true
                }) ?? false
                if ok { return p }
            }
            p += 1
        }
        return nil
    }
}
