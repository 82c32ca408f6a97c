import TouchdownReplay
import TouchdownSim
import TouchdownTrace

/// The replayer's figures (issue 4), side by side in one process, each the
/// best of `repeats` runs, in simulated seconds per wall second:
///
/// - open loop of `nominal-full-rate` (nominal with the IMU at 400 Hz),
///   recorded first, through the reference guidance that recorded it;
/// - open loop of `reference-descent` through the idle guidance: the replay
///   machinery alone;
/// - closed loop of `traces/nominal.mcap`.
///
/// Where the time goes comes from rungs run on the same trace, each adding
/// one stage to the one before: reading the chunks, decoding the messages,
/// the replay loop with the idle guidance, the same with faults, the
/// guidance under test, and writing the output trace. The difference between
/// two rungs is that stage's cost.
func replayBenchmark(repeats: Int, duration_s: Double, folder: String) throws {
    let fullRate = folder + "/touchdown-bench-nominal-full-rate.mcap"
    let descent = folder + "/touchdown-bench-reference-descent.mcap"
    let output = folder + "/touchdown-bench-replay-out.mcap"

    let scenario = try Scenario.load(path: "fixtures/scenarios/nominal-full-rate.yaml")
    let recorded = try Simulation(scenario: scenario).run(recorder: TraceRecorder(path: fullRate, options: Simulation.traceOptions))
    precondition(recorded.kind == .landed, "nominal-full-rate did not land: \(recorded.kind.rawValue)")
    try ReferenceDescent(duration_s: duration_s, seed: 1).record(to: TraceRecorder(path: descent))

    // Faults that act on every message of the busiest topic and on the
    // altimeter, as a fault campaign would; nominal still lands with them, so
    // the closed-loop figures cover the same flight.
    let faults = ["imu.noise=0.01m/s2", "imu.drop=1%,burst=4", "altimeter.latency=50ms,jitter=10ms",
                  "altimeter.acquire-below=6km"]

    print("replay benchmark: best of \(repeats), release build, one process")
    try openLoopLadder(name: "nominal-full-rate (IMU 400 Hz), reference guidance", path: fullRate, scenario: nil,
                       guidance: nil, faults: faults, repeats: repeats, output: output, mustMatch: true)
    try openLoopLadder(name: "reference-descent \(fmt(duration_s, 0)) s, idle guidance", path: descent,
                       scenario: "fixtures/scenarios/nominal.yaml", guidance: "idle", faults: faults,
                       repeats: repeats, output: output, mustMatch: false)
    try closedLoop(path: "traces/nominal.mcap", faults: faults, repeats: repeats, output: output)
    print("peak memory (max RSS): \(fmt(peakRSS_MB(), 1)) MB")
}

/// Best wall time of `repeats` runs of `body`, and its last result.
func best<R>(_ repeats: Int, _ body: () throws -> R) rethrows -> (time_s: Double, result: R) {
    var bestTime = Double.infinity
    var last: R?
    for _ in 0..<repeats {
        let t0 = now_s()
        last = try body()
        bestTime = min(bestTime, now_s() - t0)
    }
    return (bestTime, last!)
}

func rung(_ label: String, _ time_s: Double, simulated_s: Double, stage: String? = nil, target: String = "") {
    let pad = label.padding(toLength: 44, withPad: " ", startingAt: 0)
    var line = "  \(pad) \(fmt(time_s, 3)) s  \(fmt(simulated_s / time_s, 0).leftPadded(7))x"
    if let stage { line += "   \(stage)" }
    if !target.isEmpty { line += "   \(target)" }
    print(line)
}

/// A stage's cost: seconds, and nanoseconds per message of the trace.
func stage(_ name: String, _ seconds: Double, perMessage count: UInt64) -> String {
    "\(name) +\(fmt(seconds, 3)) s (\(fmt(seconds * 1e9 / Double(max(count, 1)), 0)) ns/msg)"
}

