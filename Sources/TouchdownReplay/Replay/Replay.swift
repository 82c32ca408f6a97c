import TouchdownSim
import TouchdownTrace

/// Reruns guidance against a recorded trace, with injected faults, and
/// measures the result:
///
///     let result = try Replay(trace: "traces/nominal.mcap", guidance: MyGuidance(),
///                             faults: ["altimeter.acquire-below=900m"]).run()
///     #expect(result.outcome?.kind == .landed)
///
/// - `closedLoop` flies the scenario stored in the trace again, with the
///   guidance under test between faulted sensors and faulted actuators.
/// - `openLoop` feeds the recorded sensor stream, after faults, to the
///   guidance in lockstep with the trace's clock, and compares what it
///   produces with the recorded commands and navigation.
///
/// Same trace, guidance, faults and seed → the same digest, in any process
/// and with any number of threads.
public struct Replay {
    public enum Mode: String, Sendable, CaseIterable {
        case openLoop = "open-loop", closedLoop = "closed-loop"
    }

    /// The guidance under test.
    public enum GuidanceUnderTest {
        /// A built-in guidance by name (nil: the one that recorded the trace).
        /// The recording's own settings apply first when it is the same
        /// guidance, then these.
        case named(String?, settings: [(name: String, value: String)])
        /// A Swift guidance, built from the mission knowledge stored in the trace.
        case make(label: String, (MissionKnowledge) throws -> any Guidance)
        /// A C shared library (include/touchdown_guidance.h), in its own process.
        case library(path: String, settings: [(name: String, value: String)])
        /// Any program speaking docs/guidance-protocol.md on stdin/stdout.
        case command(String, settings: [(name: String, value: String)])
    }

    public var trace: String
    /// A scenario file to replay against instead of the one the trace
    /// stores; needed for traces recorded elsewhere, which store none.
    public var scenario: String?
    public var guidance: GuidanceUnderTest
    public var mode: Mode
    public var faults: [FaultSpec]
    public var assertions: [Assertion]
    /// Seeds the faults' random draws (default: the trace's seed). The
    /// simulated sensors keep the trace's seed, so a closed-loop replay
    /// without faults flies the recorded flight again.
    public var seed: UInt64?
    /// Per-field tolerance for open-loop comparison; nil compares bit for bit.
    public var tolerances: [String: Double]
    /// Where to write the replay's trace, if anywhere.
    public var output: String?
    /// How long an out-of-process guidance may take to answer one step.
    public var stepBudget_s: Double

    public init(trace: String, guidance: GuidanceUnderTest = .named(nil, settings: []), mode: Mode = .closedLoop,
                faults: [FaultSpec] = [], assertions: [Assertion] = [], seed: UInt64? = nil,
                tolerances: [String: Double] = [:], output: String? = nil, stepBudget_s: Double = 1,
                scenario: String? = nil) {
        self.trace = trace
        self.scenario = scenario
        self.guidance = guidance
        self.mode = mode
        self.faults = faults
        self.assertions = assertions
        self.seed = seed
        self.tolerances = tolerances
        self.output = output
        self.stepBudget_s = stepBudget_s
    }

    /// A Swift guidance value: each run starts from a copy of it.
    public init<G: Guidance>(trace: String, guidance: G, mode: Mode = .closedLoop, faults: [String] = [],
                             assertions: [String] = [], seed: UInt64? = nil, output: String? = nil) throws {
        self.init(trace: trace, guidance: .make(label: "\(G.self)", { _ in guidance }), mode: mode,
                  faults: try faults.map { try FaultSpec(parsing: $0) },
                  assertions: try assertions.map { try Assertion(parsing: $0) }, seed: seed, output: output)
    }

    /// Runs the replay.
    /// - Throws: `ReplayError`, `FaultSpecError`, `GuidanceError` or a trace
    ///   error for bad input. A guidance that fails is not an error: it is the
    ///   outcome.
    public func run() throws -> ReplayResult {
        if mode == .openLoop, let f = faults.first(where: { $0.kind.isActuator }) {
            throw ReplayError.actuatorFaultInOpenLoop(fault: f.text)
        }
        for a in assertions {
            guard let e = MetricCatalogue.entry(a.metric), mode == .openLoop ? e.openLoop : e.closedLoop else {
                throw ReplayError.badAssertion(a.text, "\(a.metric) is not measured in \(mode.rawValue) replays")
            }
        }
        let stored = try StoredRun(path: trace, scenarioPath: scenario)
        let faultSeed = seed ?? stored.seed
        var result = switch mode {
        case .closedLoop: try runClosedLoop(stored, faultSeed: faultSeed)
        case .openLoop: try runOpenLoop(stored, faultSeed: faultSeed)
        }
        result.assertions = assertions.map { $0.check(result.metrics) }
        return result
    }

    /// The label recorded for the guidance, and the simulation it flies in:
    /// the stored scenario and sensor seed, with the guidance's settings.
    func simulation(_ stored: StoredRun) -> (label: String, Simulation) {
        let (label, settings): (String, [(name: String, value: String)]) = switch guidance {
        case .named(let name, let settings):
            (name ?? stored.guidanceName, (name ?? stored.guidanceName) == stored.guidanceName ? stored.callerSettings + settings : settings)
        case .make(let label, _): (label, [])
        case .library(let path, let settings): ("lib:" + path, settings)
        case .command(let line, let settings): ("cmd:" + line, settings)
        }
        return (label, Simulation(scenario: stored.scenario, guidance: label, settings: settings, seed: stored.seed))
    }

