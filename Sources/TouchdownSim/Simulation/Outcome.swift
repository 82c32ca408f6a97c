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
    /// Why the guidance stopped, for the `guidance-*` outcomes.
    public var guidanceFailure: GuidanceFailure?

    public struct Anomaly: Sendable, Equatable {
        public var time_s: Double
        public var what: String
    }

    /// The `touchdown.outcome` metadata stored in traces, named as the
    /// replay metrics are; the contact figures only when there was contact.
    public var fields: [(key: String, value: String)] {
        var rows: [(String, String)] = [("outcome", kind.rawValue)]
        if !kind.endedInFlight {
            rows += [
                ("touchdown.time_s", formatFixed(time_s, 3)),
                ("touchdown.vertical_speed_mps", formatFixed(verticalSpeed_mps, 3)),
                ("touchdown.horizontal_speed_mps", formatFixed(horizontalSpeed_mps, 3)),
                ("touchdown.tilt_deg", formatFixed(tilt_deg, 2)),
                ("landing_error_m", formatFixed(landingError_m, 1)),
            ]
        }
        rows += [
            ("end_time_s", formatFixed(time_s, 3)),
            ("propellant_kg", formatFixed(propellant_kg, 2)),
            ("altitude_agl_m", formatFixed(altitudeAGL_m, 1)),
        ]
        if let a = firstAnomaly {
            rows.append(("first_anomaly_time_s", formatFixed(a.time_s, 3)))
            rows.append(("first_anomaly", a.what))
        }
        return rows
    }
}
