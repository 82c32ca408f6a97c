import TouchdownTrace

/// Charts drawn as SVG text: line charts over time, scatter plots,
/// histograms and heat maps. Colours come from the page's CSS classes, so a
/// chart follows dark mode and print; numbers are written with one decimal,
/// the same on every machine.

/// A coordinate with one decimal (0.1 px is below what a screen shows).
@inline(__always)
func svgNumber(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let tenths = Int((min(max(v, -1e9), 1e9) * 10).rounded())
    let whole = tenths / 10, rest = abs(tenths % 10)
    let sign = tenths < 0 && whole == 0 ? "-" : ""
    return rest == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(rest)"
}

/// Round tick values covering `lo...hi`: about `count` of them at 1, 2 or 5 × 10ⁿ.
func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> (lo: Double, hi: Double, ticks: [Double], step: Double) {
    var lo = lo, hi = hi
    if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
    if hi - lo < 1e-12 { let pad = max(1e-9, abs(lo) * 0.05 + (lo == 0 ? 1 : 0)); lo -= pad; hi += pad }
    let raw = (hi - lo) / Double(max(1, count))
    let magnitude = pow10(floorLog10(raw))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    let first = (lo / step).rounded(.down) * step, last = (hi / step).rounded(.up) * step
    var ticks: [Double] = []
    var k = 0
    while true {
        let v = first + Double(k) * step
        if v > last + step * 1e-9 || k > 100 { break }
        ticks.append(abs(v) < step * 1e-9 ? 0 : v)
        k += 1
    }
    return (first, last, ticks, step)
}

func floorLog10(_ v: Double) -> Int {
    guard v > 0 && v.isFinite else { return 0 }
    var e = 0, x = v
    while x >= 10 { x /= 10; e += 1 }
    while x < 1 { x *= 10; e -= 1 }
    return e
}

func pow10(_ e: Int) -> Double {
    var v = 1.0
    if e >= 0 { for _ in 0..<e { v *= 10 } } else { for _ in 0..<(-e) { v /= 10 } }
    return v
}

/// A tick label: as few decimals as the step needs; thousands as `k`,
/// from a million on the shortest exponent form (`2.5e+06`).
func tickLabel(_ v: Double, step: Double) -> String {
    if abs(v) >= 1e6 || (step >= 1e6 && v != 0) { return "\(v)" }
    // Below a million, v / 1000 is below 1000: one k, never two.
    if abs(v) >= 10_000 && step >= 1_000 { return tickLabel(v / 1_000, step: step / 1_000) + "k" }
    // As many decimals as the step has (2.5 → 1, 0.25 → 2), at most 6.
    var decimals = 0
    while decimals < 6 {
        let scaled = step * pow10(decimals)
        if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
        decimals += 1
    }
    return formatFixedTrimmed(v, decimals)
}

func formatFixedTrimmed(_ v: Double, _ decimals: Int) -> String {
    guard v.isFinite, abs(v) < 1e15 else { return "\(v)" }
    let scale = pow10(decimals)
    let n = Int((v * scale).rounded())
    if decimals == 0 { return String(n) }
    let sign = n < 0 ? "-" : ""
    let a = abs(n)
    var frac = String(a % Int(scale))
    frac = String(repeating: "0", count: decimals - frac.count) + frac
    return "\(sign)\(a / Int(scale)).\(frac)"
}

/// Keeps the shape of a long series in at most `2 × buckets` points: the
/// lowest and highest of each bucket of x, in order.
func decimate(_ points: [(x: Double, y: Double)], buckets: Int) -> [(x: Double, y: Double)] {
    guard points.count > 2 * buckets, let x0 = points.first?.x, let x1 = points.last?.x, x1 > x0 else { return points }
    var out: [(x: Double, y: Double)] = []
    out.reserveCapacity(2 * buckets + 2)
    var i = 0
    let width = (x1 - x0) / Double(buckets)
    for b in 0..<buckets {
        let end = b == buckets - 1 ? Double.infinity : x0 + Double(b + 1) * width
        var lo: (x: Double, y: Double)?, hi: (x: Double, y: Double)?
        var loIndex = 0, hiIndex = 0
        while i < points.count && points[i].x < end {
            let p = points[i]
            if p.y.isFinite {
                if lo == nil || p.y < lo!.y { lo = p; loIndex = i }
                if hi == nil || p.y > hi!.y { hi = p; hiIndex = i }
            }
            i += 1
        }
        if let lo, let hi {
            if loIndex == hiIndex { out.append(lo) } else if loIndex < hiIndex { out.append(lo); out.append(hi) } else { out.append(hi); out.append(lo) }
        }
    }
    return out
}

