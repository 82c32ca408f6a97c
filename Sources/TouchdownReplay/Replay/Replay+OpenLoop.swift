import TouchdownSim
import TouchdownTrace

/// What open loop found when it compared replayed outputs with the recording.
public struct Divergence: Sendable {
    public struct First: Sendable {
        public var time_s: Double
        public var topic: String
        public var field: String
        public var recorded: Double
        public var replayed: Double
    }

    /// Steps compared, and how many differed beyond the tolerances.
    public var comparedSteps = 0
    public var divergentSteps = 0
    public var first: First?
    /// Largest |replayed − recorded| per field, in `DivergenceFields.names` order.
    public var maxDeviation = [Double](repeating: 0, count: DivergenceFields.names.count)
}

/// What a trace's channel is to open loop.
enum OpenLoopRole { case imu, altimeter, velocimeter, attitude, command, nav, truth, other }

/// Ends the walk through the trace when guidance fails.
struct OpenLoopStop: Error {}

extension Replay {
    func runOpenLoop(_ stored: StoredRun, faultSeed: UInt64) throws -> ReplayResult {
        let (label, sim) = simulation(stored)
        var g = try makeGuidance(sim)
        return try openLoop(&g, stored: stored, simulation: sim, label: label, faultSeed: faultSeed)
    }

