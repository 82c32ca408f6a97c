import Foundation
import PropertyBased
import Testing
import TouchdownTestSupport
@testable import TouchdownTrace

/// `trace recover` tells the truth: what it keeps is what was written, what
/// it says was lost is at least what was, and it exits 0 only when nothing was.
@Suite struct RecoveryTests {
    /// A message as a reader sees it, for comparing a recovery with its original.
    struct MessageKey: Hashable {
        var topic: String
        var sequence: UInt32
        var logTime_ns: UInt64
        var publishTime_ns: UInt64
        var data: [UInt8]
    }

    /// Everything a trace holds that a recovery could alter.
    struct Contents {
        var messages: [MessageKey: Int] = [:]
        var count = 0
        /// Each Metadata record, as "name: key=value, …".
        var metadata: [String] = []
        var attachments: [TouchdownTrace.Attachment] = []

        init(path: String) throws {
            let reader = try IndexedReader(path: path)
            try reader.messages { m in
                let key = MessageKey(topic: reader.channel(m.channelID)?.topic ?? "?", sequence: m.sequence, logTime_ns: m.logTime_ns,
                                     publishTime_ns: m.publishTime_ns, data: [UInt8](m.data))
                messages[key, default: 0] += 1
                count += 1
            }
            let stream = try StreamReader(path: path)
            while let record = try stream.next() {
                switch record {
                case .metadata(let m): metadata.append(m.name + ": " + m.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
                case .attachment(let a): attachments.append(a)
                case .dataEnd: return
                default: break
                }
            }
        }
    }

    /// Recovers `bytes` and checks the three promises against `original`.
    /// Returns the report, or nil when recovery refused the file outright.
    @discardableResult
    static func checkPromises(_ bytes: [UInt8], original: Contents, dir: URL, _ what: String, keepUnverified: Bool = false) throws -> RecoveryReport? {
        let input = dir.appendingPathComponent("damaged.mcap")
        let output = dir.appendingPathComponent("recovered.mcap")
        try Data(bytes).write(to: input)
        try? FileManager.default.removeItem(at: output)
        let report: RecoveryReport
        do { report = try TraceRecovery.recover(input: input.path, output: output.path, keepUnverified: keepUnverified) } catch is MCAPError {
            return nil   // nothing recovered: the command exits 1
        }
        let got = try Contents(path: output.path)
        // 1. Nothing kept differs from what was written (unless asked to keep the unverifiable).
        if keepUnverified { return report }
        var remaining = original.messages
        var foreign = 0
        for (key, n) in got.messages {
            let have = remaining[key] ?? 0
            foreign += max(0, n - have)
            remaining[key] = max(0, have - n)
        }
        #expect(foreign == 0, "\(what): \(foreign) recovered messages differ from every original one")
        for m in got.metadata { #expect(original.metadata.contains(m), "\(what): recovered metadata not in the original: \(m)") }
        for a in got.attachments { #expect(original.attachments.contains(a), "\(what): recovered attachment '\(a.name)' differs from the original") }
        #expect(report.keptMessages == UInt64(got.count), "\(what): report says kept \(report.keptMessages), the file holds \(got.count)")
        // 2. What was lost is reported, never less than it was; 3. never as nothing.
        let lost = original.count - got.count
        if lost > 0 {
            #expect(report.lostAnything, "\(what): \(lost) messages lost, the report says nothing was (exit 0)")
            #expect(report.lostCountUnknown || report.lostMessages >= UInt64(lost),
                    "\(what): \(lost) messages lost, the report says \(report.lostMessages)")
        }
        if got.metadata.count < original.metadata.count || got.attachments.count < original.attachments.count {
            #expect(report.lostAnything, "\(what): a Metadata or Attachment record was lost, the report says nothing was")
        }
        return report
    }

    /// A small trace in the shape simulated ones have: definitions and
    /// metadata outside chunks, many chunks, a summary, every CRC.
    static func smallTrace(_ dir: URL) throws -> (path: String, bytes: [UInt8]) {
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 4 << 10
        let path = try makeReferenceTrace(in: dir, duration_s: 0.5, options: options)
        return (path, try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
    }

    static let nominalPath = TestPaths.repository.appendingPathComponent("traces/nominal.mcap").path

    /// Offsets where a single flip hits structure rather than compressed
    /// data: the first and last 20 bytes of every top-level record, and all
    /// of the summary.
    static func structuralOffsets(_ bytes: [UInt8], summaryStart: Int) -> [Int] {
        var offsets: [Int] = []
        var p = 8
        while p + 9 <= summaryStart {
            let length = bytes[(p + 1)..<(p + 9)].reversed().reduce(0) { $0 << 8 | Int($1) }
            let end = p + 9 + length
            offsets += Array(p..<min(p + 20, end)) + Array(min(end, max(p + 20, end - 20))..<end)
            p = end
        }
        return offsets + Array(summaryStart..<bytes.count)
    }

    // MARK: - The audit's cases

    /// A file cut cleanly between two chunks lost every later chunk: the
    /// count is unknown, never "lost 0", and the report says where the file ends.
    @Test func aCutBetweenChunksIsALossOfUnknownSize() throws {
        let dir = try TestPaths.scratch()
        let original = try Contents(path: Self.nominalPath)
        let index = try IndexedReader(path: Self.nominalPath)
        let chunks = try index.allChunkIndexes()
        let cut = Int(chunks[chunks.count / 2].chunkStartOffset)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.nominalPath)))
        let report = try #require(try Self.checkPromises(Array(bytes[..<cut]), original: original, dir: dir, "cut at \(cut)"))
        #expect(report.lostCountUnknown)
        #expect(report.damage.contains { $0.contains("the file ends at offset \(cut) before its DataEnd record") }, "\(report.damage)")
        #expect(report.keptMessages > 0 && report.keptMessages < UInt64(original.count))
    }