/// The plot area of a chart and its two scales.
struct Frame {
    var width = 560.0, height = 230.0
    var left = 62.0, right = 24.0, top = 30.0, bottom = 42.0
    var x: (lo: Double, hi: Double, ticks: [Double], step: Double) = (0, 1, [0, 1], 1)
    var y: (lo: Double, hi: Double, ticks: [Double], step: Double) = (0, 1, [0, 1], 1)

    /// Whether the legend has a row of its own under the title.
    var legendRow = false

    static func legendWidth(_ name: String) -> Double { Double(name.count) * 6.2 + 22 }

    /// Moves the legend under the title when the two would overlap.
    mutating func fitLegend(title: String, _ legend: [String]) {
        let titleWidth = Double(title.count) * 7.2
        let legendWidth = legend.map(Frame.legendWidth).reduce(0, +)
        if left + titleWidth + 12 + legendWidth > width - right {
            legendRow = true
            top += 16
        }
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }
    func px(_ v: Double) -> Double { left + (v - x.lo) / (x.hi - x.lo) * plotWidth }
    func py(_ v: Double) -> Double { top + (1 - (v - y.lo) / (y.hi - y.lo)) * plotHeight }

    /// The opening tag, title, grid, ticks and axis labels.
    func open(title: String, xLabel: String, yLabel: String, kind: String, legend: [(name: String, cls: String)] = []) -> String {
        var s = "<svg class=\"chart\" data-kind=\"\(kind)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" role=\"img\">"
        s += "<title>\(escapeMarkup(title))</title>"
        s += "<text class=\"title\" x=\"\(svgNumber(left))\" y=\"18\">\(escapeMarkup(title))</text>"
        // The legend right of the title, or under it when they would meet
        // (`legendRow` then moved the plot down: see `fitLegend`).
        var lx = width - right
        let ly = legendRow ? 32.0 : 14.0
        for item in legend.reversed() {
            lx -= Frame.legendWidth(item.name)
            s += "<line class=\"line \(item.cls)\" x1=\"\(svgNumber(lx))\" y1=\"\(svgNumber(ly))\" x2=\"\(svgNumber(lx + 14))\" y2=\"\(svgNumber(ly))\"/>"
            s += "<text x=\"\(svgNumber(lx + 17))\" y=\"\(svgNumber(ly + 4))\">\(escapeMarkup(item.name))</text>"
        }
        for t in y.ticks {
            let yy = svgNumber(py(t))
            s += "<line class=\"gridline\" x1=\"\(svgNumber(left))\" y1=\"\(yy)\" x2=\"\(svgNumber(width - right))\" y2=\"\(yy)\"/>"
            s += "<text x=\"\(svgNumber(left - 5))\" y=\"\(svgNumber(py(t) + 4))\" text-anchor=\"end\">\(tickLabel(t, step: y.step))</text>"
        }
        for t in x.ticks {
            let xx = svgNumber(px(t))
            s += "<line class=\"gridline\" x1=\"\(xx)\" y1=\"\(svgNumber(top))\" x2=\"\(xx)\" y2=\"\(svgNumber(height - bottom))\"/>"
            s += "<text x=\"\(xx)\" y=\"\(svgNumber(height - bottom + 15))\" text-anchor=\"middle\">\(tickLabel(t, step: x.step))</text>"
        }
        s += "<rect class=\"axis\" fill=\"none\" x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(plotWidth))\" height=\"\(svgNumber(plotHeight))\"/>"
        s += "<text class=\"axis-label\" x=\"\(svgNumber(left + plotWidth / 2))\" y=\"\(svgNumber(height - 6))\" text-anchor=\"middle\">\(escapeMarkup(xLabel))</text>"
        s += "<text class=\"axis-label\" transform=\"translate(14 \(svgNumber(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeMarkup(yLabel))</text>"
        return s
    }

    /// A polyline path through the points inside the x range; a break where y is not finite.
    func path(_ points: [(x: Double, y: Double)]) -> String {
        var d = ""
        var pen = false
        for p in points {
            guard p.y.isFinite, p.x >= x.lo, p.x <= x.hi else { pen = false; continue }
            let yy = min(max(p.y, y.lo), y.hi)
            d += (pen ? "L" : "M") + svgNumber(px(p.x)) + " " + svgNumber(py(yy))
            pen = true
        }
        return d
    }