    func makeGuidance(_ simulation: Simulation) throws -> any Guidance {
        switch guidance {
        case .named:
            return try simulation.makeGuidance()
        case .make(_, let make):
            return try make(simulation.knowledge)
        case .library(let path, let settings):
            return try ExternalGuidance(program: .library(path: path), knowledge: simulation.knowledge,
                                        settings: settings, stepBudget_s: stepBudget_s)
        case .command(let line, let settings):
            return try ExternalGuidance(program: .command(line), knowledge: simulation.knowledge,
                                        settings: settings, stepBudget_s: stepBudget_s)
        }
    }

    func replayMetadata(_ label: String, faultSeed: UInt64) -> [(name: String, fields: [(key: String, value: String)])] {
        [("touchdown.replay", [
            ("source_trace", trace), ("mode", mode.rawValue), ("guidance", label),
            ("faults", faults.map(\.text).joined(separator: " ")), ("fault_seed", String(faultSeed)),
        ])]
    }

    // MARK: Closed loop

    func runClosedLoop(_ stored: StoredRun, faultSeed: UInt64) throws -> ReplayResult {
        let (label, sim) = simulation(stored)
        var g = try makeGuidance(sim)
        var hooks = FaultHooks(faults: faults, seed: faultSeed, initialCommand: sim.initialCommand)
        let recorder = try output.map { try TraceRecorder(path: $0, options: Simulation.traceOptions) }
        let outcome = try sim.run(guidance: &g, hooks: &hooks, recorder: recorder,
                                  metadata: replayMetadata(label, faultSeed: faultSeed))
        var metrics: [Metric] = [
            Metric(name: "outcome", value: .text(outcome.kind.rawValue)),
            Metric(name: "touchdown.time_s", value: .number(outcome.time_s)),
            Metric(name: "touchdown.vertical_speed_mps", value: .number(outcome.verticalSpeed_mps)),
            Metric(name: "touchdown.horizontal_speed_mps", value: .number(outcome.horizontalSpeed_mps)),
            Metric(name: "touchdown.tilt_deg", value: .number(outcome.tilt_deg)),
            Metric(name: "propellant_kg", value: .number(outcome.propellant_kg)),
            Metric(name: "landing_error_m", value: .number(outcome.landingError_m)),
            Metric(name: "altitude_agl_m", value: .number(outcome.altitudeAGL_m)),
        ]
        metrics += hooks.collector.metrics(alteredMessages: hooks.sensors.alteredMessages)
        let digest = hooks.collector.finish(outcome: outcome.kind.rawValue)
        return ReplayResult(mode: .closedLoop, trace: trace, guidance: label, faults: faults.map(\.text), faultSeed: faultSeed,
                            outcome: outcome, outcomeName: outcome.kind.rawValue, metrics: metrics, assertions: [],
                            divergence: nil, digest: digest, output: output)
    }
}

/// The closed-loop hooks: faults on both paths, metrics and digest.
struct FaultHooks: SimulationHooks {
    var sensors: SensorFaultPath
    var actuators: ActuatorFaultPath
    var collector = MetricsCollector()
    var lastAltitude_m = Double.infinity
    let needsAltitude: Bool

    init(faults: [FaultSpec], seed: UInt64, initialCommand: CommandSample) {
        sensors = SensorFaultPath(faults: faults, seed: seed)
        actuators = ActuatorFaultPath(faults: faults, initialCommand: initialCommand)
        needsAltitude = sensors.needsAltitude || actuators.faults.contains { $0.spec.window.usesAltitude }
    }

    mutating func sensor(_ reading: SensorReading, at t: UInt64, altitudeAGL_m: Double,
                         deliver: (SensorReading) throws -> Void) throws {
        switch reading {
        case .altimeter, .velocimeter: lastAltitude_m = altitudeAGL_m
        case .imu, .attitude: if needsAltitude { lastAltitude_m = altitudeAGL_m }
        }
        actuators.altitudeAGL_m = lastAltitude_m
        let h = lastAltitude_m
        try sensors.process(reading, at: t, altitudeAGL_m: altitudeAGL_m) { r in
            collector.delivered(r, at: t, altitudeAGL_m: h)
            try deliver(r)
        }
    }

    mutating func deliverDue(upTo t: UInt64, deliver: (SensorReading) throws -> Void) throws {
        guard sensors.nextDue_ns != nil else { return }
        let h = lastAltitude_m
        try sensors.deliverDue(upTo: t) { r in
            collector.delivered(r, at: t, altitudeAGL_m: h)
            try deliver(r)
        }
    }

    mutating func commanded(_ command: CommandSample, at t: UInt64) { actuators.commanded(command, at: t) }

    mutating func actuator(at t: UInt64, latest: CommandSample) -> CommandSample {
        actuators.actuator(at: t, latest: latest)
    }

    func thrustFactors(at t: UInt64) -> (main: Double, thrusters: Double) { actuators.thrustFactors(at: t) }

    mutating func drainEvents(at t: UInt64, _ record: (EventSample) throws -> Void) throws {
        if !sensors.events.isEmpty { for e in sensors.takeEvents() { try record(e) } }
        if !actuators.events.isEmpty { for e in actuators.takeEvents() { try record(e) } }
    }

    mutating func observe(_ output: GuidanceOutput, truth: TruthSample) {
        collector.step(truth.stamp_ns, output, truth: truth)
    }

    mutating func finish(at t: UInt64, _ record: (EventSample) throws -> Void) throws {
        sensors.finish(at: t)
        actuators.finish(at: t)
        try drainEvents(at: t, record)
    }
}
