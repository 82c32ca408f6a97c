import Foundation
import TouchdownCampaign
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

/// The campaign report: one self-contained HTML file with the summary, the
/// fault grid, the Monte Carlo plots, the worst runs (plotted) and every run
/// in a sortable table.
public struct CampaignReport {
    /// One run as the report sees it.
    public struct Run: Sendable {
        public var record: RunRecord
        public var rerun: String
        public init(record: RunRecord, rerun: String) {
            self.record = record
            self.rerun = rerun
        }
    }

    public var campaign: String
    public var fingerprint: String
    /// The campaign file, when known.
    public var file: String?
    /// How many runs the campaign has; `runs` may hold fewer (missing shards).
    public var total: Int
    public var runs: [Run]
    /// Contradicted runs and notes from a merge: shown, never hidden.
    public var problems: [String] = []
    /// How many of the worst runs that flew are flown again and plotted.
    public var plotted = 3

    public init(campaign: String, fingerprint: String, file: String?, total: Int, runs: [Run]) {
        self.campaign = campaign
        self.fingerprint = fingerprint
        self.file = file
        self.total = total
        self.runs = runs
    }

    /// The metrics the Monte Carlo section plots: the touchdown speed,
    /// propellant, and every metric an assertion bounds.
    var keyMetrics: [String] {
        var names = ["touchdown.vertical_speed_mps", "propellant_kg"]
        for r in runs.prefix(1) {
            for a in r.record.run.plan.assertions where !names.contains(a.metric) { names.append(a.metric) }
        }
        return names.filter { n in runs.contains { $0.record.result?.metric(n)?.number != nil } }
    }

    /// Assertion bounds on a metric: value and text.
    func bounds(_ metric: String) -> [(Double, String)] {
        guard let plan = runs.first?.record.run.plan else { return [] }
        return plan.assertions.compactMap { a in
            guard a.metric == metric, case .number(let v) = a.bound else { return nil }
            return (v, a.text)
        }
    }

    /// Worst first: could not run, then failed, then passed; within each, the
    /// highest touchdown speed (not measured counts as highest), then run order.
    var worst: [Run] {
        func rank(_ v: RunRecord.Verdict) -> Int { v == .error ? 0 : v == .fail ? 1 : 2 }
        // Each run's keys once, not a metric lookup per comparison.
        let keyed = runs.map { r in
            (run: r, rank: rank(r.record.verdict),
             speed: r.record.result?.metric("touchdown.vertical_speed_mps")?.number ?? .infinity, index: r.record.run.index)
        }
        return keyed.sorted { a, b in
            if a.rank != b.rank { return a.rank < b.rank }
            if a.speed != b.speed { return a.speed > b.speed }
            return a.index < b.index
        }.map(\.run)
    }

    /// A worst run flown again: its plot, or why there is none.
    struct Replotted {
        var run: Run
        var series: Result<TraceSeries, any Error>
    }

    /// The page, and how many of the runs flown again did not give their
    /// recorded digest (then the report does not vouch for the results).
    /// `plot` flies a run again and returns its trace's series, or throws
    /// saying why it cannot (its source is gone, its digest differs).
    public func html(plot: (Run) throws -> TraceSeries) -> (text: String, irreproducible: Int) {
        // The worst runs that flew (a run that could not run has no flight to show).
        let worst = self.worst
        let replotted = worst.filter { $0.record.result != nil }.prefix(plotted).map { r in
            Replotted(run: r, series: Result { try plot(r) })
        }
        let irreproducible = replotted.filter {
            if case .failure(let e) = $0.series { return e is IrreproducibleRun }
            return false
        }
        var page = HTMLPage(title: "touchdown campaign report: \(campaign)")
        page.add(summary(irreproducible: irreproducible.map(\.run)))
        page.add(grid())
        let metrics = keyMetrics
        page.add(monteCarlo(metrics))
        page.add(worstRuns(worst.prefix(10), replotted))
        page.add(allRuns(metrics))
        return (page.text, irreproducible.count)
    }

