import Foundation
import Testing
@testable import TouchdownCapture
import TouchdownTestSupport
import TouchdownTrace

@Suite struct CSVImportTests {
    static let rig = TestPaths.repository.appendingPathComponent("fixtures/rig")

    /// Every message of `path` as (topic, log time, payload), in file order.
    /// Every message on the descent's clock: log time and stamp minus the
    /// trace's epoch (`touchdown.time`; none for an imported trace).
    static func messages(_ path: String) throws -> [(topic: String, logTime_ns: UInt64, payload: [UInt8])] {
        let reader = try TraceReader(path: path)
        let epoch = try reader.indexed.flatMap { try TraceClock.epoch_ns($0) } ?? 0
        var out: [(String, UInt64, [UInt8])] = []
        try reader.forEachMessage { d, m in
            let payload = epoch == 0 ? Array(m.data) : try TraceClock.restamp(m.data, schemaName: d.schema!.name, earlierBy: epoch)!
            out.append((d.channel.topic, m.logTime_ns - epoch, payload))
        }
        return out
    }

    /// The shipped example: Unix milliseconds, feet, g and degrees, rows out
    /// of order; each value checked against its cell.
    @Test func theExampleRigFileImportsFieldByField() throws {
        let map = try TelemetryMap.load(path: Self.rig.appendingPathComponent("telemetry-csv.yaml").path)
        let out = try TestPaths.scratch().appendingPathComponent("rig.mcap").path
        let summary = try CSVImport.run(csvPath: Self.rig.appendingPathComponent("telemetry.csv").path, map: map,
                                        outPath: out, skipBadRows: false)
        #expect(summary.rows == 8 && summary.badRows == 0)
        #expect(summary.messages.map(\.topic) == ["/imu", "/altimeter", "/attitude"])
        #expect(summary.messages.map(\.count) == [4, 2, 2])
        #expect(summary.t0_unixNs == 1_764_000_000_000_000_000)

        let reader = try TraceReader(path: out)
        var imu: [ImuSample] = [], altimeter: [AltimeterSample] = [], attitude: [AttitudeSample] = []
        var order: [String] = []
        try reader.forEachMessage { d, m in
            order.append(d.channel.topic)
            switch d.channel.topic {
            case "/imu": imu.append(try ImuSample(cdr: m.data))
            case "/altimeter": altimeter.append(try AltimeterSample(cdr: m.data))
            default: attitude.append(try AttitudeSample(cdr: m.data))
            }
            #expect(m.logTime_ns == stampOf(d.channel.topic, m.data))
        }
        // Time order; the IMU and attitude rows at t = 0 in file order.
        #expect(order == ["/imu", "/attitude", "/imu", "/imu", "/altimeter", "/attitude", "/imu", "/altimeter"])
        #expect(imu.map(\.stamp_ns) == [0, 40_000_000, 80_000_000, 120_000_000])
        #expect(imu[0].accelX_mps2 == 0.0313 * 9.80665)
        #expect(imu[1].accelY_mps2 == 0.0001 * 9.80665)
        #expect(imu[0].rateY_radps == -0.02 * 0.017453292519943295)
        #expect(altimeter.map(\.stamp_ns) == [100_000_000, 200_000_000])
        #expect(altimeter[0].range_m == 24606.3 * 0.3048 && !altimeter[0].valid)
        #expect(altimeter[1].range_m == 24100.5 * 0.3048 && altimeter[1].valid)
        #expect(attitude.map(\.pitch_rad) == [84.9 * 0.017453292519943295, 84.8 * 0.017453292519943295])
        #expect(attitude.allSatisfy { $0.valid })
        let indexed = try #require(reader.indexed)
        let index = try #require(indexed.metadataIndexes.first { $0.name == "touchdown.import" })
        let metadata = try indexed.metadata(index)
        #expect(metadata.metadata.contains { $0.key == "t0_unix_ns" && $0.value == "1764000000000000000" })
    }

    func stampOf(_ topic: String, _ data: UnsafeRawBufferPointer) -> UInt64 {
        // stamp_ns is the first field of every Touchdown message, after the 4-byte header.
        data.loadUnaligned(fromByteOffset: 4, as: UInt64.self)
    }

