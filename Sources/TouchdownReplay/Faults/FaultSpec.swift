import TouchdownSim
import TouchdownTrace

/// One injected fault, parsed from the one syntax used on the command line
/// and in files:
///
///     TOPIC.KIND[=VALUE][,OPTION=VALUE]...[@WINDOW]...
///
/// `altimeter.latency=1.5s`, `imu.drop=5%,burst=10`,
/// `altimeter.acquire-below=900m`, `altimeter.bias=+300m@120s..180s`,
/// `command.engine-out=main@600s`. A window's unit says what it bounds: a time
/// (`120s..180s`, seconds since the trace's first message) or the true
/// altitude above ground (`..3000m`); either end may be left open, and a
/// single value means "from then on". Every window given must hold.
/// docs/faults.md lists every kind, option and unit.
public struct FaultSpec: Sendable, Hashable, CustomStringConvertible {
    public enum Topic: String, Sendable, CaseIterable {
        case imu, altimeter, velocimeter, attitude
        /// The actuator path: commands on their way to the engines.
        case command
    }

    public enum Kind: String, Sendable, CaseIterable {
        // Sensor faults.
        case latency, drop, blackout, stuck, bias, drift, scale, noise, spike, nan, reorder, duplicate
        case acquireBelow = "acquire-below", maxRange = "max-range"
        // Actuator faults.
        case thrustShortfall = "thrust-shortfall", commandLatency = "command-latency"
        case stuckThrottle = "stuck-throttle", engineOut = "engine-out"

        public var isActuator: Bool {
            switch self {
            case .thrustShortfall, .commandLatency, .stuckThrottle, .engineOut: true
            default: false
            }
        }
    }

    public enum EngineGroup: String, Sendable, CaseIterable { case main, thrusters, all }

    public let topic: Topic
    public let kind: Kind
    /// The main value in SI units (seconds, metres, m/s, …; fractions for %).
    public let amount: Double
    /// For drift: per second. For spike: the outlier's size.
    public let size: Double?
    public let probability: Double
    public let burst: Int
    public let jitter_ns: UInt64
    public let group: EngineGroup
    /// Indexes of the message fields a value fault changes (see `SensorFields`).
    public let fields: [Int]
    public let window: Window

    /// How reports, events and files name the fault: rendered from its
    /// fields, so it can never disagree with them, and parsed back to an
    /// equal value (`altimeter.bias=+300m@120s..180s` reads back as
    /// `altimeter.bias=300m@120s..180s`).
    public var text: String { FaultText.render(self) }

    /// When a fault acts: a time window and an altitude window, both optional.
    public struct Window: Sendable, Hashable {
        public var from_ns: UInt64?
        public var to_ns: UInt64?
        public var altitudeMin_m: Double?
        public var altitudeMax_m: Double?

        public init(from_ns: UInt64? = nil, to_ns: UInt64? = nil, altitudeMin_m: Double? = nil, altitudeMax_m: Double? = nil) {
            self.from_ns = from_ns
            self.to_ns = to_ns
            self.altitudeMin_m = altitudeMin_m
            self.altitudeMax_m = altitudeMax_m
        }

        public static let always = Window()
        public var usesAltitude: Bool { altitudeMin_m != nil || altitudeMax_m != nil }

        @inline(__always)
        public func contains(time_ns t: UInt64, altitudeAGL_m h: Double) -> Bool {
            if let f = from_ns, t < f { return false }
            if let e = to_ns, t > e { return false }
            if let lo = altitudeMin_m, !(h >= lo) { return false }
            if let hi = altitudeMax_m, !(h <= hi) { return false }
            return true
        }
    }

    public var description: String { text }

    /// The longest time a fault spec may give (a latency, a jitter, a window's
    /// end): 10,000,000 s, about 116 days. In nanoseconds a hundred thousand
    /// such times still add up without overflowing.
    public static let maximumTime_s = 10_000_000.0

    /// The order faults act in, whatever order they were given in: by topic,
    /// then the sensor's own failings before the bus's (acquisition and
    /// range limits, stuck, bias, drift, scale, noise, spike, NaN; then
    /// blackout, drop, duplicate, reorder, latency), then by text. A run's
    /// faults are a set: reordering them changes nothing.
    public static func applicationOrder(_ faults: [FaultSpec]) -> [FaultSpec] {
        func rank(_ k: Kind) -> Int {
            let order: [Kind] = [.acquireBelow, .maxRange, .stuck, .bias, .drift, .scale, .noise, .spike, .nan,
                                 .blackout, .drop, .duplicate, .reorder, .latency,
                                 .thrustShortfall, .engineOut, .stuckThrottle, .commandLatency]
            return order.firstIndex(of: k)!
        }
        func topicRank(_ t: Topic) -> Int { Topic.allCases.firstIndex(of: t)! }
        return faults.sorted { a, b in
            (topicRank(a.topic), rank(a.kind), a.text) < (topicRank(b.topic), rank(b.kind), b.text)
        }
    }

    /// The name of each fault's random stream: its text, and which of the
    /// identical faults it is. Never its position among different faults.
    static func streamNames(_ ordered: [FaultSpec]) -> [String] {
        var seen: [String] = []
        return ordered.map { f in
            let text = f.text
            let n = seen.filter { $0 == text }.count
            seen.append(text)
            return "fault.\(text)#\(n)"
        }
    }

    /// Whether the fault needs the true altitude above ground for each message.
    public var needsAltitude: Bool {
        window.usesAltitude || kind == .acquireBelow || (kind == .maxRange && topic == .velocimeter)
    }
}

/// A fault spec that could not be parsed; the message names the spec, the
/// part that was wrong and what is accepted there.
public enum FaultSpecError: Error, CustomStringConvertible, Equatable {
    case syntax(spec: String, problem: String)
    case unknownTopic(spec: String, topic: String)
    case unknownKind(spec: String, kind: String)
    case notOnTopic(spec: String, kind: String, topic: String, accepted: [String])
    case badValue(spec: String, part: String, expected: String)
    case unknownOption(spec: String, option: String, accepted: [String])
    case badWindow(spec: String, window: String, problem: String)

    public var description: String {
        switch self {
        case .syntax(let spec, let problem):
            "fault \"\(spec)\": \(problem); the form is TOPIC.KIND[=VALUE][,OPTION=VALUE]...[@WINDOW], e.g. altimeter.bias=+300m@120s..180s"
        case .unknownTopic(let spec, let topic):
            "fault \"\(spec)\": unknown topic \"\(topic)\"; accepted: \(FaultSpec.Topic.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unknownKind(let spec, let kind):
            "fault \"\(spec)\": unknown fault \"\(kind)\"; accepted: \(FaultSpec.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
        case .notOnTopic(let spec, let kind, let topic, let accepted):
            "fault \"\(spec)\": \(kind) does not apply to \(topic); faults on \(topic): \(accepted.joined(separator: ", "))"
        case .badValue(let spec, let part, let expected):
            "fault \"\(spec)\": \"\(part)\" is not valid here; expected \(expected)"
        case .unknownOption(let spec, let option, let accepted):
            "fault \"\(spec)\": unknown option \"\(option)\"; accepted here: \(accepted.isEmpty ? "none" : accepted.joined(separator: ", "))"
        case .badWindow(let spec, let window, let problem):
            "fault \"\(spec)\": window \"@\(window)\" \(problem); windows are times (120s..180s, 2min.., ..300s) or true altitudes above ground (..3000m, 500m..2km)"
        }
    }
}
