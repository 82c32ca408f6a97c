import TouchdownSim

/// Everything one run is: where its sensors come from, the guidance under
/// test, the mode, the faults, what outcome is expected, the assertions and
/// the seed. A plain value: the command line, `touchdown demo`, campaigns and
/// the library API all build plans, and `Replay` runs them.
///
///     var plan = ReplayPlan(trace: "traces/nominal.mcap")
///     plan.faults = [try FaultSpec(parsing: "altimeter.acquire-below=900m")]
///     plan.guidance = .recorded(settings: [.init("profile", "hardened")])
///     let result = try Replay(plan).run()
///     #expect(result.passed)
public struct ReplayPlan: Codable, Sendable, Equatable {
    /// Where the run's sensors come from.
    public enum Source: Codable, Sendable, Equatable {
        /// A recorded trace; closed loop flies the scenario it stores again
        /// (or `scenario`, when given), open loop feeds its messages.
        case trace(path: String, scenario: String? = nil)
        /// A scenario file, flown from its start (closed loop only).
        case scenario(path: String)
    }

    /// One `NAME=VALUE` guidance parameter.
    public struct Setting: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The guidance under test.
    public enum Guidance: Codable, Sendable, Equatable {
        /// The guidance that recorded the trace (or the scenario's), with its
        /// recorded settings first, then these.
        case recorded(settings: [Setting] = [])
        /// A registered guidance by name (`touchdown guidance list`). When it
        /// is the one that recorded the trace, the recorded settings apply
        /// first.
        case named(name: String, settings: [Setting] = [])
        /// A C shared library (include/touchdown_guidance.h), in its own process.
        case library(path: String, settings: [Setting] = [])
        /// Any program speaking docs/guidance-protocol.md, run with `/bin/sh -c`.
        case command(line: String, settings: [Setting] = [])

        public var settings: [Setting] {
            switch self {
            case .recorded(let s), .named(_, let s), .library(_, let s), .command(_, let s): s
            }
        }

        /// The settings as the guidance interfaces take them.
        var settingPairs: [(name: String, value: String)] { settings.map { ($0.name, $0.value) } }
    }

    /// A bound on how far an open-loop field may stray from the recording.
    public struct Tolerance: Codable, Sendable, Equatable {
        /// A field of `DivergenceFields.names`; nil for every field.
        public var field: String?
        public var value: Double
        public init(field: String?, value: Double) {
            self.field = field
            self.value = value
        }
    }

    public var source: Source
    public var guidance: Guidance
    public var mode: Replay.Mode
    public var faults: [FaultSpec]
    public var expectation: Expectation
    public var assertions: [Assertion]
    /// Open loop: per-field tolerances; none compares bit for bit.
    public var tolerances: [Tolerance]
    /// Seeds the faults' random draws (default: the trace's or scenario's
    /// seed). The simulated sensors keep the recorded seed, so a closed-loop
    /// run without faults flies the recorded flight again.
    public var seed: UInt64?
    /// Seeds the simulated sensors' noise (default: the trace's or the
    /// scenario's seed). Another seed flies a different flight.
    public var simulationSeed: UInt64?
    /// Values of the scenario replaced before it is flown (a campaign's
    /// dispersions); closed loop only.
    public var scenarioOverrides: [ScenarioOverride] = []
    /// How long an out-of-process guidance may take to answer one step.
    public var stepBudget_s: Double
    /// Where to write the run's trace, if anywhere.
    public var output: String?

    enum CodingKeys: String, CodingKey {
        case source, guidance, mode, faults, expectation = "expect", assertions, tolerances, seed
        case simulationSeed = "simulation_seed", stepBudget_s = "step_budget_s", output
        case scenarioOverrides = "scenario_overrides"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(Source.self, forKey: .source)
        guidance = try c.decode(Guidance.self, forKey: .guidance)
        mode = try c.decode(Replay.Mode.self, forKey: .mode)
        faults = try c.decode([FaultSpec].self, forKey: .faults)
        expectation = try c.decode(Expectation.self, forKey: .expectation)
        assertions = try c.decode([Assertion].self, forKey: .assertions)
        tolerances = try c.decode([Tolerance].self, forKey: .tolerances)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        simulationSeed = try c.decodeIfPresent(UInt64.self, forKey: .simulationSeed)
        scenarioOverrides = try c.decodeIfPresent([ScenarioOverride].self, forKey: .scenarioOverrides) ?? []
        stepBudget_s = try c.decode(Double.self, forKey: .stepBudget_s)
        output = try c.decodeIfPresent(String.self, forKey: .output)
    }

