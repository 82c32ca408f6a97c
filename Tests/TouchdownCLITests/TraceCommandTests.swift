import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// The `touchdown trace` commands, run as a user runs them.
@Suite struct TraceCommandTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args) }

    @Test func generateIsByteIdenticalAndInfoCountsIt() throws {
        let dir = try TestPaths.scratch()
        let a = dir.appendingPathComponent("a.mcap").path, b = dir.appendingPathComponent("b.mcap").path
        for p in [a, b] {
            let r = try touchdown("trace", "generate", "--profile", "reference-descent", "--duration-s", "3", "--seed", "4", "--out", p)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let same = try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b))
        #expect(same, "two runs of trace generate wrote different bytes")
        let info = try touchdown("trace", "info", a, "--json")
        #expect(info.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
        #expect(json["message_count"] as? Int == 1626)  // 3 s × 540 Hz + one of each of the 6 topics at t = 0
        let channels = json["channels"] as! [[String: Any]]
        #expect(channels.first { $0["topic"] as? String == "/imu" }?["message_count"] as? Int == 1201)
        #expect(channels.first { $0["topic"] as? String == "/imu" }?["schema_name"] as? String == "touchdown_msgs/msg/Imu")
        let count = try touchdown("trace", "cat", a, "--count")
        #expect(count.stdout == "1626\n")
        let filtered = try touchdown("trace", "cat", a, "--topic", "/altimeter", "--topic", "/truth", "--start-ns", "1000000000", "--end-ns", "1999999999", "--count")
        #expect(filtered.stdout == "70\n")  // 20 + 50 in one second, end exclusive of the next second
        let check = try touchdown("trace", "check", a)
        #expect(check.status == 0)
        #expect(check.stdout.hasPrefix("ok:"))
        let dump = try touchdown("trace", "dump", a)
        let records = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as! [String: Any]
        #expect((records["records"] as! [Any]).count > 1626)
    }

    @Test func badInputGetsAClearErrorAndNonZeroExit() throws {
        let dir = try TestPaths.scratch()
        let path = try makeReferenceTrace(in: dir, duration_s: 1)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let index = try IndexedReader(path: path)
        let chunk = try index.allChunkIndexes()[0]
        bytes[Int(chunk.chunkStartOffset + chunk.chunkLength) - 50] ^= 0x40
        let damaged = dir.appendingPathComponent("damaged.mcap").path
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let check = try touchdown("trace", "check", damaged)
        #expect(check.status != 0)
        #expect(check.stderr.contains("offset \(chunk.chunkStartOffset)"), "\(check.stderr)")
        let missing = try touchdown("trace", "info", dir.appendingPathComponent("nope.mcap").path)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("No such file"))
        let notMCAP = dir.appendingPathComponent("text.mcap").path
        try "hello".write(toFile: notMCAP, atomically: true, encoding: .utf8)
        let magic = try touchdown("trace", "cat", notMCAP)
        #expect(magic.status != 0)
        #expect(magic.stderr.contains("magic") || magic.stderr.contains("truncated"), "\(magic.stderr)")
        let profile = try touchdown("trace", "generate", "--profile", "moonwalk", "--duration-s", "1", "--out", dir.appendingPathComponent("x.mcap").path)
        #expect(profile.status != 0)
        #expect(profile.stderr.contains("reference-descent"))
    }

    @Test func recoverExitCodes() throws {
        let dir = try TestPaths.scratch()
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 8 << 10
        let path = try makeReferenceTrace(in: dir, duration_s: 1, options: options)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let index = try IndexedReader(path: path)
        let total = Int(index.statistics!.messageCount)

        // Cut inside the summary: every chunk intact, nothing lost.
        let noSummary = dir.appendingPathComponent("no-summary.mcap").path
        try Data(bytes[..<Int(index.footer.summaryStart + 20)]).write(to: URL(fileURLWithPath: noSummary))
        let r0 = try touchdown("trace", "recover", noSummary, dir.appendingPathComponent("r0.mcap").path)
        #expect(r0.status == 0, "\(r0.stdout) \(r0.stderr)")
        #expect(r0.stdout.contains("kept \(total) messages"))

        // Cut inside the last chunk: its messages are lost.
        let last = try index.allChunkIndexes().last!
        let cut = dir.appendingPathComponent("cut.mcap").path
        try Data(bytes[..<Int(last.chunkStartOffset + last.chunkLength / 2)]).write(to: URL(fileURLWithPath: cut))
        let out = dir.appendingPathComponent("r3.mcap").path
        let r3 = try touchdown("trace", "recover", cut, out)
        #expect(r3.status == 3, "\(r3.stdout) \(r3.stderr)")
        #expect(r3.stderr.contains("damage:"))
        #expect(try touchdown("trace", "check", out).status == 0)

        // Not an MCAP file at all.
        let junk = dir.appendingPathComponent("junk.mcap").path
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: junk))
        let r1 = try touchdown("trace", "recover", junk, dir.appendingPathComponent("r1.mcap").path)
        #expect(r1.status == 1)
        #expect(r1.stderr.contains("magic"))

        // Only the magic and the header record: nothing recovered is exit 1, not 0.
        let headerOnly = dir.appendingPathComponent("header-only.mcap").path
        let firstRecord = 8 + 9 + bytes[9..<17].reversed().reduce(0) { $0 << 8 | Int($1) }
        try Data(bytes[..<firstRecord]).write(to: URL(fileURLWithPath: headerOnly))
        let rh = try touchdown("trace", "recover", headerOnly, dir.appendingPathComponent("rh.mcap").path)
        #expect(rh.status == 1, "\(rh.stdout) \(rh.stderr)")
        #expect(rh.stdout.contains("kept 0 messages") && rh.stdout.contains("lost an unknown number"))

        // A cut exactly between two chunks: the later chunks are lost, with no
        // index left to count them. Exit 3, never "lost 0".
        let middle = try index.allChunkIndexes()[2]
        let between = dir.appendingPathComponent("between.mcap").path
        try Data(bytes[..<Int(middle.chunkStartOffset)]).write(to: URL(fileURLWithPath: between))
        let rb = try touchdown("trace", "recover", between, dir.appendingPathComponent("rb.mcap").path)
        #expect(rb.status == 3, "\(rb.stdout) \(rb.stderr)")
        #expect(!rb.stdout.contains("lost 0"))
        #expect(rb.stderr.contains("the file ends at offset \(middle.chunkStartOffset) before its DataEnd record"), "\(rb.stderr)")

        // A file that stores no data section CRC: nothing lost, but the
        // records outside chunks cannot be verified. Exit 4, and said.
        var noCRC = bytes
        let dataEnd = Int(index.footer.summaryStart) - 13
        #expect(noCRC[dataEnd] == 0x0F)
        for i in (dataEnd + 9)..<(dataEnd + 13) { noCRC[i] = 0 }
        let unverifiable = dir.appendingPathComponent("no-data-crc.mcap").path
        try Data(noCRC).write(to: URL(fileURLWithPath: unverifiable))
        let r4 = try touchdown("trace", "recover", unverifiable, dir.appendingPathComponent("r4.mcap").path)
        #expect(r4.status == 4, "\(r4.stdout) \(r4.stderr)")
        #expect(r4.stdout.contains("kept \(total) messages") && r4.stdout.contains("lost 0 messages"))
        #expect(r4.stderr.contains("not verified:") && r4.stderr.contains("stores no data section CRC"), "\(r4.stderr)")
    }
}
