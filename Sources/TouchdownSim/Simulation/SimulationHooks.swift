import TouchdownTrace

/// What stands between the simulated vehicle and the guidance under test:
/// the path sensor messages take to guidance, and the path commands take to
/// the engines. The replayer's faults live here; a plain simulation uses
/// `DirectHooks`, which passes everything through at once.
///
/// Call order in each simulation step at time `t`: `sensor` for every message
/// sampled at `t` (IMU, altimeter, velocimeter, attitude), then
/// `deliverDue(upTo: t)` when `nextDue_ns` is at or before `t`; if guidance
/// is due, `commanded` and `observe`; then `drainEvents` when any of those
/// ran, then `actuator` and `thrustFactors` when `actsOnActuators`.
///
/// The simulator skips a call that cannot do anything (most of its million
/// steps have no sensor due and no message held), so a conforming type must
/// make `nextDue_ns` and `actsOnActuators` true to what it holds and does.
public protocol SimulationHooks {
    /// True when `sensor` needs the true altitude above ground for every
    /// message (altitude windows, acquisition rules); otherwise it is 0 for
    /// IMU and attitude messages, and true only for the altimeter's and
    /// velocimeter's.
    var needsAltitude: Bool { get }

    /// False when `actuator` always returns `latest` and `thrustFactors` is
    /// always full thrust; the simulator then calls neither. Read once, before
    /// the first step.
    var actsOnActuators: Bool { get }

    /// The earliest instant a held message is due, or nil when none is held.
    /// Read after each `sensor` and `deliverDue` call.
    var nextDue_ns: UInt64? { get }

    /// A message the sensors produced at `t`. Call `deliver` for whatever
    /// reaches guidance now, in order; keep the rest for `deliverDue`.
    mutating func sensor(_ reading: SensorReading, at t: UInt64, altitudeAGL_m: Double,
                         deliver: (SensorReading) throws -> Void) throws

    /// Delivers held messages that are due at or before `t`, in order.
    mutating func deliverDue(upTo t: UInt64, deliver: (SensorReading) throws -> Void) throws

    /// Guidance produced `command` at `t`.
    mutating func commanded(_ command: CommandSample, at t: UInt64)

    /// The command the engines and attitude control act on during the step
    /// from `t`; `latest` is the last command guidance produced.
    mutating func actuator(at t: UInt64, latest: CommandSample) -> CommandSample

    /// What each engine group delivers of its rated thrust at `t`.
    func thrustFactors(at t: UInt64) -> (main: Double, thrusters: Double)

    /// Events to record (a fault starting to act, and stopping).
    mutating func drainEvents(at t: UInt64, _ record: (EventSample) throws -> Void) throws

    /// After each guidance step: what guidance produced and the truth then.
    mutating func observe(_ output: GuidanceOutput, truth: TruthSample)

    /// At the end of the run (touchdown, timeout or guidance failure).
    mutating func finish(at t: UInt64, _ record: (EventSample) throws -> Void) throws
}

extension SimulationHooks {
    public var needsAltitude: Bool { false }
    /// Unless a type says otherwise, it may act on the engines at any step.
    public var actsOnActuators: Bool { true }
    /// Unless a type says otherwise, it may hold a message due at any step.
    public var nextDue_ns: UInt64? { 0 }
    public mutating func deliverDue(upTo t: UInt64, deliver: (SensorReading) throws -> Void) throws {}
    public mutating func commanded(_ command: CommandSample, at t: UInt64) {}
    public mutating func actuator(at t: UInt64, latest: CommandSample) -> CommandSample { latest }
    public func thrustFactors(at t: UInt64) -> (main: Double, thrusters: Double) { (1, 1) }
    public mutating func drainEvents(at t: UInt64, _ record: (EventSample) throws -> Void) throws {}
    public mutating func observe(_ output: GuidanceOutput, truth: TruthSample) {}
    public mutating func finish(at t: UInt64, _ record: (EventSample) throws -> Void) throws {}
}

/// Sensors straight to guidance, commands straight to the engines.
public struct DirectHooks: SimulationHooks {
    public init() {}

    public var actsOnActuators: Bool { false }
    public var nextDue_ns: UInt64? { nil }

    @inline(__always)
    public mutating func sensor(_ reading: SensorReading, at t: UInt64, altitudeAGL_m: Double,
                                deliver: (SensorReading) throws -> Void) throws {
        try deliver(reading)
    }
}
