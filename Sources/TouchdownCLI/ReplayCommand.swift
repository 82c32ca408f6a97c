import ArgumentParser
import Foundation
import TouchdownReport
import TouchdownReplay
import TouchdownSim
import TouchdownTrace
#if canImport(Glibc)
import Glibc
#endif

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rerun guidance against a trace, with faults, and give a verdict.",
        discussion: """
        closed-loop (the default) flies the scenario stored in the trace again with \
        the guidance under test and the faults; open-loop feeds the recorded sensors, \
        after faults, to the guidance and compares its outputs with the recording. \
        Without --guidance, --guidance-lib or --guidance-cmd, the guidance that \
        recorded the trace is used with its settings. The verdict is PASS only when \
        the outcome is one --expect names (default: landed in closed loop, match in \
        open loop) and every assertion holds. Exit 0 on PASS, 1 on FAIL, 2 for bad \
        input (including a guidance that cannot be started). Faults: docs/faults.md; \
        metrics: docs/replay.md.
        """)

    @Argument(help: "A trace recorded by `touchdown simulate` (or a replay's --out).") var trace: String
    @Option(help: ArgumentHelp("A scenario file, for a trace that stores none (recorded on a rig, or by `trace generate`), or to replace the stored one.", valueName: "FILE"))
    var scenario: String?
    @Option(help: "A guidance by name (`touchdown guidance list`).") var guidance: String?
    @Option(name: .customLong("guidance-lib"), help: ArgumentHelp("A C shared library implementing touchdown_guidance.h.", valueName: "PATH"))
    var guidanceLib: String?
    @Option(name: .customLong("guidance-cmd"), parsing: .unconditional, help: ArgumentHelp("A command speaking the guidance line protocol.", valueName: "COMMAND"))
    var guidanceCmd: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Guidance parameter; repeatable.", valueName: "NAME=VALUE"))
    var settings: [String] = []
    @Option(help: "open-loop or closed-loop.") var mode: String = "closed-loop"
    @Option(name: .customLong("fault"), help: ArgumentHelp("A fault, e.g. altimeter.latency=1.5s; repeatable.", valueName: "SPEC"))
    var faults: [String] = []
    @Option(name: .customLong("faults-file"), help: ArgumentHelp("A file of faults, one per line (# starts a comment), and optionally `expect OUTCOME[,OUTCOME…]`.", valueName: "FILE"))
    var faultsFile: String?
    @Option(help: ArgumentHelp("The outcomes that pass, comma-separated, or any (the verdict is then the assertions'); default: landed (closed loop), match (open loop).", valueName: "OUTCOME[,OUTCOME…]|any"))
    var expect: String?
    @Option(name: .customLong("assert"), help: ArgumentHelp("A bound on a metric, e.g. 'touchdown.vertical_speed_mps <= 2'; repeatable.", valueName: "EXPR"))
    var assertions: [String] = []
    @Option(parsing: .unconditional, help: ArgumentHelp("Seed for the faults' random draws, 0 to 18446744073709551615; default: the trace's.", valueName: "N"))
    var seed: String?
    @Option(name: .customLong("tolerance"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Open loop: FIELD=VALUE or VALUE for every field (≥ 0); default: bit for bit.", valueName: "TOL"))
    var tolerances: [String] = []
    @Option(name: .customLong("step-budget-s"), parsing: .unconditional, help: ArgumentHelp("How long an out-of-process guidance may take per step, in seconds (above 0, at most 3600; default 1).", valueName: "S"))
    var stepBudget: String?
    @Option(help: "Write the replay's trace here.") var out: String?
    @Option(help: ArgumentHelp("Plot the run: FILE.html or FILE.svg (as `touchdown plot` draws it).", valueName: "FILE")) var plot: String?
    @Flag(help: "Print the result as one JSON object.") var json = false

    func validate() throws {
        if let plot, !(plot.hasSuffix(".html") || plot.hasSuffix(".svg")) {
            throw ValidationError("--plot \(plot): accepted: a file name ending in .html or .svg")
        }
    }

    func run() throws {
        var plan = badInput(json: json) { try makePlan() }
        // A plot needs the run's trace: --out's, else one in a scratch folder
        // beside the plot, removed after.
        var scratch: String?
        if let plot {
            badInput(json: json) {
                if let out, (out as NSString).standardizingPath == (plot as NSString).standardizingPath {
                    throw CommandLineError("--plot \(plot) and --out \(out) name the same file: the plot would replace the trace")
                }
                try OutputGuard.refuse(output: plot, sameAsAnyOf: [trace] + [scenario, faultsFile, out].compactMap { $0 })
            }
            if plan.output == nil {
                let folder = (plot as NSString).deletingLastPathComponent
                var template = Array(((folder.isEmpty ? "." : folder) + "/.touchdown-plot-XXXXXX").utf8CString)
                guard let made = mkdtemp(&template) else { fail("cannot make a scratch folder beside \(plot)", code: 2) }
                scratch = String(cString: made)
                plan.output = scratch! + "/run.mcap"
            }
        }
        // Exits skip `defer`: the scratch folder goes before any error is reported.
        func removeScratch() { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let result = badInput(json: json) { () throws -> ReplayResult in
            do { return try Replay(plan).run() } catch { removeScratch(); throw error }
        }
        if let plot, let output = plan.output {
            badInput(json: json) {
                do {
                    var shown = try TraceSeries.read(path: output)
                    shown.path = out ?? "replay of \(trace)"
                    try writeReplacing(plot, plot.hasSuffix(".svg") ? TracePlot.svg(shown) : TracePlot.html(shown), inputs: [trace])
                } catch {
                    removeScratch()
                    throw error
                }
            }
            if !json { FileHandleStderr.write("plot: \(plot)\n") }
        }
        removeScratch()
        try report(result, json: json)
    }

    func makePlan() throws -> ReplayPlan {
        guard let m = Replay.Mode(rawValue: mode) else {
            throw CommandLineError("--mode \(mode): expected open-loop or closed-loop")
        }
        let chosen = [guidance != nil, guidanceLib != nil, guidanceCmd != nil].filter { $0 }.count
        guard chosen <= 1 else { throw CommandLineError("give one of --guidance, --guidance-lib and --guidance-cmd, not \(chosen)") }
        let pairs = try parseSettings(settings)
        let g: ReplayPlan.Guidance = if let lib = guidanceLib {
            .library(path: lib, settings: pairs)
        } else if let cmd = guidanceCmd {
            .command(line: cmd, settings: pairs)
        } else if let guidance {
            .named(name: guidance, settings: pairs)
        } else {
            .recorded(settings: pairs)
        }
        var specs = try faults.map { try FaultSpec(parsing: $0) }
        var expectation = try expect.map { try Expectation(parsing: $0) }
        if let file = faultsFile {
            let f = try FaultFile.load(path: file)
            specs += f.faults
            if let e = f.expectation {
                guard expectation == nil || expectation == e else {
                    throw CommandLineError("--expect \(expectation!.text) disagrees with `expect \(e.text)` in \(file); give one")
                }
                expectation = e
            }
        }
        var plan = ReplayPlan(source: .trace(path: trace, scenario: scenario), guidance: g, mode: m, faults: specs,
                              expectation: expectation, assertions: try assertions.map { try Assertion(parsing: $0) },
                              tolerances: try tolerances.map(parseTolerance),
                              seed: try seed.map { try parseWhole($0, option: "--seed") })
        if let stepBudget {
            guard let s = Double(stepBudget) else {
                throw CommandLineError("--step-budget-s \(stepBudget): expected a number of seconds above 0 and at most 3600")
            }
            plan.stepBudget_s = s
        }
        plan.output = out
        try plan.validate()
        if let out, let faultsFile { try OutputGuard.refuse(output: out, sameAsAnyOf: [faultsFile]) }
        return plan
    }

    func parseTolerance(_ t: String) throws -> ReplayPlan.Tolerance {
        if let v = Double(t) { return ReplayPlan.Tolerance(field: nil, value: v) }
        let (field, value) = t.split(separator: "=", maxSplits: 1).map(String.init).pair
        guard let value, let v = Double(value) else { throw PlanError.badTolerance(t) }
        return ReplayPlan.Tolerance(field: field, value: v)
    }
}

extension Array where Element == String {
    var pair: (String, String?) { (first ?? "", count > 1 ? self[1] : nil) }
}
