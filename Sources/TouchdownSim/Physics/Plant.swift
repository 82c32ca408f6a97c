#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTouchdownIO
import TouchdownTrace

/// Standard gravity, for the rocket equation's mass flow (m/s²).
public let standardGravity_mps2 = 9.80665

/// The vehicle in flight: planar motion in the orbit plane around a spherical
/// Moon (inverse-square gravity), in an inertial frame centred on the Moon
/// with the start point on the +y axis and flight towards -x (anticlockwise).
///
/// Pitch is the body (thrust) axis's angle from the local vertical, positive
/// when the thrust points against the direction of travel (braking); it
/// follows the command at a rate-limited first-order response. Each engine
/// group follows its throttle command with a first-order lag. No wall clock:
/// `step` advances by the fixed step it was built with.
public struct Plant: Sendable {
    public var x_m: Double, y_m: Double
    public var vx_mps: Double, vy_mps: Double
    public var mass_kg: Double
    public var pitch_rad: Double
    /// Rate of change of the pitch angle (relative to the local vertical).
    public var pitchRate_radps: Double { pitchStep_rad / step_s }
    /// How far the pitch moved in the last step.
    var pitchStep_rad = 0.0
    public var mainThrottle_fraction = 0.0
    public var thrusterThrottle_fraction = 0.0
    /// What each engine group delivers of its rated thrust (actuator faults:
    /// a shortfall, an engine out). Propellant flow follows the thrust.
    public var mainThrustFactor = 1.0, thrusterThrustFactor = 1.0
    public private(set) var propellantExhausted = false

    public let vehicle: Scenario.Vehicle
    public let gm_m3ps2: Double
    public let radius_m: Double
    let step_s: Double
    let engineBlend: Double
    /// Propellant burned in one step per newton of thrust: dt / (Isp g0).
    let burnPerNewton_kg: Double
    // cos and sin of the pitch they were brought to (`updateTrig`), and how
    // many rotations since they came from `sincos`.
    var trigPitch_rad = Double.nan
    var cosPitch = 1.0, sinPitch = 0.0
    var rotations = 0
    /// 1/r at the start of the last step (0 before the first).
    var inverseRadius_per_m = 0.0
    /// Start of the track, for downrange (the start point is (0, r0)).
    public init(scenario: Scenario, siteElevation_m: Double) {
        vehicle = scenario.vehicle
        gm_m3ps2 = scenario.moon.gm_m3ps2
        radius_m = scenario.moon.radius_m
        step_s = Double(scenario.step_ns) * 1e-9
        burnPerNewton_kg = step_s / (scenario.vehicle.isp_s * standardGravity_mps2)
        engineBlend = scenario.vehicle.engineTimeConstant_s > 0 ? 1 - exp(-step_s / scenario.vehicle.engineTimeConstant_s) : 1
        let r0 = radius_m + siteElevation_m + scenario.initial.altitude_m
        x_m = 0
        y_m = r0
        // Local horizontal at the start is -x; vertical is +y.
        vx_mps = -scenario.initial.horizontalSpeed_mps
        vy_mps = scenario.initial.verticalSpeed_mps
        mass_kg = scenario.vehicle.initialMass_kg
        pitch_rad = scenario.initial.pitch_rad
    }

    public var radiusFromCentre_m: Double { (x_m * x_m + y_m * y_m).squareRoot() }
    /// Arc length along the reference sphere from the start point.
    public var downrange_m: Double { radius_m * atan2(-x_m, y_m) }
    public var verticalSpeed_mps: Double { (vx_mps * x_m + vy_mps * y_m) / radiusFromCentre_m }
    public var horizontalSpeed_mps: Double { (-vx_mps * y_m + vy_mps * x_m) / radiusFromCentre_m }
    public var propellant_kg: Double { mass_kg - vehicle.dryMass_kg }
    public var thrust_n: Double {
        propellantExhausted ? 0 : mainThrottle_fraction * vehicle.mainThrust_n * mainThrustFactor
            + thrusterThrottle_fraction * Double(vehicle.thrusterCount) * vehicle.thrusterThrust_n * thrusterThrustFactor
    }
    /// Angular rate of the body in inertial space (what a gyro measures).
    public var bodyRate_radps: Double { horizontalSpeed_mps / radiusFromCentre_m - pitchRate_radps }

