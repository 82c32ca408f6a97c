#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TouchdownTrace

/// `touchdown rig stimulate`: hardware-in-the-loop replay. A trace's sensor
/// messages go as CCSDS packets, on the trace's clock, to guidance running on
/// a flight computer; the command packets it sends back are received at the
/// same time and written, with the sensors as sent, into an output trace that
/// open-loop replay reads. The flight computer runs on its own clock: its
/// commands are stamped with their own time codes, so comparing them with a
/// guidance is time-aligned and within tolerances, not step for step.
public enum RigStimulator {
    public struct Summary: Sendable {
        public var sent: [(apid: UInt16, topic: String, count: Int)] = []
        public var commands = 0
        public var capture = CaptureSummary()
    }

    public static func run(tracePath: String, map: TelemetryMap, to address: UDPAddress, listen: UDPAddress, rateX: Double,
                           outPath: String, t0_unixNs: Int64?, grace_s: Double = 1,
                           listening: (UDPAddress) -> Void = { _ in }, log: (String) -> Void = { _ in }) throws -> Summary {
        guard let layout = map.ccsds else { throw CaptureError("\(map.file): the map has no ccsds section") }
        guard layout.packets.contains(where: { $0.target.topic == TouchdownTopics.command }) else {
            throw CaptureError("\(map.file): no APID maps to \(TouchdownTopics.command): the map must say how the flight computer's command packets read")
        }
        guard rateX == 0 || (rateX >= 0.001 && rateX <= 1e6) else {
            throw CaptureError("--rate-x \(rateX): expected 0 (as fast as possible) or a speed-up from 0.001 to 1000000")
        }
        try OutputGuard.refuse(output: outPath, sameAsAnyOf: [tracePath, map.file])
        let reader = try TraceReader(path: tracePath)
        guard reader.indexed != nil else {
            throw CaptureError("\(tracePath): the trace has no intact summary; run `touchdown trace recover` first")
        }
        // The receiving side is a capture of the command packets; the sensors
        // sent are written into the same trace.
        let capture = try UDPCapture(address: listen, map: map, outPath: outPath, t0_unixNs: t0_unixNs)
        listening(capture.bound)
        let t0 = capture.t0_unixNs
        // The trace's clock starts at its epoch (its first message when it
        // names none); packets and the output trace carry t from there.
        var epoch_ns = try reader.indexed.flatMap { try TraceClock.epoch_ns($0) }
        let sender = try PacketSender(to: address, layout: layout, t0_unixNs: t0, epoch_ns: 0)
        var summary = Summary()
        let start = monotonicSeconds()
        try reader.forEachMessage(topics: PacketSender.sensorTopics) { decoder, m in
            if epoch_ns == nil { epoch_ns = m.logTime_ns }
            let epoch = epoch_ns!
            let t = m.logTime_ns >= epoch ? m.logTime_ns - epoch : 0
            guard let data = try decoder.schema.flatMap({ try TraceClock.restamp(m.data, schemaName: $0.name, earlierBy: epoch) }) else { return }
            let packet = try data.withUnsafeBytes { try sender.packet(decoder, $0) }
            guard let packet else { return }
            if rateX > 0 {
                let due = start + Double(t) * 1e-9 / rateX
                // Waiting is receiving: commands come back while sensors go out.
                while monotonicSeconds() < due {
                    try capture.receiveOnce(timeout_ms: Int32(max(0, min(100, (due - monotonicSeconds()) * 1000))), log: log)
                }
            }
            try capture.receiveOnce(timeout_ms: 0, log: log)
            try data.withUnsafeBytes {
                try capture.record($0, packet: packet.k, sequenceCount: sender.sequenceCount(packet.k), logTime_ns: t)
            }
            try sender.send(packet)
        }
        // The flight computer's last commands.
        summary.capture = try capture.run(duration_s: grace_s, shouldStop: { false }, log: log)
        summary.sent = sender.sentPerAPID
        summary.commands = summary.capture.perAPID.filter { $0.topic == TouchdownTopics.command }.reduce(0) { $0 + $1.packets }
        return summary
    }
}
