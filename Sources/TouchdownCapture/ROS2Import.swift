import Foundation
import TouchdownTrace

/// A ROS 2 recording that cannot be imported: what and where. Bad input (exit 2).
public struct ROS2ImportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

/// What an import of a ROS 2 recording did.
public struct ROS2ImportSummary: Sendable {
    /// Messages written per mapped topic, in the map's order: (source, Touchdown topic, count).
    public var messages: [(source: String, topic: String, count: Int)] = []
    /// Topics in the recording the map does not name.
    public var unmapped: [String] = []
    public var t0_unixNs: Int64 = 0
}

/// `touchdown import mcap`: a ROS 2 recording (MCAP, `cdr` messages with
/// `ros2msg` schemas: `sensor_msgs/msg/Imu`, `sensor_msgs/msg/Range`,
/// `geometry_msgs/msg/TwistStamped`, `geometry_msgs/msg/PoseStamped` or any
/// other type) becomes a trace, each mapped source topic on its Touchdown
/// topic. A message's stamp is its `header.stamp` when it has one, else its
/// log time; both count from the descent's t = 0 (Unix time, from the map or
/// the command line), which the trace's `touchdown.import` metadata keeps.
public enum ROS2Import {
    public static func run(mcapPath: String, map: TelemetryMap, outPath: String, t0_unixNs: Int64? = nil) throws -> ROS2ImportSummary {
        guard let layout = map.ros2 else { throw ROS2ImportError("\(map.file): the map has no ros2 section") }
        try OutputGuard.refuse(output: outPath, sameAsAnyOf: [mcapPath, map.file])
        guard let t0 = t0_unixNs ?? layout.t0_unixNs else {
            throw ROS2ImportError("\(map.file): nothing gives the descent's t = 0 in Unix time: set ros2.t0 in the map (e.g. t0: 1700000000 s) or pass --t0")
        }
        guard t0 >= 0 else { throw ROS2ImportError("t0 \(DecimalTime.seconds(t0)) s: the descent's t = 0 is a Unix time, 0 or later") }
        let reader = try TraceReader(path: mcapPath)
        guard let indexed = reader.indexed else {
            throw ROS2ImportError("\(mcapPath): the recording has no intact summary (\(reader.summaryProblem.map { "\($0)" } ?? "unreadable")); run `touchdown trace recover` first")
        }
        var summary = ROS2ImportSummary()
        summary.t0_unixNs = t0
        let present = indexed.channels.map(\.topic)
        for t in layout.topics where !present.contains(t.source) {
            throw ROS2ImportError("\(mcapPath): no topic \(t.source) (mapped in \(map.file)); the recording has \(present.joined(separator: ", "))")
        }
        for topic in present where !layout.topics.contains(where: { $0.source == topic }) && !summary.unmapped.contains(topic) {
            summary.unmapped.append(topic)
        }
        // The recording is read through its index, in log-time order (ties in
        // file order), which is the order the trace is written in: messages
        // go out as they are read and memory does not grow with the file.
        let writer = try ImportedTrace.Writer(outPath, topics: layout.topics.map(\.target))
        var index = 0
        try reader.forEachMessage(topics: layout.topics.map(\.source)) { decoder, m in
            index += 1
            guard let i = layout.topics.firstIndex(where: { $0.source == decoder.channel.topic }) else { return }
            let where_ = "\(mcapPath): \(decoder.channel.topic) message \(m.sequence) at log time \(m.logTime_ns)"
            let value: MessageValue
            do {
                value = try decoder.value(m.data)
            } catch {
                throw ROS2ImportError("\(where_): cannot be decoded (\(error)); import reads cdr messages with ros2msg schemas")
            }
            let target = layout.topics[i].target
            let stamp_ns = try stamp(value, logTime_ns: m.logTime_ns, t0: t0, where_)
            guard m.logTime_ns >= UInt64(max(0, t0)) else {
                throw ROS2ImportError("\(where_): logged before the descent's t = 0 (\(DecimalTime.seconds(t0)) s Unix time)")
            }
            let payload = try target.encode(stamp_ns: stamp_ns) { field, path in
                guard let leaf = value.at(path: path) else {
                    throw ROS2ImportError("\(where_): no field \(path) for \(target.topic) \(field.field); the message (\(decoder.schema?.name ?? "?")) has \(value.fieldNames.joined(separator: ", "))")
                }
                guard let v = leaf.convert(to: field.type) else {
                    throw ROS2ImportError("\(where_): \(path) is \(leaf.kindDescription), not usable as \(field.type.rawValue) for \(target.topic) \(field.field)")
                }
                return v
            }
            try writer.append(ImportedTrace.Message(time_ns: m.logTime_ns - UInt64(t0), order: index, topic: i, payload: payload))
        }
        let counts = try writer.finish(metadata: [
            ("source", (mcapPath as NSString).lastPathComponent),
            ("map", map.name),
            ("time_epoch", "unix"),
            ("t0_unix_ns", String(t0)),
        ])
        summary.messages = zip(layout.topics, counts).map { ($0.source, $0.target.topic, $1) }
        return summary
    }

