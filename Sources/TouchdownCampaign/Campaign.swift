import Foundation
import TouchdownReplay
import TouchdownSim
import Yams

/// A campaign file that cannot be used: where (file, line, column) and what
/// is accepted, as for scenario files. Bad input: exit 2, before any run starts.
public typealias CampaignError = ScenarioError

/// A fault-injection campaign, as its YAML file describes it
/// (docs/campaigns.md): sources × guidances × matrix cells and cases ×
/// Monte Carlo samples, each run a `ReplayPlan`.
public struct Campaign: Sendable {
    /// One value of the guidance axis.
    public struct GuidanceChoice: Sendable, Equatable {
        public var guidance: ReplayPlan.Guidance
        /// How results name it: `reference profile=hardened`, `lib:path`, `cmd:…`.
        public var label: String
    }

    /// One matrix axis: a fault target (`altimeter.latency`) and its values.
    public struct Axis: Sendable {
        public var key: String
        /// As written (`0.5s`, `5%,burst=10`, `none`).
        public var values: [String]
        /// The fault each value adds (none for `none`).
        public var faults: [FaultSpec?]
    }

    /// A scenario value drawn for each Monte Carlo sample.
    public struct Dispersion: Sendable {
        public var path: String
        public var distribution: Distribution
        public var line: Int
        public var column: Int
    }

    /// The file as given, and the folder its relative paths start from.
    public var file: String
    public var folder: String
    public var name: String
    public var seed: UInt64
    /// Trace and scenario paths as written or matched, relative to `folder`
    /// unless absolute: what run ids are made from.
    public var traces: [String] = []
    public var scenarios: [String] = []
    public var guidances: [GuidanceChoice] = []
    public var mode: Replay.Mode = .closedLoop
    public var faults: [FaultSpec] = []
    public var matrix: [Axis] = []
    public var cases: [[FaultSpec]] = []
    public var samples = 1
    public var dispersions: [Dispersion] = []
    public var expectation: Expectation?
    public var assertions: [Assertion] = []
    public var runTimeout_s: Double = 60
    /// The most resident memory a worker may hold while it runs a run (its
    /// own ~30 MiB included); past it the run is an error and the worker is
    /// replaced: a guidance that leaks costs its one run.
    public var runMemory_bytes: UInt64 = 4 << 30
    public var stepBudget_s: Double = 1
    /// The file's text, for the campaign's fingerprint.
    public var text: String

    /// A path of the campaign as the file system finds it.
    public func resolved(_ path: String) -> String {
        path.hasPrefix("/") || folder.isEmpty ? path : folder + "/" + path
    }

    public static func load(path: String) throws -> Campaign {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CampaignError(file: path, line: 0, column: 0, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CampaignError(file: path, line: 0, column: 0, message: "not UTF-8 text")
        }
        return try parse(text: text, file: path, folder: (path as NSString).deletingLastPathComponent)
    }

    static let topKeys = ["name", "seed", "source", "guidance", "mode", "faults", "matrix", "cases", "samples",
                          "dispersions", "expect", "assert", "limits"]