func openLoopLadder(name: String, path: String, scenario: String?, guidance: String?, faults: [String],
                    repeats: Int, output: String, mustMatch: Bool) throws {
    let reader = try IndexedReader(path: path)
    let messages = reader.statistics?.messageCount ?? 0
    let simulated_s = Double((reader.statistics?.messageEndTime_ns ?? 0) - (reader.statistics?.messageStartTime_ns ?? 0)) * 1e-9
    print("\nopen loop: \(name)")
    print("  \(messages) messages over \(fmt(simulated_s, 1)) simulated s, \(fmt(Double(reader.source.size) / 1e6)) MB")

    // 1. Chunks read, CRC-checked and decompressed; messages visited.
    let read = try best(repeats) { () throws -> Int in
        var n = 0
        try IndexedReader(path: path).messages { _ in n += 1 }
        return n
    }
    // 2. The same, and every message open loop reads decoded.
    let decode = try best(repeats) { () throws -> Double in
        try decodeAll(path)
    }
    func replay(_ g: String?, _ f: [String], out: String? = nil) throws -> ReplayResult {
        var plan = ReplayPlan(source: .trace(path: path, scenario: scenario),
                              guidance: g.map { .named(name: $0) } ?? .recorded(), mode: .openLoop,
                              faults: try f.map { try FaultSpec(parsing: $0) }, expectation: .any, seed: 1)
        plan.output = out
        return try Replay(plan).run()
    }
    // 3. The replay loop with the idle guidance: comparison, metrics, digest.
    let idle = try best(repeats) { try replay("idle", []) }
    // 4. With faults.
    let faulted = try best(repeats) { try replay("idle", faults) }
    // 5. The guidance under test (the idle one again for reference-descent).
    let guided = try best(repeats) { try replay(guidance, []) }
    // 6. And the output trace written.
    let written = try best(repeats) { try replay(guidance, [], out: output) }

    if mustMatch {
        precondition(guided.result.divergence?.divergentSteps == 0, "open loop diverged from the recording")
    }
    precondition(guided.result.digest == written.result.digest, "writing the output changed the digest")
    rung("read chunks (decompress, CRC)", read.time_s, simulated_s: simulated_s,
         stage: stage("read", read.time_s, perMessage: messages))
    rung("+ decode messages", decode.time_s, simulated_s: simulated_s,
         stage: stage("decode", decode.time_s - read.time_s, perMessage: messages))
    rung("+ replay loop, idle guidance", idle.time_s, simulated_s: simulated_s,
         stage: stage("loop (compare, metrics, digest)", idle.time_s - decode.time_s, perMessage: messages))
    rung("  idle guidance with \(faults.count) faults", faulted.time_s, simulated_s: simulated_s,
         stage: stage("faults", faulted.time_s - idle.time_s, perMessage: messages))
    rung("replay, \(guidance ?? "recording") guidance, no faults", guided.time_s, simulated_s: simulated_s,
         stage: stage("guidance", guided.time_s - idle.time_s, perMessage: messages),
         target: "(target >= 5000x)")
    rung("  and --out", written.time_s, simulated_s: simulated_s,
         stage: stage("output", written.time_s - guided.time_s, perMessage: messages))
    let d = guided.result.divergence!
    var altered = 0.0
    if case .number(let n)? = faulted.result.metrics.first(where: { $0.name == "faults.altered_messages" })?.value { altered = n }
    print("  \(d.comparedSteps) steps compared, \(d.divergentSteps) differ; the faults altered \(fmt(altered, 0)) messages")
}

/// Reads and decodes every message an open-loop replay decodes.
func decodeAll(_ path: String) throws -> Double {
    let reader = try IndexedReader(path: path)
    typealias T = Simulation.Topics
    var roles = [UInt8](repeating: 0, count: 65536)
    for c in reader.channels {
        roles[Int(c.id)] = switch c.topic {
        case T.imu: 1
        case T.altimeter: 2
        case T.velocimeter: 3
        case T.attitude: 4
        case T.command: 5
        case T.nav: 6
        case T.truth: 7
        default: 0
        }
    }
    var checksum = 0.0
    try reader.messages { m in
        switch roles[Int(m.channelID)] {
        case 1: checksum += try ImuSample(cdr: m.data).accelX_mps2
        case 2: checksum += try AltimeterSample(cdr: m.data).range_m
        case 3: checksum += try VelocimeterSample(cdr: m.data).verticalVelocity_mps
        case 4: checksum += try AttitudeSample(cdr: m.data).pitch_rad
        case 5: checksum += try CommandSample(cdr: m.data).mainThrottle_fraction
        case 6: checksum += try NavSample(cdr: m.data).altitude_m
        case 7: checksum += try TruthSample(cdr: m.data).altitudeAGL_m
        default: break
        }
    }
    return checksum
}

func closedLoop(path: String, faults: [String], repeats: Int, output: String) throws {
    let stored = try LoadedTrace(path: path)
    let simulation = Simulation(scenario: stored.scenario, guidance: stored.guidanceName,
                                settings: stored.callerSettings, seed: stored.seed)
    print("\nclosed loop: \(path) (scenario \(stored.scenario.name), \(fmt(Double(stored.scenario.step_ns) / 1e6, 1)) ms step)")
    let plain = try best(repeats) { try simulation.run() }
    let simulated_s = plain.result.time_s
    let replayed = try best(repeats) { try Replay(ReplayPlan(trace: path)).run() }
    precondition(replayed.result.outcome == plain.result.kind.rawValue, "closed loop without faults flew a different flight")
    let faulted = try best(repeats) {
        try Replay(ReplayPlan(trace: path, faults: try faults.map { try FaultSpec(parsing: $0) })).run()
    }
    let written = try best(repeats) { () throws -> ReplayResult in
        var plan = ReplayPlan(trace: path)
        plan.output = output
        return try Replay(plan).run()
    }
    print("  \(fmt(simulated_s, 1)) simulated s, outcome \(plain.result.kind.rawValue)")
    rung("simulation alone (no replayer)", plain.time_s, simulated_s: simulated_s)
    rung("closed-loop replay, no faults", replayed.time_s, simulated_s: simulated_s,
         stage: "replayer hooks, metrics, digest +\(fmt(replayed.time_s - plain.time_s, 3)) s",
         target: "(target >= 1000x)")
    let faultedEnd_s = faulted.result.metric("end_time_s")?.number ?? simulated_s
    rung("  with \(faults.count) faults", faulted.time_s, simulated_s: faultedEnd_s,
         stage: "faults +\(fmt(faulted.time_s - replayed.time_s, 3)) s; outcome \(faulted.result.outcome) at \(fmt(faultedEnd_s, 1)) s")
    rung("  and --out (no faults)", written.time_s, simulated_s: simulated_s,
         stage: "output +\(fmt(written.time_s - replayed.time_s, 3)) s")
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
