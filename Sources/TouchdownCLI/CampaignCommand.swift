import ArgumentParser
import Foundation
import Synchronization
import TouchdownCampaign
import TouchdownReplay
import TouchdownReport
import TouchdownTrace
#if canImport(Glibc)
import Glibc
#endif

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Run a fault-injection campaign: a matrix of faults and Monte Carlo dispersions (docs/campaigns.md).",
        discussion: "Exit status: 0 when every run passes, 1 when any fails or could not run, 2 for a bad campaign file or bad input.")

    @Argument(help: "The campaign file (YAML).") var file: String
    @Option(help: "Runs at a time, each in a worker process (default: the number of cores).") var jobs: Int?
    @Option(name: .customLong("results"), help: "Append one JSON line per run to this file as runs end.") var results: String?
    @Flag(help: "Finish the campaign in --results, skipping the runs it already holds.") var resume = false
    @Option(name: .customLong("only"), help: "Run only this run id (repeatable); ids come from --list.") var only: [String] = []
    @Option(help: "Run slice I of N (0/4 is the first of four). Without it, the slice an engine's variables give (docs/campaigns.md).") var shard: String?
    @Option(help: "The shard count, for engines whose variables give only the index (Kubernetes, AWS Batch).") var shards: Int?
    @Option(name: .customLong("junit"), help: "Write a JUnit XML report (default: $XML_OUTPUT_FILE under Bazel).") var junit: String?
    @Option(help: ArgumentHelp("Write the campaign's HTML report here (docs/reports.md).", valueName: "FILE.html")) var report: String?
    @Flag(help: "Print the runs (id and inputs) without running them.") var list = false
    @Flag(help: "With --list: one JSON object per run.") var json = false

    func validate() throws {
        if let jobs, !(1...256).contains(jobs) { throw ValidationError("--jobs \(jobs) is not accepted: 1 to 256") }
        if let report, !report.hasSuffix(".html") { throw ValidationError("--report \(report): accepted: a file name ending in .html") }
        if resume && results == nil { throw ValidationError("--resume continues the file given with --results; give it") }
        if let shard { do { _ = try Shard(parsing: shard) } catch { throw ValidationError(error.description) } }
        if let shards, !(1...1_000_000).contains(shards) { throw ValidationError("--shards \(shards) is not accepted: 1 to 1000000") }
    }

    func run() {
        let campaign: Campaign
        var runs: [CampaignRun]
        do {
            campaign = try Campaign.load(path: file)
            runs = try campaign.runs()
        } catch {
            fail("\(error)", code: 2)
        }
        let total = runs.count
        let environment = ProcessInfo.processInfo.environment
        let slice: Shard?
        do {
            slice = try shard.map { try Shard(parsing: $0) } ?? Shard.fromEnvironment(environment, shards: shards)
        } catch {
            fail("\(error)", code: 2)
        }
        if let slice {
            runs = runs.filter(slice.contains)
            FileHandleStderr.write("\(slice.description): \(runs.count) of \(total) runs\n")
        }
        if !only.isEmpty {
            for id in only where !runs.contains(where: { $0.id == id }) {
                fail("run id \(id) is not in \(file); `touchdown campaign \(file) --list` prints the ids", code: 2)
            }
            runs = runs.filter { only.contains($0.id) }
        }
        if list {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for r in runs {
                if json {
                    print(String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self))
                } else {
                    print(Self.describe(r))
                }
            }
            return
        }

        // Every file the campaign reads; no output may be one of them.
        let inputs = [file] + campaign.traces.map(campaign.resolved) + campaign.scenarios.map(campaign.resolved)
        let junitPath = junit ?? environment["XML_OUTPUT_FILE"]
        // Checked before any run: a report that cannot be written is known now, not after hours.
        for (flag, path) in [("--report", report), ("--junit", junitPath)] {
            guard let path else { continue }
            do { try OutputGuard.refuse(output: path, sameAsAnyOf: inputs + (results.map { [$0] } ?? [])) } catch { fail("\(error)", code: 2) }
            if let problem = Self.unwritable(path) { fail("\(flag) \(path): \(problem)", code: 2) }
            if let results, Self.sameFile(path, results) { fail("\(flag) and --results name the same file, \(path): give each its own", code: 2) }
        }
        if let report, let junitPath, Self.sameFile(report, junitPath) {
            fail("--report and --junit name the same file, \(report): give each its own", code: 2)
        }
        // Results: appended as runs end; an existing file is continued only with --resume.
        var earlier: [RunRecord] = []
        var sink: Int32 = -1
        if let results {
            do { try OutputGuard.refuse(output: results, sameAsAnyOf: inputs) } catch { fail("\(error)", code: 2) }
            if FileManager.default.fileExists(atPath: results) {
                guard resume else {
                    fail("\(results) exists: --resume continues it, or remove it first (results are never overwritten)", code: 2)
                }
                // The runs of this selection the file already holds count in the
                // verdict, the summary, the JUnit and the report as if run now.
                let selected = Set(runs.map(\.id))
                var seen: Set<String> = []
                for line in Self.finishedRuns(in: results, campaign: campaign)
                where selected.contains(line.id) && seen.insert(line.text).inserted {
                    earlier.append(line.record)
                }
            }
            sink = open(results, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard sink >= 0 else { fail("cannot open \(results): \(String(cString: strerror(errno)))", code: 2) }
        }
        let done = Set(earlier.map(\.run.id))
        let skipped = done.count
        runs = runs.filter { !done.contains($0.id) }
        if skipped > 0 { FileHandleStderr.write("resuming \(results!): \(skipped) runs already done, \(runs.count) to go\n") }

        guard let exe = currentExecutablePath() else { fail("cannot find this executable to start workers", code: 2) }
        let runner = CampaignRunner(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                                    runTimeout_s: campaign.runTimeout_s, workerCommand: [exe, "campaign-worker"])
        runner.runMemory_bytes = campaign.runMemory_bytes
        var records: [RunRecord] = []
        var progress = Progress(total: runs.count)
        // SIGINT and SIGTERM stop the campaign between runs: what finished
        // is recorded, and the message says how to go on.
        Interruption.install()
        runner.shouldStop = { Interruption.requested }
        do {
            try runner.run(runs) { record in
                let line = record.line(campaign: campaign, total: total, rerun: Self.rerun(file, record.run.id)) + "\n"
                if sink >= 0 {
                    var bytes = Array(line.utf8)
                    var sent = 0
                    while sent < bytes.count {
                        let n = bytes[sent...].withUnsafeMutableBytes { write(sink, $0.baseAddress, $0.count) }
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { fail("cannot write \(results!): \(String(cString: strerror(errno)))", code: 2) }
                        sent += n
                    }
                }
                progress.note(record)
                records.append(record)
            }
        } catch {
            fail("\(error)", code: 2)
        }
        progress.end()
        if sink >= 0 { close(sink) }
        if runner.interrupted {
            let done = skipped + records.count
            if let results {
                FileHandleStderr.write("interrupted: \(done) of \(done + runs.count - records.count) runs done and recorded in \(results); go on with:\n  touchdown campaign \(file) --results \(results) --resume\n")
            } else {
                FileHandleStderr.write("interrupted after \(records.count) of \(runs.count) runs; nothing was recorded (give --results FILE to be able to resume)\n")
            }
            Glibc.exit(130)
        }
        FileHandleStderr.write("workers: \(runner.workersStarted) started, peak memory of one \(String(format: "%.1f", Double(runner.peakWorkerRSS_kB) / 1024)) MiB\n")
        // What the selection holds: the runs done before resuming, then these.
        let all = (earlier + records).sorted { $0.run.index < $1.run.index }
        let outputInputs = inputs + (results.map { [$0] } ?? [])
        if let junitPath {
            let xml = JUnitReport.xml(campaign: campaign.name, records: all) { Self.rerun(file, $0.run.id) }
            do { try writeReplacing(junitPath, xml, inputs: outputInputs) } catch { fail("\(error)", code: 2) }
        }
        var notReproduced = false
        if let report {
            var r = CampaignReport(campaign: campaign.name, fingerprint: campaign.fingerprint, file: file, total: total,
                                   runs: all.map { CampaignReport.Run(record: $0, rerun: Self.rerun(file, $0.run.id)) })
            if let slice { r.problems.append("this is \(slice.description) of the campaign: `touchdown report` over every shard's results reports it whole") }
            if writeReport(r, to: report, inputs: outputInputs) > 0 { notReproduced = true }
            FileHandleStderr.write("report: \(report)\n")
        }
        // Bazel: this test knows about sharding.
        if let status = environment["TEST_SHARD_STATUS_FILE"] { _ = FileManager.default.createFile(atPath: status, contents: nil) }
        print(Self.summary(name: campaign.name, records: all, skipped: skipped) { Self.rerun(file, $0.run.id) })
        if all.contains(where: { $0.verdict != .pass }) || notReproduced { Glibc.exit(1) }
    }

    static func rerun(_ file: String, _ id: String) -> String { RerunCommand.text(campaignFile: file, runID: id) }

    static func describe(_ r: CampaignRun) -> String {
        var parts = [r.id, r.source, r.guidance]
        if !r.cell.isEmpty { parts.append(r.cell.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) }
        if let c = r.caseIndex { parts.append("case \(c + 1): " + r.faults.joined(separator: " ")) }
        parts.append("sample \(r.sample)")
        if !r.draws.isEmpty { parts.append(r.draws.map { "\($0.path)=\($0.value)" }.joined(separator: " ")) }
        return parts.joined(separator: "  ")
    }

    /// The lines a results file already holds for this campaign, read as
    /// `touchdown merge` reads it (a line that contradicts itself is bad
    /// input). A last line without its newline is a results line cut short
    /// by a run killed while writing it, and is cut off so that appending
    /// continues cleanly; but only when it begins as a results line does,
    /// and is not whole. A whole one gets its newline; anything else is no
    /// results file, and is left as it is.
    static func finishedRuns(in path: String, campaign: Campaign) -> [ResultLine] {
        var read: (lines: [ResultLine], note: String?, completeBytes: Int)
        do { read = try Results.read(path: path) } catch { fail("resuming: \(error)", code: 2) }
        // Another campaign's file is refused before anything in it is touched.
        func refuseOther(_ lines: [ResultLine]) {
            for l in lines where l.fingerprint != campaign.fingerprint {
                fail("\(path) holds results of another version of \(campaign.file) (fingerprint \(l.fingerprint), now \(campaign.fingerprint)); use a new results file", code: 2)
            }
        }
        refuseOther(read.lines)
        if read.note != nil {
            let tail = FileManager.default.contents(atPath: path).map { Array($0.dropFirst(read.completeBytes)) } ?? []
            guard tail.starts(with: Array("{\"campaign\":".utf8)) else {
                fail("resuming: \(path) does not end as a campaign results file does (its last line neither ends in a newline nor begins with {\"campaign\":); it is left as it is: give --results a results file, or a new name", code: 2)
            }
            if let whole = try? JSONDecoder().decode(ResultLine.self, from: Data(tail)), whole.inconsistency == nil {
                refuseOther([whole])
                FileHandleStderr.write("resuming: \(path): its last line is whole but lacks its newline; added\n")
                let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
                guard fd >= 0, write(fd, "\n", 1) == 1 else { fail("cannot write \(path): \(String(cString: strerror(errno)))", code: 2) }
                close(fd)
                do { read = try Results.read(path: path) } catch { fail("resuming: \(error)", code: 2) }
            } else {
                // A torn line names its campaign when it was cut after the fingerprint.
                let text = String(decoding: tail, as: UTF8.self)
                if let start = text.range(of: "\"fingerprint\":\""), let end = text[start.upperBound...].firstIndex(of: "\""),
                   text[start.upperBound..<end] != campaign.fingerprint {
                    fail("\(path) ends in a torn line of another version of \(campaign.file) (fingerprint \(text[start.upperBound..<end]), now \(campaign.fingerprint)); it is left as it is: use a new results file", code: 2)
                }
                FileHandleStderr.write("resuming: \(read.note!); dropped\n")
                guard truncate(path, off_t(read.completeBytes)) == 0 else {
                    fail("cannot cut the torn last line of \(path): \(String(cString: strerror(errno)))", code: 2)
                }
            }
        }
        return read.lines
    }

    /// Why `path` cannot be written as an output, if it cannot: a folder, or
    /// in a folder that does not exist.
    static func unwritable(_ path: String) -> String? {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            return "is a folder; give a file name"
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty && !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
            return "the folder \(folder) does not exist"
        }
        return nil
    }

    /// Whether two paths name one file (the same text, or the same existing file).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        if (a as NSString).standardizingPath == (b as NSString).standardizingPath { return true }
        return (try? OutputGuard.refuse(output: a, sameAsAnyOf: [b])) == nil
    }

    static func summary(name: String, records: [RunRecord], skipped: Int, failuresShown: Int = 10, rerun: (RunRecord) -> String) -> String {
        let pass = records.filter { $0.verdict == .pass }.count
        let fail = records.filter { $0.verdict == .fail }.count
        let error = records.filter { $0.verdict == .error }.count
        var lines = ["campaign \(name): \(records.count) runs, \(pass) passed, \(fail) failed, \(error) could not run"
                     + (skipped > 0 ? " (\(skipped) of them done before resuming)" : "")]
        if records.contains(where: { !$0.run.cell.isEmpty || $0.run.caseIndex != nil }) {
            // Pass rate per matrix cell and per case, in the campaign's
            // order; apart per guidance and source when there are several,
            // so that a row never mixes them.
            let guidances = Set(records.map(\.run.guidance)).count > 1, sources = Set(records.map(\.run.source)).count > 1
            let cells = RunRecord.passCounts(records) { r -> String? in
                var parts: [String] = []
                if sources { parts.append("source=\(r.run.source)") }
                if guidances { parts.append("guidance=\(r.run.guidance)") }
                if let c = r.run.caseIndex {
                    parts.append("case \(c + 1): " + r.run.faults.joined(separator: " "))
                } else {
                    parts += r.run.cell.map { "\($0.key)=\($0.value)" }
                }
                return parts.joined(separator: " ")
            }
            let width = cells.map(\.key.count).max() ?? 0
            lines.append("")
            lines.append("cell".padding(toLength: width, withPad: " ", startingAt: 0) + "  passed")
            for c in cells {
                lines.append(c.key.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(c.pass)/\(c.total)")
            }
        }
        let failed = records.filter { $0.verdict != .pass }
        if !failed.isEmpty && failuresShown > 0 {
            lines.append("")
            lines.append("failed (first \(min(failuresShown, failed.count)) of \(failed.count)):")
            for r in failed.prefix(failuresShown) {
                lines.append("  \(r.run.id) \(r.verdict.rawValue): \(r.problems.joined(separator: "; "))")
                lines.append("    \(rerun(r))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// SIGINT and SIGTERM, noted for the campaign to stop between runs.
enum Interruption {
    private static let flag = Atomic<Int>(0)
    static var requested: Bool { flag.load(ordering: .relaxed) != 0 }

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in Interruption.flag.store(1, ordering: .relaxed) }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with them blocked (some test runners do).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// One progress line on a terminal; a plain line every 10 s otherwise.
struct Progress {
    let total: Int
    var done = 0
    var failed = 0
    let terminal = isatty(2) != 0
    let start_s = monotonicSeconds()
    var last_s = monotonicSeconds()

    init(total: Int) { self.total = total }

    mutating func note(_ r: RunRecord) {
        done += 1
        if r.verdict != .pass { failed += 1 }
        let now = monotonicSeconds()
        guard now - last_s >= (terminal ? 0.2 : 10) || done == total else { return }
        last_s = now
        let rate = Double(done) / max(1e-9, now - start_s)
        let left = rate > 0 ? Double(total - done) / rate : 0
        let text = "\(done)/\(total) runs, \(failed) failed, \(String(format: "%.1f", rate)) runs/s, \(Int(left.rounded())) s left"
        FileHandleStderr.write(terminal ? "\r\u{1B}[K" + text : text + "\n")
    }

    func end() { if terminal { FileHandleStderr.write("\n") } }
}

/// `touchdown merge`: one campaign's results from its shards.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the results files of a campaign's shards; report missing, repeated and contradictory runs.",
        discussion: "Exit status: 0 when every run is there once and passed, 1 when a run is missing, contradicted or did not pass, 2 for unreadable input or results of different campaigns.")
    @Argument(help: "Results files (JSONL), from `touchdown campaign --results`.") var files: [String]
    @Option(name: .customLong("results"), help: "Write the merged results here, one line per run in run order.") var results: String?
    @Option(name: .customLong("junit"), help: "Write a JUnit XML report.") var junit: String?

    func validate() throws {
        if files.isEmpty { throw ValidationError("give one or more results files") }
    }

    func run() {
        let merged: MergedResults
        do { merged = try Results.merge(paths: files) } catch { fail("\(error)", code: 2) }
        for n in merged.notes { FileHandleStderr.write("note: \(n)\n") }
        if let results, let junit, CampaignCommand.sameFile(results, junit) {
            fail("--results and --junit name the same file, \(results): give each its own", code: 2)
        }
        do {
            if let results {
                try writeReplacing(results, merged.lines.map { $0.text + "\n" }.joined(), inputs: files)
            }
            if let junit {
                let reruns = Dictionary(merged.lines.map { ($0.id, $0.rerun) }, uniquingKeysWith: { a, _ in a })
                let xml = JUnitReport.xml(campaign: merged.campaign, records: merged.lines.map(\.record),
                                          incomplete: merged.incompleteness) { reruns[$0.run.id] ?? "" }
                try writeReplacing(junit, xml, inputs: files)
            }
        } catch {
            fail("\(error)", code: 2)
        }
        let reruns = Dictionary(merged.lines.map { ($0.id, $0.rerun) }, uniquingKeysWith: { a, _ in a })
        print(CampaignCommand.summary(name: merged.campaign, records: merged.lines.map(\.record), skipped: 0) { reruns[$0.run.id] ?? "" })
        for d in merged.duplicates { print("repeated (identical, kept once): \(d)") }
        for line in merged.incompleteness { print(line) }
        if !merged.complete || merged.lines.contains(where: { $0.verdict != .pass }) { Glibc.exit(1) }
    }
}

/// Writes `text` to `path` through a temporary file renamed into place,
/// refusing a path that is one of `inputs`.
func writeReplacing(_ path: String, _ text: String, inputs: [String]) throws {
    try OutputGuard.refuse(output: path, sameAsAnyOf: inputs)
    let sink = try FileSink(path: path)
    var bytes = Array(text.utf8)
    try bytes.withUnsafeMutableBytes { try sink.write(UnsafeRawBufferPointer($0)) }
    try sink.close()
}

/// `touchdown campaign-worker`: runs the orders a campaign sends it (hidden).
struct CampaignWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign-worker", abstract: "Run campaign orders from standard input (started by `touchdown campaign`).",
        shouldDisplay: false)
    func run() { CampaignWorker.serve() }
}
