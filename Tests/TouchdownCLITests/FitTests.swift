import Foundation
import Testing
import TouchdownTestSupport

/// docs/rig.md's walk-through: telemetry of a failed descent, exported to
/// CSV without its scenario and imported back, is fitted against the
/// mission's scenario under candidate faults of two families; the best fit
/// is the fault the telemetry was made with, family and value.
@Suite(.serialized) struct FitTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args, environment: unshardedEnvironment) }
    static func repo(_ path: String) -> String { TestPaths.repository.appendingPathComponent(path).path }

    /// Telemetry as a rig would bring it: CSV, imported through a map.
    func telemetry(from trace: String, in dir: URL) throws -> String {
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let export = try touchdown("export", "csv", trace, "--topic", "/nav", "--topic", "/altimeter", "--out", p("t.csv"), "--map-out", p("t.yaml"))
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try touchdown("import", "csv", p("t.csv"), "--map", p("t.yaml"), "--out", p("telemetry.mcap"))
        #expect(imported.status == 0, "\(imported.stderr)")
        return p("telemetry.mcap")
    }

    func best(_ fit: ProcessResult) -> String? {
        fit.stdout.split(separator: "\n").first { $0.hasPrefix("best: ") }.map { String($0.dropFirst(6)) }
    }

    @Test func theLateAltimeterIsFoundByFamilyAndAltitude() throws {
        let dir = try TestPaths.scratch()
        let telemetry = try telemetry(from: Self.repo("traces/m2-late-altimeter.mcap"), in: dir)
        let fit = try touchdown("fit", telemetry, "--scenario", Self.repo("fixtures/fit/m2-mission.yaml"),
                                "--candidates", "altimeter.acquire-below=300m..3000m/300m",
                                "--candidates", "altimeter.latency=0.5s..2s/0.5s")
        #expect(fit.status == 0, "\(fit.stdout) \(fit.stderr)")
        #expect(best(fit) == "altimeter.acquire-below=900m", "\(fit.stdout)")
    }

    @Test func aLatencyIsFoundByFamilyAndDelay() throws {
        let dir = try TestPaths.scratch()
        let flown = dir.appendingPathComponent("late.mcap").path
        let made = try touchdown("replay", Self.repo("traces/nominal.mcap"), "--fault", "altimeter.latency=1.5s", "--expect", "any", "--out", flown)
        #expect(made.status == 0, "\(made.stderr)")
        let telemetry = try telemetry(from: flown, in: dir)
        let fit = try touchdown("fit", telemetry, "--scenario", Self.repo("fixtures/scenarios/nominal.yaml"),
                                "--candidates", "altimeter.acquire-below=1000m..3000m/1000m",
                                "--candidates", "altimeter.latency=0.5s..2.5s/0.5s")
        #expect(fit.status == 0, "\(fit.stdout) \(fit.stderr)")
        #expect(best(fit) == "altimeter.latency=1.5s", "\(fit.stdout)")
    }

    /// A NaN in the telemetry (import keeps it, as recorded) is left out and
    /// counted, not allowed to make every score NaN and name "none" best; a
    /// flight that cannot be compared on ranges the telemetry has ranks last.
    @Test func notFiniteTelemetryAndUnmeasuredTermsDoNotDecide() throws {
        let dir = try TestPaths.scratch()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let export = try touchdown("export", "csv", Self.repo("traces/m2-late-altimeter.mcap"), "--topic", "/nav", "--topic", "/altimeter",
                                   "--out", p("t.csv"), "--map-out", p("t.yaml"))
        #expect(export.status == 0)
        var lines = try String(contentsOfFile: p("t.csv"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let altitude = try #require(header.firstIndex(of: "nav.altitude_m"))
        let row = try #require(lines.indices.dropFirst().first { !lines[$0].split(separator: ",", omittingEmptySubsequences: false)[altitude].isEmpty })
        var cells = lines[row].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[altitude] = "nan"
        lines[row] = cells.joined(separator: ",")
        try lines.joined(separator: "\n").write(toFile: p("t.csv"), atomically: true, encoding: .utf8)
        #expect(try touchdown("import", "csv", p("t.csv"), "--map", p("t.yaml"), "--out", p("telemetry.mcap")).status == 0)
        let fit = try touchdown("fit", p("telemetry.mcap"), "--scenario", Self.repo("fixtures/fit/m2-mission.yaml"),
                                "--candidates", "altimeter.blackout", "--candidates", "altimeter.acquire-below=600m..1200m/300m")
        #expect(fit.status == 0, "\(fit.stdout) \(fit.stderr)")
        #expect(fit.stdout.contains("left out, not finite in the telemetry: 1 /nav samples, 0 valid altimeter ranges"), "\(fit.stdout)")
        #expect(best(fit) == "altimeter.acquire-below=900m", "\(fit.stdout)")
        let last = fit.stdout.split(separator: "\n").filter { $0.first?.isNumber ?? false }.last ?? ""
        #expect(last.contains("altimeter.blackout") && last.contains("not measured"), "\(fit.stdout)")
    }

    @Test func badCandidatesAreBadInput() throws {
        let t = Self.repo("traces/nominal.mcap"), s = Self.repo("fixtures/scenarios/nominal.yaml")
        let noStep = try touchdown("fit", t, "--scenario", s, "--candidates", "altimeter.latency=0s..2s")
        #expect(noStep.status == 2 && noStep.stderr.contains("a range needs a step"), "\(noStep.stderr)")
        let units = try touchdown("fit", t, "--scenario", s, "--candidates", "altimeter.latency=0s..2000ms/1s")
        #expect(units.status == 2 && units.stderr.contains("the same unit"), "\(units.stderr)")
        let none = try touchdown("fit", t, "--scenario", s)
        #expect(none.status == 2 && none.stderr.contains("at least one"), "\(none.stderr)")
    }
}
