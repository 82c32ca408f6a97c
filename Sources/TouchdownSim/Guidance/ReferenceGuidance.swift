#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TouchdownTrace

/// The reference guidance shipped with Touchdown: a navigation filter and a
/// three-phase descent guidance, with named parameters (`--set NAME=VALUE`).
///
/// Navigation: inertial propagation of altitude, vertical and horizontal
/// speed and downrange from the IMU's specific force and the attitude
/// sensor's pitch, with Kalman updates from the altimeter (range × cos pitch,
/// flat-ground assumption: it has no terrain map, so its altitude is above
/// the ground it last measured) and the velocimeter (speeds only). Altimeter innovations
/// beyond `gate_sigma` standard deviations (and `gate_floor_m`) are rejected;
/// what happens next is the `gate` parameter:
/// - `latching`: after a rejection, every later range is rejected too (the
///   2023 flaw: a real change of terrain looks like a failed sensor forever);
/// - `recovering`: `recover_count` consecutive rejected ranges that agree with
///   each other within `recover_spread_m` are taken as a change of terrain;
///   the altitude is reset to them and the filter re-converges.
///
/// Guidance: E-guidance braking (a linear-in-time acceleration re-planned
/// every step to reach the approach gate's position and velocity, time-to-go
/// from the distance left to the gate); approach to a stop over the site along a descent-speed
/// profile; then a constant-rate terminal descent, nulling horizontal speed,
/// and engine cut-off only when a recent accepted range confirms the ground is
/// within `cutoff_altitude_m`.
///
/// Profiles set several parameters at once:
/// - `baseline` expects altimeter ranges from about 3 km up and trusts the
///   initial state's stated uncertainty;
/// - `hardened` initialises altitude from the first consistent ranges
///   whatever their disagreement (`acquire_reset`), and holds descent speed
///   to `blind_descent_speed_mps` below `blind_altitude_m` while it has no
///   recent range.
public struct ReferenceGuidance: Guidance {
    public struct Parameters: Sendable {
        public var profile = Profile.baseline
        public var gate = Gate.latching
        public var gateSigma = 4.0
        public var gateFloor_m = 150.0
        public var recoverCount = 10
        public var recoverSpread_m = 30.0
        public var acquireReset = false
        public var acquireCount = 5
        public var blindDescentSpeed_mps = 0.0
        public var blindAltitude_m = 3500.0
        public var blindDeceleration_mps2 = 1.0
        public var rangeTimeout_s = 2.0
        public var approachAltitude_m = 3000.0
        public var approachDownrange_m = 2000.0
        public var approachHorizontalSpeed_mps = 40.0
        public var approachVerticalSpeed_mps = 80.0
        public var brakingMinTimeToGo_s = 10.0
        public var descentSpeedAt1km_mps = 30.0
        public var terminalAltitude_m = 100.0
        public var terminalDescentSpeed_mps = 4.0
        public var finalDescentSpeed_mps = 1.0
        public var cutoffAltitude_m = 0.5
        public var maxTilt_deg = 15.0
        public var altimeterNoise_m = 3.0
        public var velocimeterNoise_mps = 0.3
        public var accelNoise_mps2 = 0.003

        public init() {}

        /// Applies a profile's settings (before any individual `--set`).
        mutating func apply(profile name: String) throws {
            guard let p = Profile(rawValue: name) else {
                throw GuidanceError("profile must be baseline or hardened, not \"\(name)\"")
            }
            acquireReset = p == .hardened
            blindDescentSpeed_mps = p == .hardened ? 15 : 0
            profile = p
        }
    }

