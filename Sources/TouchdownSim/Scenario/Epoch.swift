import TouchdownTrace

/// The instant a trace's clock starts: the start of descent as a UTC date.
///
/// A trace's log times and stamps are nanoseconds since the Unix epoch, so a
/// viewer shows the mission's date; `t` (time from the start of descent) is
/// the time minus the epoch. The epoch only names the clock: nothing the
/// simulation computes, and no digest, depends on it.
public enum Epoch {
    /// 2000-01-01T12:00:00Z (J2000, as UTC): the epoch of a scenario that names none.
    public static let defaultEpoch_ns: UInt64 = 946_728_000 * 1_000_000_000
    public static let accepted = "a UTC date and time written YYYY-MM-DDTHH:MM:SS[.fraction]Z, from 1970 to 2037 (a log message's seconds are a 32-bit signed number)"

    /// Nanoseconds since 1970-01-01T00:00:00Z of a `YYYY-MM-DDTHH:MM:SS[.f]Z` text, or nil.
    public static func parse(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for c in b[at..<at + n] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1970...2037).contains(year), hour < 24, minute < 60, second < 60,
              let days = CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)) else { return nil }
        var i = 19
        var fraction_ns = 0
        if b[i] == 0x2E {
            i += 1
            var scale = 100_000_000
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                guard scale > 0 else { return nil }
                fraction_ns += Int(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i == b.count - 1, b[i] == 0x5A || b[i] == 0x7A else { return nil }
        let seconds = UInt64(days) * 86_400 + UInt64(hour * 3_600 + minute * 60 + second)
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = ns.addingReportingOverflow(UInt64(fraction_ns))
        return overflow2 ? nil : total
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` of nanoseconds since 1970 (the fraction only when there is one).
    public static func text(_ ns: UInt64) -> String {
        let seconds = ns / 1_000_000_000
        let fraction = ns % 1_000_000_000
        let secondOfDay = Int(seconds % 86_400)
        let (year, month, day) = CivilDate.date(days: Int64(seconds / 86_400))
        func two<I: BinaryInteger>(_ v: I) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var s = "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        if fraction != 0 {
            var f = String(fraction)
            f = String(repeating: "0", count: 9 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return s + "Z"
    }
}
