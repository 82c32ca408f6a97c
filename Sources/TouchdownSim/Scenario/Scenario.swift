import Foundation
import Yams

/// A value of a scenario file replaced before it is read: `path` names it
/// (dotted, as written in the file), `value` is the new text (`25012.5 m`).
public struct ScenarioOverride: Codable, Sendable, Equatable {
    public var path: String
    public var value: String
    public init(path: String, value: String) {
        self.path = path
        self.value = value
    }

    static func replace(in node: Node, at path: ArraySlice<String>, with value: String, file: String, full: String) throws -> Node {
        guard let head = path.first else {
            guard case .scalar = node else {
                throw ScenarioSection.error(file, node, "\(full) is a section, not a value: name one of its values")
            }
            var scalar = Node.Scalar(value)
            scalar.mark = node.mark
            return .scalar(scalar)
        }
        let done = full.split(separator: ".").dropLast(path.count).joined(separator: ".")
        let here = done.isEmpty ? "the top level" : done
        switch node {
        case .mapping(var mapping):
            guard let key = mapping.first(where: { $0.key.string == head })?.key, let child = mapping[key] else {
                let keys = mapping.compactMap { $0.key.string }.joined(separator: ", ")
                throw ScenarioSection.error(file, node, "\(full): this scenario has no '\(head)' at \(here) (it has: \(keys))")
            }
            mapping[key] = try replace(in: child, at: path.dropFirst(), with: value, file: file, full: full)
            return .mapping(mapping)
        case .sequence(var sequence):
            guard let i = Int(head), i >= 0, i < sequence.count else {
                throw ScenarioSection.error(file, node, "\(full): \(here) is a list of \(sequence.count); '\(head)' is not an index into it (0 to \(sequence.count - 1))")
            }
            let index = sequence.index(sequence.startIndex, offsetBy: i)
            sequence[index] = try replace(in: sequence[index], at: path.dropFirst(), with: value, file: file, full: full)
            return .sequence(sequence)
        default:
            throw ScenarioSection.error(file, node, "\(full): \(here) is a value, it has no '\(head)'")
        }
    }
}

