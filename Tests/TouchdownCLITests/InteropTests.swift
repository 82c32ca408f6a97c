import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// Traces cross over with the Python reference packages (`mcap`,
/// `mcap-ros2-support`) in both directions. `scripts/test` exports
/// TOUCHDOWN_PYTHON; without it these tests fail, they do not skip.
@Suite(.serialized) struct InteropTests {
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
