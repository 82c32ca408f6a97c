import Dispatch
import Foundation
import Synchronization
import Testing
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

@Suite("One loaded trace, many plans, any threads")
struct SharedTraceTests {
    /// 200 open-loop plans (faults and seeds varied) against a 20 s trace
    /// recorded elsewhere: one `LoadedTrace` shared by two threads gives
    /// exactly the digests of the same plans run one by one, each loading
    /// the trace itself, and of `touchdown replay` processes.
    @Test func twoHundredPlansOnTwoThreadsGiveTheSerialAndTheCommandLineDigests() throws {
        let dir = try TestPaths.scratch()
        let trace = dir.appendingPathComponent("descent.mcap").path
        try ReferenceDescent(duration_s: 20, seed: 5).record(to: TraceRecorder(path: trace))
        let scenario = TestPaths.fixtures.appendingPathComponent("scenarios/nominal.yaml").path
        let faultChoices: [[String]] = [
            [], ["imu.drop=5%,burst=10"], ["altimeter.noise=3m"], ["altimeter.latency=0.5s", "attitude.spike=2%"],
            ["velocimeter.reorder=10%"], ["imu.duplicate=3%", "altimeter.drop=20%"], ["attitude.bias=1deg@5s..10s"],
            ["altimeter.nan=5%"],
        ]
        let plans: [ReplayPlan] = try (0..<200).map { i in
            try plan(trace, mode: .openLoop, faults: faultChoices[i % faultChoices.count],
                     seed: UInt64(i / faultChoices.count), scenario: scenario)
        }
        let shared = try LoadedTrace(path: trace, scenarioPath: scenario)
        let digests = Mutex([String?](repeating: nil, count: plans.count))
        let errors = Mutex([String]())
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in stride(from: worker, to: plans.count, by: 2) {
                do {
                    let d = try Replay(plans[i], trace: shared).run().digest
                    digests.withLock { $0[i] = d }
                } catch {
                    errors.withLock { $0.append("plan \(i): \(error)") }
                }
            }
        }
        #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { $0 })")
        let parallel = digests.withLock { $0 }
        let serial = try plans.map { try Replay($0).run().digest }
        for i in plans.indices {
            #expect(parallel[i] == serial[i], "plan \(i) (\(plans[i].faults.map(\.text))): threads and serial differ")
        }
        // Every plan through the command line too, each in its own process.
        #expect(Set(serial).count > 20, "the plans must differ")
        for i in plans.indices {
            var args = ["replay", trace, "--scenario", scenario, "--mode", "open-loop", "--expect", "any",
                        "--seed", String(plans[i].seed!), "--json"]
            for f in plans[i].faults { args += ["--fault", f.text] }
            let r = try run(touchdownExecutable, args)
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(json?["digest"] as? String == serial[i], "plan \(i) through the CLI: \(r.stderr)")
        }
    }

    @Test func aPlanAndItsResultRoundTripThroughJSON() throws {
        let p = try plan(tracePath("nominal"), guidance: recordedWith(("profile", "baseline")), faults: ["altimeter.acquire-below=900m"],
                         expect: "crashed,hard-landing", assertions: ["touchdown.vertical_speed_mps <= 2"], seed: 7)
        let data = try JSONEncoder().encode(p)
        #expect(try JSONDecoder().decode(ReplayPlan.self, from: data) == p)
        let result = try Replay(p).run()
        let line = try result.jsonLine()
        let back = try JSONDecoder().decode(ReplayResult.self, from: Data(line.utf8))
        #expect(back.digest == result.digest && back.outcome == result.outcome && back.passed == result.passed)
        #expect(back.metrics == result.metrics)
        #expect(back.assertions == result.assertions)
        #expect(try back.jsonLine() == line)
    }
}
