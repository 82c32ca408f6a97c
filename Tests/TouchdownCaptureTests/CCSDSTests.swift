#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TouchdownCapture
import TouchdownTestSupport
import TouchdownTrace

@Suite(.serialized) struct CCSDSTests {
    static func map() throws -> TelemetryMap {
        try TelemetryMap.load(path: TestPaths.repository.appendingPathComponent("fixtures/rig/ccsds.yaml").path)
    }

    @Test func packetsRoundTripThroughTheMap() throws {
        let map = try Self.map()
        let layout = try #require(map.ccsds)
        #expect(layout.epochUnix_ns == 946_684_800 * 1_000_000_000)  // 2000-01-01
        let imu = try #require(layout.packets.first { $0.apid == 0x101 })
        let values: [String: Double] = ["accel_x_mps2": 1.2345678, "accel_y_mps2": -0.000321, "accel_z_mps2": 0.002,
                                        "rate_x_radps": -0.0123456, "rate_y_radps": 0.00001, "rate_z_radps": 0]
        let time = 1_764_000_123_456_000_000 as Int64
        let bytes = SpacePacket.write(imu, layout, sequenceCount: 16_383, time_unixNs: time) { values[$0]! }
        #expect(bytes.count == 6 + 7 + 24)
        #expect(bytes[0] == 0x09 && bytes[1] == 0x01)  // version 0, telemetry, secondary header, APID 0x101
        #expect(Int(bytes[4]) << 8 | Int(bytes[5]) == bytes.count - 7)
        try bytes.withUnsafeBytes { raw in
            guard case .success(let (header, packet, user)) = SpacePacket.read(raw, layout) else {
                Issue.record("a packet written through the map does not read back")
                return
            }
            #expect(header.apid == 0x101 && header.sequenceCount == 16_383)
            // Three octets of fraction: 2^-24 s, 60 ns.
            #expect(abs(header.time_unixNs - time) < 60)
            let payload = try SpacePacket.message(packet, stamp_ns: 7, user)
            let m = try payload.withUnsafeBytes { try ImuSample(cdr: $0) }
            #expect(m.stamp_ns == 7)
            #expect(abs(m.accelX_mps2 - 1.2345678) <= 5e-7 && abs(m.accelY_mps2 + 0.000321) <= 5e-7)
            #expect(abs(m.rateX_radps + 0.0123456) <= 5e-9)
        }
    }

