#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `reference-descent`: a deterministic synthetic descent workload for tests
/// and benchmarks, at flight-like rates with noisy sensor values.
///
/// The trajectory is smooth and closed-form (not the simulator's physics):
/// altitude falls from 15 km to the ground and horizontal speed from
/// 1.7 km/s to zero over the duration, the vehicle pitches up from braking
/// attitude, and mass falls as propellant burns. Sensors add seeded noise and
/// bias. Topics and rates: `/imu` 400 Hz, `/altimeter` 20 Hz, `/velocimeter`
/// 10 Hz, `/attitude` 10 Hz, `/command` 50 Hz, `/truth` 50 Hz. Messages that
/// fall on the same instant come in that topic order.
public struct ReferenceDescent: Sendable {
    public static let profileName = "reference-descent"
    public let duration_ns: UInt64
    public let seed: UInt64

    /// Topic names in tie-break order, with their periods.
    public static let schedule: [(topic: String, period_ns: UInt64)] = [
        (TouchdownTopics.imu, 2_500_000), (TouchdownTopics.altimeter, 50_000_000), (TouchdownTopics.velocimeter, 100_000_000),
        (TouchdownTopics.attitude, 100_000_000), (TouchdownTopics.command, 20_000_000), (TouchdownTopics.truth, 20_000_000),
    ]

    /// One generated message and the topic (index into `schedule`) it belongs on.
    public enum Item: Sendable {
        case imu(ImuSample), altimeter(AltimeterSample), velocimeter(VelocimeterSample)
        case attitude(AttitudeSample), command(CommandSample), truth(TruthSample)

        public var stamp_ns: UInt64 {
            switch self {
            case .imu(let m): m.stamp_ns
            case .altimeter(let m): m.stamp_ns
            case .velocimeter(let m): m.stamp_ns
            case .attitude(let m): m.stamp_ns
            case .command(let m): m.stamp_ns
            case .truth(let m): m.stamp_ns
            }
        }
    }

    public init(duration_s: Double, seed: UInt64 = 1) throws {
        guard duration_s.isFinite, duration_s > 0, duration_s <= 1_000_000 else {
            throw WorkloadError.invalidDuration(duration_s)
        }
        duration_ns = UInt64((duration_s * 1e9).rounded())
        self.seed = seed
    }

    /// Expected number of messages (for progress and checks).
    public var messageCount: Int {
        Self.schedule.reduce(0) { $0 + Int(duration_ns / $1.period_ns) + 1 }
    }

    /// Produces the messages in log-time order, `batch_ns` of trace time per
    /// call to `body` (the array is reused between calls).
    public func generate(batch_ns: UInt64 = 1_000_000_000, _ body: ([Item]) throws -> Void) rethrows {
        var state = State(seed: seed, duration_ns: duration_ns)
        var items: [Item] = []
        items.reserveCapacity(Int(batch_ns / 2_500_000) * 2 + 16)
        var t: UInt64 = 0
        let tick: UInt64 = 2_500_000
        var batchEnd = batch_ns
        while t <= duration_ns {
            state.step(t, into: &items)
            t += tick
            if t >= batchEnd || t > duration_ns {
                try body(items)
                items.removeAll(keepingCapacity: true)
                batchEnd += batch_ns
            }
        }
    }

    /// The workload's topics, registered on a recorder.
    public struct Topics {
        let recorder: TraceRecorder
        let imu: TraceRecorder.Topic<ImuSample>
        let altimeter: TraceRecorder.Topic<AltimeterSample>
        let velocimeter: TraceRecorder.Topic<VelocimeterSample>
        let attitude: TraceRecorder.Topic<AttitudeSample>
        let command: TraceRecorder.Topic<CommandSample>
        let truth: TraceRecorder.Topic<TruthSample>

