import Foundation
import TouchdownSim
import TouchdownTrace

/// What a number in a fault spec measures, told by its unit: the one
/// `PhysicalDimension` table scenario files use too.
public typealias FaultDimension = PhysicalDimension

/// The numeric fields of each sensor message that value faults can change,
/// in a fixed order (the indexes `FaultSpec.fields` holds).
public enum SensorFields {
    public static func names(_ topic: FaultSpec.Topic) -> [(name: String, dimension: FaultDimension)] {
        switch topic {
        case .imu:
            [("accel_x_mps2", .acceleration), ("accel_y_mps2", .acceleration), ("accel_z_mps2", .acceleration),
             ("rate_x_radps", .angularRate), ("rate_y_radps", .angularRate), ("rate_z_radps", .angularRate)]
        case .altimeter: [("range_m", .length)]
        case .velocimeter: [("horizontal_velocity_mps", .speed), ("vertical_velocity_mps", .speed)]
        case .attitude: [("pitch_rad", .angle)]
        case .command: []
        }
    }

    /// The outlier a `spike` adds when no `size` is given.
    static func defaultSpike(_ d: FaultDimension) -> Double {
        switch d {
        case .length: 1000
        case .speed: 50
        case .acceleration: 5
        case .angularRate: 0.5
        case .angle: 0.5
        case .time, .fraction, .frequency, .mass, .force, .gravitationalParameter: 1
        }
    }
}

extension FaultSpec {
    /// Which faults each topic takes.
    public static func kinds(on topic: Topic) -> [Kind] {
        switch topic {
        case .command: Kind.allCases.filter(\.isActuator)
        case .altimeter, .velocimeter: Kind.allCases.filter { !$0.isActuator }
        case .imu, .attitude: Kind.allCases.filter { !$0.isActuator && $0 != .acquireBelow && $0 != .maxRange }
        }
    }

