import Foundation
import Testing
import TouchdownTestSupport

/// A campaign on a real job engine: a one-node Slurm cluster (Debian's
/// slurm-wlm and munge, installed by scripts/system-deps; started as root by
/// Tests/Slurm/one-node-cluster.sh in a scratch folder, on ports of its own)
/// runs it as a job array of four; the merged shards must equal the
/// unsharded run. The batch script is docs/ci/slurm-campaign.sh, as users
/// get it. The daemons it started are stopped by their pids.
@Suite(.serialized) struct SlurmTests {
    @Test func aCampaignAsASlurmJobArrayMergesToTheUnshardedRun() throws {
        let dir = try TestPaths.scratch()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let campaign = p("c.yaml")
        try """
            name: slurm
            seed: 11
            source: {traces: [\(CampaignCommandTests.trace)]}
            matrix:
              altimeter.latency: [none, 0.5s, 1s, 2s]
            assert: ["touchdown.vertical_speed_mps <= 2"]
            """.write(toFile: campaign, atomically: true, encoding: .utf8)
        let unsharded = try run(touchdownExecutable, ["campaign", campaign, "--results", p("all.jsonl")], environment: unshardedEnvironment)
        #expect(unsharded.status == 0, "\(unsharded.stdout) \(unsharded.stderr)")

        let script = TestPaths.repository.appendingPathComponent("Tests/Slurm/one-node-cluster.sh").path
        let cluster = p("cluster")
        let started = try run("/bin/bash", [script, "start", cluster])
        defer { _ = try? run("/bin/bash", [script, "stop", cluster]) }
        try #require(started.status == 0, "the Slurm cluster did not start: \(started.stderr)")
        var env = unshardedEnvironment
        env["SLURM_CONF"] = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // The batch script docs/ci gives users, with this build's touchdown first on PATH.
        let job = TestPaths.repository.appendingPathComponent("docs/ci/slurm-campaign.sh").path
        env["PATH"] = (touchdownExecutable as NSString).deletingLastPathComponent + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        // A job that cannot launch is held, and --wait would wait for ever.
        let submitted = try run("/usr/bin/timeout", ["600", "/usr/bin/sbatch", "--wait", "--chdir=\(dir.path)", job, campaign], environment: env)
        #expect(submitted.status == 0, "\(submitted.stdout) \(submitted.stderr)")
        for i in 0..<4 {
            let log = (try? String(contentsOfFile: p("results/shard-\(i).jsonl"), encoding: .utf8)) ?? ""
            #expect(log.split(separator: "\n").count == 1, "array task \(i) ran \(log.split(separator: "\n").count) runs")
        }
        let logs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("campaign-") && $0.hasSuffix(".log") }.sorted()
        #expect(logs.count == 4)
        for l in logs {
            let text = try String(contentsOfFile: p(l), encoding: .utf8)
            #expect(text.contains("(from Slurm SLURM_ARRAY_TASK_ID): 1 of 4 runs"), "\(l): \(text)")
        }
        let merged = try run(touchdownExecutable, ["merge"] + (0..<4).map { p("results/shard-\($0).jsonl") } + ["--results", p("merged.jsonl")])
        #expect(merged.status == 0, "\(merged.stdout) \(merged.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: p("merged.jsonl"))) == Data(contentsOf: URL(fileURLWithPath: p("all.jsonl"))))
    }
}
