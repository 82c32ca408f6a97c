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
        let closed = try Replay(trace: tracePath("nominal"), guidance: .library(path: lib, settings: [])).run()
        #expect(closed.outcome?.kind == .landed, "\(closed.report)")
        let open = try Replay(trace: tracePath("nominal"), guidance: .library(path: lib, settings: []), mode: .openLoop).run()
        #expect(open.outcomeName == "replayed")
        // It is not the guidance that recorded the trace: it diverges at once.
        #expect(open.divergence?.first?.time_s == 0)
        let again = try Replay(trace: tracePath("nominal"), guidance: .library(path: lib, settings: []), mode: .openLoop).run()
        #expect(again.digest == open.digest)
    }

    @Test func aCrashingLibraryIsAnOutcomeNotTheEndOfTheTool() throws {
        let lib = try buildExample("crash", in: try TestPaths.scratch())
        let result = try Replay(trace: tracePath("nominal"), guidance: .library(path: lib, settings: [])).run()
        #expect(result.outcome?.kind == .guidanceCrashed)
        #expect(result.outcome?.firstAnomaly?.what.contains("signal 11") == true, "\(result.report)")
        // And through the command line: a normal exit, the outcome printed.
        let dir = try TestPaths.scratch()
        let r = try run(touchdownExecutable, ["replay", tracePath("nominal"), "--guidance-lib", lib, "--json",
                                              "--out", dir.appendingPathComponent("crashed.mcap").path],
                        environment: ["SWIFT_BACKTRACE": "enable=no"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"outcome\":\"guidance-crashed\""))
    }

    @Test func aHangingLibraryTimesOut() throws {
        let lib = try buildExample("hang", in: try TestPaths.scratch())
        let result = try Replay(trace: tracePath("nominal"), guidance: .library(path: lib, settings: []), stepBudget_s: 0.3).run()
        #expect(result.outcome?.kind == .guidanceTimeout)
        #expect(abs(result.outcome!.time_s - 0.3) < 1e-9)
    }

    @Test func aScriptSpeakingTheProtocolReplays() throws {
        let script = TestPaths.repository.appendingPathComponent("examples/cmd-guidance/hold.py").path
        let result = try Replay(trace: tracePath("nominal"), guidance: .command("python3 \(script)", settings: []), mode: .openLoop).run()
        #expect(result.outcomeName == "replayed", "\(result.report)")
        #expect(result.metric("guidance.steps")!.number! > 10_000)
    }

    @Test func nonFiniteOutputIsInvalidOutput() throws {
        let result = try Replay(trace: tracePath("nominal"),
                                guidance: .command("read v; read c; while read l; do case \"$l\" in start) echo ready;; step*) echo output nan 0 0 0 0 0 0 0;; esac; done", settings: [])).run()
        #expect(result.outcome?.kind == .guidanceInvalidOutput, "\(result.report)")
    }
}