    @Test func mapErrorsSayWhereAndWhatIsAccepted() {
        let cases: [(String, String)] = [
            ("name: x\nccsds:\n  time: {coarse: 5}\n  packets: [{apid: 1, to: /attitude, fields: {}}]\n", "m.yaml:3:18: ccsds.time.coarse \"5\" is not accepted: 1 to 4 octets"),
            ("name: x\nccsds:\n  time: {}\n  packets: [{apid: 0x800, to: /attitude, fields: {}}]\n", "m.yaml:4:20: ccsds.packets[0].apid \"0x800\" is not an APID"),
            ("name: x\nccsds:\n  time: {}\n  packets:\n    - {apid: 1, to: /attitude, fields: {pitch_rad: {at: 0, type: int24}, valid: {value: true}}}\n",
             "ccsds.packets[0].fields.pitch_rad.type \"int24\" is not accepted: int8, int16"),
            ("name: x\nccsds:\n  time: {}\n  packets:\n    - {apid: 1, to: /attitude, fields: {pitch_rad: {at: 0, type: int16}, valid: {at: 2, type: uint8, bits: 3..9}}}\n",
             "bits \"3..9\" is not accepted"),
            // An epoch whose time codes reach past 2262 would trap on the first packet.
            ("name: x\nccsds:\n  time: {epoch: 2263-01-01}\n  packets: [{apid: 1, to: /attitude, fields: {}}]\n", "reaches outside 1678 to 2262"),
            ("name: x\nccsds:\n  time: {epoch: 2000-02-31}\n  packets: [{apid: 1, to: /attitude, fields: {}}]\n", "is not a date YYYY-MM-DD"),
            // A field past what a 16-bit length field can carry.
            ("name: x\nccsds:\n  time: {}\n  packets:\n    - {apid: 1, to: /attitude, fields: {pitch_rad: {at: 65530, type: float64}, valid: {value: true}}}\n",
             "ends past the 65530 bytes of user data"),
        ]
        for (text, message) in cases {
            do {
                _ = try TelemetryMap.parse(text: text, file: "m.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// Sequence counts: a jump of more than half the range with a later time
    /// is loss, not reordering; a late packet is taken back out of the lost.
    @Test func sequenceGapsAreNeverHidden() throws {
        let capture = try UDPCapture(address: try UDPAddress(parsing: "127.0.0.1:0"), map: try Self.map(),
                                     outPath: try TestPaths.scratch().appendingPathComponent("c.mcap").path)
        func counts(_ packets: [(UInt16, Int64)]) -> CaptureSummary.APIDCounts {
            var c = CaptureSummary.APIDCounts(apid: 1, topic: "/imu")
            for (n, t) in packets { capture.track(&c, n, time_unixNs: t) }
            return c
        }
        let jump = counts([(0, 0), (1, 1), (2, 2), (10_000, 3), (10_001, 4)])
        #expect(jump.lost == 9_997 && jump.outOfOrder == 0)
        let late = counts([(0, 0), (1, 1), (3, 3), (2, 2), (4, 4)])
        #expect(late.lost == 0 && late.outOfOrder == 1)
        let restart = counts([(5_000, 0), (5_001, 1), (0, 2), (1, 3)])
        #expect(restart.lost == 11_382 && restart.outOfOrder == 0)
        let wrap = counts([(16_382, 0), (16_383, 1), (0, 2), (2, 3)])
        #expect(wrap.lost == 1 && wrap.duplicates == 0)
        let twice = counts([(7, 0), (7, 0)])
        #expect(twice.duplicates == 1)
    }

    @Test func integerFieldsClampAndTakeNaNAsZero() {
        var bytes = [UInt8](repeating: 0, count: 8)
        bytes.withUnsafeMutableBytes { b in
            TelemetryMap.BinaryField(offset: 0, kind: .uint64, bigEndian: true, bits: 0...63).write(1e30, into: b)
        }
        #expect(bytes == [UInt8](repeating: 0xFF, count: 8))
        bytes = [UInt8](repeating: 7, count: 8)
        bytes.withUnsafeMutableBytes { b in
            TelemetryMap.BinaryField(offset: 0, kind: .int32, bigEndian: true, bits: nil).write(.nan, into: b)
            TelemetryMap.BinaryField(offset: 4, kind: .int16, bigEndian: true, bits: nil).write(-1e9, into: b)
        }
        #expect(bytes[0..<6] == [0, 0, 0, 0, 0x80, 0x00])
    }

    /// A capture that cannot write keeps what it captured for `trace recover`.
    @Test func aSinkGivenUpKeepsItsBytes() throws {
        let path = try TestPaths.scratch().appendingPathComponent("kept.mcap").path
        let sink = try FileSink(path: path)
        try [UInt8](repeating: 42, count: 100).withUnsafeBytes { try sink.write($0) }
        let kept = sink.keepPartial()
        withExtendedLifetime(sink) {}
        #expect(try Data(contentsOf: URL(fileURLWithPath: kept)).count == 100)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    static func send(_ datagrams: [[UInt8]], to port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr)
        for d in datagrams {
            _ = d.withUnsafeBytes { b in
                withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                } }
            }
        }
    }

    /// Malformed datagrams are counted per reason and never end the capture;
    /// sequence gaps, duplicates and reordering are counted; what is good is
    /// recorded in arrival order.
    @Test func captureCountsWhatIsWrongAndKeepsWhatIsRight() throws {
        let map = try Self.map()
        let layout = try #require(map.ccsds)
        let attitude = try #require(layout.packets.first { $0.apid == 0x104 })
        let out = try TestPaths.scratch().appendingPathComponent("cap.mcap").path
        let capture = try UDPCapture(address: try UDPAddress(parsing: "127.0.0.1:0"), map: map, outPath: out)
        let t0 = layout.t0_unixNs!
        func packet(_ count: UInt16, at s: Int64) -> [UInt8] {
            SpacePacket.write(attitude, layout, sequenceCount: count, time_unixNs: t0 + s * 1_000_000_000) { $0 == "valid" ? 1 : 0.5 }
        }
        var wrongVersion = packet(1, at: 1); wrongVersion[0] |= 0x20
        var wrongLength = packet(1, at: 1); wrongLength[5] &+= 1
        var unknown = packet(1, at: 1); unknown[1] = 0xFF
        let datagrams = [packet(5, at: 1), packet(8, at: 3), packet(8, at: 3), packet(7, at: 2), [0x08, 0x01, 0xC0],
                         wrongVersion, wrongLength, unknown, packet(9, at: 4)]
        let port = capture.bound.port
        let sender = Thread { usleep(200_000); Self.send(datagrams, to: port) }
        sender.start()
        var logged: [String] = []
        let summary = try capture.run(duration_s: 1.0, shouldStop: { false }) { logged.append($0) }
        let a = try #require(summary.perAPID.first { $0.apid == 0x104 })
        #expect(a.packets == 5 && a.lost == 1 && a.duplicates == 1 && a.outOfOrder == 1, "\(a)")  // 6 lost; 7 late
        func count(_ r: SpacePacket.Malformed) -> Int { summary.malformed.first { $0.reason == r }!.count }
        #expect(count(.short) == 1 && count(.version) == 1 && count(.length) == 1 && count(.unknownAPID) == 1)
        #expect(logged.count == 4, "\(logged)")
        var stamps: [UInt64] = []
        try TraceReader(path: out).forEachMessage { _, m in stamps.append(m.logTime_ns / 1_000_000_000) }
        #expect(stamps.sorted() == [1, 2, 3, 3, 4])
        #expect(try TraceReader(path: out).indexed != nil)
    }
}