/// Everything a simulated descent depends on, read from a YAML file in
/// `fixtures/scenarios/`. All values are SI inside; the file writes units.
/// See docs/scenarios.md for every key.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var step_ns: UInt64
    public var maxDuration_s: Double
    public var moon: Moon
    public var vehicle: Vehicle
    public var initial: Initial
    public var navigationError: NavigationError
    public var terrain: TerrainSpec
    public var sensors: Sensors
    public var guidance: GuidanceSettings
    public var recording: Recording
    public var limits: Limits
    /// The file's text, stored in every trace so a trace alone can be flown again.
    public var sourceText: String
    public var sourceName: String

    public struct Moon: Sendable {
        public var gm_m3ps2 = 4.9028e12
        public var radius_m = 1_737_400.0
    }

    public struct Vehicle: Sendable {
        public var initialMass_kg: Double
        public var dryMass_kg: Double
        public var isp_s: Double
        public var mainThrust_n: Double
        public var mainMinThrottle_fraction: Double
        public var thrusterCount: Int
        public var thrusterThrust_n: Double
        public var engineTimeConstant_s: Double
        public var attitudeTimeConstant_s: Double
        public var attitudeRateLimit_radps: Double
        public var maxThrust_n: Double { mainThrust_n + Double(thrusterCount) * thrusterThrust_n }

        public init(initialMass_kg: Double, dryMass_kg: Double, isp_s: Double, mainThrust_n: Double,
                    mainMinThrottle_fraction: Double, thrusterCount: Int, thrusterThrust_n: Double,
                    engineTimeConstant_s: Double, attitudeTimeConstant_s: Double, attitudeRateLimit_radps: Double) {
            self.initialMass_kg = initialMass_kg
            self.dryMass_kg = dryMass_kg
            self.isp_s = isp_s
            self.mainThrust_n = mainThrust_n
            self.mainMinThrottle_fraction = mainMinThrottle_fraction
            self.thrusterCount = thrusterCount
            self.thrusterThrust_n = thrusterThrust_n
            self.engineTimeConstant_s = engineTimeConstant_s
            self.attitudeTimeConstant_s = attitudeTimeConstant_s
            self.attitudeRateLimit_radps = attitudeRateLimit_radps
        }
    }

    /// Where powered descent begins, relative to the landing site.
    public struct Initial: Sendable {
        /// Above the landing site's elevation.
        public var altitude_m: Double
        /// Along the ground track from the start to the site.
        public var downrangeToSite_m: Double
        public var horizontalSpeed_mps: Double
        public var verticalSpeed_mps: Double
        public var pitch_rad: Double
    }

    /// How wrong the navigation state guidance starts from is (truth minus
    /// nothing: these are added to the true state), and what it is told the
    /// uncertainty is.
    public struct NavigationError: Sendable {
        public var altitude_m = 0.0
        public var downrange_m = 0.0
        public var verticalSpeed_mps = 0.0
        public var horizontalSpeed_mps = 0.0
        public var altitudeSigma_m = 100.0
        public var speedSigma_mps = 1.0
    }

    public struct TerrainSpec: Sendable {
        /// A CSV profile (downrange_m,elevation_m), resolved against the scenario's folder.
        public var profilePath: String?
        public var profile: [(downrange_m: Double, elevation_m: Double)] = []
        /// The profile file's text, as read: stored in traces beside the
        /// scenario so that a trace alone flies the same terrain.
        public var profileText: String?
        public var features: [TerrainFeature] = []
    }

    public struct Sensors: Sendable {
        public var imu: Imu
        public var altimeter: Altimeter
        public var velocimeter: Velocimeter
        public var attitude: Attitude

        public struct Imu: Sendable {
            public var rate_hz: Double
            public var accelNoise_mps2: Double
            public var accelBias_mps2: Double
            public var rateNoise_radps: Double
            public var rateBias_radps: Double
        }
        public struct Altimeter: Sendable {
            public var rate_hz: Double
            public var maxRange_m: Double
            public var noise_m: Double
            /// Beam angle from the local vertical beyond which no echo returns.
            public var maxIncidence_rad: Double
            /// No valid range while the vehicle is higher than this above the ground (the 2025 fault).
            public var acquireBelow_m: Double?
        }
        public struct Velocimeter: Sendable {
            public var rate_hz: Double
            public var maxRange_m: Double
            public var noise_mps: Double
        }
        public struct Attitude: Sendable {
            public var rate_hz: Double
            public var noise_rad: Double
        }
    }

    public struct GuidanceSettings: Sendable {
        public var rate_hz: Double
        /// The guidance flown when the command line names none.
        public var name: String
        /// Parameter settings applied before the command line's `--set`s.
        public var parameters: [(name: String, value: String)]
    }

    public struct Recording: Sendable {
        public var truthRate_hz: Double
        /// The start of descent as nanoseconds since 1970-01-01T00:00:00Z:
        /// the traces' clock (`Epoch`).
        public var epoch_ns: UInt64 = Epoch.defaultEpoch_ns
    }

    /// Touchdown acceptance: within the first three is `landed`; beyond any
    /// crash limit is `crashed`; between is `hard-landing`.
    public struct Limits: Sendable {
        public var verticalSpeed_mps: Double
        public var horizontalSpeed_mps: Double
        public var tilt_rad: Double
        public var crashVerticalSpeed_mps: Double
        public var crashHorizontalSpeed_mps: Double
        public var crashTilt_rad: Double
    }
}

/// A shape added to the terrain's elevation along the track.
public enum TerrainFeature: Sendable, Equatable {
    /// A parabolic depression `depth_m` deep, `radius_m` in radius.
    case bowl(center_m: Double, radius_m: Double, depth_m: Double)
    /// A bowl with a raised rim of `rimHeight_m` and half-width `rimWidth_m` at its edge.
    case crater(center_m: Double, radius_m: Double, depth_m: Double, rimHeight_m: Double, rimWidth_m: Double)
    /// A change of level by `rise_m` (negative drops) over `width_m`, centred at `at_m`.
    case cliff(at_m: Double, width_m: Double, rise_m: Double)
}

