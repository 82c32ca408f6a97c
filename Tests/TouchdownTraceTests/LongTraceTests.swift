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
        // Compared as a Bool: a failing [UInt8] expectation diffs every byte.
        let spilledSame = spilled.bytes == held.bytes
        #expect(spilledSame)
        // The temporary file was unlinked as soon as it was made.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)

        // Nowhere to put the file: the records stay in memory, same bytes.
        options.temporaryDirectory = dir.appendingPathComponent("missing").path
        let kept = try record(options)
        #expect(kept.spilled_bytes == 0)
        let keptSame = kept.bytes == held.bytes
        #expect(keptSame)

        let reader = try IndexedReader(source: MemorySource(spilled.bytes))
        #expect(reader.chunkIndexCount > 150)
        #expect(reader.chunkIndexesInTimeOrder)
        #expect(reader.chunkIndexesInFileOrder)
        let path = dir.appendingPathComponent("spilled.mcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(spilled.bytes))
        #expect(try TraceCheck.run(path: path).chunkCount == reader.chunkIndexCount)
    }

    /// Rewrites the summary's ChunkIndex records (the group keeps its
    /// length) and mends the summary CRC.
    func rewriteChunkIndexes(_ bytes: [UInt8], _ transform: ([[UInt8]]) -> [[UInt8]]) throws -> [UInt8] {
        let reader = try IndexedReader(source: MemorySource(bytes))
        let group = try #require(reader.summaryOffsets.first { $0.groupOpcode == Opcode.chunkIndex.rawValue })
        var records: [[UInt8]] = []
        var at = Int(group.groupStart)
        let end = at + Int(group.groupLength)
        while at < end {
            let length = bytes[(at + 1)..<(at + 9)].withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            records.append(Array(bytes[at..<(at + 9 + length)]))
            at += 9 + length
        }
        let rewritten = Array(transform(records).joined())
        #expect(rewritten.count == end - Int(group.groupStart))
        var out = bytes
        out.replaceSubrange(Int(group.groupStart)..<end, with: rewritten)
        let footerAt = out.count - 8 - Int(IndexedReader.footerRecordSize)
        let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[Int(reader.footer.summaryStart)..<(footerAt + 25)])) }
        withUnsafeBytes(of: crc.littleEndian) { out.replaceSubrange((footerAt + 25)..<(footerAt + 29), with: $0) }
        return out
    }

    /// Reverses the order of the summary's ChunkIndex records, which MCAP allows.
    func reverseChunkIndexes(_ bytes: [UInt8]) throws -> [UInt8] {
        try rewriteChunkIndexes(bytes) { $0.reversed() }
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

    /// Two channels of numbered messages whose chunks' time ranges overlap.
    /// The first three chunks are placed by hand: the second starts at the
    /// first one's end, and the first (later in log time) lies earlier in
    /// the file, so a tie at 200 ns must come from the earlier chunk. The
    /// rest are seeded jitter, cut every 200 bytes.
    func overlappingChunks() throws -> [UInt8] {
        let sink = MemorySink()
        var options = MCAPWriter.Options()
        options.compression = .none
        options.chunkSize_bytes = 200
        options.chunkSpan_ns = .max
        let writer = try MCAPWriter(sink: sink, options: options)
        let a = try writer.addChannel(topic: "/a", messageEncoding: "raw", schemaID: 0)
        let b = try writer.addChannel(topic: "/b", messageEncoding: "raw", schemaID: 0)
        var number: UInt32 = 0
        func put(_ channel: UInt16, _ t_ns: UInt64) throws {
            try withUnsafeBytes(of: number.littleEndian) { try writer.write(channelID: channel, sequence: number, logTime_ns: t_ns, publishTime_ns: t_ns, payload: $0) }
            number += 1
        }
        for t in [UInt64(250), 200, 300] { try put(a, t) }
        try writer.flush()
        for t in [UInt64(100), 200, 200] { try put(b, t) }
        try writer.flush()
        for t in [UInt64(300), 400] { try put(a, t) }
        try writer.flush()
        var random = SeededRandom(seed: 77)
        for i in 0..<600 {
            try put(random.next() % 3 == 0 ? b : a, 1000 + UInt64(i) * 10 + random.next() % 200)
        }
        try writer.finish()
        return sink.bytes
    }

    /// Messages in log-time order, ties in file order: the file's messages,
    /// stably sorted.
    func bruteForce(_ bytes: [UInt8], channels: Set<UInt16>? = nil, lo: UInt64 = 0, hi: UInt64 = .max) throws -> [Seen] {
        var inFile: [Seen] = []
        let stream = StreamReader(source: MemorySource(bytes))
        while let record = try stream.next() {
            guard case .message(let m) = record, m.logTime_ns >= lo, m.logTime_ns <= hi, channels?.contains(m.channelID) ?? true else { continue }
            inFile.append(Seen(channelID: m.channelID, logTime_ns: m.logTime_ns, data: m.data))
        }
        return inFile.indices.sorted { (inFile[$0].logTime_ns, $0) < (inFile[$1].logTime_ns, $1) }.map { inFile[$0] }
    }

    @Test func overlappingChunksMergeInLogTimeThenFileOrder() throws {
        let original = try overlappingChunks()
        for bytes in [original, try reverseChunkIndexes(original)] {
            let reader = try IndexedReader(source: MemorySource(bytes))
            #expect(reader.chunkIndexCount > 20)
            let all = try query(reader)
            #expect(all.count == 608)
            let allInOrder = try all == bruteForce(bytes)
            #expect(allInOrder)
            let tie = all.filter { $0.logTime_ns == 200 }.map(\.channelID)
            #expect(tie == [1, 2, 2], "the tie at 200 ns keeps file order")
            let someInOrder = try query(reader, topics: ["/b"], start_ns: 200, end_ns: 3000)
                == bruteForce(bytes, channels: [2], lo: 200, hi: 3000)
            #expect(someInOrder)

            // The jittered chunks overlap one after another in a long chain,
            // which the merge walks holding a few chunks at a time.
            let chunks = try reader.allChunkIndexes().sorted { ($0.messageStartTime_ns, $0.chunkStartOffset) < ($1.messageStartTime_ns, $1.chunkStartOffset) }
            var longestChain = 1, chain = 1
            var chainEnd = chunks[0].messageEndTime_ns
            for c in chunks.dropFirst() {
                if c.messageStartTime_ns <= chainEnd { chain += 1 } else { chain = 1 }
                chainEnd = chain == 1 ? c.messageEndTime_ns : max(chainEnd, c.messageEndTime_ns)
                longestChain = max(longestChain, chain)
            }
            #expect(longestChain > 50)
            #expect(reader.peakChunksHeldInMerge >= 2 && reader.peakChunksHeldInMerge <= 8, "held \(reader.peakChunksHeldInMerge) chunks at once")
        }
    }

    /// ChunkIndex time ranges that lie (a start later than the chunk's
    /// first message) cannot be merged in order, but every message still
    /// comes out once and nothing traps.
    @Test func lyingChunkTimesLoseOrderButNoMessages() throws {
        let original = try overlappingChunks()
        let lying = try rewriteChunkIndexes(original) { records in
            records.enumerated().map { (i, r) in
                guard i % 3 == 1 else { return r }
                var r = r
                // message_start_time is the record's first field, after the opcode and length.
                let start = r[9..<17].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                withUnsafeBytes(of: (start + 150).littleEndian) { r.replaceSubrange(9..<17, with: $0) }
                return r
            }
        }
        let reader = try IndexedReader(source: MemorySource(lying))
        let all = try query(reader)
        let sameMessages = all.map(\.data).sorted { $0.lexicographicallyPrecedes($1) }
            == (try bruteForce(original)).map(\.data).sorted { $0.lexicographicallyPrecedes($1) }
        #expect(sameMessages)
    }

    /// Counts what the reader asks of its source.
    final class CountingSource: ByteSource {
        let inner: ByteSource
        private(set) var largestRead_bytes = 0
        init(_ inner: ByteSource) { self.inner = inner }
        var size: UInt64 { inner.size }
        var name: String { inner.name }
        func read(at offset: UInt64, count: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
            largestRead_bytes = max(largestRead_bytes, count)
            try inner.read(at: offset, count: count, into: buffer)
        }
    }

    /// A summary of 2.5 MB (30,000 one-message chunks) is never read in
    /// one piece: opening and querying read it a window at a time.
    @Test func theSummaryIsReadAWindowAtATime() throws {
        let sink = MemorySink()
        var options = MCAPWriter.Options()
        options.compression = .none
        options.chunkSpan_ns = 1
        let writer = try MCAPWriter(sink: sink, options: options)
        let channel = try writer.addChannel(topic: "/tick", messageEncoding: "raw", schemaID: 0)
        for i in 0..<30_000 {
            try withUnsafeBytes(of: UInt32(i)) { try writer.write(channelID: channel, sequence: UInt32(i), logTime_ns: UInt64(i), publishTime_ns: 0, payload: $0) }
        }
        try writer.finish()
        let source = CountingSource(MemorySource(sink.bytes))
        let reader = try IndexedReader(source: source)
        let summary_bytes = reader.footer.summaryOffsetStart - reader.footer.summaryStart
        #expect(summary_bytes > 2_000_000)
        #expect(reader.chunkIndexCount == 30_000)
        var count = 0
        try reader.messages { _ in count += 1 }
        try reader.messages(topics: ["/tick"], start_ns: 29_000) { _ in count += 1 }
        #expect(count == 31_000)
        #expect(source.largestRead_bytes <= 1 << 20, "largest read \(source.largestRead_bytes) bytes")
    }
}

@Suite struct SpillBufferTests {
    /// Bytes come back in order across many file blocks and the memory
    /// tail, and `release()` gives everything back.
    @Test func bytesComeBackInOrderBlockByBlock() throws {
        let dir = try TestPaths.scratch()
        let buffer = SpillBuffer(memoryLimit_bytes: 100, directory: dir.path, readBlock_bytes: 64)
        var expected: [UInt8] = []
        var random = SeededRandom(seed: 5)
        for _ in 0..<500 {
            let piece = (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            buffer.append { $0.raw(piece) }
            expected += piece
        }
        #expect(buffer.spilled_bytes > 5_000 && buffer.memory.count < 100 + 40)
        var got: [UInt8] = []
        var blocks = 0
        try buffer.forEachBlock { got += $0; blocks += 1 }
        #expect(got == expected)
        #expect(blocks > 50)
        buffer.release()
        #expect(buffer.spilled_bytes == 0 && buffer.memory.count == 0)
        #expect(buffer.movedToFile_bytes > 5_000)
    }
}
