import TouchdownSim
import TouchdownTrace

/// `touchdown demo`: a list of plans. It flies the three scenarios with the
/// reference guidance, then replays them with the faults the project exists
/// for; each plan says the outcome it expects.
public enum Demo {
    public struct Case: Sendable {
        public var name: String
        public var plan: ReplayPlan
    }

    /// The cases, in the order they run: the flights first, since the
    /// replays read the traces they record.
    public static func cases(scenarios: String, outputFolder out: String) throws -> [Case] {
        func fly(_ scenario: String, expect: String) throws -> Case {
            Case(name: "fly \(scenario)", plan: ReplayPlan(
                source: .scenario(path: "\(scenarios)/\(scenario).yaml"), expectation: try Expectation(parsing: expect),
                output: "\(out)/\(scenario).mcap"))
        }
        func replay(_ name: String, _ scenario: String, _ file: String, settings: [ReplayPlan.Setting] = [],
                    faults: [String] = [], mode: Replay.Mode = .closedLoop, expect: String) throws -> Case {
            var plan = ReplayPlan(trace: "\(out)/\(scenario).mcap", guidance: .recorded(settings: settings), mode: mode,
                                  faults: try faults.map { try FaultSpec(parsing: $0) },
                                  expectation: try Expectation(parsing: expect))
            plan.output = "\(out)/\(file)"
            return Case(name: name, plan: plan)
        }
        return [
            try fly("nominal", expect: "landed"),
            try fly("m1-crater-rim", expect: "crashed"),
            try fly("m2-late-altimeter", expect: "crashed"),
            try replay("nominal open loop, recorded guidance", "nominal", "replay-nominal-open-loop.mcap", mode: .openLoop, expect: "match"),
            try replay("m1 crater rim, latching gate", "m1-crater-rim", "replay-m1-latching.mcap",
                       settings: [.init("gate", "latching")], expect: "crashed"),
            try replay("m1 crater rim, recovering gate", "m1-crater-rim", "replay-m1-recovering.mcap",
                       settings: [.init("gate", "recovering")], expect: "landed"),
            try replay("nominal, late altimeter, baseline", "nominal", "replay-nominal-late-altimeter-baseline.mcap",
                       settings: [.init("profile", "baseline")], faults: ["altimeter.acquire-below=900m"], expect: "crashed"),
            try replay("nominal, late altimeter, hardened", "nominal", "replay-nominal-late-altimeter-hardened.mcap",
                       settings: [.init("profile", "hardened")], faults: ["altimeter.acquire-below=900m"], expect: "landed"),
            try replay("nominal, altimeter latency", "nominal", "replay-nominal-altimeter-latency.mcap",
                       faults: ["altimeter.latency=1.5s"], expect: "landed"),
            try replay("nominal, IMU frame drops", "nominal", "replay-nominal-imu-drop.mcap",
                       faults: ["imu.drop=5%,burst=10"], expect: "landed"),
        ]
    }

    /// Runs every case in order.
    public static func run(_ cases: [Case]) throws -> [(name: String, result: ReplayResult)] {
        try cases.map { c in (c.name, try Replay(c.plan).run()) }
    }

    /// A metric as the table shows it: `-` when the mode has none.
    static func figure(_ r: ReplayResult, _ metric: String, _ digits: Int) -> String {
        guard let m = r.metric(metric) else { return "-" }
        guard let v = m.number else { return "not measured" }
        return formatFixed(v, digits)
    }

    /// The table `touchdown demo` prints.
    public static func table(_ rows: [(name: String, result: ReplayResult)]) -> String {
        let header = ["case", "faults", "outcome", "v_down m/s", "v_horiz m/s", "propellant kg", "expected", "verdict"]
        var cells: [[String]] = []
        for (name, r) in rows {
            let faults = r.plan.faults.isEmpty ? (r.mode == .openLoop ? "- (bit-for-bit check)" : "-")
                : r.plan.faults.map(\.text).joined(separator: " ")
            cells.append([name, faults, r.outcome, figure(r, "touchdown.vertical_speed_mps", 2),
                          figure(r, "touchdown.horizontal_speed_mps", 2), figure(r, "propellant_kg", 1),
                          r.plan.expectation.text, r.passed ? "PASS" : "FAIL"])
        }
        let widths = header.indices.map { i in ([header[i]] + cells.map { $0[i] }).map(\.count).max()! }
        func line(_ c: [String]) -> String {
            c.enumerated().map { i, s in
                i == c.count - 1 ? s : s + String(repeating: " ", count: widths[i] - s.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + cells.map(line)).joined(separator: "\n") + "\n"
    }
}
