#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTouchdownIO

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
    public var pitchRate_radps = 0.0
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
    // cos and sin of the pitch they were computed for (pitch changes only
    // while the attitude is moving).
    var trigPitch_rad = Double.nan
    var cosPitch = 1.0, sinPitch = 0.0
    /// Start of the track, for downrange (the start point is (0, r0)).
    public init(scenario: Scenario, siteElevation_m: Double) {
        vehicle = scenario.vehicle
        gm_m3ps2 = scenario.moon.gm_m3ps2
        radius_m = scenario.moon.radius_m
        step_s = Double(scenario.step_ns) * 1e-9
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
    @inline(__always)
    public mutating func step(mainCommand: Double, thrusterCommand: Double, pitchCommand_rad: Double, attitudeDeltaLimit: Double, attitudeGain: Double) {
        // Engines and attitude respond first; the step then flies with the result.
        mainThrottle_fraction += (mainCommand - mainThrottle_fraction) * engineBlend
        thrusterThrottle_fraction += (thrusterCommand - thrusterThrottle_fraction) * engineBlend
        var dp = (pitchCommand_rad - pitch_rad) * attitudeGain
        if dp > attitudeDeltaLimit { dp = attitudeDeltaLimit } else if dp < -attitudeDeltaLimit { dp = -attitudeDeltaLimit }
        pitch_rad += dp
        pitchRate_radps = dp / step_s

        let thrust = thrust_n
        var ax_thrust = 0.0, ay_thrust = 0.0
        if thrust > 0 {
            let r = radiusFromCentre_m
            let ux = x_m / r, uy = y_m / r         // local up
            let hx = -uy, hy = ux                  // local horizontal, direction of travel
            if pitch_rad != trigPitch_rad {
                trigPitch_rad = pitch_rad
                td_sincos(pitch_rad, &sinPitch, &cosPitch)
            }
            let c = cosPitch, s = sinPitch
            let a = thrust / mass_kg
            ax_thrust = a * (ux * c - hx * s)
            ay_thrust = a * (uy * c - hy * s)
        }
        // Classic RK4 on position and velocity, thrust held over the step.
        let dt = step_s
        let gm = gm_m3ps2
        @inline(__always) func accel(_ x: Double, _ y: Double) -> (Double, Double) {
            let r2 = x * x + y * y
            let k = -gm / (r2 * r2.squareRoot())
            return (k * x + ax_thrust, k * y + ay_thrust)
        }
        let (a1x, a1y) = accel(x_m, y_m)
        let (a2x, a2y) = accel(x_m + 0.5 * dt * vx_mps, y_m + 0.5 * dt * vy_mps)
        let v2x = vx_mps + 0.5 * dt * a1x, v2y = vy_mps + 0.5 * dt * a1y
        let (a3x, a3y) = accel(x_m + 0.5 * dt * v2x, y_m + 0.5 * dt * v2y)
        let v3x = vx_mps + 0.5 * dt * a2x, v3y = vy_mps + 0.5 * dt * a2y
        let (a4x, a4y) = accel(x_m + dt * v3x, y_m + dt * v3y)
        let v4x = vx_mps + dt * a3x, v4y = vy_mps + dt * a3y
        x_m += dt / 6 * (vx_mps + 2 * v2x + 2 * v3x + v4x)
        y_m += dt / 6 * (vy_mps + 2 * v2y + 2 * v3y + v4y)
        vx_mps += dt / 6 * (a1x + 2 * a2x + 2 * a3x + a4x)
        vy_mps += dt / 6 * (a1y + 2 * a2y + 2 * a3y + a4y)

        if thrust > 0 {
            let burned = thrust / (vehicle.isp_s * standardGravity_mps2) * dt
            if burned >= propellant_kg {
                mass_kg = vehicle.dryMass_kg
                propellantExhausted = true
            } else {
                mass_kg -= burned
            }
        }
    }
}
