import Foundation
import Testing
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace


/// Recorded /nav and /events of a trace, in log-time order, stamped from the start of descent.
func recorded(_ path: String) throws -> (nav: [NavSample], events: [EventSample]) {
    var nav: [NavSample] = [], events: [EventSample] = []
    try messagesSinceDescent(path, topics: ["/nav", "/events"]) { topic, data, epoch in
        if topic == "/nav" { nav.append(try sinceDescent(NavSample.self, data, epoch)) }
        else { events.append(try sinceDescent(EventSample.self, data, epoch)) }
    }
    return (nav, events)
}

@Suite("Open loop: the recorded guidance reproduces its recording")
struct OpenLoopTests {
    @Test(arguments: ["nominal", "m1-crater-rim", "m2-late-altimeter"])
    func replayWithTheRecordingGuidanceIsBitForBit(_ name: String) throws {
        let result = try replay(tracePath(name), mode: .openLoop)
        let d = try #require(result.divergence)
        #expect(d.comparedSteps > 5_000)
        #expect(d.divergentSteps == 0, "first divergence: \(String(describing: d.first))")
        #expect(d.maxDeviation.allSatisfy { $0 == 0 })
        #expect(result.outcome == "match")
    }

    @Test func aChangedCutoffDivergesWhereTheCutoffActs() throws {
        // cutoff_altitude_m only matters once navigation reads that low.
        let result = try replay(tracePath("nominal"), guidance: recordedWith(("cutoff_altitude_m", "3")),
                                mode: .openLoop)
        let first = try #require(result.divergence?.first)
        let nav = try recorded(tracePath("nominal")).nav
        let expected = try #require(nav.first { $0.altitude_m <= 3 })
        #expect(first.time_s == Double(expected.stamp_ns) * 1e-9)
        #expect(first.topic == "/command")
        #expect(result.metric("divergence.steps")!.number! > 0)
    }

    @Test func aWiderGateDivergesAtTheRejectedRange() throws {
        let result = try replay(tracePath("m1-crater-rim"), guidance: recordedWith(("gate_floor_m", "5000")),
                                mode: .openLoop)
        let first = try #require(result.divergence?.first)
        let rejected = try #require(try recorded(tracePath("m1-crater-rim")).events.first { $0.kind == "altimeter-rejected" })
        #expect(first.time_s == Double(rejected.stamp_ns) * 1e-9)
        #expect(first.topic == "/command")
    }

    @Test func aTraceRecordedElsewhereReplaysAgainstANamedScenario() throws {
        // reference-descent stores no scenario, as a rig's or a flight's trace would not.
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("descent.mcap").path
        try ReferenceDescent(duration_s: 20, seed: 3).record(to: TraceRecorder(path: path))
        #expect {
            try replay(path, mode: .openLoop)
        } throws: { "\($0)".contains("--scenario") }

        let scenario = TestPaths.fixtures.appendingPathComponent("scenarios/nominal.yaml").path
        let result = try replay(path, guidance: .named(name: "idle"), mode: .openLoop,
                                scenario: scenario)
        let d = try #require(result.divergence)
        #expect(d.comparedSteps == 1_001)  // /command at 50 Hz, 0 s to 20 s
        #expect(d.divergentSteps == d.comparedSteps)  // the recording throttles; idle does not
        #expect(d.first?.time_s == 0 && d.first?.field == "main_throttle_fraction")
        #expect(result.outcome == "diverged")
        let again = try replay(path, guidance: .named(name: "idle"), mode: .openLoop, scenario: scenario)
        #expect(again.digest == result.digest)
    }

    @Test func toleranceAbsorbsSmallDifferences() throws {
        let result = try replay(tracePath("nominal"), guidance: recordedWith(("accel_noise_mps2", "0.0030001")),
                                mode: .openLoop, tolerance: 1e3)
        #expect(result.divergence?.divergentSteps == 0)
        #expect(result.divergence!.maxDeviation.contains { $0 > 0 })
    }

    @Test func craterRimEstimateReachesZeroKilometresUp() throws {
        let result = try replay(tracePath("m1-crater-rim"), mode: .openLoop)
        let truthAtZero = try #require(result.metric("nav.truth_altitude_at_nav_zero_m")?.number)
        #expect(truthAtZero > 2_000, "true altitude when navigation read zero: \(truthAtZero) m")
    }
}