    /// Every parameter: name, default, help, and how to set it.
    typealias Setter = @Sendable (inout Parameters, String) throws -> Void
    static let table: [(GuidanceParameter, Setter)] = {
        func entry(_ p: GuidanceParameter, _ set: @escaping Setter) -> (GuidanceParameter, Setter) { (p, set) }
        /// A number within `range`; the help says the range.
        func number(_ name: String, _ range: ClosedRange<Double>, _ help: String, _ get: @escaping @Sendable (Parameters) -> Double,
                    _ set: @escaping @Sendable (inout Parameters, Double) -> Void) -> (GuidanceParameter, @Sendable (inout Parameters, String) throws -> Void) {
            let accepted = "a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound))"
            return (GuidanceParameter(name: name, defaultValue: formatNumber(get(Parameters())), help: "\(help) [\(accepted)]"), { p, text in
                guard let v = Double(text), v.isFinite, range.contains(v) else { throw GuidanceError("\(name) must be \(accepted), not \"\(text)\"") }
                set(&p, v)
            })
        }
        /// A whole number within `range`.
        func integer(_ name: String, _ range: ClosedRange<Int>, _ help: String, _ get: @escaping @Sendable (Parameters) -> Int,
                     _ set: @escaping @Sendable (inout Parameters, Int) -> Void) -> (GuidanceParameter, @Sendable (inout Parameters, String) throws -> Void) {
            let accepted = "a whole number from \(range.lowerBound) to \(range.upperBound)"
            return (GuidanceParameter(name: name, defaultValue: String(get(Parameters())), help: "\(help) [\(accepted)]"), { p, text in
                guard let v = Int(text), range.contains(v) else { throw GuidanceError("\(name) must be \(accepted), not \"\(text)\"") }
                set(&p, v)
            })
        }
        func flag(_ name: String, _ help: String, _ get: @escaping @Sendable (Parameters) -> Bool,
                  _ set: @escaping @Sendable (inout Parameters, Bool) -> Void) -> (GuidanceParameter, @Sendable (inout Parameters, String) throws -> Void) {
            (GuidanceParameter(name: name, defaultValue: get(Parameters()) ? "true" : "false", help: help), { p, text in
                guard let v = Bool(text) else { throw GuidanceError("\(name) must be true or false, not \"\(text)\"") }
                set(&p, v)
            })
        }
        return [
            entry(GuidanceParameter(name: "profile", defaultValue: "baseline",
                               help: "baseline | hardened: sets acquire_reset and blind_descent_speed_mps"), { p, v in try p.apply(profile: v) }),
            entry(GuidanceParameter(name: "gate", defaultValue: "latching",
                               help: "latching | recovering: what follows a rejected altimeter range"), { p, v in
                guard let gate = Gate(rawValue: v) else { throw GuidanceError("gate must be latching or recovering, not \"\(v)\"") }
                p.gate = gate
            }),
            number("gate_sigma", 0.1...1_000, "altimeter innovation gate, in standard deviations", { $0.gateSigma }, { $0.gateSigma = $1 }),
            number("gate_floor_m", 0...1_000_000, "smallest gate half-width", { $0.gateFloor_m }, { $0.gateFloor_m = $1 }),
            integer("recover_count", 1...100_000, "recovering gate: consecutive agreeing rejections that mean new terrain", { $0.recoverCount }, { $0.recoverCount = $1 }),
            number("recover_spread_m", 0...1_000_000, "recovering gate: how closely those rejections must agree", { $0.recoverSpread_m }, { $0.recoverSpread_m = $1 }),
            flag("acquire_reset", "initialise altitude from the first consistent ranges, whatever their disagreement", { $0.acquireReset }, { $0.acquireReset = $1 }),
            integer("acquire_count", 1...100_000, "consistent ranges needed for acquire_reset", { $0.acquireCount }, { $0.acquireCount = $1 }),
            number("blind_descent_speed_mps", 0...10_000, "descent-speed limit with no recent range below blind_altitude_m (0: none)", { $0.blindDescentSpeed_mps }, { $0.blindDescentSpeed_mps = $1 }),
            number("blind_altitude_m", 0...1_000_000, "altitude below which the blind limit applies", { $0.blindAltitude_m }, { $0.blindAltitude_m = $1 }),
            number("blind_deceleration_mps2", 0.001...100, "deceleration the blind limit plans for above blind_altitude_m", { $0.blindDeceleration_mps2 }, { $0.blindDeceleration_mps2 = $1 }),
            number("range_timeout_s", 0...1_000_000, "a range older than this is not recent", { $0.rangeTimeout_s }, { $0.rangeTimeout_s = $1 }),
            number("approach_altitude_m", 0...1_000_000, "approach gate altitude", { $0.approachAltitude_m }, { $0.approachAltitude_m = $1 }),
            number("approach_downrange_m", 0...10_000_000, "approach gate distance before the site", { $0.approachDownrange_m }, { $0.approachDownrange_m = $1 }),
            number("approach_horizontal_speed_mps", 0...10_000, "approach gate horizontal speed", { $0.approachHorizontalSpeed_mps }, { $0.approachHorizontalSpeed_mps = $1 }),
            number("approach_vertical_speed_mps", 0...10_000, "approach gate descent speed", { $0.approachVerticalSpeed_mps }, { $0.approachVerticalSpeed_mps = $1 }),
            number("braking_min_time_to_go_s", 0...100_000, "braking hands over to approach when its time-to-go falls below this", { $0.brakingMinTimeToGo_s }, { $0.brakingMinTimeToGo_s = $1 }),
            number("descent_speed_at_1km_mps", 0...10_000, "approach descent speed at 1 km", { $0.descentSpeedAt1km_mps }, { $0.descentSpeedAt1km_mps = $1 }),
            number("terminal_altitude_m", 0...1_000_000, "terminal gate altitude, above the site", { $0.terminalAltitude_m }, { $0.terminalAltitude_m = $1 }),
            number("terminal_descent_speed_mps", 0...10_000, "descent speed at the terminal gate", { $0.terminalDescentSpeed_mps }, { $0.terminalDescentSpeed_mps = $1 }),
            number("final_descent_speed_mps", 0...10_000, "constant descent speed near the ground", { $0.finalDescentSpeed_mps }, { $0.finalDescentSpeed_mps = $1 }),
            number("cutoff_altitude_m", 0...10_000, "engine cut-off altitude, confirmed by a recent range", { $0.cutoffAltitude_m }, { $0.cutoffAltitude_m = $1 }),
            number("max_tilt_deg", 0...90, "largest tilt in the terminal phase", { $0.maxTilt_deg }, { $0.maxTilt_deg = $1 }),
            number("altimeter_noise_m", 0.001...100_000, "altimeter noise the filter assumes (1 σ)", { $0.altimeterNoise_m }, { $0.altimeterNoise_m = $1 }),
            number("velocimeter_noise_mps", 0.001...10_000, "velocimeter noise the filter assumes (1 σ)", { $0.velocimeterNoise_mps }, { $0.velocimeterNoise_mps = $1 }),
            number("accel_noise_mps2", 0...100, "process noise of the filter's propagation (1 σ)", { $0.accelNoise_mps2 }, { $0.accelNoise_mps2 = $1 }),
        ]
    }()

