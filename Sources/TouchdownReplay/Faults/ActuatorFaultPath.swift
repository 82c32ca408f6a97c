import TouchdownSim
import TouchdownTrace

/// Applies actuator faults between guidance's commands and the engines
/// (closed loop only: in open loop nothing flies the commands).
struct ActuatorFaultPath {
    struct Active {
        let spec: FaultSpec
        var acting = false
    }

    private(set) var faults: [Active]
    private var pending: [(due_ns: UInt64, command: CommandSample)] = []
    private var pendingHead = 0
    /// What the engines act on under command latency: the last command that
    /// has reached them, and until one has, the simulator's initial command
    /// (engines off, the initial pitch held), not guidance's first.
    private var applied: CommandSample
    private var frozenThrottle: (main: Double, thrusters: Double)?
    private(set) var events: [EventSample] = []
    /// The altitude above ground when the sensors last sampled it (for
    /// altitude windows).
    var altitudeAGL_m = Double.infinity
    let hasLatency: Bool

    init(faults specs: [FaultSpec], initialCommand: CommandSample) {
        faults = FaultSpec.applicationOrder(specs.filter(\.kind.isActuator)).map { Active(spec: $0) }
        applied = initialCommand
        hasLatency = faults.contains { $0.spec.kind == .commandLatency }
    }

    private func latency_ns(at t: UInt64) -> UInt64 {
        var total = 0.0
        for f in faults where f.spec.kind == .commandLatency && f.spec.window.contains(time_ns: t, altitudeAGL_m: altitudeAGL_m) {
            total += f.spec.amount
        }
        return UInt64(min((total * 1e9).rounded(), 1.8e19))  // saturates below UInt64.max
    }

    mutating func commanded(_ command: CommandSample, at t: UInt64) {
        guard hasLatency else { return }
        pending.append((t.addingSaturated(latency_ns(at: t)), command))
    }

    private mutating func updateActing(at t: UInt64) {
        for i in faults.indices {
            let acting = faults[i].spec.window.contains(time_ns: t, altitudeAGL_m: altitudeAGL_m)
            guard acting != faults[i].acting else { continue }
            faults[i].acting = acting
            let text = faults[i].spec.text, time = formatSecondsRounded(t)
            events.append(EventSample(stamp_ns: t, kind: "fault", detail: acting ? "\(text) acting from t=\(time) s" : "\(text) stopped at t=\(time) s"))
        }
    }

    mutating func actuator(at t: UInt64, latest: CommandSample) -> CommandSample {
        guard !faults.isEmpty else { return latest }
        updateActing(at: t)
        var c = latest
        if hasLatency {
            while pendingHead < pending.count, pending[pendingHead].due_ns <= t {
                applied = pending[pendingHead].command
                pendingHead += 1
            }
            if pendingHead > 1024 {
                pending.removeFirst(pendingHead)
                pendingHead = 0
            }
            c = applied
        }
        if faults.contains(where: { $0.acting && $0.spec.kind == .stuckThrottle }) {
            if frozenThrottle == nil { frozenThrottle = (c.mainThrottle_fraction, c.thrusterThrottle_fraction) }
            c.mainThrottle_fraction = frozenThrottle!.main
            c.thrusterThrottle_fraction = frozenThrottle!.thrusters
        } else {
            frozenThrottle = nil
        }
        return c
    }

    func thrustFactors(at t: UInt64) -> (main: Double, thrusters: Double) {
        var main = 1.0, thrusters = 1.0
        for f in faults where f.acting {
            switch f.spec.kind {
            case .thrustShortfall:
                if f.spec.group != .thrusters { main *= 1 - f.spec.amount }
                if f.spec.group != .main { thrusters *= 1 - f.spec.amount }
            case .engineOut:
                if f.spec.group != .thrusters { main = 0 }
                if f.spec.group != .main { thrusters = 0 }
            default:
                break
            }
        }
        return (main, thrusters)
    }

    mutating func finish(at t: UInt64) {
        for i in faults.indices where faults[i].acting {
            faults[i].acting = false
            events.append(EventSample(stamp_ns: t, kind: "fault", detail: "\(faults[i].spec.text) still acting at the end, t=\(formatSecondsRounded(t)) s"))
        }
    }

    mutating func takeEvents() -> [EventSample] {
        defer { events.removeAll() }
        return events
    }
}