extension Scenario {
    /// Reads and checks a scenario file. Errors name the file, the line and what is accepted.
    public static func load(path: String, overrides: [ScenarioOverride] = []) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(file: path, line: 0, column: 0, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, line: 0, column: 0, message: "not UTF-8 text")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text: text, file: path, folder: folder, overrides: overrides)
    }

    /// Parses scenario text. A terrain profile named in it is taken from
    /// `attachedFiles` (by the name as written: a trace's attachments), else
    /// read from disk, a relative path resolved against `folder`.
    ///
    /// `overrides` replace values of the file before it is read (a campaign's
    /// dispersions): each names an existing value by its dotted path
    /// (`initial.altitude`; a number picks an element of a list,
    /// `terrain.features.0.bowl.depth`) and gives the new value as the file
    /// would write it (`25012.5 m`). They are checked like the file's own.
    public static func parse(text: String, file: String, folder: String?,
                             attachedFiles: [(name: String, text: String)] = [],
                             overrides: [ScenarioOverride] = []) throws -> Scenario {
        var root = try ScenarioError.composeYAML(text, file: file)
        for o in overrides {
            let segments = o.path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !o.path.isEmpty, !segments.contains(where: \.isEmpty) else {
                throw ScenarioError(file: file, line: 0, column: 0, message: "'\(o.path)' is not a field path (names joined by dots)")
            }
            root = try ScenarioOverride.replace(in: root, at: segments[...], with: o.value, file: file, full: o.path)
        }
        var top = try ScenarioSection(file: file, path: "", node: root)
        let name = try top.string("name") ?? { throw top.missing("name") }()
        let description = try top.string("description", default: "")
        let seed = try top.seed("seed") ?? 1
        let step_s = try top.quantity("step", .time, in: 1e-4...0.1, default: 1e-3)
        let step_ns = UInt64((step_s * 1e9).rounded())
        let maxDuration_s = try top.quantity("max_duration", .time, in: 1...36_000, default: 1_800)

        var moon = Moon()
        if var m = try top.section("moon") {
            moon.gm_m3ps2 = try m.quantity("gm", .gravitationalParameter, in: 1e9...1e16, default: moon.gm_m3ps2)
            moon.radius_m = try m.quantity("radius", .length, in: 1e3...1e8, default: moon.radius_m)
            try m.finish()
        }

        var v = try top.requiredSection("vehicle")
        let dry = try v.requiredQuantity("dry_mass", .mass, in: 1...1e6)
        let vehicle = Vehicle(
            initialMass_kg: try v.requiredQuantity("initial_mass", .mass, in: dry...1e6),
            dryMass_kg: dry,
            isp_s: try v.requiredQuantity("isp", .time, in: 1...1_000),
            mainThrust_n: try v.requiredQuantity("main_engine_thrust", .force, in: 0...1e7),
            mainMinThrottle_fraction: try v.quantity("main_engine_min_throttle", .fraction, in: 0...1, default: 0.2),
            thrusterCount: try v.integer("thruster_count", in: 0...64) ?? 0,
            thrusterThrust_n: try v.quantity("thruster_thrust", .force, in: 0...1e7, default: 0),
            engineTimeConstant_s: try v.quantity("engine_time_constant", .time, in: 0...10, default: 0.1),
            attitudeTimeConstant_s: try v.quantity("attitude_time_constant", .time, in: 0.01...100, default: 1),
            attitudeRateLimit_radps: try v.quantity("attitude_rate_limit", .angularRate, in: 1e-3...10, default: 10 * .pi / 180))
        try v.finish()

        var i = try top.requiredSection("initial")
        let initial = Initial(
            altitude_m: try i.requiredQuantity("altitude", .length, in: 1...500_000),
            downrangeToSite_m: try i.requiredQuantity("downrange_to_site", .length, in: 0...5_000_000),
            horizontalSpeed_mps: try i.requiredQuantity("horizontal_speed", .speed, in: -5_000...5_000),
            verticalSpeed_mps: try i.quantity("vertical_speed", .speed, in: -5_000...5_000, default: 0),
            pitch_rad: try i.quantity("pitch", .angle, in: -.pi...(.pi), default: 0))
        try i.finish()

        var navigationError = NavigationError()
        if var n = try top.section("navigation_error") {
            navigationError.altitude_m = try n.quantity("altitude", .length, in: -100_000...100_000, default: 0)
            navigationError.downrange_m = try n.quantity("downrange", .length, in: -1e6...1e6, default: 0)
            navigationError.verticalSpeed_mps = try n.quantity("vertical_speed", .speed, in: -1_000...1_000, default: 0)
            navigationError.horizontalSpeed_mps = try n.quantity("horizontal_speed", .speed, in: -1_000...1_000, default: 0)
            navigationError.altitudeSigma_m = try n.quantity("altitude_sigma", .length, in: 0.1...100_000, default: 100)
            navigationError.speedSigma_mps = try n.quantity("speed_sigma", .speed, in: 0.01...1_000, default: 1)
            try n.finish()
        }

        var terrain = TerrainSpec()
        if var t = try top.section("terrain") {
            if let p = try t.string("profile") {
                terrain.profilePath = p
                let profileText: String
                if let attached = attachedFiles.last(where: { $0.name == p }) {
                    profileText = attached.text
                } else if let folder {
                    let resolved = p.hasPrefix("/") ? p : (folder as NSString).appendingPathComponent(p)
                    guard let data = FileManager.default.contents(atPath: resolved), let text = String(data: data, encoding: .utf8) else {
                        throw ScenarioSection.error(file, t.node["profile"], "terrain.profile: cannot read \(resolved)")
                    }
                    profileText = text
                } else {
                    throw ScenarioSection.error(file, t.node["profile"], "terrain.profile: \(p) is not stored beside the scenario (a text/csv attachment of that name)")
                }
                terrain.profileText = profileText
                terrain.profile = try parseProfile(text: profileText, path: p)
            }
            if let list = t.node("features") {
                guard case .sequence(let items) = list else {
                    throw ScenarioSection.error(file, list, "terrain.features must be a list of bowl, crater or cliff entries")
                }
                for (index, item) in items.enumerated() {
                    terrain.features.append(try feature(item, file: file, path: "terrain.features[\(index)]"))
                }
            }
            try t.finish()
        }

        var s = try top.requiredSection("sensors")
        var imu = try s.requiredSection("imu")
        var alt = try s.requiredSection("altimeter")
        var vel = try s.requiredSection("velocimeter")
        var att = try s.requiredSection("attitude")
        let rates = 0.01...10_000.0
        let sensors = Sensors(
            imu: .init(rate_hz: try imu.requiredQuantity("rate", .frequency, in: rates),
                       accelNoise_mps2: try imu.quantity("accel_noise", .acceleration, in: 0...10, default: 0),
                       accelBias_mps2: try imu.quantity("accel_bias", .acceleration, in: -10...10, default: 0),
                       rateNoise_radps: try imu.quantity("rate_noise", .angularRate, in: 0...1, default: 0),
                       rateBias_radps: try imu.quantity("rate_bias", .angularRate, in: -1...1, default: 0)),
            altimeter: .init(rate_hz: try alt.requiredQuantity("rate", .frequency, in: rates),
                             maxRange_m: try alt.requiredQuantity("max_range", .length, in: 1...1e6),
                             noise_m: try alt.quantity("noise", .length, in: 0...1_000, default: 0),
                             maxIncidence_rad: try alt.quantity("max_incidence", .angle, in: 0...(.pi / 2), default: 60 * .pi / 180),
                             acquireBelow_m: try alt.quantity("acquire_below", .length, in: 0...1e6)),
            velocimeter: .init(rate_hz: try vel.requiredQuantity("rate", .frequency, in: rates),
                               maxRange_m: try vel.requiredQuantity("max_range", .length, in: 1...1e6),
                               noise_mps: try vel.quantity("noise", .speed, in: 0...100, default: 0)),
            attitude: .init(rate_hz: try att.requiredQuantity("rate", .frequency, in: rates),
                            noise_rad: try att.quantity("noise", .angle, in: 0...1, default: 0)))
        try imu.finish(); try alt.finish(); try vel.finish(); try att.finish()
        try s.finish()

        var g = try top.requiredSection("guidance")
        var parameters: [(String, String)] = []
        if var p = try g.section("parameters") {
            guard case .mapping(let mapping) = p.node else { preconditionFailure("checked by ScenarioSection") }
            for (k, _) in mapping {
                let key = k.string ?? ""
                parameters.append((key, try p.string(key) ?? ""))
            }
            try p.finish()
        }
        let guidance = GuidanceSettings(
            rate_hz: try g.requiredQuantity("rate", .frequency, in: rates),
            name: try g.string("name", default: "reference"),
            parameters: parameters)
        try g.finish()

        var recording = Recording(truthRate_hz: 10)
        if var r = try top.section("recording") {
            recording.truthRate_hz = try r.quantity("truth_rate", .frequency, in: rates, default: 10)
            if let text = try r.string("epoch") {
                guard let epoch = Epoch.parse(text) else {
                    throw ScenarioSection.error(file, r.node["epoch"], "recording.epoch '\(text)' is not accepted: \(Epoch.accepted)")
                }
                recording.epoch_ns = epoch
            }
            try r.finish()
        }

        var l = try top.requiredSection("limits")
        let limits = Limits(
            verticalSpeed_mps: try l.requiredQuantity("vertical_speed", .speed, in: 0...1_000),
            horizontalSpeed_mps: try l.requiredQuantity("horizontal_speed", .speed, in: 0...1_000),
            tilt_rad: try l.requiredQuantity("tilt", .angle, in: 0...(.pi / 2)),
            crashVerticalSpeed_mps: try l.quantity("crash_vertical_speed", .speed, in: 0...1_000, default: 5),
            crashHorizontalSpeed_mps: try l.quantity("crash_horizontal_speed", .speed, in: 0...1_000, default: 3),
            crashTilt_rad: try l.quantity("crash_tilt", .angle, in: 0...(.pi / 2), default: 30 * .pi / 180))
        try l.finish()
        try top.finish()

        let scenario = Scenario(
            name: name, description: description, seed: seed, step_ns: step_ns, maxDuration_s: maxDuration_s,
            moon: moon, vehicle: vehicle, initial: initial, navigationError: navigationError, terrain: terrain,
            sensors: sensors, guidance: guidance, recording: recording, limits: limits,
            sourceText: text, sourceName: (file as NSString).lastPathComponent)
        try scenario.checkSchedules(file: file, root: root)
        return scenario
    }

    /// Every rate must give a whole number of simulation steps per period.
    func checkSchedules(file: String, root: Node) throws {
        let rates: [(String, Double)] = [
            ("sensors.imu.rate", sensors.imu.rate_hz), ("sensors.altimeter.rate", sensors.altimeter.rate_hz),
            ("sensors.velocimeter.rate", sensors.velocimeter.rate_hz), ("sensors.attitude.rate", sensors.attitude.rate_hz),
            ("guidance.rate", guidance.rate_hz), ("recording.truth_rate", recording.truthRate_hz),
        ]
        for (key, rate) in rates where Scenario.period_ns(rate: rate, step_ns: step_ns) == nil {
            throw ScenarioError(file: file, line: Scenario.line(of: key, in: root), column: 1,
                message: "\(key) = \(rate) Hz is not a whole number of \(Double(step_ns) / 1e6) ms steps per period; choose a rate that divides \(1e9 / Double(step_ns)) Hz")
        }
    }

    /// The sampling period in nanoseconds, if it is a whole number of steps.
    public static func period_ns(rate: Double, step_ns: UInt64) -> UInt64? {
        let period = (1e9 / rate).rounded()
        guard period >= Double(step_ns), period.truncatingRemainder(dividingBy: Double(step_ns)) == 0,
              abs(period - 1e9 / rate) < 0.5 else { return nil }
        return UInt64(period)
    }

    static func line(of dottedKey: String, in root: Node) -> Int {
        var node = root
        for part in dottedKey.split(separator: ".") {
            guard let next = node[String(part)] else { return node.mark?.line ?? 0 }
            node = next
        }
        return node.mark?.line ?? 0
    }

    static func feature(_ node: Node, file: String, path: String) throws -> TerrainFeature {
        guard case .mapping(let mapping) = node, mapping.count == 1, let (kind, body) = mapping.first.map({ ($0.key.string ?? "", $0.value) }) else {
            throw ScenarioSection.error(file, node, "\(path) must be one of: bowl: {...}, crater: {...}, cliff: {...}")
        }
        var f = try ScenarioSection(file: file, path: "\(path).\(kind)", node: body)
        let feature: TerrainFeature
        switch kind {
        case "bowl":
            feature = .bowl(center_m: try f.requiredQuantity("at", .length, in: -1e7...1e7),
                            radius_m: try f.requiredQuantity("radius", .length, in: 1...1e6),
                            depth_m: try f.requiredQuantity("depth", .length, in: -1e5...1e5))
        case "crater":
            feature = .crater(center_m: try f.requiredQuantity("at", .length, in: -1e7...1e7),
                              radius_m: try f.requiredQuantity("radius", .length, in: 1...1e6),
                              depth_m: try f.requiredQuantity("depth", .length, in: -1e5...1e5),
                              rimHeight_m: try f.quantity("rim_height", .length, in: 0...1e5, default: 0),
                              rimWidth_m: try f.quantity("rim_width", .length, in: 1...1e6, default: 100))
        case "cliff":
            feature = .cliff(at_m: try f.requiredQuantity("at", .length, in: -1e7...1e7),
                             width_m: try f.requiredQuantity("width", .length, in: 1...1e6),
                             rise_m: try f.requiredQuantity("rise", .length, in: -1e5...1e5))
        default:
            throw ScenarioSection.error(file, mapping.first?.key, "unknown terrain feature \"\(kind)\" at \(path); accepted: bowl, crater, cliff")
        }
        try f.finish()
        return feature
    }

    /// A CSV of `downrange_m,elevation_m` rows (a header line is allowed),
    /// downrange strictly increasing.
    static func parseProfile(text: String, path: String) throws -> [(downrange_m: Double, elevation_m: Double)] {
        var rows: [(Double, Double)] = []
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2, let d = Double(cells[0]), let e = Double(cells[1]), d.isFinite, e.isFinite else {
                if rows.isEmpty && n == 0 { continue }  // header
                throw ScenarioError(file: path, line: n + 1, column: 1, message: "expected two numbers, downrange_m,elevation_m; got \"\(line)\"")
            }
            if let last = rows.last, d <= last.0 {
                throw ScenarioError(file: path, line: n + 1, column: 1, message: "downrange \(d) m does not increase (previous row \(last.0) m)")
            }
            rows.append((d, e))
        }
        guard rows.count >= 2 else {
            throw ScenarioError(file: path, line: 0, column: 0, message: "a terrain profile needs at least two rows")
        }
        return rows
    }
}

/// Where a YAML file is broken, for messages in the file:line:column form
/// (scenario and campaign files alike).
extension YamlError {
    public var line: Int {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 0
        }
    }
    public var column: Int {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.column
        default: 0
        }
    }
    public var problem: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(self)"
        }
    }
}
