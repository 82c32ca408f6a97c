import Foundation
import Testing
import TouchdownTestSupport
@testable import TouchdownTrace

/// `TraceCheck` compares each chunk with the MessageIndex records after it,
/// keeping 16 bytes per message of the chunk and one record at a time
/// (the memory this takes: `MemoryLimitTests.aChunkOfManySmallMessagesIsCheckedInLittleMemory`).
@Suite struct TraceCheckTests {
    /// What a damaged MessageIndex entry does, and what the check must say.
    enum IndexDamage: String, CaseIterable, CustomTestStringConvertible {
        /// The first entry's offset moved into the middle of a record.
        case offsetInsideARecord
        /// The first entry's log time off by one.
        case wrongLogTime
        /// The second entry names the first entry's message.
        case listedTwice

        var testDescription: String { rawValue }

        var expected: String {
            switch self {
            case .offsetInsideARecord: "the chunk has no message there"
            case .wrongLogTime: "the chunk has channel"
            case .listedTwice: "is listed twice"
            }
        }
    }

    @Test(arguments: IndexDamage.allCases)
    func aDamagedMessageIndexEntryIsNamed(_ damage: IndexDamage) throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.compression = .none
        let path = try makeReferenceTrace(in: dir, duration_s: 0.2, options: options)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let stream = StreamReader(source: MemorySource(bytes))
        var found: (at: Int, chunkAt: UInt64)?
        var chunkAt: UInt64 = 0
        while let record = try stream.next() {
            if case .chunk = record { chunkAt = stream.recordOffset }
            if case .messageIndex(let x) = record, x.entries.count >= 2 {
                found = (Int(stream.recordOffset), chunkAt)
                break
            }
        }
        let (at, chunkOffset) = try #require(found)
        // opcode, length, channel_id, records length, then (log_time, offset) pairs.
        let first = at + 9 + 2 + 4
        func put(_ v: UInt64, at i: Int) { for k in 0..<8 { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) } }
        func get(at i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) } }
        switch damage {
        case .offsetInsideARecord: put(get(at: first + 8) + 1, at: first + 8)
        case .wrongLogTime: put(get(at: first) &+ 1, at: first)
        case .listedTwice:
            put(get(at: first), at: first + 16)
            put(get(at: first + 8), at: first + 24)
        }
        let damaged = dir.appendingPathComponent("damaged.mcap").path
        _ = FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
        #expect {
            _ = try TraceCheck.run(path: damaged)
        } throws: { e in
            guard let p = e as? TraceProblem else { return false }
            return p.record == "MessageIndex after Chunk" && p.offset == chunkOffset && p.message.contains(damage.expected)
        }
    }
}
