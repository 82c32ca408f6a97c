import Synchronization
import TouchdownTrace

/// What a guidance is told before the descent: the public knowledge of the
/// mission, not the truth. The initial navigation state can be wrong (orbit
/// determination error), by the scenario's `navigation_error`.
public struct MissionKnowledge: Sendable {
    /// The landing site, along the ground track from the start point.
    public var siteDownrange_m: Double
    /// The site's elevation above the reference radius (from the landing map).
    public var siteElevation_m: Double
    public var moonRadius_m: Double
    public var moonGM_m3ps2: Double
    public var vehicle: Scenario.Vehicle
    /// The state guidance starts from: altitude is above the site's elevation.
    public var initialNavigation: NavSample
    /// The uncertainty guidance is told the initial state has (1 σ).
    public var altitudeSigma_m: Double
    public var speedSigma_mps: Double
    /// How often `step` is called.
    public var guidanceRate_hz: Double

    public init(siteDownrange_m: Double, siteElevation_m: Double, moonRadius_m: Double, moonGM_m3ps2: Double,
                vehicle: Scenario.Vehicle, initialNavigation: NavSample, altitudeSigma_m: Double, speedSigma_mps: Double,
                guidanceRate_hz: Double) {
        self.siteDownrange_m = siteDownrange_m
        self.siteElevation_m = siteElevation_m
        self.moonRadius_m = moonRadius_m
        self.moonGM_m3ps2 = moonGM_m3ps2
        self.vehicle = vehicle
        self.initialNavigation = initialNavigation
        self.altitudeSigma_m = altitudeSigma_m
        self.speedSigma_mps = speedSigma_mps
        self.guidanceRate_hz = guidanceRate_hz
    }
}

/// A sensor message as guidance receives it.
public enum SensorReading: Sendable {
    case imu(ImuSample)
    case altimeter(AltimeterSample)
    case velocimeter(VelocimeterSample)
    case attitude(AttitudeSample)

    public var stamp_ns: UInt64 {
        switch self {
        case .imu(let m): m.stamp_ns
        case .altimeter(let m): m.stamp_ns
        case .velocimeter(let m): m.stamp_ns
        case .attitude(let m): m.stamp_ns
        }
    }
}

/// Something guidance wants on the record: a phase change, a rejected or
/// accepted altimeter range. `anomaly` marks the ones that mean something
/// went wrong; the outcome reports the first.
public struct GuidanceEvent: Sendable, Equatable {
    public var kind: String
    public var detail: String
    public var anomaly: Bool

    public init(kind: String, detail: String, anomaly: Bool = false) {
        self.kind = kind
        self.detail = detail
        self.anomaly = anomaly
    }
}

/// What one guidance step produces.
public struct GuidanceOutput: Sendable {
    /// Throttle per engine group (0…1) and the pitch to hold.
    public var command: CommandSample
    /// What guidance believes: recorded on `/nav`.
    public var navigation: NavSample
    public var events: [GuidanceEvent]

    public init(command: CommandSample, navigation: NavSample, events: [GuidanceEvent] = []) {
        self.command = command
        self.navigation = navigation
        self.events = events
    }

    /// Why the output cannot be used, if it cannot: a non-finite value in
    /// any of its eight fields, the command's (it cannot be flown) or the
    /// navigation's (no metric can be measured from it). The
    /// `guidance-invalid-output` outcome.
    public func invalidOutput(at t: UInt64) -> String? {
        let c = command, n = navigation
        // Checked without building the list first: this runs every step.
        if c.mainThrottle_fraction.isFinite && c.thrusterThrottle_fraction.isFinite && c.pitchCommand_rad.isFinite
            && n.downrange_m.isFinite && n.altitude_m.isFinite && n.verticalSpeed_mps.isFinite
            && n.horizontalSpeed_mps.isFinite && n.pitch_rad.isFinite {
            return nil
        }
        let fields: [(String, Double)] = [
            ("main_throttle_fraction", c.mainThrottle_fraction), ("thruster_throttle_fraction", c.thrusterThrottle_fraction),
            ("pitch_command_rad", c.pitchCommand_rad), ("nav_downrange_m", n.downrange_m), ("nav_altitude_m", n.altitude_m),
            ("nav_vertical_speed_mps", n.verticalSpeed_mps), ("nav_horizontal_speed_mps", n.horizontalSpeed_mps),
            ("nav_pitch_rad", n.pitch_rad),
        ]
        let bad = fields.filter { !$0.1.isFinite }
        guard !bad.isEmpty else { return nil }
        return "guidance returned a non-finite output at t=\(formatSecondsRounded(t)) s: " + bad.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }
}

/// Guidance under test. The simulator (and, later, the replayer) calls
/// `receive` with every sensor message in time order, and `step` at the
/// scenario's guidance rate; messages stamped at a step's instant arrive
/// before that step. Implementations must be deterministic: no clocks, no
/// unseeded randomness. See docs/guidance.md for a complete example.
public protocol Guidance {
    mutating func receive(_ reading: SensorReading)
    mutating func step(time_ns: UInt64) -> GuidanceOutput
    /// Set when the guidance can no longer run: its process crashed or did
    /// not answer in time. Checked after every `step`; the run then ends with
    /// the matching outcome. In-process Swift guidance leaves it `nil`.
    var failure: GuidanceFailure? { get }
}