    /// Parses one spec. Throws `FaultSpecError` naming what was wrong.
    public init(parsing spec: String) throws {
        let text = spec.trimmingSpaces
        func fail(_ problem: String) -> FaultSpecError { .syntax(spec: text, problem: problem) }
        guard !text.isEmpty else { throw fail("empty") }
        var parts = text.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
        let head = parts.removeFirst()
        var items = head.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let main = items.removeFirst()
        let (target, value) = main.splitOnce("=")
        guard let dot = target.firstIndex(of: ".") else { throw fail("no TOPIC.KIND before \"=\"") }
        var topicName = String(target[..<dot])
        if topicName.hasPrefix("/") { topicName.removeFirst() }
        let kindName = String(target[target.index(after: dot)...])
        guard let topic = Topic(rawValue: topicName) else { throw FaultSpecError.unknownTopic(spec: text, topic: topicName) }
        guard let kind = Kind(rawValue: kindName) else { throw FaultSpecError.unknownKind(spec: text, kind: kindName) }
        guard Self.kinds(on: topic).contains(kind) else {
            throw FaultSpecError.notOnTopic(spec: text, kind: kindName, topic: topicName, accepted: Self.kinds(on: topic).map(\.rawValue))
        }

        var amount = 0.0
        var size: Double?
        var probability = 1.0
        var burst = 1
        var jitter_ns: UInt64 = 0
        var group = EngineGroup.all
        var window = Window.always
        let topicFields = SensorFields.names(topic)
        var fields = Array(topicFields.indices)

        var options: [(String, String)] = []
        for item in items {
            let (k, v) = item.splitOnce("=")
            guard let v, !k.isEmpty else { throw fail("option \"\(item)\" is not NAME=VALUE") }
            options.append((k, v))
        }
        let accepted = Self.options(for: kind)
        for (k, _) in options where !accepted.contains(k) {
            throw FaultSpecError.unknownOption(spec: text, option: k, accepted: accepted)
        }
        func option(_ name: String) -> String? { options.last { $0.0 == name }?.1 }
        func quantity(_ part: String, _ allowed: [FaultDimension]) throws -> (Double, FaultDimension) {
            guard let q = parseFaultQuantity(part), allowed.contains(q.1), q.0.isFinite else {
                let expected = allowed.map { "\("aeiou".contains($0.rawValue.first!) ? "an" : "a") \($0.rawValue) (\($0 == .fraction ? "a number or %" : $0.unitList))" }
                throw FaultSpecError.badValue(spec: text, part: part, expected: expected.joined(separator: " or "))
            }
            // Times become whole nanoseconds: bounded so that no sum of them overflows.
            if q.1 == .time, !(abs(q.0) <= FaultSpec.maximumTime_s) {
                throw FaultSpecError.badValue(spec: text, part: part, expected: "a time of at most \(Int(FaultSpec.maximumTime_s)) s")
            }
            return q
        }
        func required(_ what: String) throws -> String {
            guard let value, !value.isEmpty else { throw fail("\(kind.rawValue) needs a value: \(what)") }
            return value
        }
        func probabilityValue(_ part: String) throws -> Double {
            let (p, _) = try quantity(part, [.fraction])
            guard (0...1).contains(p) else {
                throw FaultSpecError.badValue(spec: text, part: part, expected: "a probability from 0 to 100% (or 0 to 1)")
            }
            return p
        }
        /// Restricts `fields` to those of the given dimension, and to `field=` if given.
        func selectFields(dimension: FaultDimension?) throws {
            var chosen = Array(topicFields.indices)
            if let d = dimension {
                chosen = chosen.filter { topicFields[$0].dimension == d }
                if chosen.isEmpty {
                    let ds = Set(topicFields.map(\.dimension))
                    let units = FaultDimension.allCases.filter { ds.contains($0) }.map { "\($0.rawValue) (\($0.unitList))" }
                    throw FaultSpecError.badValue(spec: text, part: value ?? "", expected: "for \(topic.rawValue) \(units.joined(separator: " or "))")
                }
            }
            if let f = option("field") {
                guard let i = topicFields.firstIndex(where: { $0.name == f }) else {
                    throw FaultSpecError.badValue(spec: text, part: "field=\(f)", expected: "a field of \(topic.rawValue): \(topicFields.map(\.name).joined(separator: ", "))")
                }
                guard chosen.contains(i) else {
                    throw FaultSpecError.badValue(spec: text, part: "field=\(f)", expected: "a field measured in the value's unit")
                }
                chosen = [i]
            }
            fields = chosen
        }
        let measured: [FaultDimension] = Array(Set(topicFields.map(\.dimension))).sorted { $0.rawValue < $1.rawValue }

        switch kind {
        case .latency, .commandLatency:
            amount = try quantity(try required("a delay such as 1.5s"), [.time]).0
            guard amount >= 0 else { throw FaultSpecError.badValue(spec: text, part: value!, expected: "a delay of 0 or more") }
            if let j = option("jitter") {
                let (js, _) = try quantity(j, [.time])
                guard js >= 0 else { throw FaultSpecError.badValue(spec: text, part: j, expected: "a jitter of 0 or more") }
                jitter_ns = UInt64((js * 1e9).rounded())
            }
        case .drop:
            probability = try probabilityValue(try required("a probability such as 5%"))
            if let b = option("burst") {
                guard let n = Int(b), n >= 1, n <= 1_000_000 else {
                    throw FaultSpecError.badValue(spec: text, part: "burst=\(b)", expected: "a whole number of messages from 1 to 1000000")
                }
                burst = n
            }
        case .blackout, .stuck, .stuckThrottle:
            if let value, !value.isEmpty { throw fail("\(kind.rawValue) takes no value, only a window (@…)") }
            if kind == .stuck { try selectFields(dimension: nil) }
        case .bias, .noise:
            let (a, d) = try quantity(try required("a quantity with its unit, such as 300m"), measured)
            if kind == .noise && a < 0 { throw FaultSpecError.badValue(spec: text, part: value!, expected: "a standard deviation of 0 or more") }
            amount = a
            try selectFields(dimension: d)
        case .drift:
            let part = try required("a rate with its unit per second, such as 2m/s for a range")
            let (a, d) = try driftQuantity(part, topicFields: topicFields, spec: text)
            amount = a
            try selectFields(dimension: d)
        case .scale:
            let (a, _) = try quantity(try required("a factor such as 1.05 or 105%"), [.fraction])
            amount = a
            try selectFields(dimension: nil)
        case .spike:
            probability = try probabilityValue(try required("a probability such as 1%"))
            if let s = option("size") {
                let (a, d) = try quantity(s, measured)
                size = a
                try selectFields(dimension: d)
            } else {
                try selectFields(dimension: nil)
            }
        case .nan:
            if let value, !value.isEmpty { probability = try probabilityValue(value) }
            try selectFields(dimension: nil)
        case .reorder, .duplicate:
            probability = try probabilityValue(try required("a probability such as 2%"))
        case .acquireBelow, .maxRange:
            amount = try quantity(try required("an altitude or range such as 900m"), [.length]).0
            guard amount > 0 else { throw FaultSpecError.badValue(spec: text, part: value!, expected: "a length above 0") }
        case .thrustShortfall:
            let part = try required("the fraction of thrust lost, such as 20%")
            amount = try quantity(part, [.fraction]).0
            guard (0...1).contains(amount) else { throw FaultSpecError.badValue(spec: text, part: part, expected: "a fraction from 0 to 100%") }
            if let g = option("group") {
                guard let eg = EngineGroup(rawValue: g) else {
                    throw FaultSpecError.badValue(spec: text, part: "group=\(g)", expected: "main, thrusters or all")
                }
                group = eg
            }
        case .engineOut:
            let part = try required("the engine group: main, thrusters or all")
            guard let eg = EngineGroup(rawValue: part) else {
                throw FaultSpecError.badValue(spec: text, part: part, expected: "main, thrusters or all")
            }
            group = eg
        }

        for w in parts {
            let (a, b) = w.splitOnce("..")
            func bound(_ s: String) throws -> (Double, FaultDimension)? {
                if s.isEmpty { return nil }
                guard let q = parseFaultQuantity(s), q.1 == .time || q.1 == .length, q.0.isFinite, q.0 >= 0 else {
                    throw FaultSpecError.badWindow(spec: text, window: w, problem: "has \"\(s)\", not a time or altitude of 0 or more")
                }
                guard q.1 != .time || q.0 <= FaultSpec.maximumTime_s else {
                    throw FaultSpecError.badWindow(spec: text, window: w, problem: "has \"\(s)\"; times in a window are at most \(Int(FaultSpec.maximumTime_s)) s")
                }
                return q
            }
            let lo = try bound(a)
            let hi = try b.map(bound) ?? nil
            guard lo != nil || hi != nil else { throw FaultSpecError.badWindow(spec: text, window: w, problem: "is empty") }
            let dims = Set([lo?.1, hi?.1].compactMap { $0 })
            guard dims.count == 1, let dim = dims.first else {
                throw FaultSpecError.badWindow(spec: text, window: w, problem: "mixes a time and an altitude")
            }
            if let l = lo?.0, let h = hi?.0, l > h {
                throw FaultSpecError.badWindow(spec: text, window: w, problem: "ends before it starts")
            }
            if dim == .time {
                if let l = lo { window.from_ns = UInt64((l.0 * 1e9).rounded()) }
                if let h = hi { window.to_ns = UInt64((h.0 * 1e9).rounded()) }
            } else {
                if let l = lo { window.altitudeMin_m = l.0 }
                if let h = hi { window.altitudeMax_m = h.0 }
            }
        }
        self.topic = topic
        self.kind = kind
        self.amount = amount
        self.size = size
        self.probability = probability
        self.burst = burst
        self.jitter_ns = jitter_ns
        self.group = group
        self.fields = fields
        self.window = window
    }

