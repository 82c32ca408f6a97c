import TouchdownSim
import TouchdownTrace

/// `touchdown demo`: flies the three scenarios with the reference guidance,
/// then replays them with the faults the project exists for, and checks each
/// case's expected outcome.
public enum Demo {
    public struct Case: Sendable {
        public var name: String
        /// The trace it writes, in the output folder.
        public var file: String
        public var scenario: String
        public var settings: [(name: String, value: String)]
        public var faults: [String]
        public var mode: Replay.Mode
        /// False: fly the scenario and record it as `<scenario>.mcap`, which
        /// the replays then read.
        public var replays: Bool
        public var expected: String
    }

    public struct Row: Sendable {
        public var name: String
        public var faults: String
        public var outcome: String
        public var verticalSpeed_mps: Double?
        public var horizontalSpeed_mps: Double?
        public var propellant_kg: Double?
        public var expected: String
        public var trace: String
        public var passed: Bool { outcome == expected }
    }

    public static let cases: [Case] = [
        Case(name: "fly nominal", file: "nominal.mcap", scenario: "nominal", settings: [], faults: [], mode: .closedLoop, replays: false, expected: "landed"),
        Case(name: "fly m1-crater-rim (latching gate)", file: "m1-crater-rim.mcap", scenario: "m1-crater-rim", settings: [], faults: [], mode: .closedLoop, replays: false, expected: "crashed"),
        Case(name: "fly m2-late-altimeter (baseline)", file: "m2-late-altimeter.mcap", scenario: "m2-late-altimeter", settings: [], faults: [], mode: .closedLoop, replays: false, expected: "crashed"),
        Case(name: "nominal open loop, recorded guidance", file: "replay-nominal-open-loop.mcap", scenario: "nominal", settings: [], faults: [], mode: .openLoop, replays: true, expected: "replayed"),
        Case(name: "m1 crater rim, latching gate", file: "replay-m1-latching.mcap", scenario: "m1-crater-rim", settings: [("gate", "latching")], faults: [], mode: .closedLoop, replays: true, expected: "crashed"),
        Case(name: "m1 crater rim, recovering gate", file: "replay-m1-recovering.mcap", scenario: "m1-crater-rim", settings: [("gate", "recovering")], faults: [], mode: .closedLoop, replays: true, expected: "landed"),
        Case(name: "nominal, late altimeter, baseline", file: "replay-nominal-late-altimeter-baseline.mcap", scenario: "nominal", settings: [("profile", "baseline")], faults: ["altimeter.acquire-below=900m"], mode: .closedLoop, replays: true, expected: "crashed"),
        Case(name: "nominal, late altimeter, hardened", file: "replay-nominal-late-altimeter-hardened.mcap", scenario: "nominal", settings: [("profile", "hardened")], faults: ["altimeter.acquire-below=900m"], mode: .closedLoop, replays: true, expected: "landed"),
        Case(name: "nominal, altimeter latency", file: "replay-nominal-altimeter-latency.mcap", scenario: "nominal", settings: [], faults: ["altimeter.latency=1.5s"], mode: .closedLoop, replays: true, expected: "landed"),
        Case(name: "nominal, IMU frame drops", file: "replay-nominal-imu-drop.mcap", scenario: "nominal", settings: [], faults: ["imu.drop=5%,burst=10"], mode: .closedLoop, replays: true, expected: "landed"),
    ]

    /// Runs every case, writing traces into `outputFolder`.
    /// - Parameter scenarios: the folder holding the scenario files.
    public static func run(scenarios: String, outputFolder: String) throws -> [Row] {
        var rows: [Row] = []
        for c in cases {
            let trace = "\(outputFolder)/\(c.scenario).mcap"
            if !c.replays {
                precondition(c.file == "\(c.scenario).mcap", "a flown case records the trace its replays read")
                let scenario = try Scenario.load(path: "\(scenarios)/\(c.scenario).yaml")
                let recorder = try TraceRecorder(path: trace, options: Simulation.traceOptions)
                let o = try Simulation(scenario: scenario, settings: c.settings).run(recorder: recorder)
                let row = Row(name: c.name, faults: "-", outcome: o.kind.rawValue, verticalSpeed_mps: o.verticalSpeed_mps,
                              horizontalSpeed_mps: o.horizontalSpeed_mps, propellant_kg: o.propellant_kg,
                              expected: c.expected, trace: trace)
                rows.append(row)
                continue
            }
            let out = "\(outputFolder)/\(c.file)"
            let r = try Replay(trace: trace, guidance: .named(nil, settings: c.settings), mode: c.mode,
                               faults: try c.faults.map { try FaultSpec(parsing: $0) }, output: out).run()
            var outcome = r.outcomeName
            if c.mode == .openLoop, let d = r.divergence {
                outcome = d.divergentSteps == 0 ? "replayed" : "diverged"
            }
            let row = Row(name: c.name, faults: c.faults.isEmpty ? (c.mode == .openLoop ? "- (bit-for-bit check)" : "-") : c.faults.joined(separator: " "),
                          outcome: outcome, verticalSpeed_mps: r.outcome?.verticalSpeed_mps,
                          horizontalSpeed_mps: r.outcome?.horizontalSpeed_mps, propellant_kg: r.outcome?.propellant_kg,
                          expected: c.expected, trace: out)
            rows.append(row)
        }
        return rows
    }

    /// The table `touchdown demo` prints.
    public static func table(_ rows: [Row]) -> String {
        let header = ["case", "faults", "outcome", "v_down m/s", "v_horiz m/s", "propellant kg", "expected", "verdict"]
        let cells: [[String]] = rows.map { r in
            [r.name, r.faults, r.outcome,
             r.verticalSpeed_mps.map { formatFixed($0, 2) } ?? "-",
             r.horizontalSpeed_mps.map { formatFixed($0, 2) } ?? "-",
             r.propellant_kg.map { formatFixed($0, 1) } ?? "-",
             r.expected, r.passed ? "PASS" : "FAIL"]
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
