import TouchdownSim
import TouchdownTrace

/// One measured figure of a run, by its catalogue name.
public struct Metric: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case number(Double)
        case text(String)
        /// The run did not measure it (no contact with the ground, no valid
        /// range, no `/truth`, …); the reason says which.
        case notMeasured(String)
    }

    public var name: String
    public var value: Value
    /// For figures drawn from a time series (`….max`): the samples, so that
    /// a failed assertion can say when the bound was first crossed. Not
    /// part of the result's JSON.
    public var series: [TimedValue]?

    public var number: Double? { if case .number(let v) = value { v } else { nil } }

    /// As the text report shows it: the number, the word, or `not measured`.
    public var text: String {
        switch value {
        case .number(let v): formatNumber(v)
        case .text(let s): s
        case .notMeasured: "not measured"
        }
    }

    public static func == (a: Metric, b: Metric) -> Bool { a.name == b.name && a.value == b.value }
}

/// A sample of a time series: when, and the value then.
public struct TimedValue: Sendable, Equatable {
    public var time_s: Double
    public var value: Double
}

/// Everything a run leaves for its metrics to be read from.
struct RunFacts {
    var mode: Replay.Mode
    /// Closed loop: how the flight ended.
    var outcome: Outcome?
    /// The outcome's name in either mode.
    var outcomeName: String
    var collector: MetricsCollector
    var alteredMessages: Int
    /// Open loop: the comparison with the recording.
    var divergence: Divergence?
    /// Whether the run had the truth to measure navigation against.
    var hadTruth: Bool
}

/// The catalogue: every metric a run can report, in which modes, and how it
/// is read from the run. Adding a metric is adding one entry here.
public enum MetricCatalogue {
    public struct Entry: Sendable {
        public var name: String
        public var help: String
        public var openLoop: Bool
        public var closedLoop: Bool
        /// Shown in the text report (every metric is in the JSON).
        public var inSummary: Bool
        let measure: @Sendable (RunFacts) -> (Metric.Value, [TimedValue]?)
    }

    typealias Measured = (Metric.Value, [TimedValue]?)

    static func number(_ v: Double) -> Measured {
        v.isFinite ? (.number(v), nil) : (.notMeasured("not a finite number (\(v))"), nil)
    }

    static func contact(_ f: RunFacts, _ value: (Outcome) -> Double) -> Measured {
        guard let o = f.outcome else { return (.notMeasured("closed loop only"), nil) }
        guard !o.kind.endedInFlight else {
            return (.notMeasured("no contact with the ground: the run ended \(o.kind.rawValue), \(formatFixed(o.altitudeAGL_m, 1)) m up"), nil)
        }
        return number(value(o))
    }

    static func atEnd(_ f: RunFacts, _ value: (Outcome) -> Double) -> Measured {
        guard let o = f.outcome else { return (.notMeasured("closed loop only"), nil) }
        return number(value(o))
    }

    static func navigation(_ f: RunFacts, _ value: (MetricsCollector) -> Measured) -> Measured {
        guard f.hadTruth else { return (.notMeasured("no /truth to compare navigation with"), nil) }
        guard !f.collector.altitudeError.isEmpty else { return (.notMeasured("no guidance step ran"), nil) }
        return value(f.collector)
    }

    static func series(_ s: [TimedValue], _ reduce: ([Double]) -> Double) -> Measured {
        let (v, _) = number(reduce(s.map(\.value)))
        return (v, s)
    }

    static func divergence(_ f: RunFacts, _ value: (Divergence) -> Measured) -> Measured {
        guard let d = f.divergence else { return (.notMeasured("open loop only"), nil) }
        guard d.comparedSteps > 0 else { return (.notMeasured("the trace has no recorded /command to compare with"), nil) }
        return value(d)
    }

