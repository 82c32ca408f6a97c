import TouchdownSim
import TouchdownTrace

/// Runs one `ReplayPlan`: reruns guidance against a recorded trace (or flies
/// a scenario), with injected faults, measures the result and gives the
/// verdict:
///
///     let result = try Replay(ReplayPlan(trace: "traces/nominal.mcap",
///                                        faults: [try FaultSpec(parsing: "altimeter.acquire-below=900m")])).run()
///     #expect(result.passed)
///
/// - closed loop flies the scenario stored in the trace again, with the
///   guidance under test between faulted sensors and faulted actuators.
/// - open loop feeds the recorded sensor stream, after faults, to the
///   guidance in lockstep with the trace's clock, and compares what it
///   produces with the recorded commands and navigation.
///
/// Same plan → the same digest, in any process and on any thread. Many
/// `Replay`s may share one `LoadedTrace`, concurrently.
public struct Replay: Sendable {
    public enum Mode: String, Sendable, CaseIterable, Codable {
        case openLoop = "open-loop", closedLoop = "closed-loop"
    }

    /// A Swift guidance given as a value rather than by name: a label for
    /// reports, and how to make one from the mission knowledge.
    public struct SwiftGuidance: Sendable {
        public var label: String
        public var make: @Sendable (MissionKnowledge) throws -> any Guidance
        public init(label: String, make: @escaping @Sendable (MissionKnowledge) throws -> any Guidance) {
            self.label = label
            self.make = make
        }
    }

    public let plan: ReplayPlan
    let loaded: LoadedTrace?
    let swiftGuidance: SwiftGuidance?

    /// - Parameters:
    ///   - trace: the plan's trace, already loaded (shared by many runs); nil
    ///     loads it.
    ///   - guidance: a Swift guidance value to run instead of `plan.guidance`.
    public init(_ plan: ReplayPlan, trace: LoadedTrace? = nil, guidance: SwiftGuidance? = nil) {
        self.plan = plan
        self.loaded = trace
        self.swiftGuidance = guidance
    }

    /// A Swift guidance value against a trace: each run starts from a copy of it.
    public init<G: Guidance & Sendable>(trace: String, guidance: G, mode: Mode = .closedLoop, faults: [String] = [],
                                        expect: String? = nil, assertions: [String] = [], seed: UInt64? = nil,
                                        output: String? = nil) throws {
        var plan = ReplayPlan(source: .trace(path: trace), mode: mode, faults: try faults.map { try FaultSpec(parsing: $0) },
                              expectation: try expect.map { try Expectation(parsing: $0) },
                              assertions: try assertions.map { try Assertion(parsing: $0) }, seed: seed)
        plan.output = output
        self.init(plan, guidance: SwiftGuidance(label: "\(G.self)") { _ in guidance })
    }

    /// Runs the plan.
    /// - Throws: `PlanError` for a plan that cannot run, `GuidanceStartError`
    ///   for a guidance that cannot be started, `TraceInputError` or a trace
    ///   error for a trace that is not what the plan needs: all bad input.
    ///   A guidance that fails once started is not an error: it is the
    ///   outcome, and the verdict fails unless it was expected.
    public func run() throws -> ReplayResult {
        try plan.validate()
        if let output = plan.output {
            try OutputGuard.refuse(output: output, sameAsAnyOf: plan.inputPaths)
        }
        let source = try RunSource(plan, loaded: loaded)
        let faultSeed = plan.seed ?? source.seed
        let (label, sim) = try simulation(source)
        var run = switch plan.mode {
        case .closedLoop: try runClosedLoop(source, sim, label: label, faultSeed: faultSeed)
        case .openLoop: try runOpenLoop(source.trace!, sim, label: label, faultSeed: faultSeed)
        }
        run.assertions = plan.assertions.map { $0.check(run.metrics) }
        run.outcomeExpected = plan.expectation.accepts(run.outcome)
        return run
    }

    /// The label recorded for the guidance, and the simulation it flies in:
    /// the scenario and sensor seed, with the guidance's settings.
    func simulation(_ source: RunSource) throws -> (label: String, Simulation) {
        if let swiftGuidance {
            return (swiftGuidance.label, Simulation(scenario: source.scenario, guidance: swiftGuidance.label, settings: [], seed: source.seed))
        }
        let settings = plan.guidance.settingPairs
        let (label, name, all): (String, String, [(name: String, value: String)]) = switch plan.guidance {
        case .recorded: (source.guidanceName, source.guidanceName, source.callerSettings + settings)
        case .named(let name, _):
            (name, name, name == source.guidanceName ? source.callerSettings + settings : settings)
        case .library(let path, _): ("lib:" + path, "lib:" + path, settings)
        case .command(let line, _): ("cmd:" + line, "cmd:" + line, settings)
        }
        return (label, Simulation(scenario: source.scenario, guidance: name, settings: all, seed: source.seed))
    }

