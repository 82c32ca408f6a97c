import ArgumentParser
import Foundation
import TouchdownCampaign
import TouchdownReplay
import TouchdownReport
import TouchdownTrace
#if canImport(Glibc)
import Glibc
#endif

/// `touchdown plot`: one run's panels, or two runs overlaid.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot a trace: altitude and speeds (truth beside navigation), commands, the altimeter, navigation errors, events.",
        discussion: "Writes one self-contained HTML page (or, for a .svg name, one SVG image). Exit 0 when written, 2 for bad input.")

    @Argument(help: "A trace recorded by Touchdown (simulate, replay --out, import, record).") var trace: String
    @Option(help: ArgumentHelp("Overlay this trace, dashed (before and after a change; telemetry and its fitted simulation).", valueName: "TRACE"))
    var compare: String?
    @Option(help: ArgumentHelp("Where to write: FILE.html or FILE.svg; default: the trace's name with .html, in this folder.", valueName: "FILE"))
    var out: String?

    func run() {
        let path = out ?? ((trace as NSString).lastPathComponent as NSString).deletingPathExtension + ".html"
        guard path.hasSuffix(".html") || path.hasSuffix(".svg") else {
            fail("--out \(path): accepted: a file name ending in .html or .svg", code: 2)
        }
        let a: TraceSeries, b: TraceSeries?
        do {
            a = try TraceSeries.read(path: trace)
            b = try compare.map { try TraceSeries.read(path: $0) }
        } catch {
            fail("\(error)", code: 2)
        }
        let text = path.hasSuffix(".svg") ? TracePlot.svg(a, compare: b) : TracePlot.html(a, compare: b)
        do { try writeReplacing(path, text, inputs: [trace] + (compare.map { [$0] } ?? [])) } catch { fail("\(error)", code: 2) }
        print("plot: \(path)")
    }
}

/// `touchdown report`: the campaign report from results files (a campaign's,
/// or its shards').
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a campaign's HTML report from its results files (one, or its shards').",
        discussion: "Exit status: 0 when every run is there once and passed, 1 when a run is missing, contradicted, did not pass or, flown again for its plot, did not give its recorded digest (the report says which), 2 for unreadable input, a results line that contradicts itself, or results of different campaigns.")

    @Argument(help: "Results files (JSONL), from `touchdown campaign --results`.") var files: [String]
    @Option(help: ArgumentHelp("The report to write.", valueName: "FILE.html")) var out: String
    @Option(help: ArgumentHelp("How many of the worst runs to fly again and plot (0 to 20).", valueName: "N")) var plots: Int = 3
    @Option(help: ArgumentHelp("The campaign file the worst runs are flown again from (default: the one the results' rerun commands name). Runs are never flown from the plans in results files.", valueName: "FILE"))
    var campaign: String?

    func validate() throws {
        if files.isEmpty { throw ValidationError("give one or more results files") }
        if !(0...20).contains(plots) { throw ValidationError("--plots \(plots) is not accepted: 0 to 20") }
    }

    func run() {
        do { try OutputGuard.refuse(output: out, sameAsAnyOf: files + (campaign.map { [$0] } ?? [])) } catch { fail("\(error)", code: 2) }
        guard out.hasSuffix(".html") else { fail("--out \(out): accepted: a file name ending in .html", code: 2) }
        let merged: MergedResults
        do { merged = try Results.merge(paths: files) } catch { fail("\(error)", code: 2) }
        for n in merged.notes { FileHandleStderr.write("note: \(n)\n") }
        let named = campaign ?? merged.lines.first.flatMap { RerunCommand.campaignFile(in: $0.rerun) }
        var report = CampaignReport(campaign: merged.campaign, fingerprint: merged.fingerprint, file: named,
                                    total: merged.total,
                                    runs: merged.lines.map { CampaignReport.Run(record: $0.record, rerun: $0.rerun) })
        report.plotted = plots
        report.problems = merged.conflicts.map { "CONTRADICTED: \($0)" } + merged.notes
        // The runs flown again come from the campaign file itself, checked
        // against the results' fingerprint: a results line could name any
        // command as its guidance.
        let plans = Result { () throws -> [String: ReplayPlan] in
            guard plots > 0 else { return [:] }
            guard let named else { throw PlotError("the results do not name their campaign file; give it with --campaign") }
            let c: Campaign
            do { c = try Campaign.load(path: named) } catch { throw PlotError("the campaign file \(named) cannot be read (\(error)); give it with --campaign") }
            guard c.fingerprint == merged.fingerprint else {
                throw PlotError("\(named) is not the campaign file of these results (fingerprint \(c.fingerprint), results \(merged.fingerprint))")
            }
            return Dictionary(try c.runs().map { ($0.id, $0.plan) }, uniquingKeysWith: { a, _ in a })
        }
        let irreproducible = writeReport(report, to: out, inputs: files + (campaign.map { [$0] } ?? [])) { run, scratch in
            guard let plan = try plans.get()[run.record.run.id] else {
                throw PlotError("run \(run.record.run.id) is not in the campaign file \(named ?? "")")
            }
            var trusted = run
            trusted.record.run.plan = plan
            return try RunReplotter.series(trusted, scratch: scratch)
        }
        let failed = merged.lines.filter { $0.verdict != .pass }.count
        print("report: \(out) (\(merged.lines.count) of \(merged.total) runs, \(failed) did not pass\(merged.missingCount == 0 ? "" : ", \(merged.missingCount) missing"))")
        if !merged.complete || failed > 0 || irreproducible > 0 { Glibc.exit(1) }
    }
}

/// Writes a campaign report, flying its worst runs again in a scratch
/// folder beside the output to plot them; returns how many of those did not
/// give their recorded digest.
func writeReport(_ report: CampaignReport, to path: String, inputs: [String],
                 plot: (CampaignReport.Run, String) throws -> TraceSeries = RunReplotter.series) -> Int {
    guard path.hasSuffix(".html") else { fail("--report/--out \(path): accepted: a file name ending in .html", code: 2) }
    let folder = (path as NSString).deletingLastPathComponent
    var template = Array(((folder.isEmpty ? "." : folder) + "/.touchdown-report-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { fail("cannot make a scratch folder beside \(path): \(String(cString: strerror(errno)))", code: 2) }
    let scratch = String(cString: made)
    let (html, irreproducible) = report.html { try plot($0, scratch) }
    try? FileManager.default.removeItem(atPath: scratch)
    do { try writeReplacing(path, html, inputs: inputs) } catch { fail("\(error)", code: 2) }
    if irreproducible > 0 {
        FileHandleStderr.write("NOT REPRODUCED: \(irreproducible) of the runs flown again for the report gave another digest than their results (see \(path))\n")
    }
    return irreproducible
}
