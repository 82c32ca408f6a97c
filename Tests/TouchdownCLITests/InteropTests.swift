import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// Traces cross over with the Python reference packages (`mcap`,
/// `mcap-ros2-support`) in both directions. `scripts/test` exports
/// TOUCHDOWN_PYTHON; without it these tests fail, they do not skip.
@Suite(.serialized) struct InteropTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args) }

    static func python() throws -> String {
        guard let p = referencePython else {
            throw InteropSetupError("TOUCHDOWN_PYTHON is not set: run the suite through scripts/test, which builds the .venv with the reference tools")
        }
        return p
    }

    struct InteropSetupError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Each line canonicalised (keys sorted, numbers parsed), so the two sides' float spelling does not matter.
    static func canonicalLines(_ text: String) throws -> [String] {
        try text.split(separator: "\n").map { try canonicalJSON(String($0)) }
    }

    @Test func filesFromThePythonWriterReadTheSame() throws {
        let dir = try TestPaths.scratch()
        let script = TestPaths.repository.appendingPathComponent("Tests/Interop/write_reference.py").path
        let made = try run(try Self.python(), [script, dir.path])
        #expect(made.status == 0, "\(made.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let files = manifest["files"] as! [[String: Any]]
        #expect(files.count == 5)
        for entry in files {
            let file = dir.appendingPathComponent(entry["file"] as! String).path
            let expected = try String(contentsOf: dir.appendingPathComponent(entry["expected"] as! String), encoding: .utf8)
            let reader = try TraceReader(path: file)
            var lines: [String] = []
            var got: [(UInt64, String)] = []
            try reader.forEachMessage { d, m in
                got.append((m.logTime_ns, "{\"topic\": \(jsonString(d.channel.topic)), \"log_time_ns\": \(m.logTime_ns), \"sequence\": \(m.sequence), \"message\": \(try d.json(m.data))}"))
            }
            // Files without a summary are read in file order; the reference lists
            // log-time order. Through a summary (unchunked files too) the reader
            // gives log-time order itself.
            if reader.indexed == nil {
                got = got.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            }
            lines = got.map(\.1)
            let mine = try Self.canonicalLines(lines.joined(separator: "\n"))
            let theirs = try Self.canonicalLines(expected)
            #expect(mine.count == (entry["message_count"] as! Int), "\(entry["name"]!)")
            #expect(mine == theirs, "\(entry["name"]!): first difference at line \(zip(mine, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
            // The streamed reader and the checker accept them too.
            let check = try TraceCheck.run(path: file)
            #expect(check.messageCount == UInt64(mine.count))
        }
    }

    /// The audit's Python-written cases for `trace recover`. In a zstd file
    /// the reference writer puts the Schema and Channel records inside the
    /// first chunk: with that chunk damaged, the summary's copies keep every
    /// other chunk (it kept 0 of 391). In an unchunked file the data section
    /// CRC is all that covers the messages: a flip there drops them rather
    /// than passing altered messages on with exit 0 (or, with
    /// --keep-unverified, keeps them with exit 4).
    @Test func recoveryOfPythonWrittenFiles() throws {
        let dir = try TestPaths.scratch()
        let script = TestPaths.repository.appendingPathComponent("Tests/Interop/write_reference.py").path
        let made = try run(try Self.python(), [script, dir.path])
        #expect(made.status == 0, "\(made.stderr)")

        var zstd = try [UInt8](Data(contentsOf: dir.appendingPathComponent("chunked-zstd.mcap")))
        let firstChunk = 8 + 9 + zstd[9..<17].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(zstd[firstChunk] == 0x06, "the reference writer's first record after the header is a Chunk")
        let chunkLength = zstd[(firstChunk + 1)..<(firstChunk + 9)].reversed().reduce(0) { $0 << 8 | Int($1) }
        zstd[firstChunk + 9 + chunkLength - 20] ^= 0x01
        let damaged = dir.appendingPathComponent("damaged-zstd.mcap").path
        try Data(zstd).write(to: URL(fileURLWithPath: damaged))
        let out = dir.appendingPathComponent("recovered-zstd.mcap").path
        let r = try touchdown("trace", "recover", damaged, out)
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        let reader = try IndexedReader(path: out)
        let kept = reader.statistics!.messageCount
        #expect(kept > 300 && kept < 391, "kept \(kept) of 391")
        #expect(r.stdout.contains("lost \(391 - kept) messages, counted from the summary's Statistics"), "\(r.stdout)")
        #expect(reader.channels.count == 3)

        var unchunked = try [UInt8](Data(contentsOf: dir.appendingPathComponent("unchunked.mcap")))
        unchunked[unchunked.count / 3] ^= 0x04
        let flipped = dir.appendingPathComponent("flipped-unchunked.mcap").path
        try Data(unchunked).write(to: URL(fileURLWithPath: flipped))
        let u = try touchdown("trace", "recover", flipped, dir.appendingPathComponent("recovered-unchunked.mcap").path)
        #expect(u.status == 1, "\(u.stdout) \(u.stderr)")
        #expect(u.stderr.contains("the data section fails its CRC") && u.stderr.contains("--keep-unverified"), "\(u.stderr)")
        let kept2 = try touchdown("trace", "recover", "--keep-unverified", flipped, dir.appendingPathComponent("kept-unchunked.mcap").path)
        // Kept as asked: every message is there (the verified summary counts
        // them), one of them perhaps altered, so exit 4, not 0.
        #expect(kept2.status == 4, "\(kept2.stdout) \(kept2.stderr)")
        #expect(kept2.stderr.contains("not verified:"), "\(kept2.stderr)")
        #expect(kept2.stdout.contains("kept 391 messages") && kept2.stdout.contains("lost 0 messages"), "\(kept2.stdout)")
    }

    @Test func tracesWeWriteReadTheSameInPython() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("ours.mcap").path
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 16 << 10
        let recorder = try TraceRecorder(path: path, options: options)
        try recorder.writer.addAttachment(Attachment(logTime_ns: 0, createTime_ns: 0, name: "scenario.yaml", mediaType: "application/yaml", data: Array("name: interop\n".utf8)))
        let events = try recorder.topic("/events", EventSample.self)
        try recorder.record(EventSample(stamp_ns: 0, kind: "phase", detail: "braking — \"quoted\"\ttab"), on: events, logTime_ns: 0)
        try ReferenceDescent(duration_s: 2, seed: 5).record(to: recorder)

        let script = TestPaths.repository.appendingPathComponent("Tests/Interop/read_trace.py").path
        let python = try run(try Self.python(), [script, path])
        #expect(python.status == 0, "\(python.stderr)")
        let ours = try run(touchdownExecutable, ["trace", "cat", path, "--json"])
        #expect(ours.status == 0, "\(ours.stderr)")
        let a = try Self.canonicalLines(python.stdout), b = try Self.canonicalLines(ours.stdout)
        #expect(a.count == 1 + ReferenceDescent.schedule.reduce(0) { $0 + Int(2_000_000_000 / $1.period_ns) + 1 })
        #expect(a == b)

        let summary = try run(try Self.python(), [script, path, "--summary"])
        #expect(summary.status == 0, "\(summary.stderr)")
        let s = try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as! [String: Any]
        let info = try TraceInfo(path: path)
        #expect(s["message_count"] as? Int == Int(info.messageCount))
        #expect(s["chunk_count"] as? Int == info.chunkCount)
        let channels = (s["channels"] as! [[String: Any]]).map { "\($0["topic"]!) \($0["schema_name"]!) \($0["message_count"]!)" }.sorted()
        #expect(channels == info.channels.map { "\($0.topic) \($0.schemaName) \($0.messageCount)" }.sorted())
    }
}
