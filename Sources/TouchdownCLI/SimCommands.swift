import ArgumentParser
import TouchdownGuidanceServer
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fly a scenario with a guidance and record the trace.",
        discussion: """
        Prints the result as `touchdown replay` does (text, or with --json the same \
        JSON shape). Exit 0 when the run completes, whatever the outcome, unless \
        --expect names the outcomes that pass: then 1 for any other; 2 for a bad \
        scenario, guidance name or setting.
        """)
    @Option(help: "Scenario file (YAML), e.g. fixtures/scenarios/nominal.yaml.") var scenario: String
    @Option(help: "Guidance name (see `touchdown guidance list`); default: the scenario's.") var guidance: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Guidance parameter, NAME=VALUE; repeatable, applied after the scenario's.", valueName: "NAME=VALUE"))
    var settings: [String] = []
    @Option(parsing: .unconditional, help: ArgumentHelp("Seed for sensor noise, 0 to 18446744073709551615; default: the scenario's.", valueName: "N"))
    var seed: String?
    @Option(help: ArgumentHelp("The outcomes that pass, comma-separated; default: any.", valueName: "OUTCOME[,OUTCOME…]|any"))
    var expect: String?
    @Option(help: "Write the trace here.") var out: String?
    @Flag(help: "Print the result as one JSON object (the shape `touchdown replay --json` prints).") var json = false

    func run() throws {
        let plan = badInput(json: json) { () throws -> ReplayPlan in
            let pairs = try parseSettings(settings)
            let seedValue = try seed.map { try parseWhole($0, option: "--seed") }
            let g: ReplayPlan.Guidance = guidance.map { .named(name: $0, settings: pairs) } ?? .recorded(settings: pairs)
            var plan = ReplayPlan(source: .scenario(path: scenario), guidance: g, mode: .closedLoop,
                                  expectation: try expect.map { try Expectation(parsing: $0) } ?? .any)
            plan.simulationSeed = seedValue
            plan.output = out
            try plan.validate()
            return plan
        }
        try report(badInput(json: json) { try Replay(plan).run() }, json: json)
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
            for f in GuidanceRegistry.all {
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
