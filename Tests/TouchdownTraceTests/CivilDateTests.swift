import Foundation
import Testing
import TouchdownTrace

/// `CivilDate` is the one calendar in Touchdown: trace epochs and CCSDS
/// time-code epochs both count days with it.
@Suite("Civil dates")
struct CivilDateTests {
    @Test func knownDates() {
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.days(year: 1969, month: 12, day: 31) == -1)
        #expect(CivilDate.days(year: 1958, month: 1, day: 1) == -4_383)    // the CCSDS epoch
        #expect(CivilDate.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(CivilDate.days(year: 2038, month: 1, day: 19) == 24_855)
        #expect(CivilDate.days(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDate.days(year: 2024, month: 2, day: 29) == 19_782)
        #expect(CivilDate.days(year: 1900, month: 2, day: 29) == nil)
        #expect(CivilDate.days(year: 2000, month: 2, day: 29) == 11_016)
        #expect(CivilDate.days(year: 2026, month: 13, day: 1) == nil)
        #expect(CivilDate.days(year: 2026, month: 4, day: 31) == nil)
    }

    /// Every day from 1600 to 2400, counted one by one, both ways.
    @Test func everyDayRoundTrips() {
        var expected = CivilDate.days(year: 1600, month: 1, day: 1)!
        var mismatches: [String] = []
        for year in Int64(1600)...2400 {
            for month in Int64(1)...12 {
                for day in 1...CivilDate.daysIn(month: month, of: year) {
                    let days = CivilDate.days(year: year, month: month, day: day)
                    let back = CivilDate.date(days: expected)
                    if days != expected || back != (year, month, day) {
                        mismatches.append("\(year)-\(month)-\(day): \(String(describing: days)) vs \(expected), back \(back)")
                    }
                    expected += 1
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        // 801 years, 195 of them leap years (every fourth, but not 1700,
        // 1800, 1900, 2100, 2200, 2300).
        #expect(expected - CivilDate.days(year: 1600, month: 1, day: 1)! == 801 * 365 + 195)
    }
}
