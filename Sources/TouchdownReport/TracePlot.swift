import Foundation
import TouchdownSim
import TouchdownTrace

/// What `touchdown plot` draws of one trace, read from its topics: time
/// from the start of descent (log time minus the trace's epoch, or its first
/// message's time when it names none), truth, navigation, commands, the
/// altimeter, navigation errors and events.
public struct TraceSeries: Sendable {
    public struct Event: Sendable {
        public var time_s: Double
        public var kind: String
        public var detail: String
        public var anomaly: Bool
    }

    public var path: String
    public var epoch_ns: UInt64?
    /// Metadata records by name, their pairs in file order.
    public var metadata: [(name: String, pairs: [(key: String, value: String)])] = []
    var truthAltitude: [(x: Double, y: Double)] = []
    var truthVerticalSpeed: [(x: Double, y: Double)] = []
    var truthHorizontalSpeed: [(x: Double, y: Double)] = []
    var truthPitch_deg: [(x: Double, y: Double)] = []
    var navAltitude: [(x: Double, y: Double)] = []
    var navVerticalSpeed: [(x: Double, y: Double)] = []
    var navHorizontalSpeed: [(x: Double, y: Double)] = []
    var mainThrottle: [(x: Double, y: Double)] = []
    var thrusterThrottle: [(x: Double, y: Double)] = []
    var pitchCommand_deg: [(x: Double, y: Double)] = []
    var altimeterRange: [(x: Double, y: Double)] = []
    var altimeterInvalid: [(from: Double, to: Double)] = []
    var altitudeError: [(x: Double, y: Double)] = []
    var verticalSpeedError: [(x: Double, y: Double)] = []
    public var events: [Event] = []
    /// Messages read, per topic plotted.
    public var counts: [(topic: String, messages: Int)] = []

    public func meta(_ record: String, _ key: String) -> String? {
        metadata.last { $0.name == record }?.pairs.last { $0.key == key }?.value
    }

    /// Reads the topics a plot needs. A topic that is absent leaves its
    /// panels empty (and says so); one that does not carry Touchdown's type
    /// is an error.
    public static func read(path: String) throws -> TraceSeries {
        do {
            return try readUnnamed(path: path)
        } catch let e as PlotError {
            throw e
        } catch {
            throw PlotError("\(path): \(error)")
        }
    }