    /// Every key, `scenario_overrides` only when there are some (a plain
    /// replay's JSON stays as it was).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(guidance, forKey: .guidance)
        try c.encode(mode, forKey: .mode)
        try c.encode(faults, forKey: .faults)
        try c.encode(expectation, forKey: .expectation)
        try c.encode(assertions, forKey: .assertions)
        try c.encode(tolerances, forKey: .tolerances)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(simulationSeed, forKey: .simulationSeed)
        if !scenarioOverrides.isEmpty { try c.encode(scenarioOverrides, forKey: .scenarioOverrides) }
        try c.encode(stepBudget_s, forKey: .stepBudget_s)
        try c.encodeIfPresent(output, forKey: .output)
    }

    public init(source: Source, guidance: Guidance = .recorded(), mode: Replay.Mode = .closedLoop,
                faults: [FaultSpec] = [], expectation: Expectation? = nil, assertions: [Assertion] = [],
                tolerances: [Tolerance] = [], seed: UInt64? = nil, stepBudget_s: Double = 1, output: String? = nil) {
        self.source = source
        self.guidance = guidance
        self.mode = mode
        self.faults = faults
        self.expectation = expectation ?? .default(for: mode)
        self.assertions = assertions
        self.tolerances = tolerances
        self.seed = seed
        self.stepBudget_s = stepBudget_s
        self.output = output
    }

    /// A replay of a trace.
    public init(trace: String, scenario: String? = nil, guidance: Guidance = .recorded(), mode: Replay.Mode = .closedLoop,
                faults: [FaultSpec] = [], expectation: Expectation? = nil, assertions: [Assertion] = []) {
        self.init(source: .trace(path: trace, scenario: scenario), guidance: guidance, mode: mode, faults: faults,
                  expectation: expectation, assertions: assertions)
    }

    /// The trace or scenario file the run reads.
    public var sourcePath: String {
        switch source {
        case .trace(let path, _), .scenario(let path): path
        }
    }

    /// Every file the run reads: the trace or scenario, and a scenario
    /// named instead of the stored one.
    public var inputPaths: [String] {
        switch source {
        case .trace(let path, let scenario): [path] + (scenario.map { [$0] } ?? [])
        case .scenario(let path): [path]
        }
    }

    /// The tolerance of each compared field, in `DivergenceFields.names`
    /// order (a field's own, else the one for every field); nil: bit for bit.
    var fieldTolerances: [Double?] {
        DivergenceFields.names.map { name in
            (tolerances.last { $0.field == name } ?? tolerances.last { $0.field == nil })?.value
        }
    }

    /// Checks what can be checked before anything runs.
    /// - Throws: `PlanError` naming what is wrong and what is accepted.
    public func validate() throws {
        if case .scenario = source, mode == .openLoop { throw PlanError.openLoopNeedsTrace(scenario: sourcePath) }
        if !scenarioOverrides.isEmpty, mode == .openLoop { throw PlanError.overridesInOpenLoop(path: scenarioOverrides[0].path) }
        if mode == .openLoop, let f = faults.first(where: { $0.kind.isActuator }) {
            throw PlanError.actuatorFaultInOpenLoop(fault: f.text)
        }
        for a in assertions {
            guard let e = MetricCatalogue.entry(a.metric), mode == .openLoop ? e.openLoop : e.closedLoop else {
                throw PlanError.metricNotInMode(assertion: a.text, metric: a.metric, mode: mode)
            }
        }
        try expectation.validate(for: mode)
        for t in tolerances {
            guard t.value >= 0, t.value.isFinite else { throw PlanError.badTolerance("\(t.field.map { $0 + "=" } ?? "")\(t.value)") }
            if let f = t.field, !DivergenceFields.names.contains(f) { throw PlanError.badTolerance("\(f)=\(t.value)") }
        }
        guard stepBudget_s > 0, stepBudget_s.isFinite, stepBudget_s <= 3600 else {
            throw PlanError.badStepBudget(stepBudget_s)
        }
        for s in guidance.settings where s.name.isEmpty || s.name.contains("\n") || s.value.contains("\n") {
            throw PlanError.badSetting(name: s.name, value: s.value)
        }
    }
}

/// The outcomes a run is expected to end with. A run passes only when its
/// outcome is one of them and every assertion holds.
public enum Expectation: Sendable, Equatable {
    /// Any outcome: the verdict is the assertions' alone.
    case any
    /// One of these outcomes (`landed`, `crashed`, `match`, …; `replayed`
    /// stands for `match` or `diverged`).
    case outcomes([String])

    /// Closed loop: `landed`. Open loop: `match` (every compared field within
    /// tolerance; bit for bit without one).
    public static func `default`(for mode: Replay.Mode) -> Expectation {
        mode == .closedLoop ? .outcomes(["landed"]) : .outcomes(["match"])
    }

