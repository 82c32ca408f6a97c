import TouchdownSim
import TouchdownTrace

/// A team's own guidance: the reference guidance with the hardened profile
/// and the recovering gate, that also refuses to descend faster than
/// `max_descent_mps` below `guard_altitude_m` of navigated altitude (it adds
/// throttle until the estimate slows), and says so with an event.
struct Cautious: RegistrableGuidance {
    static let name = "cautious"
    static let summary = "the reference guidance, hardened, with a descent-speed guard near the ground"
    static let parameters = [
        GuidanceParameter(name: "max_descent_mps", defaultValue: "3", help: "the fastest descent allowed below guard_altitude_m"),
        GuidanceParameter(name: "guard_altitude_m", defaultValue: "200", help: "navigated altitude below which the guard acts"),
    ]

    private var inner: any Guidance
    private let maxDescent_mps: Double
    private let guardAltitude_m: Double
    private var guarding = false

    init(knowledge: MissionKnowledge, settings: [(name: String, value: String)]) throws {
        var maxDescent = 3.0, guardAltitude = 200.0
        var passOn: [(name: String, value: String)] = [("profile", "hardened"), ("gate", "recovering")]
        for s in settings {
            switch s.name {
            case "max_descent_mps", "guard_altitude_m":
                guard let v = Double(s.value), v.isFinite, v > 0 else {
                    throw GuidanceError("\(s.name)=\(s.value): expected a number above 0")
                }
                if s.name == "max_descent_mps" { maxDescent = v } else { guardAltitude = v }
            default:
                passOn.append(s)  // the reference guidance's own parameters
            }
        }
        inner = try ReferenceGuidanceFactory().make(knowledge: knowledge, settings: passOn)
        maxDescent_mps = maxDescent
        guardAltitude_m = guardAltitude
    }

    mutating func receive(_ reading: SensorReading) { inner.receive(reading) }

    mutating func step(time_ns: UInt64) -> GuidanceOutput {
        var out = inner.step(time_ns: time_ns)
        let nav = out.navigation
        let tooFast = nav.altitude_m < guardAltitude_m && -nav.verticalSpeed_mps > maxDescent_mps
        if tooFast {
            out.command.mainThrottle_fraction = min(1, out.command.mainThrottle_fraction + 0.1)
        }
        if tooFast != guarding {
            guarding = tooFast
            out.events.append(GuidanceEvent(kind: "descent-guard", detail: tooFast ? "guard on at \(Int(nav.altitude_m)) m" : "guard off"))
        }
        return out
    }
}
