import TouchdownSim
import TouchdownTrace

/// What a trace's channel is to open loop: by its topic, and only when its
/// schema is the one that role reads.
enum OpenLoopRole {
    case imu, altimeter, velocimeter, attitude, command, nav, truth, other

    /// The role of each channel id; a channel on a role's topic with another
    /// schema is refused, never decoded as something it is not.
    static func assign(_ trace: LoadedTrace) throws -> [OpenLoopRole] {
        typealias T = Simulation.Topics
        let wanted: [(topic: String, role: OpenLoopRole, schema: String, text: String)] = [
            (T.imu, .imu, ImuSample.schemaName, ImuSample.schemaText),
            (T.altimeter, .altimeter, AltimeterSample.schemaName, AltimeterSample.schemaText),
            (T.velocimeter, .velocimeter, VelocimeterSample.schemaName, VelocimeterSample.schemaText),
            (T.attitude, .attitude, AttitudeSample.schemaName, AttitudeSample.schemaText),
            (T.command, .command, CommandSample.schemaName, CommandSample.schemaText),
            (T.nav, .nav, NavSample.schemaName, NavSample.schemaText),
            (T.truth, .truth, TruthSample.schemaName, TruthSample.schemaText),
        ]
        var roles = [OpenLoopRole](repeating: .other, count: Int(UInt16.max) + 1)
        for c in trace.channels {
            guard let w = wanted.first(where: { $0.topic == c.topic }) else { continue }
            let schema = trace.schemas.first { $0.id == c.schemaID }
            let found = schema.map { "\($0.name) (\($0.encoding))" } ?? "none"
            guard let schema, schema.name == w.schema, schema.encoding == "ros2msg", c.messageEncoding == "cdr" else {
                throw TraceInputError.wrongSchema(trace: trace.path, topic: c.topic, found: found + ", messages \(c.messageEncoding)",
                                                  wanted: "\(w.schema) (ros2msg), messages cdr")
            }
            guard String(decoding: schema.data, as: UTF8.self) == w.text else {
                throw TraceInputError.wrongSchema(trace: trace.path, topic: c.topic, found: "\(schema.name) with other fields",
                                                  wanted: "\(w.schema) as docs/traces.md defines it")
            }
            roles[Int(c.id)] = w.role
        }
        return roles
    }
}

/// Ends the walk through the trace when guidance fails.
struct OpenLoopStop: Error {}