    func makeGuidance(_ simulation: Simulation) throws -> any Guidance {
        if let swiftGuidance { return try swiftGuidance.make(simulation.knowledge) }
        let settings = plan.guidance.settingPairs
        switch plan.guidance {
        case .recorded, .named:
            let factory = try GuidanceRegistry.resolve(simulation.guidanceName)
            do {
                return try factory.make(knowledge: simulation.knowledge, settings: simulation.settings)
            } catch {
                throw GuidanceStartError.refused(guidance: simulation.guidanceName, reason: "\(error)")
            }
        case .library(let path, _):
            return try ExternalGuidance(program: .library(path: path), knowledge: simulation.knowledge,
                                        settings: settings, stepBudget_s: plan.stepBudget_s)
        case .command(let line, _):
            return try ExternalGuidance(program: .command(line), knowledge: simulation.knowledge,
                                        settings: settings, stepBudget_s: plan.stepBudget_s)
        }
    }

    func replayMetadata(_ label: String, faultSeed: UInt64) -> [(name: String, fields: [(key: String, value: String)])] {
        [("touchdown.replay", [
            ("source_trace", plan.sourcePath), ("mode", plan.mode.rawValue), ("guidance", label),
            ("faults", FaultSpec.applicationOrder(plan.faults).map(\.text).joined(separator: " ")), ("fault_seed", String(faultSeed)),
            ("expect", plan.expectation.text),
        ])]
    }

    // MARK: Closed loop

    func runClosedLoop(_ source: RunSource, _ sim: Simulation, label: String, faultSeed: UInt64) throws -> ReplayResult {
        var g = try makeGuidance(sim)
        var hooks = FaultHooks(faults: plan.faults, seed: faultSeed, initialCommand: sim.initialCommand)
        let recorder = try plan.output.map { try TraceRecorder(path: $0, options: Simulation.traceOptions) }
        // A flown scenario records a plain simulation's trace; a replay says what it replayed.
        let metadata = source.trace == nil ? [] : replayMetadata(label, faultSeed: faultSeed)
        let outcome = try sim.run(guidance: &g, hooks: &hooks, recorder: recorder, metadata: metadata)
        let facts = RunFacts(mode: .closedLoop, outcome: outcome, outcomeName: outcome.kind.rawValue,
                             collector: hooks.collector, alteredMessages: hooks.sensors.alteredMessages,
                             divergence: nil, hadTruth: true)
        let digest = hooks.collector.finish(outcome: outcome.kind.rawValue)
        return ReplayResult(plan: plan, guidance: label, faultSeed: faultSeed, outcome: outcome.kind.rawValue,
                            firstAnomaly: outcome.firstAnomaly.map { .init(time_s: $0.time_s, what: $0.what) },
                            failure: outcome.guidanceFailure.map { RunFailure($0, time_s: outcome.time_s) },
                            metrics: MetricCatalogue.measure(facts), divergence: nil, digest: digest)
    }
}

/// What a plan runs against: a loaded trace, or a scenario file alone.
struct RunSource {
    var trace: LoadedTrace?
    var scenario: Scenario
    var guidanceName: String
    var callerSettings: [(name: String, value: String)]
    var seed: UInt64

    init(_ plan: ReplayPlan, loaded: LoadedTrace?) throws {
        switch plan.source {
        case .trace(let path, let scenarioPath):
            let t: LoadedTrace
            if let loaded {
                precondition(loaded.path == path && loaded.scenarioPath == scenarioPath,
                             "a LoadedTrace runs the plans of its own trace and scenario")
                t = loaded
            } else {
                t = try LoadedTrace(path: path, scenarioPath: scenarioPath)
            }
            trace = t
            scenario = try t.scenario(overriding: plan.scenarioOverrides)
            guidanceName = t.guidanceName
            callerSettings = t.callerSettings
            seed = plan.simulationSeed ?? t.seed
        case .scenario(let path):
            scenario = try Scenario.load(path: path, overrides: plan.scenarioOverrides)
            guidanceName = scenario.guidance.name
            callerSettings = []
            seed = plan.simulationSeed ?? scenario.seed
        }
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

    var actsOnActuators: Bool { !actuators.faults.isEmpty }
    var nextDue_ns: UInt64? { sensors.nextDue_ns }

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