    /// `header.stamp` (builtin_interfaces/Time) from the descent's t = 0, or the log time's.
    static func stamp(_ value: MessageValue, logTime_ns: UInt64, t0: Int64, _ where_: String) throws -> UInt64 {
        var unix_ns = Int64(clamping: logTime_ns)
        if case .message(let time)? = value["header"]?["stamp"] {
            guard time.count == 2, case .int(let sec) = time[0].value, case .uint(let nanosec) = time[1].value else {
                throw ROS2ImportError("\(where_): header.stamp is not a builtin_interfaces/Time (sec, nanosec)")
            }
            let (s, o1) = sec.multipliedReportingOverflow(by: 1_000_000_000)
            let (t, o2) = s.addingReportingOverflow(Int64(nanosec))
            guard !o1 && !o2 else { throw ROS2ImportError("\(where_): header.stamp \(sec) s \(nanosec) ns is out of range") }
            unix_ns = t
        }
        guard unix_ns >= t0 else {
            throw ROS2ImportError("\(where_): stamped \(DecimalTime.seconds(unix_ns)) s Unix time, before the descent's t = 0 (\(DecimalTime.seconds(t0)) s)")
        }
        return UInt64(unix_ns - t0)
    }
}

extension MessageValue {
    /// The value at a dotted path with optional indexes: `linear_acceleration.x`, `position[2]`.
    func at(path: String) -> MessageValue? {
        var current: MessageValue? = self
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indexes: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
                guard let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) else { return nil }
                indexes.insert(i, at: 0)
                name = name[..<open]
            }
            current = current?[String(name)]
            for i in indexes { current = current?[i] }
        }
        return current
    }

    var fieldNames: [String] {
        guard case .message(let fields) = self else { return [] }
        return fields.map(\.name)
    }

    var kindDescription: String {
        switch self {
        case .bool: "a bool"
        case .int: "an integer"
        case .uint: "an unsigned integer"
        case .float: "a float"
        case .string: "a string"
        case .array: "an array"
        case .message: "a message"
        }
    }

    /// The leaf as a Touchdown field's type: numbers to float64, numbers and
    /// bools to bool (non-zero is true), strings to string.
    func convert(to type: TelemetryMap.FieldType) -> MessageValue? {
        switch (type, self) {
        case (.float64, .float): self
        case (.float64, .int(let i)): .float(Double(i))
        case (.float64, .uint(let u)): .float(Double(u))
        case (.bool, .bool): self
        case (.bool, .int(let i)): .bool(i != 0)
        case (.bool, .uint(let u)): .bool(u != 0)
        case (.string, .string): self
        default: nil
        }
    }
}