@Suite("Closed loop: faults change outcomes")
struct ClosedLoopTests {
    @Test func craterRimLatchingCrashesAndRecoveringLands() throws {
        let latching = try replay(tracePath("m1-crater-rim"), guidance: recordedWith(("gate", "latching")))
        #expect(latching.outcome == "crashed")
        let recovering = try replay(tracePath("m1-crater-rim"), guidance: recordedWith(("gate", "recovering")))
        #expect(recovering.outcome == "landed")
        #expect(recovering.metric("altimeter.rejected_ranges")!.number! >= 10)
    }

    @Test func closedLoopWithoutFaultsFliesTheRecordedFlightAgain() throws {
        let dir = try TestPaths.scratch()
        let out = dir.appendingPathComponent("again.mcap").path
        let result = try replay(tracePath("nominal"), output: out)
        #expect(result.outcome == "landed")
        // The same messages as the recording (the replay adds its own metadata).
        func messages(_ path: String) throws -> [[UInt8]] {
            var all: [[UInt8]] = []
            try IndexedReader(path: path).messages { all.append(Array($0.data)) }
            return all
        }
        #expect(try messages(out) == messages(tracePath("nominal")))
    }

    @Test func lateAltimeterOnNominalBaselineCrashesHardenedLands() throws {
        let fault = "altimeter.acquire-below=900m"
        let baseline = try replay(tracePath("nominal"), guidance: recordedWith(("profile", "baseline")), faults: [fault])
        #expect(baseline.outcome == "crashed", "\(baseline.report)")
        #expect(baseline.number("touchdown.vertical_speed_mps")! > 20)
        let hardened = try replay(tracePath("nominal"), guidance: recordedWith(("profile", "hardened")), faults: [fault])
        #expect(hardened.outcome == "landed", "\(hardened.report)")
        let firstRange = try #require(hardened.metric("altimeter.first_valid_altitude_m")?.number)
        #expect(firstRange <= 900)
    }

    @Test func actuatorFaultsActOnTheFlight() throws {
        let clean = try replay(tracePath("nominal"))
        let short = try replay(tracePath("nominal"), faults: ["command.thrust-shortfall=10%"])
        #expect(short.number("propellant_kg")! != clean.number("propellant_kg")!)
        let out = try replay(tracePath("nominal"), faults: ["command.engine-out=all@600s"])
        #expect(out.outcome == "crashed")
    }

    @Test func appliedFaultsAreEventsInTheOutputTrace() throws {
        let dir = try TestPaths.scratch()
        let out = dir.appendingPathComponent("faulted.mcap").path
        _ = try replay(tracePath("nominal"), faults: ["attitude.bias=+0.5deg@900s..920s"], output: out)
        let events = try recorded(out).events.filter { $0.kind == "fault" }
        #expect(events.count == 2)
        #expect(events[0].stamp_ns == 900_000_000_000 && events[0].detail.contains("acting"))
        #expect(events[1].detail.contains("stopped") && events[1].detail.contains("201 messages"))
        #expect(try TraceCheck.run(path: out).messageCount > 0)
    }
}

