import Foundation
import Testing
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport

/// Builds one of examples/c-guidance/*.c with the system C compiler.
func buildExample(_ name: String, in dir: URL) throws -> String {
    let root = TestPaths.repository
    let out = dir.appendingPathComponent("\(name).so").path
    let r = try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra",
                                     "-I", root.appendingPathComponent("Sources/touchdown-guidance-host/include").path,
                                     "-o", out, root.appendingPathComponent("examples/c-guidance/\(name).c").path, "-lm"])
    #expect(r.status == 0, "cc: \(r.stderr)")
    return out
}

@Suite("Guidance in C and in other processes")
struct ExternalGuidanceTests {
    @Test func theExampleCGuidanceReplaysInBothModes() throws {
        let lib = try buildExample("descent", in: try TestPaths.scratch())
        let closed = try replay(tracePath("nominal"), guidance: .library(path: lib))
        #expect(closed.outcome == "landed", "\(closed.report)")
        let open = try replay(tracePath("nominal"), guidance: .library(path: lib), mode: .openLoop)
        #expect(open.outcome == "diverged")
        // It is not the guidance that recorded the trace: it diverges at once.
        #expect(open.divergence?.first?.time_s == 0)
        let again = try replay(tracePath("nominal"), guidance: .library(path: lib), mode: .openLoop)
        #expect(again.digest == open.digest)
    }

    @Test func aCrashingLibraryIsAnOutcomeNotTheEndOfTheTool() throws {
        let lib = try buildExample("crash", in: try TestPaths.scratch())
        let result = try replay(tracePath("nominal"), guidance: .library(path: lib))
        #expect(result.outcome == "guidance-crashed")
        #expect(result.failure?.signal == 11, "\(result.report)")
        #expect(result.firstAnomaly?.what.contains("signal 11") == true, "\(result.report)")
        // And through the command line: a failed run (exit 1), not an
        // error, with the reason in the JSON.
        let dir = try TestPaths.scratch()
        let r = try run(touchdownExecutable, ["replay", tracePath("nominal"), "--guidance-lib", lib, "--json",
                                              "--assert", "touchdown.vertical_speed_mps <= 2",
                                              "--out", dir.appendingPathComponent("crashed.mcap").path],
                        environment: ["SWIFT_BACKTRACE": "enable=no"])
        #expect(r.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["outcome"] as? String == "guidance-crashed")
        #expect(json["verdict"] as? String == "fail")
        let failure = try #require(json["failure"] as? [String: Any])
        #expect(failure["signal"] as? Int == 11 && failure["kind"] as? String == "guidance-crashed")
        #expect(failure["time_s"] as? Double == 0.5, "it crashes at its sixth step")
        #expect((failure["stderr_tail"] as? [String])?.last?.contains("dereferencing NULL at step 5") == true, "\(failure)")
        // The touchdown assertion is not passed by a lander that never touched down.
        let assertion = try #require((json["assertions"] as? [[String: Any]])?.first)
        #expect(assertion["passed"] as? Bool == false)
        #expect(assertion["value"] is NSNull)
        #expect((json["metrics"] as! [String: Any])["touchdown.vertical_speed_mps"] is NSNull)
        // With the crash expected, the same run passes.
        let expected = try run(touchdownExecutable, ["replay", tracePath("nominal"), "--guidance-lib", lib, "--expect", "guidance-crashed"],
                               environment: ["SWIFT_BACKTRACE": "enable=no"])
        #expect(expected.status == 0, "\(expected.stdout)")
    }