        public init(recorder: TraceRecorder) throws {
            self.recorder = recorder
            imu = try recorder.topic(TouchdownTopics.imu, ImuSample.self)
            altimeter = try recorder.topic(TouchdownTopics.altimeter, AltimeterSample.self)
            velocimeter = try recorder.topic(TouchdownTopics.velocimeter, VelocimeterSample.self)
            attitude = try recorder.topic(TouchdownTopics.attitude, AttitudeSample.self)
            command = try recorder.topic(TouchdownTopics.command, CommandSample.self)
            truth = try recorder.topic(TouchdownTopics.truth, TruthSample.self)
        }

        /// Records a batch, each message at its own stamp.
        public func record(_ items: [Item]) throws {
            for item in items {
                switch item {
                case .imu(let m): try recorder.record(m, on: imu, logTime_ns: m.stamp_ns)
                case .altimeter(let m): try recorder.record(m, on: altimeter, logTime_ns: m.stamp_ns)
                case .velocimeter(let m): try recorder.record(m, on: velocimeter, logTime_ns: m.stamp_ns)
                case .attitude(let m): try recorder.record(m, on: attitude, logTime_ns: m.stamp_ns)
                case .command(let m): try recorder.record(m, on: command, logTime_ns: m.stamp_ns)
                case .truth(let m): try recorder.record(m, on: truth, logTime_ns: m.stamp_ns)
                }
            }
        }
    }

    /// Writes the whole workload through `recorder` and finishes the trace.
    public func record(to recorder: TraceRecorder) throws {
        let topics = try Topics(recorder: recorder)
        try recorder.writer.addMetadata(name: "touchdown.workload", [
            ("profile", Self.profileName), ("duration_ns", String(duration_ns)), ("seed", String(seed)),
        ])
        try generate { try topics.record($0) }
        try recorder.finish()
    }

    /// Rounds to a sensor's resolution (a power of two, as ADC outputs scaled
    /// by a binary LSB are): what an instrument reports is quantised.
    @inline(__always)
    static func quantize(_ v: Double, lsb: Double) -> Double { (v / lsb).rounded() * lsb }

    /// The closed-form trajectory and the sensors' noise state.
    struct State {
        var random: SeededRandom
        let duration_s: Double
        let accelBias_mps2: (Double, Double, Double)
        let rateBias_radps: (Double, Double, Double)
        static let startAltitude_m = 15_000.0
        static let startHorizontalSpeed_mps = 1_700.0
        static let startMass_kg = 750.0
        static let endMass_kg = 390.0

        init(seed: UInt64, duration_ns: UInt64) {
            random = SeededRandom(seed: seed, stream: "reference-descent")
            duration_s = Double(duration_ns) * 1e-9
            accelBias_mps2 = (random.normal(mean: 0, deviation: 0.002), random.normal(mean: 0, deviation: 0.002), random.normal(mean: 0, deviation: 0.002))
            rateBias_radps = (random.normal(mean: 0, deviation: 1e-5), random.normal(mean: 0, deviation: 1e-5), random.normal(mean: 0, deviation: 1e-5))
        }

        // Sensor resolutions, those of a 16-bit-output MEMS IMU and flight
        // instruments with binary scale factors.
        static let accelLSB_mps2 = 0x1p-10  // about 0.1 mg
        static let rateLSB_radps = 0x1p-16  // about 3 arcsec/s
        static let rangeLSB_m = 0x1p-4
        static let velocityLSB_mps = 0x1p-8
        static let attitudeLSB_rad = 0x1p-18