    public enum Phase: String, Sendable { case braking, approach, terminal, cutoff }
    public enum Gate: String, Sendable { case latching, recovering }
    public enum Profile: String, Sendable { case baseline, hardened }

    public let parameters: Parameters
    let knowledge: MissionKnowledge
    public private(set) var phase = Phase.braking

    // Navigation state (altitude is above the ground as last measured).
    var downrange_m: Double
    var altitude_m: Double
    var verticalSpeed_mps: Double
    var horizontalSpeed_mps: Double
    var pitch_rad: Double
    var mass_kg: Double
    // Covariance of (altitude, vertical speed), and horizontal speed variance.
    var p00: Double, p01: Double, p11: Double
    var pH: Double
    var lastImu_ns: UInt64?
    var lastStep_ns: UInt64?
    var lastAccel_mps2 = 0.0

    // Altimeter gate state.
    var everAccepted = false
    var latchedOut = false
    var lastAccepted_ns: UInt64?
    var pendingRejections: [Double] = []
    var rejectedCount = 0
    var events: [GuidanceEvent] = []

    public init(knowledge: MissionKnowledge, parameters: Parameters) {
        self.knowledge = knowledge
        self.parameters = parameters
        let n = knowledge.initialNavigation
        downrange_m = n.downrange_m
        altitude_m = n.altitude_m
        verticalSpeed_mps = n.verticalSpeed_mps
        horizontalSpeed_mps = n.horizontalSpeed_mps
        pitch_rad = n.pitch_rad
        mass_kg = knowledge.vehicle.initialMass_kg
        p00 = knowledge.altitudeSigma_m * knowledge.altitudeSigma_m
        p01 = 0
        p11 = knowledge.speedSigma_mps * knowledge.speedSigma_mps
        pH = p11
    }

