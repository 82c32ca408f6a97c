import Foundation
import TouchdownSim
import TouchdownTrace
import Yams

/// A map file that cannot be used: the file, line and column, and what is
/// accepted there (the same form as scenario and campaign files).
public typealias TelemetryMapError = ScenarioError

/// What a rig's or a flight's recorded data means: for each source, the
/// Touchdown topic it becomes and how each of that topic's fields is read
/// (docs/rig.md). This version reads CSV sources (a time column with its
/// unit and epoch, and for each topic the column, with scale and offset to
/// engineering units, or the constant that gives each field) and ROS 2
/// recordings (for each source topic, the Touchdown topic it becomes and the
/// field path that gives each field).
public struct TelemetryMap: Sendable {
    public let file: String
    public let name: String
    public let csv: CSVLayout?
    public let ros2: ROS2Layout?
    public let ccsds: CCSDSLayout?

    /// The topics of a ROS 2 recording (MCAP, cdr + ros2msg).
    public struct ROS2Layout: Sendable {
        /// The descent's t = 0 in Unix time, in nanoseconds, if the map gives it.
        public let t0_unixNs: Int64?
        public let topics: [ROS2Topic]
    }

    /// One source topic: the Touchdown topic it becomes; each field's
    /// `.column` source names a field path in the source message
    /// (`linear_acceleration.x`, `position[2]`).
    public struct ROS2Topic: Sendable {
        public let source: String
        public let target: TopicColumns
    }

    /// The columns of a CSV file.
    public struct CSVLayout: Sendable {
        public let time: TimeColumn
        /// In the map's order, which is the order of the trace's channels.
        public let topics: [TopicColumns]
    }

    /// The time of each row: a column of decimal numbers in `unit_ns`
    /// nanoseconds, counted from the descent's t = 0 (`epoch: descent`) or
    /// from the Unix epoch (`epoch: unix`), when `t0_unixNs` (from the map or
    /// the command line) is the descent's t = 0.
    public struct TimeColumn: Sendable {
        public let column: String
        public let unit: String
        public let unit_ns: Int64
        public let epoch: Epoch
        public var t0_unixNs: Int64?
    }

    public enum Epoch: String, Sendable { case descent, unix }

    /// How one topic's message is made from a row.
    public struct TopicColumns: Sendable {
        public let topic: String
        public let type: any TraceMessage.Type
        public let schemaName: String
        public let schemaText: String
        public let schema: CompiledMessageSchema
        /// Every field of the message after `stamp_ns`, in schema order.
        public let fields: [FieldSource]
        /// The column holding the instant the message describes, in the time
        /// column's unit and epoch; nil: the row's time.
        public let stampColumn: String?
    }

    public struct FieldSource: Sendable {
        public let field: String
        public let type: FieldType
        public let source: Source
        public enum Source: Sendable {
            case column(String, scale: Double, offset: Double)
            case constant(MessageValue)
        }
    }

    public enum FieldType: String, Sendable { case float64, bool, string }

