/// Fixed-point decimal with `digits` places, without Foundation's locale:
/// the same text on every machine. Non-finite values as JSON-style names.
public func formatFixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity") }
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
