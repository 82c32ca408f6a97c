/// What `touchdown trace recover` kept and lost, and how it knows.
public struct RecoveryReport: Sendable {
    public var keptMessages: UInt64 = 0
    /// Messages lost: exact when `lostCountUnknown` is false, otherwise the
    /// number the evidence proves (a floor).
    public var lostMessages: UInt64 = 0
    /// True when some damage hides how many messages it held.
    public var lostCountUnknown = false
    /// Where the lost count comes from.
    public var lostEvidence = ""
    /// Records other than messages that were dropped or are known lost
    /// (metadata, attachments), each with where and why.
    public var lostRecords: [String] = []
    /// One line per damaged place: where, what, and what it cost.
    public var damage: [String] = []
    /// Records kept although no CRC covers them, and why none does.
    public var unverified: [String] = []
    public var keptSchemas = 0
    public var keptChannels = 0
    public var keptMetadata = 0
    public var keptAttachments = 0

    public var lostAnything: Bool { lostMessages > 0 || lostCountUnknown || !lostRecords.isEmpty }
}

/// Rebuilds a valid, indexed trace from a truncated or damaged one, keeping
/// only what a CRC vouches for or what no CRC could (said so), and counting
/// what was lost from evidence.
///
/// The file is walked twice (``RecoveryScan``: the same walk each time).
/// The first walk surveys: which chunks pass their CRCs, which definitions
/// exist where, how many messages the MessageIndex records after each
/// damaged chunk count, where the data section ends. Then the data section
/// CRC is checked; records that only it covers (Metadata, Schema and
/// Channel records outside chunks, unchunked messages) are dropped when it
/// fails, and reported as unverified when the file stores none or ends
/// before its DataEnd. The second walk writes what is kept, in file order.
///
/// Definitions are taken from every intact copy: CRC-checked chunks, the
/// data section when its CRC holds, and the summary when its CRC holds.
/// The lost count comes from the summary's Statistics when the summary's
/// CRC verifies them; otherwise from the damage met, and is a floor
/// ("at least") whenever some damage hides what it held.
public enum TraceRecovery {
    /// - Parameter keepUnverified: keep the records only a failing data
    ///   section CRC covers (reported as unverified, and the lost count
    ///   stays a floor) instead of dropping them.
    public static func recover(input: String, output: String, keepUnverified: Bool = false,
                               limits: ReadLimits = ReadLimits()) throws -> RecoveryReport {
        try OutputGuard.refuse(output: output, sameAsAnyOf: [input])
        let source = try FileSource(path: input)
        var head = [UInt8](repeating: 0, count: Int(min(8, source.size)))
        try head.withUnsafeMutableBytes { try source.read(at: 0, count: $0.count, into: $0) }
        guard head == mcapMagic else { throw MCAPError.invalidMagic(offset: 0, found: head) }

        var report = RecoveryReport()
        let end = RecoverySummary.read(source: source, limits: limits)
        if let problem = end.problem { report.damage.append(problem) }
        let summary = end.summary
        var starts = summary?.indexedStarts ?? []
        if summary == nil, let d = end.dataEndOffset { starts = [d] }
        let scan = RecoveryScan(source: source, limits: limits, indexedStarts: starts)

        var survey = Survey()
        try scan.walk { try survey.visit($0) }
        survey.closeBadChunk()
        report.damage += survey.damage
        report.lostRecords += survey.lostRecords

        let dataCRC = try DataSectionCRC.check(source: source, walkedTo: survey.dataEndAt, footerSays: end.dataEndOffset)
        let trustDataSection: Bool
        var dataSectionFailed = false
        switch dataCRC {
        case .verified:
            trustDataSection = true
        case .failed(let why) where keepUnverified:
            trustDataSection = true
            dataSectionFailed = true
            report.damage.append(why)
            if !survey.dataCovered.isEmpty {
                report.unverified.append("\(survey.dataCovered.count) records no other CRC covers (\(survey.dataCovered.kinds)) were kept as asked, unverified: the data section CRC fails")
            }
        case .failed(let why):
            trustDataSection = false
            dataSectionFailed = true
            report.damage.append(why + "; the records no other CRC covers cannot be trusted and are dropped" + survey.dataCovered.summaryText
                                 + (survey.dataCovered.isEmpty ? "" : " (--keep-unverified keeps them, marked unverified)"))
            survey.knownLost += survey.dataCovered.messages
            report.lostRecords += survey.dataCovered.unprotected.map { "\($0): dropped, the data section CRC fails and no other CRC covers it" }
        case .notStored(let why), .absent(let why):
            trustDataSection = true
            if !survey.dataCovered.isEmpty {
                report.unverified.append("\(survey.dataCovered.count) records outside CRC-checked chunks (\(survey.dataCovered.kinds)) could not be verified: \(why)")
            }
        }

        // Definitions: every trusted copy, the best one per id.
        var definitions = Definitions()
        for d in survey.definitions where d.where_ == .checkedChunk || trustDataSection {
            definitions.offer(d.definition, rank: d.where_ == .checkedChunk ? 0 : 2, from: d.describe, fromSummary: false)
        }
        if let summary {
            let rank = summary.trust == .verified ? 1 : 3
            let place = "the summary at offset \(summary.summaryStart)"
            for s in summary.schemas { definitions.offer(.schema(s), rank: rank, from: place, fromSummary: true) }
            for c in summary.channels { definitions.offer(.channel(c), rank: rank, from: place, fromSummary: true) }
            if summary.trust == .notStored && definitions.usedSummaryOnly {
                report.unverified.append("definitions taken from \(place), whose CRC is not stored")
            }
        }
        report.damage += definitions.conflicts

        // Second walk: write what is kept.
        let writer = try MCAPWriter(sink: try FileSink(path: output))
        var newSchema: [UInt16: UInt16] = [:]
        var newChannel: [UInt16: UInt16] = [:]
        for s in definitions.schemas {
            newSchema[s.id] = try writer.addSchema(name: s.name, encoding: s.encoding, data: s.data)
            report.keptSchemas += 1
        }
        for c in definitions.channels {
            var schemaID: UInt16 = 0
            if c.schemaID != 0 {
                guard let id = newSchema[c.schemaID] else {
                    report.damage.append("channel '\(c.topic)' (id \(c.id)) names schema id \(c.schemaID), which no intact record defines: its messages are lost")
                    continue
                }
                schemaID = id
            }
            newChannel[c.id] = try writer.addChannel(topic: c.topic, messageEncoding: c.messageEncoding, schemaID: schemaID, metadata: c.metadata)
            report.keptChannels += 1
        }
        var keptByChannel: [UInt16: UInt64] = [:]
        var orphans: [UInt16: UInt64] = [:]
        var keptRecordOffsets: [UInt64] = []
        func keep(_ m: MessageView) throws {
            guard let id = newChannel[m.channelID] else {
                orphans[m.channelID, default: 0] += 1
                return
            }
            try writer.write(channelID: id, sequence: m.sequence, logTime_ns: m.logTime_ns, publishTime_ns: m.publishTime_ns, payload: m.data)
            report.keptMessages += 1
            keptByChannel[m.channelID, default: 0] += 1
        }
        try scan.walk { find in
            switch find {
            case .chunk(let at, let records, let hasCRC):
                guard !survey.rejectedChunks.contains(at), hasCRC || trustDataSection else { return }
                try ChunkRecords.walk(records, chunkOffset: at) { op, content, _ in
                    if op == Opcode.message.rawValue { try keep(try ChunkRecords.message(content, chunkOffset: at)) }
                }
            case .record(let at, let op, let content):
                guard let record = try? RecordParser.parse(opcode: op, content: content, recordOffset: at) else { return }
                switch record {
                case .message(let m) where trustDataSection:
                    try m.withView(keep)
                case .metadata(let m) where trustDataSection:
                    try writer.addMetadata(name: m.name, m.metadata)
                    report.keptMetadata += 1
                    keptRecordOffsets.append(at)
                case .attachment(let a) where trustDataSection || a.crc != 0:
                    try writer.addAttachment(a)
                    report.keptAttachments += 1
                    keptRecordOffsets.append(at)
                default: break
                }
            default: break
            }
        }
        try writer.finish()

        for (id, n) in orphans.sorted(by: { $0.key < $1.key }) {
            report.damage.append("\(n) messages on channel id \(id), which no intact Channel record defines, are lost")
            survey.knownLost += n
        }
        // What the verified summary indexes but the walk did not keep.
        if let summary, summary.trust == .verified {
            let named = report.lostRecords.joined(separator: "\n")
            func listed(_ offset: UInt64) -> Bool { named.contains("at offset \(offset):") }
            for m in summary.metadata where !keptRecordOffsets.contains(m.offset) && !listed(m.offset) {
                report.lostRecords.append("Metadata '\(m.name)' at offset \(m.offset) (indexed by the summary) was not recovered")
            }
            for a in summary.attachments where !keptRecordOffsets.contains(a.offset) && !listed(a.offset) {
                report.lostRecords.append("Attachment '\(a.name)' at offset \(a.offset) (indexed by the summary) was not recovered")
            }
        }
        if let summary, summary.trust == .verified, let stats = summary.statistics {
            if report.keptMessages <= stats.messageCount {
                report.lostMessages = stats.messageCount - report.keptMessages
                report.lostCountUnknown = false
                report.lostEvidence = "the summary's Statistics (\(stats.messageCount) messages), which its CRC verifies"
                for (id, count) in stats.channelMessageCounts.sorted(by: { $0.channelID < $1.channelID }) {
                    let kept = keptByChannel[id] ?? 0
                    if kept < count {
                        let topic = definitions.channels.first { $0.id == id }?.topic ?? "channel id \(id)"
                        report.lostEvidence += "; \(count - kept) of \(count) on \(topic)"
                    }
                }
            } else {
                report.damage.append("kept \(report.keptMessages) messages, more than the \(stats.messageCount) the verified Statistics count")
                report.lostMessages = survey.knownLost
                report.lostCountUnknown = true
                report.lostEvidence = "the damage met (the Statistics disagree with the data)"
            }
        } else {
            report.lostMessages = survey.knownLost
            // Where the data section CRC fails, a damaged opcode may hide a message.
            report.lostCountUnknown = survey.lostUnknown || dataSectionFailed
            if case .verified = dataCRC, !report.lostCountUnknown {
                report.lostEvidence = "the data section, whose CRC verifies that every byte of it is as written"
            } else {
                report.lostEvidence = "the damage met (no summary whose CRC verifies a total)"
            }
        }
        return report
    }
}