    /// Advances one fixed step with the given commands.
    ///
    /// Classic RK4 on position and velocity, with the thrust held over the
    /// step. Gravity is evaluated once per step, at the start point p, and at
    /// the stages' points p + d to first order: g(p + d) = g(p) + G d, with
    /// G = k (I - 3 u u^T) its gradient (k = -GM/r^3, u = p/r). The term left
    /// out is about g (d/r)^2 (5e-13 m/s^2 at 1.7 km/s and a 1 ms step), far
    /// below what RK4 itself leaves, and it saves three square roots and
    /// divisions a step, which were most of a descent's time
    /// (docs/scenarios.md, "Integration").
    @inline(__always)
    public mutating func step(mainCommand: Double, thrusterCommand: Double, pitchCommand_rad: Double, attitudeDeltaLimit: Double, attitudeGain: Double) {
        // Engines and attitude respond first; the step then flies with the result.
        mainThrottle_fraction += (mainCommand - mainThrottle_fraction) * engineBlend
        thrusterThrottle_fraction += (thrusterCommand - thrusterThrottle_fraction) * engineBlend
        var dp = (pitchCommand_rad - pitch_rad) * attitudeGain
        if dp > attitudeDeltaLimit { dp = attitudeDeltaLimit } else if dp < -attitudeDeltaLimit { dp = -attitudeDeltaLimit }
        pitch_rad += dp
        pitchStep_rad = dp

        let x = x_m, y = y_m, vx = vx_mps, vy = vy_mps
        let r2 = x * x + y * y
        // 1/r by one Newton step from the last step's, which is within a few
        // parts in 1e8 of it (the radius changes by about that much in a
        // step): the result is then good to about 1e-15, with no square root
        // or division on the step's critical path. Anything further off (the
        // first step, a plant moved by hand) takes the exact way.
        var inverseR = inverseRadius_per_m
        let residual = r2 * (inverseR * inverseR)
        if abs(residual - 1) < 1e-6 {
            inverseR = inverseR * (1.5 - 0.5 * residual)
        } else {
            inverseR = 1 / r2.squareRoot()
        }
        inverseRadius_per_m = inverseR
        let ux = x * inverseR, uy = y * inverseR   // local up
        let k = -gm_m3ps2 * (inverseR * inverseR * inverseR)
        var a1x = k * x, a1y = k * y
        let thrust = thrust_n
        if thrust > 0 {
            let hx = -uy, hy = ux                  // local horizontal, direction of travel
            updateTrig()
            let c = cosPitch, s = sinPitch
            let a = thrust / mass_kg
            a1x += a * (ux * c - hx * s)
            a1y += a * (uy * c - hy * s)
        }
        // G d = k (d - 3 u (u . d)).
        @inline(__always) func gradient(_ dx: Double, _ dy: Double) -> (Double, Double) {
            let along = 3 * (ux * dx + uy * dy)
            return (k * (dx - along * ux), k * (dy - along * uy))
        }
        // RK4's four stages in closed form: with the field linear about p,
        // a_i = a1 + G d_i, and the stages sum to
        //   x' = x + dt v + dt²/2 a1 + dt²/6 G (dt v + dt²/4 a1)
        //   v' = v + dt a1 + dt/6 G (3 dt v + dt² a1) + dt⁴/24 G² v,
        // what stepping through them gives, with fewer operations in a row.
        // The last term is left out: about 1e-22 m/s at a 1 ms step, ten
        // orders of magnitude below a velocity's last bit.
        let dt = step_s, dt2 = step_s * step_s
        let (gvx, gvy) = gradient(vx, vy)
        let (gax, gay) = gradient(a1x, a1y)
        x_m = x + (dt * vx + (0.5 * dt2 * a1x + dt2 / 6 * (dt * gvx + 0.25 * dt2 * gax)))
        y_m = y + (dt * vy + (0.5 * dt2 * a1y + dt2 / 6 * (dt * gvy + 0.25 * dt2 * gay)))
        vx_mps = vx + (dt * a1x + dt / 6 * (3 * dt * gvx + dt2 * gax))
        vy_mps = vy + (dt * a1y + dt / 6 * (3 * dt * gvy + dt2 * gay))

        if thrust > 0 {
            let burned = thrust * burnPerNewton_kg
            if burned >= propellant_kg {
                mass_kg = vehicle.dryMass_kg
                propellantExhausted = true
            } else {
                mass_kg -= burned
            }
        }
    }

