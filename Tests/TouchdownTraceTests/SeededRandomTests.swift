import Foundation
import Testing
@testable import TouchdownTrace

/// `SeededRandom.normal()` draws by the ziggurat method (it used Box–Muller).
/// Every sensor's noise and every `normal(...)` dispersion comes from it, so
/// its distribution is checked here against the standard normal's, on a
/// fixed seed (the test cannot flake).
@Suite("Seeded random numbers")
struct SeededRandomTests {
    /// Φ(x), the standard normal distribution function.
    func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    @Test func normalDrawsFollowTheStandardNormal() {
        var random = SeededRandom(seed: 42, stream: "test.normal")
        let n = 2_000_000
        var draws = [Double](repeating: 0, count: n)
        for i in 0..<n { draws[i] = random.normal() }

        let mean = draws.reduce(0, +) / Double(n)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let kurtosis = draws.reduce(0) { $0 + pow($1 - mean, 4) } / Double(n) / (variance * variance)
        // Standard errors at n = 2e6: mean 7e-4, variance 1e-3, kurtosis 2e-3.
        #expect(abs(mean) < 4e-3, "mean \(mean)")
        #expect(abs(variance - 1) < 6e-3, "variance \(variance)")
        #expect(abs(kurtosis - 3) < 2e-2, "kurtosis \(kurtosis)")

        // Kolmogorov–Smirnov against Φ: the 0.1% critical value is 1.95/√n.
        draws.sort()
        var d = 0.0
        for (i, x) in draws.enumerated() {
            let f = normalCDF(x)
            d = max(d, abs(f - Double(i) / Double(n)), abs(Double(i + 1) / Double(n) - f))
        }
        #expect(d < 1.95 / Double(n).squareRoot(), "KS distance \(d)")

        // The tails beyond the ziggurat's base (|x| > 3.44) come from their
        // own method: as often as they should be, and as far out.
        let beyondBase = draws.filter { abs($0) > Ziggurat.r }.count
        let expected = 2 * (1 - normalCDF(Ziggurat.r)) * Double(n)  // about 1,150
        #expect(abs(Double(beyondBase) - expected) < 4 * expected.squareRoot(), "\(beyondBase) beyond ±r, expected \(expected)")
        let beyond4 = draws.filter { abs($0) > 4 }.count
        let expected4 = 2 * (1 - normalCDF(4)) * Double(n)  // about 127
        #expect(abs(Double(beyond4) - expected4) < 4 * expected4.squareRoot(), "\(beyond4) beyond ±4, expected \(expected4)")
        #expect(draws.first! < -4.5 && draws.last! > 4.5)
    }

    @Test func zigguratLayersHaveEqualAreas() {
        // Each layer i ≥ 1 is x[i] · (f(x[i+1]) − f(x[i])) = v; the base is
        // r · f(r) plus the tail, which is also v.
        let t = Ziggurat.table
        func f(_ x: Double) -> Double { exp(-0.5 * x * x) }
        for i in 1..<127 {
            let area = t.x[i] * (f(t.x[i + 1]) - f(t.x[i]))
            #expect(abs(area - Ziggurat.v) < 1e-9, "layer \(i): \(area)")
        }
        let tail = (Double.pi / 2).squareRoot() * erfc(Ziggurat.r / 2.0.squareRoot())
        #expect(abs(Ziggurat.r * f(Ziggurat.r) + tail - Ziggurat.v) < 1e-9)
        #expect(t.x[128] == 0 && t.x[1] == Ziggurat.r)
    }

    @Test func theSameSeedGivesTheSameDraws() {
        var a = SeededRandom(seed: 7, stream: "x"), b = SeededRandom(seed: 7, stream: "x")
        let first = (0..<10_000).map { _ in a.normal().bitPattern }, second = (0..<10_000).map { _ in b.normal().bitPattern }
        #expect(first == second)
    }
}
