import Foundation
import Testing
import TouchdownTestSupport

/// `touchdown report` and `merge` on results files that were damaged,
/// edited or crafted: refused with exit 2, or reported without vouching for
/// what they cannot show (an outside audit's findings, one test each).
@Suite(.serialized) struct ReportInputTests {
    func touchdown(_ args: [String]) throws -> ProcessResult { try run(touchdownExecutable, args) }

    /// A small real campaign (open loop, 4 runs; the three with faults fail
    /// the assertion) and its results lines as JSON objects.
    // Read-only after it is made; the JSON objects are copied before any edit.
    nonisolated(unsafe) static let campaign = Result { () throws -> (dir: URL, file: String, lines: [[String: Any]]) in
        let dir = try TestPaths.scratch("report-inputs")
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        let file = dir.appendingPathComponent("c.yaml").path
        try """
        name: inputs
        seed: 5
        source: {traces: [\(nominal)]}
        guidance: {name: reference, settings: {profile: hardened}}
        mode: open-loop
        matrix:
          altimeter.latency: [none, 1s]
          imu.drop: [none, "5%"]
        expect: any
        assert: ["faults.altered_messages <= 0"]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let results = dir.appendingPathComponent("r.jsonl").path
        _ = try run(touchdownExecutable, ["campaign", file, "--jobs", "2", "--results", results])
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        return (dir, file, lines)
    }

    func write(_ lines: [[String: Any]], _ name: String) throws -> String {
        let (dir, _, _) = try Self.campaign.get()
        let path = dir.appendingPathComponent(name).path
        let text = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) + "\n" }.joined()
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aTotalOutOfRangeIsRefusedNotAllocated() throws {
        let (dir, _, lines) = try Self.campaign.get()
        try #require(lines.count == 4)
        for total in [-1, 0, 1_000_000_000_000_000] {
            var edited = lines
            for i in edited.indices { edited[i]["total"] = total }
            let path = try write(edited, "total\(total).jsonl")
            for command in [["report", path, "--out", dir.appendingPathComponent("t.html").path], ["merge", path]] {
                let r = try touchdown(command)
                #expect(r.status == 2 && r.stderr.contains("total \(total) runs; accepted: 1 to 100000000"), "\(command[0]) \(total): \(r.status) \(r.stderr)")
            }
        }
    }

    @Test func aPassThatItsResultContradictsIsRefused() throws {
        let (dir, _, lines) = try Self.campaign.get()
        guard let failing = lines.firstIndex(where: { $0["verdict"] as? String == "fail" }) else {
            Issue.record("the campaign has no failing run to edit"); return
        }
        var edited = lines
        edited[failing]["verdict"] = "pass"
        let path = try write(edited, "lie.jsonl")
        let r = try touchdown(["report", path, "--out", dir.appendingPathComponent("lie.html").path])
        #expect(r.status == 2 && r.stderr.contains("lie.jsonl:\(failing + 1): run ") && r.stderr.contains("verdict pass, but its result did not pass"), "\(r.stderr)")
        #expect(try touchdown(["merge", path]).status == 2)
        // Nor does a campaign resume from it.
        let (_, file, _) = try Self.campaign.get()
        let resumed = try touchdown(["campaign", file, "--results", path, "--resume"])
        #expect(resumed.status == 2 && resumed.stderr.contains("resuming: ") && resumed.stderr.contains("verdict pass, but its result did not pass"), "\(resumed.stderr)")
    }

    /// A failed run edited whole into a pass (verdict, assertion verdicts)
    /// was accepted: its assertions are checked again against its metrics.
    @Test func aPassItsMetricsContradictIsRefused() throws {
        let (dir, _, lines) = try Self.campaign.get()
        guard let failing = lines.firstIndex(where: { $0["verdict"] as? String == "fail" }) else {
            Issue.record("the campaign has no failing run to edit"); return
        }
        var edited = lines
        edited[failing]["verdict"] = "pass"
        var result = edited[failing]["result"] as! [String: Any]
        result["assertions"] = (result["assertions"] as! [[String: Any]]).map { a in var a = a; a["passed"] = true; return a }
        edited[failing]["result"] = result
        let path = try write(edited, "forged.jsonl")
        let r = try touchdown(["merge", path])
        #expect(r.status == 2 && r.stderr.contains("is marked passed, but 'faults.altered_messages <= 0' on its metrics fails"), "\(r.stderr)")
        #expect(try touchdown(["report", path, "--out", dir.appendingPathComponent("forged.html").path]).status == 2)
    }

    /// A passing line copied to a missing run's position filled the gap.
    @Test func aRunAtTwoPositionsIsRefused() throws {
        let (_, _, lines) = try Self.campaign.get()
        var moved = lines[3]
        var run = moved["run"] as! [String: Any]
        run["index"] = 2
        moved["run"] = run
        let path = try write([lines[0], lines[1], moved, lines[3]], "moved.jsonl")
        let r = try touchdown(["merge", path])
        #expect(r.status == 2 && r.stderr.contains("a run has one position"), "\(r.stderr)")
    }

    @Test func contradictedRunsCountForNeitherSideWhateverTheOrder() throws {
        let (dir, _, lines) = try Self.campaign.get()
        guard let passing = lines.firstIndex(where: { $0["verdict"] as? String == "pass" }) else {
            Issue.record("the campaign has no passing run"); return
        }
        var other = lines[passing]
        var result = other["result"] as! [String: Any]
        result["digest"] = String(repeating: "0", count: 64)
        other["result"] = result
        let a = try write(lines, "a.jsonl"), b = try write([other], "b.jsonl")
        let ab = dir.appendingPathComponent("ab.html").path, ba = dir.appendingPathComponent("ba.html").path
        let r1 = try touchdown(["report", a, b, "--out", ab, "--plots", "0"]), r2 = try touchdown(["report", b, a, "--out", ba, "--plots", "0"])
        #expect(r1.status == 1 && r2.status == 1)
        let page = try String(contentsOfFile: ab, encoding: .utf8)
        #expect(page == (try String(contentsOfFile: ba, encoding: .utf8)), "the same page for either order")
        #expect(page.contains("CONTRADICTED: \(lines[passing]["id"] as! String) (held differently by"))
        #expect(page.contains("runs</span><span>3 of 4</span>"), "the contradicted run is not counted")
    }

    @Test func runsAreFlownAgainOnlyFromTheCampaignFile() throws {
        let (dir, file, lines) = try Self.campaign.get()
        guard let failing = lines.firstIndex(where: { $0["verdict"] as? String == "fail" }) else {
            Issue.record("the campaign has no failing run"); return
        }
        // A results line whose plan runs a command: the report must not run it.
        let marker = dir.appendingPathComponent("ran").path
        var edited = lines
        var run = edited[failing]["run"] as! [String: Any]
        var plan = run["plan"] as! [String: Any]
        plan["guidance"] = ["command": ["line": "touch \(marker); exit 1", "settings": [] as [Any]]]
        run["plan"] = plan
        edited[failing]["run"] = run
        let path = try write(edited, "cmd.jsonl")
        let out = dir.appendingPathComponent("cmd.html").path
        let r = try touchdown(["report", path, "--out", out, "--plots", "1", "--campaign", file])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the report ran a command written in a results file")
        let page = try String(contentsOfFile: out, encoding: .utf8)
        #expect(page.contains("svg class=\"chart\" data-kind=\"line\""), "the run is flown from the campaign file's plan and plotted")

        // Without the campaign file, nothing is flown and the page says why.
        let moved = dir.appendingPathComponent("none.html").path
        let n = try touchdown(["report", path, "--out", moved, "--plots", "1", "--campaign", dir.appendingPathComponent("gone.yaml").path])
        #expect(n.status == 1)
        #expect(try String(contentsOfFile: moved, encoding: .utf8).contains("Not plotted: the campaign file"))
    }

    @Test func aRunThatDoesNotReproduceIsNamedAtTheTopAndFailsTheReport() throws {
        let (dir, file, lines) = try Self.campaign.get()
        var edited = lines
        // Every run edited, so whichever is worst is flown again and caught.
        for i in edited.indices {
            var result = edited[i]["result"] as! [String: Any]
            result["digest"] = String(repeating: "a", count: 64)
            edited[i]["result"] = result
        }
        let path = try write(edited, "digest.jsonl")
        let out = dir.appendingPathComponent("digest.html").path
        let r = try touchdown(["report", path, "--out", out, "--plots", "1", "--campaign", file])
        #expect(r.status == 1 && r.stderr.contains("NOT REPRODUCED: 1 of the runs"), "\(r.stderr)")
        let page = try String(contentsOfFile: out, encoding: .utf8)
        let top = try #require(page.range(of: "NOT REPRODUCED"))
        #expect(top.lowerBound < page.range(of: "Fault grid")!.lowerBound, "named in the summary, before the grid")
    }

    @Test func hugeValuesAndOddMatricesDoNotCrash() throws {
        let (dir, _, lines) = try Self.campaign.get()
        var edited = lines
        // Values that keep each run's verdict (the assertion is
        // faults.altered_messages <= 0): an edit its verdict contradicts is
        // refused (aPassItsMetricsContradictIsRefused).
        var huge = [1e300, 1e19, 1e19 + 4096]
        for i in edited.indices {
            let v = edited[i]["verdict"] as? String == "pass" ? -1e300 : huge.removeFirst()
            var result = edited[i]["result"] as! [String: Any]
            var metrics = result["metrics"] as! [String: Any]
            metrics["faults.altered_messages"] = v
            result["metrics"] = metrics
            edited[i]["result"] = result
        }
        // One run loses an axis.
        var run = edited[3]["run"] as! [String: Any]
        run["cell"] = Array((run["cell"] as! [Any]).prefix(1))
        edited[3]["run"] = run
        let path = try write(edited, "odd.jsonl")
        let out = dir.appendingPathComponent("odd.html").path
        let r = try touchdown(["report", path, "--out", out, "--plots", "0"])
        #expect(r.status == 1, "\(r.status) \(r.stderr)")
        let page = try String(contentsOfFile: out, encoding: .utf8)
        #expect(page.contains("Left out of the grid: 1 run with other matrix axes than the first run's."))
        #expect(page.contains("data-kind=\"histogram\""), "the huge values are drawn, not dropped")
    }

    /// A third matrix axis: small multiples, one heat map per value of it;
    /// a case apart from the grid.
    @Test func aThirdAxisGivesOneHeatMapPerValue() throws {
        let dir = try TestPaths.scratch()
        let file = dir.appendingPathComponent("three.yaml").path
        try """
        name: three-axes
        seed: 9
        source: {traces: [\(TestPaths.traces.appendingPathComponent("nominal.mcap").path)]}
        guidance: {name: reference}
        mode: open-loop
        matrix:
          altimeter.latency: [none, 1s]
          imu.drop: [none, "5%"]
          attitude.bias: [none, "+0.5deg"]
        cases:
          - [velocimeter.drop=50%]
        expect: any
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("three.html").path
        let r = try touchdown(["campaign", file, "--jobs", "2", "--report", out])
        #expect(r.status == 0, "\(r.stderr)")
        let page = try String(contentsOfFile: out, encoding: .utf8)
        #expect(page.components(separatedBy: "data-kind=\"heatmap\"").count - 1 == 2)
        #expect(page.components(separatedBy: "<g class=\"cell\"").count - 1 == 8)
        #expect(page.contains("Pass rate, attitude.bias=none") && page.contains("Pass rate, attitude.bias=+0.5deg"))
        #expect(page.contains("<span class=\"good\">PASS</span>: every one of the 9 runs passed"))
        // The case has its own table: one row, its faults, 1 of 1 passed.
        #expect(page.contains("<h3>Cases</h3>"))
        #expect(page.range(of: "<tr><td>1</td><td>reference</td><td>[^<]*nominal.mcap</td><td><code>velocimeter.drop=[^<]*</code></td><td class=\"num\">1/1</td></tr>",
                           options: .regularExpression) != nil)
        // The terminal summary lists the case too, beside the cells.
        let rows = r.stdout.split(separator: "\n")
        #expect(rows.contains { $0.hasPrefix("altimeter.latency=1s imu.drop=5% attitude.bias=+0.5deg ") && $0.hasSuffix(" 1/1") }, "\(r.stdout)")
        #expect(rows.contains { $0.hasPrefix("case 1: velocimeter.drop=") && $0.hasSuffix(" 1/1") }, "\(r.stdout)")
    }

    @Test func replayRefusesAPlotOverItsOwnTrace() throws {
        let dir = try TestPaths.scratch()
        let same = dir.appendingPathComponent("x.html").path
        let r = try touchdown(["replay", TestPaths.traces.appendingPathComponent("nominal.mcap").path, "--out", same, "--plot", same])
        #expect(r.status == 2 && r.stderr.contains("name the same file"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: same))
    }
}
