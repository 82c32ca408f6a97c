import TouchdownReplay
import TouchdownSim

/// One run of a plan built from the arguments; `expect` defaults to any, so
/// a test states the outcome it checks.
func replay(_ trace: String, guidance: ReplayPlan.Guidance = .recorded(), mode: Replay.Mode = .closedLoop,
            faults: [String] = [], expect: String = "any", assertions: [String] = [], tolerance: Double? = nil,
            seed: UInt64? = nil, scenario: String? = nil, output: String? = nil, stepBudget_s: Double = 1) throws -> ReplayResult {
    try Replay(plan(trace, guidance: guidance, mode: mode, faults: faults, expect: expect, assertions: assertions,
                    tolerance: tolerance, seed: seed, scenario: scenario, output: output, stepBudget_s: stepBudget_s)).run()
}

func plan(_ trace: String, guidance: ReplayPlan.Guidance = .recorded(), mode: Replay.Mode = .closedLoop,
          faults: [String] = [], expect: String = "any", assertions: [String] = [], tolerance: Double? = nil,
          seed: UInt64? = nil, scenario: String? = nil, output: String? = nil, stepBudget_s: Double = 1) throws -> ReplayPlan {
    var p = ReplayPlan(source: .trace(path: trace, scenario: scenario), guidance: guidance, mode: mode,
                       faults: try faults.map { try FaultSpec(parsing: $0) }, expectation: try Expectation(parsing: expect),
                       assertions: try assertions.map { try Assertion(parsing: $0) },
                       tolerances: tolerance.map { [ReplayPlan.Tolerance(field: nil, value: $0)] } ?? [], seed: seed,
                       stepBudget_s: stepBudget_s)
    p.output = output
    return p
}

/// The recorded guidance with these settings on top.
func recordedWith(_ pairs: (String, String)...) -> ReplayPlan.Guidance {
    .recorded(settings: pairs.map { ReplayPlan.Setting($0.0, $0.1) })
}

extension ReplayResult {
    var report: String { ReplayReport.text(self) }
    func number(_ metric: String) -> Double? { self.metric(metric)?.number }
}