    func count(_ v: RunRecord.Verdict) -> Int { runs.filter { $0.record.verdict == v }.count }

    func summary(irreproducible: [Run] = []) -> String {
        let pass = count(.pass), fail = count(.fail), error = count(.error)
        let missing = total - runs.count
        var h = "<h1>Campaign \(escapeMarkup(campaign))</h1>"
        let verdict: String
        if missing > 0 || !problems.isEmpty {
            verdict = "<span class=\"bad\">INCOMPLETE</span>: \(missing) of \(total) runs have no result\(problems.isEmpty ? "" : ", \(plural(problems.count, "problem")) below"); the figures cover the \(plural(runs.count, "run")) present"
        } else if fail + error > 0 {
            verdict = "<span class=\"bad\">FAIL</span>: \(fail + error) of \(total) runs did not pass"
        } else if runs.isEmpty {
            verdict = "<span class=\"bad\">NO RUNS</span>"
        } else {
            verdict = "<span class=\"good\">PASS</span>: every one of the \(total) runs passed"
        }
        h += "<p id=\"verdict\">\(verdict)</p>"
        if !irreproducible.isEmpty {
            h += "<p class=\"bad\">NOT REPRODUCED: \(irreproducible.count) of the runs flown again for their plots gave another digest than the results record (\(irreproducible.map { escapeMarkup($0.record.run.id) }.joined(separator: ", "))): these results do not come from this build and these inputs, so this report does not vouch for them.</p>"
        }
        // Rounded down: one failure in 2,000 runs reads 99.9 %, never 100 %.
        let rate = runs.isEmpty ? "not measured" : formatFixed((Double(pass * 1000) / Double(runs.count)).rounded(.down) / 10, 1) + "%"
        h += "<div class=\"facts\">"
        var facts: [(String, String)] = [
            ("runs", "\(runs.count) of \(total)"), ("passed", "\(pass)"), ("failed", "\(fail)"), ("could not run", "\(error)"),
            ("pass rate", rate), ("campaign file", file ?? "not known"), ("fingerprint", fingerprint),
            ("tool", "touchdown \(touchdownVersion)"),
        ]
        if let plan = runs.first?.record.run.plan {
            facts.append(("expected outcome", plan.expectation.text))
            facts.append(("assertions", plan.assertions.map(\.text).joined(separator: "; ")))
        }
        for (k, v) in facts { h += "<span class=\"muted\">\(escapeMarkup(k))</span><span>\(escapeMarkup(v))</span>" }
        h += "</div>"
        for p in problems { h += "<p class=\"bad\">\(escapeMarkup(p))</p>" }
        // Failures by outcome (or by why they could not run).
        var byOutcome: [(String, Int)] = []
        for r in runs where r.record.verdict != .pass {
            let key = r.record.verdict == .error ? "could not run" : (r.record.outcome ?? "no outcome")
            if let i = byOutcome.firstIndex(where: { $0.0 == key }) { byOutcome[i].1 += 1 } else { byOutcome.append((key, 1)) }
        }
        if !byOutcome.isEmpty {
            h += "<h3>Runs that did not pass, by outcome</h3><table><thead><tr><th>outcome</th><th class=\"num\">runs</th></tr></thead><tbody>"
            for (k, n) in byOutcome.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }) {
                h += "<tr><td>\(escapeMarkup(k))</td><td class=\"num\">\(n)</td></tr>"
            }
            h += "</tbody></table>"
        }
        return "<section id=\"summary\">" + h + "</section>"
    }

    /// One heat map per combination of the axes beyond the first two.
    func grid() -> String {
        var h = "<section id=\"grid\"><h2>Fault grid</h2>"
        let allMatrixRuns = runs.filter { $0.record.run.caseIndex == nil && !$0.record.run.cell.isEmpty }
        let axesOfFirst = allMatrixRuns.first?.record.run.cell.map(\.key)
        // One campaign has one matrix; a run with other axes is shown, not merged.
        let matrixRuns = allMatrixRuns.filter { $0.record.run.cell.map(\.key) == axesOfFirst }
        if matrixRuns.count < allMatrixRuns.count {
            h += "<p class=\"bad\">Left out of the grid: \(plural(allMatrixRuns.count - matrixRuns.count, "run")) with other matrix axes than the first run's.</p>"
        }
        guard let first = matrixRuns.first else {
            return h + "<p class=\"muted\">The campaign has no fault matrix.</p>" + casesTable() + "</section>"
        }
        let axes = first.record.run.cell.map(\.key)
        func values(_ k: Int) -> [String] {
            var seen: [String] = []
            for r in matrixRuns where !seen.contains(r.record.run.cell[k].value) { seen.append(r.record.run.cell[k].value) }
            return seen
        }
        let rowAxis = 0, columnAxis = axes.count > 1 ? 1 : nil
        let rows = values(rowAxis), columns = columnAxis.map(values) ?? ["all"]
        // One small map per source, guidance and combination of the other
        // axes' values, in run order: cells never mix guidances or sources.
        let sources = Set(matrixRuns.map(\.record.run.source)).count > 1
        let guidances = Set(matrixRuns.map(\.record.run.guidance)).count > 1
        func group(_ r: Run) -> [String] {
            (sources ? ["source=" + r.record.run.source] : []) + (guidances ? ["guidance=" + r.record.run.guidance] : [])
                + zip(axes.dropFirst(2), r.record.run.cell.dropFirst(2)).map { "\($0)=\($1.value)" }
        }
        var groups: [[String]] = []
        for r in matrixRuns where !groups.contains(group(r)) { groups.append(group(r)) }
        h += "<p class=\"muted\">Each cell: the share of its runs that passed (rounded down), and how many ran.\(groups.count > 1 ? " One map per " + ([sources ? "source" : nil, guidances ? "guidance" : nil].compactMap { $0 } + axes.dropFirst(2).map(escapeMarkup)).joined(separator: ", ") + "." : "")</p><div class=\"charts\">"
        for g in groups {
            var cells = [[(pass: Int, total: Int)?]](repeating: [(pass: Int, total: Int)?](repeating: nil, count: columns.count), count: rows.count)
            for r in matrixRuns where group(r) == g {
                let i = rows.firstIndex(of: r.record.run.cell[rowAxis].value)!
                let j = columnAxis.map { columns.firstIndex(of: r.record.run.cell[$0].value)! } ?? 0
                var c = cells[i][j] ?? (0, 0)
                c.total += 1
                if r.record.verdict == .pass { c.pass += 1 }
                cells[i][j] = c
            }
            let title = g.isEmpty ? "Pass rate" : "Pass rate, " + g.joined(separator: ", ")
            h += HeatMap(title: title, rowAxis: axes[rowAxis], columnAxis: columnAxis.map { axes[$0] } ?? "", rows: rows,
                         columns: columns, cells: cells).svg()
        }
        return h + "</div>" + casesTable() + "</section>"
    }

    func casesTable() -> String {
        // One row per case and guidance and source: a row never mixes them.
        // The faults shown are the first run's (a case's runs share them).
        func key(_ r: RunRecord) -> [String]? { r.run.caseIndex.map { [String($0 + 1), r.run.guidance, r.run.source] } }
        let cases = RunRecord.passCounts(runs.lazy.map(\.record), by: key)
        guard !cases.isEmpty else { return "" }
        var faults: [[String]: [String]] = [:]
        for r in runs { if let k = key(r.record), faults[k] == nil { faults[k] = r.record.run.faults } }
        var h = "<h3>Cases</h3><table><thead><tr><th>case</th><th>guidance</th><th>source</th><th>faults</th><th class=\"num\">passed</th></tr></thead><tbody>"
        for c in cases {
            h += "<tr><td>\(c.key[0])</td><td>\(escapeMarkup(c.key[1]))</td><td>\(escapeMarkup(c.key[2]))</td><td><code>\(escapeMarkup((faults[c.key] ?? []).joined(separator: " ")))</code></td><td class=\"num\">\(c.pass)/\(c.total)</td></tr>"
        }
        return h + "</tbody></table>"
    }

    /// A drawn value as a number and its unit (`25012.5 m` → 25012.5, "m").
    static func number(_ text: String) -> (Double, String)? {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        guard let first = parts.first, let v = Double(first), v.isFinite else { return nil }
        return (v, parts.count > 1 ? parts[1] : "")
    }

    /// Scatter plots and histograms of `metrics` (`keyMetrics`).
    func monteCarlo(_ metrics: [String]) -> String {
        var h = "<section id=\"monte-carlo\"><h2>Monte Carlo</h2>"
        let paths = runs.first?.record.run.draws.map(\.path) ?? []
        if metrics.isEmpty {
            return h + "<p class=\"muted\">No run measured \("touchdown.vertical_speed_mps") or propellant_kg.</p></section>"
        }
        for m in metrics {
            let notMeasured = runs.filter { $0.record.result?.metric(m)?.number == nil }.count
            if notMeasured > 0 {
                h += "<p class=\"muted\">\(escapeMarkup(m)): not measured in \(notMeasured) of \(runs.count) runs (no contact with the ground, or the run did not run); they are left out of its plots.</p>"
            }
        }
        if paths.isEmpty {
            h += "<p class=\"muted\">The campaign has no dispersions.</p>"
        } else {
            h += "<h3>Drawn values against the key metrics</h3><div class=\"charts\">"
            for (k, path) in paths.enumerated() {
                for m in metrics {
                    var pass: [(x: Double, y: Double)] = [], fail: [(x: Double, y: Double)] = []
                    var unit = ""
                    for r in runs {
                        guard k < r.record.run.draws.count, let (x, u) = Self.number(r.record.run.draws[k].value),
                              let y = r.record.result?.metric(m)?.number else { continue }
                        unit = u
                        if r.record.verdict == .pass { pass.append((x, y)) } else { fail.append((x, y)) }
                    }
                    h += ScatterChart(title: "\(m) vs \(path)", xLabel: path + (unit.isEmpty ? "" : " (\(unit))"),
                                      yLabel: Self.axisLabel(m), pass: pass, fail: fail,
                                      bounds: bounds(m).map { (y: $0.0, text: $0.1) }).svg()
                }
            }
            h += "</div>"
        }
        h += "<h3>Distributions</h3><div class=\"charts\">"
        for m in metrics {
            let values = runs.compactMap { $0.record.result?.metric(m)?.number }
            h += Histogram(title: "\(m) over \(values.count) runs", xLabel: Self.axisLabel(m), values: values,
                           bounds: bounds(m).map { (x: $0.0, text: $0.1) }).svg()
        }
        return h + "</div></section>"
    }

    /// An axis label for a metric: its last part (the chart's title names
    /// it in full) with its unit spelled out.
    static func axisLabel(_ metric: String) -> String {
        let units = [("_mps", "m/s"), ("_kg", "kg"), ("_m", "m"), ("_s", "s"), ("_deg", "deg")]
        let parts = metric.split(separator: ".").map(String.init)
        // `nav.altitude_error_m.max`: the unit is on the part before the statistic.
        let named = parts.last { p in units.contains { p.hasSuffix($0.0) } } ?? parts.last ?? metric
        for (suffix, unit) in units where named.hasSuffix(suffix) { return "\(named) (\(unit))" }
        return named
    }

    /// The ten worst runs (`worst`, first ten) in a table, then those flown again.
    func worstRuns(_ worst: ArraySlice<Run>, _ replotted: [Replotted]) -> String {
        var h = "<section id=\"worst\"><h2>Worst runs</h2>"
        guard !worst.isEmpty else { return h + "<p class=\"muted\">No runs.</p></section>" }
        h += "<table><thead><tr><th>run</th><th>verdict</th><th>outcome</th><th class=\"num\">touchdown speed (m/s)</th><th>why</th><th>rerun</th></tr></thead><tbody>"
        for r in worst {
            h += "<tr><td class=\"mono\"><a href=\"#run-\(escapeMarkup(r.record.run.id))\">\(escapeMarkup(r.record.run.id))</a></td><td>\(verdictHTML(r.record.verdict))</td><td>\(escapeMarkup(r.record.outcome ?? "-"))</td>"
            h += "<td class=\"num\">\(escapeMarkup(metricText(r, "touchdown.vertical_speed_mps")))</td><td>\(escapeMarkup(r.record.problems.joined(separator: "; ")))</td><td><code>\(escapeMarkup(r.rerun))</code></td></tr>"
        }
        h += "</tbody></table>"
        for p in replotted {
            let r = p.run
            h += "<h3 id=\"plot-\(escapeMarkup(r.record.run.id))\">Run \(escapeMarkup(r.record.run.id)): \(verdictHTML(r.record.verdict)) \(escapeMarkup(r.record.outcome ?? ""))</h3>"
            h += "<p class=\"muted\">\(escapeMarkup(Self.describe(r.record.run)))</p>"
            switch p.series {
            case .success(let series):
                h += TracePlot.markerLegendShort + "<div class=\"charts\">" + TracePlot.charts(series, width: 1120).joined() + "</div>"
            case .failure(let error):
                h += "<p class=\"bad\">Not plotted: \(escapeMarkup("\(error)"))</p>"
            }
        }
        return h + "</section>"
    }

    static func describe(_ r: CampaignRun) -> String {
        var parts = ["source \(r.source)", "guidance \(r.guidance)"]
        if !r.faults.isEmpty { parts.append("faults " + r.faults.joined(separator: " ")) }
        parts.append("sample \(r.sample)")
        if !r.draws.isEmpty { parts.append(r.draws.map { "\($0.path)=\($0.value)" }.joined(separator: " ")) }
        return parts.joined(separator: "; ")
    }

    func verdictHTML(_ v: RunRecord.Verdict) -> String {
        switch v {
        case .pass: "<span class=\"good\">PASS</span>"
        case .fail: "<span class=\"bad\">FAIL</span>"
        case .error: "<span class=\"bad\">ERROR</span>"
        }
    }

    func metricText(_ r: Run, _ name: String) -> String {
        guard let result = r.record.result else { return "did not run" }
        guard let m = result.metric(name) else { return "-" }
        return m.text
    }

    /// Every run in a sortable table, with the columns of `metrics` (`keyMetrics`).
    func allRuns(_ metrics: [String]) -> String {
        let axes = runs.first?.record.run.cell.map(\.key) ?? []
        let draws = runs.first?.record.run.draws ?? []
        var h = "<section id=\"runs\"><h2>Every run (\(runs.count))</h2><p class=\"muted noprint\">Click a column's header to sort by it.</p>"
        let showSource = Set(runs.map(\.record.run.source)).count > 1
        let showGuidance = Set(runs.map(\.record.run.guidance)).count > 1
        let showCase = runs.contains { $0.record.run.caseIndex != nil }
        var header = ["run", "verdict", "outcome"]
        if showSource { header.append("source") }
        if showGuidance { header.append("guidance") }
        if showCase { header.append("case") }
        header += axes
        let firstNumber = header.count + 1
        // Drawn values without their unit in each cell: the header gives it.
        header += draws.map { d in Self.number(d.value).map { $0.1.isEmpty ? d.path : "\(d.path) (\($0.1))" } ?? d.path }
        header += metrics
        header.append("digest")
        // Ten thousand rows: cells carry no class and no closing tag (valid
        // HTML); the columns are styled by position.
        h += "<style>#runs-table td:nth-child(n+\(firstNumber)):not(:last-child){text-align:right;font-variant-numeric:tabular-nums}"
        h += "#runs-table td:first-child,#runs-table td:last-child{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.92em}</style>"
        // The first rows are shown, the rest are in the page hidden until
        // asked for (sorting sorts them all): a browser lays out 10,000 rows
        // in seconds.
        let shown = Self.rowsShown
        if runs.count > shown {
            h += "<p class=\"noprint\">Showing the first \(shown) of \(runs.count) runs in the table's order; a sort orders them all. <button id=\"runs-table-all\" type=\"button\">Show all \(runs.count)</button></p>"
        }
        h += "<table class=\"sortable\" id=\"runs-table\" data-shown=\"\(shown)\"><thead><tr>" + header.map { "<th>\(escapeMarkup($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (position, r) in runs.enumerated() {
            let run = r.record.run
            var row = "<tr id=\"run-\(escapeMarkup(run.id))\"\(position >= shown ? " hidden" : "")><td>\(escapeMarkup(run.id))<td>\(r.record.verdict.rawValue)<td>\(escapeMarkup(r.record.outcome ?? "-"))"
            if showSource { row += "<td>\(escapeMarkup(run.source))" }
            if showGuidance { row += "<td>\(escapeMarkup(run.guidance))" }
            if showCase { row += "<td>\(run.caseIndex.map { "\($0 + 1): " + escapeMarkup(run.faults.joined(separator: " ")) } ?? "")" }
            for k in axes.indices { row += "<td>\(k < run.cell.count ? escapeMarkup(run.cell[k].value) : "")" }
            for k in draws.indices {
                guard k < run.draws.count else { row += "<td>"; continue }
                row += "<td>" + (Self.number(run.draws[k].value).map { Self.short($0.0) } ?? escapeMarkup(run.draws[k].value))
            }
            for m in metrics {
                let v = r.record.result?.metric(m)?.number
                row += v.map { "<td>\(formatFixed($0, 2))" } ?? "<td class=\"muted\">not measured"
            }
            h += row + "<td>\(escapeMarkup(String((r.record.digest ?? "-").prefix(12))))</tr>"
        }
        return h + "</tbody></table></section>"
    }

    /// How many rows of the runs table are shown before "show all".
    static let rowsShown = 1_000

    /// A drawn value for the table: three decimals, or the shortest exact
    /// form below 1 (a noise of 0.0002 stays 0.0002).
    static func short(_ v: Double) -> String { abs(v) >= 1 ? formatFixed(v, 3) : "\(v)" }
}