    static func readUnnamed(path: String) throws -> TraceSeries {
        let reader = try TraceReader(path: path)
        guard let indexed = reader.indexed else {
            throw PlotError("\(path): the trace has no intact summary; `touchdown trace recover` rebuilds one")
        }
        var s = TraceSeries(path: path)
        s.epoch_ns = try TraceClock.epoch_ns(indexed)
        for index in indexed.metadataIndexes {
            let m = try indexed.metadata(index)
            s.metadata.append((m.name, m.metadata.map { ($0.key, $0.value) }))
        }
        typealias T = TouchdownTopics
        let wanted: [(topic: String, schema: String)] = [
            (T.truth, TruthSample.schemaName), (T.nav, NavSample.schemaName), (T.command, CommandSample.schemaName),
            (T.altimeter, AltimeterSample.schemaName), (T.metrics, NavErrorSample.schemaName), (T.events, EventSample.schemaName),
        ]
        var origin = s.epoch_ns
        var counts = [Int](repeating: 0, count: wanted.count)
        var lastValid: Bool?
        var invalidFrom = 0.0
        var lastAltimeter = 0.0
        // One message into its series.
        func take(_ topic: String, _ t: Double, _ data: UnsafeRawBufferPointer) throws {
            switch topic {
            case T.truth:
                let v = try TruthSample(cdr: data)
                s.truthAltitude.append((t, v.altitudeAGL_m)); s.truthVerticalSpeed.append((t, v.verticalSpeed_mps))
                s.truthHorizontalSpeed.append((t, v.horizontalSpeed_mps)); s.truthPitch_deg.append((t, v.pitch_rad * 180 / .pi))
            case T.nav:
                let v = try NavSample(cdr: data)
                s.navAltitude.append((t, v.altitude_m)); s.navVerticalSpeed.append((t, v.verticalSpeed_mps))
                s.navHorizontalSpeed.append((t, v.horizontalSpeed_mps))
            case T.command:
                let v = try CommandSample(cdr: data)
                s.mainThrottle.append((t, v.mainThrottle_fraction)); s.thrusterThrottle.append((t, v.thrusterThrottle_fraction))
                s.pitchCommand_deg.append((t, v.pitchCommand_rad * 180 / .pi))
            case T.altimeter:
                let v = try AltimeterSample(cdr: data)
                if v.valid { s.altimeterRange.append((t, v.range_m)) }
                if v.valid != lastValid {
                    if lastValid == false { s.altimeterInvalid.append((invalidFrom, t)) }
                    if !v.valid { invalidFrom = t }
                    lastValid = v.valid
                }
                lastAltimeter = t
            case T.metrics:
                let v = try NavErrorSample(cdr: data)
                s.altitudeError.append((t, v.altitudeError_m)); s.verticalSpeedError.append((t, v.verticalSpeedError_mps))
            default:
                let v = try EventSample(cdr: data)
                s.events.append(Event(time_s: t, kind: v.kind, detail: v.detail, anomaly: v.anomaly))
            }
        }
        try reader.forEachMessage(topics: wanted.map(\.topic)) { decoder, m in
            guard let k = wanted.firstIndex(where: { $0.topic == decoder.channel.topic }) else { return }
            guard decoder.schema?.name == wanted[k].schema else {
                throw PlotError("\(path): \(wanted[k].topic) carries \(decoder.schema?.name ?? "no schema"), not \(wanted[k].schema) (docs/traces.md)")
            }
            if origin == nil { origin = m.logTime_ns }
            let t = (Double(m.logTime_ns) - Double(origin!)) * 1e-9
            counts[k] += 1
            do { try take(wanted[k].topic, t, m.data) } catch {
                throw PlotError("\(path): the \(wanted[k].topic) message logged at \(m.logTime_ns) ns: \(error)")
            }
        }
        if lastValid == false { s.altimeterInvalid.append((invalidFrom, lastAltimeter)) }
        if s.epoch_ns == nil { s.epoch_ns = origin }
        s.counts = zip(wanted, counts).map { ($0.0.topic, $0.1) }
        return s
    }

    var timeRange: (Double, Double) {
        let all = [truthAltitude, navAltitude, mainThrottle, altimeterRange].flatMap { $0 }.map(\.x) + events.map(\.time_s)
        return (min(0, all.min() ?? 0), max(1, all.max() ?? 1))
    }

    var markers: [Marker] {
        events.map { e in
            Marker(x: e.time_s, kind: e.kind == "fault" ? .fault : e.anomaly ? .anomaly : .event,
                   text: "t=\(formatFixed(e.time_s, 2)) s \(e.kind): \(e.detail)")
        }
    }
}

