/// Physical dimensions a value can have, each with the units it accepts:
/// one table for scenario files and fault specs alike.
public enum PhysicalDimension: String, Sendable, CaseIterable {
    case length, speed, acceleration, time, frequency, mass, force, angle
    case angularRate = "angular rate", fraction, gravitationalParameter = "gravitational parameter"

    /// Accepted units and their factor to SI (m, m/s, m/s², s, Hz, kg, N,
    /// rad, rad/s, 1, m³/s²); the first is the one ranges are given in.
    public var units: [(name: String, toSI: Double)] {
        switch self {
        case .length: [("m", 1), ("km", 1000), ("cm", 1e-2), ("mm", 1e-3)]
        case .speed: [("m/s", 1), ("km/s", 1000)]
        case .acceleration: [("m/s2", 1), ("m/s^2", 1)]
        case .time: [("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("min", 60)]
        case .frequency: [("Hz", 1)]
        case .mass: [("kg", 1), ("t", 1000)]
        case .force: [("N", 1), ("kN", 1000)]
        case .angle: [("deg", Double.pi / 180), ("rad", 1), ("mrad", 1e-3)]
        case .angularRate: [("deg/s", Double.pi / 180), ("rad/s", 1), ("mrad/s", 1e-3)]
        case .fraction: [("", 1), ("%", 0.01)]
        case .gravitationalParameter: [("km3/s2", 1e9), ("m3/s2", 1)]
        }
    }

    /// The units as an error message lists them.
    public var acceptedList: String {
        units.map { $0.name.isEmpty ? "a plain number" : $0.name }.joined(separator: ", ")
    }

    /// The units with a name, comma-separated.
    public var unitList: String { units.map(\.name).filter { !$0.isEmpty }.joined(separator: ", ") }
}

/// The one parser of numbers with units.
public enum Quantity {
    /// Parses "25 km", "1.7km/s", "+300 m", "5%", "1e-3 s": a finite number
    /// (optional sign and exponent), optional spaces, and a unit of one of
    /// `dimensions`. Returns the value in SI and the dimension its unit
    /// belongs to; nil when either part is not recognised.
    public static func parse(_ text: String, in dimensions: [PhysicalDimension] = PhysicalDimension.allCases) -> (value: Double, dimension: PhysicalDimension)? {
        let chars = Array(text.utf8)
        var i = 0
        while i < chars.count, chars[i] == 0x20 || chars[i] == 0x09 { i += 1 }
        let start = i
        if i < chars.count, chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < chars.count, (chars[i] >= 48 && chars[i] <= 57) || chars[i] == UInt8(ascii: ".") {
            if chars[i] != UInt8(ascii: ".") { digits += 1 }
            i += 1
        }
        guard digits > 0 else { return nil }
        if i < chars.count, chars[i] == UInt8(ascii: "e") || chars[i] == UInt8(ascii: "E") {
            var j = i + 1
            if j < chars.count, chars[j] == UInt8(ascii: "+") || chars[j] == UInt8(ascii: "-") { j += 1 }
            let exponent = j
            while j < chars.count, chars[j] >= 48 && chars[j] <= 57 { j += 1 }
            if j > exponent { i = j }
        }
        guard let number = Double(String(decoding: chars[start..<i], as: UTF8.self)), number.isFinite else { return nil }
        var end = chars.count
        while end > i, chars[end - 1] == 0x20 || chars[end - 1] == 0x09 { end -= 1 }
        var unitStart = i
        while unitStart < end, chars[unitStart] == 0x20 || chars[unitStart] == 0x09 { unitStart += 1 }
        let unit = String(decoding: chars[unitStart..<end], as: UTF8.self)
        for d in dimensions {
            if let match = d.units.first(where: { $0.name == unit }) {
                let value = number * match.toSI
                return value.isFinite ? (value, d) : nil
            }
        }
        return nil
    }
}
