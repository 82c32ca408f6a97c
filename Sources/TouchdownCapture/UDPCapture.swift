#if canImport(Glibc)
import Glibc
#endif
import CTouchdownIO
import Foundation
import TouchdownTrace

/// A UDP address: `HOST:PORT`, `:PORT` or `PORT` (then loopback).
public struct UDPAddress: Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    public init(parsing text: String) throws {
        let hostPart: Substring, portPart: Substring
        if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        } else {
            hostPart = ""
            portPart = Substring(text)
        }
        guard let port = UInt16(portPart) else {
            throw CaptureError("\(text): not a UDP address; the form is HOST:PORT (an IPv4 address, e.g. 127.0.0.1:9000), :PORT or PORT (loopback)")
        }
        host = hostPart.isEmpty ? "127.0.0.1" : String(hostPart)
        var probe = in_addr()
        guard inet_pton(AF_INET, host, &probe) == 1 else {
            throw CaptureError("\(text): \(host) is not an IPv4 address (e.g. 127.0.0.1, 0.0.0.0)")
        }
        self.port = port
    }

    public var description: String { "\(host):\(port)" }

    func sockaddr() -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &a.sin_addr)
        return a
    }
}

public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

/// What a capture saw.
public struct CaptureSummary: Sendable {
    public struct APIDCounts: Sendable {
        public var apid: UInt16
        public var topic: String
        public var packets = 0
        /// Gaps in the sequence count (mod 2¹⁴).
        public var lost = 0
        public var duplicates = 0
        public var outOfOrder = 0
        var lastCount: UInt16?
        var lastTime_unixNs = Int64.min
        /// Counts counted lost that may still arrive (late), at most 2¹⁴.
        var missing = Set<UInt16>()
    }
    public var perAPID: [APIDCounts] = []
    public var malformed: [(reason: SpacePacket.Malformed, count: Int)] = SpacePacket.Malformed.allCases.map { ($0, 0) }
    public var beforeT0 = 0
    public var datagrams = 0
    public var duration_s = 0.0
    public var receiverCPU_s = 0.0
}

/// `touchdown record --udp`: CCSDS Space Packets, one per datagram, decoded
/// through a map and written to a trace as they arrive.
///
/// A message's log time is its packet's time code from the descent's t = 0,
/// never the receiving clock; the receive time (also from t = 0) is the
/// record's publish time. Malformed datagrams are counted per reason and
/// logged at most once a second per reason, never fatal. Gaps in each APID's
/// sequence count are counted as lost packets; duplicates and out-of-order
/// packets are counted and kept in arrival order. The trace is the writer's
/// crash-safe kind: after SIGKILL, `trace recover` gets back all but the
/// open chunk.
public final class UDPCapture {
    let layout: TelemetryMap.CCSDSLayout
    let map: TelemetryMap
    let t0_unixNs: Int64
    let fd: Int32
    public let bound: UDPAddress
    let recorder: TraceRecorder
    let sink: FileSink
    let channels: [UInt16]
    var summary = CaptureSummary()
    var lastLog_s: [Double]

