#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TouchdownTrace

/// The instruments: each turns the true state into a message, with noise
/// from its own seeded stream (so adding a sensor never changes another's
/// noise), quantised to its resolution as an instrument's output is.
struct SensorModels {
    let spec: Scenario.Sensors
    let terrain: Terrain
    let moonRadius_m: Double
    var imuNoise: SeededRandom
    var altimeterNoise: SeededRandom
    var velocimeterNoise: SeededRandom
    var attitudeNoise: SeededRandom

    init(scenario: Scenario, terrain: Terrain, seed: UInt64) {
        spec = scenario.sensors
        self.terrain = terrain
        moonRadius_m = scenario.moon.radius_m
        imuNoise = SeededRandom(seed: seed, stream: "sensor.imu")
        altimeterNoise = SeededRandom(seed: seed, stream: "sensor.altimeter")
        velocimeterNoise = SeededRandom(seed: seed, stream: "sensor.velocimeter")
        attitudeNoise = SeededRandom(seed: seed, stream: "sensor.attitude")
    }

    /// Specific force along the thrust axis (x) and across it (z), and the
    /// pitch rate about y. Gravity is not sensed: free fall reads zero.
    mutating func imu(_ p: Plant, at t_ns: UInt64) -> ImuSample {
        let s = spec.imu
        let fx = p.thrust_n / p.mass_kg
        let a = Resolution.accel_mps2, w = Resolution.rate_radps
        return ImuSample(
            stamp_ns: t_ns,
            accelX_mps2: quantize(fx + s.accelBias_mps2 + s.accelNoise_mps2 * imuNoise.normal(), a),
            accelY_mps2: quantize(s.accelNoise_mps2 * imuNoise.normal(), a),
            accelZ_mps2: quantize(s.accelBias_mps2 + s.accelNoise_mps2 * imuNoise.normal(), a),
            rateX_radps: quantize(s.rateNoise_radps * imuNoise.normal(), w),
            rateY_radps: quantize(p.bodyRate_radps + s.rateBias_radps + s.rateNoise_radps * imuNoise.normal(), w),
            rateZ_radps: quantize(s.rateNoise_radps * imuNoise.normal(), w))
    }

    /// Slant range along the boresight (the body's -x axis) to the terrain.
    mutating func altimeter(_ p: Plant, altitudeAGL_m: Double, at t_ns: UInt64) -> AltimeterSample {
        let s = spec.altimeter
        let noise = s.noise_m * altimeterNoise.normal()  // drawn every sample, valid or not
        if abs(p.pitch_rad) > s.maxIncidence_rad { return AltimeterSample(stamp_ns: t_ns, range_m: 0, valid: false) }
        if let below = s.acquireBelow_m, altitudeAGL_m > below { return AltimeterSample(stamp_ns: t_ns, range_m: 0, valid: false) }
        guard let range = slantRange(p, maxRange_m: s.maxRange_m) else {
            return AltimeterSample(stamp_ns: t_ns, range_m: 0, valid: false)
        }
        return AltimeterSample(stamp_ns: t_ns, range_m: quantize(max(0, range + noise), Resolution.range_m), valid: true)
    }

    /// Where the boresight ray first meets the ground, if within `maxRange_m`:
    /// marched in steps no longer than half the height above the ground at the
    /// current point (and at most 200 m), then bisected to a millimetre.
    func slantRange(_ p: Plant, maxRange_m: Double) -> Double? {
        let r = p.radiusFromCentre_m
        let ux = p.x_m / r, uy = p.y_m / r
        let hx = -uy, hy = ux
        let c = cos(p.pitch_rad), s = sin(p.pitch_rad)
        // Boresight: opposite the thrust axis.
        let dx = -(ux * c - hx * s), dy = -(uy * c - hy * s)
        func height(_ t: Double) -> Double {
            let x = p.x_m + t * dx, y = p.y_m + t * dy
            let radius = (x * x + y * y).squareRoot()
            return radius - moonRadius_m - terrain.elevation(downrange_m: moonRadius_m * atan2(-x, y))
        }
        // The march only asks whether the height is positive and, through the
        // step, whether it is over 400 m. Where the ray is more than 401 m
        // above the highest terrain both answers are known without the terrain
        // lookup (an arctangent each), which is most of a march from 12 km:
        // the floor stands in for the height and the result is the same.
        let clearance_m = moonRadius_m + terrain.maxElevation_m + 401
        func marchHeight(_ t: Double) -> Double {
            let x = p.x_m + t * dx, y = p.y_m + t * dy
            let radius = (x * x + y * y).squareRoot()
            if radius > clearance_m { return radius - moonRadius_m - terrain.maxElevation_m }
            return radius - moonRadius_m - terrain.elevation(downrange_m: moonRadius_m * atan2(-x, y))
        }
        var t0 = 0.0
        var h0 = marchHeight(0)
        if h0 <= 0 { return 0 }
        while t0 < maxRange_m {
            let t1 = min(maxRange_m, t0 + min(200, max(0.5, 0.5 * h0)))
            let h1 = marchHeight(t1)
            if h1 <= 0 {
                var lo = t0, hi = t1
                while hi - lo > 1e-3 {
                    let mid = 0.5 * (lo + hi)
                    if height(mid) > 0 { lo = mid } else { hi = mid }
                }
                return 0.5 * (lo + hi)
            }
            t0 = t1
            h0 = h1
        }
        return nil
    }

    mutating func velocimeter(_ p: Plant, altitudeAGL_m: Double, at t_ns: UInt64) -> VelocimeterSample {
        let s = spec.velocimeter
        let nH = s.noise_mps * velocimeterNoise.normal()
        let nV = s.noise_mps * velocimeterNoise.normal()
        guard altitudeAGL_m <= s.maxRange_m else {
            return VelocimeterSample(stamp_ns: t_ns, horizontalVelocity_mps: 0, verticalVelocity_mps: 0, valid: false)
        }
        return VelocimeterSample(stamp_ns: t_ns, horizontalVelocity_mps: quantize(p.horizontalSpeed_mps + nH, Resolution.speed_mps),
                                 verticalVelocity_mps: quantize(p.verticalSpeed_mps + nV, Resolution.speed_mps), valid: true)
    }

    mutating func attitude(_ p: Plant, at t_ns: UInt64) -> AttitudeSample {
        AttitudeSample(stamp_ns: t_ns, pitch_rad: quantize(p.pitch_rad + spec.attitude.noise_rad * attitudeNoise.normal(), Resolution.angle_rad), valid: true)
    }

    /// Output resolutions: powers of two, as an ADC's scaled counts are.
    enum Resolution {
        static let accel_mps2 = 0x1p-14
        static let rate_radps = 0x1p-20
        static let range_m = 0x1p-6
        static let speed_mps = 0x1p-10
        static let angle_rad = 0x1p-18
    }

    @inline(__always)
    func quantize(_ v: Double, _ lsb: Double) -> Double { (v / lsb).rounded() * lsb }
}