    public static func parse(text: String, file: String, folder: String) throws -> Campaign {
        let root = try CampaignError.composeYAML(text, file: file)
        let y = YAMLReader(file: file)
        let top = try y.mapping(root, "the file", accepted: topKeys)
        guard let nameNode = top["name"] else { throw y.error(root, "name is missing: every campaign has a name") }
        var campaign = Campaign(file: file, folder: folder, name: try y.string(nameNode, "name"), seed: 1, text: text)
        if let s = top["seed"] {
            guard let v = UInt64(try y.string(s, "seed")) else { throw y.error(s, "seed must be a whole number from 0 to 2^64-1") }
            campaign.seed = v
        }

        // Sources.
        guard let sourceNode = top["source"] else { throw y.error(root, "source is missing: give source.traces and/or source.scenarios") }
        let source = try y.mapping(sourceNode, "source", accepted: ["traces", "scenarios"])
        for (key, node) in [("traces", source["traces"]), ("scenarios", source["scenarios"])] {
            guard let node else { continue }
            for item in try y.list(node, "source.\(key)") {
                let pattern = try y.string(item, "source.\(key)")
                let matches = Self.glob(pattern, in: folder)
                guard !matches.isEmpty else {
                    throw y.error(item, "source.\(key): \"\(pattern)\" matches no file (paths are relative to \(folder.isEmpty ? "the current folder" : folder))")
                }
                if key == "traces" { campaign.traces += matches } else { campaign.scenarios += matches }
            }
        }
        guard !campaign.traces.isEmpty || !campaign.scenarios.isEmpty else {
            throw y.error(sourceNode, "source names no trace and no scenario")
        }

        // Mode first: what else is accepted depends on it.
        if let m = top["mode"] {
            let text = try y.string(m, "mode")
            guard let mode = Replay.Mode(rawValue: text) else { throw y.error(m, "mode \"\(text)\": accepted: closed-loop, open-loop") }
            campaign.mode = mode
        }
        if campaign.mode == .openLoop && !campaign.scenarios.isEmpty {
            throw y.error(sourceNode, "open loop replays recorded traces; source.scenarios can only be flown (mode: closed-loop)")
        }

        // Guidance: one or a list.
        if let g = top["guidance"] {
            let items: [Node]
            if case .sequence = g { items = try y.list(g, "guidance") } else { items = [g] }
            guard !items.isEmpty else { throw y.error(g, "guidance has no entries: give at least one, or leave it out to replay the recorded commands") }
            for item in items { campaign.guidances.append(try Self.guidance(item, y)) }
        } else {
            campaign.guidances = [GuidanceChoice(guidance: .recorded(), label: "recorded")]
        }

        if let f = top["faults"] {
            for item in try y.list(f, "faults") { campaign.faults.append(try y.fault(item, "faults")) }
        }
        if let m = top["matrix"] {
            guard case .mapping(let mapping) = m else { throw y.error(m, "matrix must map fault targets (altimeter.latency) to lists of values") }
            for (k, v) in mapping {
                guard let key = k.string else { throw y.error(k, "matrix keys are fault targets, such as altimeter.latency") }
                let values = try y.list(v, "matrix.\(key)")
                guard !values.isEmpty else { throw y.error(v, "matrix.\(key) has no values: give at least one") }
                var axis = Axis(key: key, values: [], faults: [])
                for value in values {
                    let text = try y.string(value, "matrix.\(key)")
                    axis.values.append(text)
                    if text == "none" {
                        axis.faults.append(nil)
                    } else {
                        do { axis.faults.append(try FaultSpec(parsing: "\(key)=\(text)")) } catch {
                            throw y.error(value, "matrix.\(key): \"\(key)=\(text)\": \(error) (or none, for no fault on this axis)")
                        }
                    }
                }
                campaign.matrix.append(axis)
            }
        }
        if let c = top["cases"] {
            for item in try y.list(c, "cases") {
                var set: [FaultSpec] = []
                for f in try y.list(item, "cases") { set.append(try y.fault(f, "cases")) }
                campaign.cases.append(set)
            }
        }
        if let s = top["samples"] {
            guard let n = Int(try y.string(s, "samples")), (1...1_000_000).contains(n) else {
                throw y.error(s, "samples must be a whole number from 1 to 1000000")
            }
            campaign.samples = n
        }
        if let d = top["dispersions"] {
            guard case .mapping(let mapping) = d else { throw y.error(d, "dispersions must map scenario values (initial.altitude) to distributions") }
            guard campaign.mode == .closedLoop else { throw y.error(d, "dispersions change the scenario flown, which only closed loop flies") }
            for (k, v) in mapping {
                guard let path = k.string else { throw y.error(k, "dispersion keys are scenario value paths, such as initial.altitude") }
                do {
                    let distribution = try Distribution(parsing: try y.string(v, "dispersions.\(path)"))
                    campaign.dispersions.append(Dispersion(path: path, distribution: distribution,
                                                           line: k.mark?.line ?? 0, column: k.mark?.column ?? 0))
                } catch let e as DistributionError {
                    throw y.error(v, "dispersions.\(path): \(e)")
                }
            }
        }
        if let e = top["expect"] {
            let text: String
            if case .sequence = e { text = try y.list(e, "expect").map { try y.string($0, "expect") }.joined(separator: ",") } else { text = try y.string(e, "expect") }
            do { campaign.expectation = try Expectation(parsing: text) } catch { throw y.error(e, "expect: \(error)") }
        }
        if let a = top["assert"] {
            for item in try y.list(a, "assert") {
                do { campaign.assertions.append(try Assertion(parsing: try y.string(item, "assert"))) } catch let e as CampaignError {
                    throw e
                } catch {
                    throw y.error(item, "assert: \(error)")
                }
            }
        }
        if let l = top["limits"] {
            let limits = try y.mapping(l, "limits", accepted: ["run_timeout", "step_budget", "run_memory"])
            if let t = limits["run_timeout"] { campaign.runTimeout_s = try y.time(t, "limits.run_timeout", in: 0.1...86_400) }
            if let m = limits["run_memory"] { campaign.runMemory_bytes = try y.memory(m, "limits.run_memory") }
            if let b = limits["step_budget"] { campaign.stepBudget_s = try y.time(b, "limits.step_budget", in: 0.001...3_600) }
        }
        if campaign.samples > 1 && campaign.dispersions.isEmpty && campaign.mode == .openLoop {
            throw y.error(top["samples"] ?? root, "samples > 1 in open loop with no dispersions would replay the same run again")
        }
        try campaign.checkBeforeRunning(y)
        return campaign
    }

