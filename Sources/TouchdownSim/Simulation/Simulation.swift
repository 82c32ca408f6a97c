#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TouchdownTrace

/// Flies a scenario with a guidance at a fixed step, optionally recording
/// every sensor message, command, navigation estimate, truth sample and event
/// as it happens (the same recorder a hardware rig uses).
///
/// Each step: sensors due at this instant are sampled from the true state and
/// delivered to guidance (IMU, altimeter, velocimeter, attitude, in that
/// order); guidance steps if due and its command takes effect; truth is
/// recorded if due; then the plant advances one step. Same scenario,
/// guidance, settings and seed → the same trace, byte for byte.
public struct Simulation {
    public let scenario: Scenario
    public let guidanceName: String
    /// Scenario parameters first, then the caller's, in order.
    public let settings: [(name: String, value: String)]
    public let seed: UInt64
    public let terrain: Terrain
    public let knowledge: MissionKnowledge

    /// Topic names in every simulated trace.
    public typealias Topics = TouchdownTopics

    /// Writer options for simulated traces: the writer's defaults, chunks of
    /// at most 1 s of log time (or 1 MiB), so a recorder killed at any instant
    /// loses at most the last second, as docs/traces.md promises. (They were
    /// 10 s, which lost up to 10 s; 1 s chunks make the traces about 10% larger,
    /// docs/benchmarks.md.)
    ///
    /// The recording thread compresses every chunk itself: no compression
    /// thread. Beside a simulation the writer's second thread saved about
    /// 9% of a full-rate replay's wall time with a core free and spent 1.9
    /// times its wall time in CPU, spinning for the next chunk while the
    /// simulation ran; letting it use at most 15% of the wall time made the
    /// replay 7% slower than one thread (docs/benchmarks.md). A campaign
    /// runs one replay per core, so a replay that writes its trace keeps
    /// to one core.
    public static var traceOptions: MCAPWriter.Options {
        var options = MCAPWriter.Options()
        options.compressInBackground = false
        return options
    }

    public init(scenario: Scenario, guidance: String? = nil, settings: [(name: String, value: String)] = [], seed: UInt64? = nil) {
        self.scenario = scenario
        guidanceName = guidance ?? scenario.guidance.name
        // The scenario's parameters are for the scenario's guidance; another
        // guidance starts from its own defaults.
        self.settings = (guidanceName == scenario.guidance.name ? scenario.guidance.parameters : []) + settings
        self.seed = seed ?? scenario.seed
        terrain = Terrain(scenario.terrain)
        let siteDownrange = scenario.initial.downrangeToSite_m
        let siteElevation = terrain.elevation(downrange_m: siteDownrange)
        let e = scenario.navigationError
        knowledge = MissionKnowledge(
            siteDownrange_m: siteDownrange, siteElevation_m: siteElevation,
            moonRadius_m: scenario.moon.radius_m, moonGM_m3ps2: scenario.moon.gm_m3ps2,
            vehicle: scenario.vehicle,
            initialNavigation: NavSample(
                stamp_ns: 0, downrange_m: e.downrange_m, altitude_m: scenario.initial.altitude_m + e.altitude_m,
                verticalSpeed_mps: scenario.initial.verticalSpeed_mps + e.verticalSpeed_mps,
                horizontalSpeed_mps: scenario.initial.horizontalSpeed_mps + e.horizontalSpeed_mps,
                pitch_rad: scenario.initial.pitch_rad),
            altitudeSigma_m: e.altitudeSigma_m, speedSigma_mps: e.speedSigma_mps,
            guidanceRate_hz: scenario.guidance.rate_hz)
    }

    /// What the engines and attitude control act on before guidance's first
    /// command: engines off, the initial pitch held.
    public var initialCommand: CommandSample {
        CommandSample(stamp_ns: 0, mainThrottle_fraction: 0, thrusterThrottle_fraction: 0, pitchCommand_rad: scenario.initial.pitch_rad)
    }

    /// Makes the named built-in guidance with the settings.
    public func makeGuidance() throws -> any Guidance {
        try GuidanceRegistry.factory(named: guidanceName).make(knowledge: knowledge, settings: settings)
    }

    /// Flies with the named built-in guidance.
    public func run(recorder: TraceRecorder? = nil) throws -> Outcome {
        var guidance = try makeGuidance()
        return try run(guidance: &guidance, recorder: recorder)
    }

