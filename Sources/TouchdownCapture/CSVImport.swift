import CSV
import Foundation
import TouchdownTrace

/// A CSV file, or one of its rows, that cannot be imported: where, what, and
/// what is accepted. Bad input (exit 2).
public struct CSVImportError: Error, CustomStringConvertible, Sendable {
    public let file: String
    /// 1-based line of the row; 0 when the problem is the whole file.
    public let line: Int
    public let message: String
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// What an import did.
public struct CSVImportSummary: Sendable {
    public var rows = 0
    /// Messages written per mapped topic, in the map's order.
    public var messages: [(topic: String, count: Int)] = []
    /// Rows left out with --skip-bad-rows: how many, and the first few.
    public var badRows = 0
    public var firstBadRows: [CSVImportError] = []
    /// The descent's t = 0 in Unix time, when the file's times are Unix time.
    public var t0_unixNs: Int64?
}

/// `touchdown import csv`: a CSV file's rows, read through a map, become a
/// trace. Rows may come in any order; messages are written in time order
/// (rows of equal time in file order). Each message's time is its row's time
/// from the descent's t = 0; Unix times keep their t = 0 in the trace's
/// `touchdown.import` metadata, so the original instants are exact.
public enum CSVImport {
    public static let badRowsShown = 10

    public static func run(csvPath: String, map: TelemetryMap, outPath: String, skipBadRows: Bool,
                           t0_unixNs: Int64? = nil) throws -> CSVImportSummary {
        guard let layout = map.csv else {
            throw CSVImportError(file: map.file, line: 0, message: "the map has no csv section")
        }
        try OutputGuard.refuse(output: outPath, sameAsAnyOf: [csvPath, map.file])
        var time = layout.time
        if let t0 = t0_unixNs {
            guard time.epoch == .unix else {
                throw CSVImportError(file: map.file, line: 0, message: "--t0 is for times in Unix time (csv.time.epoch: unix); this map's times count from the descent's t = 0")
            }
            time.t0_unixNs = t0
        }
        if time.epoch == .unix && time.t0_unixNs == nil {
            throw CSVImportError(file: map.file, line: 0, message: "the times are Unix time (csv.time.epoch: unix) but nothing gives the descent's t = 0: set csv.time.t0 in the map or pass --t0")
        }
        // Quotes left open, text after a closing quote and bytes that are not
        // UTF-8 are refused here: the parser would take them in silently.
        let recordLines = try CSVStructure.recordLines(path: csvPath)
        guard let stream = InputStream(fileAtPath: csvPath) else {
            throw CSVImportError(file: csvPath, line: 0, message: "cannot open the CSV file")
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch {
            throw CSVImportError(file: csvPath, line: 0, message: "cannot read a header row (\(error)); the first line names the columns")
        }
        guard let header = reader.headerRow, !header.isEmpty else {
            throw CSVImportError(file: csvPath, line: 0, message: "the file is empty; the first line names the columns")
        }
        let columns = try ColumnIndex(header: header, file: csvPath, mapFile: map.file)
        let timeIndex = try columns.index(time.column, "csv.time.column")
        let plans = try layout.topics.map { try TopicPlan($0, columns) }

        var summary = CSVImportSummary()
        summary.t0_unixNs = time.epoch == .unix ? time.t0_unixNs : nil
        var pending: [ImportedTrace.Message] = []
        var rowNumber = 0
        while let row = reader.next() {
            rowNumber += 1
            let rowLine = rowNumber < recordLines.count ? recordLines[rowNumber] : (recordLines.last ?? 0)
            if row.count == 1 && row[0].isEmpty { continue }  // a blank line
            summary.rows += 1
            do {
                guard row.count == header.count else {
                    throw RowProblem("has \(row.count) cells; the header has \(header.count)")
                }
                let t = try descentTime(row[timeIndex], time, column: time.column)
                // A row is taken whole or not at all.
                var made: [ImportedTrace.Message] = []
                for (i, plan) in plans.enumerated() {
                    guard let message = try plan.message(row, rowTime_ns: t, time: time) else { continue }
                    made.append(ImportedTrace.Message(time_ns: t, order: rowNumber, topic: i, payload: message))
                }
                pending += made
            } catch let p as RowProblem {
                let e = CSVImportError(file: csvPath, line: rowLine, message: "row \(rowNumber): \(p.message)")
                guard skipBadRows else { throw e }
                summary.badRows += 1
                if summary.firstBadRows.count < badRowsShown { summary.firstBadRows.append(e) }
            }
        }
        // CSV.swift reports the end of the file as `cannotReadFile`; anything
        // else stopped the reading early.
        switch reader.error {
        case nil, CSVError.cannotReadFile?:
            break
        case let e?:
            throw CSVImportError(file: csvPath, line: recordLines.last ?? 0, message: "cannot be read past this record (\(e))")
        }
        var fields: [(key: String, value: String)] = [
            ("source", (csvPath as NSString).lastPathComponent),
            ("map", map.name),
            ("rows", String(summary.rows)),
            ("skipped_bad_rows", String(summary.badRows)),
            ("time_epoch", time.epoch.rawValue),
        ]
        if let t0 = summary.t0_unixNs { fields.append(("t0_unix_ns", String(t0))) }
        let counts = try ImportedTrace.write(outPath, topics: plans.map(\.topic), messages: pending, metadata: fields)
        summary.messages = zip(plans, counts).map { ($0.topic.topic, $1) }
        return summary
    }

    /// A row's time from the descent's t = 0.
    static func descentTime(_ cell: String, _ time: TelemetryMap.TimeColumn, column: String) throws -> UInt64 {
        guard let ns = DecimalTime.nanoseconds(cell, unit_ns: time.unit_ns) else {
            throw RowProblem("\(column) \"\(cell)\" is not a decimal number of \(time.unit) (at most nanosecond resolution)")
        }
        let (fromStart, overflow) = ns.subtractingReportingOverflow(time.t0_unixNs ?? 0)
        guard !overflow, fromStart >= 0 else {
            throw RowProblem("\(column) \(cell) \(time.unit) is before the descent's t = 0" + (time.epoch == .unix ? " (\(DecimalTime.seconds(time.t0_unixNs!)) s Unix time)" : ""))
        }
        return UInt64(fromStart)
    }
}

struct RowProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Column names to their positions.
struct ColumnIndex {
    let header: [String]
    let file: String
    let mapFile: String

