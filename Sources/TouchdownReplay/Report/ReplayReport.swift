import TouchdownTrace

/// The text a person reads for one run: what ran, the outcome against the
/// expectation, why guidance failed (if it did), the summary metrics, each
/// assertion, the verdict and the digest. The JSON (`ReplayResult`'s
/// `Codable` form) carries all of it and every other metric.
public enum ReplayReport {
    public static func text(_ r: ReplayResult) -> String {
        let flown = if case .scenario = r.plan.source { true } else { false }
        var s = flown ? "fly " : "replay "
        s += "\(r.plan.sourcePath) (\(r.mode.rawValue)), guidance \(r.guidance)"
        s += r.plan.faults.isEmpty ? ", no faults\n" : ", faults: \(r.plan.faults.map(\.text).joined(separator: " ")) (seed \(r.faultSeed))\n"
        let expect = r.plan.expectation == .any ? "any" : r.plan.expectation.text
        s += row("outcome", "\(r.outcome)   (expected \(expect): \(r.outcomeExpected ? "yes" : "no"))")
        if let f = r.failure {
            var what = "\(f.kind) at t=\(formatFixed(f.time_s, 3)) s: \(f.detail)"
            if let code = f.exitStatus { what += " [exit status \(code)]" }
            if let sig = f.signal { what += " [signal \(sig)]" }
            s += row("failure", what)
            for line in f.stderrTail { s += row("  stderr", line) }
        } else if let a = r.firstAnomaly {
            s += row("first_anomaly", "t=\(formatFixed(a.time_s, 3)) s: \(a.what)")
        }
        if let d = r.divergence { s += divergence(d) }
        for m in r.metrics where m.name != "outcome" && (MetricCatalogue.entry(m.name)?.inSummary ?? false) {
            if case .notMeasured(let why) = m.value {
                s += row(m.name, "not measured (\(why))")
            } else {
                s += row(m.name, m.text)
            }
        }
        for a in r.assertions {
            s += (a.passed ? "PASS  " : "FAIL  ") + a.expression + "   (" + a.detail + ")\n"
        }
        s += row("digest", r.digest)
        if let out = r.plan.output { s += row("trace", out) }
        s += row("verdict", verdict(r))
        return s
    }

    /// `PASS`, or `FAIL` and why.
    public static func verdict(_ r: ReplayResult) -> String {
        if r.passed { return "PASS" }
        var why: [String] = []
        if !r.outcomeExpected { why.append("outcome \(r.outcome), expected \(r.plan.expectation.text)") }
        let failed = r.assertions.filter { !$0.passed }.count
        if failed > 0 { why.append("\(failed) of \(r.assertions.count) assertion\(r.assertions.count == 1 ? "" : "s") failed") }
        return "FAIL (" + why.joined(separator: "; ") + ")"
    }

    static let width = 34

    static func row(_ name: String, _ value: String) -> String {
        name + String(repeating: " ", count: max(1, width - name.count)) + value + "\n"
    }

    static func divergence(_ d: Divergence) -> String {
        var s: String
        if d.comparedSteps == 0 {
            s = row("divergence", "not measured: the trace has no recorded /command to compare with")
        } else if let f = d.first {
            s = row("divergence", "\(d.divergentSteps) of \(d.comparedSteps) steps differ; first at t=\(formatFixed(f.time_s, 3)) s on \(f.topic) \(f.field): recorded \(f.recorded), replayed \(f.replayed)")
        } else {
            s = row("divergence", "none: \(d.comparedSteps) steps match the recording")
        }
        for (i, name) in DivergenceFields.names.enumerated() where d.maxDeviation[i] != 0 {
            s += row("  Δmax \(name)", "\(d.maxDeviation[i])")
        }
        return s
    }
}