@Suite("Digests")
struct DigestTests {
    @Test func twentyReplaysOnAnyThreadGiveOneDigest() async throws {
        let fault = "imu.drop=5%,burst=10"
        let digests = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask { try replay(tracePath("nominal"), mode: .openLoop, faults: [fault]).digest }
            }
            var all: [String] = []
            for try await d in group { all.append(d) }
            return all
        }
        #expect(digests.count == 20)
        #expect(Set(digests).count == 1)
    }

    @Test func aDifferentSeedForADropGivesADifferentDigest() throws {
        let fault = "imu.drop=5%,burst=10"
        let a = try replay(tracePath("nominal"), mode: .openLoop, faults: [fault], seed: 1)
        let b = try replay(tracePath("nominal"), mode: .openLoop, faults: [fault], seed: 2)
        #expect(a.digest != b.digest)
        #expect(a.metric("faults.altered_messages")!.number! > 0)
    }

    @Test func sha256MatchesTheStandardVectors() {
        func hex(_ s: String) -> String { var h = RunDigest(); h.update(Array(s.utf8)); return h.finalizeHex() }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        // A million a's, fed 8 bytes at a time as a run feeds it (the FIPS 180-2 vector).
        var h = RunDigest()
        let eight = Array("aaaaaaaa".utf8)
        for _ in 0..<125_000 { eight.withUnsafeBytes { h.update($0) } }
        #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// RunDigest gathers what it is fed and hashes it 4 KiB at a time; the
    /// digest must be the same however the bytes arrive, across batches too.
    @Test func sha256InPiecesEqualsSha256InOne() {
        let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var whole = RunDigest()
        whole.update(bytes)
        let expected = whole.finalizeHex()
        for piece in [1, 7, 55, 56, 63, 64, 65, 200, 4_095, 4_096, 4_097, 9_000] {
            var h = RunDigest()
            var i = 0
            while i < bytes.count {
                let end = min(i + piece, bytes.count)
                bytes[i..<end].withUnsafeBytes { h.update($0) }
                i = end
            }
            #expect(h.finalizeHex() == expected, "pieces of \(piece) bytes")
        }
    }
}

@Suite("Fault specs and assertions say what is wrong")
struct SpecTests {
    @Test func theIssueExamplesParse() throws {
        let latency = try FaultSpec(parsing: "altimeter.latency=1.5s")
        #expect(latency.kind == .latency && latency.amount == 1.5)
        let drop = try FaultSpec(parsing: "imu.drop=5%,burst=10")
        #expect(drop.probability == 0.05 && drop.burst == 10)
        let late = try FaultSpec(parsing: "altimeter.acquire-below=900m")
        #expect(late.amount == 900)
        let bias = try FaultSpec(parsing: "altimeter.bias=+300m@120s..180s")
        #expect(bias.amount == 300 && bias.window.from_ns == 120_000_000_000 && bias.window.to_ns == 180_000_000_000)
        let low = try FaultSpec(parsing: "velocimeter.noise=0.5m/s@..2km")
        #expect(low.window.altitudeMax_m == 2000 && low.window.from_ns == nil)
    }

    @Test func mistakesListWhatIsAccepted() {
        func message(_ spec: String) -> String {
            do { _ = try FaultSpec(parsing: spec); return "" } catch { return "\(error)" }
        }
        #expect(message("lidar.bias=3m").contains("accepted: imu, altimeter, velocimeter, attitude, command"))
        #expect(message("altimeter.wobble=3m").contains("acquire-below"))
        #expect(message("altimeter.bias=3furlongs").contains("m, km, cm, mm"))
        #expect(message("imu.acquire-below=900m").contains("faults on imu"))
        #expect(message("altimeter.drop=5%,brust=3").contains("unknown option \"brust\"; accepted here: burst"))
        #expect(message("altimeter.bias=3m@180s..120s").contains("ends before it starts"))
        #expect(message("altimeter.bias=3m@5m..10s").contains("mixes a time and an altitude"))
    }

    @Test func failedAssertionsSayWhenTheBoundWasCrossed() throws {
        let result = try replay(tracePath("m1-crater-rim"), mode: .openLoop,
                                assertions: ["nav.altitude_error_m.max < 200", "altimeter.rejected_ranges <= 5"])
        #expect(!result.passed)
        let failed = result.assertions[0]
        #expect(!failed.passed && failed.detail.contains("first exceeded at t="))
        #expect(result.assertions[1].passed)
        #expect(throws: PlanError.self) { try Assertion(parsing: "touchdown.speed <= 2") }
    }

