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

    /// Where the boresight ray first meets the ground, if within `maxRange_m`.
    ///
    /// The ray is taken straight to where it enters the sphere of the highest
    /// terrain (`Terrain.maxElevation_m`): nothing above it can be hit. From
    /// there it is marched in steps no longer than half the height above the
    /// ground at the current point (at least 0.5 m, at most 200 m), and the
    /// step that crosses the ground is narrowed by regula falsi (the Illinois
    /// variant) to a height within 10 µm or a bracket of 0.1 mm.
    func slantRange(_ p: Plant, maxRange_m: Double) -> Double? {
        let r = p.radiusFromCentre_m
        let ux = p.x_m / r, uy = p.y_m / r
        let hx = -uy, hy = ux
        let (s, c) = Plant.sinCos(p.pitch_rad)
        // Boresight: opposite the thrust axis.
        let dx = -(ux * c - hx * s), dy = -(uy * c - hy * s)
        func height(_ t: Double) -> Double {
            let x = p.x_m + t * dx, y = p.y_m + t * dy
            let radius = (x * x + y * y).squareRoot()
            return radius - moonRadius_m - terrain.elevation(downrange_m: moonRadius_m * atan2(-x, y))
        }
        var t0 = 0.0
        let top = moonRadius_m + terrain.maxElevation_m
        if r > top {
            let along = p.x_m * dx + p.y_m * dy      // negative when the ray points down
            let outside = (r - top) * (r + top)      // |p|² - top², without cancellation
            let discriminant = along * along - outside
            if along >= 0 || discriminant < 0 { return nil }
            t0 = outside / (-along + discriminant.squareRoot())
            if t0 >= maxRange_m { return nil }
        }
        var h0 = height(t0)
        if h0 <= 0 { return t0 }
        while t0 < maxRange_m {
            let t1 = min(maxRange_m, t0 + min(200, max(0.5, 0.5 * h0)))
            let h1 = height(t1)
            if h1 <= 0 { return crossing(height, t0, h0, t1, h1) }
            t0 = t1
            h0 = h1
        }
        return nil
    }

    /// The root of `height` between `lo` (above the ground) and `hi` (at or
    /// below it).
    private func crossing(_ height: (Double) -> Double, _ lo: Double, _ hLo: Double, _ hi: Double, _ hHi: Double) -> Double {
        var lo = lo, hLo = hLo, hi = hi, hHi = hHi
        var lastSide = 0, evaluations = 0
        while hi - lo > 1e-4 && evaluations < 100 {
            evaluations += 1
            var t = (lo * hHi - hi * hLo) / (hHi - hLo)
            if !(t > lo && t < hi) { t = 0.5 * (lo + hi) }
            let h = height(t)
            if abs(h) <= 1e-5 { return t }
            if h > 0 {
                lo = t; hLo = h
                if lastSide > 0 { hHi *= 0.5 }
                lastSide = 1
            } else {
                hi = t; hHi = h
                if lastSide < 0 { hLo *= 0.5 }
                lastSide = -1
            }
        }
        return 0.5 * (lo + hi)
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
