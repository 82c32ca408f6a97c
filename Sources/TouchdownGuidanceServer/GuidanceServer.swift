#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TouchdownSim
import TouchdownTrace

/// The guidance side of the line protocol (docs/guidance-protocol.md), for a
/// guidance written in Swift. A Swift guidance given to `Replay` directly runs
/// in the tool's own process, where a crash ends the tool and a hang cannot
/// be stopped. Served from its own executable and replayed with
/// `--guidance-cmd`, a crash is the `guidance-crashed` outcome and a step
/// over budget is `guidance-timeout`, as for a C library:
///
///     // Sources/my-guidance/main.swift (depends on TouchdownGuidanceServer
///     // alone: no replayer, no trace reader)
///     import TouchdownGuidanceServer
///     exit(GuidanceServer.serve { knowledge, settings in
///         try MyGuidance(knowledge: knowledge, settings: settings)
///     })
///
///     touchdown replay traces/nominal.mcap --guidance-cmd .build/release/my-guidance
///
/// `touchdown guidance serve NAME` serves a built-in guidance the same way.
///
/// The protocol carries the vehicle's mass, engine and thruster figures but
/// not its engine and attitude time constants or rate limit; a served
/// guidance sees those as NaN.
public enum GuidanceServer {
    /// Serves one session on stdin and stdout and returns the exit status:
    /// 0 after `end`, 1 when `make` refused the settings (after answering
    /// `error`), 2 for a protocol or I/O error (reported on stderr with the
    /// line number). While serving, anything the guidance prints goes to
    /// stderr, and stdin reads `/dev/null`, so stray output cannot corrupt the
    /// protocol.
    public static func serve(_ make: (MissionKnowledge, [(name: String, value: String)]) throws -> any Guidance) -> Int32 {
        let input = dup(0), output = dup(1)
        guard input >= 0, output >= 0 else { return report("cannot duplicate stdin and stdout") }
        _ = dup2(2, 1)
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 { _ = dup2(null, 0); close(null) }
        var session = Session(input: input, output: output)
        defer { close(input); close(output) }
        do {
            return try session.run(make)
        } catch let e as ProtocolError {
            return report(e.message)
        } catch {
            return report("\(error)")
        }
    }

    struct ProtocolError: Error {
        let message: String
    }

    static func report(_ message: String) -> Int32 {
        let line = "guidance server: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        return 2
    }

    struct Session {
        let input: Int32
        let output: Int32
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pending: [UInt8] = []
        var pendingHead = 0
        var lineNumber = 0
        var outgoing: [UInt8] = []
        var endOfInput = false

        init(input: Int32, output: Int32) {
            self.input = input
            self.output = output
        }

        mutating func run(_ make: (MissionKnowledge, [(name: String, value: String)]) throws -> any Guidance) throws -> Int32 {
            guard let hello = try nextLine(), hello == "touchdown-guidance 1" else {
                throw fail("expected \"touchdown-guidance 1\"")
            }
            guard let configLine = try nextLine(), configLine.hasPrefix("config ") || configLine == "config" else {
                throw fail("expected a config line")
            }
            let knowledge = try parseConfig(configLine)
            var settings: [(name: String, value: String)] = []
            while true {
                guard let line = try nextLine() else { throw fail("input ended before start") }
                if line == "start" { break }
                guard line.hasPrefix("param "), let eq = line.firstIndex(of: "="), eq > line.index(line.startIndex, offsetBy: 6) else {
                    throw fail("expected param NAME=VALUE or start")
                }
                settings.append((String(line[line.index(line.startIndex, offsetBy: 6)..<eq]), String(line[line.index(after: eq)...])))
            }
            var guidance: any Guidance
            do {
                guidance = try make(knowledge, settings)
            } catch {
                let message = "\(error)".map { $0.isNewline ? " " : $0 }
                emit("error " + String(message) + "\n")
                try flush()
                return 1
            }
            emit("ready\n")
            try flush()
            while let line = try nextLine() {
                let words = line.split(separator: " ", omittingEmptySubsequences: false)
                switch words[0] {
                case "imu":
                    let v = try numbers(words, 6)
                    guidance.receive(.imu(ImuSample(stamp_ns: try stamp(words), accelX_mps2: v[0], accelY_mps2: v[1], accelZ_mps2: v[2],
                                                    rateX_radps: v[3], rateY_radps: v[4], rateZ_radps: v[5])))
                case "altimeter":
                    let v = try numbers(words, 1, flags: 1)
                    guidance.receive(.altimeter(AltimeterSample(stamp_ns: try stamp(words), range_m: v[0], valid: try flag(words, 3))))
                case "velocimeter":
                    let v = try numbers(words, 2, flags: 1)
                    guidance.receive(.velocimeter(VelocimeterSample(stamp_ns: try stamp(words), horizontalVelocity_mps: v[0],
                                                                    verticalVelocity_mps: v[1], valid: try flag(words, 4))))
                case "attitude":
                    let v = try numbers(words, 1, flags: 1)
                    guidance.receive(.attitude(AttitudeSample(stamp_ns: try stamp(words), pitch_rad: v[0], valid: try flag(words, 3))))
                case "step":
                    guard words.count == 2 else { throw fail("expected step TIME_NS") }
                    let o = guidance.step(time_ns: try stamp(words))
                    for e in o.events {
                        let kind = e.kind.isEmpty ? "event" : String(e.kind.map { $0 == " " || $0.isNewline ? "_" : $0 })
                        let detail = String(e.detail.map { $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) ? " " : $0 })
                        emit("event \(kind) \(e.anomaly ? 1 : 0) \(detail)\n")
                    }
                    let c = o.command, n = o.navigation
                    emit("output \(c.mainThrottle_fraction) \(c.thrusterThrottle_fraction) \(c.pitchCommand_rad) \(n.downrange_m) \(n.altitude_m) \(n.verticalSpeed_mps) \(n.horizontalSpeed_mps) \(n.pitch_rad)\n")
                    try flush()
                case "end":
                    return 0
                default:
                    throw fail("unknown line")
                }
            }
            throw fail("input ended without end")
        }

