/// What the front-to-back walk of a damaged file meets, in file order.
///
/// The walk is the same on every pass over the same bytes, so the recovery
/// can survey the file first and then write from a second walk that meets
/// exactly the same things.
enum RecoveryFind {
    /// A Chunk that decompressed, and whose records pass its CRC when it
    /// stores one (`hasCRC`) and lie whole inside it.
    case chunk(at: UInt64, records: UnsafeRawBufferPointer, hasCRC: Bool)
    /// A Chunk whose length is believable but whose contents are not.
    case badChunk(at: UInt64, end: UInt64, error: MCAPError)
    /// A top-level record other than a Chunk, unparsed.
    case record(at: UInt64, opcode: UInt8, content: UnsafeRawBufferPointer)
    /// Bytes `from ..< to` that hold no record the walk could read; it
    /// picks up again at `to` (or stops, when `to` is the end of the file).
    case unreadable(from: UInt64, to: UInt64, reason: String)
    /// The file ends at `at`, inside a record or before its DataEnd.
    case truncated(at: UInt64, reason: String)
    /// The DataEnd record: the end of the data section.
    case dataEnd(at: UInt64)
    /// A Footer met before any DataEnd.
    case footerWithoutDataEnd(at: UInt64)
}

/// Walks the data section of a file that may be damaged anywhere.
///
/// A record whose opcode is known and whose length fits the file is taken
/// at its word; a Chunk is decompressed and checked on the spot. Anything
/// else starts a search, byte by byte, for the next place a record can be
/// trusted to start: a Chunk that decompresses and passes its CRC, or an
/// offset the summary's indexes name whose record header is believable.
struct RecoveryScan {
    let source: ByteSource
    let limits: ReadLimits
    /// Record offsets the summary's indexes name, sorted: where a search may
    /// stop without a CRC to prove it.
    let indexedStarts: [UInt64]

    func walk(_ visit: (RecoveryFind) throws -> Void) throws {
        var window = ReadWindow(source: source)
        var decoder = ChunkDecoder(limits: limits)
        let size = source.size
        var position: UInt64 = 8
        while true {
            guard position < size else {
                try visit(.truncated(at: position, reason: "the file ends at offset \(position) before its DataEnd record"))
                return
            }
            guard size - position >= 9 else {
                try visit(.truncated(at: position, reason: "the file ends \(size - position) bytes into a record header at offset \(position)"))
                return
            }
            let (op, length) = try window.recordHeader(at: position)
            let known = Opcode(rawValue: op) != nil
            let fits = length <= size - position - 9
            if known && fits && length <= limits.maxRecordSize_bytes {
                let at = position
                let end = at + 9 + length
                if op == Opcode.dataEnd.rawValue {
                    try visit(.dataEnd(at: at))
                    return
                }
                if op == Opcode.footer.rawValue {
                    try visit(.footerWithoutDataEnd(at: at))
                    return
                }
                if op == Opcode.chunk.rawValue {
                    let outcome: Result<Void, MCAPError> = try window.with(at: at, count: 9 + Int(length)) { b in
                        let content = UnsafeRawBufferPointer(rebasing: b[9...])
                        do {
                            let (header, range) = try RecordParser.chunk(content, recordOffset: at)
                            guard range.upperBound == content.count else {
                                throw MCAPError.malformedRecord(record: "Chunk", offset: at, field: "records",
                                                                reason: "compressed_size \(range.count) leaves \(content.count - range.upperBound) bytes of the record unexplained")
                            }
                            try decoder.withRecords(header: header, payload: UnsafeRawBufferPointer(rebasing: content[range]), chunkOffset: at) { records in
                                // The whole chunk is checked before anything in it is used.
                                try ChunkRecords.walk(records, chunkOffset: at) { _, _, _ in }
                                try visit(.chunk(at: at, records: records, hasCRC: header.uncompressedCRC != 0))
                            }
                            return .success(())
                        } catch let e as MCAPError {
                            if case .io = e { throw e }
                            return .failure(e)
                        }
                    }
                    decoder.shrink()
                    if case .failure(let e) = outcome { try visit(.badChunk(at: at, end: end, error: e)) }
                } else {
                    try window.with(at: at + 9, count: Int(length)) { try visit(.record(at: at, opcode: op, content: $0)) }
                }
                position = end
                continue
            }
            let what = !known ? "an unknown opcode 0x\(String(op, radix: 16))"
                : !fits ? "a \(Opcode.name(of: op)) record header declaring \(length) bytes with \(size - position - 9) left in the file"
                : "a \(Opcode.name(of: op)) record header declaring \(length) bytes, over the \(limits.maxRecordSize_bytes)-byte limit"
            if let next = try resync(window: &window, decoder: &decoder, from: position + 1) {
                try visit(.unreadable(from: position, to: next, reason: "\(what) at offset \(position)"))
                position = next
                continue
            }
            if known && !fits {
                try visit(.truncated(at: position, reason: "the file ends inside the \(Opcode.name(of: op)) record at offset \(position) (it declares \(length) bytes, \(size - position - 9) are left)"))
            } else {
                try visit(.unreadable(from: position, to: size, reason: "\(what) at offset \(position), and no readable record after it"))
            }
            return
        }
    }

