import TouchdownTrace

/// How a simulated descent ended.
public struct Outcome: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case landed
        case hardLanding = "hard-landing"
        case crashed
        case timeout
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
    /// The first thing that went wrong, if anything did: time and description.
    public var firstAnomaly: (time_s: Double, what: String)?

    public static func == (a: Outcome, b: Outcome) -> Bool {
        a.kind == b.kind && a.time_s == b.time_s && a.verticalSpeed_mps == b.verticalSpeed_mps
            && a.horizontalSpeed_mps == b.horizontalSpeed_mps && a.tilt_deg == b.tilt_deg
            && a.propellant_kg == b.propellant_kg && a.landingError_m == b.landingError_m
            && a.firstAnomaly?.time_s == b.firstAnomaly?.time_s && a.firstAnomaly?.what == b.firstAnomaly?.what
    }

    /// Rows for the outcome table (also stored in the trace's metadata).
    public var fields: [(key: String, value: String)] {
        var rows: [(String, String)] = [
            ("outcome", kind.rawValue),
            ("touchdown_time_s", fixed(time_s, 3)),
            ("vertical_speed_mps", fixed(verticalSpeed_mps, 3)),
            ("horizontal_speed_mps", fixed(horizontalSpeed_mps, 3)),
            ("tilt_deg", fixed(tilt_deg, 2)),
            ("propellant_kg", fixed(propellant_kg, 2)),
            ("landing_error_m", fixed(landingError_m, 1)),
        ]
        if kind == .timeout { rows.append(("altitude_agl_m", fixed(altitudeAGL_m, 1))) }
        if let a = firstAnomaly {
            rows.append(("first_anomaly_time_s", fixed(a.time_s, 3)))
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
        s += ",\"touchdown_time_s\":\(fixed(time_s, 3))"
        s += ",\"vertical_speed_mps\":\(fixed(verticalSpeed_mps, 3))"
        s += ",\"horizontal_speed_mps\":\(fixed(horizontalSpeed_mps, 3))"
        s += ",\"tilt_deg\":\(fixed(tilt_deg, 2))"
        s += ",\"propellant_kg\":\(fixed(propellant_kg, 2))"
        s += ",\"landing_error_m\":\(fixed(landingError_m, 1))"
        s += ",\"altitude_agl_m\":\(fixed(altitudeAGL_m, 1))"
        if let a = firstAnomaly {
            s += ",\"first_anomaly\":{\"time_s\":\(fixed(a.time_s, 3)),\"what\":"
            appendJSONString(a.what, to: &s)
            s += "}"
        } else {
            s += ",\"first_anomaly\":null"
        }
        return s + "}"
    }
}

/// Fixed-point decimal without Foundation's locale (deterministic text).
func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(v) * scale).rounded()
    let whole = (scaled / scale).rounded(.down)
    let frac = Int(scaled - whole * scale)
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    let sign = (v < 0 && scaled != 0) ? "-" : ""
    return sign + String(Int(whole)) + (digits > 0 ? "." + f : "")
}

func appendJSONString(_ text: String, to s: inout String) {
    s += "\""
    for u in text.unicodeScalars {
        switch u {
        case "\"": s += "\\\""
        case "\\": s += "\\\\"
        case "\n": s += "\\n"
        case "\t": s += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                s += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                s.unicodeScalars.append(u)
            }
        }
    }
    s += "\""
}