/// The data section CRC (DataEnd's), checked over every byte before DataEnd.
enum DataSectionCRC {
    case verified
    case failed(String)
    case notStored(String)
    case absent(String)

    static func check(source: ByteSource, walkedTo: UInt64?, footerSays: UInt64?) throws -> DataSectionCRC {
        let recordSize = 1 + 8 + 4
        for candidate in [walkedTo, footerSays].compactMap({ $0 }) where candidate + UInt64(recordSize) <= source.size {
            var record = [UInt8](repeating: 0, count: recordSize)
            try record.withUnsafeMutableBytes { try source.read(at: candidate, count: recordSize, into: $0) }
            let length = record[1..<9].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard record[0] == Opcode.dataEnd.rawValue, length == 4 else { continue }
            let stored = record[9..<13].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard stored != 0 else { return .notStored("the file stores no data section CRC (DataEnd at offset \(candidate) holds 0)") }
            let crc = try IndexedReader.checksum(source, 0..<candidate)
            if crc == stored { return .verified }
            return .failed("the data section fails its CRC (DataEnd at offset \(candidate): stored 0x\(String(stored, radix: 16)), computed 0x\(String(crc, radix: 16)))")
        }
        return .absent("the file has no DataEnd record, so no data section CRC")
    }
}