    /// `!= nan` and `<= inf` were accepted, and hold for every measured value.
    @Test(arguments: ["touchdown.vertical_speed_mps != nan", "touchdown.vertical_speed_mps <= inf",
                      "touchdown.vertical_speed_mps > -infinity", "touchdown.vertical_speed_mps <= 1e400"])
    func aBoundThatIsNotFiniteIsRefused(text: String) {
        #expect(throws: PlanError.self) { try Assertion(parsing: text) }
    }
}

/// A guidance of the user's own: never fires the engine.
struct Coast: Guidance {
    mutating func receive(_ reading: SensorReading) {}
    mutating func step(time_ns: UInt64) -> GuidanceOutput {
        GuidanceOutput(command: CommandSample(stamp_ns: time_ns, mainThrottle_fraction: 0, thrusterThrottle_fraction: 0, pitchCommand_rad: 0),
                       navigation: NavSample(stamp_ns: time_ns, downrange_m: 0, altitude_m: 0, verticalSpeed_mps: 0, horizontalSpeed_mps: 0, pitch_rad: 0))
    }
}

@Suite("The library API from a user's tests")
struct LibraryAPITests {
    @Test func anotherGuidanceStartsFromItsOwnDefaults() throws {
        // nominal's parameters (profile, gate) are the reference guidance's;
        // the idle guidance has none and must not be handed them.
        let result = try replay(tracePath("nominal"), guidance: .named(name: "idle"))
        #expect(result.outcome == "timeout")
        #expect(result.metric("propellant_kg")?.number == 450)
    }

    @Test func aUsersOwnGuidanceReplays() throws {
        // Coasting at 1.7 km/s from 25 km is nearly an orbit: nothing lands
        // before the scenario's time runs out.
        let result = try Replay(trace: tracePath("nominal"), guidance: Coast(), faults: ["altimeter.acquire-below=900m"],
                                expect: "timeout", assertions: ["outcome == timeout"]).run()
        #expect(result.outcome == "timeout")
        #expect(result.passed, "\(result.report)")
    }
}