    /// A guidance that refuses to start and exits at once is reaped while
    /// the replay says `end` to it; the replay must not then wait for or
    /// signal pid 0, its own process group (it did, and a test run died of
    /// SIGKILL whenever no other child happened to exist). Run in an exit
    /// test, in a process group of its own, so the mistake kills only that
    /// process; a few times, since `end` racing the exit is timing.
    @Test func aGuidanceThatExitsAtOnceLeavesItsCallerAlone() async {
        await #expect(processExitsWith: .success) {
            guard setpgid(0, 0) == 0 else { exit(5) }
            for _ in 0..<5 {
                do {
                    _ = try replay(tracePath("nominal"),
                                   guidance: .command(line: "read v; read c; read s; echo error not today"))
                    exit(3)  // it should have refused to start
                } catch {
                    guard "\(error)".contains("refused to start") else { exit(4) }
                }
            }
        }
    }

    @Test func aHangingLibraryTimesOut() throws {
        let lib = try buildExample("hang", in: try TestPaths.scratch())
        let result = try replay(tracePath("nominal"), guidance: .library(path: lib), stepBudget_s: 0.3)
        #expect(result.outcome == "guidance-timeout")
        #expect(abs(result.number("end_time_s")! - 0.3) < 1e-9)
    }

    @Test func aScriptSpeakingTheProtocolReplays() throws {
        let script = TestPaths.repository.appendingPathComponent("examples/cmd-guidance/hold.py").path
        let result = try replay(tracePath("nominal"), guidance: .command(line: "python3 \(script)"), mode: .openLoop)
        #expect(result.outcome == "diverged", "\(result.report)")
        #expect(result.metric("guidance.steps")!.number! > 10_000)
    }

    @Test func aSwiftGuidanceServedInItsOwnProcessMatchesItselfInProcess() throws {
        // The reference guidance behind GuidanceServer, over the protocol:
        // every double crosses as text and must come back bit for bit.
        let stored = try LoadedTrace(path: tracePath("m1-crater-rim"))
        let served = try replay(tracePath("m1-crater-rim"),
                                guidance: .command(line: "\(touchdownExecutable) guidance serve reference",
                                                   settings: stored.settings.map { .init($0.name, $0.value) }),
                                mode: .openLoop)
        #expect(served.divergence?.divergentSteps == 0, "\(served.report)")
        #expect(served.divergence!.comparedSteps > 5_000)
        let inProcess = try replay(tracePath("m1-crater-rim"), mode: .openLoop)
        #expect(served.digest == inProcess.digest)

        #expect {
            try replay(tracePath("nominal"),
                       guidance: .command(line: "\(touchdownExecutable) guidance serve reference", settings: [.init("gate", "sticky")]))
        } throws: { "\($0)".contains("refused to start") && "\($0)".contains("gate") }
    }

    @Test func theGuidanceServerNamesTheLineItCannotRead() throws {
        func serve(_ lines: [String]) throws -> ProcessResult {
            let text = lines.map { $0 + "\\n" }.joined()
            return try run("/bin/sh", ["-c", "printf '\(text)' | \(touchdownExecutable) guidance serve idle"])
        }
        let config = "config site_downrange_m=790000 site_elevation_m=0 moon_radius_m=1737400 moon_gm_m3ps2=4902800000000 initial_mass_kg=790 dry_mass_kg=340 isp_s=320 main_thrust_n=400 main_min_throttle_fraction=0.2 thruster_count=6 thruster_thrust_n=200 nav_downrange_m=0 nav_altitude_m=25150 nav_vertical_speed_mps=0 nav_horizontal_speed_mps=1700 nav_pitch_rad=1.4835298641951802 altitude_sigma_m=500 speed_sigma_mps=1 guidance_rate_hz=10"

        let good = try serve(["touchdown-guidance 1", config, "start", "attitude 0 1.5 1", "step 0", "end"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout == "ready\noutput 0.0 0.0 1.4835298641951802 0.0 25150.0 0.0 1700.0 1.4835298641951802\n")

        let lacking = try serve(["touchdown-guidance 1", "config site_downrange_m=1"])
        #expect(lacking.status == 2)
        #expect(lacking.stderr.contains("line 2: config lacks site_elevation_m"), "\(lacking.stderr)")

        let short = try serve(["touchdown-guidance 1", config, "start", "imu 0 1 2"])
        #expect(short.status == 2)
        #expect(short.stdout == "ready\n")
        #expect(short.stderr.contains("line 4: expected imu with a stamp and 6 values"), "\(short.stderr)")

        let cut = try run("/bin/sh", ["-c", "printf 'touchdown-guidance 1\\nconf' | \(touchdownExecutable) guidance serve idle"])
        #expect(cut.status == 2)
        #expect(cut.stderr.contains("line 2: the last line has no LF"), "\(cut.stderr)")

        let unended = try serve(["touchdown-guidance 1", config, "start", "step 0"])
        #expect(unended.status == 2)
        #expect(unended.stderr.contains("input ended without end"), "\(unended.stderr)")
    }

    @Test func nonFiniteOutputIsInvalidOutput() throws {
        let result = try replay(tracePath("nominal"),
                                guidance: .command(line: "read v; read c; while read l; do case \"$l\" in start) echo ready;; step*) echo output nan 0 0 0 0 0 0 0;; esac; done"))
        #expect(result.outcome == "guidance-invalid-output", "\(result.report)")
    }

    /// Issue 13, item 14: a non-finite navigation value is invalid output
    /// too (it ended as timeout, with null metrics), in both modes.
    @Test(arguments: [Replay.Mode.closedLoop, .openLoop])
    func nonFiniteNavigationIsInvalidOutput(_ mode: Replay.Mode) throws {
        let result = try replay(tracePath("nominal"), guidance: .command(line: "read v; read c; while read l; do case \"$l\" in start) echo ready;; step*) echo output 0 0 0 0 -inf 0 0 0;; esac; done"),
                                mode: mode)
        #expect(result.outcome == "guidance-invalid-output", "\(result.report)")
        #expect(result.failure?.detail.contains("nav_altitude_m -inf") == true, "\(result.report)")
    }

    /// Issue 13, item 13: a guidance could make the tool hold gigabytes of
    /// events in one step; past 1 MiB of event lines it is invalid output.
    @Test func aFloodOfEventsIsInvalidOutput() throws {
        let flood = "read v; read c; while read l; do case \"$l\" in start) echo ready;; step*) d=$(head -c 60000 /dev/zero | tr '\\0' x); i=0; while [ $i -lt 20 ]; do echo \"event big 0 $d\"; i=$((i+1)); done; echo output 0 0 0 0 0 0 0 0;; esac; done"
        let result = try replay(tracePath("nominal"), guidance: .command(line: flood), mode: .openLoop)
        #expect(result.outcome == "guidance-invalid-output", "\(result.report)")
        #expect(result.failure?.detail.contains("bytes of events in one step") == true, "\(result.report)")
    }

    /// Issue 13, item 15: the step budget was per line, so a guidance that
    /// kept sending events inside one step was never timed out.
    @Test func theStepBudgetCoversTheWholeStep() throws {
        let chatty = "read v; read c; while read l; do case \"$l\" in start) echo ready;; step*) for i in 1 2 3 4 5 6 7 8; do echo \"event tick 0 $i\"; sleep 0.25; done; echo output 0 0 0 0 0 0 0 0;; esac; done"
        let result = try replay(tracePath("nominal"), guidance: .command(line: chatty), mode: .openLoop, stepBudget_s: 1)
        #expect(result.outcome == "guidance-timeout", "\(result.report)")
        #expect(result.failure?.time_s == 0, "the first step, not a later one")
    }

    /// Issue 13, item 16: a guidance that starts a process of its own left
    /// it running after a normal replay (its process group was ended only
    /// on failure). Now it is ended when the guidance exits, on every path.
    /// A child that left the process group with `setsid` is ended too.
    @Test(arguments: [("end", ""), ("crash", ""), ("end", "setsid "), ("crash", "setsid ")])
    func whatAGuidanceLeavesRunningIsEnded(_ how: String, _ detach: String) throws {
        let pidFile = try TestPaths.scratch("leftover-\(how)").appendingPathComponent("sleeper.pid").path
        let exitOnStep = how == "crash" ? "exit 3;;" : "echo output 0 0 0 0 0 0 0 0;;"
        let line = "\(detach)sleep 1000 & echo $! > \(pidFile); read v; read c; while read l; do case \"$l\" in start) echo ready;; step*) \(exitOnStep) end) exit 0;; esac; done"
        let result = try replay(tracePath("nominal"), guidance: .command(line: line), mode: .openLoop)
        #expect(result.outcome == (how == "crash" ? "guidance-crashed" : "diverged"), "\(result.report)")
        let sleeper = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Gone, or a zombie waiting for init to reap it: not running.
        var running = false
        for _ in 0..<50 {
            let stat = (try? String(contentsOfFile: "/proc/\(sleeper)/stat", encoding: .utf8)) ?? ""
            running = !stat.isEmpty && !stat.contains(") Z ")
            if !running { break }
            usleep(20_000)
        }
        #expect(!running, "the guidance's sleep \(sleeper) is still running")
        if running { kill(sleeper, SIGKILL) }
    }
}
