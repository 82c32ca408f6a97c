/// Renders a fault from its fields in the spec syntax, in one canonical
/// form: each number in the unit that reads back to exactly the same value
/// (the shortest such text), options only where they differ from the
/// defaults, a time window before an altitude window.
enum FaultText {
    static func render(_ f: FaultSpec) -> String {
        var s = "\(f.topic.rawValue).\(f.kind.rawValue)"
        let topicFields = SensorFields.names(f.topic)
        var options: [String] = []
        /// `field=NAME` when one field of several is chosen.
        func fieldOption(among candidates: [Int]) {
            if f.fields != candidates, f.fields.count == 1 { options.append("field=\(topicFields[f.fields[0]].name)") }
        }
        func ofDimension(_ d: FaultDimension) -> [Int] { topicFields.indices.filter { topicFields[$0].dimension == d } }
        let dimension = f.fields.first.map { topicFields[$0].dimension }
        switch f.kind {
        case .latency, .commandLatency:
            s += "=" + quantity(f.amount, .time)
            if f.jitter_ns > 0 { options.append("jitter=" + nanoseconds(f.jitter_ns)) }
        case .drop:
            s += "=" + quantity(f.probability, .fraction)
            if f.burst != 1 { options.append("burst=\(f.burst)") }
        case .blackout, .stuckThrottle:
            break
        case .stuck:
            fieldOption(among: Array(topicFields.indices))
        case .bias, .noise:
            if let d = dimension {
                s += "=" + quantity(f.amount, d)
                fieldOption(among: ofDimension(d))
            }
        case .drift:
            if let d = dimension {
                s += "=" + quantity(f.amount, d) + "/s"
                fieldOption(among: ofDimension(d))
            }
        case .scale:
            s += "=" + quantity(f.amount, .fraction)
            fieldOption(among: Array(topicFields.indices))
        case .spike:
            s += "=" + quantity(f.probability, .fraction)
            if let size = f.size, let d = dimension {
                options.append("size=" + quantity(size, d))
                fieldOption(among: ofDimension(d))
            } else {
                fieldOption(among: Array(topicFields.indices))
            }
        case .nan:
            if f.probability != 1 { s += "=" + quantity(f.probability, .fraction) }
            fieldOption(among: Array(topicFields.indices))
        case .reorder, .duplicate:
            s += "=" + quantity(f.probability, .fraction)
        case .acquireBelow, .maxRange:
            s += "=" + quantity(f.amount, .length)
        case .thrustShortfall:
            s += "=" + quantity(f.amount, .fraction)
            if f.group != .all { options.append("group=\(f.group.rawValue)") }
        case .engineOut:
            s += "=\(f.group.rawValue)"
        }
        for o in options { s += "," + o }
        let w = f.window
        if w.from_ns != nil || w.to_ns != nil {
            s += "@" + (w.from_ns.map(nanoseconds) ?? "") + ".." + (w.to_ns.map(nanoseconds) ?? "")
        }
        if w.altitudeMin_m != nil || w.altitudeMax_m != nil {
            s += "@" + (w.altitudeMin_m.map { quantity($0, .length) } ?? "") + ".." + (w.altitudeMax_m.map { quantity($0, .length) } ?? "")
        }
        return s
    }

    /// A number as Swift prints it (the shortest text that reads back to
    /// it), without a trailing `.0`.
    static func number(_ v: Double) -> String {
        var t = "\(v)"
        if t.hasSuffix(".0") { t.removeLast(2) }
        return t
    }

    /// The value in the first unit of the dimension whose text reads back to
    /// exactly the value; the SI unit when none does.
    static func quantity(_ v: Double, _ d: FaultDimension) -> String {
        var best: String?
        for (unit, factor) in d.units {
            let text = number(v / factor) + unit
            guard let back = parseFaultQuantity(text), back.0 == v, back.1 == d else { continue }
            if best == nil || text.count < best!.count { best = text }
        }
        return best ?? number(v) + (d.units.first { $0.1 == 1 }?.0 ?? "")
    }

    /// A time of whole nanoseconds as exact decimal seconds (`120s`,
    /// `0.25s`), or in nanoseconds when that would not read back the same.
    static func nanoseconds(_ t: UInt64) -> String {
        var fraction = String(t % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let text = "\(t / 1_000_000_000)" + (fraction.isEmpty ? "" : "." + fraction) + "s"
        if let back = parseFaultQuantity(text), UInt64((back.0 * 1e9).rounded()) == t { return text }
        return "\(t)ns"
    }
}
