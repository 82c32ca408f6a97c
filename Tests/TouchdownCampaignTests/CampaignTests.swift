import Foundation
import Testing
import TouchdownCampaign
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

@Suite struct CampaignTests {
    static let repo = TestPaths.repository.path

    /// Writes `text` as a campaign file in a scratch folder and reads it.
    static func campaign(_ text: String, _ name: String = #function) throws -> Campaign {
        let dir = try TestPaths.scratch(name)
        let path = dir.appendingPathComponent("campaign.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try Campaign.load(path: path)
    }

    static func expectError(_ text: String, line: Int, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try campaign(text, "error-\(line)")
            Issue.record("accepted a bad campaign: \(text)", sourceLocation: sourceLocation)
        } catch let e as CampaignError {
            #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
            for f in fragments { #expect(e.description.contains(f), "\(e)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The classic Monte Carlo bug is a dispersion drawn but never applied:
    /// each drawn value is read back from the run's own /truth.
    @Test func dispersionsReachTheSimulation() throws {
        let c = try Self.campaign("""
            name: reach
            seed: 7
            source: {scenarios: [\(Self.repo)/fixtures/scenarios/nominal.yaml]}
            samples: 2
            dispersions:
              vehicle.initial_mass: uniform(770 kg, 810 kg)
              initial.altitude: normal(25 km, 300 m)
            """)
        let runs = try c.runs()
        #expect(runs.count == 2)
        #expect(runs[0].draws != runs[1].draws, "two samples, two draws")
        for run in runs {
            let dir = try TestPaths.scratch("reach-\(run.sample)")
            var plan = run.plan
            plan.output = dir.appendingPathComponent("run.mcap").path
            _ = try Replay(plan).run()
            let reader = try IndexedReader(path: plan.output!)
            var first: TruthSample?
            try reader.messages(topics: [TouchdownTopics.truth]) { m in
                if first == nil { first = try TruthSample(cdr: m.data) }
            }
            let truth = try #require(first)
            let mass = try #require(Quantity.parse(run.draws[0].value)?.value)
            let altitude = try #require(Quantity.parse(run.draws[1].value)?.value)
            #expect(truth.mass_kg == mass, "drawn \(mass) kg, flown \(truth.mass_kg) kg")
            #expect(abs(truth.altitudeAGL_m + truth.terrainElevation_m - altitude) < 1e-6, "drawn \(altitude) m, flown \(truth.altitudeAGL_m + truth.terrainElevation_m) m")
        }
    }

    /// Ids come from inputs only: the same run keeps its id when the file
    /// lists things in another order; another campaign seed gives others.
    @Test func runIDsComeFromInputsOnly() throws {
        let base = """
            name: ids
            seed: SEED
            source: {traces: [\(Self.repo)/traces/nominal.mcap]}
            matrix:
              altimeter.latency: [LATENCIES]
              imu.drop: ["0%", "5%,burst=10"]
            samples: 3
            """
        func ids(_ seed: String, _ latencies: String) throws -> [String: String] {
            let c = try Self.campaign(base.replacingOccurrences(of: "SEED", with: seed).replacingOccurrences(of: "LATENCIES", with: latencies),
                                      "ids-\(seed)-\(latencies.count)")
            var out: [String: String] = [:]
            for r in try c.runs() {
                #expect(r.id.count == 12 && r.id.allSatisfy(\.isHexDigit))
                out[r.cell.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " #\(r.sample)"] = r.id
            }
            return out
        }
        let a = try ids("42", "0s, 1s")
        let b = try ids("42", "1s, 0s")
        #expect(a.count == 12 && Set(a.values).count == 12)
        #expect(a == b)
        let other = try ids("43", "0s, 1s")
        #expect(Set(other.values).isDisjoint(with: Set(a.values)))
    }

    @Test func errorsNameTheLineAndWhatIsAccepted() throws {
        let trace = "\(Self.repo)/traces/nominal.mcap"
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\nsampels: 3\n", line: 3, "unknown key sampels", "accepted:")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\ndispersions:\n  initial.altitud: normal(25 km, 1 km)\n", line: 4,
                         "initial.altitud", "no 'altitud'", "altitude")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\ndispersions:\n  initial.altitude: normal(1e999 m, 1 m)\n", line: 4,
                         "not a finite number")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\ndispersions:\n  initial.altitude: normal(25 km, 2 s)\n", line: 4, "mixes units")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\ndispersions:\n  initial.altitude: gauss(25 km, 2 m)\n", line: 4,
                         "unknown distribution", "truncnormal")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\nmatrix:\n  altimeter.latency: []\n", line: 4, "has no values")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\nmatrix:\n  altimeter.latency: [1 parsec]\n", line: 4, "altimeter.latency=1 parsec")
        Self.expectError("name: x\nsource: {traces: [nowhere/*.mcap]}\n", line: 2, "matches no file")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\nmode: open-loop\ndispersions:\n  initial.altitude: normal(25 km, 1 km)\n", line: 5,
                         "only closed loop")
        Self.expectError("name: x\nsource: {traces: [\(trace)]}\nguidance: {name: reference, cmd: x}\n", line: 3, "exactly one of")
        Self.expectError("source: {traces: [\(trace)]}\n", line: 1, "name is missing")
    }

    @Test func distributionsDrawWhatTheySay() throws {
        var rng = SeededRandom(seed: 1)
        let t = try Distribution(parsing: "truncnormal(0 m, 1 km, -500 m, 200 m)")
        let u = try Distribution(parsing: "uniform(380 N, 420 N)")
        let c = try Distribution(parsing: "choice(latching, recovering)")
        var seen: Set<String> = []
        for _ in 0..<2000 {
            let x = try #require(Quantity.parse(t.draw(&rng))?.value)
            #expect(x >= -500 && x <= 200)
            let f = try #require(Quantity.parse(u.draw(&rng))?.value)
            #expect(f >= 380 && f < 420)
            seen.insert(c.draw(&rng))
        }
        #expect(seen == ["latching", "recovering"])
        #expect(throws: DistributionError.self) { try Distribution(parsing: "normal(1 m, 0 m)") }
        #expect(throws: DistributionError.self) { try Distribution(parsing: "uniform(2 m, 1 m)") }
        #expect(throws: DistributionError.self) { try Distribution(parsing: "truncnormal(0 m, 1 m, 10 m, 11 m)") }
    }
}

