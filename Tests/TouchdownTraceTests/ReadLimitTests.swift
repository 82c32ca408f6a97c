import Foundation
import Testing
import TouchdownTestSupport
@testable import TouchdownTrace

/// The limits on what a reader holds (issue 13, item 11), checked with
/// limits scaled down to small files: past each, a typed error that names
/// the record, its offset, the size and the limit; within it, every message.
@Suite struct ReadLimitTests {
    /// Every message of a trace through the indexed reader, or the error.
    func readAll(_ path: String, _ limits: ReadLimits) -> Result<Int, Error> {
        Result {
            var n = 0
            try IndexedReader(path: path, limits: limits).messages { _ in n += 1 }
            return n
        }
    }

    /// Every record of a trace through the streamed reader, or the error.
    func streamAll(_ path: String, _ limits: ReadLimits) -> Result<Int, Error> {
        Result {
            let reader = try StreamReader(path: path, limits: limits)
            var n = 0
            while let record = try reader.next() { if case .message = record { n += 1 } }
            return n
        }
    }

    func expectOverLimit(_ result: Result<Int, Error>, setting: String, size: UInt64? = nil, limit: UInt64,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .failure(let error) = result, case MCAPError.overReadLimit(_, _, let found, let named, let name) = error else {
            Issue.record("expected overReadLimit, got \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(name == setting && named == limit, sourceLocation: sourceLocation)
        if let size { #expect(found == size, sourceLocation: sourceLocation) }
        #expect((error as! MCAPError).isReadLimit, sourceLocation: sourceLocation)
        #expect("\(error)".contains("ReadLimits.\(setting)"), sourceLocation: sourceLocation)
    }

    /// A message one byte over `maxMessageSize_bytes` is refused by both
    /// readers, naming its chunk's offset and its place in the chunk; one
    /// at the limit is read.
    @Test func aMessageOverItsLimitIsRefusedByBothReaders() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("large.mcap").path
        try HostileTraces.oneLargeMessage(path: path, messageSize_bytes: 3 << 20)
        let data = UInt64(3 << 20)
        var limits = ReadLimits()
        limits.maxMessageSize_bytes = data - 1
        expectOverLimit(readAll(path, limits), setting: "maxMessageSize_bytes", size: data, limit: data - 1)
        expectOverLimit(streamAll(path, limits), setting: "maxMessageSize_bytes", size: data, limit: data - 1)
        limits.maxMessageSize_bytes = data
        #expect(try readAll(path, limits).get() == 1)
        #expect(try streamAll(path, limits).get() == 1)
    }

    /// Chunks whose time ranges all overlap are merged while what the
    /// merge holds stays within `maxHeldMessages_bytes`, and refused past it.
    @Test func aMergeOfOverlappingChunksStopsAtTheHeldLimit() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("overlap.mcap").path
        try HostileTraces.overlappingChunks(path: path, chunkCount: 12)
        var limits = ReadLimits()
        limits.maxHeldMessages_bytes = 8 << 20
        expectOverLimit(readAll(path, limits), setting: "maxHeldMessages_bytes", limit: 8 << 20)
        limits.maxHeldMessages_bytes = 16 << 20
        #expect(try readAll(path, limits).get() == 24)
    }

    /// Messages of chunks the summary does not index, out of log-time
    /// order, are held to sort them up to `maxHeldMessages_bytes`.
    @Test func unindexedChunksOutOfOrderStopAtTheHeldLimit() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("unindexed.mcap").path
        try HostileTraces.unindexedOutOfOrderChunks(path: path, chunkCount: 12)
        var limits = ReadLimits()
        limits.maxHeldMessages_bytes = 8 << 20
        expectOverLimit(readAll(path, limits), setting: "maxHeldMessages_bytes", limit: 8 << 20)
        limits.maxHeldMessages_bytes = 16 << 20
        #expect(try readAll(path, limits).get() == 12)
    }
}
