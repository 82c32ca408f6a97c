import TouchdownTrace

/// How a simulated descent ended.
public struct Outcome: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case landed
        case hardLanding = "hard-landing"
        case crashed
        case timeout
        /// The guidance under test failed; the vehicle's state is the one at
        /// that instant (`altitudeAGL_m` says how high it was).
        case guidanceCrashed = "guidance-crashed"
        case guidanceTimeout = "guidance-timeout"
        case guidanceInvalidOutput = "guidance-invalid-output"

        init(_ failure: GuidanceFailure.Kind) {
            switch failure {
            case .crashed: self = .guidanceCrashed
            case .timeout: self = .guidanceTimeout
            case .invalidOutput: self = .guidanceInvalidOutput
            }
        }

        /// The run ended without a touchdown.
        public var endedInFlight: Bool { self != .landed && self != .hardLanding && self != .crashed }
    }

    public var kind: Kind
    /// Contact (or the end of the run, for a timeout), from the start of descent.
    public var time_s: Double
    /// Downward speed at contact (positive: descending).
    public var verticalSpeed_mps: Double
    public var horizontalSpeed_mps: Double
    public var tilt_deg: Double
    public var propellant_kg: Double
    /// Along-track distance from the landing site at contact.
    public var landingError_m: Double
    /// Altitude above the ground at the end (0 on contact).
    public var altitudeAGL_m: Double
    /// The first thing that went wrong, if anything did.
    public var firstAnomaly: Anomaly?

    public struct Anomaly: Sendable, Equatable {
        public var time_s: Double
        public var what: String
    }

    /// Rows for the outcome table (also stored in the trace's metadata).
    public var fields: [(key: String, value: String)] {
        var rows: [(String, String)] = [
            ("outcome", kind.rawValue),
            ("touchdown_time_s", formatFixed(time_s, 3)),
            ("vertical_speed_mps", formatFixed(verticalSpeed_mps, 3)),
            ("horizontal_speed_mps", formatFixed(horizontalSpeed_mps, 3)),
            ("tilt_deg", formatFixed(tilt_deg, 2)),
            ("propellant_kg", formatFixed(propellant_kg, 2)),
            ("landing_error_m", formatFixed(landingError_m, 1)),
        ]
        if kind.endedInFlight { rows.append(("altitude_agl_m", formatFixed(altitudeAGL_m, 1))) }
        if let a = firstAnomaly {
            rows.append(("first_anomaly_time_s", formatFixed(a.time_s, 3)))
            rows.append(("first_anomaly", a.what))
        }
        return rows
    }

    public var table: String {
        let width = fields.map(\.key.count).max() ?? 0
        return fields.map { $0.key + String(repeating: " ", count: width - $0.key.count) + "  " + $0.value }
            .joined(separator: "\n") + "\n"
    }

    /// One JSON object; numbers as numbers.
    public var json: String {
        var s = "{\"outcome\":\"\(kind.rawValue)\""
        s += ",\"touchdown_time_s\":\(formatFixed(time_s, 3))"
        s += ",\"vertical_speed_mps\":\(formatFixed(verticalSpeed_mps, 3))"
        s += ",\"horizontal_speed_mps\":\(formatFixed(horizontalSpeed_mps, 3))"
        s += ",\"tilt_deg\":\(formatFixed(tilt_deg, 2))"
        s += ",\"propellant_kg\":\(formatFixed(propellant_kg, 2))"
        s += ",\"landing_error_m\":\(formatFixed(landingError_m, 1))"
        s += ",\"altitude_agl_m\":\(formatFixed(altitudeAGL_m, 1))"
        if let a = firstAnomaly {
            s += ",\"first_anomaly\":{\"time_s\":\(formatFixed(a.time_s, 3)),\"what\":"
            s += jsonString(a.what)
            s += "}"
        } else {
            s += ",\"first_anomaly\":null"
        }
        return s + "}"
    }
}