/// The first walk's findings.
private struct Survey {
    enum Where: Equatable {
        /// Inside a chunk whose CRC passed.
        case checkedChunk
        /// Outside chunks, or in a chunk that stores no CRC: only the data
        /// section CRC covers it.
        case dataSection
    }
    struct Found {
        var definition: Definitions.Definition
        var where_: Where
        var at: UInt64
        var describe: String { "\(where_ == .checkedChunk ? "the chunk" : "the record") at offset \(at)" }
    }
    /// What only the data section CRC covers.
    struct DataCovered {
        var messages: UInt64 = 0
        var schemas = 0
        var channels = 0
        var metadata = 0
        var attachments = 0
        /// Metadata and attachments (without a CRC of their own), named.
        var unprotected: [String] = []
        var count: Int { Int(messages) + schemas + channels + metadata + attachments }
        var isEmpty: Bool { count == 0 }
        var kinds: String {
            [(Int(messages), "Message"), (schemas, "Schema"), (channels, "Channel"), (metadata, "Metadata"), (attachments, "Attachment")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        }
        var summaryText: String { isEmpty ? "" : " (\(kinds))" }
    }

    var definitions: [Found] = []
    var dataCovered = DataCovered()
    var rejectedChunks: Set<UInt64> = []
    var damage: [String] = []
    var lostRecords: [String] = []
    var knownLost: UInt64 = 0
    var lostUnknown = false
    var dataEndAt: UInt64?
    /// A damaged chunk whose MessageIndex records may follow.
    var openBadChunk: (at: UInt64, error: String, count: UInt64, indexes: Int)?