    public static let entries: [Entry] = [
        Entry(name: "outcome", help: "closed loop: landed, hard-landing, crashed, timeout; open loop: match (every compared step within tolerance), diverged, replayed (nothing to compare with); either: guidance-crashed, guidance-timeout, guidance-invalid-output",
              openLoop: true, closedLoop: true, inSummary: true) { f in (.text(f.outcomeName), nil) },
        Entry(name: "touchdown.time_s", help: "time of contact with the ground from the start of descent",
              openLoop: false, closedLoop: true, inSummary: true) { f in contact(f) { $0.time_s } },
        Entry(name: "touchdown.vertical_speed_mps", help: "descent speed at contact (positive down)",
              openLoop: false, closedLoop: true, inSummary: true) { f in contact(f) { $0.verticalSpeed_mps } },
        Entry(name: "touchdown.horizontal_speed_mps", help: "horizontal speed at contact",
              openLoop: false, closedLoop: true, inSummary: true) { f in contact(f) { $0.horizontalSpeed_mps } },
        Entry(name: "touchdown.tilt_deg", help: "tilt from the vertical at contact",
              openLoop: false, closedLoop: true, inSummary: true) { f in contact(f) { $0.tilt_deg } },
        Entry(name: "landing_error_m", help: "along-track distance from the site at contact",
              openLoop: false, closedLoop: true, inSummary: true) { f in contact(f) { $0.landingError_m } },
        Entry(name: "end_time_s", help: "when the run ended (contact, timeout or guidance failure), from the start of descent",
              openLoop: false, closedLoop: true, inSummary: false) { f in atEnd(f) { $0.time_s } },
        Entry(name: "propellant_kg", help: "propellant left at the end",
              openLoop: false, closedLoop: true, inSummary: true) { f in atEnd(f) { $0.propellant_kg } },
        Entry(name: "altitude_agl_m", help: "true altitude above ground at the end (0 after contact)",
              openLoop: false, closedLoop: true, inSummary: true) { f in atEnd(f) { $0.altitudeAGL_m } },
        Entry(name: "nav.altitude_error_m.max", help: "largest |navigation altitude − true altitude above ground| over the guidance steps",
              openLoop: true, closedLoop: true, inSummary: true) { f in navigation(f) { series($0.altitudeError) { $0.max()! } } },
        Entry(name: "nav.altitude_error_m.mean", help: "mean of that error",
              openLoop: true, closedLoop: true, inSummary: false) { f in navigation(f) { c in number(c.altitudeError.reduce(0) { $0 + $1.value } / Double(c.altitudeError.count)) } },
        Entry(name: "nav.altitude_error_m.rms", help: "root mean square of that error",
              openLoop: true, closedLoop: true, inSummary: false) { f in navigation(f) { number(rms($0.altitudeError)) } },
        Entry(name: "nav.altitude_error_m.final", help: "signed error (navigation − truth) at the last step",
              openLoop: true, closedLoop: true, inSummary: false) { f in navigation(f) { number($0.lastSignedAltitudeError) } },
        Entry(name: "nav.vertical_speed_error_mps.max", help: "largest |navigation − true vertical speed|",
              openLoop: true, closedLoop: true, inSummary: false) { f in navigation(f) { series($0.speedError) { $0.max()! } } },
        Entry(name: "nav.vertical_speed_error_mps.rms", help: "root mean square of that error",
              openLoop: true, closedLoop: true, inSummary: false) { f in navigation(f) { number(rms($0.speedError)) } },
        Entry(name: "nav.truth_altitude_at_nav_zero_m", help: "true altitude above ground when navigation first reads 0 m or less (not measured if it never does)",
              openLoop: true, closedLoop: true, inSummary: true) { f in
            navigation(f) { c in c.truthAtNavZero.map(number) ?? (.notMeasured("navigation never read 0 m or less"), nil) }
        },
        Entry(name: "altimeter.first_valid_time_s", help: "when guidance first received a valid altimeter range (after faults)",
              openLoop: true, closedLoop: true, inSummary: true) { f in
            f.collector.firstValidAltimeter.map { number($0.time_s) } ?? (.notMeasured("no valid altimeter range reached guidance"), nil)
        },
        Entry(name: "altimeter.first_valid_altitude_m", help: "true altitude above ground then",
              openLoop: true, closedLoop: true, inSummary: true) { f in
            guard let first = f.collector.firstValidAltimeter else { return (.notMeasured("no valid altimeter range reached guidance"), nil) }
            guard f.hadTruth else { return (.notMeasured("no /truth to measure the altitude with"), nil) }
            return number(first.altitude_m)
        },
        Entry(name: "altimeter.rejected_ranges", help: "ranges guidance rejected (its altimeter-rejected events)",
              openLoop: true, closedLoop: true, inSummary: true) { f in number(Double(f.collector.rejectedRanges)) },
        Entry(name: "guidance.anomalies", help: "events guidance flagged as anomalies",
              openLoop: true, closedLoop: true, inSummary: false) { f in number(Double(f.collector.anomalies)) },
        Entry(name: "guidance.steps", help: "guidance steps run",
              openLoop: true, closedLoop: true, inSummary: false) { f in number(Double(f.collector.steps)) },
        Entry(name: "faults.altered_messages", help: "sensor messages the faults dropped, delayed or changed",
              openLoop: true, closedLoop: true, inSummary: true) { f in number(Double(f.alteredMessages)) },
        Entry(name: "divergence.steps", help: "steps whose command or navigation output differs from the recording beyond the tolerances",
              openLoop: true, closedLoop: false, inSummary: false) { f in divergence(f) { number(Double($0.divergentSteps)) } },
        Entry(name: "divergence.first_time_s", help: "time of the first such step (not measured if none)",
              openLoop: true, closedLoop: false, inSummary: false) { f in
            divergence(f) { d in d.first.map { number($0.time_s) } ?? (.notMeasured("no step diverged"), nil) }
        },
    ] + DivergenceFields.names.enumerated().map { i, field in
        Entry(name: "divergence.\(field).max", help: "largest |replayed − recorded| of \(field)",
              openLoop: true, closedLoop: false, inSummary: false) { f in divergence(f) { number($0.maxDeviation[i]) } }
    }

