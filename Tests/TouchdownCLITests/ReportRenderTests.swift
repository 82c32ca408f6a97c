import Foundation
import Testing
import TouchdownTestSupport

/// Plots and campaign reports checked as a person sees them: rendered in
/// headless Chromium (scripts/render-check), the screenshot not blank,
/// nothing on the console, nothing loaded from elsewhere, and the expected
/// charts and grid cells in the rendered DOM. Needs TOUCHDOWN_PYTHON and
/// chromium (scripts/test installs both); without them the tests fail.
@Suite(.serialized) struct ReportRenderTests {
    struct Rendered {
        var json: [String: Any]
        var counts: [String: Int] { (json["counts"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int } }
        var consoleErrors: [String] { json["console_errors"] as? [String] ?? ["(no console_errors field)"] }
        var externalReferences: [String] { json["external_references"] as? [String] ?? ["(no external_references field)"] }
        var blank: Bool { json["blank"] as? Bool ?? true }
        var open_s: Double { json["open_s"] as? Double ?? .nan }
        var baseline_s: Double { json["baseline_s"] as? Double ?? .nan }
    }

    func touchdown(_ args: [String]) throws -> ProcessResult { try run(touchdownExecutable, args) }

    func render(_ page: String, selectors: [String: String], height: Int = 2400, baseline: Bool = false) throws -> Rendered {
        guard let python = referencePython else {
            throw RenderSetupError("TOUCHDOWN_PYTHON is not set: run the suite through scripts/test")
        }
        var args = [TestPaths.repository.appendingPathComponent("scripts/render-check").path, page, "--png", page + ".png",
                    "--width", "1240", "--height", String(height)]
        for (name, css) in selectors.sorted(by: { $0.key < $1.key }) { args += ["--selector", "\(name)=\(css)"] }
        if baseline { args.append("--baseline") }
        let r = try run(python, args)
        guard r.status == 0, let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw RenderSetupError("render-check failed (\(r.status)): \(r.stderr)")
        }
        return Rendered(json: json)
    }

    func expectClean(_ r: Rendered, _ what: String) {
        #expect(r.consoleErrors.isEmpty, "\(what): console: \(r.consoleErrors)")
        #expect(r.externalReferences.isEmpty, "\(what): loads \(r.externalReferences)")
        #expect(!r.blank, "\(what): the screenshot is blank (\(r.json["colours"] ?? "?") colours)")
    }

    @Test func aPlotRendersItsEightPanels() throws {
        let dir = try TestPaths.scratch()
        let m2 = TestPaths.traces.appendingPathComponent("m2-late-altimeter.mcap").path
        let html = dir.appendingPathComponent("m2.html").path
        let p = try touchdown(["plot", m2, "--out", html])
        #expect(p.status == 0, "\(p.stderr)")
        let r = try render(html, selectors: ["charts": "svg.chart", "lines": "path.line", "events": "tr"])
        expectClean(r, "plot")
        #expect(r.counts["charts"] == 8)
        #expect(r.counts["lines"] == 12, "two series in five panels, one in two; the altimeter's are dots")
        #expect(r.counts["events"] == 5, "a header row and m2's four events")

        // --compare overlays a replay of the same trace: every series twice.
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        let both = dir.appendingPathComponent("both.html").path
        let c = try touchdown(["plot", m2, "--compare", nominal, "--out", both])
        #expect(c.status == 0, "\(c.stderr)")
        let rc = try render(both, selectors: ["charts": "svg.chart", "dashed": "path.dash"])
        expectClean(rc, "comparison")
        #expect(rc.counts["charts"] == 8 && rc.counts["dashed"] == 12)

        // The SVG form: one image, the same eight panels.
        let svg = dir.appendingPathComponent("m2.svg").path
        #expect(try touchdown(["plot", m2, "--out", svg]).status == 0)
        let rs = try render(svg, selectors: ["charts": "svg.chart"])
        expectClean(rs, "svg")
        #expect(rs.counts["charts"] == 8)
    }

