import ArgumentParser
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rerun guidance against a trace, with faults, and check assertions.",
        discussion: """
        closed-loop (the default) flies the scenario stored in the trace again with \
        the guidance under test and the faults; open-loop feeds the recorded sensors, \
        after faults, to the guidance and compares its outputs with the recording. \
        Without --guidance, --guidance-lib or --guidance-cmd, the guidance that \
        recorded the trace is used with its settings. Faults: docs/faults.md; \
        metrics: docs/replay.md. Exit 0 when every assertion holds, 1 when one \
        fails, 2 for bad input.
        """)

    @Argument(help: "A trace recorded by `touchdown simulate` (or a replay's --out).") var trace: String
    @Option(help: ArgumentHelp("A scenario file, for a trace that stores none (recorded on a rig, or by `trace generate`), or to replace the stored one.", valueName: "FILE"))
    var scenario: String?
    @Option(help: "A built-in guidance by name.") var guidance: String?
    @Option(name: .customLong("guidance-lib"), help: ArgumentHelp("A C shared library implementing touchdown_guidance.h.", valueName: "PATH"))
    var guidanceLib: String?
    @Option(name: .customLong("guidance-cmd"), help: ArgumentHelp("A command speaking the guidance line protocol.", valueName: "COMMAND"))
    var guidanceCmd: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Guidance parameter; repeatable.", valueName: "NAME=VALUE"))
    var settings: [String] = []
    @Option(help: "open-loop or closed-loop.") var mode: String = "closed-loop"
    @Option(name: .customLong("fault"), help: ArgumentHelp("A fault, e.g. altimeter.latency=1.5s; repeatable.", valueName: "SPEC"))
    var faults: [String] = []
    @Option(name: .customLong("faults-file"), help: ArgumentHelp("A file of faults, one per line (# starts a comment).", valueName: "FILE"))
    var faultsFile: String?
    @Option(name: .customLong("assert"), help: ArgumentHelp("A bound on a metric, e.g. 'outcome == landed'; repeatable.", valueName: "EXPR"))
    var assertions: [String] = []
    @Option(help: "Seed for the faults' random draws; default: the trace's.") var seed: UInt64?
    @Option(name: .customLong("tolerance"), help: ArgumentHelp("Open loop: FIELD=VALUE or VALUE for every field; default: bit for bit.", valueName: "TOL"))
    var tolerances: [String] = []
    @Option(name: .customLong("step-budget-s"), help: "How long an out-of-process guidance may take per step.") var stepBudget: Double = 1
    @Option(help: "Write the replay's trace here.") var out: String?
    @Flag(help: "Print the result as one JSON object.") var json = false

    func run() throws {
        let replay = bad { try makeReplay() }
        let result = bad { try replay.run() }
        if json { print(result.json) } else { print(result.report, terminator: "") }
        if !result.passed { throw ExitCode(1) }
    }

    /// Exit 2 with the error's message.
    func bad<T>(_ body: () throws -> T) -> T {
        do { return try body() } catch { fail("\(error)", code: 2) }
    }

    func makeReplay() throws -> Replay {
        guard let m = Replay.Mode(rawValue: mode) else {
            throw ReplayError.guidance("--mode \(mode): expected open-loop or closed-loop")
        }
        let pairs = parseSettings(settings)
        let chosen = [guidance != nil, guidanceLib != nil, guidanceCmd != nil].filter { $0 }.count
        guard chosen <= 1 else { throw ReplayError.guidance("give one of --guidance, --guidance-lib and --guidance-cmd") }
        let g: Replay.GuidanceUnderTest = if let lib = guidanceLib {
            .library(path: lib, settings: pairs)
        } else if let cmd = guidanceCmd {
            .command(cmd, settings: pairs)
        } else {
            .named(guidance, settings: pairs)
        }
        var specs = try faults.map { try FaultSpec(parsing: $0) }
        if let file = faultsFile { specs += try FaultSpec.load(path: file) }
        var tol: [String: Double] = [:]
        for t in tolerances {
            if let v = Double(t), v >= 0 { tol["*"] = v; continue }
            guard let eq = t.firstIndex(of: "="), DivergenceFields.names.contains(String(t[..<eq])),
                  let v = Double(t[t.index(after: eq)...]), v >= 0 else { throw ReplayError.badTolerance(t) }
            tol[String(t[..<eq])] = v
        }
        guard stepBudget > 0 && stepBudget.isFinite else { throw ReplayError.guidance("--step-budget-s must be above 0") }
        return Replay(trace: trace, guidance: g, mode: m, faults: specs,
                      assertions: try assertions.map { try Assertion(parsing: $0) }, seed: seed,
                      tolerances: tol, output: out, stepBudget_s: stepBudget, scenario: scenario)
    }
}
