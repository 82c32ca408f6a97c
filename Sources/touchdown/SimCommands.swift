import ArgumentParser
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fly a scenario with a guidance and record the trace.",
        discussion: """
        Prints the outcome as a table (or JSON with --json). Exit 0 when the \
        run completes, whatever the outcome; 2 for a bad scenario, guidance \
        name or setting.
        """)
    @Option(help: "Scenario file (YAML), e.g. fixtures/scenarios/nominal.yaml.") var scenario: String
    @Option(help: "Guidance name (see `touchdown guidance list`); default: the scenario's.") var guidance: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Guidance parameter, NAME=VALUE; repeatable, applied after the scenario's.", valueName: "NAME=VALUE"))
    var settings: [String] = []
    @Option(help: "Seed for sensor noise; default: the scenario's.") var seed: UInt64?
    @Option(help: "Write the trace here.") var out: String?
    @Flag(help: "Print the outcome as one JSON object.") var json = false

    func run() {
        let loaded: Scenario
        do { loaded = try Scenario.load(path: scenario) } catch { fail("\(error)", code: 2) }
        let pairs = parseSettings(settings)
        let simulation = Simulation(scenario: loaded, guidance: guidance, settings: pairs, seed: seed)
        var g: any Guidance
        do { g = try simulation.makeGuidance() } catch { fail("\(error)", code: 2) }
        let recorder = out.map { path in reporting { try TraceRecorder(path: path, options: Simulation.traceOptions) } }
        let outcome = reporting { try simulation.run(guidance: &g, recorder: recorder) }
        if json {
            print(outcome.json)
        } else {
            print("scenario \(loaded.name), guidance \(simulation.guidanceName), seed \(simulation.seed)")
            print(outcome.table, terminator: "")
            if let out { print("trace: \(out)") }
        }
    }
}

struct GuidanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guidance",
        abstract: "Guidances built into Touchdown.",
        subcommands: [List.self, Serve.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List each guidance with its parameters and defaults.")
        func run() {
            for f in GuidanceRegistry.builtIn {
                print("\(f.name): \(f.summary)")
                let width = f.parameters.map { $0.name.count + $0.defaultValue.count + 1 }.max() ?? 0
                for p in f.parameters {
                    let head = "\(p.name)=\(p.defaultValue)"
                    print("  " + head + String(repeating: " ", count: width - head.count) + "  " + p.help)
                }
            }
        }
    }
}

extension GuidanceCommand {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a built-in guidance over the line protocol on stdin and stdout.",
            discussion: """
            For --guidance-cmd: the guidance then runs in its own process, where a crash \
            or a hang is an outcome of the replay. The protocol is docs/guidance-protocol.md; \
            settings arrive as its param lines.
            """)
        @Argument(help: "The guidance's name (see `touchdown guidance list`).") var name: String

        func run() throws {
            let factory: any GuidanceFactory
            do { factory = try GuidanceRegistry.factory(named: name) } catch { fail("\(error)", code: 2) }
            let status = GuidanceServer.serve { knowledge, settings in
                try factory.make(knowledge: knowledge, settings: settings)
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// `--set NAME=VALUE` options as pairs, in order; exit 2 on one without `=`.
func parseSettings(_ settings: [String]) -> [(name: String, value: String)] {
    settings.map { s in
        guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { fail("--set \(s): expected NAME=VALUE", code: 2) }
        return (String(s[..<eq]), String(s[s.index(after: eq)...]))
    }
}
