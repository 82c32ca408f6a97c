import Foundation
import Testing
import TouchdownTestSupport
@testable import TouchdownTrace

/// What keeps memory flat however long a trace is: the writer moves its
/// ChunkIndex records to a temporary file, and the indexed reader and
/// `trace check` read them from the file instead of holding them.
@Suite struct LongTraceTests {
    /// Records 2 s of the reference descent in 10 ms chunks (about 200) into memory.
    func record(_ options: MCAPWriter.Options) throws -> (bytes: [UInt8], spilled_bytes: UInt64) {
        let sink = MemorySink()
        let writer = try MCAPWriter(sink: sink, options: options)
        try ReferenceDescent(duration_s: 2, seed: 3).record(to: TraceRecorder(writer: writer))
        return (sink.bytes, writer.spilledChunkIndex_bytes)
    }

    func smallChunks() -> MCAPWriter.Options {
        var options = MCAPWriter.Options()
        options.chunkSpan_ns = 10_000_000
        return options
    }

    @Test func chunkIndexesMovedToATemporaryFileGiveTheSameBytes() throws {
        let dir = try TestPaths.scratch()
        let held = try record(smallChunks())
        #expect(held.spilled_bytes == 0)

        var options = smallChunks()
        options.chunkIndexMemory_bytes = 300  // a file write every two or three chunks
        options.temporaryDirectory = dir.path
        let spilled = try record(options)
        #expect(spilled.spilled_bytes > 10_000)
        #expect(spilled.bytes == held.bytes)
        // The temporary file was unlinked as soon as it was made.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)

        // Nowhere to put the file: the records stay in memory, same bytes.
        options.temporaryDirectory = dir.appendingPathComponent("missing").path
        let kept = try record(options)
        #expect(kept.spilled_bytes == 0)
        #expect(kept.bytes == held.bytes)

        let reader = try IndexedReader(source: MemorySource(spilled.bytes))
        #expect(reader.chunkIndexCount > 150)
        #expect(reader.chunkIndexesInTimeOrder)
        #expect(reader.chunkIndexesInFileOrder)
        let path = dir.appendingPathComponent("spilled.mcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(spilled.bytes))
        #expect(try TraceCheck.run(path: path).chunkCount == reader.chunkIndexCount)
    }

    /// Reverses the order of the summary's ChunkIndex records (which MCAP
    /// allows) and mends the summary CRC.
    func reverseChunkIndexes(_ bytes: [UInt8]) throws -> [UInt8] {
        let reader = try IndexedReader(source: MemorySource(bytes))
        let group = try #require(reader.summaryOffsets.first { $0.groupOpcode == Opcode.chunkIndex.rawValue })
        var records: [ArraySlice<UInt8>] = []
        var at = Int(group.groupStart)
        let end = at + Int(group.groupLength)
        while at < end {
            let length = bytes[(at + 1)..<(at + 9)].withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            records.append(bytes[at..<(at + 9 + length)])
            at += 9 + length
        }
        var out = bytes
        out.replaceSubrange(Int(group.groupStart)..<end, with: records.reversed().joined())
        let footerAt = out.count - 8 - Int(IndexedReader.footerRecordSize)
        let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[Int(reader.footer.summaryStart)..<(footerAt + 25)])) }
        withUnsafeBytes(of: crc.littleEndian) { out.replaceSubrange((footerAt + 25)..<(footerAt + 29), with: $0) }
        return out
    }

    struct Seen: Equatable {
        var channelID: UInt16
        var logTime_ns: UInt64
        var data: [UInt8]
    }

    func query(_ reader: IndexedReader, topics: [String]? = nil, start_ns: UInt64? = nil, end_ns: UInt64? = nil) throws -> [Seen] {
        var seen: [Seen] = []
        try reader.messages(topics: topics, start_ns: start_ns, end_ns: end_ns) { seen.append(Seen(channelID: $0.channelID, logTime_ns: $0.logTime_ns, data: Array($0.data))) }
        return seen
    }

    @Test func chunkIndexesInAnyOrderGiveTheSameAnswers() throws {
        let dir = try TestPaths.scratch()
        let original = try record(smallChunks()).bytes
        let reversed = try reverseChunkIndexes(original)
        #expect(reversed != original)
        let a = try IndexedReader(source: MemorySource(original))
        let b = try IndexedReader(source: MemorySource(reversed))
        #expect(!b.chunkIndexesInTimeOrder && !b.chunkIndexesInFileOrder)
        #expect(try b.allChunkIndexes() == a.allChunkIndexes().reversed())

        let all = try query(a)
        #expect(all.count > 1000)
        let same = try query(b) == all
        #expect(same)
        let sameTopic = try query(b, topics: ["/altimeter"], start_ns: 500_000_000, end_ns: 1_500_000_000)
            == query(a, topics: ["/altimeter"], start_ns: 500_000_000, end_ns: 1_500_000_000)
        #expect(sameTopic)

        // `trace check` walks the chunks beside their indexes either way.
        let path = dir.appendingPathComponent("reversed.mcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(reversed))
        #expect(try TraceCheck.run(path: path).messageCount == UInt64(all.count))
    }

    @Test func aCallbackMayQueryTheSameReader() throws {
        let reader = try IndexedReader(source: MemorySource(try record(smallChunks()).bytes))
        let altimeter = try query(reader, topics: ["/altimeter"])
        var outer = 0
        var inner = 0
        try reader.messages(topics: ["/altimeter"]) { m in
            outer += 1
            // Each altimeter sample finds itself again through a nested query.
            try reader.messages(topics: ["/altimeter"], start_ns: m.logTime_ns, end_ns: m.logTime_ns) { _ in inner += 1 }
        }
        #expect(outer == altimeter.count)
        #expect(inner == altimeter.count)
    }
}