public struct PlotError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// `touchdown plot`: the panels of one run, or of two overlaid.
public enum TracePlot {
    /// The panels as SVG charts, in order. With `compare`, its series are
    /// drawn dashed beside the first trace's.
    public static func charts(_ a: TraceSeries, compare b: TraceSeries? = nil, width: Double = 1120) -> [String] {
        let nameA = b == nil ? "" : "A "
        let range: (Double, Double) = {
            guard let b else { return a.timeRange }
            return (min(a.timeRange.0, b.timeRange.0), max(a.timeRange.1, b.timeRange.1))
        }()
        let markers = a.markers + (b?.markers ?? [])
        typealias Points = KeyPath<TraceSeries, [(x: Double, y: Double)]>
        // Each panel: title, axis label, and its series (name, samples, colour).
        let panels: [(title: String, unit: String, series: [(name: String, points: Points, colour: Int)])] = [
            ("Altitude above ground: truth and navigation", "altitude (m)", [("truth", \.truthAltitude, 0), ("navigation", \.navAltitude, 1)]),
            ("Vertical speed (positive up)", "vertical speed (m/s)", [("truth", \.truthVerticalSpeed, 0), ("navigation", \.navVerticalSpeed, 1)]),
            ("Horizontal speed", "horizontal speed (m/s)", [("truth", \.truthHorizontalSpeed, 0), ("navigation", \.navHorizontalSpeed, 1)]),
            ("Throttle commands", "throttle (fraction)", [("main engine", \.mainThrottle, 2), ("thrusters", \.thrusterThrottle, 3)]),
            ("Pitch: command and truth", "pitch (deg)", [("command", \.pitchCommand_deg, 2), ("truth", \.truthPitch_deg, 0)]),
        ]
        var charts = panels.enumerated().map { k, panel in
            var series = panel.series.map { Series(name: nameA + $0.name, points: a[keyPath: $0.points], colour: $0.colour) }
            if let b { series += panel.series.map { Series(name: "B " + $0.name, points: b[keyPath: $0.points], colour: $0.colour, dashed: true) } }
            // Tooltips on the first chart's markers only: the others repeat the lines.
            return LineChart(title: panel.title, yLabel: panel.unit, series: series, markers: markers, xRange: range,
                             markerTitles: k == 0, width: width).svg()
        }
        var altimeter = LineChart(title: "Altimeter: valid ranges (dots); invalid stretches (red strip)", yLabel: "slant range (m)",
                                  series: [Series(name: nameA + "range", points: a.altimeterRange, colour: 0, asDots: true)],
                                  markers: markers, xRange: range, markerTitles: false, width: width)
        altimeter.invalid = a.altimeterInvalid.map { ($0.from, $0.to, "\(nameA)altimeter invalid from t=\(formatFixed($0.from, 1)) to \(formatFixed($0.to, 1)) s") }
        if let b {
            altimeter.series.append(Series(name: "B range", points: b.altimeterRange, colour: 1, asDots: true))
            altimeter.invalid += b.altimeterInvalid.map { ($0.from, $0.to, "B altimeter invalid from t=\(formatFixed($0.from, 1)) to \(formatFixed($0.to, 1)) s") }
        }
        charts.append(altimeter.svg())
        for (unit, name, points, colour) in [("altitude error (m)", "altitude", \TraceSeries.altitudeError, 1),
                                             ("vertical speed error (m/s)", "vertical speed", \TraceSeries.verticalSpeedError, 3)] {
            var series = [Series(name: nameA + name, points: a[keyPath: points], colour: colour)]
            if let b { series.append(Series(name: "B " + name, points: b[keyPath: points], colour: colour, dashed: true)) }
            charts.append(LineChart(title: "Navigation error (navigation − truth, /metrics)", yLabel: unit, series: series,
                                    markers: markers, xRange: range, markerTitles: false, width: width).svg())
        }
        return charts
    }

    /// The facts shown above the charts.
    static func facts(_ s: TraceSeries) -> [(String, String)] {
        var f: [(String, String)] = [("trace", s.path)]
        if let scenario = s.meta("touchdown.simulation", "scenario") { f.append(("scenario", scenario)) }
        if let g = s.meta("touchdown.replay", "guidance") ?? s.meta("touchdown.simulation", "guidance") { f.append(("guidance", g)) }
        if let mode = s.meta("touchdown.replay", "mode") { f.append(("mode", mode)) }
        if let faults = s.meta("touchdown.replay", "faults"), !faults.isEmpty { f.append(("faults", faults)) }
        if let o = s.meta("touchdown.outcome", "outcome") { f.append(("outcome", o)) }
        if let v = s.meta("touchdown.outcome", "touchdown.vertical_speed_mps") { f.append(("touchdown vertical speed", v + " m/s")) }
        if let v = s.meta("touchdown.outcome", "propellant_kg") { f.append(("propellant left", v + " kg")) }
        if let e = s.meta(TraceClock.metadataName, "epoch") { f.append(("t = 0 (start of descent)", e)) }
        else if let e = s.epoch_ns { f.append(("t = 0", "the first message, log time \(e) ns (the trace names no epoch)")) }
        let missing = s.counts.filter { $0.messages == 0 }.map(\.topic)
        if !missing.isEmpty { f.append(("not in the trace", missing.joined(separator: ", ") + ": their panels are empty")) }
        return f
    }

