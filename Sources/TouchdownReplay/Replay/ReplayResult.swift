#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TouchdownSim
import TouchdownTrace

/// What a run produced: the outcome and whether it was expected, why the
/// guidance failed if it did, every metric (or why it was not measured),
/// each assertion's verdict, the digest, and (open loop) the divergence from
/// the recording. `Codable`: its JSON is what `--json` prints; reports render
/// it (``ReplayReport``), it does not render itself.
public struct ReplayResult: Sendable, Equatable {
    /// The first thing that went wrong in the run.
    public struct Anomaly: Codable, Sendable, Equatable {
        public var time_s: Double
        public var what: String
    }

    public var plan: ReplayPlan
    /// The guidance as reports name it: `reference`, `lib:PATH`, `cmd:LINE`.
    public var guidance: String
    public var faultSeed: UInt64
    /// `landed`, `crashed`, … in closed loop; `match`, `diverged`,
    /// `replayed` in open loop; `guidance-*` in either.
    public var outcome: String
    /// Whether `plan.expectation` accepts the outcome.
    public var outcomeExpected: Bool = false
    public var firstAnomaly: Anomaly?
    /// Why the guidance stopped, for the `guidance-*` outcomes.
    public var failure: RunFailure?
    /// Every metric the mode defines, in catalogue order.
    public var metrics: [Metric]
    public var assertions: [AssertionResult] = []
    public var divergence: Divergence?
    /// SHA-256 over everything the guidance produced (every step's command,
    /// navigation and events, bit for bit) and the outcome.
    public var digest: String

    init(plan: ReplayPlan, guidance: String, faultSeed: UInt64, outcome: String, firstAnomaly: Anomaly?,
         failure: RunFailure?, metrics: [Metric], divergence: Divergence?, digest: String) {
        self.plan = plan
        self.guidance = guidance
        self.faultSeed = faultSeed
        self.outcome = outcome
        self.firstAnomaly = firstAnomaly
        self.failure = failure
        self.metrics = metrics
        self.divergence = divergence
        self.digest = digest
    }

    /// The verdict: the outcome was expected and every assertion holds.
    public var passed: Bool { outcomeExpected && assertions.allSatisfy(\.passed) }

    public var mode: Replay.Mode { plan.mode }

    public func metric(_ name: String) -> Metric? { metrics.first { $0.name == name } }
}

/// A guidance that failed once started: how, when, and what its process left.
public struct RunFailure: Codable, Sendable, Equatable {
    public var kind: String
    public var time_s: Double
    public var detail: String
    public var exitStatus: Int32?
    public var signal: Int32?
    public var stderrTail: [String]

    init(_ f: GuidanceFailure, time_s: Double) {
        kind = f.kind.rawValue
        self.time_s = time_s
        detail = f.detail
        exitStatus = f.exitStatus
        signal = f.signal
        stderrTail = f.stderrTail
    }

    enum CodingKeys: String, CodingKey {
        case kind, time_s, detail, exitStatus = "exit_status", signal, stderrTail = "stderr_tail"
    }
}

/// What open loop found when it compared replayed outputs with the recording.
public struct Divergence: Codable, Sendable, Equatable {
    public struct First: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case comparedSteps = "compared_steps", divergentSteps = "divergent_steps", first, maxDeviation = "max_deviation"
    }

    public init() {}
}

// MARK: JSON