    static func rms(_ s: [TimedValue]) -> Double {
        (s.reduce(0) { $0 + $1.value * $1.value } / Double(s.count)).squareRoot()
    }

    /// The catalogue entry of a name.
    public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Every metric of a run, in catalogue order: those the mode defines.
    static func measure(_ facts: RunFacts) -> [Metric] {
        entries.filter { facts.mode == .openLoop ? $0.openLoop : $0.closedLoop }.map { e in
            let (value, series) = e.measure(facts)
            return Metric(name: e.name, value: value, series: series)
        }
    }
}

/// The fields open loop compares, in a fixed order.
public enum DivergenceFields {
    public static let names = [
        "main_throttle_fraction", "thruster_throttle_fraction", "pitch_command_rad",
        "nav_downrange_m", "nav_altitude_m", "nav_vertical_speed_mps", "nav_horizontal_speed_mps", "nav_pitch_rad",
    ]
}

/// Gathers the metrics' raw material and the digest as a run goes.
struct MetricsCollector {
    var digest = RunDigest()
    var steps = 0
    var anomalies = 0
    var rejectedRanges = 0
    var altitudeError: [TimedValue] = []
    var lastSignedAltitudeError = Double.nan
    var speedError: [TimedValue] = []
    var truthAtNavZero: Double?
    var firstValidAltimeter: (time_s: Double, altitude_m: Double)?
    /// The first event guidance flagged as an anomaly.
    var firstAnomaly: ReplayResult.Anomaly?

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
            if e.anomaly {
                anomalies += 1
                if firstAnomaly == nil { firstAnomaly = ReplayResult.Anomaly(time_s: Double(t) * 1e-9, what: e.detail) }
            }
            if e.kind == "altimeter-rejected" { rejectedRanges += 1 }
        }
        guard let truth else { return }
        let time_s = Double(t) * 1e-9
        let e = out.navigation.altitude_m - truth.altitudeAGL_m
        lastSignedAltitudeError = e
        altitudeError.append(TimedValue(time_s: time_s, value: abs(e)))
        speedError.append(TimedValue(time_s: time_s, value: abs(out.navigation.verticalSpeed_mps - truth.verticalSpeed_mps)))
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
        return digest.finalizeHex()
    }
}
