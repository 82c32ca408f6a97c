import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// A ROS 2 recording written by the Python reference writer (mcap +
/// mcap-ros2-support) with standard sensor_msgs types, imported through
/// fixtures/rig/ros2.yaml: every value checked against what the writer was
/// given, field by field. Needs TOUCHDOWN_PYTHON (scripts/test); fails
/// without it.
@Suite(.serialized) struct TelemetryImportTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args, environment: unshardedEnvironment) }

    @Test func referenceWriterRecordingImportsFieldByField() throws {
        let dir = try TestPaths.scratch()
        let script = TestPaths.repository.appendingPathComponent("Tests/Interop/write_reference.py").path
        let made = try run(try InteropTests.python(), [script, dir.path])
        #expect(made.status == 0, "\(made.stderr)")
        let source = dir.appendingPathComponent("chunked-zstd.mcap").path
        let out = dir.appendingPathComponent("imported.mcap").path
        let map = TestPaths.repository.appendingPathComponent("fixtures/rig/ros2.yaml").path
        let r = try touchdown("import", "mcap", source, "--map", map, "--out", out)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("/lander/imu -> /imu") && r.stdout.contains("not in the map, not imported: /gnc/guidance_status"), "\(r.stdout)")

        // What the writer was given, per topic in log-time order (ties in
        // write order). JSONDecoder reads the shortest-repr numbers exactly.
        struct Vector: Decodable { var x: Double, y: Double, z: Double }
        struct Time: Decodable { var sec: Int64, nanosec: Int64 }
        struct Header: Decodable { var stamp: Time }
        struct Message: Decodable {
            var header: Header
            var linear_acceleration: Vector?
            var angular_velocity: Vector?
            var range: FlexibleDouble?
        }
        struct Line: Decodable { var topic: String, log_time_ns: UInt64, message: Message }
        let t0: Int64 = 1_699_999_999_000_000_000
        let text = try String(contentsOfFile: dir.appendingPathComponent("chunked-zstd.expected.jsonl").path, encoding: .utf8)
        let lines = try text.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        func stamp(_ m: Message) -> UInt64 { UInt64(m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec - t0) }

        var imu: [(UInt64, ImuSample)] = [], altimeter: [(UInt64, AltimeterSample)] = []
        try TraceReader(path: out).forEachMessage { d, m in
            if d.channel.topic == "/imu" { imu.append((m.logTime_ns, try ImuSample(cdr: m.data))) }
            if d.channel.topic == "/altimeter" { altimeter.append((m.logTime_ns, try AltimeterSample(cdr: m.data))) }
        }
        let imuExpected = lines.filter { $0.topic == "/lander/imu" }, rangeExpected = lines.filter { $0.topic == "/lander/altimeter" }
        #expect(imu.count == imuExpected.count && imu.count == 300)
        #expect(altimeter.count == rangeExpected.count && altimeter.count == 60)
        for (k, e) in zip(imu, imuExpected) {
            let a = try #require(e.message.linear_acceleration), w = try #require(e.message.angular_velocity)
            #expect(e.log_time_ns - UInt64(t0) == k.0 && stamp(e.message) == k.1.stamp_ns)
            #expect(k.1.accelX_mps2 == a.x && k.1.accelY_mps2 == a.y && k.1.accelZ_mps2 == a.z)
            #expect(k.1.rateX_radps == w.x && k.1.rateY_radps == w.y && k.1.rateZ_radps == w.z)
        }
        for (k, e) in zip(altimeter, rangeExpected) {
            #expect(e.log_time_ns - UInt64(t0) == k.0 && stamp(e.message) == k.1.stamp_ns)
            let range = try #require(e.message.range).value
            #expect(k.1.range_m == range, "range \(k.1.range_m) against \(range)")
            #expect(k.1.valid)
        }
        // It replays open loop like any other trace (no /command: replayed, not compared).
        let replay = try touchdown("replay", out, "--mode", "open-loop", "--expect", "replayed",
                                   "--scenario", TestPaths.repository.appendingPathComponent("fixtures/scenarios/nominal.yaml").path)
        #expect(replay.status == 0 && replay.stdout.contains("outcome                           replayed"), "\(replay.stdout) \(replay.stderr)")
    }

    /// Telemetry brought as CSV (the 2025 descent's sensors, commands and
    /// navigation, without scenario or truth) replays open loop against the
    /// guidance to a step-for-step match, as docs/rig.md shows.
    @Test func importedCSVTelemetryReplaysOpenLoop() throws {
        let dir = try TestPaths.scratch()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let topics = ["/imu", "/altimeter", "/velocimeter", "/attitude", "/command", "/nav"].flatMap { ["--topic", $0] }
        let export = try run(touchdownExecutable, ["export", "csv", TestPaths.repository.appendingPathComponent("traces/m2-late-altimeter.mcap").path]
                             + topics + ["--out", p("t.csv"), "--map-out", p("t.yaml")], environment: unshardedEnvironment)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try touchdown("import", "csv", p("t.csv"), "--map", p("t.yaml"), "--out", p("t.mcap")).status == 0)
        let replay = try touchdown("replay", p("t.mcap"), "--mode", "open-loop",
                                   "--scenario", TestPaths.repository.appendingPathComponent("fixtures/fit/m2-mission.yaml").path)
        #expect(replay.status == 0, "\(replay.stdout) \(replay.stderr)")
        #expect(replay.stdout.contains("divergence                        none: 9543 steps match the recording"), "\(replay.stdout)")
    }

    /// A number, or the strings the interop form uses for infinities.
    struct FlexibleDouble: Decodable {
        var value: Double
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { value = d; return }
            switch try c.decode(String.self) {
            case "Infinity", "inf": value = .infinity
            case "-Infinity", "-inf": value = -.infinity
            default: value = .nan
            }
        }
    }

    /// geometry_msgs/msg/TwistStamped and PoseStamped, whose standard
    /// definitions name their own package's types without it (`Twist twist`,
    /// `Vector3 linear`) and give defaults (`float64 w 1`), mapped by field
    /// path onto /velocimeter and /altimeter: every value as written.
    @Test func geometryMessagesImportFieldByField() throws {
        let dir = try TestPaths.scratch()
        let script = TestPaths.repository.appendingPathComponent("Tests/Interop/write_geometry.py").path
        let made = try run(try InteropTests.python(), [script, dir.path])
        #expect(made.status == 0, "\(made.stderr)")
        let map = dir.appendingPathComponent("geometry.yaml").path
        try """
            name: rig-geometry
            ros2:
              t0: 1699999999 s
              topics:
                /lander/twist:
                  to: /velocimeter
                  fields:
                    horizontal_velocity_mps: twist.linear.x
                    vertical_velocity_mps: twist.linear.z
                    valid: {value: true}
                /lander/pose:
                  to: /altimeter
                  fields: {range_m: pose.position.z, valid: {value: true}}
            """.write(toFile: map, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("imported.mcap").path
        let r = try touchdown("import", "mcap", dir.appendingPathComponent("geometry.mcap").path, "--map", map, "--out", out)
        #expect(r.status == 0, "\(r.stderr)")

        struct Vector: Decodable { var x: Double, z: Double }
        struct Twist: Decodable { var linear: Vector }
        struct Pose: Decodable { var position: Vector }
        struct Message: Decodable { var twist: Twist?, pose: Pose? }
        struct Line: Decodable { var topic: String, log_time_ns: UInt64, stamp_ns: UInt64, message: Message }
        let t0: UInt64 = 1_699_999_999_000_000_000
        let text = try String(contentsOfFile: dir.appendingPathComponent("geometry.expected.jsonl").path, encoding: .utf8)
        let lines = try text.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        var velocity: [(UInt64, VelocimeterSample)] = [], altimeter: [(UInt64, AltimeterSample)] = []
        try TraceReader(path: out).forEachMessage { d, m in
            if d.channel.topic == "/velocimeter" { velocity.append((m.logTime_ns, try VelocimeterSample(cdr: m.data))) }
            if d.channel.topic == "/altimeter" { altimeter.append((m.logTime_ns, try AltimeterSample(cdr: m.data))) }
        }
        let twists = lines.filter { $0.topic == "/lander/twist" }, poses = lines.filter { $0.topic == "/lander/pose" }
        #expect(velocity.count == 20 && twists.count == 20 && altimeter.count == 20 && poses.count == 20)
        for (v, e) in zip(velocity, twists) {
            let linear = try #require(e.message.twist).linear
            #expect(v.0 == e.log_time_ns - t0 && v.1.stamp_ns == e.stamp_ns - t0)
            #expect(v.1.horizontalVelocity_mps == linear.x && v.1.verticalVelocity_mps == linear.z && v.1.valid)
        }
        for (a, e) in zip(altimeter, poses) {
            #expect(a.0 == e.log_time_ns - t0 && a.1.stamp_ns == e.stamp_ns - t0)
            #expect(try a.1.range_m == #require(e.message.pose).position.z && a.1.valid)
        }
    }

    @Test func aMissingFieldPathIsNamed() throws {
        let dir = try TestPaths.scratch()
        let made = try run(try InteropTests.python(), [TestPaths.repository.appendingPathComponent("Tests/Interop/write_reference.py").path, dir.path])
        #expect(made.status == 0)
        let map = dir.appendingPathComponent("m.yaml").path
        try """
            name: wrong
            ros2:
              t0: 1699999999 s
              topics:
                /lander/altimeter:
                  to: /altimeter
                  fields: {range_m: distance, valid: {value: true}}
            """.write(toFile: map, atomically: true, encoding: .utf8)
        let r = try touchdown("import", "mcap", dir.appendingPathComponent("chunked-zstd.mcap").path, "--map", map,
                              "--out", dir.appendingPathComponent("o.mcap").path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("no field distance for /altimeter range_m; the message (sensor_msgs/msg/Range) has header, radiation_type, field_of_view, min_range, max_range, range, variance"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.mcap").path))
    }
}