    /// Where a step started, as much as touchdown interpolation needs.
    public struct Start {
        public var x_m, y_m, vx_mps, vy_mps, mass_kg, pitch_rad: Double
    }

    /// Flies steps of `step_ns` with `command` from `t` until `t` reaches
    /// `until`, and returns where the last step started. It stops early after
    /// a step that ends with the vehicle within `stopWithin` (a squared
    /// distance from the Moon's centre) or in which the propellant ran out:
    /// what a caller checks after every step. Out of line, so the simulator's
    /// busiest loop keeps its values in registers.
    @inline(never)
    public mutating func fly(from t: inout UInt64, until: UInt64, step_ns: UInt64, command: CommandSample,
                             attitudeDeltaLimit: Double, attitudeGain: Double, stopWithin radiusSquared_m2: Double) -> Start {
        // A local copy, which the compiler keeps in registers; self only
        // at the end.
        var p = self
        defer { self = p }
        let wasExhausted = p.propellantExhausted
        while true {
            let start = Start(x_m: p.x_m, y_m: p.y_m, vx_mps: p.vx_mps, vy_mps: p.vy_mps, mass_kg: p.mass_kg, pitch_rad: p.pitch_rad)
            p.step(mainCommand: command.mainThrottle_fraction, thrusterCommand: command.thrusterThrottle_fraction,
                   pitchCommand_rad: command.pitchCommand_rad, attitudeDeltaLimit: attitudeDeltaLimit, attitudeGain: attitudeGain)
            t += step_ns
            if t >= until || p.propellantExhausted != wasExhausted || p.x_m * p.x_m + p.y_m * p.y_m <= radiusSquared_m2 {
                return start
            }
        }
    }

    /// Brings `sinPitch` and `cosPitch` to the current pitch. While the
    /// attitude moves it moves by at most the rate limit a step (1e-4 rad at
    /// 5 deg/s and 1 ms), so the pair is rotated by the change, with sine and
    /// cosine of so small an angle from their series (exact to its
    /// fifth-order term, 1e-22 at 1e-4 rad); every 64th change, and after
    /// any change over 1e-3 rad, the pair comes from `sincos` again, so the
    /// rotations' rounding never builds up past about 64 ulp.
    @inline(__always)
    mutating func updateTrig() {
        if pitch_rad == trigPitch_rad { return }
        let change = pitch_rad - trigPitch_rad
        if rotations < 64 && abs(change) < 1e-3 {
            let c2 = change * change
            let sinChange = change * (1 - c2 * (1.0 / 6))
            let cosChange = 1 - c2 * (0.5 - c2 * (1.0 / 24))
            let s = sinPitch, c = cosPitch
            sinPitch = s * cosChange + c * sinChange
            cosPitch = c * cosChange - s * sinChange
            rotations += 1
        } else {
            (sinPitch, cosPitch) = Plant.sinCos(pitch_rad)
            rotations = 0
        }
        trigPitch_rad = pitch_rad
    }

    /// glibc's `sincos` (the same bits as `sin` and `cos`, in one call), out
    /// of line: the pointers it takes would otherwise pin the step loop's
    /// values to memory. The altimeter's boresight uses it too.
    @inline(never)
    static func sinCos(_ x: Double) -> (sin: Double, cos: Double) {
        var s = 0.0, c = 0.0
        td_sincos(x, &s, &c)
        return (s, c)
    }
}