    static func guidance(_ node: Node, _ y: YAMLReader) throws -> GuidanceChoice {
        let m = try y.mapping(node, "guidance", accepted: ["name", "lib", "cmd", "recorded", "settings"])
        var settings: [ReplayPlan.Setting] = []
        if let s = m["settings"] {
            guard case .mapping(let pairs) = s else { throw y.error(s, "guidance settings must map names to values") }
            for (k, v) in pairs {
                guard let name = k.string else { throw y.error(k, "setting names are plain words") }
                settings.append(.init(name, try y.string(v, "settings.\(name)")))
            }
        }
        let given = ["name", "lib", "cmd", "recorded"].filter { m[$0] != nil }
        guard given.count == 1 else {
            throw y.error(node, "a guidance is exactly one of {name: …}, {lib: …}, {cmd: …} or {recorded: true}, with optional settings")
        }
        let settingText = settings.map { " \($0.name)=\($0.value)" }.joined()
        switch given[0] {
        case "name":
            let name = try y.string(m["name"]!, "guidance.name")
            return GuidanceChoice(guidance: .named(name: name, settings: settings), label: name + settingText)
        case "lib":
            let path = try y.string(m["lib"]!, "guidance.lib")
            return GuidanceChoice(guidance: .library(path: path, settings: settings), label: "lib:" + path + settingText)
        case "cmd":
            let line = try y.string(m["cmd"]!, "guidance.cmd")
            return GuidanceChoice(guidance: .command(line: line, settings: settings), label: "cmd:" + line + settingText)
        default:
            return GuidanceChoice(guidance: .recorded(settings: settings), label: "recorded" + settingText)
        }
    }

    /// Checks, before anything runs, that every dispersion names a value each
    /// scenario has and accepts, and that the plans are valid.
    func checkBeforeRunning(_ y: YAMLReader) throws {
        guard !dispersions.isEmpty else { return try checkPlan() }
        // Each source read once (a trace's load checks its whole data section);
        // each dispersion then applied to its scenario text.
        var sources: [(name: String, apply: ([ScenarioOverride]) throws -> Scenario)] = []
        for trace in traces {
            do {
                let loaded = try LoadedTrace(path: resolved(trace))
                sources.append((trace, loaded.scenario(overriding:)))
            } catch {
                throw CampaignError(file: file, line: 0, column: 0, message: "source \(trace): \(error)")
            }
        }
        for scenario in scenarios {
            let path = resolved(scenario)
            sources.append((scenario, { try Scenario.load(path: path, overrides: $0) }))
        }
        for d in dispersions {
            let override = ScenarioOverride(path: d.path, value: d.distribution.typical)
            for source in sources {
                do { _ = try source.apply([override]) } catch {
                    throw CampaignError(file: file, line: d.line, column: d.column,
                                        message: "dispersion \(d.path) on \(source.name): \(error)")
                }
            }
        }
        try checkPlan()
    }

