import Foundation
import Testing
@testable import TouchdownReport
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

@Suite struct ReportTests {
    @Test func escapingLeavesNoMarkupAndKeepsText() {
        let hostile = "<script>alert(\"x\")</script> & 'quoted' Ω → ü"
        let escaped = escapeMarkup(hostile)
        #expect(!escaped.contains("<") && !escaped.contains(">") && !escaped.contains("\"") && !escaped.contains("'"))
        #expect(escaped == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quoted&apos; Ω → ü")
    }

    @Test func ticksCoverTheRangeAtRoundSteps() {
        let t = niceTicks(0.3, 1061.6, count: 10)
        #expect(t.lo <= 0.3 && t.hi >= 1061.6)
        #expect(t.step == 200 || t.step == 100)
        #expect(tickLabel(25_000, step: 5_000) == "25k" && tickLabel(12_500, step: 2_500) == "12.5k")
        #expect(tickLabel(2_000_000, step: 500_000) == "2000000.0" && tickLabel(1e19, step: 2048) == "1e+19", "no 2000kk")
        #expect(tickLabel(0.5, step: 0.25) == "0.50")
        #expect(svgNumber(-0.04) == "0" && svgNumber(-0.06) == "-0.1" && svgNumber(12.25) == "12.3" || svgNumber(12.25) == "12.2")
    }

    @Test func decimationKeepsExtremesInOrder() {
        let points = (0..<10_000).map { (x: Double($0), y: $0 == 4_321 ? 1e6 : sin(Double($0) / 100)) }
        let kept = decimate(points, buckets: 100)
        #expect(kept.count <= 200)
        #expect(kept.contains { $0.y == 1e6 })
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.x < $1.x })
    }

    @Test func epochsReadAndPrintBack() throws {
        for text in ["1970-01-01T00:00:00Z", "2000-01-01T12:00:00Z", "2024-02-29T23:59:59.5Z", "2037-12-31T23:59:59.000000001Z"] {
            let ns = try #require(Epoch.parse(text), "\(text)")
            #expect(Epoch.text(ns) == text.replacingOccurrences(of: ".5Z", with: ".5Z"))
        }
        #expect(Epoch.parse("2000-01-01T12:00:00Z") == Epoch.defaultEpoch_ns)
        #expect(Epoch.parse("2026-03-01T12:00:00Z") == 1_772_366_400_000_000_000)
        for bad in ["2023-02-29T00:00:00Z", "2038-01-01T00:00:00Z", "2023-04-25 16:20:00Z", "2023-04-25T16:20:00", "2023-04-25T24:00:00Z", "yesterday"] {
            #expect(Epoch.parse(bad) == nil, "\(bad)")
        }
    }

    /// A trace without /nav or /metrics (the synthetic workload): those
    /// panels say they have nothing to draw, and the page names the topics.
    @Test func panelsWithoutSamplesSaySo() throws {
        let path = try makeReferenceTrace(in: try TestPaths.scratch())
        let series = try TraceSeries.read(path: path)
        let charts = TracePlot.charts(series)
        #expect(charts.filter { $0.contains("no finite samples to draw") }.count == 2, "the two navigation-error panels")
        #expect(TracePlot.html(series).contains("/nav, /metrics, /events: their panels are empty"))
    }

    /// The plot reads t from the trace's epoch, and every panel has its series.
    @Test func aPlotOfTheM2TraceHasEveryPanelAndItsEvents() throws {
        let series = try TraceSeries.read(path: TestPaths.traces.appendingPathComponent("m2-late-altimeter.mcap").path)
        #expect(series.epoch_ns == Epoch.parse("2025-06-05T18:57:00Z"))
        #expect(series.counts.allSatisfy { $0.messages > 0 }, "\(series.counts)")
        let touchdown = try #require(series.events.last { $0.kind == "touchdown" })
        #expect(abs(touchdown.time_s - 954.288) < 0.01)
        #expect(series.navAltitude.first?.x == 0)
        // The 850 m orbit-determination error, at t = 0.
        #expect(abs((series.altitudeError.first?.y ?? 0) - 850) < 1)
        let charts = TracePlot.charts(series)
        #expect(charts.count == 8)
        #expect(charts.allSatisfy { $0.hasPrefix("<svg class=\"chart\"") && $0.hasSuffix("</svg>") })
        let html = TracePlot.html(series)
        #expect(html.contains("altimeter-rejected"))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count == 1 + charts.count,
                "the only URL is each SVG's namespace")
    }
}
