import TouchdownTrace

/// Why a replay could not start or could not go on: bad input (exit 2).
public enum ReplayError: Error, CustomStringConvertible {
    case badAssertion(String, String)
    case noScenario(trace: String)
    case scenario(trace: String, underlying: any Error)
    case missingTopic(trace: String, topic: String, needed: String)
    case actuatorFaultInOpenLoop(fault: String)
    case faultQueueFull(limit: Int, time_ns: UInt64)
    case guidance(String)
    case badTolerance(String)

    public var description: String {
        switch self {
        case .badAssertion(let text, let problem):
            "assertion \"\(text)\": \(problem)"
        case .noScenario(let trace):
            "\(trace): no scenario attachment (application/yaml) and no touchdown.simulation metadata; replaying needs the mission the trace was recorded on: traces from `touchdown simulate` carry it; for others, name a scenario file with --scenario"
        case .scenario(let trace, let underlying):
            "\(trace): the stored scenario does not load: \(underlying)"
        case .missingTopic(let trace, let topic, let needed):
            "\(trace): no \(topic) topic, which \(needed) needs"
        case .actuatorFaultInOpenLoop(let fault):
            "fault \"\(fault)\" acts on the engines, which only a closed-loop replay flies; use --mode closed-loop"
        case .faultQueueFull(let limit, let t):
            "more than \(limit) sensor messages held back by faults at t=\(formatSecondsRounded(t)) s; shorten the latency"
        case .guidance(let message):
            message
        case .badTolerance(let text):
            "tolerance \"\(text)\": expected FIELD=VALUE or VALUE (a number, for every field); fields: \(DivergenceFields.names.joined(separator: ", "))"
        }
    }
}