        func parseConfig(_ line: String) throws -> MissionKnowledge {
            var values: [String: Double] = [:]
            for pair in line.split(separator: " ").dropFirst() {
                guard let eq = pair.firstIndex(of: "=") else { throw fail("config entry \"\(pair)\" is not KEY=VALUE") }
                let key = String(pair[..<eq])
                guard GuidanceConfig.keys.contains(key) else { continue }  // a newer tool may send more
                guard values[key] == nil else { throw fail("config key \(key) given twice") }
                guard let v = Double(pair[pair.index(after: eq)...]), v.isFinite else {
                    throw fail("config \(key) is not a finite number")
                }
                values[key] = v
            }
            let missing = GuidanceConfig.keys.filter { values[$0] == nil }
            guard missing.isEmpty else { throw fail("config lacks \(missing.joined(separator: ", "))") }
            guard let thrusters = Int(exactly: values["thruster_count"]!), thrusters >= 0 else {
                throw fail("config thruster_count is not a whole number")
            }
            // Every field the protocol carries is set below; the rest stay NaN.
            let nan = Double.nan
            var knowledge = MissionKnowledge(
                siteDownrange_m: nan, siteElevation_m: nan, moonRadius_m: nan, moonGM_m3ps2: nan,
                vehicle: Scenario.Vehicle(initialMass_kg: nan, dryMass_kg: nan, isp_s: nan, mainThrust_n: nan,
                                          mainMinThrottle_fraction: nan, thrusterCount: thrusters, thrusterThrust_n: nan,
                                          engineTimeConstant_s: nan, attitudeTimeConstant_s: nan, attitudeRateLimit_radps: nan),
                initialNavigation: NavSample(stamp_ns: 0, downrange_m: nan, altitude_m: nan, verticalSpeed_mps: nan,
                                             horizontalSpeed_mps: nan, pitch_rad: nan),
                altitudeSigma_m: nan, speedSigma_mps: nan, guidanceRate_hz: nan)
            for case let (key, path?) in GuidanceConfig.fields { knowledge[keyPath: path] = values[key]! }
            return knowledge
        }

        /// `count` numbers after the stamp, then `flags` booleans.
        func numbers(_ words: [Substring], _ count: Int, flags: Int = 0) throws -> [Double] {
            guard words.count == 2 + count + flags else {
                throw fail("expected \(words[0]) with a stamp and \(count + flags) values")
            }
            return try words[2..<(2 + count)].map { w in
                guard let d = Double(w) else { throw fail("\"\(w)\" is not a number") }
                return d
            }
        }

        func stamp(_ words: [Substring]) throws -> UInt64 {
            guard words.count > 1, let t = UInt64(words[1]) else { throw fail("expected a stamp in nanoseconds") }
            return t
        }

        func flag(_ words: [Substring], _ index: Int) throws -> Bool {
            switch words[index] {
            case "0": return false
            case "1": return true
            default: throw fail("\"\(words[index])\" is not 0 or 1")
            }
        }

        func fail(_ problem: String) -> ProtocolError {
            ProtocolError(message: "line \(lineNumber): \(problem)")
        }

        mutating func emit(_ text: String) { outgoing.append(contentsOf: text.utf8) }

        mutating func flush() throws {
            var sent = 0
            while sent < outgoing.count {
                let n = outgoing.withUnsafeBytes { write(output, $0.baseAddress! + sent, $0.count - sent) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw ProtocolError(message: "cannot write to the tool: \(String(cString: strerror(errno)))") }
                sent += n
            }
            outgoing.removeAll(keepingCapacity: true)
        }

        /// The next line without its LF, or nil at the end of input.
        mutating func nextLine() throws -> String? {
            while true {
                if let lf = pending[pendingHead...].firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pendingHead..<lf], as: UTF8.self)
                    pendingHead = lf + 1
                    if pendingHead > 65536 { pending.removeFirst(pendingHead); pendingHead = 0 }
                    lineNumber += 1
                    return line
                }
                guard pending.count - pendingHead <= GuidanceConfig.lineLimit else {
                    lineNumber += 1
                    throw fail("a line longer than \(GuidanceConfig.lineLimit) bytes")
                }
                if endOfInput {
                    guard pendingHead == pending.count else {
                        lineNumber += 1
                        throw fail("the last line has no LF")
                    }
                    return nil
                }
                let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw ProtocolError(message: "cannot read from the tool: \(String(cString: strerror(errno)))") }
                if n == 0 { endOfInput = true } else { pending.append(contentsOf: buffer[0..<n]) }
            }
        }
    }
}
