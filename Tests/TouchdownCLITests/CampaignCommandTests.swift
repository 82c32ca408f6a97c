import Foundation
import Testing
import TouchdownTestSupport

/// This process's environment without the variables through which job
/// engines hand out shards: the suite may itself run as a sharded CI job.
let unshardedEnvironment = ProcessInfo.processInfo.environment.filter { key, _ in
    !["TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", "TEST_SHARD_STATUS_FILE", "XML_OUTPUT_FILE", "SLURM_ARRAY_TASK_ID",
      "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "CI_NODE_INDEX",
      "CI_NODE_TOTAL", "AWS_BATCH_JOB_ARRAY_INDEX"].contains(key)
}

@Suite(.serialized) struct CampaignCommandTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args, environment: unshardedEnvironment) }

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

    /// SIGINT stops the campaign between runs, keeps what finished, says how
    /// to go on (exit 130), and --resume then finishes it to the same bytes
    /// as an uninterrupted run.
    @Test func anInterruptedCampaignResumes() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("c.yaml").path
        try """
            name: interrupted
            seed: 5
            source: {traces: [\(Self.trace)]}
            matrix:
              altimeter.latency: [none, 0.5s, 1s, 1.5s, 2s, 2.5s]
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let full = dir.appendingPathComponent("full.jsonl").path
        #expect(try touchdown("campaign", path, "--results", full).status == 0)
        let partial = dir.appendingPathComponent("partial.jsonl").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: touchdownExecutable)
        process.arguments = ["campaign", path, "--jobs", "1", "--results", partial]
        process.environment = unshardedEnvironment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Interrupt once the first run is recorded.
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: partial, encoding: .utf8), text.contains("\n") { break }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGINT)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("interrupted:") && stderr.contains("--resume"), "\(stderr)")
        let kept = try String(contentsOfFile: partial, encoding: .utf8).split(separator: "\n").count
        #expect(kept >= 1 && kept < 6, "\(kept) runs recorded before the interruption")
        let resumed = try touchdown("campaign", path, "--results", partial, "--resume")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: partial)) == Data(contentsOf: URL(fileURLWithPath: full)))
    }

    /// Runs done before a resume count in the verdict, the summary and the
    /// JUnit file: a campaign whose failed run was recorded before an
    /// interruption exited 0 when resumed.
    @Test func aResumedCampaignCountsTheRunsDoneBefore() throws {
        let dir = try TestPaths.scratch()
        let path = try Self.file(dir, assert: "touchdown.vertical_speed_mps <= 0.001")
        let full = dir.appendingPathComponent("full.jsonl").path
        #expect(try touchdown("campaign", path, "--jobs", "1", "--results", full).status == 1)
        let text = try String(contentsOfFile: full, encoding: .utf8)
        let part = dir.appendingPathComponent("part.jsonl").path
        try String(text.split(separator: "\n")[0] + "\n").write(toFile: part, atomically: true, encoding: .utf8)
        let junit = dir.appendingPathComponent("part.xml").path
        let resumed = try touchdown("campaign", path, "--jobs", "1", "--results", part, "--resume", "--junit", junit)
        #expect(resumed.status == 1, "\(resumed.stdout) \(resumed.stderr)")
        #expect(resumed.stdout.contains("2 runs, 0 passed, 2 failed, 0 could not run (1 of them done before resuming)"), "\(resumed.stdout)")
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("tests=\"2\" failures=\"2\" errors=\"0\""))
        // Nothing left to run: still the file's verdict.
        let again = try touchdown("campaign", path, "--results", full, "--resume")
        #expect(again.status == 1 && again.stdout.contains("2 runs, 0 passed, 2 failed"), "\(again.stdout) \(again.stderr)")
    }

    /// --resume cuts only a torn results line: a whole last line missing its
    /// newline gets one, and a file that ends otherwise is left as it is.
    /// It cut anything after the last newline, a file of notes included.
    @Test func resumeCutsOnlyATornResultsLine() throws {
        let dir = try TestPaths.scratch()
        let path = try Self.file(dir)
        let full = dir.appendingPathComponent("full.jsonl").path
        #expect(try touchdown("campaign", path, "--jobs", "1", "--results", full).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: full))

        let notes = dir.appendingPathComponent("notes.txt").path
        try "precious data without newline".write(toFile: notes, atomically: true, encoding: .utf8)
        let n = try touchdown("campaign", path, "--results", notes, "--resume")
        #expect(n.status == 2 && n.stderr.contains("left as it is"), "\(n.stderr)")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "precious data without newline")

        let unterminated = dir.appendingPathComponent("unterminated.jsonl").path
        try bytes.dropLast().write(to: URL(fileURLWithPath: unterminated))
        let u = try touchdown("campaign", path, "--results", unterminated, "--resume")
        #expect(u.status == 0 && u.stderr.contains("2 runs already done, 0 to go"), "\(u.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: unterminated)) == bytes)

        // A torn line of another version of the campaign is not this one's to cut.
        let other = try Self.file(try TestPaths.scratch(), extra: "samples: 1")
        let torn = dir.appendingPathComponent("torn.jsonl").path
        try bytes.prefix(120).write(to: URL(fileURLWithPath: torn))
        let t = try touchdown("campaign", other, "--results", torn, "--resume")
        #expect(t.status == 2 && t.stderr.contains("another version"), "\(t.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: torn)) == bytes.prefix(120))
    }

    /// Outputs are checked before the first run. `--junit` was checked
    /// against the campaign file only: it replaced a trace the campaign read,
    /// or the results just written, with its XML.
    @Test func outputsAreCheckedBeforeAnyRun() throws {
        let dir = try TestPaths.scratch()
        let trace = dir.appendingPathComponent("t.mcap").path
        try FileManager.default.copyItem(atPath: Self.trace, toPath: trace)
        let path = dir.appendingPathComponent("c.yaml").path
        try "name: v\nsource: {traces: [t.mcap]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: trace))
        let results = dir.appendingPathComponent("r.jsonl").path
        for args in [["--junit", trace], ["--junit", results], ["--report", results.replacingOccurrences(of: ".jsonl", with: ".html"), "--junit", results.replacingOccurrences(of: ".jsonl", with: ".html")],
                     ["--junit", dir.path], ["--junit", dir.appendingPathComponent("no/such/folder.xml").path]] {
            let r = try run(touchdownExecutable, ["campaign", path, "--results", results] + args, environment: unshardedEnvironment)
            #expect(r.status == 2 && r.stderr.hasPrefix("error: "), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: results), "\(args): runs were run")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: trace)) == before)
    }

    /// A campaign with no runs exited 0; one of a hundred million grew
    /// without bound before running anything.
    @Test func aCampaignOfNoRunsOrTooManyIsRefused() throws {
        let dir = try TestPaths.scratch()
        let none = dir.appendingPathComponent("none.yaml").path
        try "name: z\nsource: {traces: [\(Self.trace)]}\nguidance: []\n".write(toFile: none, atomically: true, encoding: .utf8)
        let z = try touchdown("campaign", none, "--junit", dir.appendingPathComponent("z.xml").path)
        #expect(z.status == 2 && z.stderr.contains("guidance has no entries"), "\(z.stderr)")
        let big = dir.appendingPathComponent("big.yaml").path
        try """
            name: big
            source: {traces: [\(Self.trace)]}
            samples: 1000000
            matrix:
              altimeter.latency: [none, 1s, 2s, 3s, 4s, 5s, 6s, 7s, 8s, 9s]
              imu.drop: [none, 1%, 2%, 3%, 4%, 5%, 6%, 7%, 8%, 9%]
            """.write(toFile: big, atomically: true, encoding: .utf8)
        let b = try touchdown("campaign", big, "--list")
        #expect(b.status == 2 && b.stderr.contains("100000000 runs") && b.stderr.contains("at most 1000000"), "\(b.stderr)")
    }

    /// An engine's shard index without its count was ignored, and the whole
    /// campaign ran in every job.
    @Test func aShardIndexWithoutItsCountIsRefused() throws {
        let dir = try TestPaths.scratch()
        let path = try Self.file(dir)
        for env in [["TEST_SHARD_INDEX": "0"], ["CI_NODE_TOTAL": "4"]] {
            let r = try run(touchdownExecutable, ["campaign", path, "--list"], environment: unshardedEnvironment.merging(env) { $1 })
            #expect(r.status == 2 && r.stderr.contains("is set without"), "\(env): \(r.stderr)")
        }
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

        // A guidance that kills the worker running it (its shell's parent):
        // that run is an error naming the signal; a new worker runs the next.
        let killer = dir.appendingPathComponent("killer.yaml").path
        try """
            name: killer
            source: {traces: [\(Self.trace)]}
            guidance:
              - {cmd: "echo $$ > \(dir.path)/guidance.pid; kill -KILL $PPID; sleep 300"}
              - {name: reference}
            """.write(toFile: killer, atomically: true, encoding: .utf8)
        let k = try touchdown("campaign", killer, "--jobs", "1")
        #expect(k.status == 1)
        #expect(k.stdout.contains("2 runs, 1 passed, 0 failed, 1 could not run"), "\(k.stdout)")
        #expect(k.stdout.contains("the worker running it was killed by signal 9"), "\(k.stdout)")
        // The guidance the dead worker started is ended with it.
        let guidancePID = try #require(Int32(try String(contentsOfFile: dir.path + "/guidance.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let stat = (try? String(contentsOfFile: "/proc/\(guidancePID)/stat", encoding: .utf8)) ?? ""
        #expect(stat.isEmpty || stat.contains(") Z "), "the dead worker's guidance \(guidancePID) still runs")

        // A worker over the run memory limit (here below its own size)
        // costs the run, never passes it.
        let small = try Self.file(dir, extra: "limits: {run_memory: 1 MiB}")
        let mem = try touchdown("campaign", small, "--jobs", "1")
        #expect(mem.status == 1)
        #expect(mem.stdout.components(separatedBy: "over the run memory limit of 1 MiB (limits.run_memory)").count == 3, "\(mem.stdout)")

        let slow = try Self.file(dir, extra: "limits: {run_timeout: 0.2 s}")
        let t = try touchdown("campaign", slow, "--jobs", "1")
        #expect(t.status == 1)
        #expect(t.stdout.contains("2 could not run"), "\(t.stdout)")
        #expect(t.stdout.components(separatedBy: "run timeout of 0.2 s").count == 3, "\(t.stdout)")
    }
}

@Suite(.serialized) struct CampaignShardTests {
    func touchdown(_ args: String..., environment: [String: String] = unshardedEnvironment) throws -> ProcessResult {
        try run(touchdownExecutable, args, environment: environment)
    }

    /// Shards, merged, equal the unsharded run: same ids, outcomes and
    /// digests, byte for byte. A lost shard is reported, never a smaller
    /// passing campaign.
    @Test func shardsMergeToTheUnshardedRun() throws {
        let dir = try TestPaths.scratch()
        let path = try CampaignCommandTests.file(dir)
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        #expect(try touchdown("campaign", path, "--results", p("all.jsonl")).status == 0)
        let s0 = try touchdown("campaign", path, "--shard", "0/2", "--results", p("s0.jsonl"))
        #expect(s0.status == 0 && s0.stderr.contains("shard 0/2 (from --shard): 1 of 2 runs"), "\(s0.stderr)")
        // The second shard from Bazel's variables, which also asks for the
        // status file and the JUnit file.
        var env = unshardedEnvironment
        env["TEST_SHARD_INDEX"] = "1"
        env["TEST_TOTAL_SHARDS"] = "2"
        env["TEST_SHARD_STATUS_FILE"] = p("shard-status")
        env["XML_OUTPUT_FILE"] = p("bazel.xml")
        let s1 = try touchdown("campaign", path, "--results", p("s1.jsonl"), environment: env)
        #expect(s1.status == 0 && s1.stderr.contains("Bazel TEST_SHARD_INDEX/TEST_TOTAL_SHARDS"), "\(s1.stderr)")
        #expect(FileManager.default.fileExists(atPath: p("shard-status")))
        #expect(try String(contentsOfFile: p("bazel.xml"), encoding: .utf8).contains("tests=\"1\""))

        let m = try touchdown("merge", p("s1.jsonl"), p("s0.jsonl"), "--results", p("merged.jsonl"), "--junit", p("merged.xml"))
        #expect(m.status == 0, "\(m.stdout) \(m.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: p("merged.jsonl"))) == Data(contentsOf: URL(fileURLWithPath: p("all.jsonl"))))

        let lost = try touchdown("merge", p("s0.jsonl"))
        #expect(lost.status == 1)
        #expect(lost.stdout.contains("MISSING 1 of 2 runs"), "\(lost.stdout)")
        let twice = try touchdown("merge", p("s0.jsonl"), p("s0.jsonl"), p("s1.jsonl"))
        #expect(twice.status == 0 && twice.stdout.contains("repeated (identical, kept once)"), "\(twice.stdout)")

        // Results of another campaign do not merge in.
        let other = try CampaignCommandTests.file(try TestPaths.scratch("other-campaign"), assert: "propellant_kg >= 1")
        #expect(try touchdown("campaign", other, "--shard", "1/2", "--results", p("other.jsonl")).status == 0)
        let mixed = try touchdown("merge", p("s0.jsonl"), p("other.jsonl"))
        #expect(mixed.status == 2 && mixed.stderr.contains("one campaign at a time"), "\(mixed.stderr)")

        // The JUnit file parses, with one testcase per run and the run's properties.
        let check = """
            import sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            assert root.tag == "testsuites", root.tag
            cases = root.findall("./testsuite/testcase")
            assert len(cases) == 2, len(cases)
            for suite in root.findall("./testsuite"):
                names = [p.get("name") for p in suite.findall("./properties/property")]
                assert "run_id" in names and "digest" in names, names
            for c in cases:
                assert c.get("classname") == "small.nominal", c.get("classname")
            print("ok")
            """
        let py = try run("/usr/bin/python3", ["-c", check, p("merged.xml")])
        #expect(py.stdout.contains("ok"), "\(py.stdout) \(py.stderr)")
    }

    /// Each engine's variables give the same slice; disagreeing ones are an error.
    @Test func engineVariables() throws {
        let dir = try TestPaths.scratch()
        let path = try CampaignCommandTests.file(dir)
        let base = unshardedEnvironment
        let cases: [([String: String], [String], String)] = [
            (["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_MAX": "5"], [], "shard 1/2 (from Slurm SLURM_ARRAY_TASK_ID)"),
            (["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"], [], "shard 0/2 (from Slurm"),
            // `--array=0-2:2`: tasks 0 and 2 are shards 0 and 1 (task 2 was shard 2 of 2, an error).
            (["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "2", "SLURM_ARRAY_TASK_STEP": "2"], [],
             "shard 1/2 (from Slurm SLURM_ARRAY_TASK_ID)"),
            (["JOB_COMPLETION_INDEX": "1"], ["--shards", "2"], "shard 1/2 (from Kubernetes JOB_COMPLETION_INDEX)"),
            (["CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"], [], "shard 0/2 (from GitLab CI_NODE_INDEX/CI_NODE_TOTAL)"),
            (["AWS_BATCH_JOB_ARRAY_INDEX": "0"], ["--shards", "2"], "shard 0/2 (from AWS Batch"),
        ]
        for (vars, extra, expected) in cases {
            let env = base.merging(vars) { _, new in new }
            let r = try run(touchdownExecutable, ["campaign", path, "--list"] + extra, environment: env)
            #expect(r.status == 0 && r.stderr.contains(expected), "\(vars): \(r.stderr)")
            #expect(r.stdout.split(separator: "\n").count == 1)
        }
        let conflict = base.merging(["TEST_SHARD_INDEX": "0", "TEST_TOTAL_SHARDS": "2", "CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "2"]) { _, n in n }
        let c = try run(touchdownExecutable, ["campaign", path, "--list"], environment: conflict)
        #expect(c.status == 2 && c.stderr.contains("give --shard I/N"), "\(c.stderr)")
        let k8s = base.merging(["JOB_COMPLETION_INDEX": "0"]) { _, n in n }
        let k = try run(touchdownExecutable, ["campaign", path, "--list"], environment: k8s)
        #expect(k.status == 2 && k.stderr.contains("--shards N"), "\(k.stderr)")
    }
}

@Suite(.serialized) struct CIRecipeTests {
    /// docs/ci/bazel/campaign_test.sh run as Bazel runs a sharded sh_test
    /// (Bazel is not on this machine: its variables are set by hand), four
    /// shards merged equal the unsharded run, and each shard touched its
    /// status file and wrote JUnit where Bazel looks.
    @Test func theBazelTestScriptShardsAsBazelAsks() throws {
        let dir = try TestPaths.scratch()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let campaign = try CampaignCommandTests.file(dir)
        #expect(try run(touchdownExecutable, ["campaign", campaign, "--results", p("all.jsonl")], environment: unshardedEnvironment).status == 0)
        let script = TestPaths.repository.appendingPathComponent("docs/ci/bazel/campaign_test.sh").path
        var outputs: [String] = []
        for i in 0..<4 {
            let out = p("outputs-\(i)")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var env = unshardedEnvironment
            env["TOUCHDOWN"] = touchdownExecutable
            env["TEST_SHARD_INDEX"] = "\(i)"
            env["TEST_TOTAL_SHARDS"] = "4"
            env["TEST_SHARD_STATUS_FILE"] = out + "/status"
            env["XML_OUTPUT_FILE"] = out + "/test.xml"
            env["TEST_UNDECLARED_OUTPUTS_DIR"] = out
            let r = try run("/bin/bash", [script, campaign], environment: env)
            #expect(r.status == 0, "shard \(i): \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: out + "/status") && FileManager.default.fileExists(atPath: out + "/test.xml"))
            outputs.append(out + "/results.jsonl")
        }
        let m = try run(touchdownExecutable, ["merge"] + outputs + ["--results", p("merged.jsonl")])
        #expect(m.status == 0, "\(m.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: p("merged.jsonl"))) == Data(contentsOf: URL(fileURLWithPath: p("all.jsonl"))))
    }
}
