import Foundation
import Testing
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

func scenarioPath(_ name: String) -> String {
    TestPaths.fixtures.appendingPathComponent("scenarios/\(name).yaml").path
}

/// Flies a checked-in scenario, recording into memory.
func fly(_ name: String, _ settings: [(name: String, value: String)] = []) throws -> (Outcome, [UInt8]) {
    let scenario = try Scenario.load(path: scenarioPath(name))
    let sink = MemorySink()
    let recorder = TraceRecorder(writer: try MCAPWriter(sink: sink, options: Simulation.traceOptions))
    let outcome = try Simulation(scenario: scenario, settings: settings).run(recorder: recorder)
    return (outcome, sink.bytes)
}

/// Truth and navigation samples of a trace, in log-time order.
func series(_ bytes: [UInt8]) throws -> (truth: [TruthSample], nav: [NavSample], events: [EventSample]) {
    let reader = StreamReader(source: MemorySource(bytes))
    var channels: [UInt16: String] = [:]
    var truth: [TruthSample] = [], nav: [NavSample] = [], events: [EventSample] = []
    while let record = try reader.next() {
        switch record {
        case .channel(let c): channels[c.id] = c.topic
        case .message(let m):
            try m.data.withUnsafeBytes { data in
                switch channels[m.channelID] {
                case Simulation.Topics.truth: truth.append(try TruthSample(cdr: data))
                case Simulation.Topics.nav: nav.append(try NavSample(cdr: data))
                case Simulation.Topics.events: events.append(try EventSample(cdr: data))
                default: break
                }
            }
        default: break
        }
    }
    return (truth, nav, events)
}

@Suite("Scenarios reproduce what they exist to show")
struct ScenarioOutcomeTests {
    @Test func nominalLandsWithinLimitsOnThePublicProfile() throws {
        let (outcome, bytes) = try fly("nominal")
        #expect(outcome.kind == .landed)
        #expect(outcome.verticalSpeed_mps <= 2 && outcome.horizontalSpeed_mps <= 1 && outcome.tilt_deg <= 12)
        #expect(outcome.propellant_kg > 0)
        #expect(outcome.firstAnomaly == nil)
        let truth = try series(bytes).truth
        // Braking from about 25 km and 1.7 km/s…
        #expect(abs(truth[0].altitudeAGL_m - 25_000) < 1 && abs(truth[0].horizontalSpeed_mps - 1_700) < 1)
        func speed(at altitude: Double) -> Double {
            let s = truth.first { $0.altitudeAGL_m <= altitude }!
            return (s.verticalSpeed_mps * s.verticalSpeed_mps + s.horizontalSpeed_mps * s.horizontalSpeed_mps).squareRoot()
        }
        // …about 3 km at about 100 m/s, about 1 km at about 30 m/s.
        #expect((60...120).contains(speed(at: 3_000)), "speed at 3 km: \(speed(at: 3_000))")
        #expect((20...45).contains(speed(at: 1_000)), "speed at 1 km: \(speed(at: 1_000))")
    }

    @Test func craterRimWithLatchingGateLosesTheLander() throws {
        let (outcome, bytes) = try fly("m1-crater-rim")
        #expect(outcome.kind == .crashed)
        #expect(outcome.verticalSpeed_mps > 50)
        let (truth, nav, events) = try series(bytes)
        // The rim is crossed below 10 km, and the altimeter is latched out then.
        let latched = try #require(events.first { $0.kind == "altimeter-latched-out" })
        let atLatch = try #require(truth.last { $0.stamp_ns <= latched.stamp_ns })
        #expect(atLatch.altitudeAGL_m < 10_000)
        // Navigation reaches zero altitude while the vehicle is 3–7 km up.
        let zero = try #require(nav.first { $0.altitude_m <= 0 })
        let atZero = try #require(truth.last { $0.stamp_ns <= zero.stamp_ns })
        #expect((3_000...7_000).contains(atZero.altitudeAGL_m), "true altitude when navigation reads 0: \(atZero.altitudeAGL_m)")
        // It keeps descending slowly until the propellant runs out, then falls.
        let exhausted = try #require(events.first { $0.kind == "propellant-exhausted" })
        let atExhaustion = try #require(truth.last { $0.stamp_ns <= exhausted.stamp_ns })
        #expect(atExhaustion.altitudeAGL_m > 1_000)
        let descent = truth.filter { $0.stamp_ns > zero.stamp_ns && $0.stamp_ns < exhausted.stamp_ns }
        #expect(!descent.isEmpty && descent.allSatisfy { $0.verticalSpeed_mps > -5 && $0.verticalSpeed_mps < 0.5 })
    }

    @Test func craterRimWithRecoveringGateLands() throws {
        let (outcome, bytes) = try fly("m1-crater-rim", [("gate", "recovering")])
        #expect(outcome.kind == .landed, "\(outcome.fields)")
        #expect(try series(bytes).events.contains { $0.kind == "altimeter-recovered" })
    }

    @Test func lateAltimeterBaselineHitsTooFast() throws {
        let (outcome, _) = try fly("m2-late-altimeter", [("profile", "baseline")])
        let speed = (outcome.verticalSpeed_mps * outcome.verticalSpeed_mps + outcome.horizontalSpeed_mps * outcome.horizontalSpeed_mps).squareRoot()
        #expect(outcome.kind == .crashed)
        #expect(outcome.verticalSpeed_mps > 20, "reached the ground at \(speed) m/s")
    }

    @Test func lateAltimeterHardenedLandsAtAPropellantCost() throws {
        let (hardened, _) = try fly("m2-late-altimeter", [("profile", "hardened")])
        // The same flight with an altimeter that acquires as designed: what
        // the late acquisition costs the hardened profile.
        var scenario = try Scenario.load(path: scenarioPath("m2-late-altimeter"))
        scenario.sensors.altimeter.acquireBelow_m = nil
        let sink = MemorySink()
        let recorder = TraceRecorder(writer: try MCAPWriter(sink: sink, options: Simulation.traceOptions))
        let onTime = try Simulation(scenario: scenario, settings: [("profile", "hardened")]).run(recorder: recorder)
        #expect(hardened.kind == .landed, "\(hardened.fields)")
        #expect(onTime.kind == .landed, "\(onTime.fields)")
        #expect(hardened.propellant_kg > 0 && hardened.propellant_kg < onTime.propellant_kg,
                "late: \(hardened.propellant_kg) kg left, on time: \(onTime.propellant_kg) kg")
        #expect(hardened.fields.contains { $0.key == "propellant_kg" })
    }
}

@Suite("A simulation's recording keeps to one core")
struct RecordingCPUTests {
    /// `replay --out` and `simulate --out` spent 1.9 times their wall time
    /// in CPU at flight rates: the writer's compression thread spun for
    /// each chunk while the simulation ran. A chunk at flight rates is
    /// about 70 KB, two segments the thread would take.
    @Test func theRecordingThreadCompressesEveryChunkItself() throws {
        var scenario = try Scenario.load(path: scenarioPath("nominal-full-rate"))
        scenario.maxDuration_s = 4
        let writer = try MCAPWriter(sink: MemorySink(), options: Simulation.traceOptions)
        _ = try Simulation(scenario: scenario).run(recorder: TraceRecorder(writer: writer))  // finishes the trace
        let counts = writer.compressionCounts
        #expect(counts.segmentsOnRecordingThread >= 8, "\(counts)")
        #expect(counts.segmentsOnHelper == 0 && counts.helperWakes == 0, "\(counts)")
    }
}