    var radius_m: Double { knowledge.moonRadius_m + knowledge.siteElevation_m + altitude_m }
    var gravity_mps2: Double { knowledge.moonGM_m3ps2 / (radius_m * radius_m) }

    public mutating func receive(_ reading: SensorReading) {
        switch reading {
        case .imu(let m): propagate(m)
        case .attitude(let m): if m.valid && m.pitch_rad.isFinite { pitch_rad = m.pitch_rad }
        case .velocimeter(let m): updateVelocity(m)
        case .altimeter(let m): updateAltitude(m)
        }
    }

    mutating func propagate(_ m: ImuSample) {
        defer { lastImu_ns = m.stamp_ns }
        guard let last = lastImu_ns, m.stamp_ns > last, m.accelX_mps2.isFinite, m.rateY_radps.isFinite else { return }
        let dt = Double(m.stamp_ns - last) * 1e-9
        let r = radius_m
        let f = m.accelX_mps2
        lastAccel_mps2 = f
        let aUp = f * cos(pitch_rad) - gravity_mps2 + horizontalSpeed_mps * horizontalSpeed_mps / r
        let aH = -f * sin(pitch_rad) - verticalSpeed_mps * horizontalSpeed_mps / r
        // Downrange is arc length on the reference sphere, not at altitude.
        downrange_m += (horizontalSpeed_mps * dt + 0.5 * aH * dt * dt) * knowledge.moonRadius_m / r
        altitude_m += verticalSpeed_mps * dt + 0.5 * aUp * dt * dt
        verticalSpeed_mps += aUp * dt
        horizontalSpeed_mps += aH * dt
        // The attitude sensor's pitch, carried forward by the gyro.
        pitch_rad += (horizontalSpeed_mps / r - m.rateY_radps) * dt
        // P = F P Fᵀ + Q, F = [[1, dt], [0, 1]], white acceleration noise.
        let q = parameters.accelNoise_mps2 * parameters.accelNoise_mps2
        let n00 = p00 + 2 * dt * p01 + dt * dt * p11 + q * dt * dt * dt / 3
        let n01 = p01 + dt * p11 + q * dt * dt / 2
        let n11 = p11 + q * dt
        p00 = n00; p01 = n01; p11 = n11
        pH += q * dt
    }

    mutating func updateVelocity(_ m: VelocimeterSample) {
        guard m.valid, m.verticalVelocity_mps.isFinite, m.horizontalVelocity_mps.isFinite else { return }
        let r = parameters.velocimeterNoise_mps * parameters.velocimeterNoise_mps
        // Vertical speed only (gain [0, k]): the filter does not infer
        // altitude from the history of its speed error, so an altitude error
        // stays until a range corrects it. Joseph form for the sub-optimal gain.
        let k = p11 / (p11 + r)
        verticalSpeed_mps += k * (m.verticalVelocity_mps - verticalSpeed_mps)
        p01 *= 1 - k
        p11 = (1 - k) * (1 - k) * p11 + k * k * r
        let kH = pH / (pH + r)
        horizontalSpeed_mps += kH * (m.horizontalVelocity_mps - horizontalSpeed_mps)
        pH *= 1 - kH
    }

