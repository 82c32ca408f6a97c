import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// A run passes only when it should: the audit's false passes, run as a
/// user runs them, each one now a failure (exit 1) or bad input (exit 2).
@Suite struct VerdictTests {
    var nominal: String { TestPaths.traces.appendingPathComponent("nominal.mcap").path }
    var nominalScenario: String { TestPaths.fixtures.appendingPathComponent("scenarios/nominal.yaml").path }

    func touchdown(_ args: [String]) throws -> ProcessResult {
        try run(touchdownExecutable, args, environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// Compiles C source to a shared library in the test's scratch folder.
    func library(_ name: String, _ source: String) throws -> String {
        let dir = try TestPaths.scratch("lib-\(name)")
        let c = dir.appendingPathComponent("\(name).c")
        try source.write(to: c, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("\(name).so").path
        let r = try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-o", out, c.path])
        #expect(r.status == 0, "cc: \(r.stderr)")
        return out
    }

    @Test func aGuidanceThatCannotStartIsBadInputNotAPass() throws {
        let missing = try touchdown(["replay", nominal, "--guidance-cmd", "./no-such-exe", "--assert", "touchdown.vertical_speed_mps <= 2"])
        #expect(missing.status == 2)
        #expect(!missing.stdout.contains("PASS"))
        #expect(missing.stderr.contains("status 127 (command not found)") && missing.stderr.contains("no-such-exe: not found"), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1, "one line: \(missing.stderr)")

        let asJSON = try touchdown(["replay", nominal, "--guidance-cmd", "./no-such-exe", "--json"])
        #expect(asJSON.status == 2)
        let error = try #require(try json(asJSON.stdout)["error"] as? [String: Any])
        #expect(error["kind"] as? String == "guidance-cannot-start")
        #expect((error["message"] as? String)?.contains("127") == true)

        let exits = try touchdown(["replay", nominal, "--guidance-cmd", "/bin/false"])
        #expect(exits.status == 2 && exits.stderr.contains("exited with status 1 before answering start"), "\(exits.stderr)")
    }

    @Test func aLibraryThatCannotLoadIsBadInput() throws {
        let notALibrary = try touchdown(["replay", nominal, "--guidance-lib", nominalScenario])
        #expect(notALibrary.status == 2)
        #expect(notALibrary.stderr.contains("cannot load guidance library"), "\(notALibrary.stderr)")

        let noSymbols = try library("empty", "int unrelated(void) { return 0; }\n")
        let missing = try touchdown(["replay", nominal, "--guidance-lib", noSymbols])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("does not export td_guidance_abi_version"), "\(missing.stderr)")

        let future = try library("future", "int td_guidance_abi_version(void) { return 99; }\n")
        let mismatch = try touchdown(["replay", nominal, "--guidance-lib", future])
        #expect(mismatch.status == 2)
        #expect(mismatch.stderr.contains("version 99") || mismatch.stderr.contains("does not export"), "\(mismatch.stderr)")

        let refused = try touchdown(["replay", nominal, "--set", "gate=sticky"])
        #expect(refused.status == 2 && refused.stderr.contains("refused to start"), "\(refused.stderr)")
    }

    @Test func noContactMeansNotMeasuredAndTheRunFails() throws {
        // The idle guidance never fires: the run times out in orbit.
        let r = try touchdown(["replay", nominal, "--guidance", "idle", "--expect", "any",
                               "--assert", "touchdown.vertical_speed_mps <= 2", "--json"])
        #expect(r.status == 1)
        let result = try json(r.stdout)
        #expect(result["outcome"] as? String == "timeout")
        #expect((result["metrics"] as! [String: Any])["touchdown.vertical_speed_mps"] is NSNull)
        let why = (result["not_measured"] as! [String: String])["touchdown.vertical_speed_mps"]
        #expect(why?.contains("no contact with the ground") == true)
        let assertion = try #require((result["assertions"] as? [[String: Any]])?.first)
        #expect(assertion["passed"] as? Bool == false && assertion["value"] is NSNull)
        #expect((assertion["detail"] as? String)?.contains("not measured") == true)

        let text = try touchdown(["replay", nominal, "--guidance", "idle", "--assert", "touchdown.vertical_speed_mps <= 2"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("touchdown.vertical_speed_mps      not measured"), "\(text.stdout)")
        #expect(text.stdout.contains("FAIL  touchdown.vertical_speed_mps <= 2"))
        #expect(!text.stdout.contains("nan"))
    }

    @Test func theOutcomeMustBeTheExpectedOne() throws {
        // No assertions at all: the default expectation (landed) decides.
        let idle = try touchdown(["replay", nominal, "--guidance", "idle"])
        #expect(idle.status == 1 && idle.stdout.contains("verdict                           FAIL (outcome timeout, expected landed)"), "\(idle.stdout)")
        #expect(try touchdown(["replay", nominal, "--guidance", "idle", "--expect", "any"]).status == 0)
        #expect(try touchdown(["replay", nominal, "--guidance", "idle", "--expect", "timeout,crashed"]).status == 0)
        // Open loop: match by default; a diverging guidance fails unless told.
        #expect(try touchdown(["replay", nominal, "--mode", "open-loop"]).status == 0)
        let diverged = try touchdown(["replay", nominal, "--mode", "open-loop", "--set", "cutoff_altitude_m=3"])
        #expect(diverged.status == 1 && diverged.stdout.contains("outcome                           diverged"), "\(diverged.stdout)")
        #expect(try touchdown(["replay", nominal, "--mode", "open-loop", "--set", "cutoff_altitude_m=3", "--expect", "replayed"]).status == 0)
        // An outcome the mode cannot have is bad input.
        let wrong = try touchdown(["replay", nominal, "--mode", "open-loop", "--expect", "landed"])
        #expect(wrong.status == 2 && wrong.stderr.contains("\"landed\" cannot happen in open-loop replays; accepted: any, or a comma-separated list of match, diverged, replayed"), "\(wrong.stderr)")
        // A fault file carries its expectation.
        let file = try TestPaths.scratch().appendingPathComponent("late.faults")
        try "# the 2025 loss\naltimeter.acquire-below=900m\nexpect crashed\n".write(to: file, atomically: true, encoding: .utf8)
        let expected = try touchdown(["replay", nominal, "--set", "profile=baseline", "--faults-file", file.path])
        #expect(expected.status == 0, "\(expected.stdout)\(expected.stderr)")
    }

    @Test(arguments: [
        (["replay", "TRACE", "--seed", "-1"], "--seed -1: expected a whole number from 0 to 18446744073709551615"),
        (["replay", "TRACE", "--seed", "18446744073709551616"], "expected a whole number from 0 to 18446744073709551615"),
        (["replay", "TRACE", "--step-budget-s", "abc"], "--step-budget-s abc: expected a number of seconds"),
        (["replay", "TRACE", "--step-budget-s", "-1"], "expected a number of seconds above 0"),
        (["replay", "TRACE", "--tolerance", "-1", "--mode", "open-loop"], "a finite number ≥ 0"),
        (["replay", "TRACE", "--no-such-flag"], "Unknown option '--no-such-flag'"),
        (["replay", "TRACE", "--mode", "sideways"], "expected open-loop or closed-loop"),
        (["replay", "TRACE", "--expect", "soft"], "accepted: any, or a comma-separated list"),
        (["replay", "TRACE", "--set", "=3"], "expected NAME=VALUE"),
        (["replay"], "Missing expected argument '<trace>'"),
        (["simulate", "--scenario", "SCENARIO", "--seed", "-5"], "--seed -5: expected a whole number"),
        (["trace", "cat", "TRACE", "--start-ns", "x"], "--start-ns"),
        (["trace", "generate", "--profile", "reference-descent", "--duration-s", "1", "--level", "42", "--out", "/tmp/x.mcap"], "--level 42"),
        (["no-such-command"], "Unexpected argument 'no-such-command'"),
    ])
    func usageErrorsExitTwoSayingWhatIsAccepted(_ args: [String], _ message: String) throws {
        let filled = args.map { $0 == "TRACE" ? nominal : $0 == "SCENARIO" ? nominalScenario : $0 }
        let r = try touchdown(filled)
        #expect(r.status == 2, "\(filled): exit \(r.status), \(r.stderr)")
        #expect(r.stderr.contains(message), "\(filled): \(r.stderr)")
    }

    /// Issue 13, item 17: a FIFO given as the trace blocked every command
    /// forever. Run under timeout(1), so the old behaviour fails (exit 124)
    /// instead of hanging the suite.
    @Test func aFIFOIsRefusedNotWaitedOn() throws {
        let fifo = try TestPaths.scratch().appendingPathComponent("trace.mcap").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for args in [["replay", fifo], ["trace", "info", fifo], ["trace", "check", fifo], ["trace", "cat", fifo]] {
            let r = try run("/usr/bin/timeout", ["20", touchdownExecutable] + args)
            #expect(r.status != 124 && r.status != 0, "\(args): exit \(r.status)")
            #expect(r.stderr.contains("is a FIFO, not a regular file"), "\(args): \(r.stderr)")
        }
        #expect(try run("/usr/bin/timeout", ["20", touchdownExecutable, "replay", fifo]).status == 2)
    }

    /// Issue 13, item 9: recover_count=1e20 trapped; -1, 2.5, a negative
    /// gate and a zero count were accepted.
    @Test(arguments: [("recover_count=1e20", "recover_count must be a whole number from 1 to 100000"),
                      ("recover_count=-1", "recover_count must be a whole number from 1 to 100000"),
                      ("recover_count=2.5", "recover_count must be a whole number from 1 to 100000"),
                      ("gate_sigma=-1", "gate_sigma must be a number from 0.1 to 1000"),
                      ("acquire_count=0", "acquire_count must be a whole number from 1 to 100000"),
                      ("max_tilt_deg=nan", "max_tilt_deg must be a number from 0 to 90")])
    func guidanceParametersHaveATypeAndARange(_ setting: String, _ message: String) throws {
        for command in [["replay", nominal], ["simulate", "--scenario", nominalScenario]] {
            let r = try touchdown(command + ["--set", setting])
            #expect(r.status == 2, "\(command) --set \(setting): exit \(r.status)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
    }

    @Test func catOnATopicTheTraceLacksNamesTheTopicsItHas() throws {
        let r = try touchdown(["trace", "cat", nominal, "--topic", "/lidar"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("has no topic /lidar; its topics: /imu, /altimeter, /velocimeter, /attitude, /command, /nav, /truth, /events"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func simulateAndReplayShareOneJSONShapeAndOneNamePerMetric() throws {
        let sim = try json(try touchdown(["simulate", "--scenario", nominalScenario, "--json"]).stdout)
        let rep = try json(try touchdown(["replay", nominal, "--json"]).stdout)
        #expect(Set(sim.keys) == Set(rep.keys))
        #expect(Set((sim["metrics"] as! [String: Any]).keys) == Set((rep["metrics"] as! [String: Any]).keys))
        // Every metric in the text is one --assert accepts, and JSON carries it.
        let text = try touchdown(["replay", nominal]).stdout
        let printed = text.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
            .filter { (rep["metrics"] as! [String: Any]).keys.contains($0) }
        #expect(printed.count >= 10, "\(text)")
        let probe = try touchdown(["replay", nominal, "--expect", "any"] + printed.flatMap { ["--assert", "\($0) != -12345"] })
        #expect(probe.status != 2, "--assert does not know a name the text prints: \(probe.stderr)")
        #expect(text.contains("touchdown.time_s"))
        let asserted = try touchdown(["replay", nominal, "--assert", "touchdown.time_s > 1000"])
        #expect(asserted.status == 0, "\(asserted.stdout)\(asserted.stderr)")
    }
}