    /// A simulated trace exported and imported back gives the same messages,
    /// byte for byte on the descent's clock: the same topics, times from the
    /// start of descent, order and payloads. (The CSV holds times from the
    /// start of descent; the import does not put the mission's date back.)
    @Test func exportThenImportGivesTheSameMessages() throws {
        let dir = try TestPaths.scratch()
        let trace = TestPaths.repository.appendingPathComponent("traces/m2-late-altimeter.mcap").path
        let csv = dir.appendingPathComponent("m2.csv").path, mapPath = dir.appendingPathComponent("m2.yaml").path
        let exported = try CSVExport.run(tracePath: trace, csvPath: csv, mapPath: mapPath, topics: nil)
        #expect(exported.topics.map(\.topic).sorted() == ["/altimeter", "/attitude", "/command", "/events", "/imu", "/nav", "/truth", "/velocimeter"])
        let out = dir.appendingPathComponent("back.mcap").path
        let imported = try CSVImport.run(csvPath: csv, map: try TelemetryMap.load(path: mapPath), outPath: out, skipBadRows: false)
        #expect(imported.rows == exported.rows)
        // /metrics and /log are derived (navigation − truth, events as log lines): not exported.
        let exportedTopics = Set(exported.topics.map(\.topic))
        let original = try Self.messages(trace).filter { exportedTopics.contains($0.topic) }, back = try Self.messages(out)
        #expect(original.count == back.count)
        var firstDifference: Int?
        for (i, (a, b)) in zip(original, back).enumerated() {
            let same: Bool = a.topic == b.topic && a.logTime_ns == b.logTime_ns && a.payload == b.payload
            if !same { firstDifference = i; break }
        }
        #expect(firstDifference == nil, "first difference at message \(firstDifference ?? -1)")
    }