    public init(address: UDPAddress, map: TelemetryMap, outPath: String, t0_unixNs: Int64? = nil) throws {
        guard let layout = map.ccsds else { throw CaptureError("\(map.file): the map has no ccsds section") }
        guard let t0 = t0_unixNs ?? layout.t0_unixNs else {
            throw CaptureError("\(map.file): nothing gives the descent's t = 0 in Unix time: set ccsds.t0 in the map (e.g. t0: 1764000000 s) or pass --t0")
        }
        try OutputGuard.refuse(output: outPath, sameAsAnyOf: [map.file])
        self.layout = layout
        self.map = map
        self.t0_unixNs = t0
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CaptureError("cannot open a UDP socket (errno \(errno))") }
        var size: Int32 = 16 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var a = address.sockaddr()
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw CaptureError("cannot listen on \(address): \(String(cString: strerror(e)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let bound = try UDPAddress(parsing: "\(address.host):\(UInt16(bigEndian: actual.sin_port))")
        let recorder: TraceRecorder, sink: FileSink
        do {
            sink = try FileSink(path: outPath)
            recorder = TraceRecorder(writer: try MCAPWriter(sink: sink))
        } catch {
            close(fd)
            throw error
        }
        func channel<M: TraceMessage>(_ type: M.Type, _ topic: String) throws -> UInt16 { try recorder.topic(topic, type).channelID }
        channels = try layout.packets.map { try channel($0.target.type, $0.target.topic) }
        self.fd = fd
        self.bound = bound
        self.recorder = recorder
        self.sink = sink
        summary.perAPID = layout.packets.map { .init(apid: $0.apid, topic: $0.target.topic) }
        lastLog_s = [Double](repeating: -10, count: SpacePacket.Malformed.allCases.count + 1)
        try recorder.writer.addMetadata(name: "touchdown.capture", [
            ("map", map.name), ("listen", bound.description), ("t0_unix_ns", String(t0)),
            ("time", "log time: the packet's CUC time code; publish time: when it was received"),
        ])
        try TraceClock.recordDescentClock(recorder.writer)
    }

    /// Receives until `shouldStop` says so (checked at least every 100 ms)
    /// or `duration_s` has passed; then finishes the trace.
    public func run(duration_s: Double?, shouldStop: () -> Bool, log: (String) -> Void) throws -> CaptureSummary {
        let start = monotonicSeconds()
        let cpuStart = Self.cpu_s()
        defer { close(fd) }
        do {
            try receiveUntilStopped(start: start, duration_s: duration_s, shouldStop: shouldStop, log: log)
            summary.duration_s = monotonicSeconds() - start
            summary.receiverCPU_s = Self.cpu_s() - cpuStart
            try recorder.finish()
        } catch {
            // Nothing captured is thrown away: the partial trace stays for `trace recover`.
            let kept = sink.keepPartial()
            throw CaptureError("the capture stopped: \(error). What was captured is kept in \(kept); `touchdown trace recover \(kept) OUT.mcap` gets back all but the open chunk")
        }
        return summary
    }

    func receiveUntilStopped(start: Double, duration_s: Double?, shouldStop: () -> Bool, log: (String) -> Void) throws {
        while !shouldStop() {
            if let d = duration_s, monotonicSeconds() - start >= d { break }
            try receiveOnce(timeout_ms: 100, log: log)
        }
    }

    static let batch = 64, datagramBytes = 65_536
    lazy var buffers = [UInt8](repeating: 0, count: Self.batch * Self.datagramBytes)
    lazy var lengths = [Int](repeating: 0, count: Self.batch)