    mutating func updateAltitude(_ m: AltimeterSample) {
        guard m.valid, m.range_m.isFinite, m.range_m >= 0 else { return }
        let z = m.range_m * cos(pitch_rad)
        let nu = z - altitude_m
        let rNoise = parameters.altimeterNoise_m * parameters.altimeterNoise_m
        let s = p00 + rNoise
        let gate = max(parameters.gateFloor_m, parameters.gateSigma * s.squareRoot())
        let t = Double(m.stamp_ns) * 1e-9

        if !everAccepted && parameters.acquireReset {
            // Acquisition: the first ranges set the altitude once they agree.
            pendingRejections.append(nu)
            if pendingRejections.count > parameters.acquireCount { pendingRejections.removeFirst() }
            if pendingRejections.count == parameters.acquireCount && spread(pendingRejections) <= parameters.recoverSpread_m {
                reset(to: z, at: m.stamp_ns)
                events.append(GuidanceEvent(kind: "altimeter-acquired",
                    detail: "altitude initialised from ranges at t=\(formatNumber(t)) s, correction \(formatNumber(nu)) m"))
            }
            return
        }
        if latchedOut {
            rejectedCount += 1
            return
        }
        if abs(nu) <= gate {
            accept(z: z, nu: nu, s: s, at: m.stamp_ns)
            if !everAccepted {
                everAccepted = true
                events.append(GuidanceEvent(kind: "altimeter-acquired",
                    detail: "first range accepted at t=\(formatNumber(t)) s, innovation \(formatNumber(nu)) m"))
            } else if !pendingRejections.isEmpty {
                events.append(GuidanceEvent(kind: "altimeter-accepted",
                    detail: "range accepted again at t=\(formatNumber(t)) s after \(pendingRejections.count) rejected, innovation \(formatNumber(nu)) m"))
            }
            pendingRejections.removeAll()
            return
        }
        rejectedCount += 1
        // Every rejection is on the record; the first of a run of them is
        // flagged as an anomaly.
        events.append(GuidanceEvent(kind: "altimeter-rejected",
            detail: "range rejected at t=\(formatNumber(t)) s: innovation \(formatNumber(nu)) m beyond gate \(formatNumber(gate)) m",
            anomaly: pendingRejections.isEmpty))
        if parameters.gate == .latching {
            latchedOut = true
            events.append(GuidanceEvent(kind: "altimeter-latched-out",
                detail: "altimeter ignored from t=\(formatNumber(t)) s on", anomaly: true))
            return
        }
        pendingRejections.append(nu)
        if pendingRejections.count > parameters.recoverCount { pendingRejections.removeFirst() }
        if pendingRejections.count == parameters.recoverCount && spread(pendingRejections) <= parameters.recoverSpread_m {
            reset(to: z, at: m.stamp_ns)
            events.append(GuidanceEvent(kind: "altimeter-recovered",
                detail: "persistent disagreement of \(formatNumber(nu)) m taken as new terrain at t=\(formatNumber(t)) s"))
        }
    }

    mutating func accept(z: Double, nu: Double, s: Double, at stamp_ns: UInt64) {
        let k0 = p00 / s, k1 = p01 / s
        altitude_m += k0 * nu
        verticalSpeed_mps += k1 * nu
        let n00 = p00 - k0 * p00, n01 = p01 - k0 * p01, n11 = p11 - k1 * p01
        p00 = n00; p01 = n01; p11 = n11
        lastAccepted_ns = stamp_ns
    }

    mutating func reset(to z: Double, at stamp_ns: UInt64) {
        altitude_m = z
        p00 = parameters.altimeterNoise_m * parameters.altimeterNoise_m
        p01 = 0
        everAccepted = true
        lastAccepted_ns = stamp_ns
        pendingRejections.removeAll()
    }

    func spread(_ values: [Double]) -> Double {
        (values.max() ?? 0) - (values.min() ?? 0)
    }

    /// Descent speed (positive down) the approach flies at each altitude:
    /// linear between the terminal gate, 1 km and the approach gate.
    func descentProfile(_ h: Double) -> Double {
        let p = parameters
        let points: [(Double, Double)] = [
            (0, p.finalDescentSpeed_mps), (p.terminalAltitude_m, p.terminalDescentSpeed_mps),
            (1000, p.descentSpeedAt1km_mps), (p.approachAltitude_m, p.approachVerticalSpeed_mps),
        ]
        if h <= 0 { return points[0].1 }
        for i in 1..<points.count where h <= points[i].0 {
            let (h0, v0) = points[i - 1], (h1, v1) = points[i]
            return v0 + (v1 - v0) * (h - h0) / (h1 - h0)
        }
        return p.approachVerticalSpeed_mps
    }

    /// The acceleration now of the linear-in-time profile a(τ) = a₀ + a₁τ
    /// that covers `distance_m` and ends at `finalSpeed_mps` after
    /// `timeToGo_s`, from `speed_mps` (E-guidance, one axis):
    /// a₀ = 6·d/T² − 2·(2·v + v_f)/T.
    func eGuidanceAcceleration(distance_m d: Double, speed_mps v: Double, finalSpeed_mps vf: Double,
                               timeToGo_s t: Double) -> Double {
        6 * d / (t * t) - 2 * (2 * v + vf) / t
    }

