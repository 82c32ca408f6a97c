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
        let guidance = try makeGuidance(sim)
        return try openLoop(guidance, stored: stored, simulation: sim, label: label, faultSeed: faultSeed)
    }

    private func openLoop(_ guidance: any Guidance, stored: StoredRun, simulation sim: Simulation,
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
        let period = Scenario.period_ns(rate: sim.scenario.guidance.rate_hz, step_ns: sim.scenario.step_ns) ?? sim.scenario.step_ns
        let out = try output.map { path -> RecordingTopics in
            let recorder = try TraceRecorder(path: path, options: Simulation.traceOptions)
            for m in replayMetadata(label, faultSeed: faultSeed) { try recorder.writer.addMetadata(name: m.name, m.fields) }
            return try RecordingTopics(recorder: recorder, simulation: sim)
        }

        var walk = OpenLoopWalk(guidance: guidance, roles: roles, stepsFromRecording: topics.contains(T.command),
                                period_ns: period, out: out,
                                tolerances: DivergenceFields.names.map { tolerances[$0] ?? tolerances["*"] })
        do {
            try reader.messages { view in try walk.handle(view, sensors: &sensors) }
        } catch is OpenLoopStop {}
        walk.flushMetrics(truthNow: nil)
        sensors.finish(at: walk.now)
        try walk.recordFaultEvents(&sensors)
        let failure = walk.failure
        var collector = walk.collector
        let divergence = walk.divergence

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

/// One open-loop replay as it walks through the trace. Its state lives in
/// one non-generic struct, not in variables captured by closures, so that the
/// walk pays no run-time exclusivity checks or generic metadata lookups per
/// message.
struct OpenLoopWalk {
    typealias T = Simulation.Topics
    var guidance: any Guidance
    let roles: [OpenLoopRole]
    /// Steps come at the recorded commands' times; without `/command`, at the
    /// scenario's guidance period.
    let stepsFromRecording: Bool
    let period_ns: UInt64
    let out: RecordingTopics?
    /// Per field, in `DivergenceFields.names` order; nil compares bit for bit.
    let tolerances: [Double?]

    var collector = MetricsCollector()
    var divergence = Divergence()
    var truth: TruthSample?
    var pendingMetrics: (t: UInt64, output: GuidanceOutput)?
    var pendingNav: (t: UInt64, nav: NavSample, commandDiffered: Bool)?
    var failure: (kind: String, t: UInt64, what: String)?
    var nextStep_ns: UInt64 = 0
    var now: UInt64 = 0

    init(guidance: any Guidance, roles: [OpenLoopRole], stepsFromRecording: Bool, period_ns: UInt64, out: RecordingTopics?,
         tolerances: [Double?]) {
        self.guidance = guidance
        self.roles = roles
        self.stepsFromRecording = stepsFromRecording
        self.period_ns = period_ns
        self.out = out
        self.tolerances = tolerances
    }

    mutating func handle(_ view: MessageView, sensors: inout SensorFaultPath) throws {
        let t = view.logTime_ns
        now = t
        if sensors.nextDue_ns != nil {
            try sensors.deliverDue(upTo: t) { try deliver($0, at: t) }
        }
        if !stepsFromRecording {
            while nextStep_ns < t {
                guard try step(at: nextStep_ns) != nil else { throw OpenLoopStop() }
                nextStep_ns += period_ns
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
            if sensors.isEmpty {
                try deliver(r, at: t)
            } else {
                try sensors.process(r, at: t, altitudeAGL_m: altitudeAGL_m(at: t)) { try deliver($0, at: t) }
                try recordFaultEvents(&sensors)
            }
        case .truth:
            let m = try TruthSample(cdr: view.data)
            if let p = pendingMetrics, m.stamp_ns == p.t { flushMetrics(truthNow: m) }
            truth = m
            try out?.record(m, \.truth, t)
        case .command:
            let recorded = try CommandSample(cdr: view.data)
            guard let o = try step(at: t) else { throw OpenLoopStop() }
            divergence.comparedSteps += 1
            let differs = compare(recorded, o.command, at: t)
            if differs { divergence.divergentSteps += 1 }
            pendingNav = (t, o.navigation, differs)
        case .nav:
            let recorded = try NavSample(cdr: view.data)
            guard let p = pendingNav, p.t == t else { break }
            pendingNav = nil
            let differs = compare(recorded, p.nav, at: t)
            // A step whose command already differed is counted once.
            if differs && !p.commandDiffered { divergence.divergentSteps += 1 }
        case .other:
            break
        }
    }

    /// The true height above ground at `t`, from the latest recorded truth
    /// (at most one truth period old), carried forward along its vertical
    /// speed; what the terrain under the track does in that time is not
    /// known. NaN before the first truth.
    func altitudeAGL_m(at t: UInt64) -> Double { Self.altitudeAGL_m(at: t, from: truth) }

    static func altitudeAGL_m(at t: UInt64, from truth: TruthSample?) -> Double {
        guard let truth else { return .nan }
        guard t > truth.stamp_ns else { return truth.altitudeAGL_m }
        return truth.altitudeAGL_m + truth.verticalSpeed_mps * Double(t - truth.stamp_ns) * 1e-9
    }

    mutating func flushMetrics(truthNow: TruthSample?) {
        guard let p = pendingMetrics else { return }
        collector.step(p.t, p.output, truth: truthNow ?? truth)
        pendingMetrics = nil
    }

    mutating func deliver(_ r: SensorReading, at t: UInt64) throws {
        guidance.receive(r)
        let latest = truth
        collector.delivered(r, at: t, altitudeAGL_m: Self.altitudeAGL_m(at: t, from: latest))
        try out?.record(r, at: t)
    }

    func recordFaultEvents(_ sensors: inout SensorFaultPath) throws {
        guard !sensors.events.isEmpty else { return }
        for e in sensors.takeEvents() { try out?.record(e, \.events, e.stamp_ns) }
    }

    /// One guidance step at `t`; returns its output unless guidance failed.
    mutating func step(at t: UInt64) throws -> GuidanceOutput? {
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

    /// Compares a command's three fields; true if any differs.
    mutating func compare(_ recorded: CommandSample, _ replayed: CommandSample, at t: UInt64) -> Bool {
        let topic = T.command
        var any = compare(0, recorded.mainThrottle_fraction, replayed.mainThrottle_fraction, at: t, topic: topic)
        any = compare(1, recorded.thrusterThrottle_fraction, replayed.thrusterThrottle_fraction, at: t, topic: topic) || any
        any = compare(2, recorded.pitchCommand_rad, replayed.pitchCommand_rad, at: t, topic: topic) || any
        return any
    }

    /// Compares a navigation estimate's five fields; true if any differs.
    mutating func compare(_ recorded: NavSample, _ replayed: NavSample, at t: UInt64) -> Bool {
        let topic = T.nav
        var any = compare(3, recorded.downrange_m, replayed.downrange_m, at: t, topic: topic)
        any = compare(4, recorded.altitude_m, replayed.altitude_m, at: t, topic: topic) || any
        any = compare(5, recorded.verticalSpeed_mps, replayed.verticalSpeed_mps, at: t, topic: topic) || any
        any = compare(6, recorded.horizontalSpeed_mps, replayed.horizontalSpeed_mps, at: t, topic: topic) || any
        any = compare(7, recorded.pitch_rad, replayed.pitch_rad, at: t, topic: topic) || any
        return any
    }

    mutating func compare(_ field: Int, _ recorded: Double, _ replayed: Double, at t: UInt64, topic: String) -> Bool {
        let deviation = abs(replayed - recorded)
        if deviation > divergence.maxDeviation[field] || (deviation.isNaN && !divergence.maxDeviation[field].isNaN) {
            divergence.maxDeviation[field] = deviation
        }
        let differs = if let tol = tolerances[field] {
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
}