    /// Waits up to `timeout_ms` for datagrams, and handles those waiting.
    func receiveOnce(timeout_ms: Int32, log: (String) -> Void) throws {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, timeout_ms)
        if ready < 0 && errno != EINTR { throw CaptureError("waiting for packets failed (errno \(errno))") }
        guard ready > 0 else { return }
        let size = Self.datagramBytes
        let n = receive(&buffers, &lengths, batch: Self.batch, size: size)
        let now = Self.realtime_ns()
        for i in 0..<n {
            try buffers.withUnsafeBytes { all in
                try handle(UnsafeRawBufferPointer(rebasing: all[(i * size)..<(i * size + lengths[i])]), receivedUnix_ns: now, log: log)
            }
        }
    }

    /// Writes the message of the map's packet `k` as it is (a sensor message
    /// sent to a flight computer), at its own log time, with the sequence
    /// count of the packet that carries it, as received packets are written.
    func record(_ payload: UnsafeRawBufferPointer, packet k: Int, sequenceCount: UInt16, logTime_ns: UInt64) throws {
        try recorder.writer.write(channelID: channels[k], sequence: UInt32(sequenceCount), logTime_ns: logTime_ns,
                                  publishTime_ns: logTime_ns, payload: payload)
    }

    /// Up to `batch` datagrams waiting now (recvmmsg), without blocking.
    func receive(_ buffers: inout [UInt8], _ lengths: inout [Int], batch: Int, size: Int) -> Int {
        var sizes = [Int](repeating: 0, count: batch)
        let n = buffers.withUnsafeMutableBufferPointer { b in
            sizes.withUnsafeMutableBufferPointer { l in
                l.withMemoryRebound(to: size_t.self) { td_receive_datagrams(fd, b.baseAddress, size, Int32(batch), $0.baseAddress) }
            }
        }
        guard n > 0 else { return 0 }
        for i in 0..<Int(n) { lengths[i] = sizes[i] }
        return Int(n)
    }

    func handle(_ datagram: UnsafeRawBufferPointer, receivedUnix_ns: Int64, log: (String) -> Void) throws {
        summary.datagrams += 1
        switch SpacePacket.read(datagram, layout) {
        case .failure(let e):
            let k = SpacePacket.Malformed.allCases.firstIndex(of: e.reason)!
            summary.malformed[k].count += 1
            note(k, "malformed datagram (\(datagram.count) bytes\(e.apid.map { ", APID \($0)" } ?? "")): \(e.reason.rawValue); \(summary.malformed[k].count) so far", log)
        case .success(let (header, packet, user)):
            let k = layout.packets.firstIndex { $0.apid == packet.apid }!
            track(&summary.perAPID[k], header.sequenceCount, time_unixNs: header.time_unixNs)
            guard header.time_unixNs >= t0_unixNs else {
                summary.beforeT0 += 1
                note(SpacePacket.Malformed.allCases.count, "packet of APID \(header.apid) stamped before the descent's t = 0; \(summary.beforeT0) so far, not recorded", log)
                return
            }
            let stamp = UInt64(header.time_unixNs.subtractingReportingOverflow(t0_unixNs).partialValue)
            let payload = try SpacePacket.message(packet, stamp_ns: stamp, user)
            let (since, overflow) = receivedUnix_ns.subtractingReportingOverflow(t0_unixNs)
            let received = overflow || since < 0 ? 0 : UInt64(since)
            try payload.withUnsafeBytes { bytes in
                try recorder.writer.write(channelID: channels[k], sequence: UInt32(header.sequenceCount), logTime_ns: stamp,
                                          publishTime_ns: received, payload: bytes)
            }
        }
    }

    /// Sequence counts, mod 2¹⁴. A count ahead of the last is a gap (the
    /// ones between are lost) when its time code is not earlier; a count
    /// behind, or ahead with an earlier time, arrived out of order (and, if
    /// it was counted lost, is lost no more); the same count and time twice
    /// is a duplicate. A jump of half the count range or more is told apart
    /// by the time code alone, so a restarted sender is counted as a gap:
    /// loss is never hidden.
    func track(_ c: inout CaptureSummary.APIDCounts, _ count: UInt16, time_unixNs: Int64) {
        c.packets += 1
        guard let last = c.lastCount else {
            c.lastCount = count
            c.lastTime_unixNs = time_unixNs
            return
        }
        let step = Int((count &- last) & 0x3FFF)
        if step == 0 && time_unixNs == c.lastTime_unixNs {
            c.duplicates += 1
            return
        }
        let ahead = step != 0 && (step < 0x2000 ? time_unixNs >= c.lastTime_unixNs : time_unixNs > c.lastTime_unixNs)
        guard ahead else {
            c.outOfOrder += 1
            if c.missing.remove(count) != nil { c.lost -= 1 }
            return
        }
        c.lost += step - 1
        if step > 1 && c.missing.count < 0x4000 {
            var k = last &+ 1
            for _ in 1..<min(step, 0x4000) {
                c.missing.insert(k & 0x3FFF)
                k &+= 1
            }
        }
        c.lastCount = count
        c.lastTime_unixNs = time_unixNs
    }

    func note(_ reason: Int, _ text: String, _ log: (String) -> Void) {
        let now = monotonicSeconds()
        guard now - lastLog_s[reason] >= 1 else { return }
        lastLog_s[reason] = now
        log(text)
    }

    static func realtime_ns() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }

    static func cpu_s() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