    func hasRecentRange(at time_ns: UInt64) -> Bool {
        guard let last = lastAccepted_ns else { return false }
        return Double(time_ns &- last) * 1e-9 <= parameters.rangeTimeout_s
    }

    // MARK: Guidance

    public mutating func step(time_ns: UInt64) -> GuidanceOutput {
        let dt = lastStep_ns.map { Double(time_ns - $0) * 1e-9 } ?? 0
        lastStep_ns = time_ns
        let r = radius_m
        // Acceleration not from thrust, in (horizontal, up).
        let gH = -verticalSpeed_mps * horizontalSpeed_mps / r
        let gUp = -gravity_mps2 + horizontalSpeed_mps * horizontalSpeed_mps / r
        let maxThrust = knowledge.vehicle.maxThrust_n
        var aH = 0.0, aUp = 0.0
        let toSite = knowledge.siteDownrange_m - downrange_m

        let available = maxThrust / mass_kg
        if phase == .braking {
            // E-guidance: re-planned every step, a linear-in-time acceleration
            // that reaches the approach gate's position and velocity together
            // after `timeToGo`. Time-to-go comes from the downrange channel:
            // covering the distance to the gate while the horizontal speed
            // falls evenly to the gate's. With that time-to-go the downrange
            // polynomial is a constant deceleration, and the vertical
            // polynomial brings altitude and descent speed to the gate's.
            // Positions are along the curved ground track and the local
            // vertical; gH and gUp carry the curvature terms.
            let distance = max(1, toSite - parameters.approachDownrange_m)
            let vGate = parameters.approachHorizontalSpeed_mps
            let timeToGo = max(1, 2 * distance / max(1, horizontalSpeed_mps + vGate))
            aH = -gH + eGuidanceAcceleration(
                distance_m: distance, speed_mps: horizontalSpeed_mps, finalSpeed_mps: vGate, timeToGo_s: timeToGo)
            aUp = -gUp + eGuidanceAcceleration(
                distance_m: parameters.approachAltitude_m - altitude_m, speed_mps: verticalSpeed_mps,
                finalSpeed_mps: -parameters.approachVerticalSpeed_mps, timeToGo_s: timeToGo)
            if altitude_m <= parameters.approachAltitude_m || horizontalSpeed_mps <= vGate
                || toSite <= parameters.approachDownrange_m || timeToGo < parameters.brakingMinTimeToGo_s {
                events.append(GuidanceEvent(kind: "phase", detail: "braking -> approach at altitude \(formatNumber(altitude_m)) m, \(formatNumber(toSite)) m before the site"))
                phase = .approach
            }
        }
        if phase == .approach {
            // Horizontal: the constant deceleration that stops over the site.
            // Vertical: follow the descent-speed profile.
            let distance = max(1, toSite)
            let need = horizontalSpeed_mps > 0 ? horizontalSpeed_mps * horizontalSpeed_mps / (2 * distance) : 0
            aH = -gH - need - (horizontalSpeed_mps < 0 ? 0.2 * horizontalSpeed_mps : 0)
            let target = -descentProfile(altitude_m)
            aUp = -gUp + 0.5 * (target - verticalSpeed_mps)
            if altitude_m <= parameters.terminalAltitude_m {
                events.append(GuidanceEvent(kind: "phase", detail: "approach -> terminal at altitude \(formatNumber(altitude_m)) m"))
                phase = .terminal
            }
        }
        if phase == .terminal {
            let target = -max(parameters.finalDescentSpeed_mps, min(parameters.terminalDescentSpeed_mps, 0.1 * altitude_m))
            aUp = -gUp + 0.8 * (target - verticalSpeed_mps)
            aH = -gH - 0.4 * horizontalSpeed_mps
            let maxTilt = parameters.maxTilt_deg * .pi / 180
            let limit = abs(aUp) * tan(maxTilt)
            aH = min(max(aH, -limit), limit)
            if altitude_m <= parameters.cutoffAltitude_m && hasRecentRange(at: time_ns) {
                events.append(GuidanceEvent(kind: "phase", detail: "terminal -> cutoff at altitude \(formatNumber(altitude_m)) m"))
                phase = .cutoff
            }
        }
        // Hardened: while no range confirms the altitude, no faster than the
        // blind limit below `blind_altitude_m`, and above it no faster than
        // the speed from which `blind_deceleration_mps2` still reaches the
        // limit by that altitude.
        if parameters.blindDescentSpeed_mps > 0 && phase != .cutoff && !hasRecentRange(at: time_ns) {
            let vBlind = parameters.blindDescentSpeed_mps
            let above = max(0, altitude_m - parameters.blindAltitude_m)
            let limit = (vBlind * vBlind + 2 * parameters.blindDeceleration_mps2 * above).squareRoot()
            if verticalSpeed_mps < -limit {
                aUp = max(aUp, -gUp + 0.5 * (-limit - verticalSpeed_mps))
            }
        }
        // Vertical first: the horizontal command gets what thrust is left.
        aUp = min(max(aUp, 0), available)
        let horizontalRoom = (available * available - aUp * aUp).squareRoot()
        aH = min(max(aH, -horizontalRoom), horizontalRoom)

        var thrust = 0.0
        var pitch = pitch_rad
        if phase != .cutoff {
            aUp = max(aUp, 0)
            thrust = min((aH * aH + aUp * aUp).squareRoot() * mass_kg, maxThrust)
            pitch = atan2(-aH, aUp)
        }
        let vehicle = knowledge.vehicle
        var main = vehicle.mainThrust_n > 0 ? min(1, thrust / vehicle.mainThrust_n) : 0
        if main > 0 && main < vehicle.mainMinThrottle_fraction { main = vehicle.mainMinThrottle_fraction }
        let thrusterTotal = Double(vehicle.thrusterCount) * vehicle.thrusterThrust_n
        let thrusters = thrusterTotal > 0 ? min(1, max(0, (thrust - vehicle.mainThrust_n) / thrusterTotal)) : 0
        let commanded = main * vehicle.mainThrust_n + thrusters * thrusterTotal
        mass_kg -= commanded / (vehicle.isp_s * standardGravity_mps2) * dt
        mass_kg = max(mass_kg, vehicle.dryMass_kg)

        let output = GuidanceOutput(
            command: CommandSample(stamp_ns: time_ns, mainThrottle_fraction: main,
                                   thrusterThrottle_fraction: thrusters, pitchCommand_rad: pitch),
            navigation: NavSample(stamp_ns: time_ns, downrange_m: downrange_m, altitude_m: altitude_m,
                                  verticalSpeed_mps: verticalSpeed_mps, horizontalSpeed_mps: horizontalSpeed_mps,
                                  pitch_rad: pitch_rad),
            events: events)
        events.removeAll()
        return output
    }
}