    /// Dots as one path of zero-length round-capped strokes (about ten bytes a point).
    func dots(_ points: [(x: Double, y: Double)]) -> String {
        var d = ""
        for p in points where p.x.isFinite && p.y.isFinite {
            // Whole pixels: a 4-pixel dot needs no finer place.
            d += "M" + String(Int(px(min(max(p.x, x.lo), x.hi)).rounded())) + " " + String(Int(py(min(max(p.y, y.lo), y.hi)).rounded())) + "h0"
        }
        return d
    }
}

/// Values of one quantity over time, and how to draw them.
struct Series {
    var name: String
    var points: [(x: Double, y: Double)]
    /// Colour: 0…3 (the page's --a … --d).
    var colour = 0
    var dashed = false
    var asDots = false
}

/// A marked instant on a time axis: an event, a fault acting, an anomaly.
struct Marker {
    enum Kind: String { case event = "ev", fault = "ev-fault", anomaly = "ev-anomaly" }
    var x: Double
    var kind: Kind
    var text: String
}

/// Series against time, with markers and optional stretches shaded as invalid.
struct LineChart {
    var title: String
    var xLabel = "time from start of descent (s)"
    var yLabel: String
    var series: [Series]
    var markers: [Marker] = []
    /// Spans of x drawn as a red strip along the bottom (an invalid sensor).
    var invalid: [(from: Double, to: Double, text: String)] = []
    var xRange: (Double, Double)?
    /// Whether each marker carries its tooltip (else they are drawn bare).
    var markerTitles = true
    var width = 1120.0, height = 230.0

    func svg() -> String {
        var frame = Frame(width: width, height: height)
        let finite = series.flatMap { $0.points }.filter { $0.x.isFinite && $0.y.isFinite }
        let xs = xRange ?? (finite.map(\.x).min() ?? 0, finite.map(\.x).max() ?? 1)
        frame.x = niceTicks(xs.0, xs.1, count: 10)
        frame.x.lo = xs.0; frame.x.hi = max(xs.1, xs.0 + 1e-9)
        frame.x.ticks = frame.x.ticks.filter { $0 >= frame.x.lo - 1e-9 && $0 <= frame.x.hi + 1e-9 }
        frame.y = niceTicks(finite.map(\.y).min() ?? 0, finite.map(\.y).max() ?? 1, count: 5)
        let legend = series.map { (name: $0.name, cls: "s\($0.colour)" + ($0.dashed ? " dash" : "")) }
        frame.fitLegend(title: title, legend.map(\.name))
        var s = frame.open(title: title, xLabel: xLabel, yLabel: yLabel, kind: "line", legend: legend)
        // Markers of one kind that fall on the same pixel column are one
        // line (a guidance rejecting ranges ten times a second makes
        // hundreds); its tooltip names the first three and counts the rest.
        var columns: [(column: Int, kind: Marker.Kind, texts: [String], count: Int)] = []
        for m in markers where m.x >= frame.x.lo && m.x <= frame.x.hi {
            let column = Int(frame.px(m.x).rounded())
            if let i = columns.lastIndex(where: { $0.column == column && $0.kind == m.kind }) {
                columns[i].count += 1
                if columns[i].texts.count < 3 { columns[i].texts.append(m.text) }
            } else {
                columns.append((column, m.kind, [m.text], 1))
            }
        }
        let y0 = svgNumber(frame.top), y1 = svgNumber(frame.height - frame.bottom)
        if markerTitles {
            for c in columns {
                let title = c.texts.joined(separator: "\n") + (c.count > c.texts.count ? "\n… and \(c.count - c.texts.count) more" : "")
                s += "<line class=\"\(c.kind.rawValue)\" x1=\"\(c.column)\" y1=\"\(y0)\" x2=\"\(c.column)\" y2=\"\(y1)\"><title>\(escapeMarkup(title))</title></line>"
            }
        } else {
            // The same lines, one path per kind, without tooltips (the
            // first chart of a plot has them).
            for kind in [Marker.Kind.event, .fault, .anomaly] {
                let d = columns.filter { $0.kind == kind }.map { "M\($0.column) \(y0)V\(y1)" }.joined()
                if !d.isEmpty { s += "<path class=\"\(kind.rawValue)\" d=\"\(d)\"/>" }
            }
        }
        for span in invalid {
            let a = frame.px(max(span.from, frame.x.lo)), b = frame.px(min(span.to, frame.x.hi))
            guard b >= a else { continue }
            s += "<rect class=\"invalid\" x=\"\(svgNumber(a))\" y=\"\(svgNumber(frame.height - frame.bottom - 5))\" width=\"\(svgNumber(max(1, b - a)))\" height=\"5\"><title>\(escapeMarkup(span.text))</title></rect>"
        }
        if finite.isEmpty {
            s += "<text class=\"muted\" x=\"\(svgNumber(frame.left + frame.plotWidth / 2))\" y=\"\(svgNumber(frame.top + frame.plotHeight / 2))\" text-anchor=\"middle\">no finite samples to draw</text>"
        }
        for line in series {
            // Lowest and highest per two pixels: the shape, at half the bytes of one per pixel.
            let pts = decimate(line.points, buckets: Int(frame.plotWidth / 2))
            if line.asDots {
                s += "<path class=\"dots s\(line.colour)\" style=\"stroke-width:2.5\" d=\"\(frame.dots(pts))\"/>"
            } else {
                s += "<path class=\"line s\(line.colour)\(line.dashed ? " dash" : "")\" d=\"\(frame.path(pts))\"/>"
            }
        }
        return s + "</svg>"
    }
}

