import TouchdownTrace

/// Commands no thrust, holds the initial pitch and reports the initial
/// navigation state at every step. It flies nothing; it exists so an
/// open-loop replay can measure the replay machinery alone (decoding,
/// faults, comparison, metrics, output) with the guidance's own cost near
/// zero, as the replay benchmark does.
public struct IdleGuidance: Guidance {
    let initial: NavSample

    public init(knowledge: MissionKnowledge) {
        initial = knowledge.initialNavigation
    }

    public mutating func receive(_ reading: SensorReading) {}

    public mutating func step(time_ns: UInt64) -> GuidanceOutput {
        var navigation = initial
        navigation.stamp_ns = time_ns
        return GuidanceOutput(
            command: CommandSample(stamp_ns: time_ns, mainThrottle_fraction: 0, thrusterThrottle_fraction: 0,
                                   pitchCommand_rad: initial.pitch_rad),
            navigation: navigation)
    }
}

/// `--guidance idle`.
public struct IdleGuidanceFactory: GuidanceFactory {
    public init() {}
    public var name: String { "idle" }
    public var summary: String {
        "commands no thrust and reports the initial navigation state; measures the replay machinery alone"
    }
    public var parameters: [GuidanceParameter] { [] }

    public func make(knowledge: MissionKnowledge, settings: [(name: String, value: String)]) throws -> any Guidance {
        if let (name, _) = settings.first {
            throw GuidanceError("idle guidance has no parameters; got \"\(name)\"")
        }
        return IdleGuidance(knowledge: knowledge)
    }
}