    mutating func closeBadChunk() {
        guard let b = openBadChunk else { return }
        openBadChunk = nil
        if b.indexes > 0 {
            damage.append("\(b.error); its \(b.count) messages are lost (counted from the \(b.indexes) MessageIndex records after it)")
            knownLost += b.count
        } else {
            damage.append("\(b.error); its messages are lost (no MessageIndex records follow it to count them)")
            lostUnknown = true
        }
    }

    mutating func visit(_ find: RecoveryFind) throws {
        if case .record(_, let op, _) = find, op == Opcode.messageIndex.rawValue, openBadChunk != nil {
            if case .record(let at, let op, let content) = find, case .messageIndex(let x)? = try? RecordParser.parse(opcode: op, content: content, recordOffset: at) {
                openBadChunk!.count += UInt64(x.entries.count)
                openBadChunk!.indexes += 1
            }
            return
        }
        closeBadChunk()
        switch find {
        case .chunk(let at, let records, let hasCRC):
            var found: [Found] = []
            var messages: UInt64 = 0
            do {
                try ChunkRecords.walk(records, chunkOffset: at) { op, content, _ in
                    switch op {
                    case Opcode.message.rawValue:
                        _ = try ChunkRecords.message(content, chunkOffset: at)
                        messages += 1
                    case Opcode.schema.rawValue, Opcode.channel.rawValue:
                        switch try RecordParser.parse(opcode: op, content: content, recordOffset: at) {
                        case .schema(let s): found.append(Found(definition: .schema(s), where_: hasCRC ? .checkedChunk : .dataSection, at: at))
                        case .channel(let c): found.append(Found(definition: .channel(c), where_: hasCRC ? .checkedChunk : .dataSection, at: at))
                        default: break
                        }
                    default: break
                    }
                }
            } catch {
                rejectedChunks.insert(at)
                openBadChunk = (at, "Chunk at offset \(at) passes its CRC but a record inside is malformed (\(error))", 0, 0)
                return
            }
            definitions += found
            if !hasCRC {
                dataCovered.messages += messages
                dataCovered.schemas += found.filter { if case .schema = $0.definition { true } else { false } }.count
                dataCovered.channels += found.filter { if case .channel = $0.definition { true } else { false } }.count
            }
        case .badChunk(let at, _, let error):
            openBadChunk = (at, "\(error)", 0, 0)
        case .record(let at, let op, let content):
            let record: Record
            do { record = try RecordParser.parse(opcode: op, content: content, recordOffset: at) } catch {
                damage.append("\(Opcode.name(of: op)) record at offset \(at): \(error); it is dropped")
                lostUnknown = true
                if op == Opcode.metadata.rawValue || op == Opcode.attachment.rawValue {
                    lostRecords.append("\(Opcode.name(of: op)) at offset \(at): \(error)")
                }
                return
            }
            switch record {
            case .schema(let s):
                definitions.append(Found(definition: .schema(s), where_: .dataSection, at: at))
                dataCovered.schemas += 1
            case .channel(let c):
                definitions.append(Found(definition: .channel(c), where_: .dataSection, at: at))
                dataCovered.channels += 1
            case .message:
                dataCovered.messages += 1
            case .metadata(let m):
                dataCovered.metadata += 1
                dataCovered.unprotected.append("Metadata '\(m.name)' at offset \(at)")
            case .attachment(let a) where a.crc == 0:
                dataCovered.attachments += 1
                dataCovered.unprotected.append("Attachment '\(a.name)' at offset \(at)")
            default: break
            }
        case .unreadable(let from, let to, let reason):
            damage.append("offset \(from)..<\(to): \(reason); whatever those \(to - from) bytes held is lost")
            lostUnknown = true
        case .truncated(_, let reason):
            damage.append(reason + "; whatever was written after it is lost")
            lostUnknown = true
        case .dataEnd(let at):
            dataEndAt = at
        case .footerWithoutDataEnd(let at):
            damage.append("a Footer at offset \(at) with no DataEnd record before it")
            lostUnknown = true
        }
    }
}

/// The Schema and Channel records recovery trusts, one per id.
struct Definitions {
    enum Definition {
        case schema(Schema)
        case channel(Channel)
    }
    private var schemaByID: [UInt16: (schema: Schema, rank: Int, order: Int)] = [:]
    private var channelByID: [UInt16: (channel: Channel, rank: Int, order: Int, from: String)] = [:]
    private var order = 0
    private(set) var conflicts: [String] = []
    /// Whether a definition only the summary supplied was used.
    private(set) var usedSummaryOnly = false