    static func options(for kind: Kind) -> [String] {
        switch kind {
        case .latency: ["jitter"]
        case .drop: ["burst"]
        case .stuck, .bias, .drift, .scale, .noise, .nan: ["field"]
        case .spike: ["size", "field"]
        case .thrustShortfall: ["group"]
        default: []
        }
    }
}

/// A drift's rate: a field's unit per second (`2m/s` on a range, `0.01m/s2/s`
/// on an acceleration, `0.1deg/s` on a pitch).
private func driftQuantity(_ part: String, topicFields: [(name: String, dimension: FaultDimension)], spec: String) throws -> (Double, FaultDimension) {
    let dims = Set(topicFields.map(\.dimension))
    if part.hasSuffix("/s"), let q = parseFaultQuantity(String(part.dropLast(2))), dims.contains(q.1), q.0.isFinite {
        return q
    }
    // A speed field drifting in m/s per second is written as an acceleration.
    if dims.contains(.speed), let q = parseFaultQuantity(part), q.1 == .acceleration, q.0.isFinite {
        return (q.0, .speed)
    }
    // An angle drifting per second is written as an angular rate.
    if dims.contains(.angle), let q = parseFaultQuantity(part), q.1 == .angularRate, q.0.isFinite {
        return (q.0, .angle)
    }
    let examples = FaultDimension.allCases.filter { dims.contains($0) }.map { "\($0.units.first { !$0.0.isEmpty }!.0)/s" }
    throw FaultSpecError.badValue(spec: spec, part: part, expected: "a rate per second: \(examples.joined(separator: ", "))")
}

