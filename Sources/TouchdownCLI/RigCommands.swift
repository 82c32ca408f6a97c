import ArgumentParser
import Foundation
import TouchdownCapture
import TouchdownReplay

/// `touchdown record --udp`: live capture of a rig's CCSDS packets.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Capture a rig's CCSDS Space Packets over UDP into a trace, through a map file (docs/rig.md).",
        discussion: """
            One packet per datagram; message time from the packet's CUC time code, the \
            receive time kept as the record's publish time. SIGINT or SIGTERM (or \
            --duration-s) ends the capture with a complete, indexed trace and a summary. \
            Exit 0 after a capture; 2 for a bad map or address.
            """
    )
    @Option(help: ArgumentHelp("Where to listen: HOST:PORT, :PORT or PORT (loopback unless a host is given; port 0 picks one).", valueName: "HOST:PORT"))
    var udp: String
    @Option(help: "The map file (YAML) with a ccsds section, e.g. fixtures/rig/ccsds.yaml.") var map: String
    @Option(help: "The trace to write.") var out: String
    @Option(name: .customLong("duration-s"), help: "Stop after this many seconds (default: at SIGINT or SIGTERM).") var duration: Double?
    @Option(name: .customLong("t0"), help: "The descent's t = 0 in Unix time with a unit, e.g. 1764000000s (replaces the map's ccsds.t0).")
    var t0: String?

    func run() throws {
        let capture = badInput(json: false) { () throws -> UDPCapture in
            let telemetryMap = try TelemetryMap.load(path: map)
            let t0_ns = try t0.map(parseUnixTime)
            if let duration, !(duration > 0 && duration.isFinite) { throw CommandLineError("--duration-s \(duration): expected a positive number of seconds") }
            return try UDPCapture(address: try UDPAddress(parsing: udp), map: telemetryMap, outPath: out, t0_unixNs: t0_ns)
        }
        Interruption.install()
        FileHandleStderr.write("listening on \(capture.bound) (until \(duration.map { "\($0) s or " } ?? "")SIGINT)\n")
        let summary = try capture.run(duration_s: duration, shouldStop: { Interruption.requested }) { FileHandleStderr.write($0 + "\n") }
        let packets = summary.perAPID.reduce(0) { $0 + $1.packets }
        print("captured \(packets) packets in \(String(format: "%.1f", summary.duration_s)) s into \(out) (receiver CPU \(String(format: "%.2f", summary.receiverCPU_s)) s)")
        print("APID    topic          packets  lost  duplicates  out of order")
        for a in summary.perAPID {
            print(String(format: "0x%03X", a.apid).padding(toLength: 8, withPad: " ", startingAt: 0)
                  + a.topic.padding(toLength: 15, withPad: " ", startingAt: 0)
                  + String(a.packets).padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(a.lost).padding(toLength: 6, withPad: " ", startingAt: 0)
                  + String(a.duplicates).padding(toLength: 12, withPad: " ", startingAt: 0) + String(a.outOfOrder))
        }
        let malformed = summary.malformed.filter { $0.count > 0 }
        print("malformed: " + (malformed.isEmpty ? "none" : malformed.map { "\($0.count) \($0.reason.rawValue)" }.joined(separator: ", ")))
        if summary.beforeT0 > 0 { print("stamped before t = 0, not recorded: \(summary.beforeT0)") }
    }
}

/// `touchdown rig …`: a stand-in rig.
struct RigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rig",
        abstract: "A stand-in hardware rig, to check a capture set-up (docs/rig.md).",
        subcommands: [Emulate.self, Stimulate.self]
    )

    struct Emulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fly a scenario and stream its sensor messages as CCSDS packets over UDP, per a map.",
            discussion: "In real time, or --rate-x times faster (0: as fast as the socket takes them). Exit 0 when sent; 2 for bad input."
        )
        @Option(help: "Scenario file (YAML).") var scenario: String
        @Option(help: "Guidance name; default: the scenario's.") var guidance: String?
        @Option(help: ArgumentHelp("Where to send: HOST:PORT, :PORT or PORT (loopback).", valueName: "HOST:PORT")) var udp: String
        @Option(help: "The map file (YAML) with a ccsds section.") var map: String
        @Option(name: .customLong("rate-x"), help: "Speed-up over real time; 0 sends as fast as possible.") var rateX: Double = 1
        @Option(name: .customLong("duration-s"), help: "Stream only the first N simulated seconds.") var duration: Double?
        @Option(name: .customLong("t0"), help: "The descent's t = 0 in Unix time with a unit (replaces the map's ccsds.t0).") var t0: String?

        func run() {
            let summary = badInput(json: false) { () throws -> RigEmulator.Summary in
                let telemetryMap = try TelemetryMap.load(path: map)
                let t0_ns = try t0.map(parseUnixTime)
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("touchdown-rig-\(getpid())").path
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                return try RigEmulator.run(scenarioPath: scenario, guidance: guidance, map: telemetryMap, to: try UDPAddress(parsing: udp),
                                           rateX: rateX, duration_s: duration, t0_unixNs: t0_ns, scratch: scratch)
            }
            let total = summary.packets.reduce(0) { $0 + $1.count }
            print("sent \(total) packets (\(String(format: "%.1f", summary.simulated_s)) s of flight, outcome \(summary.outcome)) to \(udp)")
            for p in summary.packets { print(String(format: "  0x%03X ", p.apid) + p.topic.padding(toLength: 14, withPad: " ", startingAt: 0) + " \(p.count)") }
        }
    }
}