    /// Time units a time column may be in.
    static let timeUnits: [(name: String, ns: Int64)] = [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000), ("ns", 1)]

    /// The topics a map may fill: Touchdown's own, each with its message type.
    static let topicTypes: [(topic: String, type: any TraceMessage.Type)] = {
        typealias T = TouchdownTopics
        return [(T.imu, ImuSample.self), (T.altimeter, AltimeterSample.self), (T.velocimeter, VelocimeterSample.self),
                (T.attitude, AttitudeSample.self), (T.command, CommandSample.self), (T.nav, NavSample.self),
                (T.truth, TruthSample.self), (T.events, EventSample.self)]
    }()

    public static func load(path: String) throws -> TelemetryMap {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TelemetryMapError(file: path, line: 0, column: 0, message: "cannot read the map file (\(error.localizedDescription))")
        }
        return try parse(text: text, file: path)
    }

    public static func parse(text: String, file: String) throws -> TelemetryMap {
        let root = try ScenarioError.composeYAML(text, file: file)
        let y = MapReader(file: file)
        let top = try y.mapping(root, "the map file", accepted: ["name", "csv", "ros2", "ccsds"])
        guard let nameNode = top.value("name") else { throw y.error(root, "name is missing: every map has a name") }
        let name = try y.string(nameNode, "name")
        let csvNode = top.value("csv"), ros2Node = top.value("ros2"), ccsdsNode = top.value("ccsds")
        guard csvNode != nil || ros2Node != nil || ccsdsNode != nil else {
            throw y.error(root, "the map has no source: give csv, ros2 or ccsds")
        }
        return TelemetryMap(file: file, name: name, csv: try csvNode.map { try csvLayout($0, y) },
                            ros2: try ros2Node.map { try ros2Layout($0, y) }, ccsds: try ccsdsNode.map { try ccsdsLayout($0, y) })
    }

    static func csvLayout(_ node: Node, _ y: MapReader) throws -> CSVLayout {
        let csv = try y.mapping(node, "csv", accepted: ["time", "topics"])
        guard let timeNode = csv.value("time") else { throw y.error(node, "csv.time is missing: name the time column, e.g. time: {column: time_s, unit: s}") }
        let time = try y.mapping(timeNode, "csv.time", accepted: ["column", "unit", "epoch", "t0"])
        guard let columnNode = time.value("column") else { throw y.error(timeNode, "csv.time.column is missing") }
        let unitName = try time.value("unit").map { try y.string($0, "csv.time.unit") } ?? "s"
        guard let unit = timeUnits.first(where: { $0.name == unitName }) else {
            throw y.error(time.value("unit"), "csv.time.unit \"\(unitName)\" is not a time unit; accepted: \(timeUnits.map(\.name).joined(separator: ", "))")
        }
        let epochName = try time.value("epoch").map { try y.string($0, "csv.time.epoch") } ?? "descent"
        guard let epoch = Epoch(rawValue: epochName) else {
            throw y.error(time.value("epoch"), "csv.time.epoch \"\(epochName)\" is not accepted; accepted: descent (times count from the descent's t = 0), unix (times are Unix time; t0 gives the descent's start)")
        }
        var t0: Int64?
        if let t0Node = time.value("t0") {
            guard epoch == .unix else { throw y.error(t0Node, "csv.time.t0 is for epoch: unix; with epoch: descent the times already count from t = 0") }
            let text = try y.string(t0Node, "csv.time.t0")
            guard let ns = DecimalTime.nanoseconds(text, unit_ns: unit.ns) else {
                throw y.error(t0Node, "csv.time.t0 \"\(text)\" is not a decimal number of \(unit.name) (the time column's unit)")
            }
            t0 = ns
        }
        let timeColumn = TimeColumn(column: try y.string(columnNode, "csv.time.column"), unit: unit.name, unit_ns: unit.ns,
                                    epoch: epoch, t0_unixNs: t0)

        guard let topicsNode = csv.value("topics") else { throw y.error(node, "csv.topics is missing: map at least one topic") }
        guard case .mapping(let topicPairs) = topicsNode, !topicPairs.isEmpty else {
            throw y.error(topicsNode, "csv.topics must map topic names to their fields, e.g. /altimeter: {range_m: alt_range, valid: alt_ok}")
        }
        var topics: [TopicColumns] = []
        for (keyNode, fieldsNode) in topicPairs {
            let topic = try y.string(keyNode, "a topic name")
            guard let known = topicTypes.first(where: { $0.topic == topic }) else {
                throw y.error(keyNode, "\(topic) is not a Touchdown topic; accepted: \(topicTypes.map(\.topic).joined(separator: ", "))")
            }
            if topics.contains(where: { $0.topic == topic }) { throw y.error(keyNode, "\(topic) is mapped twice") }
            topics.append(try topicColumns(topic, known.type, fieldsNode, y))
        }
        return CSVLayout(time: timeColumn, topics: topics)
    }

    static func ros2Layout(_ node: Node, _ y: MapReader) throws -> ROS2Layout {
        let m = try y.mapping(node, "ros2", accepted: ["t0", "topics"])
        var t0: Int64?
        if let t0Node = m.value("t0") {
            let text = try y.string(t0Node, "ros2.t0")
            guard let ns = DecimalTime.nanoseconds(withUnit: text) else {
                throw y.error(t0Node, "ros2.t0 \"\(text)\" is not a Unix time with a unit (\(timeUnits.map(\.name).joined(separator: ", "))), e.g. 1700000000 s")
            }
            t0 = ns
        }
        guard let topicsNode = m.value("topics"), case .mapping(let pairs) = topicsNode, !pairs.isEmpty else {
            throw y.error(m.value("topics") ?? node, "ros2.topics must map source topics to what they become, e.g. /lander/imu: {to: /imu, fields: {accel_x_mps2: linear_acceleration.x, …}}")
        }
        var topics: [ROS2Topic] = []
        for (keyNode, valueNode) in pairs {
            let source = try y.string(keyNode, "a source topic")
            if topics.contains(where: { $0.source == source }) { throw y.error(keyNode, "\(source) is mapped twice") }
            let what = "ros2.topics.\(source)"
            let t = try y.mapping(valueNode, what, accepted: ["to", "fields"])
            guard let toNode = t.value("to") else { throw y.error(valueNode, "\(what).to is missing: the Touchdown topic it becomes") }
            let target = try y.string(toNode, "\(what).to")
            guard let known = topicTypes.first(where: { $0.topic == target }) else {
                throw y.error(toNode, "\(target) is not a Touchdown topic; accepted: \(topicTypes.map(\.topic).joined(separator: ", "))")
            }
            if topics.contains(where: { $0.target.topic == target }) {
                throw y.error(toNode, "\(target) is already filled by another source topic")
            }
            guard let fieldsNode = t.value("fields") else { throw y.error(valueNode, "\(what).fields is missing") }
            topics.append(ROS2Topic(source: source, target: try topicColumns(target, known.type, fieldsNode, y,
                                                                              path: "\(what).fields", sourceKey: "field")))
        }
        return ROS2Layout(t0_unixNs: t0, topics: topics)
    }

    static func topicColumns(_ topic: String, _ type: any TraceMessage.Type, _ node: Node, _ y: MapReader,
                             path: String? = nil, sourceKey: String = "column") throws -> TopicColumns {
        // The message's fields after stamp_ns, from its ros2msg lines.
        let declared = type.fields.dropFirst().map { line -> (type: String, name: String) in
            let parts = line.split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        }
        let prefix = path ?? "csv.topics.\(topic)"
        let accepted = (sourceKey == "column" ? ["stamp"] : []) + declared.map(\.name)
        let m = try y.mapping(node, prefix, accepted: accepted)
        var fields: [FieldSource] = []
        for d in declared {
            let fieldType: FieldType = d.type == "bool" ? .bool : d.type == "string" ? .string : .float64
            let what = "\(prefix).\(d.name)"
            guard let v = m.value(d.name) else {
                throw y.error(node, "\(what) is missing: every field of \(type.schemaName) needs a \(sourceKey) or a constant (fields: \(declared.map(\.name).joined(separator: ", ")))")
            }
            fields.append(FieldSource(field: d.name, type: fieldType, source: try source(v, fieldType, what, y, key: sourceKey)))
        }
        let stamp = try m.value("stamp").map { try y.string($0, "\(prefix).stamp") }
        let schema: CompiledMessageSchema
        do {
            schema = try CompiledMessageSchema(schemaName: type.schemaName, schemaText: type.schemaText)
        } catch {
            preconditionFailure("Touchdown's own schema \(type.schemaName) does not compile: \(error)")
        }
        return TopicColumns(topic: topic, type: type, schemaName: type.schemaName, schemaText: type.schemaText, schema: schema,
                            fields: fields, stampColumn: stamp)
    }

    /// A column name (or, for ROS 2, a field path), `{column: NAME, scale: K,
    /// offset: B}` (value = K × cell + B), or `{value: V}`, a constant.
    static func source(_ node: Node, _ type: FieldType, _ what: String, _ y: MapReader, key: String = "column") throws -> FieldSource.Source {
        if case .scalar = node { return .column(try y.string(node, what), scale: 1, offset: 0) }
        let m = try y.mapping(node, what, accepted: [key, "scale", "offset", "value"])
        if let valueNode = m.value("value") {
            if m.value(key) != nil || m.value("scale") != nil || m.value("offset") != nil {
                throw y.error(node, "\(what): give either value (a constant) or \(key) (with scale and offset), not both")
            }
            let text = try y.string(valueNode, "\(what).value")
            guard let v = CSVCell.value(text, type) else {
                throw y.error(valueNode, "\(what).value \"\(text)\" is not a \(type.rawValue) (\(type.accepted))")
            }
            return .constant(v)
        }
        guard let columnNode = m.value(key) else {
            throw y.error(node, "\(what): give \(key) (\(key == "column" ? "a CSV column name" : "a field path in the source message")) or value (a constant)")
        }
        func number(_ key: String, _ defaultValue: Double) throws -> Double {
            guard let n = m.value(key) else { return defaultValue }
            guard type == .float64 else { throw y.error(n, "\(what).\(key): only float64 fields are scaled; this field is \(type.rawValue)") }
            let text = try y.string(n, "\(what).\(key)")
            guard let d = Double(text), d.isFinite else { throw y.error(n, "\(what).\(key) \"\(text)\" is not a finite number") }
            return d
        }
        return .column(try y.string(columnNode, "\(what).\(key)"), scale: try number("scale", 1), offset: try number("offset", 0))
    }
}