    /// The next offset at or after `from` where a record can be trusted to
    /// start, or nil.
    private func resync(window: inout ReadWindow, decoder: inout ChunkDecoder, from: UInt64) throws -> UInt64? {
        let size = source.size
        var p = from
        var nextIndexed = indexedStarts.partitioningIndex { $0 >= from }
        while p + 9 <= size {
            if nextIndexed < indexedStarts.count && indexedStarts[nextIndexed] == p {
                nextIndexed += 1
                let (op, length) = try window.recordHeader(at: p)
                if Opcode(rawValue: op) != nil && length <= size - p - 9 && length <= limits.maxRecordSize_bytes { return p }
            }
            if try isIntactChunk(at: p, window: &window, decoder: &decoder) { return p }
            p += 1
        }
        return nil
    }

    /// Whether a Chunk record starts at `p` that decompresses and passes its
    /// (non-zero) CRC: evidence strong enough to resume the walk there.
    private func isIntactChunk(at p: UInt64, window: inout ReadWindow, decoder: inout ChunkDecoder) throws -> Bool {
        let size = source.size
        let (op, length) = try window.recordHeader(at: p)
        guard op == Opcode.chunk.rawValue, length >= 8 * 3 + 4 + 4 + 8, length <= size - p - 9,
              length <= limits.maxRecordSize_bytes else { return false }
        let ok: Bool = (try? window.with(at: p, count: 9 + Int(length)) { b in
            let content = UnsafeRawBufferPointer(rebasing: b[9...])
            let (header, range) = try RecordParser.chunk(content, recordOffset: p)
            guard header.uncompressedCRC != 0, range.upperBound == content.count else { return false }
            try decoder.withRecords(header: header, payload: UnsafeRawBufferPointer(rebasing: content[range]), chunkOffset: p) { records in
                try ChunkRecords.walk(records, chunkOffset: p) { _, _, _ in }
            }
            return true
        }) ?? false
        return ok
    }
}

/// What the summary at the end of a file says, and whether its CRC vouches
/// for it.
struct RecoverySummary {
    enum Trust: Equatable {
        /// Its CRC matches.
        case verified
        /// It parses, but the footer stores no summary CRC (0).
        case notStored
    }
    var trust: Trust
    var summaryStart: UInt64
    var schemas: [Schema] = []
    var channels: [Channel] = []
    var statistics: Statistics?
    var chunkStarts: [UInt64] = []
    var messageIndexStarts: [UInt64] = []
    var metadata: [MetadataIndex] = []
    var attachments: [AttachmentIndex] = []
    /// Where the DataEnd record must sit if the footer is right.
    var dataEndOffset: UInt64?