    init(header: [String], file: String, mapFile: String) throws {
        self.header = header
        self.file = file
        self.mapFile = mapFile
        var seen = Set<String>()
        for name in header where !seen.insert(name).inserted {
            throw CSVImportError(file: file, line: 1, message: "column \"\(name)\" appears twice in the header")
        }
    }

    func index(_ name: String, _ what: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else {
            let shown = header.prefix(30).map { "\"\($0)\"" }.joined(separator: ", ") + (header.count > 30 ? ", …" : "")
            throw CSVImportError(file: file, line: 1, message: "no column \"\(name)\" (\(what) in \(mapFile)); the header has \(shown)")
        }
        return i
    }
}

/// One topic's fields as column positions.
struct TopicPlan {
    let topic: TelemetryMap.TopicColumns
    let cells: [(index: Int?, field: TelemetryMap.FieldSource)]
    let stampIndex: Int?

    init(_ topic: TelemetryMap.TopicColumns, _ columns: ColumnIndex) throws {
        self.topic = topic
        cells = try topic.fields.map { f in
            if case .column(let name, _, _) = f.source { return (try columns.index(name, "csv.topics.\(topic.topic).\(f.field)"), f) }
            return (nil, f)
        }
        stampIndex = try topic.stampColumn.map { try columns.index($0, "csv.topics.\(topic.topic).stamp") }
    }

