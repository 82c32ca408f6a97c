import Foundation
import Testing
import TouchdownTestSupport

@Suite(.serialized) struct CampaignCommandTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args) }

    static let trace = TestPaths.repository.appendingPathComponent("traces/nominal.mcap").path

    /// A two-run campaign in a scratch folder.
    static func file(_ dir: URL, assert: String = "touchdown.vertical_speed_mps <= 2", extra: String = "") throws -> String {
        let path = dir.appendingPathComponent("c.yaml").path
        try """
            name: small
            seed: 3
            source: {traces: [\(trace)]}
            matrix:
              altimeter.latency: [none, 1s]
            assert: ["\(assert)"]
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func listAndBadFiles() throws {
        let dir = try TestPaths.scratch()
        let path = try Self.file(dir)
        let list = try touchdown("campaign", path, "--list")
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.split(separator: "\n").count == 2)
        #expect(list.stdout.contains("altimeter.latency=1s"))
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "name: x\nsource: {traces: [\(Self.trace)]}\nmatrix:\n  altimeter.latency: [2 fortnights]\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try touchdown("campaign", bad)
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(bad):4:"), "\(r.stderr)")
        let unknown = try touchdown("campaign", path, "--only", "000000000000")
        #expect(unknown.status == 2 && unknown.stderr.contains("--list"))
    }

    /// The same results, byte for byte, whatever the job count; `--only`
    /// reruns one run to the same line; an existing results file is never
    /// overwritten; `--resume` after a torn line finishes it to the same bytes.
    @Test func resultsDoNotDependOnJobsOrInterruption() throws {
        let dir = try TestPaths.scratch()
        let path = try Self.file(dir)
        let one = dir.appendingPathComponent("one.jsonl").path
        let two = dir.appendingPathComponent("two.jsonl").path
        let r1 = try touchdown("campaign", path, "--jobs", "1", "--results", one)
        #expect(r1.status == 0, "\(r1.stdout) \(r1.stderr)")
        #expect(r1.stdout.contains("2 runs, 2 passed"))
        let r2 = try touchdown("campaign", path, "--jobs", "2", "--results", two)
        #expect(r2.status == 0, "\(r2.stdout) \(r2.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: one)), b = try Data(contentsOf: URL(fileURLWithPath: two))
        #expect(a == b, "--jobs 1 and --jobs 2 wrote different results")
        let lines = String(decoding: a, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)

        let again = try touchdown("campaign", path, "--results", one)
        #expect(again.status == 2 && again.stderr.contains("--resume"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: one)) == a)

        let id = String(lines[1].split(separator: "\"id\":\"")[1].prefix(12))
        let only = dir.appendingPathComponent("only.jsonl").path
        let o = try touchdown("campaign", path, "--only", id, "--results", only)
        #expect(o.status == 0)
        #expect(try String(contentsOfFile: only, encoding: .utf8) == String(lines[1]) + "\n")

        // As if killed while writing the second line.
        let torn = dir.appendingPathComponent("torn.jsonl").path
        try Data(a.prefix(lines[0].utf8.count + 1 + 40)).write(to: URL(fileURLWithPath: torn))
        let resumed = try touchdown("campaign", path, "--results", torn, "--resume")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("incomplete") && resumed.stderr.contains("1 runs already done"), "\(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: torn)) == a)
    }

    /// A failing run fails the campaign (exit 1) and the summary gives its
    /// rerun command; a run past its time limit is an error, never a pass,
    /// and its worker is replaced for the next run.
    @Test func failuresAndTimeouts() throws {
        let dir = try TestPaths.scratch()
        let failing = try Self.file(dir, assert: "touchdown.vertical_speed_mps <= 0.001")
        let f = try touchdown("campaign", failing)
        #expect(f.status == 1)
        #expect(f.stdout.contains("2 runs, 0 passed, 2 failed"), "\(f.stdout)")
        #expect(f.stdout.contains("touchdown campaign \(failing) --only "))

        let slow = try Self.file(dir, extra: "limits: {run_timeout: 0.2 s}")
        let t = try touchdown("campaign", slow, "--jobs", "1")
        #expect(t.status == 1)
        #expect(t.stdout.contains("2 could not run"), "\(t.stdout)")
        #expect(t.stdout.components(separatedBy: "run timeout of 0.2 s").count == 3, "\(t.stdout)")
    }
}