extension RigCommand {
    struct Stimulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hardware-in-the-loop replay: send a trace's sensors (after faults) to a flight computer as CCSDS packets and record the commands it sends back.",
            discussion: """
                On the trace's clock, in real time or --rate-x faster. The output trace holds the \
                sensors as sent and the flight computer's commands stamped with their own time \
                codes: `touchdown replay OUT --mode open-loop --scenario FILE --tolerance …` \
                compares a guidance with them. Exit 0 when done; 2 for bad input.
                """
        )
        @Argument(help: "The trace whose sensor messages are sent.") var trace: String
        @Option(help: ArgumentHelp("The flight computer's address for sensor packets.", valueName: "HOST:PORT")) var to: String
        @Option(help: ArgumentHelp("Where its command packets arrive (loopback unless a host is given).", valueName: "HOST:PORT")) var listen: String
        @Option(help: "The map file (YAML) with a ccsds section, including the command APID.") var map: String
        @Option(name: .customLong("fault"), help: ArgumentHelp("A fault on the sensors sent (docs/faults.md); repeatable.", valueName: "SPEC"))
        var faults: [String] = []
        @Option(help: "A scenario file, for faults on a trace that stores none (one not from `touchdown simulate`).") var scenario: String?
        @Option(name: .customLong("rate-x"), help: "Speed-up over real time; 0 sends as fast as possible.") var rateX: Double = 1
        @Option(name: .customLong("t0"), help: "The descent's t = 0 in Unix time with a unit (replaces the map's ccsds.t0).") var t0: String?
        @Option(help: "The output trace.") var out: String

        func run() {
            let summary = badInput(json: false) { () throws -> RigStimulator.Summary in
                let telemetryMap = try TelemetryMap.load(path: map)
                let t0_ns = try t0.map(parseUnixTime)
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("touchdown-stimulate-\(getpid())").path
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                var source = trace
                if !faults.isEmpty {
                    // The sensors as a guidance would receive them under the
                    // faults: an open-loop replay with the idle guidance records them.
                    source = (scratch as NSString).appendingPathComponent("faulted.mcap")
                    var plan = ReplayPlan(trace: trace, scenario: scenario, guidance: .named(name: "idle"), mode: .openLoop,
                                          faults: try faults.map { try FaultSpec(parsing: $0) }, expectation: .any)
                    plan.output = source
                    _ = try Replay(plan).run()
                }
                return try RigStimulator.run(tracePath: source, map: telemetryMap, to: try UDPAddress(parsing: to),
                                             listen: try UDPAddress(parsing: listen), rateX: rateX, outPath: out, t0_unixNs: t0_ns,
                                             listening: { FileHandleStderr.write("listening for commands on \($0)\n") },
                                             log: { FileHandleStderr.write($0 + "\n") })
            }
            print("sent \(summary.sent.reduce(0) { $0 + $1.count }) sensor packets to \(to); received \(summary.commands) command packets into \(out)")
            for a in summary.capture.perAPID where a.topic == "/command" {
                print("commands: \(a.packets), lost \(a.lost), duplicates \(a.duplicates), out of order \(a.outOfOrder)")
            }
            let malformed = summary.capture.malformed.filter { $0.count > 0 }
            print("malformed: " + (malformed.isEmpty ? "none" : malformed.map { "\($0.count) \($0.reason.rawValue)" }.joined(separator: ", ")))
        }
    }
}

/// `--t0`: a Unix time with its unit, e.g. 1764000000s.
func parseUnixTime(_ text: String) throws -> Int64 {
    guard let ns = DecimalTime.nanoseconds(withUnit: text) else {
        throw CommandLineError("--t0 \(text): expected a Unix time with a unit (s, ms, us, ns), e.g. 1764000000s")
    }
    return ns
}