extension TracePlot {
    static let markerLegendShort = "<p class=\"muted\">Dashed amber lines: faults acting; red: anomalies; grey: other events. Time from the start of descent.</p>"
}

/// Flies a campaign run again with its output recorded, to plot it; its
/// digest must be the one recorded, or the plot would show another flight.
public enum RunReplotter {
    public static func series(_ run: CampaignReport.Run, scratch: String) throws -> TraceSeries {
        guard let recorded = run.record.digest else {
            throw PlotError("the run has no result to compare a new flight with (\(run.record.error ?? "it did not run"))")
        }
        var plan = run.record.run.plan
        let path = (scratch as NSString).appendingPathComponent("run-\(run.record.run.id).mcap")
        plan.output = path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result: ReplayResult
        do {
            result = try Replay(plan).run()
        } catch {
            throw PlotError("flying it again failed: \(error)")
        }
        guard result.digest == recorded else {
            throw IrreproducibleRun(description: "flown again, it gives digest \(result.digest), not the recorded \(recorded): the results come from another build or other inputs, so no plot is shown")
        }
        return try TraceSeries.read(path: path)
    }
}

/// A run flown again that did not give its recorded digest.
public struct IrreproducibleRun: Error, CustomStringConvertible, Sendable {
    public let description: String
}

func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