    @Test func replayPlotsTheRunItDid() throws {
        let dir = try TestPaths.scratch()
        let html = dir.appendingPathComponent("late.html").path
        let r = try touchdown(["replay", TestPaths.traces.appendingPathComponent("nominal.mcap").path,
                               "--fault", "altimeter.acquire-below=900m", "--set", "profile=baseline", "--expect", "crashed",
                               "--plot", html])
        #expect(r.status == 0, "\(r.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("altimeter.acquire-below=900m") && page.contains("crashed"))
        // The scratch trace is gone: only the plot is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["late.html"])
        // A replay that cannot run leaves no scratch trace behind (exit 2 skips `defer`).
        let bad = try TestPaths.scratch("replay-plot-bad")
        let failed = try touchdown(["replay", TestPaths.traces.appendingPathComponent("nominal.mcap").path,
                                    "--guidance-cmd", "./no-such-exe", "--plot", bad.appendingPathComponent("x.html").path])
        #expect(failed.status == 2, "\(failed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bad.path).isEmpty)
        let rendered = try render(html, selectors: ["charts": "svg.chart", "faults": "line.ev-fault", "bare": "path.ev-fault"])
        expectClean(rendered, "replay plot")
        #expect(rendered.counts["charts"] == 8)
        #expect((rendered.counts["faults"] ?? 0) >= 1 && rendered.counts["bare"] == 7,
                "the fault is marked on every panel, with its tooltip on the first: \(rendered.counts)")
    }

    /// A campaign whose name, settings and guidance output carry markup,
    /// quotes and non-ASCII text: the report shows them as text.
    @Test func aCampaignReportRendersItsGridAndEscapesWhatItShows() throws {
        let dir = try TestPaths.scratch()
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        let file = dir.appendingPathComponent("hostile.yaml").path
        try """
        name: "<script>alert('name')</script> \\"quoted\\" Ωμέγα"
        seed: 7
        source: {traces: [\(nominal)]}
        guidance:
          - {name: reference, settings: {profile: hardened}}
          - {cmd: "sh -c 'echo \\"<script>alert(2)</script> ü\\" >&2; exit 3'"}
        matrix:
          altimeter.latency: [none, 2s]
          imu.drop: [none, "60%,burst=25"]
        samples: 2
        dispersions:
          initial.altitude: normal(25 km, 200 m)
        expect: landed
        assert: ["touchdown.vertical_speed_mps <= 2"]
        limits: {run_timeout: 60 s}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let results = dir.appendingPathComponent("results.jsonl").path
        let report = dir.appendingPathComponent("report.html").path
        let c = try touchdown(["campaign", file, "--jobs", "2", "--results", results, "--report", report])
        #expect(c.status == 1, "runs fail: \(c.stderr)")
        let page = try String(contentsOfFile: report, encoding: .utf8)
        #expect(!page.contains("<script>alert"), "markup from the campaign reached the page unescaped")
        #expect(page.contains("&lt;script&gt;alert(&apos;name&apos;)&lt;/script&gt; &quot;quoted&quot; Ωμέγα"))
        #expect(page.contains("&lt;script&gt;alert(2)&lt;/script&gt; ü"), "the guidance's own words are shown, escaped")
        // 2 guidances × 4 cells × 2 samples: one map per guidance, 4 cells each (a cell never mixes guidances).
        let r = try render(report, selectors: ["charts": "svg.chart", "cells": "g.cell", "scripts": "script", "heatmaps": "svg[data-kind=heatmap]",
                                               "scatter": "svg[data-kind=scatter]", "histograms": "svg[data-kind=histogram]", "rows": "tr"], height: 3000)
        expectClean(r, "report")
        #expect(r.counts["scripts"] == 1, "only the page's own script")
        #expect(r.counts["heatmaps"] == 2 && r.counts["cells"] == 8)
        // The guidance that cannot start: each of its four cells, 0 of 2 runs.
        #expect(page.components(separatedBy: "<g class=\"cell\" data-pass=\"0\" data-total=\"2\">").count - 1 >= 4)
        #expect(r.counts["scatter"] == 2 && r.counts["histograms"] == 2, "one dispersion against two metrics; two distributions")
        // The three worst runs that flew, plotted (eight panels each), besides the six summary charts.
        #expect(r.counts["charts"] == 6 + 3 * 8, "\(r.counts)")

        // The runs table sorts in the browser: a click on a header orders the
        // rows by that column, a second click reverses them.
        let probe = dir.appendingPathComponent("probe.html").path
        try page.replacingOccurrences(of: "</body>", with: """
            <script>
            var t = document.getElementById('runs-table'), th = t.querySelectorAll('th');
            var col = Array.prototype.findIndex.call(th, function (h) { return h.textContent === 'touchdown.vertical_speed_mps'; });
            function column() { return Array.prototype.map.call(t.tBodies[0].rows, function (r) { return r.cells[col].textContent; }).join('|'); }
            th[col].click(); var up = column(); th[col].click(); var down = column();
            document.body.setAttribute('data-up', up); document.body.setAttribute('data-down', down);
            </script></body>
            """).write(toFile: probe, atomically: true, encoding: .utf8)
        let dom = try run("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000",
                                                "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + dir.appendingPathComponent("profile").path,
                                                "--dump-dom", "file://" + probe]).stdout
        func attribute(_ name: String) -> [String] {
            guard let start = dom.range(of: name + "=\"") else { return [] }
            return dom[start.upperBound...].prefix { $0 != "\"" }.split(separator: "|").map(String.init)
        }
        let up = attribute("data-up"), down = attribute("data-down")
        let measured = up.compactMap(Double.init)
        #expect(measured.count >= 4 && measured == measured.sorted(), "\(up)")
        #expect(up.count == 16 && down.compactMap(Double.init) == measured.reversed(), "\(down)")
        #expect(up.suffix(up.count - measured.count).allSatisfy { $0 == "not measured" }, "not measured sorts last: \(up)")

        // From the results file, in two halves as shards would give: the same page.
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        try (lines.prefix(8).joined(separator: "\n") + "\n").write(toFile: a, atomically: true, encoding: .utf8)
        try (lines.dropFirst(8).joined(separator: "\n") + "\n").write(toFile: b, atomically: true, encoding: .utf8)
        let merged = dir.appendingPathComponent("merged.html").path
        let m = try touchdown(["report", a, b, "--out", merged])
        #expect(m.status == 1, "\(m.stderr)")
        #expect(try String(contentsOfFile: merged, encoding: .utf8) == page)
        // One half alone is incomplete, and says so first.
        let half = dir.appendingPathComponent("half.html").path
        #expect(try touchdown(["report", a, "--out", half]).status == 1)
        #expect(try String(contentsOfFile: half, encoding: .utf8).contains("INCOMPLETE</span>: 8 of 16 runs have no result"))
    }

    /// A report of 10,000 runs: its size and how long Chromium takes to open
    /// it, reported (not asserted: these machines are shared).
    @Test func aReportOfTenThousandRunsIsMeasured() throws {
        let dir = try TestPaths.scratch()
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        let file = dir.appendingPathComponent("c.yaml").path
        try """
        name: ten-thousand
        seed: 3
        source: {traces: [\(nominal)]}
        guidance: {name: reference, settings: {profile: hardened}}
        mode: open-loop
        matrix:
          altimeter.latency: [none, 1s]
          imu.drop: [none, "5%"]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let results = dir.appendingPathComponent("r.jsonl").path
        #expect(try touchdown(["campaign", file, "--jobs", "2", "--results", results]).status != 2)
        // 4 real results become 10,000 lines: each copy its own id and position.
        let real = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        var out = ""
        for k in 0..<10_000 {
            var line = real[k % real.count]
            var run = line["run"] as! [String: Any]
            let id = String(format: "%012x", k)
            run["index"] = k
            run["id"] = id
            line["run"] = run
            line["id"] = id
            line["total"] = 10_000
            out += String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        let big = dir.appendingPathComponent("big.jsonl").path
        try out.write(toFile: big, atomically: true, encoding: .utf8)
        let report = dir.appendingPathComponent("big.html").path
        let started = Date()
        let r = try touchdown(["report", big, "--out", report, "--plots", "0"])
        let generated_s = Date().timeIntervalSince(started)
        #expect(r.status != 2, "\(r.stderr)")
        let size = try FileManager.default.attributesOfItem(atPath: report)[.size] as! Int
        let rendered = try render(report, selectors: ["rows": "tr", "hidden": "tr[hidden]", "button": "button#runs-table-all"], baseline: true)
        expectClean(rendered, "10,000-run report")
        #expect((rendered.counts["rows"] ?? 0) > 10_000, "every run has its row: \(rendered.counts)")
        #expect(rendered.counts["hidden"] == 9_000 && rendered.counts["button"] == 1, "the first 1,000 shown, the rest behind Show all")
        print("10,000-run report: \(size) bytes (\(String(format: "%.2f", Double(size) / 1_048_576)) MiB), generated in \(String(format: "%.2f", generated_s)) s (debug build), Chromium opened it in \(rendered.open_s) s (an empty page: \(rendered.baseline_s) s)")
    }
}

struct RenderSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