    /// The topic's message from `row`: nil when all its cells are empty (the
    /// row is another topic's), a problem when only some are.
    func message(_ row: [String], rowTime_ns: UInt64, time: TelemetryMap.TimeColumn) throws -> [UInt8]? {
        // An empty cell is an empty string for a string field (an event's
        // detail may be empty); any other field needs a value.
        let filled = cells.filter { $0.index.map { !row[$0].isEmpty } ?? false }.count
        if filled == 0 && (stampIndex.map { row[$0].isEmpty } ?? true) { return nil }
        let missing = cells.filter { c in c.field.type != .string && c.index.map { row[$0].isEmpty } ?? false }
        guard missing.isEmpty else {
            let empty = missing.compactMap { columnName($0.field) }
            throw RowProblem("\(topic.topic) has values in some of its columns but none in \(empty.joined(separator: ", "))")
        }
        var stamp = rowTime_ns
        if let s = stampIndex {
            guard !row[s].isEmpty else { throw RowProblem("\(topic.topic) has values but no stamp in \(topic.stampColumn!)") }
            stamp = try CSVImport.descentTime(row[s], time, column: topic.stampColumn!)
        }
        return try topic.encode(stamp_ns: stamp) { field, name in
            let text = row[cells.first { $0.field.field == field.field }!.index!]
            guard let v = CSVCell.value(text, field.type) else {
                throw RowProblem("\(name) \"\(text)\" is not a \(field.type.rawValue) for \(topic.topic) \(field.field) (\(field.type.accepted))")
            }
            return v
        }
    }

    func columnName(_ f: TelemetryMap.FieldSource) -> String? {
        if case .column(let name, _, _) = f.source { return name }
        return nil
    }
}

/// Writes imported messages as a trace: one channel per mapped topic in the
/// map's order, messages in time order (ties in source order), and the
/// import's `touchdown.import` metadata. Through a temporary file renamed
/// into place, so the output appears only when complete.
enum ImportedTrace {
    struct Message {
        var time_ns: UInt64
        /// Where it came from in the source (row, message index), for ties.
        var order: Int
        /// Index into the topics.
        var topic: Int
        var payload: [UInt8]
    }

    /// Returns the count of messages written per topic.
    static func write(_ path: String, topics: [TelemetryMap.TopicColumns], messages: [Message],
                      metadata: [(key: String, value: String)]) throws -> [Int] {
        let ordered = messages.sorted { ($0.time_ns, $0.order, $0.topic) < ($1.time_ns, $1.order, $1.topic) }
        let writer = try Writer(path, topics: topics)
        for m in ordered { try writer.append(m) }
        return try writer.finish(metadata: metadata)
    }

    /// Writes messages as they come, for sources already in time order.
    final class Writer {
        let recorder: TraceRecorder
        let channels: [UInt16]
        var counts: [Int]

        init(_ path: String, topics: [TelemetryMap.TopicColumns]) throws {
            let recorder = try TraceRecorder(path: path)
            func channel<M: TraceMessage>(_ type: M.Type, _ topic: String) throws -> UInt16 { try recorder.topic(topic, type).channelID }
            channels = try topics.map { try channel($0.type, $0.topic) }
            counts = [Int](repeating: 0, count: topics.count)
            self.recorder = recorder
        }

        func append(_ m: Message) throws {
            try m.payload.withUnsafeBytes { bytes in
                try recorder.writer.write(channelID: channels[m.topic], sequence: UInt32(truncatingIfNeeded: counts[m.topic]),
                                          logTime_ns: m.time_ns, publishTime_ns: m.time_ns, payload: bytes)
            }
            counts[m.topic] += 1
        }

        /// Adds the import's metadata, closes the trace; the count per topic.
        func finish(metadata: [(key: String, value: String)]) throws -> [Int] {
            try recorder.writer.addMetadata(name: "touchdown.import", metadata)
            try TraceClock.recordDescentClock(recorder.writer)
            try recorder.finish()
            return counts
        }
    }
}
