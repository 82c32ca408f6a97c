import CSV
import Foundation
import TouchdownTrace

/// `touchdown export csv`: a trace's Touchdown topics as one CSV file, the
/// form telemetry usually takes, and the map that imports it back.
///
/// Columns: `time_s` (the log time), then for each exported topic
/// `TOPIC.stamp_s` and `TOPIC.FIELD` for each field, with TOPIC the topic
/// name without its slash (`altimeter.range_m`). One row per message, in log
/// time order, with only its topic's cells filled. Times are seconds with
/// nine decimals, exact; numbers are written as Swift reads them back (the
/// shortest text that round-trips), so an import of the file gives the same
/// values bit for bit.
public enum CSVExport {
    public struct Summary: Sendable {
        public var rows = 0
        public var topics: [(topic: String, messages: Int)] = []
        /// Channels left out: not one of Touchdown's topics with its schema.
        public var skipped: [String] = []
    }

    struct Topic {
        let topic: String
        let column: String
        let fields: [(name: String, type: String)]
        var firstColumn = 0
        var messages = 0
    }

    public static func run(tracePath: String, csvPath: String, mapPath: String?, topics wanted: [String]?) throws -> Summary {
        try OutputGuard.refuse(output: csvPath, sameAsAnyOf: [tracePath])
        if let mapPath {
            guard (mapPath as NSString).standardizingPath != (csvPath as NSString).standardizingPath else {
                throw CSVExportError("--map-out \(mapPath) is the CSV file too; give the map another name")
            }
            try OutputGuard.refuse(output: mapPath, sameAsAnyOf: [tracePath, csvPath])
        }
        let reader = try TraceReader(path: tracePath)
        guard let indexed = reader.indexed else {
            throw CSVExportError("\(tracePath): the trace has no intact summary (\(reader.summaryProblem.map { "\($0)" } ?? "unreadable")); run `touchdown trace recover` first")
        }
        var summary = Summary()
        var topics: [Topic] = []
        var topicOfChannel = [Int?](repeating: nil, count: Int(UInt16.max) + 1)
        for channel in indexed.channels {
            let schema = indexed.schema(channel.schemaID)
            guard wanted?.contains(channel.topic) ?? true,
                  let known = TelemetryMap.topicTypes.first(where: { $0.topic == channel.topic }),
                  let schema, schema.name == known.type.schemaName, schema.encoding == "ros2msg", channel.messageEncoding == "cdr",
                  schema.data == Array(known.type.schemaText.utf8)
            else {
                summary.skipped.append(channel.topic)
                continue
            }
            if let i = topics.firstIndex(where: { $0.topic == channel.topic }) {
                topicOfChannel[Int(channel.id)] = i
                continue
            }
            let fields = known.type.fields.dropFirst().map { line -> (name: String, type: String) in
                let parts = line.split(separator: " ")
                return (String(parts[1]), String(parts[0]))
            }
            topicOfChannel[Int(channel.id)] = topics.count
            topics.append(Topic(topic: channel.topic, column: String(channel.topic.dropFirst()), fields: fields))
        }
        if let wanted {
            for w in wanted where !topics.contains(where: { $0.topic == w }) {
                throw CSVExportError("\(tracePath): no Touchdown topic \(w) to export; the trace has \(indexed.channels.map(\.topic).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ", "))")
            }
        }
        guard !topics.isEmpty else { throw CSVExportError("\(tracePath): no Touchdown topic to export") }

        var header = ["time_s"]
        for i in topics.indices {
            topics[i].firstColumn = header.count
            header.append("\(topics[i].column).stamp_s")
            header += topics[i].fields.map { "\(topics[i].column).\($0.name)" }
        }

        let temporary = csvPath + ".touchdown-partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let file = FileHandle(forWritingAtPath: temporary) else {
            throw CSVExportError("\(csvPath): cannot create the output file")
        }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        // CSVWriter writes each field to its stream as it goes; on a file that
        // is a system call per field (19 s for 81,138 rows, nearly all of it in
        // the kernel). It writes to memory here, handed to the file in batches.
        var batch = try Batch()
        try batch.writer.write(row: header)
        func flushBatch() throws {
            // CSVWriter puts the line break before each row but its first, so
            // each batch ends without one: every row ends with one here.
            var data = batch.take()
            if !data.isEmpty { data.append(0x0A) }
            try file.write(contentsOf: data)
            batch = try Batch()
        }
        var row = [String](repeating: "", count: header.count)
        // Times from the start of descent (the map says `epoch: descent`).
        let epoch_ns = try reader.indexed.flatMap { try TraceClock.epoch_ns($0) } ?? 0
        try reader.forEachMessage { decoder, m in
            guard let t = topicOfChannel[Int(m.channelID)] else { return }
            let value = try decoder.value(m.data)
            guard case .message(let fields) = value, fields.count == topics[t].fields.count + 1,
                  case .uint(let stamp) = fields[0].value else {
                throw CSVExportError("\(tracePath): a \(topics[t].topic) message does not decode as its schema says")
            }
            for i in row.indices { row[i] = "" }
            row[0] = DecimalTime.seconds(unsigned: m.logTime_ns >= epoch_ns ? m.logTime_ns - epoch_ns : 0)
            let first = topics[t].firstColumn
            row[first] = DecimalTime.seconds(unsigned: stamp >= epoch_ns ? stamp - epoch_ns : 0)
            for (k, f) in fields.dropFirst().enumerated() {
                row[first + 1 + k] = switch f.value {
                case .float(let d): "\(d)"
                case .bool(let b): b ? "1" : "0"
                case .string(let s): s
                case .int(let i): String(i)
                case .uint(let u): String(u)
                case .array, .message: ""
                }
            }
            try batch.writer.write(row: row)
            batch.rows += 1
            if batch.rows == 4096 { try flushBatch() }
            topics[t].messages += 1
            summary.rows += 1
        }
        try flushBatch()
        try file.synchronize()
        try file.close()
        if let mapPath {
            try mapText(topics: topics, name: (csvPath as NSString).lastPathComponent)
                .write(toFile: mapPath, atomically: true, encoding: .utf8)
        }
        guard rename(temporary, csvPath) == 0 else {
            throw CSVExportError("\(csvPath): cannot rename \(temporary) into place (errno \(errno))")
        }
        summary.topics = topics.map { ($0.topic, $0.messages) }
        return summary
    }

    /// `text` as a YAML double-quoted scalar: any file name reads back as itself.
    static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for u in text.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where u.value < 0x20: out += String(format: "\\x%02X", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Rows written to memory by CSVWriter, until they go to the file.
    struct Batch {
        let stream = OutputStream.toMemory()
        let writer: CSVWriter
        var rows = 0
        init() throws {
            stream.open()
            writer = try CSVWriter(stream: stream)
        }
        func take() -> Data {
            stream.close()
            return stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        }
    }

    /// The map that imports the exported file back to the same messages.
    static func mapText(topics: [Topic], name: String) -> String {
        var y = "# Written by `touchdown export csv`: imports \(name) back into a trace.\n"
        y += "name: \(yamlQuoted(name))\ncsv:\n  time: {column: time_s, unit: s, epoch: descent}\n  topics:\n"
        for t in topics {
            y += "    \(t.topic):\n      stamp: \(t.column).stamp_s\n"
            for f in t.fields { y += "      \(f.name): \(t.column).\(f.name)\n" }
        }
        return y
    }
}

public struct CSVExportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