    private func openLoop<G: Guidance>(_ guidance: inout G, stored: StoredRun, simulation sim: Simulation,
                                       label: String, faultSeed: UInt64) throws -> ReplayResult {
        let reader = stored.reader
        typealias T = Simulation.Topics
        var roles = [OpenLoopRole](repeating: .other, count: Int(UInt16.max) + 1)
        for c in reader.channels {
            roles[Int(c.id)] = switch c.topic {
            case T.imu: .imu
            case T.altimeter: .altimeter
            case T.velocimeter: .velocimeter
            case T.attitude: .attitude
            case T.command: .command
            case T.nav: .nav
            case T.truth: .truth
            default: .other
            }
        }
        let topics = Set(reader.channels.map(\.topic))
        var sensors = SensorFaultPath(faults: faults, seed: faultSeed)
        if sensors.needsAltitude && !topics.contains(T.truth) {
            throw ReplayError.missingTopic(trace: trace, topic: T.truth, needed: "a fault with an altitude window or acquisition rule")
        }
        let stepsFromRecording = topics.contains(T.command)
        let period = Scenario.period_ns(rate: sim.scenario.guidance.rate_hz, step_ns: sim.scenario.step_ns) ?? sim.scenario.step_ns
        let out = try output.map { path -> RecordingTopics in
            let recorder = try TraceRecorder(path: path, options: Simulation.traceOptions)
            for m in replayMetadata(label, faultSeed: faultSeed) { try recorder.writer.addMetadata(name: m.name, m.fields) }
            return try RecordingTopics(recorder: recorder, simulation: sim)
        }

        var collector = MetricsCollector()
        var divergence = Divergence()
        var truth: TruthSample?
        var pendingMetrics: (t: UInt64, output: GuidanceOutput)?
        var pendingNav: (t: UInt64, nav: NavSample, commandDiffered: Bool)?
        var failure: (kind: String, t: UInt64, what: String)?
        var nextStep: UInt64 = 0
        var now: UInt64 = 0

        func tolerance(_ field: Int) -> Double? {
            tolerances[DivergenceFields.names[field]] ?? tolerances["*"]
        }
        /// Compares the fields from index `first` on; true if any differs.
        func compare(fields first: Int, recorded: [Double], replayed: [Double], at t: UInt64, topic: String) -> Bool {
            var any = false
            for (k, (r, p)) in zip(recorded, replayed).enumerated() {
                any = compare(first + k, recorded: r, replayed: p, at: t, topic: topic) || any
            }
            return any
        }
        func compare(_ field: Int, recorded: Double, replayed: Double, at t: UInt64, topic: String) -> Bool {
            let deviation = abs(replayed - recorded)
            if deviation > divergence.maxDeviation[field] || (deviation.isNaN && !divergence.maxDeviation[field].isNaN) {
                divergence.maxDeviation[field] = deviation
            }
            let differs = if let tol = tolerance(field) {
                !(deviation <= tol) && !(recorded.isNaN && replayed.isNaN)
            } else {
                recorded.bitPattern != replayed.bitPattern
            }
            if differs && divergence.first == nil {
                divergence.first = Divergence.First(time_s: Double(t) * 1e-9, topic: topic, field: DivergenceFields.names[field],
                                                    recorded: recorded, replayed: replayed)
            }
            return differs
        }
        func flushMetrics(truthNow: TruthSample?) {
            guard let p = pendingMetrics else { return }
            collector.step(p.t, p.output, truth: truthNow ?? truth)
            pendingMetrics = nil
        }
        func deliver(_ r: SensorReading, at t: UInt64) throws {
            guidance.receive(r)
            collector.delivered(r, at: t, altitudeAGL_m: truth?.altitudeAGL_m ?? .nan)
            try out?.record(r, at: t)
        }
        func recordFaultEvents() throws {
            for e in sensors.takeEvents() { try out?.record(e, \.events, e.stamp_ns) }
        }
        /// One guidance step at `t`; returns its output unless guidance failed.
        func step(at t: UInt64) throws -> GuidanceOutput? {
            flushMetrics(truthNow: nil)
            let o = guidance.step(time_ns: t)
            if let f = guidance.failure {
                failure = (f.kind.rawValue, t, f.report(at: t))
                return nil
            }
            if let invalid = o.invalidCommand(at: t) {
                failure = (Outcome.Kind.guidanceInvalidOutput.rawValue, t, invalid)
                return nil
            }
            pendingMetrics = (t, o)
            if let out {
                for e in o.events { try out.record(EventSample(stamp_ns: t, kind: e.kind, detail: e.detail), \.events, t) }
                try out.record(o.command, \.command, t)
                try out.record(o.navigation, \.nav, t)
            }
            return o
        }

        do {
            try reader.messages { view in
                let t = view.logTime_ns
                now = t
                try sensors.deliverDue(upTo: t) { try deliver($0, at: t) }
                if !stepsFromRecording {
                    while nextStep < t {
                        guard try step(at: nextStep) != nil else { throw OpenLoopStop() }
                        nextStep += period
                    }
                }
                let role = roles[Int(view.channelID)]
                switch role {
                case .imu, .altimeter, .velocimeter, .attitude:
                    let r: SensorReading = switch role {
                    case .imu: .imu(try ImuSample(cdr: view.data))
                    case .altimeter: .altimeter(try AltimeterSample(cdr: view.data))
                    case .velocimeter: .velocimeter(try VelocimeterSample(cdr: view.data))
                    default: .attitude(try AttitudeSample(cdr: view.data))
                    }
                    try sensors.process(r, at: t, altitudeAGL_m: truth?.altitudeAGL_m ?? .nan) { try deliver($0, at: t) }
                    try recordFaultEvents()
                case .truth:
                    let m = try TruthSample(cdr: view.data)
                    if let p = pendingMetrics, m.stamp_ns == p.t { flushMetrics(truthNow: m) }
                    truth = m
                    try out?.record(m, \.truth, t)
                case .command:
                    let recorded = try CommandSample(cdr: view.data)
                    guard let o = try step(at: t) else { throw OpenLoopStop() }
                    divergence.comparedSteps += 1
                    let differs = compare(fields: 0, recorded: DivergenceFields.values(recorded),
                                          replayed: DivergenceFields.values(o.command), at: t, topic: T.command)
                    if differs { divergence.divergentSteps += 1 }
                    pendingNav = (t, o.navigation, differs)
                case .nav:
                    let recorded = try NavSample(cdr: view.data)
                    guard let p = pendingNav, p.t == t else { break }
                    pendingNav = nil
                    let differs = compare(fields: 3, recorded: DivergenceFields.values(recorded),
                                          replayed: DivergenceFields.values(p.nav), at: t, topic: T.nav)
                    // A step whose command already differed is counted once.
                    if differs && !p.commandDiffered { divergence.divergentSteps += 1 }
                case .other:
                    break
                }
            }
        } catch is OpenLoopStop {}
        flushMetrics(truthNow: nil)
        try sensors.finish(at: now) { _ in }
        try recordFaultEvents()

        let outcomeName = failure?.kind ?? "replayed"
        if let f = failure { try out?.record(EventSample(stamp_ns: f.t, kind: f.kind, detail: f.what), \.events, f.t) }
        var metrics: [Metric] = [Metric(name: "outcome", value: .text(outcomeName))]
        metrics += collector.metrics(alteredMessages: sensors.alteredMessages)
        metrics.append(Metric(name: "divergence.steps", value: .number(Double(divergence.divergentSteps))))
        if let f = divergence.first { metrics.append(Metric(name: "divergence.first_time_s", value: .number(f.time_s))) }
        for (i, name) in DivergenceFields.names.enumerated() {
            metrics.append(Metric(name: "divergence.\(name).max", value: .number(divergence.maxDeviation[i])))
        }
        let digest = collector.finish(outcome: outcomeName)
        if let out {
            var fields: [(key: String, value: String)] = [("outcome", outcomeName), ("digest", digest)]
            if let f = failure { fields.append(("failure", f.what)) }
            try out.recorder.writer.addMetadata(name: "touchdown.outcome", fields)
            try out.recorder.finish()
        }
        return ReplayResult(mode: .openLoop, trace: trace, guidance: label, faults: faults.map(\.text), faultSeed: faultSeed,
                            outcome: nil, outcomeName: outcomeName, metrics: metrics, assertions: [],
                            divergence: divergence, digest: digest, output: output, failureDetail: failure?.what)
    }
}
