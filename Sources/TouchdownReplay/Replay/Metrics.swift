import TouchdownSim
import TouchdownTrace

/// One measured figure of a replay, by its catalogue name.
public struct Metric: Sendable {
    public enum Value: Sendable, Equatable {
        case number(Double)
        case text(String)
    }

    public var name: String
    public var value: Value
    /// For figures drawn from a time series (`….max`): the samples, so that
    /// a failed assertion can say when the bound was first crossed.
    public var series: [(time_s: Double, value: Double)]?

    public var number: Double? { if case .number(let v) = value { v } else { nil } }
    public var text: String {
        switch value {
        case .number(let v): formatNumber(v)
        case .text(let s): s
        }
    }
}

/// The catalogue: every metric a replay can report, and in which modes.
public enum MetricCatalogue {
    public struct Entry: Sendable {
        public var name: String
        public var help: String
        public var openLoop: Bool
        public var closedLoop: Bool
    }

    public static let entries: [Entry] = [
        Entry(name: "outcome", help: "landed, hard-landing, crashed, timeout, guidance-crashed, guidance-timeout, guidance-invalid-output; open loop: replayed or guidance-*", openLoop: true, closedLoop: true),
        Entry(name: "touchdown.time_s", help: "time of contact (or of the end of the run) from the start of descent", openLoop: false, closedLoop: true),
        Entry(name: "touchdown.vertical_speed_mps", help: "descent speed at contact (positive down)", openLoop: false, closedLoop: true),
        Entry(name: "touchdown.horizontal_speed_mps", help: "horizontal speed at contact", openLoop: false, closedLoop: true),
        Entry(name: "touchdown.tilt_deg", help: "tilt from the vertical at contact", openLoop: false, closedLoop: true),
        Entry(name: "propellant_kg", help: "propellant left at the end", openLoop: false, closedLoop: true),
        Entry(name: "landing_error_m", help: "along-track distance from the site at contact", openLoop: false, closedLoop: true),
        Entry(name: "altitude_agl_m", help: "true altitude above ground at the end (0 after contact)", openLoop: false, closedLoop: true),
        Entry(name: "nav.altitude_error_m.max", help: "largest |navigation altitude − true altitude above ground| over the guidance steps", openLoop: true, closedLoop: true),
        Entry(name: "nav.altitude_error_m.mean", help: "mean of that error", openLoop: true, closedLoop: true),
        Entry(name: "nav.altitude_error_m.rms", help: "root mean square of that error", openLoop: true, closedLoop: true),
        Entry(name: "nav.altitude_error_m.final", help: "signed error (navigation − truth) at the last step", openLoop: true, closedLoop: true),
        Entry(name: "nav.vertical_speed_error_mps.max", help: "largest |navigation − true vertical speed|", openLoop: true, closedLoop: true),
        Entry(name: "nav.vertical_speed_error_mps.rms", help: "root mean square of that error", openLoop: true, closedLoop: true),
        Entry(name: "nav.truth_altitude_at_nav_zero_m", help: "true altitude above ground when navigation first reads 0 m or less (absent if it never does)", openLoop: true, closedLoop: true),
        Entry(name: "altimeter.first_valid_time_s", help: "when guidance first received a valid altimeter range (after faults)", openLoop: true, closedLoop: true),
        Entry(name: "altimeter.first_valid_altitude_m", help: "true altitude above ground then", openLoop: true, closedLoop: true),
        Entry(name: "altimeter.rejected_ranges", help: "ranges guidance rejected (its altimeter-rejected events)", openLoop: true, closedLoop: true),
        Entry(name: "guidance.anomalies", help: "events guidance flagged as anomalies", openLoop: true, closedLoop: true),
        Entry(name: "guidance.steps", help: "guidance steps run", openLoop: true, closedLoop: true),
        Entry(name: "faults.altered_messages", help: "sensor messages the faults dropped, delayed or changed", openLoop: true, closedLoop: true),
        Entry(name: "divergence.steps", help: "steps whose command or navigation output differs from the recording beyond the tolerances", openLoop: true, closedLoop: false),
        Entry(name: "divergence.first_time_s", help: "time of the first such step (absent if none)", openLoop: true, closedLoop: false),
        Entry(name: "divergence.FIELD.max", help: "largest |replayed − recorded| of a field: main_throttle_fraction, thruster_throttle_fraction, pitch_command_rad, nav_downrange_m, nav_altitude_m, nav_vertical_speed_mps, nav_horizontal_speed_mps, nav_pitch_rad", openLoop: true, closedLoop: false),
    ]

    /// The catalogue entry a name falls under (`divergence.nav_altitude_m.max` under `divergence.FIELD.max`).
    public static func entry(_ name: String) -> Entry? {
        if let e = entries.first(where: { $0.name == name }) { return e }
        if name.hasPrefix("divergence."), name.hasSuffix(".max"),
           DivergenceFields.names.contains(String(name.dropFirst("divergence.".count).dropLast(".max".count))) {
            return entries.first { $0.name == "divergence.FIELD.max" }
        }
        return nil
    }
}