extension ReplayResult: Codable {
    enum CodingKeys: String, CodingKey {
        case plan, source, mode, guidance, faults, faultSeed = "fault_seed", expect, outcome
        case outcomeExpected = "outcome_expected", firstAnomaly = "first_anomaly", failure, metrics
        case notMeasured = "not_measured", assertions, divergence, digest, verdict, passed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(plan, forKey: .plan)
        try c.encode(plan.sourcePath, forKey: .source)
        try c.encode(plan.mode, forKey: .mode)
        try c.encode(guidance, forKey: .guidance)
        try c.encode(plan.faults.map(\.text), forKey: .faults)
        try c.encode(faultSeed, forKey: .faultSeed)
        try c.encode(plan.expectation, forKey: .expect)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(outcomeExpected, forKey: .outcomeExpected)
        try c.encode(firstAnomaly, forKey: .firstAnomaly)
        try c.encode(failure, forKey: .failure)
        // Every metric: a number, a word, or null when not measured (the
        // reason is under not_measured).
        var values: [String: MetricJSON] = [:]
        var reasons: [String: String] = [:]
        for m in metrics {
            values[m.name] = MetricJSON(m.value)
            if case .notMeasured(let why) = m.value { reasons[m.name] = why }
        }
        try c.encode(values, forKey: .metrics)
        try c.encode(reasons, forKey: .notMeasured)
        try c.encode(assertions, forKey: .assertions)
        try c.encodeIfPresent(divergence, forKey: .divergence)
        try c.encode(digest, forKey: .digest)
        try c.encode(passed ? "pass" : "fail", forKey: .verdict)
        try c.encode(passed, forKey: .passed)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        plan = try c.decode(ReplayPlan.self, forKey: .plan)
        guidance = try c.decode(String.self, forKey: .guidance)
        faultSeed = try c.decode(UInt64.self, forKey: .faultSeed)
        outcome = try c.decode(String.self, forKey: .outcome)
        outcomeExpected = try c.decode(Bool.self, forKey: .outcomeExpected)
        firstAnomaly = try c.decodeIfPresent(Anomaly.self, forKey: .firstAnomaly)
        failure = try c.decodeIfPresent(RunFailure.self, forKey: .failure)
        let values = try c.decode([String: MetricJSON].self, forKey: .metrics)
        let reasons = try c.decode([String: String].self, forKey: .notMeasured)
        // Catalogue order, whatever order the object's keys came in.
        metrics = MetricCatalogue.entries.compactMap { e in
            guard let v = values[e.name] else { return nil }
            return Metric(name: e.name, value: v.value ?? .notMeasured(reasons[e.name] ?? "not measured"))
        }
        assertions = try c.decode([AssertionResult].self, forKey: .assertions)
        divergence = try c.decodeIfPresent(Divergence.self, forKey: .divergence)
        digest = try c.decode(String.self, forKey: .digest)
    }

    /// One line of JSON with sorted keys: the same run gives the same bytes.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Metrics are finite or null; a divergence's recorded or replayed
        // value may be anything the guidance produced.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// A metric's value in JSON: a number, a word, or null.
struct MetricJSON: Codable {
    var value: Metric.Value?

    init(_ v: Metric.Value) {
        if case .notMeasured = v { value = nil } else { value = v }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = nil
        } else if let d = try? c.decode(Double.self) {
            value = .number(d)
        } else {
            value = .text(try c.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case .number(let d)?: try c.encode(d)
        case .text(let s)?: try c.encode(s)
        case .notMeasured?, nil: try c.encodeNil()
        }
    }
}

extension AssertionResult: Codable {
    enum CodingKeys: String, CodingKey {
        case expression, metric, value, notMeasured = "not_measured", bound, passed, detail
        case firstCrossing_s = "first_crossing_time_s"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(expression, forKey: .expression)
        try c.encode(metric, forKey: .metric)
        try c.encode(value.map(MetricJSON.init) ?? MetricJSON(.notMeasured("")), forKey: .value)
        if case .notMeasured(let why)? = value { try c.encode(why, forKey: .notMeasured) }
        try c.encode(MetricJSON(bound), forKey: .bound)
        try c.encode(passed, forKey: .passed)
        try c.encode(detail, forKey: .detail)
        try c.encode(firstCrossing_s, forKey: .firstCrossing_s)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        expression = try c.decode(String.self, forKey: .expression)
        metric = try c.decode(String.self, forKey: .metric)
        let v = try c.decode(MetricJSON.self, forKey: .value).value
        let why = try c.decodeIfPresent(String.self, forKey: .notMeasured)
        value = v ?? why.map { .notMeasured($0) }
        bound = try c.decode(MetricJSON.self, forKey: .bound).value ?? .text("")
        passed = try c.decode(Bool.self, forKey: .passed)
        detail = try c.decode(String.self, forKey: .detail)
        firstCrossing_s = try c.decodeIfPresent(Double.self, forKey: .firstCrossing_s)
    }
}

extension ReplayResult {
    /// What in the result contradicts itself, if anything: an outcome marked
    /// expected (or not) against what the plan's expectation says of it, or
    /// an assertion's verdict against what its metric gives. A result read
    /// back from a file was edited by hand; nothing else makes one.
    public var inconsistency: String? {
        if outcomeExpected != plan.expectation.accepts(outcome) {
            return "outcome \(outcome) is marked \(outcomeExpected ? "expected" : "unexpected"), but the expectation is \(plan.expectation.text)"
        }
        guard assertions.count == plan.assertions.count else {
            return "\(assertions.count) assertion verdicts for the plan's \(plan.assertions.count) assertions"
        }
        for (assertion, recorded) in zip(plan.assertions, assertions) {
            let again = assertion.check(metrics)
            if again.passed != recorded.passed || recorded.expression != assertion.text {
                return "assertion '\(recorded.expression)' is marked \(recorded.passed ? "passed" : "failed"), but '\(assertion.text)' on its metrics \(again.passed ? "passes" : "fails")"
            }
        }
        return nil
    }
}
