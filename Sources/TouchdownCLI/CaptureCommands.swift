import ArgumentParser
import Foundation
import TouchdownCapture
import TouchdownTrace

/// `touchdown import …`: telemetry recorded elsewhere becomes a trace.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn recorded telemetry into a trace, through a map file (docs/rig.md).",
        subcommands: [ImportCSV.self, ImportMCAP.self]
    )

    struct ImportCSV: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv",
            abstract: "Import a CSV file: columns mapped to topics and fields, rows in any order.",
            discussion: """
                Messages are written in time order, each at its row's time from the descent's \
                t = 0; Unix times keep that t = 0 in the trace's touchdown.import metadata. \
                Exit 0 when every row was imported (or, with --skip-bad-rows, left out and \
                counted); 2 for a bad map, a bad file or, without --skip-bad-rows, a bad row, \
                named by its line.
                """
        )
        @Argument(help: "The CSV file; its first line names the columns.") var file: String
        @Option(help: "The map file (YAML) saying what the columns mean, e.g. fixtures/rig/telemetry-csv.yaml.") var map: String
        @Option(help: "The trace to write (never one of the inputs).") var out: String
        @Flag(name: .customLong("skip-bad-rows"), help: "Leave out rows that cannot be read, count them and name the first few.")
        var skipBadRows = false
        @Option(name: .customLong("t0"), help: "For Unix times: the descent's t = 0, in the time column's unit (replaces the map's csv.time.t0).")
        var t0: String?

        func run() {
            let summary = badInput(json: false) { () throws -> CSVImportSummary in
                let telemetryMap = try TelemetryMap.load(path: map)
                var t0_ns: Int64?
                if let t0 {
                    guard let unit = telemetryMap.csv?.time, let ns = DecimalTime.nanoseconds(t0, unit_ns: unit.unit_ns) else {
                        throw CommandLineError("--t0 \(t0): expected a decimal number in the time column's unit")
                    }
                    t0_ns = ns
                }
                return try CSVImport.run(csvPath: file, map: telemetryMap, outPath: out, skipBadRows: skipBadRows, t0_unixNs: t0_ns)
            }
            let messages = summary.messages.reduce(0) { $0 + $1.count }
            print("imported \(file) into \(out): \(summary.rows) rows, \(messages) messages")
            for (topic, count) in summary.messages { print("  \(topic)".padding(toLength: 16, withPad: " ", startingAt: 0) + " \(count)") }
            if let t0 = summary.t0_unixNs { print("t = 0 at Unix time \(DecimalTime.seconds(t0)) s (kept in the trace's touchdown.import metadata)") }
            if summary.badRows > 0 {
                print("left out \(summary.badRows) bad rows (--skip-bad-rows); the first \(summary.firstBadRows.count):")
                for e in summary.firstBadRows { print("  \(e)") }
            }
        }
    }
}

extension ImportCommand {
    struct ImportMCAP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mcap",
            abstract: "Import a ROS 2 recording (MCAP, cdr + ros2msg): source topics mapped onto Touchdown's.",
            discussion: """
                Header stamps become message stamps; log times and stamps count from the \
                descent's t = 0 (Unix time, from the map's ros2.t0 or --t0), which the \
                trace's touchdown.import metadata keeps. Exit 0 when imported; 2 for a bad \
                map or a message the map cannot read, named by topic, sequence and log time.
                """
        )
        @Argument(help: "The ROS 2 recording (MCAP).") var file: String
        @Option(help: "The map file (YAML) with a ros2 section, e.g. fixtures/rig/ros2.yaml.") var map: String
        @Option(help: "The trace to write (never one of the inputs).") var out: String
        @Option(name: .customLong("t0"), help: "The descent's t = 0 in Unix time with a unit, e.g. 1700000000s (replaces the map's ros2.t0).")
        var t0: String?

        func run() {
            let summary = badInput(json: false) { () throws -> ROS2ImportSummary in
                let telemetryMap = try TelemetryMap.load(path: map)
                let t0_ns = try t0.map(parseUnixTime)
                return try ROS2Import.run(mcapPath: file, map: telemetryMap, outPath: out, t0_unixNs: t0_ns)
            }
            print("imported \(file) into \(out): \(summary.messages.reduce(0) { $0 + $1.count }) messages")
            for m in summary.messages { print("  \(m.source) -> \(m.topic)".padding(toLength: 40, withPad: " ", startingAt: 0) + " \(m.count)") }
            print("t = 0 at Unix time \(DecimalTime.seconds(summary.t0_unixNs)) s (kept in the trace's touchdown.import metadata)")
            if !summary.unmapped.isEmpty { print("not in the map, not imported: \(summary.unmapped.joined(separator: ", "))") }
        }
    }
}

/// `touchdown export …`: a trace in a form other tools read.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trace's topics in a form other tools read.",
        subcommands: [ExportCSV.self]
    )

    struct ExportCSV: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv",
            abstract: "Write a trace's Touchdown topics as one CSV file, one row per message.",
            discussion: """
                Columns: time_s (log time), then TOPIC.stamp_s and TOPIC.FIELD for each topic \
                (altimeter.range_m). Values round-trip exactly through `touchdown import csv` \
                with the map --map-out writes.
                """
        )
        @Argument(help: "The trace.") var trace: String
        @Option(help: "The CSV file to write (never the trace).") var out: String
        @Option(name: .customLong("map-out"), help: "Also write the map file that imports the CSV back.") var mapOut: String?
        @Option(name: .customLong("topic"), help: "Export only this topic; repeatable (default: every Touchdown topic).")
        var topics: [String] = []

        func run() {
            let summary = badInput(json: false) {
                try CSVExport.run(tracePath: trace, csvPath: out, mapPath: mapOut, topics: topics.isEmpty ? nil : topics)
            }
            print("exported \(trace) to \(out): \(summary.rows) rows")
            for (topic, count) in summary.topics { print("  \(topic)".padding(toLength: 16, withPad: " ", startingAt: 0) + " \(count)") }
            if !summary.skipped.isEmpty { print("not exported (not a Touchdown topic with its schema): \(summary.skipped.joined(separator: ", "))") }
            if let mapOut { print("map: \(mapOut)") }
        }
    }
}