        mutating func step(_ t_ns: UInt64, into items: inout [Item]) {
            let q = ReferenceDescent.quantize
            let t = Double(t_ns) * 1e-9
            let u = min(t / duration_s, 1)
            let left = 1 - u
            let altitude = Self.startAltitude_m * left * left
            let verticalSpeed = -2 * Self.startAltitude_m * left / duration_s
            let horizontalSpeed = Self.startHorizontalSpeed_mps * left * left * left
            let downrange = Self.startHorizontalSpeed_mps * duration_s * (1 - left * left * left * left) / 4
            // A slow pitch-up from braking attitude with a small control limit cycle.
            let pitch = -1.1 * left + 0.004 * sin(2 * Double.pi * 0.7 * t)
            let pitchRate = 1.1 / duration_s + 0.004 * 2 * Double.pi * 0.7 * cos(2 * Double.pi * 0.7 * t)
            let mass = Self.startMass_kg - (Self.startMass_kg - Self.endMass_kg) * u
            let throttle = 0.55 + 0.35 * left + 0.02 * sin(2 * Double.pi * 0.13 * t)
            let thrust = throttle * 1600
            let terrain = 120 * sin(downrange / 4_000) + 35 * sin(downrange / 730)

            items.append(.imu(ImuSample(
                stamp_ns: t_ns,
                accelX_mps2: q(thrust / mass + accelBias_mps2.0 + random.normal(mean: 0, deviation: 0.003), Self.accelLSB_mps2),
                accelY_mps2: q(accelBias_mps2.1 + random.normal(mean: 0, deviation: 0.003), Self.accelLSB_mps2),
                accelZ_mps2: q(accelBias_mps2.2 + random.normal(mean: 0, deviation: 0.003), Self.accelLSB_mps2),
                rateX_radps: q(rateBias_radps.0 + random.normal(mean: 0, deviation: 5e-5), Self.rateLSB_radps),
                rateY_radps: q(pitchRate + rateBias_radps.1 + random.normal(mean: 0, deviation: 5e-5), Self.rateLSB_radps),
                rateZ_radps: q(rateBias_radps.2 + random.normal(mean: 0, deviation: 5e-5), Self.rateLSB_radps))))
            if t_ns % 50_000_000 == 0 {
                let slant = (altitude - terrain) / max(cos(pitch), 0.2)
                let valid = slant < 8_000
                items.append(.altimeter(AltimeterSample(stamp_ns: t_ns, range_m: valid ? q(slant + random.normal(mean: 0, deviation: 0.5), Self.rangeLSB_m) : 0, valid: valid)))
            }
            if t_ns % 100_000_000 == 0 {
                items.append(.velocimeter(VelocimeterSample(
                    stamp_ns: t_ns,
                    horizontalVelocity_mps: q(horizontalSpeed + random.normal(mean: 0, deviation: 0.05), Self.velocityLSB_mps),
                    verticalVelocity_mps: q(verticalSpeed + random.normal(mean: 0, deviation: 0.05), Self.velocityLSB_mps),
                    valid: altitude < 6_000)))
                items.append(.attitude(AttitudeSample(stamp_ns: t_ns, pitch_rad: q(pitch + random.normal(mean: 0, deviation: 2e-5), Self.attitudeLSB_rad), valid: true)))
            }
            if t_ns % 20_000_000 == 0 {
                items.append(.command(CommandSample(stamp_ns: t_ns, mainThrottle_fraction: throttle,
                                                    thrusterThrottle_fraction: max(0, throttle - 0.5), pitchCommand_rad: pitch)))
                items.append(.truth(TruthSample(stamp_ns: t_ns, downrange_m: downrange, altitudeAGL_m: altitude - terrain,
                                                terrainElevation_m: terrain, verticalSpeed_mps: verticalSpeed,
                                                horizontalSpeed_mps: horizontalSpeed, pitch_rad: pitch, mass_kg: mass, thrust_n: thrust)))
            }
        }
    }
}

/// A workload that cannot be generated as asked.
public enum WorkloadError: Error, CustomStringConvertible, Equatable {
    case invalidDuration(Double)
    case unknownProfile(String)

    public var description: String {
        switch self {
        case .invalidDuration(let d): "duration \(d) s is not accepted: give a finite number of seconds above 0 and at most 1000000"
        case .unknownProfile(let p): "unknown workload profile '\(p)'; accepted: \(ReferenceDescent.profileName)"
        }
    }
}