/// Runs as points: a drawn value against a metric, passes and failures apart.
struct ScatterChart {
    var title: String
    var xLabel: String
    var yLabel: String
    var pass: [(x: Double, y: Double)]
    var fail: [(x: Double, y: Double)]
    /// Horizontal lines: an assertion's bound on the metric.
    var bounds: [(y: Double, text: String)] = []
    var width = 560.0, height = 260.0

    func svg() -> String {
        var frame = Frame(width: width, height: height)
        let all = pass + fail
        frame.x = niceTicks(all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1, count: 5)
        let ys = all.map(\.y) + bounds.map(\.y)
        frame.y = niceTicks(ys.min() ?? 0, ys.max() ?? 1, count: 5)
        let legend = [(name: "pass (\(pass.count))", cls: "pass"), (name: "fail (\(fail.count))", cls: "fail")]
        frame.fitLegend(title: title, legend.map(\.name))
        var s = frame.open(title: title, xLabel: xLabel, yLabel: yLabel, kind: "scatter", legend: legend)
        for b in bounds {
            let yy = svgNumber(frame.py(b.y))
            s += "<line class=\"bound\" x1=\"\(svgNumber(frame.left))\" y1=\"\(yy)\" x2=\"\(svgNumber(frame.width - frame.right))\" y2=\"\(yy)\"><title>\(escapeMarkup(b.text))</title></line>"
        }
        s += "<path class=\"dots pass\" d=\"\(frame.dots(pass))\"/>"
        s += "<path class=\"dots fail\" d=\"\(frame.dots(fail))\"/>"
        return s + "</svg>"
    }
}

/// The distribution of a metric over runs, with its bounds marked.
struct Histogram {
    var title: String
    var xLabel: String
    var values: [Double]
    var bounds: [(x: Double, text: String)] = []
    var width = 560.0, height = 240.0

    func svg() -> String {
        var frame = Frame(width: width, height: height)
        let lo = (values + bounds.map(\.x)).min() ?? 0, hi = (values + bounds.map(\.x)).max() ?? 1
        frame.x = niceTicks(lo, hi, count: 6)
        let binCount = 30
        let binWidth = (frame.x.hi - frame.x.lo) / Double(binCount)
        var counts = [Int](repeating: 0, count: binCount)
        for v in values where v.isFinite {
            counts[min(binCount - 1, max(0, Int((v - frame.x.lo) / binWidth)))] += 1
        }
        frame.y = niceTicks(0, Double(counts.max() ?? 1), count: 4)
        frame.y.lo = 0
        var s = frame.open(title: title, xLabel: xLabel, yLabel: "runs", kind: "histogram")
        for (i, c) in counts.enumerated() where c > 0 {
            let a = frame.px(frame.x.lo + Double(i) * binWidth), b = frame.px(frame.x.lo + Double(i + 1) * binWidth)
            let top = frame.py(Double(c))
            let from = frame.x.lo + Double(i) * binWidth
            s += "<rect class=\"bar\" x=\"\(svgNumber(a + 0.5))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(max(0.5, b - a - 1)))\" height=\"\(svgNumber(frame.py(0) - top))\"><title>\(plural(c, "run")) from \(formatFixedTrimmed(from, 3)) to \(formatFixedTrimmed(from + binWidth, 3))</title></rect>"
        }
        for b in bounds {
            let xx = svgNumber(frame.px(b.x))
            s += "<line class=\"bound\" x1=\"\(xx)\" y1=\"\(svgNumber(frame.top))\" x2=\"\(xx)\" y2=\"\(svgNumber(frame.height - frame.bottom))\"><title>\(escapeMarkup(b.text))</title></line>"
            s += "<text x=\"\(svgNumber(frame.px(b.x) + 3))\" y=\"\(svgNumber(frame.top + 12))\">\(escapeMarkup(b.text))</text>"
        }
        return s + "</svg>"
    }
}

