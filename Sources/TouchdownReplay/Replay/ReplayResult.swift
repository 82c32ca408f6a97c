import TouchdownSim
import TouchdownTrace

/// What a replay produced: the outcome, the metrics, each assertion's
/// verdict, the digest, and (open loop) the divergence from the recording.
public struct ReplayResult: Sendable {
    public var mode: Replay.Mode
    public var trace: String
    public var guidance: String
    public var faults: [String]
    public var faultSeed: UInt64
    /// Closed loop: how the flight ended. Open loop: nil.
    public var outcome: Outcome?
    /// `outcome.kind` in closed loop; `replayed` or `guidance-*` in open loop.
    public var outcomeName: String
    public var metrics: [Metric]
    public var assertions: [AssertionResult]
    public var divergence: Divergence?
    /// SHA-256 over everything the guidance produced (every step's command,
    /// navigation and events, bit for bit) and the outcome.
    public var digest: String
    public var output: String?
    public var failureDetail: String? = nil

    public var passed: Bool { assertions.allSatisfy(\.passed) }

    public func metric(_ name: String) -> Metric? { metrics.first { $0.name == name } }

    /// The report a person reads.
    public var report: String {
        var s = "replay \(trace) (\(mode.rawValue)), guidance \(guidance)"
        s += faults.isEmpty ? ", no faults\n" : ", faults: \(faults.joined(separator: " ")) (seed \(faultSeed))\n"
        if let outcome {
            s += outcome.table
        } else {
            s += "outcome               \(outcomeName)\n"
            if let f = failureDetail { s += "failure               \(f)\n" }
        }
        if let d = divergence {
            if let f = d.first {
                s += "divergence            \(d.divergentSteps) of \(d.comparedSteps) steps differ; first at t=\(formatFixed(f.time_s, 3)) s on \(f.topic) \(f.field): recorded \(f.recorded), replayed \(f.replayed)\n"
            } else {
                s += "divergence            none: \(d.comparedSteps) steps match the recording\n"
            }
            let width = DivergenceFields.names.map(\.count).max()!
            for (i, name) in DivergenceFields.names.enumerated() where d.maxDeviation[i] != 0 {
                s += "  max |Δ| \(name)\(String(repeating: " ", count: width - name.count))  \(d.maxDeviation[i])\n"
            }
        }
        for name in ["nav.altitude_error_m.max", "nav.truth_altitude_at_nav_zero_m", "altimeter.first_valid_time_s",
                     "altimeter.first_valid_altitude_m", "altimeter.rejected_ranges", "faults.altered_messages"] {
            if let m = metric(name) { s += name.padding(34) + m.text + "\n" }
        }
        for a in assertions {
            s += (a.passed ? "PASS  " : "FAIL  ") + a.assertion.text + "   (" + a.detail + ")\n"
        }
        s += "digest                \(digest)\n"
        if let output { s += "trace: \(output)\n" }
        return s
    }

    /// One JSON object: outcome, metrics, assertions, digest.
    public var json: String {
        var s = "{\"trace\":\(jsonString(trace)),\"mode\":\"\(mode.rawValue)\",\"guidance\":\(jsonString(guidance))"
        s += ",\"faults\":[" + faults.map(jsonString).joined(separator: ",") + "],\"fault_seed\":\(faultSeed)"
        s += ",\"outcome\":\(jsonString(outcomeName))"
        if let f = failureDetail { s += ",\"failure\":\(jsonString(f))" }
        s += ",\"metrics\":{" + metrics.map { m in
            let v = switch m.value {
            case .number(let x): jsonNumber(x)
            case .text(let t): jsonString(t)
            }
            return jsonString(m.name) + ":" + v
        }.joined(separator: ",") + "}"
        if let d = divergence {
            s += ",\"divergence\":{\"compared_steps\":\(d.comparedSteps),\"divergent_steps\":\(d.divergentSteps),\"first\":"
            if let f = d.first {
                s += "{\"time_s\":\(formatFixed(f.time_s, 3)),\"topic\":\(jsonString(f.topic)),\"field\":\(jsonString(f.field))"
                s += ",\"recorded\":\(jsonNumber(f.recorded)),\"replayed\":\(jsonNumber(f.replayed))}"
            } else {
                s += "null"
            }
            s += "}"
        }
        s += ",\"assertions\":[" + assertions.map { a in
            let v: String = switch a.value {
            case .number(let x)?: jsonNumber(x)
            case .text(let t)?: jsonString(t)
            case nil: "null"
            }
            return "{\"expression\":\(jsonString(a.assertion.text)),\"value\":\(v),\"passed\":\(a.passed),\"detail\":\(jsonString(a.detail))}"
        }.joined(separator: ",") + "]"
        s += ",\"passed\":\(passed),\"digest\":\"\(digest)\""
        if let output { s += ",\"output\":\(jsonString(output))" }
        return s + "}"
    }
}

/// A number as the trace tools write it (shortest round-trip form), or null
/// when it is not finite.
func jsonNumber(_ v: Double) -> String { v.isFinite ? MessageValue.float(v).jsonText : "null" }