    func importing(_ csv: String, map mapText: String, skip: Bool = false) throws -> CSVImportSummary {
        let dir = try TestPaths.scratch()
        let csvPath = dir.appendingPathComponent("t.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let map = try TelemetryMap.parse(text: mapText, file: "m.yaml")
        return try CSVImport.run(csvPath: csvPath, map: map, outPath: dir.appendingPathComponent("o.mcap").path, skipBadRows: skip)
    }

    static let altimeterMap = """
        name: t
        csv:
          time: {column: t, unit: s}
          topics:
            /altimeter: {range_m: r, valid: ok}
        """

    @Test func aBadRowIsNamedByItsLineOrSkippedAndCounted() throws {
        let csv = "t,r,ok\n0.0,100,1\n0.1,abc,1\n0.2,90\n\"0.3\",80,maybe\n0.4,70,\n-1,60,1\n0.5,50,0\n"
        do {
            _ = try importing(csv, map: Self.altimeterMap)
            Issue.record("a bad row was imported")
        } catch let e as CSVImportError {
            #expect(e.line == 3)
            #expect(e.description.contains("t.csv:3: row 2: r \"abc\" is not a float64"), "\(e)")
        }
        let s = try importing(csv, map: Self.altimeterMap, skip: true)
        #expect(s.badRows == 5 && s.rows == 7)
        #expect(s.messages.map(\.count) == [2])
        let reasons = s.firstBadRows.map(\.description)
        #expect(reasons[1].contains(":4: row 3: has 2 cells; the header has 3"))
        #expect(reasons[2].contains(":5: row 4: ok \"maybe\" is not a bool"))
        #expect(reasons[3].contains(":6: row 5: /altimeter has values in some of its columns but none in ok"))
        #expect(reasons[4].contains(":7: row 6: t -1 s is before the descent's t = 0"))
    }

    @Test func timesAreExactToTheNanosecond() {
        #expect(DecimalTime.nanoseconds("1764000000.123456789", unit_ns: 1_000_000_000) == 1_764_000_000_123_456_789)
        #expect(DecimalTime.nanoseconds("0.1", unit_ns: 1_000_000_000) == 100_000_000)
        #expect(DecimalTime.nanoseconds("2.5", unit_ns: 1_000_000) == 2_500_000)
        #expect(DecimalTime.nanoseconds("1.0000000001", unit_ns: 1_000_000_000) == nil)  // finer than 1 ns
        #expect(DecimalTime.nanoseconds("1e3", unit_ns: 1) == nil)
        #expect(DecimalTime.nanoseconds("99999999999", unit_ns: 1_000_000_000) == nil)  // past Int64
        #expect(DecimalTime.seconds(1_764_000_000_000_000_005) == "1764000000.000000005")
    }

    @Test(arguments: [
        ("name: t\ncsv:\n  time: {column: t, unit: min}\n  topics: {/imu: {}}\n", "m.yaml:3:", "csv.time.unit \"min\" is not a time unit; accepted: s, ms, us, ns"),
        ("name: t\ncsv:\n  time: {column: t}\n  topics:\n    /lidar: {range_m: r}\n", "m.yaml:5:5", "/lidar is not a Touchdown topic; accepted: /imu"),
        ("name: t\ncsv:\n  time: {column: t}\n  topics:\n    /altimeter: {range_m: r}\n", "m.yaml:5:17", "csv.topics./altimeter.valid is missing"),
        ("name: t\ncsv:\n  time: {column: t}\n  topics:\n    /altimeter: {range_m: r, valid: ok, colour: red}\n", "m.yaml:5:", "unknown key colour"),
        ("name: t\ncsv:\n  time: {column: t}\n  topics:\n    /altimeter: {range_m: {column: r, scale: nan}, valid: ok}\n", "m.yaml:5:", "scale \"nan\" is not a finite number"),
        ("name: t\ncsv:\n  time: {column: t, t0: 5}\n  topics:\n    /altimeter: {range_m: r, valid: ok}\n", "m.yaml:3:", "csv.time.t0 is for epoch: unix"),
    ])
    func mapErrorsSayWhereAndWhatIsAccepted(_ text: String, _ place: String, _ message: String) {
        do {
            _ = try TelemetryMap.parse(text: text, file: "m.yaml")
            Issue.record("accepted a bad map")
        } catch {
            #expect("\(error)".hasPrefix(place) && "\(error)".contains(message), "\(error)")
        }
    }

    @Test func aMissingColumnOrT0IsAnErrorBeforeAnythingIsWritten() throws {
        do {
            _ = try importing("t,range,ok\n0,1,1\n", map: Self.altimeterMap)
            Issue.record("imported without column r")
        } catch {
            #expect("\(error)".contains("t.csv:1: no column \"r\" (csv.topics./altimeter.range_m in m.yaml); the header has \"t\", \"range\", \"ok\""), "\(error)")
        }
        let unix = Self.altimeterMap.replacingOccurrences(of: "unit: s}", with: "unit: s, epoch: unix}")
        do {
            _ = try importing("t,r,ok\n0,1,1\n", map: unix)
            Issue.record("imported Unix times without t = 0")
        } catch {
            #expect("\(error)".contains("nothing gives the descent's t = 0"), "\(error)")
        }
    }

    @Test func theOutputIsNeverAnInput() throws {
        let dir = try TestPaths.scratch()
        let csvPath = dir.appendingPathComponent("t.csv").path
        let text = "t,r,ok\n0,1,1\n"
        try text.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let map = try TelemetryMap.parse(text: Self.altimeterMap, file: "m.yaml")
        #expect(throws: OutputIsInputError.self) {
            _ = try CSVImport.run(csvPath: csvPath, map: map, outPath: csvPath, skipBadRows: false)
        }
        #expect(try String(contentsOfFile: csvPath, encoding: .utf8) == text)
    }
}

/// What the CSV parser would let through is refused by the structure pass.
@Suite struct CSVStructureTests {
    func importing(_ csv: String, skip: Bool = false) throws -> CSVImportSummary {
        let dir = try TestPaths.scratch()
        let csvPath = dir.appendingPathComponent("t.csv").path
        try Data(csv.utf8).write(to: URL(fileURLWithPath: csvPath))
        let map = try TelemetryMap.parse(text: """
            name: t
            csv:
              time: {column: t, unit: s}
              topics:
                /altimeter: {range_m: r, valid: v}
                /events: {kind: k, detail: d, anomaly: a}
            """, file: "m.yaml")
        return try CSVImport.run(csvPath: csvPath, map: map, outPath: dir.appendingPathComponent("o.mcap").path, skipBadRows: skip)
    }