/// Pass rates over two matrix axes: one cell per pair of values.
struct HeatMap {
    var title: String
    var rowAxis: String
    var columnAxis: String
    var rows: [String]
    var columns: [String]
    /// [row][column]: passed and total, nil where no run has the pair.
    var cells: [[(pass: Int, total: Int)?]]

    /// Red (0 %) through amber to green (100 %); text stays dark on every fill.
    static func fill(_ rate: Double) -> String {
        let stops: [(Double, (Double, Double, Double))] = [(0, (239, 83, 80)), (0.5, (255, 202, 40)), (1, (102, 187, 106))]
        let r = min(1, max(0, rate))
        let k = r <= 0.5 ? 0 : 1
        let (a, ca) = stops[k], (b, cb) = stops[k + 1]
        let f = (r - a) / (b - a)
        func mix(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * f).rounded()) }
        return "rgb(\(mix(ca.0, cb.0)),\(mix(ca.1, cb.1)),\(mix(ca.2, cb.2)))"
    }

    func svg() -> String {
        let cellWidth = max(86.0, Double(columns.map(\.count).max() ?? 0) * 6.5 + 12)
        let cellHeight = 40.0
        let left = max(90.0, Double(rows.map(\.count).max() ?? 0) * 6.5 + 20, Double(rowAxis.count + 2) * 7 + 12)
        let top = 62.0
        let width = left + cellWidth * Double(columns.count) + 14, height = top + cellHeight * Double(rows.count) + 14
        var s = "<svg class=\"chart\" data-kind=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" role=\"img\">"
        s += "<title>\(escapeMarkup(title))</title><text class=\"title\" x=\"8\" y=\"18\">\(escapeMarkup(title))</text>"
        s += "<text class=\"axis-label\" x=\"\(svgNumber(left))\" y=\"38\">\(escapeMarkup(columnAxis)) →</text>"
        s += "<text class=\"axis-label\" x=\"8\" y=\"\(svgNumber(top - 6))\">\(escapeMarkup(rowAxis)) ↓</text>"
        for (j, c) in columns.enumerated() {
            s += "<text x=\"\(svgNumber(left + (Double(j) + 0.5) * cellWidth))\" y=\"\(svgNumber(top - 6))\" text-anchor=\"middle\">\(escapeMarkup(c))</text>"
        }
        for (i, r) in rows.enumerated() {
            let y = top + Double(i) * cellHeight
            s += "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(y + cellHeight / 2 + 4))\" text-anchor=\"end\">\(escapeMarkup(r))</text>"
            for (j, c) in columns.enumerated() {
                let x = left + Double(j) * cellWidth
                guard let cell = cells[i][j] else {
                    s += "<rect x=\"\(svgNumber(x + 1))\" y=\"\(svgNumber(y + 1))\" width=\"\(svgNumber(cellWidth - 2))\" height=\"\(svgNumber(cellHeight - 2))\" fill=\"none\" class=\"axis\"/>"
                    continue
                }
                let rate = cell.total > 0 ? Double(cell.pass) / Double(cell.total) : 0
                let percent = "\(Int((rate * 100).rounded(.down)))%"
                let place = columnAxis.isEmpty ? "\(rowAxis)=\(r)" : "\(rowAxis)=\(r), \(columnAxis)=\(c)"
                s += "<g class=\"cell\" data-pass=\"\(cell.pass)\" data-total=\"\(cell.total)\"><title>\(escapeMarkup("\(place): \(cell.pass) of \(plural(cell.total, "run")) passed"))</title>"
                s += "<rect x=\"\(svgNumber(x + 1))\" y=\"\(svgNumber(y + 1))\" width=\"\(svgNumber(cellWidth - 2))\" height=\"\(svgNumber(cellHeight - 2))\" rx=\"3\" fill=\"\(HeatMap.fill(rate))\"/>"
                s += "<text class=\"rate\" x=\"\(svgNumber(x + cellWidth / 2))\" y=\"\(svgNumber(y + 17))\" text-anchor=\"middle\">\(percent)</text>"
                s += "<text x=\"\(svgNumber(x + cellWidth / 2))\" y=\"\(svgNumber(y + 32))\" text-anchor=\"middle\">\(cell.pass)/\(plural(cell.total, "run"))</text></g>"
            }
        }
        return s + "</svg>"
    }
}
