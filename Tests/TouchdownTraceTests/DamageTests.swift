import Foundation
import Testing
import TouchdownTestSupport
@testable import TouchdownTrace

/// Bad input gets a typed error, never a crash, a hang or an allocation the
/// file does not justify.
@Suite struct DamageTests {
    /// Runs every reader and tool over `bytes`; returns how many threw.
    /// Any error that is not one of the typed errors fails the test.
    static func exerciseAll(_ bytes: [UInt8], dir: URL) -> Int {
        var failures = 0
        func typed(_ body: () throws -> Void) {
            do { try body() } catch is MCAPError { failures += 1 } catch is CDRError { failures += 1 } catch is TraceProblem { failures += 1 } catch is CDRPayloadError { failures += 1 } catch {
                Issue.record("untyped error: \(type(of: error)): \(error)")
            }
        }
        var limits = ReadLimits()
        limits.maxChunkSize_bytes = 64 << 20
        let source = MemorySource(bytes)
        typed {
            let stream = StreamReader(source: source, limits: limits)
            var n = 0
            while try stream.next() != nil {
                n += 1
                if n > 1_000_000 { Issue.record("stream reader did not stop"); return }
            }
        }
        typed {
            let indexed = try IndexedReader(source: source, limits: limits)
            try indexed.messages { m in
                if let c = indexed.channel(m.channelID), c.topic == "/imu" { _ = try ImuSample(cdr: m.data) }
            }
        }
        typed {
            // Without CRCs every damaged byte reaches the parsers.
            var loose = limits
            loose.validateCRCs = false
            let indexed = try IndexedReader(source: source, limits: loose)
            try indexed.forEachChunkIndex { _ in }
            try indexed.messages(topics: ["/altimeter"], start_ns: 100_000_000) { _ in }
            try indexed.messages { _ in }
        }
        let path = dir.appendingPathComponent("mutant.mcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        typed { _ = try TraceCheck.run(path: path) }
        typed { _ = try TraceRecovery.recover(input: path, output: dir.appendingPathComponent("recovered.mcap").path) }
        return failures
    }

    @Test func truncatedAtEveryByteOfTheTail() throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 4 << 10
        let path = try makeReferenceTrace(in: dir, duration_s: 0.5, options: options)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // Every length from 0 to the full file, in steps that visit every record boundary area.
        var cut = 0
        while cut < bytes.count {
            let failures = Self.exerciseAll(Array(bytes[..<cut]), dir: dir)
            #expect(failures > 0, "a file cut at \(cut) of \(bytes.count) bytes must be reported as damaged")
            cut += cut < 64 ? 1 : 37
        }
    }