extension TelemetryMap.TopicColumns {
    /// The message's CDR payload: `stamp_ns`, then each field from its source,
    /// a constant or `read(field, column or path)`, float64 values scaled by
    /// the map (value = scale × read + offset).
    func encode(stamp_ns: UInt64, read: (TelemetryMap.FieldSource, String) throws -> MessageValue) throws -> [UInt8] {
        var values = [MessageField(name: "stamp_ns", value: .uint(stamp_ns))]
        for f in fields {
            let value: MessageValue
            switch f.source {
            case .constant(let v):
                value = v
            case .column(let name, let scale, let offset):
                let v = try read(f, name)
                if case .float(let d) = v, scale != 1 || offset != 0 { value = .float(d * scale + offset) } else { value = v }
            }
            values.append(MessageField(name: f.field, value: value))
        }
        do {
            return try schema.encode(.message(values))
        } catch {
            preconditionFailure("a \(schemaName) built from its own field list does not encode: \(error)")
        }
    }
}

extension TelemetryMap.FieldType {
    var accepted: String {
        switch self {
        case .float64: "a decimal number; nan and inf as recorded"
        case .bool: "1, 0, true or false"
        case .string: "any text"
        }
    }
}

/// Cells read as field values.
enum CSVCell {
    static func value(_ text: String, _ type: TelemetryMap.FieldType) -> MessageValue? {
        switch type {
        case .float64:
            return number(text).map { .float($0) }
        case .bool:
            switch text.lowercased() {
            case "1", "true": return .bool(true)
            case "0", "false": return .bool(false)
            default: return nil
            }
        case .string:
            return .string(text)
        }
    }