    /// Offers a copy; a lower rank is more trusted (a checked chunk 0, a
    /// verified summary 1, the data section 2, a summary without CRC 3).
    /// Copies that disagree are reported, and the more trusted one is kept.
    mutating func offer(_ d: Definition, rank: Int, from: String, fromSummary: Bool) {
        order += 1
        switch d {
        case .schema(let s):
            if let have = schemaByID[s.id] {
                if have.schema != s { conflicts.append("two different Schema records with id \(s.id); the one from \(rank < have.rank ? from : "the more trusted copy") is kept") }
                if rank < have.rank { schemaByID[s.id] = (s, rank, have.order) }
            } else {
                schemaByID[s.id] = (s, rank, order)
                if fromSummary { usedSummaryOnly = true }
            }
        case .channel(let c):
            if let have = channelByID[c.id] {
                if !Self.same(have.channel, c) { conflicts.append("two different Channel records with id \(c.id) ('\(have.channel.topic)' from \(have.from), '\(c.topic)' from \(from)); the more trusted is kept") }
                if rank < have.rank { channelByID[c.id] = (c, rank, have.order, from) }
            } else {
                channelByID[c.id] = (c, rank, order, from)
                if fromSummary { usedSummaryOnly = true }
            }
        }
    }

    /// In the order each id was first met.
    var schemas: [Schema] { schemaByID.values.sorted { $0.order < $1.order }.map(\.schema) }
    var channels: [Channel] { channelByID.values.sorted { $0.order < $1.order }.map(\.channel) }

    static func same(_ a: Channel, _ b: Channel) -> Bool {
        a.id == b.id && a.schemaID == b.schemaID && a.topic == b.topic && a.messageEncoding == b.messageEncoding
            && a.metadata.elementsEqual(b.metadata, by: { $0.key == $1.key && $0.value == $1.value })
    }
}

