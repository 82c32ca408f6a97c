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
        discussion: "Exit status: 0 when every run is there once and passed, 1 when a run is missing, contradicted or did not pass (the report says which), 2 for unreadable input or results of different campaigns.")

    @Argument(help: "Results files (JSONL), from `touchdown campaign --results`.") var files: [String]
    @Option(help: ArgumentHelp("The report to write.", valueName: "FILE.html")) var out: String
    @Option(help: ArgumentHelp("How many of the worst runs to fly again and plot (0 to 20).", valueName: "N")) var plots: Int = 3

    func validate() throws {
        if files.isEmpty { throw ValidationError("give one or more results files") }
        if !(0...20).contains(plots) { throw ValidationError("--plots \(plots) is not accepted: 0 to 20") }
    }

    func run() {
        let merged: MergedResults
        do { merged = try Results.merge(paths: files) } catch { fail("\(error)", code: 2) }
        for n in merged.notes { FileHandleStderr.write("note: \(n)\n") }
        var report = CampaignReport(campaign: merged.campaign, fingerprint: merged.fingerprint,
                                    file: merged.lines.first.flatMap { ReportCommand.campaignFile(rerun: $0.rerun) },
                                    total: merged.total,
                                    runs: merged.lines.map { CampaignReport.Run(record: $0.record, rerun: $0.rerun) })
        report.plotted = plots
        report.problems = merged.conflicts.map { "CONTRADICTED: \($0)" } + merged.notes
        writeReport(report, to: out, inputs: files)
        let failed = merged.lines.filter { $0.verdict != .pass }.count
        print("report: \(out) (\(merged.lines.count) of \(merged.total) runs, \(failed) did not pass\(merged.missing.isEmpty ? "" : ", \(merged.missing.count) missing"))")
        if !merged.complete || failed > 0 { Glibc.exit(1) }
    }

    /// The campaign file named in a rerun command (`touchdown campaign FILE --only ID`).
    static func campaignFile(rerun: String) -> String? {
        let prefix = "touchdown campaign "
        guard rerun.hasPrefix(prefix), let range = rerun.range(of: " --only ", options: .backwards) else { return nil }
        return String(rerun[rerun.index(rerun.startIndex, offsetBy: prefix.count)..<range.lowerBound])
    }
}

/// Writes a campaign report, flying its worst runs again in a scratch
/// folder beside the output to plot them.
func writeReport(_ report: CampaignReport, to path: String, inputs: [String]) {
    guard path.hasSuffix(".html") else { fail("--report/--out \(path): accepted: a file name ending in .html", code: 2) }
    let folder = (path as NSString).deletingLastPathComponent
    var template = Array(((folder.isEmpty ? "." : folder) + "/.touchdown-report-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { fail("cannot make a scratch folder beside \(path): \(String(cString: strerror(errno)))", code: 2) }
    let scratch = String(cString: made)
    let html = report.html { try RunReplotter.series($0, scratch: scratch) }
    try? FileManager.default.removeItem(atPath: scratch)
    do { try writeReplacing(path, html, inputs: inputs) } catch { fail("\(error)", code: 2) }
}
