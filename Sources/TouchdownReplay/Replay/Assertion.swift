import TouchdownTrace

/// A bound on a metric: `touchdown.vertical_speed_mps <= 2`,
/// `outcome == landed`, `nav.altitude_error_m.max < 200`.
public struct Assertion: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", notEqual = "!=", less = "<", greater = ">"
    }

    public var text: String
    public var metric: String
    public var comparison: Comparison
    public var bound: Metric.Value

    public var description: String { text }

    /// Parses `METRIC OP VALUE`; the metric must be in the catalogue.
    public init(parsing text: String) throws {
        self.text = text.trimmingSpaces
        // Two-character operators first, so `<=` is not read as `<`.
        let ops: [Comparison] = [.lessOrEqual, .greaterOrEqual, .equal, .notEqual, .less, .greater]
        var found: (Comparison, String, String)?
        for op in ops {
            let (l, r) = self.text.splitOnce(op.rawValue)
            if let r { found = (op, l.trimmingSpaces, r.trimmingSpaces); break }
        }
        guard let (op, name, value) = found, !name.isEmpty, !value.isEmpty else {
            throw PlanError.badAssertion(text, problem: "the form is METRIC OP VALUE with OP one of <= >= == != < >, e.g. 'touchdown.vertical_speed_mps <= 2'")
        }
        guard MetricCatalogue.entry(name) != nil else {
            throw PlanError.badAssertion(text, problem: "unknown metric \"\(name)\"; the catalogue: \(MetricCatalogue.entries.map(\.name).joined(separator: ", "))")
        }
        metric = name
        comparison = op
        if let v = Double(value) {
            // `!= nan` always holds and `<= inf` always holds for a measured
            // value: an assertion that cannot fail is refused.
            guard v.isFinite else {
                throw PlanError.badAssertion(text, problem: "the bound \(value) is not a finite number; accepted: a finite number, such as 2 or -0.5")
            }
            bound = .number(v)
        } else {
            guard op == .equal || op == .notEqual else {
                throw PlanError.badAssertion(text, problem: "\"\(value)\" is not a number; only == and != compare words")
            }
            bound = .text(value)
        }
    }

    func holds(_ value: Double, _ b: Double) -> Bool {
        switch comparison {
        case .lessOrEqual: value <= b
        case .greaterOrEqual: value >= b
        case .equal: value == b
        case .notEqual: value != b
        case .less: value < b
        case .greater: value > b
        }
    }

    /// Checks the bound against the run's metrics. A metric the run did
    /// not measure fails the assertion, whatever the bound.
    func check(_ metrics: [Metric]) -> AssertionResult {
        func result(_ value: Metric.Value?, _ passed: Bool, _ detail: String, crossed: Double? = nil) -> AssertionResult {
            AssertionResult(expression: text, metric: metric, value: value, bound: bound, passed: passed,
                            detail: detail, firstCrossing_s: crossed)
        }
        guard let m = metrics.first(where: { $0.name == metric }) else {
            return result(nil, false, "\(metric) is not measured in this run")
        }
        switch (m.value, bound) {
        case (.notMeasured(let why), _):
            return result(m.value, false, "\(metric) not measured: \(why)")
        case (.number(let v), .number(let b)):
            let ok = holds(v, b)
            var detail = "\(metric) = \(m.text), bound \(comparison.rawValue) \(formatNumber(b))"
            var crossed: Double?
            if !ok, let series = m.series, let first = series.first(where: { !holds($0.value, b) }) {
                detail += "; first exceeded at t=\(formatFixed(first.time_s, 3)) s (\(formatNumber(first.value)))"
                crossed = first.time_s
            }
            return result(m.value, ok, detail, crossed: crossed)
        case (.text(let v), .text(let b)):
            let ok = comparison == .equal ? v == b : v != b
            return result(m.value, ok, "\(metric) = \(v), bound \(comparison.rawValue) \(b)")
        case (.text(let v), .number):
            return result(m.value, false, "\(metric) = \(v) is not a number")
        case (.number(let v), .text(let b)):
            return result(m.value, false, "\(metric) = \(formatNumber(v)) is a number, compared with \(b)")
        case (_, .notMeasured):
            preconditionFailure("a bound is a number or a word")
        }
    }
}

/// One assertion's verdict: the value it found, the bound, and, for a time
/// series that crossed the bound, when it first did.
public struct AssertionResult: Sendable, Equatable {
    public var expression: String
    public var metric: String
    /// Nil when the mode has no such metric.
    public var value: Metric.Value?
    public var bound: Metric.Value
    public var passed: Bool
    /// The value, the bound and, for time series, when it was first exceeded.
    public var detail: String
    public var firstCrossing_s: Double?
}