    /// Flies with any guidance (a user's own, for example).
    public func run<G: Guidance>(guidance: inout G, recorder: TraceRecorder? = nil) throws -> Outcome {
        var hooks = DirectHooks()
        return try run(guidance: &guidance, hooks: &hooks, recorder: recorder)
    }

    /// Flies with any guidance, with `hooks` between the vehicle and the
    /// guidance (the replayer's faults). `metadata` is added to the trace
    /// beside the simulation's own.
    public func run<G: Guidance, H: SimulationHooks>(
        guidance: inout G, hooks: inout H, recorder: TraceRecorder? = nil,
        metadata: [(name: String, fields: [(key: String, value: String)])] = []
    ) throws -> Outcome {
        let topics = try recorder.map { try RecordingTopics(recorder: $0, simulation: self) }
        if let recorder {
            for m in metadata { try recorder.writer.addMetadata(name: m.name, m.fields) }
        }
        let outcome = try fly(&guidance, &hooks, topics)
        if let recorder {
            try recorder.writer.addMetadata(name: "touchdown.outcome", outcome.fields)
            try recorder.finish()
        }
        return outcome
    }

    private func fly<G: Guidance, H: SimulationHooks>(_ guidance: inout G, _ hooks: inout H, _ topics: RecordingTopics?) throws -> Outcome {
        let s = scenario
        let step = s.step_ns
        func period(_ rate: Double) -> UInt64 { Scenario.period_ns(rate: rate, step_ns: step)! }
        let imuPeriod = period(s.sensors.imu.rate_hz), altimeterPeriod = period(s.sensors.altimeter.rate_hz)
        let velocimeterPeriod = period(s.sensors.velocimeter.rate_hz), attitudePeriod = period(s.sensors.attitude.rate_hz)
        let guidancePeriod = period(s.guidance.rate_hz), truthPeriod = period(s.recording.truthRate_hz)
        let end_ns = UInt64((s.maxDuration_s * 1e9).rounded())
        let step_s = Double(step) * 1e-9

        var plant = Plant(scenario: s, siteElevation_m: knowledge.siteElevation_m)
        var sensors = SensorModels(scenario: s, terrain: terrain, seed: seed)
        let attitudeGain = min(1, step_s / s.vehicle.attitudeTimeConstant_s)
        let attitudeDelta = s.vehicle.attitudeRateLimit_radps * step_s
        // Contact is only possible below the highest terrain: compared squared,
        // so most steps need no square root and no terrain lookup.
        let clearance_m = s.moon.radius_m + terrain.maxElevation_m + 1
        let clearanceSquared_m2 = clearance_m * clearance_m
        let site = knowledge.siteDownrange_m
        var command = initialCommand
        var firstAnomaly: Outcome.Anomaly?
        var exhaustedReported = false
        var t: UInt64 = 0

        func agl(_ p: Plant) -> Double {
            p.radiusFromCentre_m - s.moon.radius_m - terrain.elevation(downrange_m: p.downrange_m)
        }
        func truth(_ p: Plant, at time: UInt64, altitude: Double? = nil) -> TruthSample {
            let downrange = p.downrange_m
            let elevation = terrain.elevation(downrange_m: downrange)
            let h = altitude ?? p.radiusFromCentre_m - s.moon.radius_m - elevation
            return TruthSample(stamp_ns: time, downrange_m: downrange, altitudeAGL_m: h,
                               terrainElevation_m: elevation,
                               verticalSpeed_mps: p.verticalSpeed_mps, horizontalSpeed_mps: p.horizontalSpeed_mps,
                               pitch_rad: p.pitch_rad, mass_kg: p.mass_kg, thrust_n: p.thrust_n)
        }

        // Next instant each schedule is due (a compare per step, not a division).
        var nextImu: UInt64 = 0, nextAltimeter: UInt64 = 0, nextVelocimeter: UInt64 = 0
        var nextAttitude: UInt64 = 0, nextGuidance: UInt64 = 0, nextTruth: UInt64 = 0
        let needsAltitude = hooks.needsAltitude
        let actsOnActuators = hooks.actsOnActuators
        var nextDue = hooks.nextDue_ns
        // Whether a hook ran this step (only then can it have events to record).
        var hooksRan = false
        @inline(__always) func deliver(_ r: SensorReading) throws {
            guidance.receive(r)
            try topics?.record(r, at: t)
        }
        func recordEvent(_ e: EventSample) throws { try topics?.record(event: e, at: e.stamp_ns) }
        func endInFlight(_ kind: Outcome.Kind, _ what: String?, failure: GuidanceFailure? = nil) throws -> Outcome {
            let p = plant
            if let what, firstAnomaly == nil { firstAnomaly = Outcome.Anomaly(time_s: Double(t) * 1e-9, what: what) }
            if kind != .timeout, let what {
                try recordEvent(EventSample(stamp_ns: t, kind: kind.rawValue, detail: what, anomaly: true))
            }
            try hooks.finish(at: t, recordEvent)
            return Outcome(kind: kind, time_s: Double(t) * 1e-9, verticalSpeed_mps: -p.verticalSpeed_mps,
                           horizontalSpeed_mps: abs(p.horizontalSpeed_mps), tilt_deg: abs(p.pitch_rad) * 180 / .pi,
                           propellant_kg: p.propellant_kg, landingError_m: abs(p.downrange_m - site),
                           altitudeAGL_m: agl(p), firstAnomaly: firstAnomaly, guidanceFailure: failure)
        }
        while true {
            let altimeterDue = t == nextAltimeter, velocimeterDue = t == nextVelocimeter
            // The altitude is worked out only for a step where it is used.
            let imuDue = t == nextImu, attitudeDue = t == nextAttitude
            let h = altimeterDue || velocimeterDue || (needsAltitude && (imuDue || attitudeDue)) ? agl(plant) : 0
            if imuDue || altimeterDue || velocimeterDue || attitudeDue { hooksRan = true }
            if imuDue {
                nextImu += imuPeriod
                try hooks.sensor(.imu(sensors.imu(plant, at: t)), at: t, altitudeAGL_m: h, deliver: deliver)
            }
            if altimeterDue {
                nextAltimeter += altimeterPeriod
                try hooks.sensor(.altimeter(sensors.altimeter(plant, altitudeAGL_m: h, at: t)), at: t, altitudeAGL_m: h, deliver: deliver)
            }
            if velocimeterDue {
                nextVelocimeter += velocimeterPeriod
                try hooks.sensor(.velocimeter(sensors.velocimeter(plant, altitudeAGL_m: h, at: t)), at: t, altitudeAGL_m: h, deliver: deliver)
            }
            if attitudeDue {
                nextAttitude += attitudePeriod
                try hooks.sensor(.attitude(sensors.attitude(plant, at: t)), at: t, altitudeAGL_m: h, deliver: deliver)
            }
            if hooksRan { nextDue = hooks.nextDue_ns }
            if let due = nextDue, due <= t {
                hooksRan = true
                try hooks.deliverDue(upTo: t, deliver: deliver)
                nextDue = hooks.nextDue_ns
            }
            if t == nextGuidance {
                hooksRan = true
                nextGuidance += guidancePeriod
                let out = guidance.step(time_ns: t)
                if let failure = guidance.failure {
                    return try endInFlight(Outcome.Kind(failure.kind), failure.report(at: t), failure: failure)
                }
                if let invalid = out.invalidOutput(at: t) {
                    return try endInFlight(.guidanceInvalidOutput, invalid, failure: GuidanceFailure(.invalidOutput, invalid))
                }
                let c = out.command
                command = c
                command.mainThrottle_fraction = min(1, max(0, c.mainThrottle_fraction))
                command.thrusterThrottle_fraction = min(1, max(0, c.thrusterThrottle_fraction))
                hooks.commanded(command, at: t)
                for e in out.events {
                    if e.anomaly && firstAnomaly == nil { firstAnomaly = Outcome.Anomaly(time_s: Double(t) * 1e-9, what: e.detail) }
                    try topics?.record(event: EventSample(stamp_ns: t, kind: e.kind, detail: e.detail, anomaly: e.anomaly), at: t)
                }
                try topics?.record(c, \.command, t)
                try topics?.record(out.navigation, \.nav, t)
                let truthNow = truth(plant, at: t)
                if let topics {
                    var nav = out.navigation
                    nav.stamp_ns = t
                    try topics.record(NavErrorSample(nav: nav, truth: truthNow), \.metrics, t)
                }
                hooks.observe(out, truth: truthNow)
            }
            if hooksRan {
                try hooks.drainEvents(at: t, recordEvent)
                hooksRan = actsOnActuators
            }
            if t == nextTruth {
                nextTruth += truthPeriod
                try topics?.record(truth(plant, at: t), \.truth, t)
            }
            if t >= end_ns {
                return try endInFlight(.timeout, nil)
            }

            var applied = command
            if actsOnActuators {
                applied = hooks.actuator(at: t, latest: command)
                (plant.mainThrustFactor, plant.thrusterThrustFactor) = hooks.thrustFactors(at: t)
            }
            // The steps before the next instant anything is due (a sensor, a
            // held message, guidance, truth, the time limit) need none of the
            // work above: with hooks that leave the engines alone they only
            // fly (`Plant.fly`, which returns early for the checks below).
            var until = t + step
            if !actsOnActuators {
                until = max(until, min(nextImu, nextAltimeter, nextVelocimeter, nextAttitude,
                                       nextGuidance, nextTruth, nextDue ?? .max, end_ns))
            }
            repeat {
                let start = plant.fly(from: &t, until: until, step_ns: step, command: applied,
                                      attitudeDeltaLimit: attitudeDelta, attitudeGain: attitudeGain,
                                      stopWithin: clearanceSquared_m2)

                if plant.propellantExhausted && !exhaustedReported {
                    exhaustedReported = true
                    let what = "propellant exhausted at t=\(formatSecondsRounded(t)) s, \(formatFixed(agl(plant), 1)) m above the ground"
                    if firstAnomaly == nil { firstAnomaly = Outcome.Anomaly(time_s: Double(t) * 1e-9, what: what) }
                    try topics?.record(event: EventSample(stamp_ns: t, kind: "propellant-exhausted", detail: what, anomaly: true), at: t)
                }
                if plant.x_m * plant.x_m + plant.y_m * plant.y_m <= clearanceSquared_m2 {
                    let hNow = agl(plant)
                    if hNow <= 0 {
                        var before = plant
                        (before.x_m, before.y_m, before.vx_mps, before.vy_mps) = (start.x_m, start.y_m, start.vx_mps, start.vy_mps)
                        (before.mass_kg, before.pitch_rad) = (start.mass_kg, start.pitch_rad)
                        let hBefore = max(0, agl(before))
                        let f = hBefore - hNow > 0 ? hBefore / (hBefore - hNow) : 1
                        func mix(_ a: Double, _ b: Double) -> Double { a + f * (b - a) }
                        var contact = plant
                        contact.x_m = mix(before.x_m, plant.x_m); contact.y_m = mix(before.y_m, plant.y_m)
                        contact.vx_mps = mix(before.vx_mps, plant.vx_mps); contact.vy_mps = mix(before.vy_mps, plant.vy_mps)
                        contact.mass_kg = mix(before.mass_kg, plant.mass_kg); contact.pitch_rad = mix(before.pitch_rad, plant.pitch_rad)
                        let contactTime_s = (Double(t - step) + f * Double(step)) * 1e-9
                        let contact_ns = t - step + UInt64((f * Double(step)).rounded())
                        let outcome = classify(contact, time_s: contactTime_s, site: site, firstAnomaly: firstAnomaly)
                        try topics?.record(truth(contact, at: contact_ns, altitude: 0), \.truth, contact_ns)
                        try topics?.record(event: EventSample(stamp_ns: contact_ns, kind: "touchdown",
                            detail: "\(outcome.kind.rawValue) at t=\(formatFixed(contactTime_s, 3)) s: descending \(formatFixed(outcome.verticalSpeed_mps, 2)) m/s, horizontal \(formatFixed(outcome.horizontalSpeed_mps, 2)) m/s, tilt \(formatFixed(outcome.tilt_deg, 1)) deg"),
                            at: contact_ns)
                        try hooks.finish(at: contact_ns, recordEvent)
                        return outcome
                    }
                }
            } while t < until
        }
    }