    /// A decimal number as Swift reads it (shortest round trip both ways), with
    /// surrounding spaces allowed; nan and inf are kept, as a recording holds them.
    static func number(_ text: String) -> Double? {
        Double(text.trimmingCharacters(in: .whitespaces))
    }
}

/// Decimal times read to whole nanoseconds without rounding through a
/// binary fraction: "1700000000.123456789" s is exactly 1700000000123456789 ns.
public enum DecimalTime {
    public static func nanoseconds(_ text: String, unit_ns: Int64) -> Int64? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !(wholeText.isEmpty && (parts.count < 2 || parts[1].isEmpty)) else { return nil }
        guard wholeText.allSatisfy(\.isASCII) && wholeText.allSatisfy(\.isNumber) else { return nil }
        let fractionText = parts.count == 2 ? parts[1] : ""
        guard fractionText.allSatisfy(\.isASCII) && fractionText.allSatisfy(\.isNumber) else { return nil }
        // Digits of the fraction beyond the unit's resolution in ns must be 0.
        var digitsPerUnit = 0
        var u = unit_ns
        while u > 1 { u /= 10; digitsPerUnit += 1 }
        let kept = fractionText.prefix(digitsPerUnit)
        guard fractionText.dropFirst(digitsPerUnit).allSatisfy({ $0 == "0" }) else { return nil }
        guard let whole = wholeText.isEmpty ? 0 : Int64(wholeText) else { return nil }
        var fraction: Int64 = 0
        for c in kept { fraction = fraction * 10 + Int64(c.wholeNumberValue!) }
        for _ in kept.count..<digitsPerUnit { fraction *= 10 }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit_ns)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        guard !overflow2 else { return nil }
        return negative ? -total : total
    }

    /// A decimal number followed by its unit (`1700000000 s`, `1700000000123ms`).
    public static func nanoseconds(withUnit text: String) -> Int64? {
        let number = text.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }
        let unitName = text.dropFirst(number.count).trimmingCharacters(in: .whitespaces)
        guard let unit = TelemetryMap.timeUnits.first(where: { $0.name == unitName }) else { return nil }
        return nanoseconds(String(number), unit_ns: unit.ns)
    }

    /// `ns` as seconds with nine decimals, exact.
    public static func seconds(_ ns: Int64) -> String {
        (ns < 0 ? "-" : "") + seconds(unsigned: ns.magnitude)
    }

    /// `ns` as seconds with nine decimals, exact.
    public static func seconds(unsigned m: UInt64) -> String {
        let frac = String(m % 1_000_000_000)
        return "\(m / 1_000_000_000).\(String(repeating: "0", count: 9 - frac.count))\(frac)"
    }
}

/// Reads the map's YAML with file:line:column errors.
struct MapReader {
    let file: String

    struct Pairs {
        let pairs: [(key: String, value: Node)]
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
    }

    func error(_ node: Node?, _ message: String) -> TelemetryMapError {
        TelemetryMapError(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, message: message)
    }

    func mapping(_ node: Node, _ what: String, accepted: [String]) throws -> Pairs {
        guard case .mapping(let m) = node else { throw error(node, "\(what) must be a mapping of keys to values") }
        var pairs: [(key: String, value: Node)] = []
        for (k, v) in m {
            guard let key = k.string else { throw error(k, "keys in \(what) must be plain names") }
            guard accepted.contains(key) else { throw error(k, "unknown key \(key) in \(what); accepted: \(accepted.joined(separator: ", "))") }
            if pairs.contains(where: { $0.key == key }) { throw error(k, "\(key) is given twice in \(what)") }
            pairs.append((key, v))
        }
        return Pairs(pairs: pairs)
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let s) = node else { throw error(node, "\(what) must be a single value, not a list or mapping") }
        return s.string
    }
}