@Suite("Faults are values")
struct FaultValueTests {
    /// Issue 13, item 8: times that overflow nanoseconds trapped the tool.
    @Test(arguments: ["imu.latency=1e20s", "imu.latency=1s,jitter=1e20s", "altimeter.bias=+300m@1e20s..",
                      "command.command-latency=1e20s", "imu.latency=2e7s"])
    func timesPastTheLimitAreRefusedWhenParsed(_ spec: String) {
        #expect {
            try FaultSpec(parsing: spec)
        } throws: { "\($0)".contains("at most 10000000 s") }
    }

    /// A value without its unit names the accepted dimensions in English
    /// ("an acceleration", not "a acceleration").
    @Test func aValueWithoutItsUnitNamesWhatIsAccepted() {
        #expect {
            try FaultSpec(parsing: "imu.noise=0.01")
        } throws: { "\($0)".contains("expected an acceleration (m/s2, m/s^2) or an angular rate (deg/s, rad/s, mrad/s)") }
    }

    @Test func latenciesAtTheLimitAddUpWithoutOverflow() throws {
        let result = try replay(tracePath("nominal"), mode: .openLoop,
                                faults: ["imu.latency=1e7s", "imu.latency=9999999s,jitter=1e7s"])
        #expect(result.number("faults.altered_messages")! > 0)
        let closed = try replay(tracePath("nominal"), faults: ["command.command-latency=1e7s", "command.command-latency=9999999s"])
        #expect(closed.outcome == "timeout" || closed.outcome == "crashed", "\(closed.report)")
    }

    static let specs = [
        "altimeter.latency=1.5s", "altimeter.latency=250ms,jitter=20ms", "imu.drop=5%,burst=10", "imu.drop=0.123456789",
        "altimeter.acquire-below=900m", "altimeter.bias=+300m@120s..180s", "velocimeter.noise=0.5m/s@..2km",
        "imu.bias=0.01m/s2,field=accel_z_mps2", "attitude.drift=0.1deg/s@10min..", "altimeter.drift=2m/s",
        "velocimeter.drift=0.01m/s2", "imu.scale=105%", "altimeter.spike=1%,size=2km", "imu.nan=0.5%,field=rate_y_radps",
        "altimeter.stuck@900s..910s", "imu.blackout@1s..2s@500m..3km", "altimeter.reorder=2%", "imu.duplicate=1%",
        "velocimeter.max-range=4km", "command.thrust-shortfall=20%,group=main@600s..", "command.command-latency=100ms",
        "command.stuck-throttle@700s..701s", "command.engine-out=thrusters@50m..",
    ]

    @Test(arguments: specs)
    func textIsRenderedFromTheFieldsAndReadsBackEqual(_ spec: String) throws {
        let f = try FaultSpec(parsing: spec)
        let again = try FaultSpec(parsing: f.text)
        #expect(again == f, "\(spec) → \(f.text)")
        #expect(again.text == f.text)
    }

    @Test func theTextOfCommonFaultsStaysAsWritten() throws {
        for spec in ["altimeter.acquire-below=900m", "imu.drop=5%,burst=10", "altimeter.latency=1.5s", "altimeter.bias=300m@120s..180s"] {
            #expect(try FaultSpec(parsing: spec).text == spec)
        }
    }

    @Test func reorderingTheFaultsOfARunLeavesItsDigest() throws {
        let faults = ["imu.drop=5%,burst=10", "altimeter.noise=3m", "altimeter.latency=0.5s", "altimeter.drop=10%", "attitude.spike=1%"]
        let a = try replay(tracePath("nominal"), mode: .openLoop, faults: faults)
        let b = try replay(tracePath("nominal"), mode: .openLoop, faults: faults.reversed())
        let c = try replay(tracePath("nominal"), mode: .openLoop, faults: [faults[2], faults[0], faults[4], faults[1], faults[3]])
        #expect(a.digest == b.digest && b.digest == c.digest)
        #expect(a.number("faults.altered_messages")! > 0)
        // And an unrelated fault added beside a random one leaves that one's
        // draws alone: the IMU drops the same messages either way.
        let alone = try replay(tracePath("nominal"), mode: .openLoop, faults: ["imu.drop=5%,burst=10"])
        let beside = try replay(tracePath("nominal"), mode: .openLoop, faults: ["attitude.bias=1deg@5000s..", "imu.drop=5%,burst=10"])
        #expect(alone.digest == beside.digest, "a bias that never acts must not move the drop's draws")
    }
}

@Suite("One quantity parser")
struct QuantityTests {
    @Test(arguments: PhysicalDimension.allCases)
    func everyUnitReadsTheSameInScenariosAndFaults(_ d: PhysicalDimension) throws {
        for (unit, toSI) in d.units {
            let parsed = try #require(Quantity.parse("1.5 \(unit)", in: [d]))
            #expect(parsed.value == 1.5 * toSI && parsed.dimension == d, "1.5 \(unit)")
        }
    }

    @Test func scenarioFilesTakeTheUnitsFaultSpecsTake() throws {
        // Before one parser, faults took mm, us and mrad and scenarios did not.
        let text = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("scenarios/nominal.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "noise: 2 m,", with: "noise: 2000 mm,")
        #expect(text.contains("2000 mm"))
        let scenario = try Scenario.parse(text: text, file: "nominal.yaml", folder: nil)
        #expect(scenario.sensors.altimeter.noise_m == 2)
        #expect(try FaultSpec(parsing: "altimeter.latency=250us").amount == 250e-6)
        #expect(try FaultSpec(parsing: "attitude.bias=5mrad").amount == 5e-3)
    }
}