    func classify(_ p: Plant, time_s: Double, site: Double, firstAnomaly: Outcome.Anomaly?) -> Outcome {
        let l = scenario.limits
        let down = -p.verticalSpeed_mps
        let across = abs(p.horizontalSpeed_mps)
        let tilt = abs(p.pitch_rad)
        let kind: Outcome.Kind
        if down <= l.verticalSpeed_mps && across <= l.horizontalSpeed_mps && tilt <= l.tilt_rad {
            kind = .landed
        } else if down > l.crashVerticalSpeed_mps || across > l.crashHorizontalSpeed_mps || tilt > l.crashTilt_rad {
            kind = .crashed
        } else {
            kind = .hardLanding
        }
        return Outcome(kind: kind, time_s: time_s, verticalSpeed_mps: down, horizontalSpeed_mps: across,
                       tilt_deg: tilt * 180 / .pi, propellant_kg: p.propellant_kg,
                       landingError_m: abs(p.downrange_m - site), altitudeAGL_m: 0, firstAnomaly: firstAnomaly)
    }
}

/// The recorder's topics for a simulated trace, and what makes the trace
/// self-contained: the scenario file as an attachment, and the guidance,
/// settings and seed as metadata. The replayer records through it too.
///
/// Callers give times from the start of descent (t); the trace's log times
/// and stamps are the scenario's epoch plus t (`Epoch`, docs/traces.md),
/// and every event is also written to `/log` as a `foxglove_msgs/msg/Log`.
public struct RecordingTopics {
    public let recorder: TraceRecorder
    public let imu: TraceRecorder.Topic<ImuSample>
    public let altimeter: TraceRecorder.Topic<AltimeterSample>
    public let velocimeter: TraceRecorder.Topic<VelocimeterSample>
    public let attitude: TraceRecorder.Topic<AttitudeSample>
    public let command: TraceRecorder.Topic<CommandSample>
    public let nav: TraceRecorder.Topic<NavSample>
    public let truth: TraceRecorder.Topic<TruthSample>
    public let events: TraceRecorder.Topic<EventSample>
    public let metrics: TraceRecorder.Topic<NavErrorSample>
    public let log: TraceRecorder.Topic<LogSample>
    /// Added to every time given: the start of descent on the trace's clock.
    public let epoch_ns: UInt64