/// A number with an optional sign and exponent, then a unit; nil when either
/// part is not recognised. The scenario files' parser (`Quantity`).
func parseFaultQuantity(_ text: String) -> (Double, FaultDimension)? {
    Quantity.parse(text).map { ($0.value, $0.dimension) }
}

extension String {
    var trimmingSpaces: String { trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Splits at the first occurrence of `separator`: (before, after), or (self, nil).
    func splitOnce(_ separator: String) -> (String, String?) {
        guard let r = range(of: separator) else { return (self, nil) }
        return (String(self[..<r.lowerBound]), String(self[r.upperBound...]))
    }
}

/// A file of faults, one per line (`#` starts a comment), and optionally
/// the outcome the run is expected to end with:
///
///     # the 2025 loss: no valid range above 900 m
///     altimeter.acquire-below=900m
///     expect crashed
public struct FaultFile: Sendable, Equatable {
    public var faults: [FaultSpec]
    public var expectation: Expectation?

    /// - Throws: `PlanError` naming the file, the line and what is accepted.
    public static func load(path: String) throws -> FaultFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlanError.unreadable(path: path, reason: "cannot read the fault file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PlanError.unreadable(path: path, reason: "the fault file is not UTF-8 text")
        }
        return try parse(text: text, path: path)
    }

    public static func parse(text: String, path: String) throws -> FaultFile {
        var file = FaultFile(faults: [], expectation: nil)
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).splitOnce("#").0.trimmingSpaces
            if line.isEmpty { continue }
            do {
                if line == "expect" || line.hasPrefix("expect ") || line.hasPrefix("expect:") {
                    guard file.expectation == nil else {
                        throw PlanError.faultFile(path: path, line: n + 1, problem: "a second expect line; give one, with a comma-separated list of outcomes")
                    }
                    let value = line.dropFirst("expect".count).drop { $0 == ":" || $0 == " " }
                    file.expectation = try Expectation(parsing: String(value))
                } else {
                    file.faults.append(try FaultSpec(parsing: line))
                }
            } catch let e as PlanError {
                if case .faultFile = e { throw e }
                throw PlanError.faultFile(path: path, line: n + 1, problem: "\(e)")
            } catch {
                throw PlanError.faultFile(path: path, line: n + 1, problem: "\(error)")
            }
        }
        return file
    }
}