    /// A page with the facts, a legend of the markers and every chart.
    public static func html(_ a: TraceSeries, compare b: TraceSeries? = nil) -> String {
        var page = HTMLPage(title: "touchdown plot: \((a.path as NSString).lastPathComponent)")
        page.add("<h1>\(escapeMarkup(b == nil ? "Run" : "Two runs")): \(escapeMarkup((a.path as NSString).lastPathComponent))\(b.map { " (A) and " + escapeMarkup(($0.path as NSString).lastPathComponent) + " (B, dashed)" } ?? "")</h1>")
        page.add(factsHTML(a, label: b == nil ? nil : "A"))
        if let b { page.add(factsHTML(b, label: "B")) }
        page.add(markerLegend)
        page.add("<div class=\"charts\">" + charts(a, compare: b).joined() + "</div>")
        page.add(eventsTable(a, label: b == nil ? nil : "A"))
        if let b { page.add(eventsTable(b, label: "B")) }
        return page.text
    }

    /// The charts stacked in one SVG file.
    public static func svg(_ a: TraceSeries, compare b: TraceSeries? = nil) -> String {
        let parts = charts(a, compare: b)
        var y = 0.0
        var body = ""
        for p in parts {
            body += "<g transform=\"translate(0 \(svgNumber(y)))\">" + p + "</g>"
            y += 240
        }
        // A standalone SVG has no page stylesheet: the page's, with the light colours.
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1120\" height=\"\(svgNumber(y))\" viewBox=\"0 0 1120 \(svgNumber(y))\"><style>\(HTMLPage.style)</style><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>" + body + "</svg>\n"
    }

    static let markerLegend = """
    <p class="muted">Vertical lines mark events: <span style="color:var(--fault)">dashed amber</span> a fault acting or stopping, <span style="color:var(--anomaly)">red</span> an anomaly (guidance flagged it, or the run raised it), grey dotted the others; hover over the first panel's lines for the detail. Time is from the start of descent.</p>
    """

    static func factsHTML(_ s: TraceSeries, label: String?) -> String {
        var h = label.map { "<h3>\($0)</h3>" } ?? ""
        h += "<div class=\"facts\">"
        for (k, v) in facts(s) { h += "<span class=\"muted\">\(escapeMarkup(k))</span><span>\(escapeMarkup(v))</span>" }
        return h + "</div>"
    }

    static func eventsTable(_ s: TraceSeries, label: String?) -> String {
        var h = "<h2>Events\(label.map { " of " + $0 } ?? "") (\(s.events.count))</h2>"
        guard !s.events.isEmpty else { return h + "<p class=\"muted\">No events recorded.</p>" }
        h += "<table class=\"sortable\"><thead><tr><th class=\"num\">t (s)</th><th>kind</th><th>anomaly</th><th>detail</th></tr></thead><tbody>"
        for e in s.events {
            h += "<tr><td class=\"num\">\(formatFixed(e.time_s, 3))</td><td>\(escapeMarkup(e.kind))</td><td>\(e.anomaly ? "<span class=\"bad\">yes</span>" : "no")</td><td>\(escapeMarkup(e.detail))</td></tr>"
        }
        return h + "</tbody></table>"
    }
}