    /// The outcomes each mode can end with.
    public static func outcomes(for mode: Replay.Mode) -> [String] {
        let guidance = ["guidance-crashed", "guidance-timeout", "guidance-invalid-output"]
        return mode == .closedLoop
            ? ["landed", "hard-landing", "crashed", "timeout"] + guidance
            : ["match", "diverged", "replayed"] + guidance
    }

    /// Parses `any` or `OUTCOME[,OUTCOME…]`.
    public init(parsing text: String) throws {
        let words = text.split(separator: ",").map { String($0).trimmingSpaces }
        guard !words.isEmpty, !words.contains(where: \.isEmpty) else { throw PlanError.badExpectation(text, mode: nil) }
        if words == ["any"] {
            self = .any
            return
        }
        let known = Set(Self.outcomes(for: .closedLoop) + Self.outcomes(for: .openLoop))
        guard words.allSatisfy(known.contains) else { throw PlanError.badExpectation(text, mode: nil) }
        self = .outcomes(words)
    }

    public var text: String {
        switch self {
        case .any: "any"
        case .outcomes(let o): o.joined(separator: ",")
        }
    }

    func validate(for mode: Replay.Mode) throws {
        guard case .outcomes(let words) = self else { return }
        let accepted = Self.outcomes(for: mode)
        guard words.allSatisfy(accepted.contains) else { throw PlanError.badExpectation(text, mode: mode) }
    }

    /// Whether a run that ended with `outcome` met the expectation.
    public func accepts(_ outcome: String) -> Bool {
        switch self {
        case .any: true
        case .outcomes(let words):
            words.contains(outcome) || (words.contains("replayed") && (outcome == "match" || outcome == "diverged"))
        }
    }
}

/// A value coded as its text and parsed back when decoded: a fault as
/// `altimeter.latency=1.5s`, an assertion as `touchdown.vertical_speed_mps <= 2`,
/// an expectation as `landed,hard-landing`.
public protocol TextCoded: Codable {
    init(parsing text: String) throws
    var text: String { get }
}

extension TextCoded {
    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

extension Expectation: TextCoded {}
extension FaultSpec: TextCoded {}
extension Assertion: TextCoded {}

/// A plan that cannot run: bad input (exit 2). Each case says what was wrong
/// and what is accepted.
public enum PlanError: Error, Equatable, CustomStringConvertible {
    case openLoopNeedsTrace(scenario: String)
    case overridesInOpenLoop(path: String)
    case actuatorFaultInOpenLoop(fault: String)
    case metricNotInMode(assertion: String, metric: String, mode: Replay.Mode)
    case badExpectation(String, mode: Replay.Mode?)
    case badTolerance(String)
    case badStepBudget(Double)
    case badSetting(name: String, value: String)
    case badAssertion(String, problem: String)
    case faultFile(path: String, line: Int, problem: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .openLoopNeedsTrace(let scenario):
            "\(scenario): open loop replays a recorded trace; a scenario file can only be flown (closed loop)"
        case .overridesInOpenLoop(let path):
            "scenario value \(path) is replaced, but an open-loop replay feeds the recorded sensors and flies no scenario; use closed loop"
        case .actuatorFaultInOpenLoop(let fault):
            "fault \"\(fault)\" acts on the engines, which only a closed-loop replay flies; use --mode closed-loop"
        case .metricNotInMode(let assertion, let metric, let mode):
            "assertion \"\(assertion)\": \(metric) is not measured in \(mode.rawValue) replays; metrics of \(mode.rawValue): \(MetricCatalogue.entries.filter { mode == .openLoop ? $0.openLoop : $0.closedLoop }.map(\.name).joined(separator: ", "))"
        case .badExpectation(let text, let mode):
            if let mode {
                "expected outcome \"\(text)\" cannot happen in \(mode.rawValue) replays; accepted: any, or a comma-separated list of \(Expectation.outcomes(for: mode).joined(separator: ", "))"
            } else {
                "expected outcome \"\(text)\": accepted: any, or a comma-separated list of \(Expectation.outcomes(for: .closedLoop).joined(separator: ", ")) (closed loop); \(Expectation.outcomes(for: .openLoop).joined(separator: ", ")) (open loop)"
            }
        case .badTolerance(let text):
            "tolerance \"\(text)\": expected FIELD=VALUE or VALUE (a finite number ≥ 0, for every field); fields: \(DivergenceFields.names.joined(separator: ", "))"
        case .badStepBudget(let s):
            "step budget \(s) s: expected a number of seconds above 0 and at most 3600"
        case .badSetting(let name, let value):
            "guidance setting \"\(name)=\(value)\": expected NAME=VALUE with a non-empty name and no line break"
        case .badAssertion(let text, let problem):
            "assertion \"\(text)\": \(problem)"
        case .faultFile(let path, let line, let problem):
            "\(path):\(line): \(problem)"
        case .unreadable(let path, let reason):
            "\(path): \(reason)"
        }
    }
}
