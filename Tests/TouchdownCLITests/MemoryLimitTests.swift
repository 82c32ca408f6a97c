import Foundation
import Testing
import TouchdownTestSupport

/// The audit's inputs (issue 13, item 11) through the command line, in a
/// process limited to 1 GiB of address space: each small file asked a
/// reader for several GiB and aborted it. Now each command either reads it
/// or stops at a documented limit with exit 2 and a message naming the
/// record, its offset, the size and the limit.
@Suite struct MemoryLimitTests {
    /// The files, written once for every test that reads them.
    enum Files {
        static let directory = Result { try TestPaths.scratch("memory-limits") }
        /// One message of 255 MiB in a 276 KB file.
        static let largeMessage = Result {
            let path = try directory.get().appendingPathComponent("large-message.mcap").path
            try HostileTraces.oneLargeMessage(path: path)
            return path
        }
        /// One message of 48 MiB (within the message limit) in 52 KB.
        static let printableMessage = Result {
            let path = try directory.get().appendingPathComponent("printable-message.mcap").path
            try HostileTraces.oneLargeMessage(path: path, messageSize_bytes: 48 << 20)
            return path
        }
        /// 2,000 chunks of 1 MiB each, all spanning the same second, in 563 KB.
        static let overlapping = Result {
            let path = try directory.get().appendingPathComponent("overlapping.mcap").path
            try HostileTraces.overlappingChunks(path: path)
            return path
        }
        /// 2,000 chunks of 1 MiB each, out of log-time order, that the summary does not index, in 312 KB.
        static let unindexed = Result {
            let path = try directory.get().appendingPathComponent("unindexed.mcap").path
            try HostileTraces.unindexedOutOfOrderChunks(path: path)
            return path
        }
    }

    /// `touchdown ARGUMENTS` in a shell limited to `addressSpace_KiB` of
    /// virtual memory, standard output thrown away.
    static func touchdownLimited(_ arguments: [String], addressSpace_KiB: Int = 1 << 20) throws -> ProcessResult {
        let quoted = ([touchdownExecutable] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
        return try run("/bin/sh", ["-c", "ulimit -v \(addressSpace_KiB) && exec \(quoted) >/dev/null"])
    }

    static func expectRefused(_ r: ProcessResult, setting: String, _ command: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "\(command): exit \(r.status): \(r.stderr.prefix(600))", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("ReadLimits.\(setting)") && r.stderr.contains("at offset"),
                "\(command): \(r.stderr.prefix(600))", sourceLocation: sourceLocation)
    }

    @Test(arguments: [["cat", "--json"], ["cat", "--count"], ["cat"], ["dump"], ["check"]])
    func aLargeMessageIsRefusedAtTheMessageLimit(command: [String]) throws {
        let path = try Files.largeMessage.get()
        let r = try Self.touchdownLimited(["trace"] + command + [path])
        Self.expectRefused(r, setting: "maxMessageSize_bytes", command.joined(separator: " "))
        #expect(r.stderr.contains("267386880 bytes, over the limit of 67108864 bytes"), "\(r.stderr.prefix(600))")
    }

    /// A message within the limit is printed, decoded and dumped in full
    /// under the same address-space limit: its text (2 bytes per byte as
    /// JSON numbers, 5 as dump's decimal strings) is written as it is
    /// made, and `--count` checks it without building a value per byte.
    @Test(arguments: [(["cat", "--json"], "0,0]}}\n", 2), (["cat"], "0,0]}\n", 2), (["cat", "--count"], "1\n", 0), (["dump"], "\n]}\n", 4)])
    func aLargeMessageWithinTheLimitIsPrintedWhole(command: [String], ending: String, textPerByte: Int) throws {
        let path = try Files.printableMessage.get()
        let quoted = ([touchdownExecutable, "trace"] + command + [path]).map { "'" + $0 + "'" }.joined(separator: " ")
        // Only touchdown is limited. The shell reports its exit status,
        // `wc` counts what it printed and `tail` keeps the end, so the
        // test holds none of it.
        let script = "{ (ulimit -v \(1 << 20) && exec \(quoted)); echo \"status $?\" >&2; } | tee >(wc -c >&2) | tail -c 200"
        let r = try run("/bin/bash", ["-c", script])
        #expect(r.stderr.contains("status 0"), "\(r.stderr.prefix(600))")
        #expect(r.stdout.hasSuffix(ending), "\(r.stdout)")
        let printed = r.stderr.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.first ?? 0
        #expect(printed >= textPerByte * (48 << 20), "\(printed) bytes printed")
    }

    @Test(arguments: [["cat", "--json"], ["cat", "--count"]])
    func overlappingChunksStopAtTheHeldLimit(command: [String]) throws {
        let r = try Self.touchdownLimited(["trace"] + command + [try Files.overlapping.get()])
        Self.expectRefused(r, setting: "maxHeldMessages_bytes", command.joined(separator: " "))
    }

    @Test(arguments: [["cat", "--json"], ["cat", "--count"]])
    func unindexedChunksOutOfOrderStopAtTheHeldLimit(command: [String]) throws {
        let r = try Self.touchdownLimited(["trace"] + command + [try Files.unindexed.get()])
        Self.expectRefused(r, setting: "maxHeldMessages_bytes", command.joined(separator: " "))
    }

    /// A chunk of 1.7 million empty messages (64 MiB of records, 29 MB on
    /// disk with its index) is checked in a process limited to 256 MiB of
    /// address space; keeping 136 bytes a message, the check aborted.
    @Test func aChunkOfManySmallMessagesIsCheckedInLittleMemory() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("small-messages.mcap").path
        try HostileTraces.manySmallMessages(path: path, messageCount: 1_700_000)
        let r = try run("/bin/sh", ["-c", "ulimit -v \(256 << 10) && exec '\(touchdownExecutable)' trace check '\(path)'"])
        #expect(r.status == 0, "\(r.stderr.prefix(400))")
        #expect(r.stdout.contains("1700000 messages in 1 chunks"))
    }
}