extension Guidance {
    public var failure: GuidanceFailure? { nil }
}

/// Why a guidance stopped answering, with what its process left behind.
public struct GuidanceFailure: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case crashed = "guidance-crashed"
        case timeout = "guidance-timeout"
        case invalidOutput = "guidance-invalid-output"
    }
    public var kind: Kind
    public var detail: String
    /// The process's exit status, when it exited.
    public var exitStatus: Int32?
    /// The signal that ended the process, when one did.
    public var signal: Int32?
    /// The last lines the process wrote to its standard error (at most
    /// ``stderrLineLimit``), oldest first.
    public var stderrTail: [String]

    public static let stderrLineLimit = 10

    public init(_ kind: Kind, _ detail: String, exitStatus: Int32? = nil, signal: Int32? = nil, stderrTail: [String] = []) {
        self.kind = kind
        self.detail = detail
        self.exitStatus = exitStatus
        self.signal = signal
        self.stderrTail = stderrTail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }

    /// What the outcome and the trace say: "guidance-crashed at t=0.500 s: …".
    public func report(at t: UInt64) -> String { "\(kind.rawValue) at t=\(formatSecondsRounded(t)) s: \(detail)" }
}

/// A named, tunable parameter of a guidance, as `touchdown guidance list` shows it.
public struct GuidanceParameter: Sendable {
    public var name: String
    public var defaultValue: String
    public var help: String

    public init(name: String, defaultValue: String, help: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
    }
}

/// Makes a guidance by name from parameter settings: how the command line
/// and stored traces refer to a guidance.
public protocol GuidanceFactory: Sendable {
    var name: String { get }
    var summary: String { get }
    var parameters: [GuidanceParameter] { get }
    /// `settings` are applied in order over the defaults; an unknown name or a
    /// bad value throws `GuidanceError`.
    func make(knowledge: MissionKnowledge, settings: [(name: String, value: String)]) throws -> any Guidance
}

public struct GuidanceError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The guidances a run can name: those built into Touchdown, and those a
/// program registers at start (a user's own Swift guidance, named on its
/// command line like a built-in one).
public enum GuidanceRegistry {
    public static let builtIn: [any GuidanceFactory] = [ReferenceGuidanceFactory(), IdleGuidanceFactory()]

    private static let registered = Mutex<[any GuidanceFactory]>([])

    /// Adds guidances by name, after the built-in ones.
    /// - Throws: `GuidanceError` for a name already taken.
    public static func register(_ factories: [any GuidanceFactory]) throws {
        try registered.withLock { list in
            for f in factories {
                guard !(builtIn + list).contains(where: { $0.name == f.name }) else {
                    throw GuidanceError("a guidance named \"\(f.name)\" is already registered")
                }
                guard !f.name.isEmpty, !f.name.contains(":"), !f.name.contains(where: \.isWhitespace) else {
                    throw GuidanceError("guidance name \"\(f.name)\": expected a non-empty name without spaces or colons")
                }
                list.append(f)
            }
        }
    }

    /// Built-in first, then registered, each in the order given.
    public static var all: [any GuidanceFactory] { builtIn + registered.withLock { $0 } }

    public static func factory(named name: String) throws -> any GuidanceFactory {
        let all = all
        guard let f = all.first(where: { $0.name == name }) else {
            throw GuidanceError("unknown guidance \"\(name)\"; available: \(all.map(\.name).joined(separator: ", "))")
        }
        return f
    }
}

/// A Swift guidance a program registers by its type, to name it like a
/// built-in one (`TouchdownCommand.main(guidances: [MyGuidance.self])`).
public protocol RegistrableGuidance: Guidance {
    /// The name runs use: `--guidance NAME`.
    static var name: String { get }
    static var summary: String { get }
    static var parameters: [GuidanceParameter] { get }
    /// `settings` in order, over the defaults; throw `GuidanceError` for an
    /// unknown name or a bad value.
    init(knowledge: MissionKnowledge, settings: [(name: String, value: String)]) throws
}

extension RegistrableGuidance {
    public static var summary: String { "\(Self.self)" }
    public static var parameters: [GuidanceParameter] { [] }
    public static var factory: any GuidanceFactory { TypeGuidanceFactory<Self>() }
}

/// The factory of a registrable guidance type.
struct TypeGuidanceFactory<G: RegistrableGuidance>: GuidanceFactory {
    var name: String { G.name }
    var summary: String { G.summary }
    var parameters: [GuidanceParameter] { G.parameters }
    func make(knowledge: MissionKnowledge, settings: [(name: String, value: String)]) throws -> any Guidance {
        try G(knowledge: knowledge, settings: settings)
    }
}
