import Foundation
import Testing
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

/// Copies traces/nominal.mcap's messages into a trace of the kind a rig
/// records: no stored scenario, every log time and stamp moved by
/// `offset_ns`, optionally without some topics.
func rigCopy(to path: String, offset_ns: UInt64, dropping dropped: Set<String> = []) throws {
    let reader = try IndexedReader(path: tracePath("nominal"))
    let recorder = try TraceRecorder(path: path)
    let imu = try recorder.topic("/imu", ImuSample.self), alt = try recorder.topic("/altimeter", AltimeterSample.self)
    let vel = try recorder.topic("/velocimeter", VelocimeterSample.self), att = try recorder.topic("/attitude", AttitudeSample.self)
    let cmd = try recorder.topic("/command", CommandSample.self), nav = try recorder.topic("/nav", NavSample.self)
    let truth = try recorder.topic("/truth", TruthSample.self)
    try reader.messages { m in
        let topic = reader.channel(m.channelID)!.topic
        guard !dropped.contains(topic) else { return }
        let t = m.logTime_ns + offset_ns
        switch topic {
        case "/imu": var s = try ImuSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: imu, logTime_ns: t)
        case "/altimeter": var s = try AltimeterSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: alt, logTime_ns: t)
        case "/velocimeter": var s = try VelocimeterSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: vel, logTime_ns: t)
        case "/attitude": var s = try AttitudeSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: att, logTime_ns: t)
        case "/command": var s = try CommandSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: cmd, logTime_ns: t)
        case "/nav": var s = try NavSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: nav, logTime_ns: t)
        case "/truth": var s = try TruthSample(cdr: m.data); s.stamp_ns += offset_ns; try recorder.record(s, on: truth, logTime_ns: t)
        default: break
        }
    }
    try recorder.finish()
}

@Suite("Inputs are what they claim to be")
struct InputTests {
    var nominalScenario: String { TestPaths.fixtures.appendingPathComponent("scenarios/nominal.yaml").path }

    @Test func aTraceOnUnixTimeReplaysFromItsFirstMessage() throws {
        let dir = try TestPaths.scratch()
        let unix_ns: UInt64 = 1_700_000_000_000_000_000
        for dropped in [Set<String>(), ["/command", "/nav"]] {
            let zero = dir.appendingPathComponent("zero.mcap").path, unix = dir.appendingPathComponent("unix.mcap").path
            try rigCopy(to: zero, offset_ns: 0, dropping: dropped)
            try rigCopy(to: unix, offset_ns: unix_ns, dropping: dropped)
            let a = try replay(zero, mode: .openLoop, scenario: nominalScenario)
            let b = try replay(unix, mode: .openLoop, scenario: nominalScenario)
            #expect(a.digest == b.digest, "dropping \(dropped)")
            #expect(a.number("guidance.steps") == b.number("guidance.steps"))
            #expect(b.number("altimeter.first_valid_time_s") == a.number("altimeter.first_valid_time_s"))
            if dropped.isEmpty {
                // The recording guidance, fed its own recording: bit for bit.
                #expect(b.outcome == "match", "\(b.report)")
            } else {
                // Steps at the guidance rate over the trace's 1061 s, not from 1970.
                #expect(b.outcome == "replayed")
                #expect(b.number("guidance.steps")! > 10_000 && b.number("guidance.steps")! < 11_000, "\(b.report)")
            }
        }
    }

    @Test func aForeignTypeOnAKnownTopicIsRefused() throws {
        let path = try TestPaths.scratch().appendingPathComponent("foreign.mcap").path
        let writer = try MCAPWriter(sink: try FileSink(path: path))
        let schema = try writer.addSchema(name: "sensor_msgs/msg/Imu", encoding: "ros2msg", data: Array("float64 x\n".utf8))
        let channel = try writer.addChannel(topic: "/imu", messageEncoding: "cdr", schemaID: schema)
        try ([0, 1, 0, 0] + [UInt8](repeating: 0x7f, count: 8)).withUnsafeBytes { try writer.write(channelID: channel, sequence: 0, logTime_ns: 0, publishTime_ns: 0, payload: $0) }
        try writer.finish()
        #expect {
            try replay(path, mode: .openLoop, scenario: nominalScenario)
        } throws: { error in
            let text = "\(error)"
            return error is TraceInputError && text.contains("channel /imu carries sensor_msgs/msg/Imu (ros2msg)")
                && text.contains("touchdown_msgs/msg/Imu")
        }
    }

    @Test func aTraceCarriesItsTerrainProfile() throws {
        let dir = try TestPaths.scratch()
        let csv = "downrange_m,elevation_m\n0,0\n760000,0\n775000,2500\n781000,2500\n790000,0\n800000,0\n"
        try csv.write(to: dir.appendingPathComponent("ridge.csv"), atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: nominalScenario, encoding: .utf8)
            .replacingOccurrences(of: "terrain:\n  features:", with: "terrain:\n  profile: ridge.csv\n  features:")
        #expect(text.contains("profile: ridge.csv"))
        try text.write(to: dir.appendingPathComponent("ridge.yaml"), atomically: true, encoding: .utf8)
        let recorded = dir.appendingPathComponent("ridge.mcap").path
        var fly = ReplayPlan(source: .scenario(path: dir.appendingPathComponent("ridge.yaml").path), expectation: .any)
        fly.output = recorded
        let flown = try Replay(fly).run()

        // The trace alone, in a folder with nothing else, flies the same terrain.
        let elsewhere = try TestPaths.scratch("elsewhere")
        let copy = elsewhere.appendingPathComponent("copy.mcap").path
        try FileManager.default.copyItem(atPath: recorded, toPath: copy)
        try FileManager.default.removeItem(at: dir)
        let again = try replay(copy)
        #expect(again.digest == flown.digest)
        #expect(again.outcome == flown.outcome)
    }

    @Test func recordedEventsKeepTheirAnomalyFlag() throws {
        let events = try recorded(tracePath("m1-crater-rim")).events
        let flagged = events.filter(\.anomaly)
        #expect(!flagged.isEmpty)
        #expect(flagged.allSatisfy { $0.kind == "altimeter-rejected" || $0.kind == "propellant-exhausted" || $0.kind == "altimeter-latched" || !$0.kind.isEmpty })
        #expect(events.contains { !$0.anomaly })
        // What guidance flagged is what the replay counts.
        let result = try replay(tracePath("m1-crater-rim"), mode: .openLoop)
        let guidanceFlagged = flagged.filter { $0.kind != "propellant-exhausted" && $0.kind != "crashed" }.count
        #expect(Double(guidanceFlagged) == result.number("guidance.anomalies"))
    }

    /// Issue 13, item 7: a trace whose stored seed was flipped from 1 to 3
    /// (a metadata record, covered only by the data section CRC) replayed
    /// as a different flight with exit 0. It is refused, naming DataEnd.
    @Test func aDamagedTraceIsRefusedNotReplayed() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: tracePath("nominal"))))
        let needle: [UInt8] = [4, 0, 0, 0] + Array("seed".utf8) + [1, 0, 0, 0] + Array("1".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[at + needle.count - 1] = UInt8(ascii: "3")
        let path = try TestPaths.scratch().appendingPathComponent("flipped.mcap").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for mode in [Replay.Mode.closedLoop, .openLoop] {
            #expect {
                try replay(path, mode: mode)
            } throws: { error in
                guard case MCAPError.crcMismatch(let record, _, _, _) = error else { return false }
                return record.contains("DataEnd")
            }
        }
        #expect(try LoadedTrace(path: tracePath("nominal")).dataSection == .verified)
    }
}