    /// Record offsets an index names, sorted and unique.
    var indexedStarts: [UInt64] {
        var all = chunkStarts + messageIndexStarts + metadata.map(\.offset) + attachments.map(\.offset)
        if let dataEndOffset { all.append(dataEndOffset) }
        return Array(Set(all)).sorted()
    }

    /// What the end of a file offers: the summary when it can be used (or
    /// why not), and where the footer puts the DataEnd record.
    struct Found {
        var summary: RecoverySummary?
        var problem: String?
        var dataEndOffset: UInt64?
    }

    /// Reads the footer and summary. The summary is nil, with the reason,
    /// when there is none to use (no footer, a summary that fails its CRC or
    /// does not parse).
    static func read(source: ByteSource, limits: ReadLimits) -> Found {
        let size = source.size
        let footerSize = IndexedReader.footerRecordSize
        guard size >= 8 + 8 + footerSize else { return Found() }
        var found = Found()
        do {
            var tail = [UInt8](repeating: 0, count: Int(footerSize) + 8)
            try tail.withUnsafeMutableBytes { try source.read(at: size - UInt64($0.count), count: $0.count, into: $0) }
            guard Array(tail[Int(footerSize)...]) == mcapMagic, tail[0] == Opcode.footer.rawValue else {
                found.problem = "no Footer and closing magic at the end of the file"
                return found
            }
            let footerOffset = size - 8 - footerSize
            let footer: Footer = try tail.withUnsafeBytes { b in
                guard case .footer(let f) = try RecordParser.parse(opcode: b[0], content: UnsafeRawBufferPointer(rebasing: b[9..<Int(footerSize)]), recordOffset: footerOffset) else {
                    throw MCAPError.invalidIndex(record: "Footer", offset: footerOffset, reason: "does not parse as a Footer")
                }
                return f
            }
            let dataEndSize: UInt64 = 1 + 8 + 4
            let dataEndGuess = (footer.summaryStart != 0 ? footer.summaryStart : footerOffset)
            found.dataEndOffset = dataEndGuess >= 8 + dataEndSize && dataEndGuess <= footerOffset ? dataEndGuess - dataEndSize : nil
            guard footer.summaryStart != 0 else { return found }
            guard footer.summaryStart >= 8, footer.summaryStart <= footerOffset else {
                found.problem = "the Footer's summary_start \(footer.summaryStart) lies outside the file (8…\(footerOffset))"
                return found
            }
            let span = footer.summaryStart..<footerOffset
            var trust = Trust.notStored
            if footer.summaryCRC != 0 {
                var crc = try IndexedReader.checksum(source, span)
                crc = tail.withUnsafeBytes { CRC32.update(crc, UnsafeRawBufferPointer(rebasing: $0[..<25])) }
                guard crc == footer.summaryCRC else {
                    found.problem = "the summary at offset \(footer.summaryStart) fails its CRC (stored 0x\(String(footer.summaryCRC, radix: 16)), computed 0x\(String(crc, radix: 16))); it is not used"
                    return found
                }
                trust = .verified
            }
            var summary = RecoverySummary(trust: trust, summaryStart: footer.summaryStart)
            summary.dataEndOffset = found.dataEndOffset
            var records = SummaryRecords(source: source, span: span, limits: limits)
            while let (_, _, record) = try records.next() {
                switch record {
                case .schema(let s): summary.schemas.append(s)
                case .channel(let c): summary.channels.append(c)
                case .statistics(let s): summary.statistics = s
                case .chunkIndex(let c):
                    summary.chunkStarts.append(c.chunkStartOffset)
                    summary.messageIndexStarts.append(contentsOf: c.messageIndexOffsets.map(\.offset))
                case .metadataIndex(let m): summary.metadata.append(m)
                case .attachmentIndex(let a): summary.attachments.append(a)
                default: break
                }
            }
            found.summary = summary
            return found
        } catch {
            found.problem = "the summary is unreadable (\(error)); it is not used"
            return found
        }
    }
}

extension Array where Element == UInt64 {
    /// The first index whose element satisfies `belongs` (the array is
    /// partitioned: false then true).
    func partitioningIndex(where belongs: (UInt64) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