/// The fields open loop compares, in a fixed order.
public enum DivergenceFields {
    public static let names = [
        "main_throttle_fraction", "thruster_throttle_fraction", "pitch_command_rad",
        "nav_downrange_m", "nav_altitude_m", "nav_vertical_speed_mps", "nav_horizontal_speed_mps", "nav_pitch_rad",
    ]
}

/// Gathers the metrics and the digest as a replay runs.
struct MetricsCollector {
    var digest = SHA256()
    var steps = 0
    var anomalies = 0
    var rejectedRanges = 0
    var altitudeError: [(time_s: Double, value: Double)] = []
    var lastSignedAltitudeError = Double.nan
    var speedError: [(time_s: Double, value: Double)] = []
    var truthAtNavZero: Double?
    var firstValidAltimeter: (time_s: Double, altitude_m: Double)?

    /// Everything guidance produced at a step goes into the digest.
    mutating func step(_ t: UInt64, _ out: GuidanceOutput, truth: TruthSample?) {
        steps += 1
        // The step's time and the fields in `DivergenceFields.names` order,
        // little-endian, in one call.
        let c = out.command, n = out.navigation
        let words = (t.littleEndian, c.mainThrottle_fraction.bitPattern.littleEndian,
                     c.thrusterThrottle_fraction.bitPattern.littleEndian, c.pitchCommand_rad.bitPattern.littleEndian,
                     n.downrange_m.bitPattern.littleEndian, n.altitude_m.bitPattern.littleEndian,
                     n.verticalSpeed_mps.bitPattern.littleEndian, n.horizontalSpeed_mps.bitPattern.littleEndian,
                     n.pitch_rad.bitPattern.littleEndian)
        withUnsafeBytes(of: words) { digest.update($0) }
        digest.update(UInt64(out.events.count))
        for e in out.events {
            digest.update(e.kind)
            digest.update(e.detail)
            digest.update(UInt64(e.anomaly ? 1 : 0))
            if e.anomaly { anomalies += 1 }
            if e.kind == "altimeter-rejected" { rejectedRanges += 1 }
        }
        guard let truth else { return }
        let time_s = Double(t) * 1e-9
        let e = out.navigation.altitude_m - truth.altitudeAGL_m
        lastSignedAltitudeError = e
        altitudeError.append((time_s, abs(e)))
        speedError.append((time_s, abs(out.navigation.verticalSpeed_mps - truth.verticalSpeed_mps)))
        if truthAtNavZero == nil && out.navigation.altitude_m <= 0 { truthAtNavZero = truth.altitudeAGL_m }
    }

    /// `altitudeAGL_m` is evaluated only for the first valid range.
    mutating func delivered(_ r: SensorReading, at t: UInt64, altitudeAGL_m: @autoclosure () -> Double) {
        if firstValidAltimeter == nil, case .altimeter(let m) = r, m.valid {
            firstValidAltimeter = (Double(t) * 1e-9, altitudeAGL_m())
        }
    }

    /// The end of the run: the outcome closes the digest.
    mutating func finish(outcome: String) -> String {
        digest.update(outcome)
        return SHA256.hex(digest.finalize())
    }

    func metrics(alteredMessages: Int) -> [Metric] {
        var m: [Metric] = []
        func add(_ name: String, _ v: Double, _ series: [(time_s: Double, value: Double)]? = nil) {
            m.append(Metric(name: name, value: .number(v), series: series))
        }
        if !altitudeError.isEmpty {
            let values = altitudeError.map(\.value)
            add("nav.altitude_error_m.max", values.max()!, altitudeError)
            add("nav.altitude_error_m.mean", values.reduce(0, +) / Double(values.count))
            add("nav.altitude_error_m.rms", (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot())
            add("nav.altitude_error_m.final", lastSignedAltitudeError)
            let speeds = speedError.map(\.value)
            add("nav.vertical_speed_error_mps.max", speeds.max()!, speedError)
            add("nav.vertical_speed_error_mps.rms", (speeds.reduce(0) { $0 + $1 * $1 } / Double(speeds.count)).squareRoot())
        }
        if let z = truthAtNavZero { add("nav.truth_altitude_at_nav_zero_m", z) }
        if let f = firstValidAltimeter {
            add("altimeter.first_valid_time_s", f.time_s)
            add("altimeter.first_valid_altitude_m", f.altitude_m)
        }
        add("altimeter.rejected_ranges", Double(rejectedRanges))
        add("guidance.anomalies", Double(anomalies))
        add("guidance.steps", Double(steps))
        add("faults.altered_messages", Double(alteredMessages))
        return m
    }
}