    func error(_ csv: String, skip: Bool = false) -> String {
        do {
            _ = try importing(csv, skip: skip)
            return "imported"
        } catch {
            return "\(error)"
        }
    }

    @Test func anUnclosedQuoteIsRefusedNotSwallowingTheRest() {
        // It would have taken rows 3 to 5 into one event's detail, exit 0.
        let csv = "t,r,v,k,a,d\n1,5,1,,,\n2,,,x,0,\"oops\n3,7,1,,,\n4,8,1,,,\n5,9,1,,,\n"
        #expect(error(csv).contains("t.csv:3: has a quoted cell that is never closed"), "\(error(csv))")
        #expect(error(csv, skip: true).contains("never closed"))
        #expect(error("t,r,v,k,a,d\n1,5,1,x,0,\"a\"b\n").contains("t.csv:2: has text after the closing quote"))
        #expect(error("t,r,v,k,a,d\n1,5,1,x,0,caf\u{E9}\n2,5,1,,,\n".replacingOccurrences(of: "\u{E9}", with: "\u{E9}")) == "imported")
    }

    @Test func bytesThatAreNotUTF8AreNamedByLine() throws {
        let dir = try TestPaths.scratch()
        let path = dir.appendingPathComponent("bad.csv").path
        try Data("t,r,v\n1,5,1\n2,".utf8 + [0xFF] + Data(",1\n".utf8)).write(to: URL(fileURLWithPath: path))
        #expect(throws: CSVImportError.self) { try CSVStructure.recordLines(path: path) }
        do { _ = try CSVStructure.recordLines(path: path) } catch { #expect("\(error)".contains("bad.csv:3: is not UTF-8 text here (byte 0xff)"), "\(error)") }
    }

    @Test func lineNumbersCountBreaksInsideQuotedCells() {
        // A CRLF inside a quoted cell is one line; the bad row is on line 5.
        let csv = "t,r,v,k,a,d\r\n1,5,1,x,0,\"two\r\nlines\"\r\n2,5,1,,,\r\n3,oops,1,,,\r\n"
        #expect(error(csv).contains("t.csv:5: row 3: r \"oops\" is not a float64"), "\(error(csv))")
    }

    @Test func aSkippedRowIsLeftOutWhole() throws {
        // The row's altimeter cells are fine, its event's anomaly is not: none of it is kept.
        let s = try importing("t,r,v,k,a,d\n1,5,1,,,\n2,6,1,x,maybe,d\n3,7,1,,,\n", skip: true)
        #expect(s.badRows == 1)
        #expect(s.messages.map(\.count) == [2, 0])
    }

    @Test func anEmptyStringIsAStringAndAMapNameAnyText() throws {
        let s = try importing("t,r,v,k,a,d\n1,,,x,0,\n")
        #expect(s.messages.map(\.count) == [0, 1])
        let text = CSVExport.mapText(topics: [], name: "a: b #1 [x] \"q\".csv")
        let name = text.split(separator: "\n").first { $0.hasPrefix("name: ") }!
        let parsed = try TelemetryMap.parse(text: String(name) + "\ncsv:\n  time: {column: t}\n  topics: {/attitude: {pitch_rad: p, valid: v}}\n", file: "m.yaml")
        #expect(parsed.name == "a: b #1 [x] \"q\".csv")
    }

    @Test func stampsPast2To63AreWrittenNotTrapped() {
        #expect(DecimalTime.seconds(unsigned: UInt64.max) == "18446744073.709551615")
    }

    @Test func aNegativeT0IsRefused() throws {
        let map = try TelemetryMap.load(path: TestPaths.repository.appendingPathComponent("fixtures/rig/ros2.yaml").path)
        #expect(throws: ROS2ImportError.self) {
            _ = try ROS2Import.run(mcapPath: TestPaths.repository.appendingPathComponent("traces/nominal.mcap").path, map: map,
                                   outPath: try TestPaths.scratch().appendingPathComponent("o.mcap").path, t0_unixNs: -1)
        }
    }
}
