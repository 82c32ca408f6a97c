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

        // The flight's clock starts at its scenario's epoch; packets carry t0 + t.
        let epoch_ns = scenario.recording.epoch_ns
        let sender = try PacketSender(to: address, layout: layout, t0_unixNs: t0, epoch_ns: epoch_ns)
        var summary = Summary()
        summary.outcome = outcome.kind.rawValue
        let limit_ns = duration_s.map { UInt64($0 * 1e9) }
        let start = monotonicSeconds()
        let reader = try TraceReader(path: flown)
        try reader.forEachMessage(topics: PacketSender.sensorTopics) { decoder, m in
            let t = m.logTime_ns &- epoch_ns
            if let limit_ns, t > limit_ns { return }
            guard let packet = try sender.packet(decoder, m.data) else { return }
            summary.simulated_s = max(summary.simulated_s, Double(t) * 1e-9)
            if rateX > 0 {
                let due = start + Double(t) * 1e-9 / rateX
                var wait = due - monotonicSeconds()
                while wait > 0 {
                    usleep(useconds_t(min(wait, 1) * 1e6))
                    wait = due - monotonicSeconds()
                }
            }
            try sender.send(packet)
        }
        summary.packets = sender.sentPerAPID
        return summary
    }
}

/// Sends a trace's sensor messages as Space Packets per a map: the rig side
/// of `rig emulate` and `rig stimulate`.
final class PacketSender {
    /// A rig streams its sensors; a map's command APID is for what comes back.
    static let sensorTopics = [TouchdownTopics.imu, TouchdownTopics.altimeter, TouchdownTopics.velocimeter, TouchdownTopics.attitude]
    let fd: Int32
    let address: UDPAddress
    var destination: sockaddr_in
    let layout: TelemetryMap.CCSDSLayout
    let t0_unixNs: Int64
    /// The start of descent on the clock of the trace the messages come from.
    let epoch_ns: UInt64
    var counts: [Int]

    init(to address: UDPAddress, layout: TelemetryMap.CCSDSLayout, t0_unixNs: Int64, epoch_ns: UInt64) throws {
        self.epoch_ns = epoch_ns
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CaptureError("cannot open a UDP socket (errno \(errno))") }
        self.address = address
        destination = address.sockaddr()
        self.layout = layout
        self.t0_unixNs = t0_unixNs
        counts = [Int](repeating: 0, count: layout.packets.count)
    }

    deinit { close(fd) }

    /// The packet for a message on a mapped topic (nil for any other), its
    /// time code t0 plus the instant the message describes.
    func packet(_ decoder: TraceReader.ChannelDecoder, _ data: UnsafeRawBufferPointer) throws -> (k: Int, bytes: [UInt8])? {
        guard let k = layout.packets.firstIndex(where: { $0.target.topic == decoder.channel.topic }) else { return nil }
        guard case .message(let fields) = try decoder.value(data), case .uint(let stamp)? = fields.first?.value else { return nil }
        let bytes = SpacePacket.write(layout.packets[k], layout, sequenceCount: sequenceCount(k),
                                      time_unixNs: t0_unixNs &+ Int64(clamping: stamp >= epoch_ns ? stamp - epoch_ns : 0)) { name in
            switch fields.first(where: { $0.name == name })?.value {
            case .float(let d)?: d
            case .bool(let b)?: b ? 1 : 0
            default: 0
            }
        }
        return (k, bytes)
    }

    /// The sequence count (mod 2¹⁴) of the next packet `k` made.
    func sequenceCount(_ k: Int) -> UInt16 { UInt16(counts[k] & 0x3FFF) }

    func send(_ packet: (k: Int, bytes: [UInt8])) throws {
        let sent = packet.bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &destination) { d in
                d.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == packet.bytes.count else { throw CaptureError("sending to \(address) failed: \(String(cString: strerror(errno)))") }
        counts[packet.k] += 1
    }

    var sentPerAPID: [(apid: UInt16, topic: String, count: Int)] {
        zip(layout.packets, counts).filter { Self.sensorTopics.contains($0.0.target.topic) }.map { ($0.apid, $0.target.topic, $1) }
    }
}
