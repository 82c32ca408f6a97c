import Foundation
import Testing
import TouchdownSim
import TouchdownTestSupport

@Suite("Scenario files: wrong ones are named by file and line")
struct ScenarioFileTests {
    func error(replacing old: String, with new: String) throws -> ScenarioError {
        let text = try String(contentsOfFile: scenarioPath("nominal"), encoding: .utf8)
        #expect(text.contains(old), "fixture no longer contains \(old)")
        let changed = text.replacingOccurrences(of: old, with: new)
        do {
            _ = try Scenario.parse(text: changed, file: "broken.yaml", folder: "/")
        } catch let e as ScenarioError {
            return e
        }
        Issue.record("accepted a broken scenario")
        throw CancellationError()
    }

    func line(of text: String) throws -> Int {
        let lines = try String(contentsOfFile: scenarioPath("nominal"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains(text) }) + 1
    }

    @Test func everyCheckedInScenarioLoads() throws {
        for name in ["nominal", "m1-crater-rim", "m2-late-altimeter"] { _ = try Scenario.load(path: scenarioPath(name)) }
    }

    @Test func unknownKeyListsTheAcceptedOnes() throws {
        let e = try error(replacing: "  isp: 320 s", with: "  isp: 320 s\n  ips: 300 s")
        let isp = try line(of: "isp: 320 s")
        #expect(e.file == "broken.yaml" && e.line == isp + 1)
        #expect(e.message.contains("unknown key vehicle.ips") && e.message.contains("isp"))
    }

    @Test func missingFieldIsNamed() throws {
        let e = try error(replacing: "  dry_mass: 340 kg\n", with: "")
        #expect(e.message.contains("missing vehicle.dry_mass"))
        let vehicle = try line(of: "vehicle:")
        #expect(e.line == vehicle + 1)
    }

    @Test func badUnitSaysWhichAreAccepted() throws {
        let e = try error(replacing: "initial_mass: 790 kg", with: "initial_mass: 790 lb")
        let expected = try line(of: "initial_mass")
        #expect(e.line == expected)
        #expect(e.message.contains("kg, t"))
        #expect(e.description.hasPrefix("broken.yaml:\(e.line):"))
    }

    @Test func negativeMassIsOutOfRange() throws {
        let e = try error(replacing: "dry_mass: 340 kg", with: "dry_mass: -340 kg")
        let expected = try line(of: "dry_mass")
        #expect(e.line == expected)
        #expect(e.message.contains("out of range"))
    }

    @Test func rateThatIsNotAWholeNumberOfStepsIsRefused() throws {
        let e = try error(replacing: "imu: {rate: 25 Hz", with: "imu: {rate: 300 Hz")
        let expected = try line(of: "imu: {rate")
        #expect(e.line == expected)
        #expect(e.message.contains("sensors.imu.rate"))
    }

    @Test func brokenYAMLIsLocated() throws {
        let e = try error(replacing: "seed: 1", with: "seed: [1")
        #expect(e.line > 0 && e.message.contains("not valid YAML"))
    }
}
