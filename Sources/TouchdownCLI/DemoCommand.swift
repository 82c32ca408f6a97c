import ArgumentParser
import TouchdownReplay
#if canImport(Glibc)
import Glibc
#endif

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fly the three scenarios and replay them with the faults that lost two landers.",
        discussion: "Prints one row per case and writes every trace into one folder. Exit 0 when every case ends as expected.")

    @Option(help: "Folder of scenario files; default: fixtures/scenarios here or beside the build.") var scenarios: String?
    @Option(help: "Folder for the traces.") var out: String = "demo-out"

    func run() throws {
        let folder = scenarios ?? findScenarios()
        mkdir(out, 0o755)
        var isFolder = stat()
        guard stat(out, &isFolder) == 0, (isFolder.st_mode & S_IFMT) == S_IFDIR else { fail("cannot create the folder \(out)", code: 2) }
        let cases = badInput(json: false) { try Demo.cases(scenarios: folder, outputFolder: out) }
        let rows = badInput(json: false) { try Demo.run(cases) }
        print(Demo.table(rows), terminator: "")
        print("traces: \(out)/ (\(rows.count) files)")
        if !rows.allSatisfy(\.result.passed) { throw ExitCode(1) }
    }

    /// fixtures/scenarios in the working folder, else in the checkout the
    /// executable was built in (.build/<config>/touchdown).
    func findScenarios() -> String {
        var candidates = ["fixtures/scenarios"]
        if let exe = currentExecutablePath() {
            var parts = exe.split(separator: "/").map(String.init)
            for _ in 0..<4 where !parts.isEmpty {
                parts.removeLast()
                candidates.append("/" + parts.joined(separator: "/") + "/fixtures/scenarios")
            }
        }
        for c in candidates where access(c + "/nominal.yaml", R_OK) == 0 { return c }
        fail("no scenario folder found (looked in \(candidates.joined(separator: ", "))); give --scenarios", code: 2)
    }
}
