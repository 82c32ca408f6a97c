#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TouchdownSim
import TouchdownTrace

/// `touchdown rig emulate`: a stand-in for a hardware rig. It flies a
/// scenario and streams the sensor messages (IMU, altimeter, velocimeter,
/// attitude) the map names as CCSDS Space
/// Packets, one per datagram, on the flight's clock: in real time, or
/// `rateX` times faster (0: as fast as the socket takes them). Each packet's
/// time code is t0 plus the instant its message describes. The test suite's
/// rig, and a way for users to check a capture set-up.
public enum RigEmulator {
    public struct Summary: Sendable {
        public var packets: [(apid: UInt16, topic: String, count: Int)] = []
        public var simulated_s = 0.0
        public var outcome = ""
    }

    public static func run(scenarioPath: String, guidance: String?, map: TelemetryMap, to address: UDPAddress,
                           rateX: Double, duration_s: Double?, t0_unixNs: Int64?, scratch: String) throws -> Summary {
        guard let layout = map.ccsds else { throw CaptureError("\(map.file): the map has no ccsds section") }
        guard let t0 = t0_unixNs ?? layout.t0_unixNs else {
            throw CaptureError("\(map.file): nothing gives the descent's t = 0 in Unix time: set ccsds.t0 in the map or pass --t0")
        }
        guard rateX == 0 || (rateX >= 0.001 && rateX <= 1e6) else {
            throw CaptureError("--rate-x \(rateX): expected 0 (as fast as possible) or a speed-up from 0.001 to 1000000")
        }
        if let d = duration_s, !(d > 0 && d <= 1e6) {
            throw CaptureError("--duration-s \(d): expected a number of simulated seconds above 0 (at most 1000000)")
        }
        let scenario = try Scenario.load(path: scenarioPath)
        let simulation = Simulation(scenario: scenario, guidance: guidance)
        let flown = (scratch as NSString).appendingPathComponent("emulated-flight.mcap")
        let outcome = try simulation.run(recorder: try TraceRecorder(path: flown, options: Simulation.traceOptions))
        defer { try? FileManager.default.removeItem(atPath: flown) }

        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CaptureError("cannot open a UDP socket (errno \(errno))") }
        defer { close(fd) }
        var destination = address.sockaddr()
        var summary = Summary()
        summary.outcome = outcome.kind.rawValue
        var counts = [Int](repeating: 0, count: layout.packets.count)
        let limit_ns = duration_s.map { UInt64($0 * 1e9) }
        let start = UDPCapture.monotonic_s()
        let reader = try TraceReader(path: flown)
        // A rig streams its sensors; a map's command APID is for what comes back.
        let sensorTopics = [TouchdownTopics.imu, TouchdownTopics.altimeter, TouchdownTopics.velocimeter, TouchdownTopics.attitude]
        try reader.forEachMessage(topics: sensorTopics) { decoder, m in
            guard let k = layout.packets.firstIndex(where: { $0.target.topic == decoder.channel.topic }) else { return }
            if let limit_ns, m.logTime_ns > limit_ns { return }
            summary.simulated_s = max(summary.simulated_s, Double(m.logTime_ns) * 1e-9)
            let value = try decoder.value(m.data)
            guard case .message(let fields) = value, case .uint(let stamp)? = fields.first?.value else { return }
            let packet = layout.packets[k]
            let bytes = SpacePacket.write(packet, layout, sequenceCount: UInt16(counts[k] & 0x3FFF),
                                          time_unixNs: t0 &+ Int64(clamping: stamp)) { name in
                switch fields.first(where: { $0.name == name })?.value {
                case .float(let d)?: d
                case .bool(let b)?: b ? 1 : 0
                default: 0
                }
            }
            if rateX > 0 {
                let due = start + Double(m.logTime_ns) * 1e-9 / rateX
                var wait = due - UDPCapture.monotonic_s()
                while wait > 0 {
                    usleep(useconds_t(min(wait, 1) * 1e6))
                    wait = due - UDPCapture.monotonic_s()
                }
            }
            let sent = bytes.withUnsafeBytes { b in
                withUnsafePointer(to: &destination) { d in
                    d.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            guard sent == bytes.count else { throw CaptureError("sending to \(address) failed: \(String(cString: strerror(errno)))") }
            counts[k] += 1
        }
        summary.packets = zip(layout.packets, counts).filter { sensorTopics.contains($0.0.target.topic) }.map { ($0.apid, $0.target.topic, $1) }
        return summary
    }
}
