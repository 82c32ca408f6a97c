/// Fixed-point decimal with `digits` places, without Foundation's locale:
/// the same text on every machine. Non-finite values as JSON-style names.
public func formatFixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity") }
    // Beyond 1e15 the digits after the point mean nothing and the whole
    // part may not fit an Int: the shortest round-trip form (`1e+300`).
    guard abs(v) < 1e15 else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(v) * scale).rounded()
    let whole = (scaled / scale).rounded(.down)
    let frac = Int(scaled - whole * scale)
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    let sign = (v < 0 && scaled != 0) ? "-" : ""
    return sign + String(Int(whole)) + (digits > 0 ? "." + f : "")
}

/// Shortest decimal form to three places: a whole number without a point
/// (`900`), otherwise rounded to thousandths (`0.1`, `1842.851`). For
/// parameter defaults, event details and replay metrics.
public func formatNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    let scaled = (v * 1000).rounded() / 1000
    return "\(scaled)"
}

/// A time in nanoseconds as seconds rounded to the millisecond, for `t=…`
/// texts (`formatSeconds` gives every digit).
public func formatSecondsRounded(_ t_ns: UInt64) -> String { formatFixed(Double(t_ns) * 1e-9, 3) }