    public init(recorder: TraceRecorder, simulation: Simulation) throws {
        self.recorder = recorder
        typealias T = Simulation.Topics
        imu = try recorder.topic(T.imu, ImuSample.self)
        altimeter = try recorder.topic(T.altimeter, AltimeterSample.self)
        velocimeter = try recorder.topic(T.velocimeter, VelocimeterSample.self)
        attitude = try recorder.topic(T.attitude, AttitudeSample.self)
        command = try recorder.topic(T.command, CommandSample.self)
        nav = try recorder.topic(T.nav, NavSample.self)
        truth = try recorder.topic(T.truth, TruthSample.self)
        events = try recorder.topic(T.events, EventSample.self)
        metrics = try recorder.topic(T.metrics, NavErrorSample.self)
        log = try recorder.topic(T.log, LogSample.self)
        let s = simulation.scenario
        epoch_ns = s.recording.epoch_ns
        try recorder.writer.addAttachment(Attachment(logTime_ns: epoch_ns, createTime_ns: epoch_ns, name: s.sourceName,
                                                     mediaType: "application/yaml", data: Array(s.sourceText.utf8)))
        if let name = s.terrain.profilePath, let text = s.terrain.profileText {
            try recorder.writer.addAttachment(Attachment(logTime_ns: epoch_ns, createTime_ns: epoch_ns, name: name,
                                                         mediaType: "text/csv", data: Array(text.utf8)))
        }
        try recorder.writer.addMetadata(name: "touchdown.simulation", [
            ("scenario", s.name),
            ("scenario_file", s.sourceName),
            ("guidance", simulation.guidanceName),
            ("settings", simulation.settings.map { "\($0.name)=\($0.value)" }.joined(separator: ";")),
            ("seed", String(simulation.seed)),
            ("step_ns", String(s.step_ns)),
            ("touchdown_version", touchdownVersion),
        ])
        try recorder.writer.addMetadata(name: TraceClock.metadataName, [
            ("epoch", Epoch.text(epoch_ns)),
            ("epoch_ns", String(epoch_ns)),
            ("t", "log time and stamps minus epoch_ns: time from the start of descent"),
        ])
    }

    @inline(__always)
    public func record<M: TraceMessage>(_ m: M, _ topic: KeyPath<RecordingTopics, TraceRecorder.Topic<M>>, _ t: UInt64) throws {
        var m = m
        m.stamp_ns &+= epoch_ns
        try recorder.record(m, on: self[keyPath: topic], logTime_ns: epoch_ns &+ t)
    }

    /// Records an event on `/events`, and as a log line on `/log`.
    public func record(event e: EventSample, at t: UInt64) throws {
        try record(e, \.events, t)
        try record(LogSample(event: e), \.log, t)
    }

    /// Records a sensor message on its topic.
    public func record(_ r: SensorReading, at t: UInt64) throws {
        switch r {
        case .imu(let m): try record(m, \.imu, t)
        case .altimeter(let m): try record(m, \.altimeter, t)
        case .velocimeter(let m): try record(m, \.velocimeter, t)
        case .attitude(let m): try record(m, \.attitude, t)
        }
    }
}
