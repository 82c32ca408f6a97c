import Foundation
import Testing
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

/// The epoch names the traces' clock and nothing else: moving it moves every
/// log time and stamp by the same amount and changes no result or digest.
@Suite struct EpochTests {
    @Test func movingTheEpochChangesNoDigestAndShiftsEveryTime() throws {
        let dir = try TestPaths.scratch()
        let scenario = TestPaths.fixtures.appendingPathComponent("scenarios/m2-late-altimeter.yaml").path
        func fly(_ epoch: String?, _ name: String) throws -> (ReplayResult, String) {
            var plan = ReplayPlan(source: .scenario(path: scenario), expectation: try Expectation(parsing: "any"))
            if let epoch { plan.scenarioOverrides = [ScenarioOverride(path: "recording.epoch", value: epoch)] }
            plan.output = dir.appendingPathComponent(name).path
            return (try Replay(plan).run(), plan.output!)
        }
        let (a, pathA) = try fly(nil, "a.mcap")
        let (b, pathB) = try fly("1999-12-31T23:59:59.5Z", "b.mcap")
        #expect(a.digest == b.digest && a.outcome == b.outcome && a.metrics == b.metrics)
        let epochA = try #require(try TraceClock.epoch_ns(IndexedReader(path: pathA)))
        let epochB = try #require(try TraceClock.epoch_ns(IndexedReader(path: pathB)))
        #expect(epochA == Epoch.parse("2025-06-05T18:57:00Z") && epochB == Epoch.parse("1999-12-31T23:59:59.5Z"))
        // Message by message: the same topics and bytes on t.
        func onT(_ path: String, _ epoch: UInt64) throws -> [(String, UInt64, [UInt8])] {
            let reader = try TraceReader(path: path)
            var out: [(String, UInt64, [UInt8])] = []
            try reader.forEachMessage { d, m in
                let restamped = try TraceClock.restamp(m.data, schemaName: d.schema!.name, earlierBy: epoch)!
                out.append((d.channel.topic, m.logTime_ns - epoch, restamped))
            }
            return out
        }
        let ma = try onT(pathA, epochA), mb = try onT(pathB, epochB)
        #expect(ma.count == mb.count && ma.count > 50_000)
        var firstDifference: Int?
        for i in 0..<min(ma.count, mb.count) {
            let (ta, la, da) = ma[i], (tb, lb, db) = mb[i]
            if ta != tb || la != lb || da != db { firstDifference = i; break }
        }
        #expect(firstDifference == nil, "first difference at message \(firstDifference ?? -1)")
        // The first message is at the epoch: t = 0 is the start of descent.
        #expect(try TraceReader(path: pathB).indexed!.statistics?.messageStartTime_ns == epochB)
    }

    @Test func aBadEpochIsRefusedWithWhatIsAccepted() throws {
        let scenario = TestPaths.fixtures.appendingPathComponent("scenarios/nominal.yaml").path
        #expect {
            _ = try Scenario.load(path: scenario, overrides: [ScenarioOverride(path: "recording.epoch", value: "2026-02-30T00:00:00Z")])
        } throws: { e in "\(e)".contains("recording.epoch '2026-02-30T00:00:00Z' is not accepted: a UTC date and time written YYYY-MM-DDTHH:MM:SS") }
    }
}