/// `touchdown guidance list` and `--guidance reference`.
public struct ReferenceGuidanceFactory: GuidanceFactory {
    public init() {}
    public var name: String { "reference" }
    public var summary: String {
        "navigation filter (IMU propagation, altimeter and velocimeter updates, innovation gate) and braking, approach and constant-rate terminal descent guidance"
    }
    public var parameters: [GuidanceParameter] { ReferenceGuidance.table.map(\.0) }

    public func make(knowledge: MissionKnowledge, settings: [(name: String, value: String)]) throws -> any Guidance {
        ReferenceGuidance(knowledge: knowledge, parameters: try Self.parameters(settings))
    }

    public static func parameters(_ settings: [(name: String, value: String)]) throws -> ReferenceGuidance.Parameters {
        var p = ReferenceGuidance.Parameters()
        // A profile sets several parameters; it applies first so individual settings override it.
        for (name, value) in settings where name == "profile" { try p.apply(profile: value) }
        for (name, value) in settings where name != "profile" {
            guard let entry = ReferenceGuidance.table.first(where: { $0.0.name == name }) else {
                throw GuidanceError("reference guidance has no parameter \"\(name)\"; parameters: \(ReferenceGuidance.table.map(\.0.name).joined(separator: ", "))")
            }
            try entry.1(&p, value)
        }
        return p
    }
}