    private func checkPlan() throws {
        var plan = ReplayPlan(source: .scenario(path: "x"), mode: mode, faults: faults, expectation: expectation,
                              assertions: assertions, stepBudget_s: stepBudget_s)
        if mode == .openLoop { plan.source = .trace(path: "x") }
        do { try plan.validate() } catch {
            throw CampaignError(file: file, line: 0, column: 0, message: "\(error)")
        }
    }

    /// Paths matching `pattern` (relative to `folder` unless absolute),
    /// sorted, written relative as the pattern was.
    static func glob(_ pattern: String, in folder: String) -> [String] {
        let absolute = pattern.hasPrefix("/")
        let full = absolute || folder.isEmpty ? pattern : folder + "/" + pattern
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(full, 0, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            guard let p = g.gl_pathv[i] else { continue }
            var path = String(cString: p)
            if !absolute && !folder.isEmpty { path = String(path.dropFirst(folder.count + 1)) }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full == pattern ? path : folder + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }
}

/// Reads YAML nodes with errors that name the file, line and column.
struct YAMLReader {
    let file: String

    func error(_ node: Node?, _ message: String) -> CampaignError {
        CampaignError(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, message: message)
    }

    /// A mapping's values by key, rejecting keys not in `accepted` and keys given twice.
    func mapping(_ node: Node, _ what: String, accepted: [String]) throws -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw error(node, "\(what) must be a mapping of keys to values") }
        var out: [String: Node] = [:]
        for (k, v) in mapping {
            guard let key = k.string else { throw error(k, "keys must be plain names") }
            guard accepted.contains(key) else { throw error(k, "unknown key \(key) in \(what); accepted: \(accepted.joined(separator: ", "))") }
            guard out[key] == nil else { throw error(k, "\(key) is given twice in \(what)") }
            out[key] = v
        }
        return out
    }

    func list(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let s) = node else { throw error(node, "\(what) must be a list ([a, b] or one \"- item\" per line)") }
        return Array(s)
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let s) = node else { throw error(node, "\(what) must be a single value") }
        return s.string
    }

    func fault(_ node: Node, _ what: String) throws -> FaultSpec {
        let text = try string(node, what)
        do { return try FaultSpec(parsing: text) } catch { throw self.error(node, "\(what): \(error)") }
    }

    /// A size in MiB or GiB, from 1 MiB to 1 TiB.
    func memory(_ node: Node, _ what: String) throws -> UInt64 {
        let text = try string(node, what)
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        let units: [String: Double] = ["MiB": 1_048_576, "GiB": 1_073_741_824]
        guard parts.count == 2, let n = Double(parts[0]), n.isFinite, let unit = units[String(parts[1])],
              n * unit >= 1_048_576, n * unit <= 1_099_511_627_776 else {
            throw error(node, "\(what) \"\(text)\" is not accepted: a size from 1 MiB to 1024 GiB, such as 512 MiB or 4 GiB")
        }
        return UInt64(n * unit)
    }

    func time(_ node: Node, _ what: String, in range: ClosedRange<Double>) throws -> Double {
        let text = try string(node, what)
        guard let q = Quantity.parse(text, in: [.time]) else {
            throw error(node, "\(what) \"\(text)\" is not a time; units: \(PhysicalDimension.time.acceptedList)")
        }
        guard range.contains(q.value) else { throw error(node, "\(what) \(text) is outside \(range.lowerBound) s to \(range.upperBound) s") }
        return q.value
    }
}