extension Replay {
    func runOpenLoop(_ trace: LoadedTrace, _ sim: Simulation, label: String, faultSeed: UInt64) throws -> ReplayResult {
        let roles = try OpenLoopRole.assign(trace)
        // A role is present when a channel of it holds messages: a rig that
        // declares /command and never records one steps at the guidance rate.
        let present = Set(trace.channels.filter { roles[Int($0.id)] != .other && trace.hasMessages($0.id) }.map { roles[Int($0.id)] })
        var sensors = SensorFaultPath(faults: plan.faults, seed: faultSeed)
        if sensors.needsAltitude && !present.contains(.truth) {
            throw TraceInputError.missingTopic(trace: trace.path, topic: Simulation.Topics.truth,
                                               neededBy: "a fault with an altitude window or acquisition rule")
        }
        let guidance = try makeGuidance(sim)
        let reader = try trace.reader()
        let period = Scenario.period_ns(rate: sim.scenario.guidance.rate_hz, step_ns: sim.scenario.step_ns) ?? sim.scenario.step_ns
        let out = try plan.output.map { path -> RecordingTopics in
            let recorder = try TraceRecorder(path: path, options: Simulation.traceOptions)
            for m in replayMetadata(label, faultSeed: faultSeed) { try recorder.writer.addMetadata(name: m.name, m.fields) }
            return try RecordingTopics(recorder: recorder, simulation: sim)
        }

        var walk = OpenLoopWalk(guidance: guidance, roles: roles, stepsFromRecording: present.contains(.command),
                                period_ns: period, out: out, tolerances: plan.fieldTolerances, trace: trace.path)
        do {
            try reader.messages { view in try walk.handle(view, sensors: &sensors) }
        } catch is OpenLoopStop {}
        try walk.flushMetrics(truthNow: nil)
        sensors.finish(at: walk.now)
        try walk.recordFaultEvents(&sensors)
        let failure = walk.failure
        var collector = walk.collector
        let divergence = walk.divergence

        let outcome = failure?.failure.kind.rawValue
            ?? (divergence.comparedSteps == 0 ? "replayed" : divergence.divergentSteps == 0 ? "match" : "diverged")
        if let f = failure {
            try out?.record(event: EventSample(stamp_ns: f.t, kind: f.failure.kind.rawValue, detail: f.failure.report(at: f.t), anomaly: true), at: f.t)
        }
        let facts = RunFacts(mode: .openLoop, outcome: nil, outcomeName: outcome, collector: collector,
                             alteredMessages: sensors.alteredMessages, divergence: divergence,
                             hadTruth: present.contains(.truth))
        let metrics = MetricCatalogue.measure(facts)
        let digest = collector.finish(outcome: outcome)
        if let out {
            var fields: [(key: String, value: String)] = [("outcome", outcome), ("digest", digest)]
            if let f = failure { fields.append(("failure", f.failure.report(at: f.t))) }
            try out.recorder.writer.addMetadata(name: "touchdown.outcome", fields)
            try out.recorder.finish()
        }
        let firstAnomaly = failure.map { ReplayResult.Anomaly(time_s: Double($0.t) * 1e-9, what: $0.failure.report(at: $0.t)) }
            ?? collector.firstAnomaly
        return ReplayResult(plan: plan, guidance: label, faultSeed: faultSeed, outcome: outcome, firstAnomaly: firstAnomaly,
                            failure: failure.map { RunFailure($0.failure, time_s: Double($0.t) * 1e-9) },
                            metrics: metrics, divergence: divergence, digest: digest)
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
    var failure: (failure: GuidanceFailure, t: UInt64)?
    var nextStep_ns: UInt64 = 0
    var now: UInt64 = 0
    /// The log time of the trace's first message: the run's t = 0. Traces
    /// from ROS 2 start at Unix time, simulated ones at their epoch (where
    /// every sensor and /truth are sampled), imported ones near 0.
    var origin_ns: UInt64?
    var steps = 0
    let trace: String
    /// The most guidance steps one open-loop run takes (11.6 days at 100 Hz):
    /// a trace whose clock jumps by years stops with an error, not a hang.
    static let stepLimit = 100_000_000

    init(guidance: any Guidance, roles: [OpenLoopRole], stepsFromRecording: Bool, period_ns: UInt64, out: RecordingTopics?,
         tolerances: [Double?], trace: String) {
        self.guidance = guidance
        self.roles = roles
        self.stepsFromRecording = stepsFromRecording
        self.period_ns = period_ns
        self.out = out
        self.tolerances = tolerances
        self.trace = trace
    }

    /// A stamp on the run's clock: relative to the first message.
    @inline(__always)
    func shifted(_ stamp_ns: UInt64) -> UInt64 {
        let o = origin_ns ?? 0
        return stamp_ns >= o ? stamp_ns - o : 0
    }

    mutating func handle(_ view: MessageView, sensors: inout SensorFaultPath) throws {
        if origin_ns == nil { origin_ns = view.logTime_ns }
        guard view.logTime_ns >= origin_ns! else {
            throw TraceInputError.timeGoesBack(trace: trace, logTime_ns: view.logTime_ns, origin_ns: origin_ns!)
        }
        let t = view.logTime_ns - origin_ns!
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
            var r: SensorReading = switch role {
            case .imu: .imu(try ImuSample(cdr: view.data))
            case .altimeter: .altimeter(try AltimeterSample(cdr: view.data))
            case .velocimeter: .velocimeter(try VelocimeterSample(cdr: view.data))
            default: .attitude(try AttitudeSample(cdr: view.data))
            }
            if origin_ns != 0 { r = r.withStamp(shifted(r.stamp_ns)) }
            if sensors.isEmpty {
                try deliver(r, at: t)
            } else {
                try sensors.process(r, at: t, altitudeAGL_m: altitudeAGL_m(at: t)) { try deliver($0, at: t) }
                try recordFaultEvents(&sensors)
            }
        case .truth:
            var m = try TruthSample(cdr: view.data)
            m.stamp_ns = shifted(m.stamp_ns)
            if let p = pendingMetrics, m.stamp_ns == p.t { try flushMetrics(truthNow: m) }
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

    mutating func flushMetrics(truthNow: TruthSample?) throws {
        guard let p = pendingMetrics else { return }
        collector.step(p.t, p.output, truth: truthNow ?? truth)
        pendingMetrics = nil
        if let out, let t = truthNow ?? truth {
            var nav = p.output.navigation
            nav.stamp_ns = p.t
            try out.record(NavErrorSample(nav: nav, truth: t), \.metrics, p.t)
        }
    }

    mutating func deliver(_ r: SensorReading, at t: UInt64) throws {
        guidance.receive(r)
        let latest = truth
        collector.delivered(r, at: t, altitudeAGL_m: Self.altitudeAGL_m(at: t, from: latest))
        try out?.record(r, at: t)
    }

    func recordFaultEvents(_ sensors: inout SensorFaultPath) throws {
        guard !sensors.events.isEmpty else { return }
        for e in sensors.takeEvents() { try out?.record(event: e, at: e.stamp_ns) }
    }

    /// One guidance step at `t`; returns its output unless guidance failed.
    mutating func step(at t: UInt64) throws -> GuidanceOutput? {
        try flushMetrics(truthNow: nil)
        steps += 1
        guard steps <= Self.stepLimit else {
            throw TraceInputError.tooManySteps(trace: trace, limit: Self.stepLimit, time_ns: t)
        }
        let o = guidance.step(time_ns: t)
        if let f = guidance.failure {
            failure = (f, t)
            return nil
        }
        if let invalid = o.invalidOutput(at: t) {
            failure = (GuidanceFailure(.invalidOutput, invalid), t)
            return nil
        }
        pendingMetrics = (t, o)
        if let out {
            for e in o.events { try out.record(event: EventSample(stamp_ns: t, kind: e.kind, detail: e.detail, anomaly: e.anomaly), at: t) }
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

extension SensorReading {
    /// The same reading stamped `stamp_ns`.
    func withStamp(_ stamp_ns: UInt64) -> SensorReading {
        switch self {
        case .imu(var m): m.stamp_ns = stamp_ns; return .imu(m)
        case .altimeter(var m): m.stamp_ns = stamp_ns; return .altimeter(m)
        case .velocimeter(var m): m.stamp_ns = stamp_ns; return .velocimeter(m)
        case .attitude(var m): m.stamp_ns = stamp_ns; return .attitude(m)
        }
    }
}
