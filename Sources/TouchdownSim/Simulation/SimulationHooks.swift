import TouchdownTrace

/// What stands between the simulated vehicle and the guidance under test:
/// the path sensor messages take to guidance, and the path commands take to
/// the engines. The replayer's faults live here; a plain simulation uses
/// `DirectHooks`, which passes everything through at once.
///
/// Call order in each simulation step at time `t`: `sensor` for every message
/// sampled at `t` (IMU, altimeter, velocimeter, attitude), then
/// `deliverDue(upTo: t)`; if guidance is due, `commanded`; then `actuator`,
/// `thrustFactors`, `drainEvents`, and `observe` after a guidance step.
public protocol SimulationHooks {
    /// True when `sensor` needs the true altitude above ground for every
    /// message (altitude windows, acquisition rules); otherwise it is 0 for
    /// IMU and attitude messages, and true only for the altimeter's and
    /// velocimeter's.
    var needsAltitude: Bool { get }

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

    @inline(__always)
    public mutating func sensor(_ reading: SensorReading, at t: UInt64, altitudeAGL_m: Double,
                                deliver: (SensorReading) throws -> Void) throws {
        try deliver(reading)
    }
}