    /// Seeded mutations of real traces: bit flips (anywhere, and in the
    /// summary), byte overwrites, length fields set huge, bytes removed. Each mutant goes through every reader,
    /// the checker and the recovery.
    @Test(arguments: [MCAPWriter.Compression.zstd(level: 3), .none])
    func seededMutations(_ compression: MCAPWriter.Compression) throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 4 << 10
        options.compression = compression
        let path = try makeReferenceTrace(in: dir, duration_s: 0.5, options: options)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Self.exerciseAll(original, dir: dir) == 0)
        // The summary is a small part of the file but every indexed query
        // reads it again; one mutant in five lands there.
        let summaryStart = Int(try IndexedReader(path: path).footer.summaryStart)
        var random = SeededRandom(seed: 2026)
        let mutants = Int(ProcessInfo.processInfo.environment["TOUCHDOWN_FUZZ_CASES"] ?? "") ?? 400
        var detected = 0
        for _ in 0..<mutants {
            var bytes = original
            switch random.next() % 5 {
            case 0:
                let i = Int(random.next() % UInt64(bytes.count))
                bytes[i] ^= UInt8(1 << (random.next() % 8))
            case 1:
                let i = Int(random.next() % UInt64(bytes.count))
                for k in 0..<min(8, bytes.count - i) { bytes[i + k] = 0xFF }
            case 2:
                // A length field (8 bytes after an opcode-looking byte) made absurd.
                let i = Int(random.next() % UInt64(bytes.count - 9))
                for k in 1...8 { bytes[i + k] = k == 8 ? 0x7F : 0xFF }
            case 3:
                let i = summaryStart + Int(random.next() % UInt64(bytes.count - summaryStart))
                bytes[i] ^= UInt8(1 << (random.next() % 8))
            default:
                let i = Int(random.next() % UInt64(bytes.count))
                let n = Int(random.next() % 64) + 1
                bytes.removeSubrange(i..<min(bytes.count, i + n))
            }
            if Self.exerciseAll(bytes, dir: dir) > 0 { detected += 1 }
        }
        // Nearly every mutation is caught by a CRC, a bound or a parse;
        // the few that are not hit bytes no check covers (e.g. padding).
        #expect(detected * 10 >= mutants * 9, "\(detected) of \(mutants) mutants detected")
    }

    @Test func decompressionBombIsRefusedBeforeAllocating() throws {
        // A chunk claiming 200 MiB uncompressed from a few bytes.
        var w = ByteWriter()
        w.raw(mcapMagic)
        let h = w.beginRecord(.header); w.string(""); w.string(""); w.endRecord(h)
        let c = w.beginRecord(.chunk)
        w.u64(0); w.u64(0); w.u64(200 << 20); w.u32(0); w.string("zstd")
        w.u64(16); w.raw([UInt8](repeating: 0, count: 16))
        w.endRecord(c)
        let stream = StreamReader(source: MemorySource(w.array))
        _ = try stream.next()
        #expect {
            _ = try stream.next()
        } throws: { e in
            guard case MCAPError.recordTooLarge(let record, _, let length, _) = e else { return false }
            return record.hasPrefix("Chunk") && length == 200 << 20
        }
    }

    /// MessageIndex records must follow their Chunk directly; a record
    /// between them is named, with where the MessageIndex is.
    @Test func aMessageIndexAwayFromItsChunkIsNamed() throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.compression = .none
        let path = try makeReferenceTrace(in: dir, duration_s: 0.2, options: options)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let stream = StreamReader(source: MemorySource(bytes))
        var firstIndexAt: UInt64?
        while let record = try stream.next() {
            if case .messageIndex = record {
                firstIndexAt = stream.recordOffset
                break
            }
        }
        let at = Int(try #require(firstIndexAt))
        // An empty record of an unknown opcode, which readers skip.
        bytes.insert(contentsOf: [0x90, 0, 0, 0, 0, 0, 0, 0, 0], at: at)
        let damaged = dir.appendingPathComponent("separated.mcap").path
        _ = FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
        #expect {
            _ = try TraceCheck.run(path: damaged)
        } throws: { e in
            guard let p = e as? TraceProblem else { return false }
            return p.record == "MessageIndex" && p.offset == UInt64(at + 9) && p.message.contains("separates it from its Chunk")
        }
    }

    @Test func wrongMagicAndTinyFiles() throws {
        for bytes: [UInt8] in [[], [0x89], Array("not an mcap file at all".utf8), [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0B] + [UInt8](repeating: 1, count: 40)] {
            #expect(throws: MCAPError.self) {
                let s = StreamReader(source: MemorySource(bytes))
                while try s.next() != nil {}
            }
            #expect(throws: MCAPError.self) { try IndexedReader(source: MemorySource(bytes)) }
        }
    }

    @Test func crcMismatchNamesTheRecordAndOffset() throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.compression = .none
        let path = try makeReferenceTrace(in: dir, duration_s: 0.2, options: options)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let info = try IndexedReader(path: path)
        let chunk = try info.allChunkIndexes()[0]
        // Flip a bit in the middle of the first chunk's records (a message payload).
        bytes[Int(chunk.chunkStartOffset + chunk.chunkLength) - 20] ^= 0x10
        let s = StreamReader(source: MemorySource(bytes))
        #expect {
            while try s.next() != nil {}
        } throws: { e in
            guard case MCAPError.crcMismatch(let record, let offset, _, _) = e else { return false }
            return record == "Chunk" && offset == chunk.chunkStartOffset
        }
        #expect(String(describing: MCAPError.crcMismatch(record: "Chunk", offset: 42, expected: 1, actual: 2)).contains("offset 42"))
    }

    /// A damaged chunk in the middle loses only its own messages; the
    /// recovery counts them from the message index that follows it.
    @Test func recoveryKeepsEveryIntactChunk() throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 4 << 10
        let path = try makeReferenceTrace(in: dir, duration_s: 1, options: options)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let index = try IndexedReader(path: path)
        let total = index.statistics!.messageCount
        let victim = try index.allChunkIndexes()[3]
        let victimCount = index.chunkIndexCount
        bytes[Int(victim.chunkStartOffset + victim.chunkLength) - 10] ^= 0x01
        let damaged = dir.appendingPathComponent("damaged.mcap")
        try Data(bytes).write(to: damaged)
        let out = dir.appendingPathComponent("out.mcap").path
        let report = try TraceRecovery.recover(input: damaged.path, output: out)
        // Count the victim's messages from the intact original.
        var inVictim: UInt64 = 0
        try index.messages(start_ns: victim.messageStartTime_ns, end_ns: victim.messageEndTime_ns) { _ in inVictim += 1 }
        #expect(victimCount > 4)
        #expect(report.lostMessages == inVictim)
        #expect(report.keptMessages == total - inVictim)
        #expect(!report.lostCountUnknown)
        #expect(try TraceCheck.run(path: out).messageCount == total - inVictim)
    }
}
