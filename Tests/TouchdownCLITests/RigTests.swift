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
        // The first 60 s of descent, on t (the flight's clock starts at its epoch, the capture's at t = 0).
        func messages(_ path: String, _ topic: String) throws -> [(UInt64, [UInt8])] {
            var out: [(UInt64, [UInt8])] = []
            let reader = try TraceReader(path: path)
            let epoch = try reader.indexed.flatMap { try TraceClock.epoch_ns($0) } ?? 0
            try reader.forEachMessage(topics: [topic], end_ns: epoch + 60_000_000_000) { d, m in
                out.append((m.logTime_ns - epoch, try TraceClock.restamp(m.data, schemaName: d.schema!.name, earlierBy: epoch)!))
            }
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

    /// A capture killed with SIGKILL leaves its partial trace, from which
    /// `trace recover` gets back everything but the open chunk (at most one
    /// second of log time).
    @Test func aKilledCaptureLosesAtMostTheOpenChunk() throws {
        let dir = try TestPaths.scratch()
        let captured = dir.appendingPathComponent("captured.mcap").path
        let recorder = Process()
        recorder.executableURL = URL(fileURLWithPath: touchdownExecutable)
        recorder.arguments = ["record", "--udp", "127.0.0.1:0", "--map", Self.repo("fixtures/rig/ccsds.yaml"), "--out", captured]
        let errors = Pipe()
        recorder.standardError = errors
        recorder.standardOutput = FileHandle.nullDevice
        try recorder.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(text.split(separator: " ").dropFirst(2).first.flatMap { $0.split(separator: ":").last }.flatMap { UInt16($0) })
        let emulate = try run(touchdownExecutable, ["rig", "emulate", "--scenario", Self.repo("fixtures/scenarios/nominal.yaml"),
                                                    "--udp", "127.0.0.1:\(port)", "--map", Self.repo("fixtures/rig/ccsds.yaml"),
                                                    "--rate-x", "100", "--duration-s", "60"])
        #expect(emulate.status == 0)
        usleep(300_000)
        kill(recorder.processIdentifier, SIGKILL)
        recorder.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: captured))
        let partial = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasPrefix(".captured.mcap.partial-") })
        let recovered = dir.appendingPathComponent("recovered.mcap").path
        let r = try run(touchdownExecutable, ["trace", "recover", dir.appendingPathComponent(partial).path, recovered])
        #expect([0, 3, 4].contains(r.status), "\(r.stdout) \(r.stderr)")
        var count = 0, last: UInt64 = 0
        try TraceReader(path: recovered).forEachMessage { _, m in count += 1; last = max(last, m.logTime_ns) }
        // 3,304 sent over 60 s of log time; one chunk holds at most 1 s of it (about 56 packets).
        #expect(count >= 3_304 - 60 && count <= 3_304, "recovered \(count)")
        #expect(last >= 59_000_000_000)
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

/// Hardware-in-the-loop replay against the stand-in flight computer in
/// examples/: every attitude packet sent is answered by one command packet,
/// stamped with that packet's time code and made by its control law from the
/// sensors it was sent; the output trace replays open loop.
@Suite(.serialized) struct RigStimulateTests {
    static func repo(_ path: String) -> String { TestPaths.repository.appendingPathComponent(path).path }

    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: a.sin_port)
    }

    @Test func aFlightComputerAnswersEveryAttitudePacket() throws {
        let dir = try TestPaths.scratch()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        #expect(try run(touchdownExecutable, ["trace", "generate", "--profile", "reference-descent", "--duration-s", "30", "--out", p("in.mcap")]).status == 0)
        let commandsPort = Self.freePort()
        let computer = Process()
        computer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        computer.arguments = [Self.repo("examples/packet-flight-computer.py"), "--listen", "127.0.0.1:0", "--send", "127.0.0.1:\(commandsPort)",
                              "--duration-s", "120"]
        let errors = Pipe()
        computer.standardError = errors
        try computer.run()
        defer { if computer.isRunning { computer.terminate() } }
        var text = ""
        while !text.contains("\n") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(text.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "\(text)")

        let r = try run(touchdownExecutable, ["rig", "stimulate", p("in.mcap"), "--to", "127.0.0.1:\(port)", "--listen", "127.0.0.1:\(commandsPort)",
                                              "--map", Self.repo("fixtures/rig/ccsds.yaml"), "--rate-x", "10", "--out", p("out.mcap")])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("received 301 command packets"), "\(r.stdout)")
        #expect(r.stdout.contains("commands: 301, lost 0, duplicates 0, out of order 0"), "\(r.stdout)")

        var attitude: [UInt64: Double] = [:], velocity: [(UInt64, Double, Bool)] = [], commands: [CommandSample] = []
        var attitudeSequences: [UInt32] = []
        try TraceReader(path: p("out.mcap")).forEachMessage { d, m in
            if d.channel.topic == "/attitude" { attitudeSequences.append(m.sequence) }
            switch d.channel.topic {
            case "/attitude": let a = try AttitudeSample(cdr: m.data); attitude[a.stamp_ns] = a.pitch_rad
            case "/velocimeter": let v = try VelocimeterSample(cdr: m.data); velocity.append((v.stamp_ns, v.verticalVelocity_mps, v.valid))
            case "/command": commands.append(try CommandSample(cdr: m.data))
            default: break
            }
        }
        #expect(commands.count == 301 && attitude.count == 301)
        // Each sensor message sent is written with its packet's sequence count
        // (all were 0).
        #expect(attitudeSequences == (0..<301).map { UInt32($0) })
        for c in commands {
            // Stamped with its attitude packet's time code (2^-24 s resolution).
            let match = attitude.keys.first { $0 >= c.stamp_ns && $0 - c.stamp_ns < 60 }
            let stamp = try #require(match, "command at \(c.stamp_ns) answers no attitude packet")
            // The pitch as sent: quantised to the map's 5e-5 rad, then to the command's 1e-7.
            #expect(abs(c.pitchCommand_rad - attitude[stamp]!) <= 2.5e-5 + 1e-7)
            // The law, from the last valid vertical velocity sent at or before it.
            let v = velocity.last { $0.0 <= stamp && $0.2 }?.1 ?? 0
            let law = min(max(0.5 - 0.05 * (Double(Float(v)) + 2), 0), 1)
            #expect(abs(c.mainThrottle_fraction - law) <= 2e-5, "throttle \(c.mainThrottle_fraction) against \(law)")
        }
        // Faults act on the sensors sent: an attitude blackout from 10 s to 20 s leaves 200 packets to answer.
        let faulted = try run(touchdownExecutable, ["rig", "stimulate", p("in.mcap"), "--to", "127.0.0.1:\(port)", "--listen", "127.0.0.1:\(commandsPort)",
                                                    "--map", Self.repo("fixtures/rig/ccsds.yaml"), "--rate-x", "10", "--fault", "attitude.blackout@10s..20s",
                                                    "--scenario", Self.repo("fixtures/scenarios/nominal.yaml"), "--out", p("faulted.mcap")])
        #expect(faulted.status == 0 && faulted.stdout.contains("received 200 command packets"), "\(faulted.stdout) \(faulted.stderr)")
        // The output replays open loop against a guidance (which disagrees with this law: diverged, not an error).
        let replay = try run(touchdownExecutable, ["replay", p("out.mcap"), "--mode", "open-loop", "--scenario", Self.repo("fixtures/scenarios/nominal.yaml"),
                                                   "--expect", "any"])
        #expect(replay.status == 0 && replay.stdout.contains("divergence"), "\(replay.stdout) \(replay.stderr)")
    }
}
