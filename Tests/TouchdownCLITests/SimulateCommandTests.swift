import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// `touchdown simulate` and `touchdown guidance list`, run as a user runs them.
@Suite struct SimulateCommandTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args) }
    var scenarios: URL { TestPaths.fixtures.appendingPathComponent("scenarios") }

    @Test func simulateRecordsTheCheckedInTraceAndPrintsTheOutcome() throws {
        let out = try TestPaths.scratch().appendingPathComponent("m2.mcap").path
        let r = try touchdown("simulate", "--scenario", scenarios.appendingPathComponent("m2-late-altimeter.yaml").path,
                              "--out", out, "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["outcome"] as? String == "crashed")
        let metrics = try #require(json["metrics"] as? [String: Any])
        #expect((metrics["touchdown.vertical_speed_mps"] as? Double ?? 0) > 20)
        let anomaly = json["first_anomaly"] as? [String: Any]
        #expect((anomaly?["what"] as? String)?.contains("range rejected") == true)
        let recorded = try Data(contentsOf: URL(fileURLWithPath: out))
        let stored = try Data(contentsOf: TestPaths.traces.appendingPathComponent("m2-late-altimeter.mcap"))
        // (A Bool, not the two Data: on a mismatch the test library would diff megabytes.)
        let same = recorded == stored
        #expect(same, "re-recorded m2 (\(recorded.count) bytes) differs from traces/m2-late-altimeter.mcap (\(stored.count) bytes)")
        // The trace carries its channels, and `trace check` finds it sound.
        let info = try touchdown("trace", "info", out, "--json")
        let topics = ((try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any])["channels"] as! [[String: Any]])
            .map { $0["topic"] as! String }
        #expect(topics == ["/imu", "/altimeter", "/velocimeter", "/attitude", "/command", "/nav", "/truth", "/events", "/metrics", "/log"])
        #expect(try touchdown("trace", "check", out).status == 0)
    }

    @Test func settingsChangeTheOutcomeAndTheTableNamesIt() throws {
        let r = try touchdown("simulate", "--scenario", scenarios.appendingPathComponent("m2-late-altimeter.yaml").path,
                              "--set", "profile=hardened")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("outcome                           landed"), "\(r.stdout)")
        #expect(r.stdout.contains("propellant_kg"))
        // The table names each metric as --assert and the JSON do.
        #expect(r.stdout.contains("touchdown.vertical_speed_mps"))
        // --expect turns the outcome into a verdict.
        let failing = try touchdown("simulate", "--scenario", scenarios.appendingPathComponent("m2-late-altimeter.yaml").path,
                                    "--expect", "landed")
        #expect(failing.status == 1 && failing.stdout.contains("FAIL (outcome crashed, expected landed)"), "\(failing.stdout)")
    }

    @Test func badScenarioOrSettingExitsTwoWithTheReason() throws {
        let dir = try TestPaths.scratch()
        let bad = dir.appendingPathComponent("bad.yaml")
        let text = try String(contentsOf: scenarios.appendingPathComponent("nominal.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "dry_mass: 340 kg", with: "dry_mass: 340 stone")
        try text.write(to: bad, atomically: true, encoding: .utf8)
        let r = try touchdown("simulate", "--scenario", bad.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.yaml:") && r.stderr.contains("vehicle.dry_mass") && r.stderr.contains("kg, t"))

        let s = try touchdown("simulate", "--scenario", scenarios.appendingPathComponent("nominal.yaml").path, "--set", "gate=sticky")
        #expect(s.status == 2 && s.stderr.contains("latching or recovering"))
        let u = try touchdown("simulate", "--scenario", scenarios.appendingPathComponent("nominal.yaml").path, "--set", "gian=1")
        #expect(u.status == 2 && u.stderr.contains("no parameter \"gian\"") && u.stderr.contains("gate_sigma"))
        let g = try touchdown("simulate", "--scenario", scenarios.appendingPathComponent("nominal.yaml").path, "--guidance", "apollo")
        #expect(g.status == 2 && g.stderr.contains("available: reference"))
    }

    @Test func guidanceListShowsParametersWithDefaults() throws {
        let r = try touchdown("guidance", "list")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("reference: "))
        for line in ["profile=baseline", "gate=latching", "gate_sigma=4", "blind_descent_speed_mps=0", "recover_count=10"] {
            #expect(r.stdout.contains(line), "missing \(line)")
        }
    }
}