@Suite struct JUnitTests {
    /// Names and messages with markup, quotes, control characters and
    /// non-ASCII text come out as text, never as markup.
    @Test func everythingIsEscaped() throws {
        let c = try CampaignTests.campaign("""
            name: "<script>alert('x')</script> & \\"more\\" – Mondlandung"
            source: {traces: [\(CampaignTests.repo)/traces/nominal.mcap]}
            guidance: {cmd: "echo '<b>' && exit 1"}
            """)
        let run = try #require(try c.runs().first)
        let record = RunRecord(run: run, verdict: .error, error: "guidance said <oops> & \"quit\"\u{1}\n second line")
        let xml = JUnitReport.xml(campaign: c.name, records: [record]) { _ in "touchdown campaign x --only \(run.id)" }
        #expect(!xml.contains("<script>") && !xml.contains("<oops>") && !xml.contains("<b>"))
        #expect(xml.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;more&quot; – Mondlandung"))
        #expect(xml.contains("<error message=\"guidance said &lt;oops&gt; &amp; &quot;quit&quot;\u{FFFD}&#10; second line\""))
        #expect(xml.contains("<property name=\"run_id\" value=\"\(run.id)\"/>"))
    }
}

import Yams

/// The CI recipes in docs/ci for engines not on this machine: each parses,
/// and its shard count agrees with what it passes to touchdown.
@Suite struct CIRecipeFileTests {
    static func yaml(_ name: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: TestPaths.repository.appendingPathComponent("docs/ci/\(name)").path, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    @Test func kubernetesIndexedJob() throws {
        let job = try Self.yaml("kubernetes-indexed-job.yaml")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(spec["completions"] as? Int)
        let template = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((template["containers"] as? [[String: Any]])?.first)
        let line = try #require((container["args"] as? [String])?.first)
        #expect(line.contains("touchdown campaign") && line.contains("--shards \(completions)") && line.contains("$JOB_COMPLETION_INDEX"))
    }

    @Test func githubActions() throws {
        let workflow = try Self.yaml("github-actions.yml")
        let jobs = try #require(workflow["jobs"] as? [String: Any])
        let shard = try #require(jobs["shard"] as? [String: Any])
        let shards = try #require(((shard["strategy"] as? [String: Any])?["matrix"] as? [String: Any])?["shard"] as? [Int])
        #expect(shards == Array(0..<shards.count))
        let steps = try #require(shard["steps"] as? [[String: Any]]).compactMap { $0["run"] as? String }
        #expect(steps.contains { $0.contains("touchdown campaign") && $0.contains("--shard ${{ matrix.shard }}/\(shards.count)") })
        let merge = try #require(jobs["merge"] as? [String: Any])
        #expect(merge["needs"] as? String == "shard")
        let mergeSteps = try #require(merge["steps"] as? [[String: Any]]).compactMap { $0["run"] as? String }
        #expect(mergeSteps.contains { $0.contains("touchdown merge") && $0.contains("--junit") })
    }

    @Test func gitlabParallel() throws {
        let ci = try Self.yaml("gitlab-ci.yml")
        let campaign = try #require(ci["campaign"] as? [String: Any])
        #expect((campaign["parallel"] as? Int ?? 0) > 1)
        #expect((campaign["script"] as? [String])?.contains { $0.contains("touchdown campaign") && $0.contains("$CI_NODE_INDEX") } == true)
        let merge = try #require(ci["merge"] as? [String: Any])
        let reports = try #require((merge["artifacts"] as? [String: Any])?["reports"] as? [String: Any])
        #expect(reports["junit"] as? String == "campaign.xml")
    }
}

@Suite struct FitCandidateTests {
    @Test func rangesExpandToEachValueWithItsUnitAndOptions() throws {
        #expect(try Fit.candidates(["altimeter.latency=0s..0.3s/0.1s,jitter=10ms"]) == [
            "altimeter.latency=0s,jitter=10ms", "altimeter.latency=0.1s,jitter=10ms",
            "altimeter.latency=0.2s,jitter=10ms", "altimeter.latency=0.3s,jitter=10ms",
        ])
        #expect(try Fit.candidates(["altimeter.acquire-below=300m..3000m/100m"]).count == 28)
        // A plain fault is one candidate; a repeated one is tried once.
        #expect(try Fit.candidates(["imu.drop=5%", "imu.drop=5%"]) == ["imu.drop=5%"])
        #expect(throws: FitError.self) { try Fit.candidates(["altimeter.latency=0s..1s/0.3s"]) }
        // A window is not a range of values.
        #expect(try Fit.candidates(["altimeter.bias=+300m@120s..180s"]) == ["altimeter.bias=+300m@120s..180s"])
        #expect(throws: FitError.self) { try Fit.candidates(["altimeter.frobnicate=1m..2m/1m"]) }
    }
}
