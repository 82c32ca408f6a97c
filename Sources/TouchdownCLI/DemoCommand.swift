import ArgumentParser
import Foundation
import TouchdownCampaign
import TouchdownReplay
import TouchdownReport
#if canImport(Glibc)
import Glibc
#endif

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fly the three scenarios and replay them with the faults that lost two landers.",
        discussion: "Prints one row per case and writes every trace into one folder. Exit 0 when every case ends as expected.")

    @Option(help: "Folder of scenario files; default: fixtures/scenarios here or beside the build.") var scenarios: String?
    @Option(help: "Folder for the traces.") var out: String = "demo-out"

    func run() throws {
        let folder = scenarios ?? findScenarios()
        mkdir(out, 0o755)
        var isFolder = stat()
        guard stat(out, &isFolder) == 0, (isFolder.st_mode & S_IFMT) == S_IFDIR else { fail("cannot create the folder \(out)", code: 2) }
        let cases = badInput(json: false) { try Demo.cases(scenarios: folder, outputFolder: out) }
        let rows = badInput(json: false) { try Demo.run(cases) }
        print(Demo.table(rows), terminator: "")
        print("traces: \(out)/ (\(rows.count) files)")
        runCampaign(((folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("campaigns/demo.yaml"))
        if !rows.allSatisfy(\.result.passed) { throw ExitCode(1) }
    }

    /// The demo's small campaign (altimeter latency × IMU frame drops over
    /// dispersed flights), in worker processes: where the guidance breaks is
    /// its finding, so its failures do not fail the demo; a campaign that
    /// cannot run does.
    func runCampaign(_ path: String) {
        let file = (path as NSString).standardizingPath
        let runs: [CampaignRun]
        let campaign: Campaign
        do {
            campaign = try Campaign.load(path: file)
            runs = try campaign.runs()
        } catch {
            fail("\(error)", code: 2)
        }
        guard let exe = currentExecutablePath() else { fail("cannot find this executable to start workers", code: 2) }
        let runner = CampaignRunner(jobs: ProcessInfo.processInfo.activeProcessorCount, runTimeout_s: campaign.runTimeout_s,
                                    workerCommand: [exe, "campaign-worker"])
        runner.runMemory_bytes = campaign.runMemory_bytes
        var records: [RunRecord] = []
        do { try runner.run(runs) { records.append($0) } } catch { fail("\(error)", code: 2) }
        let results = out + "/campaign.jsonl"
        let lines = records.map { $0.line(campaign: campaign, total: runs.count, rerun: CampaignCommand.rerun(file, $0.run.id)) + "\n" }
        do { try writeReplacing(results, lines.joined(), inputs: [file]) } catch { fail("\(error)", code: 2) }
        print("")
        print(CampaignCommand.summary(name: campaign.name, records: records, skipped: 0, failuresShown: 0) { _ in "" })
        print("results: \(results) (each run's inputs, draws, outcome, metrics and rerun command)")
        let reportPath = out + "/demo-report.html"
        let irreproducible = writeReport(CampaignReport(campaign: campaign.name, fingerprint: campaign.fingerprint, file: file, total: runs.count,
                                   runs: records.map { CampaignReport.Run(record: $0, rerun: CampaignCommand.rerun(file, $0.run.id)) }),
                    to: reportPath, inputs: [file])
        print("report: \(reportPath) (the fault grid, the dispersions against the outcome, the worst runs plotted)")
        if irreproducible > 0 { fail("flown again for the report, \(irreproducible) campaign runs gave another digest: the runs are not deterministic", code: 1) }
        if records.contains(where: { $0.verdict == .error }) { fail("some campaign runs could not run; see \(results)", code: 1) }
    }

    /// fixtures/scenarios in the working folder, else in the checkout the
    /// executable was built in (.build/<config>/touchdown).
    func findScenarios() -> String {
        var candidates = ["fixtures/scenarios"]
        if let exe = currentExecutablePath() {
            var parts = exe.split(separator: "/").map(String.init)
            for _ in 0..<4 where !parts.isEmpty {
                parts.removeLast()
                candidates.append("/" + parts.joined(separator: "/") + "/fixtures/scenarios")
            }
        }
        for c in candidates where access(c + "/nominal.yaml", R_OK) == 0 { return c }
        fail("no scenario folder found (looked in \(candidates.joined(separator: ", "))); give --scenarios", code: 2)
    }
}