    /// A cut inside the MessageIndex records after a chunk: the chunk is
    /// kept, and the loss is still reported.
    @Test func aCutInsideAMessageIndexIsALoss() throws {
        let dir = try TestPaths.scratch()
        let original = try Contents(path: Self.nominalPath)
        let index = try IndexedReader(path: Self.nominalPath)
        let chunk = try index.allChunkIndexes()[3]
        let cut = Int(chunk.chunkStartOffset + chunk.chunkLength) + 20
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.nominalPath)))
        let report = try #require(try Self.checkPromises(Array(bytes[..<cut]), original: original, dir: dir, "cut at \(cut)"))
        #expect(report.lostCountUnknown && report.lostAnything)
        #expect(report.damage.contains { $0.contains("MessageIndex record at offset \(chunk.chunkStartOffset + chunk.chunkLength)") }, "\(report.damage)")
    }

    /// The seed in the run's metadata is covered only by the data section
    /// CRC: with one bit flipped there the record is dropped and named,
    /// never rewritten with a fresh CRC as if intact.
    @Test func metadataFailingTheDataSectionCRCIsDroppedNotBlessed() throws {
        let dir = try TestPaths.scratch()
        let original = try Contents(path: Self.nominalPath)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.nominalPath)))
        // The key "seed" (a u32 length, then its bytes) and its value's length, 1.
        let seed = try #require(Self.find([4, 0, 0, 0] + Array("seed".utf8) + [1, 0, 0, 0], in: bytes))
        let value = seed + 4 + 4 + 4
        #expect(bytes[value] == UInt8(ascii: "1"))
        bytes[value] ^= 0x02       // "1" becomes "3"
        let report = try #require(try Self.checkPromises(bytes, original: original, dir: dir, "seed flip"))
        #expect(report.lostRecords.contains { $0.contains("Metadata 'touchdown.simulation'") }, "\(report.lostRecords)")
        #expect(report.damage.contains { $0.contains("the data section fails its CRC") })
        #expect(report.lostMessages == 0 && !report.lostCountUnknown)
        let recovered = try Contents(path: dir.appendingPathComponent("recovered.mcap").path)
        #expect(!recovered.metadata.contains { $0.contains("seed=3") })
    }

    /// Schema and Channel records outside chunks fail with the data
    /// section CRC; the summary's verified copies replace them, so no
    /// message is lost and none is decoded with a damaged schema.
    @Test func definitionsComeFromTheSummaryWhenTheirFirstCopyIsDamaged() throws {
        let dir = try TestPaths.scratch()
        let original = try Contents(path: Self.nominalPath)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.nominalPath)))
        let text = try #require(Self.find(Array("float64".utf8), in: bytes))
        bytes[text] ^= 0x01
        let report = try #require(try Self.checkPromises(bytes, original: original, dir: dir, "schema flip"))
        #expect(report.keptMessages == UInt64(original.count))
        #expect(report.lostMessages == 0 && !report.lostCountUnknown)
        let recovered = try IndexedReader(path: dir.appendingPathComponent("recovered.mcap").path)
        let originalSchemas = try IndexedReader(path: Self.nominalPath).schemas
        #expect(recovered.schemas.map(\.data) == originalSchemas.map(\.data))
    }

    /// A Statistics record that fails the summary CRC is not believed: no
    /// invented losses when every message is there.
    @Test func damagedStatisticsInventNoLoss() throws {
        let dir = try TestPaths.scratch()
        let original = try Contents(path: Self.nominalPath)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.nominalPath)))
        let index = try IndexedReader(path: Self.nominalPath)
        var p = Int(index.footer.summaryStart)
        while bytes[p] != Opcode.statistics.rawValue {
            p += 9 + bytes[(p + 1)..<(p + 9)].reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        bytes[p + 9] ^= 0x10   // the low byte of message_count's second byte
        let report = try #require(try Self.checkPromises(bytes, original: original, dir: dir, "statistics flip"))
        #expect(report.keptMessages == UInt64(original.count))
        #expect(!report.lostAnything, "\(report.damage) \(report.lostRecords)")
        #expect(report.damage.contains { $0.contains("summary") && $0.contains("CRC") })
    }

    /// A damaged chunk whose MessageIndex records survive is counted from
    /// them when no summary checks the total. The data section CRC fails
    /// with the chunk, so the definitions outside chunks are dropped unless
    /// asked for, and the count is a floor either way.
    @Test func aDamagedChunkIsCountedFromItsMessageIndexes() throws {
        let dir = try TestPaths.scratch()
        let (path, clean) = try Self.smallTrace(dir)
        let original = try Contents(path: path)
        let index = try IndexedReader(path: path)
        let victim = try index.allChunkIndexes()[2]
        var inVictim: UInt64 = 0
        try index.messages(start_ns: victim.messageStartTime_ns, end_ns: victim.messageEndTime_ns) { _ in inVictim += 1 }
        var bytes = Array(clean[..<Int(index.footer.summaryStart)])   // no summary
        bytes[Int(victim.chunkStartOffset + victim.chunkLength) - 10] ^= 0x01
        let dropped = try #require(try Self.checkPromises(bytes, original: original, dir: dir, "chunk flip"))
        #expect(dropped.keptMessages == 0 && dropped.lostCountUnknown)
        #expect(dropped.damage.contains { $0.contains("--keep-unverified") })
        let report = try #require(try Self.checkPromises(bytes, original: original, dir: dir, "chunk flip", keepUnverified: true))
        #expect(report.lostMessages == inVictim && report.lostCountUnknown)
        #expect(report.keptMessages == UInt64(original.count) - inVictim)
        #expect(!report.unverified.isEmpty)
        #expect(report.damage.contains { $0.contains("offset \(victim.chunkStartOffset)") && $0.contains("its \(inVictim) messages are lost") },
                "\(report.damage)")
    }

    /// Truncations at every offset near the records' boundaries of a small
    /// trace, exhaustively.
    @Test func everyCutOfASmallTraceKeepsThePromises() throws {
        let dir = try TestPaths.scratch()
        let (path, bytes) = try Self.smallTrace(dir)
        let original = try Contents(path: path)
        var cut = 0
        while cut <= bytes.count {
            try Self.checkPromises(Array(bytes[..<cut]), original: original, dir: dir, "cut at \(cut) of \(bytes.count)")
            cut += cut < 600 ? 1 : 97
        }
    }

    // MARK: - Properties: any truncation or single-bit flip

    @Test func anyTruncationOfASmallTrace() async throws {
        let dir = try TestPaths.scratch()
        let (path, bytes) = try Self.smallTrace(dir)
        let original = try Contents(path: path)
        await propertyCheck(count: 150, input: Gen.int(in: 0...bytes.count)) { cut in
            #expect(throws: Never.self) { try Self.checkPromises(Array(bytes[..<cut]), original: original, dir: dir, "cut at \(cut)") }
        }
    }

    @Test func anyBitFlipOfASmallTrace() async throws {
        let dir = try TestPaths.scratch()
        let (path, bytes) = try Self.smallTrace(dir)
        let original = try Contents(path: path)
        let index = try IndexedReader(path: path)
        let structural = Self.structuralOffsets(bytes, summaryStart: Int(index.footer.summaryStart))
        // Anywhere, and again where the file's structure is.
        let offsets = Gen.int(in: 0...(bytes.count + structural.count - 1)).map { $0 < bytes.count ? $0 : structural[$0 - bytes.count] }
        await propertyCheck(count: 300, input: offsets, Gen.int(in: 0...7)) { offset, bit in
            var mutant = bytes
            mutant[offset] ^= UInt8(1) << bit
            #expect(throws: Never.self) { try Self.checkPromises(mutant, original: original, dir: dir, "bit \(bit) of byte \(offset) flipped") }
        }
    }

    /// The project's own flight trace (90,241 messages, metadata, an
    /// attachment): fewer cases, each a full recovery.
    @Test func anyTruncationOrBitFlipOfTheNominalTrace() async throws {
        let dir = try TestPaths.scratch()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.nominalPath)))
        let original = try Contents(path: Self.nominalPath)
        let index = try IndexedReader(path: Self.nominalPath)
        let structural = Self.structuralOffsets(bytes, summaryStart: Int(index.footer.summaryStart))
        await propertyCheck(count: 6, input: Gen.int(in: 0...bytes.count)) { cut in
            #expect(throws: Never.self) { try Self.checkPromises(Array(bytes[..<cut]), original: original, dir: dir, "cut at \(cut)") }
        }
        await propertyCheck(count: 10, input: Gen.int(in: 0...(structural.count - 1)).map { structural[$0] }, Gen.int(in: 0...7)) { offset, bit in
            var mutant = bytes
            mutant[offset] ^= UInt8(1) << bit
            #expect(throws: Never.self) { try Self.checkPromises(mutant, original: original, dir: dir, "bit \(bit) of byte \(offset) flipped") }
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
