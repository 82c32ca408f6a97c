import Crypto
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

/// One run of a campaign: what it is made of, its id and seeds, and the plan
/// that runs it.
public struct CampaignRun: Sendable, Codable, Equatable {
    /// Position in the campaign's order (sources, then guidances, matrix
    /// cells and cases, then samples).
    public var index: Int
    /// 12 hex digits of a SHA-256 over the run's inputs (source, guidance,
    /// faults, sample, campaign seed): the same run has the same id on any
    /// machine, in any order, shard or job count.
    public var id: String
    public var source: String
    public var guidance: String
    /// The matrix value of each axis, in the file's order (`none` for no fault).
    public var cell: [Axis]
    /// Which entry of `cases` this run adds, if any (0-based).
    public var caseIndex: Int?
    public var sample: Int
    /// Every fault applied: the campaign's, the cell's, the case's.
    public var faults: [String]
    /// The dispersed scenario values drawn for this sample.
    public var draws: [ScenarioOverride]
    /// Seeds the sensors' noise: the same for every run of a sample and
    /// source, so cells compare the same dispersed flights.
    public var simulationSeed: UInt64
    /// Seeds the faults' random draws: from the run id.
    public var faultSeed: UInt64
    public var plan: ReplayPlan

    public struct Axis: Sendable, Codable, Equatable {
        public var key: String
        public var value: String
    }

    enum CodingKeys: String, CodingKey {
        case index, id, source, guidance, cell, caseIndex = "case", sample, faults, draws
        case simulationSeed = "simulation_seed", faultSeed = "fault_seed", plan
    }
}

extension Campaign {
    /// The most runs a campaign may have. Every run is held in memory (about
    /// a kilobyte each) before the first one starts; a larger study is
    /// several campaigns.
    public static let maximumRuns = 1_000_000

    /// How many runs the campaign has: sources × guidances × (matrix cells
    /// + cases) × samples; nil past `Int.max`.
    public var runCount: Int? {
        func times(_ a: Int?, _ b: Int) -> Int? {
            guard let a else { return nil }
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? nil : product
        }
        var cells: Int? = 1
        for axis in matrix { cells = times(cells, axis.values.count) }
        guard let cells else { return nil }
        let (variants, overflow) = cells.addingReportingOverflow(cases.count)
        if overflow { return nil }
        return times(times(times(traces.count + scenarios.count, guidances.count), variants), samples)
    }

    /// Every run, in the campaign's order.
    /// - Throws: `CampaignError` if two runs would share an id (a campaign
    ///   that lists the same thing twice), or the campaign has no runs or
    ///   more than `maximumRuns` (counted before any is built).
    public func runs() throws -> [CampaignRun] {
        let count = runCount
        guard let count, count <= Self.maximumRuns else {
            throw CampaignError(file: file, line: 0, column: 0,
                                message: "the campaign has \(count.map(String.init) ?? "more than \(Int.max)") runs (sources × guidances × matrix cells and cases × samples); accepted: at most \(Self.maximumRuns), so split it into several campaigns")
        }
        guard count > 0 else { throw CampaignError(file: file, line: 0, column: 0, message: "the campaign has no runs") }
        var runs: [CampaignRun] = []
        runs.reserveCapacity(count)
        let sources: [(String, Bool)] = traces.map { ($0, true) } + scenarios.map { ($0, false) }
        // Matrix cells: the first axis varies slowest.
        var cells: [[(key: String, value: String, fault: FaultSpec?)]] = [[]]
        for axis in matrix {
            cells = cells.flatMap { cell in
                zip(axis.values, axis.faults).map { cell + [(axis.key, $0.0, $0.1)] }
            }
        }
        let variants: [(cell: [(key: String, value: String, fault: FaultSpec?)], caseIndex: Int?)] =
            cells.map { ($0, nil) } + cases.indices.map { ([], $0) }
        var seen: [String: Int] = [:]
        for (source, isTrace) in sources {
            for g in guidances {
                for variant in variants {
                    let caseFaults = variant.caseIndex.map { cases[$0] } ?? []
                    let all = faults + variant.cell.compactMap(\.fault) + caseFaults
                    for sample in 0..<samples {
                        let faultTexts = all.map(\.text)
                        let id = Self.runID(seed: seed, source: source, guidance: g.label, faults: faultTexts,
                                            sample: sample, mode: mode)
                        if let other = seen[id] {
                            throw CampaignError(file: file, line: 0, column: 0,
                                                message: "runs \(other) and \(runs.count) are the same run (id \(id)): the campaign lists a source, guidance or fault case twice")
                        }
                        seen[id] = runs.count
                        let simulationSeed = Self.derive(seed, "simulation", source, String(sample))
                        let dispersionSeed = Self.derive(seed, "dispersion", source, String(sample))
                        let draws = dispersions.map { d -> ScenarioOverride in
                            var rng = SeededRandom(seed: dispersionSeed, stream: d.path)
                            return ScenarioOverride(path: d.path, value: d.distribution.draw(&rng))
                        }
                        let faultSeed = Self.derive(seed, "faults", id)
                        var plan = ReplayPlan(source: isTrace ? .trace(path: resolved(source)) : .scenario(path: resolved(source)),
                                              guidance: g.guidance, mode: mode, faults: all, expectation: expectation,
                                              assertions: assertions, seed: faultSeed, stepBudget_s: stepBudget_s)
                        if mode == .closedLoop && (samples > 1 || !dispersions.isEmpty) { plan.simulationSeed = simulationSeed }
                        plan.scenarioOverrides = draws
                        runs.append(CampaignRun(index: runs.count, id: id, source: source, guidance: g.label,
                                                cell: variant.cell.map { .init(key: $0.key, value: $0.value) },
                                                caseIndex: variant.caseIndex, sample: sample, faults: faultTexts, draws: draws,
                                                simulationSeed: plan.simulationSeed ?? 0, faultSeed: faultSeed, plan: plan))
                    }
                }
            }
        }
        return runs
    }

    /// The run id: 12 hex digits (48 bits) of SHA-256 over its inputs.
    static func runID(seed: UInt64, source: String, guidance: String, faults: [String], sample: Int, mode: Replay.Mode) -> String {
        var text = "touchdown-run-v1\n\(seed)\n\(mode.rawValue)\n\(source)\n\(guidance)\n"
        for f in faults { text += "fault \(f)\n" }
        text += "sample \(sample)\n"
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.prefix(6).map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined()
    }

    /// A seed from the campaign seed and names: the first 8 bytes of a SHA-256.
    static func derive(_ seed: UInt64, _ parts: String...) -> UInt64 {
        let text = "touchdown-seed-v1\n\(seed)\n" + parts.joined(separator: "\n")
        let digest = Array(SHA256.hash(data: Array(text.utf8)))
        return digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// SHA-256 of the campaign file's text: results from another version of
    /// the file are not resumed into this one.
    public var fingerprint: String {
        SHA256.hash(data: Array(text.utf8)).prefix(8).map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined()
    }
}
