import TouchdownTrace

/// A trace that is not what the run needs: bad input (exit 2). Damage to the
/// file itself comes as `MCAPError` or `CDRError`.
public enum TraceInputError: Error, Equatable, CustomStringConvertible {
    case noScenario(trace: String)
    case storedScenario(trace: String, underlying: String)
    case missingTopic(trace: String, topic: String, neededBy: String)
    /// A channel on a topic open loop reads, whose schema is not the one it needs.
    case wrongSchema(trace: String, topic: String, found: String, wanted: String)
    /// A message logged before the trace's first message.
    case timeGoesBack(trace: String, logTime_ns: UInt64, origin_ns: UInt64)
    case tooManySteps(trace: String, limit: Int, time_ns: UInt64)
    case faultQueueFull(limit: Int, time_ns: UInt64)

    public var description: String {
        switch self {
        case .noScenario(let trace):
            "\(trace): no scenario attachment (application/yaml) and no touchdown.simulation metadata; replaying needs the mission the trace was recorded on: traces from `touchdown simulate` carry it; for others, name a scenario file with --scenario"
        case .storedScenario(let trace, let underlying):
            "\(trace): the stored scenario does not load: \(underlying)"
        case .missingTopic(let trace, let topic, let needed):
            "\(trace): no \(topic) topic, which \(needed) needs"
        case .wrongSchema(let trace, let topic, let found, let wanted):
            "\(trace): channel \(topic) carries \(found); open loop reads \(topic) as \(wanted) (docs/traces.md); map a foreign type to it before replaying"
        case .timeGoesBack(let trace, let logTime, let origin):
            "\(trace): a message logged at \(logTime) ns comes after the first message at \(origin) ns; the trace's index is out of order (run `touchdown trace check`)"
        case .tooManySteps(let trace, let limit, let t):
            "\(trace): more than \(limit) guidance steps by t=\(formatSecondsRounded(t)) s; the trace's clock jumps (run `touchdown trace info`)"
        case .faultQueueFull(let limit, let t):
            "more than \(limit) sensor messages held back by faults at t=\(formatSecondsRounded(t)) s; shorten the latency"
        }
    }
}
