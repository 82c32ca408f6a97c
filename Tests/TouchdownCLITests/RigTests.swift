#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// The stand-in rig streams a flight as CCSDS packets; `record --udp`
/// captures them on loopback; the captured trace holds the flight's sensor
/// messages, stamp for stamp and value for value within the map's resolution.
@Suite(.serialized) struct RigTests {
    static func repo(_ path: String) -> String { TestPaths.repository.appendingPathComponent(path).path }

    @Test func anEmulatedRigIsCapturedWithoutLoss() throws {
        let dir = try TestPaths.scratch()
        let captured = dir.appendingPathComponent("captured.mcap").path
        let recorder = Process()
        recorder.executableURL = URL(fileURLWithPath: touchdownExecutable)
        recorder.arguments = ["record", "--udp", "127.0.0.1:0", "--map", Self.repo("fixtures/rig/ccsds.yaml"), "--out", captured, "--duration-s", "60"]
        let errors = Pipe(), output = Pipe()
        recorder.standardError = errors
        recorder.standardOutput = output
        try recorder.run()
        // "listening on 127.0.0.1:PORT (…)"
        var text = ""
        while !text.contains("\n") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(text.split(separator: " ").dropFirst(2).first.flatMap { $0.split(separator: ":").last }.flatMap { UInt16($0) },
                                "\(text)")

        let emulate = try run(touchdownExecutable, ["rig", "emulate", "--scenario", Self.repo("fixtures/scenarios/nominal.yaml"),
                                                    "--udp", "127.0.0.1:\(port)", "--map", Self.repo("fixtures/rig/ccsds.yaml"),
                                                    "--rate-x", "100", "--duration-s", "60"])
        #expect(emulate.status == 0, "\(emulate.stderr)")
        #expect(emulate.stdout.contains("sent 3304 packets"), "\(emulate.stdout)")
        usleep(300_000)
        recorder.interrupt()  // SIGINT: a complete, indexed trace and a summary
        recorder.waitUntilExit()
        let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(recorder.terminationStatus == 0, "\(summary)")
        #expect(summary.contains("captured 3304 packets"), "\(summary)")
        #expect(summary.contains("0x101   /imu           1501     0     0           0"), "\(summary)")
        #expect(summary.contains("malformed: none"), "\(summary)")

        // The flight itself, to compare with.
        let flown = dir.appendingPathComponent("flown.mcap").path
        #expect(try run(touchdownExecutable, ["simulate", "--scenario", Self.repo("fixtures/scenarios/nominal.yaml"), "--out", flown]).status == 0)
        func messages(_ path: String, _ topic: String) throws -> [(UInt64, [UInt8])] {
            var out: [(UInt64, [UInt8])] = []
            try TraceReader(path: path).forEachMessage(topics: [topic], end_ns: 60_000_000_000) { _, m in out.append((m.logTime_ns, Array(m.data))) }
            return out
        }
        let imuFlown = try messages(flown, "/imu").map { d in try d.1.withUnsafeBytes { try ImuSample(cdr: $0) } }
        let imuCaptured = try messages(captured, "/imu").map { d in try d.1.withUnsafeBytes { try ImuSample(cdr: $0) } }
        #expect(imuFlown.count == imuCaptured.count && imuFlown.count == 1501)
        for (f, c) in zip(imuFlown, imuCaptured) {
            #expect(f.stamp_ns >= c.stamp_ns && f.stamp_ns - c.stamp_ns < 60, "stamp \(f.stamp_ns) captured as \(c.stamp_ns)")
            #expect(abs(f.accelX_mps2 - c.accelX_mps2) <= 5e-7 && abs(f.rateY_radps - c.rateY_radps) <= 5e-9)
        }
        let altFlown = try messages(flown, "/altimeter").map { d in try d.1.withUnsafeBytes { try AltimeterSample(cdr: $0) } }
        let altCaptured = try messages(captured, "/altimeter").map { d in try d.1.withUnsafeBytes { try AltimeterSample(cdr: $0) } }
        #expect(altFlown.count == altCaptured.count)
        for (f, c) in zip(altFlown, altCaptured) {
            #expect(f.valid == c.valid && abs(f.range_m - c.range_m) <= 0.0005)
        }
    }

    @Test func badAddressesAndMapsAreBadInput() throws {
        let map = Self.repo("fixtures/rig/ccsds.yaml")
        let out = try TestPaths.scratch().appendingPathComponent("x.mcap").path
        let host = try run(touchdownExecutable, ["record", "--udp", "moon:9000", "--map", map, "--out", out])
        #expect(host.status == 2 && host.stderr.contains("moon is not an IPv4 address"), "\(host.stderr)")
        let noCCSDS = try run(touchdownExecutable, ["record", "--udp", "0", "--map", Self.repo("fixtures/rig/ros2.yaml"), "--out", out])
        #expect(noCCSDS.status == 2 && noCCSDS.stderr.contains("the map has no ccsds section"), "\(noCCSDS.stderr)")
        // Options that used to trap the emulator.
        let scenario = Self.repo("fixtures/scenarios/nominal.yaml")
        for (option, value, message) in [("--rate-x", "1e-9", "expected 0 (as fast as possible) or a speed-up"),
                                         ("--duration-s", "nan", "expected a number of simulated seconds")] {
            let r = try run(touchdownExecutable, ["rig", "emulate", "--scenario", scenario, "--udp", "9", "--map", map, option, value])
            #expect(r.status == 2 && r.stderr.contains(message), "\(option) \(value): \(r.stderr)")
        }
    }
}
