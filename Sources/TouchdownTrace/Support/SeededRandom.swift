#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Everything in Touchdown that draws a random number takes one of these,
/// passed in explicitly: the same seed gives the same sequence in every run,
/// process and thread. `SystemRandomNumberGenerator` is never used.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator for a named sub-stream, so that adding draws to one part of
    /// a simulation does not shift the numbers another part sees.
    public init(seed: UInt64, stream: String) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a over the stream name
        for b in stream.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        self.init(seed: seed ^ h)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1), 53 bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal (mean 0, deviation 1), by the ziggurat method
    /// (Marsaglia and Tsang 2000, in Doornik's 2005 form, which takes the
    /// layer and the abscissa from independent bits). About 99% of draws
    /// cost one `next()` and a comparison; the rest take the wedge's or the
    /// tail's exact test. A simulated descent draws some 200,000 of these:
    /// Box–Muller's logarithm and sine per pair were about 7% of it.
    public mutating func normal() -> Double {
        let table = Ziggurat.table
        while true {
            let bits = next()
            let i = Int(bits & 0x7F)                                // the layer
            let u = Double(bits >> 11) * 0x1.0p-52 - 1              // in [-1, 1)
            if abs(u) < table.ratio[i] { return u * table.x[i] }    // inside the layer's core
            if i == 0 { return tail(negative: u < 0) }
            // In the layer's wedge: accept under the density.
            let x = u * table.x[i]
            let f0 = exp(-0.5 * (table.x[i] * table.x[i] - x * x))
            let f1 = exp(-0.5 * (table.x[i + 1] * table.x[i + 1] - x * x))
            if f1 + uniform() * (f0 - f1) < 1 { return x }
        }
    }

    /// A draw beyond the ziggurat's base, |x| > r (Marsaglia's tail method).
    private mutating func tail(negative: Bool) -> Double {
        let r = Ziggurat.r
        while true {
            let a = uniform(), b = uniform()
            if a <= 0 || b <= 0 { continue }
            let x = log(a) / r, y = log(b)
            if -2 * y >= x * x { return negative ? x - r : r - x }
        }
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Double, deviation: Double) -> Double {
        mean + deviation * normal()
    }
}

/// The 128-layer ziggurat for the standard normal density f(x) = exp(-x²/2):
/// layer edges x[0] ... x[128] (x[1] = r, the base's edge, and x[128] = 0),
/// each layer of area v, and ratio[i] = x[i+1] / x[i]. Computed once, at
/// first use, with the C library's `exp` and `log` (which the wedge and
/// tail tests use too, as Box–Muller used `log`, `sin` and `cos`).
enum Ziggurat {
    static let r = 3.442619855899
    static let v = 9.91256303526217e-3

    struct Table: Sendable {
        let x: [Double]
        let ratio: [Double]
    }

    static let table: Table = {
        var x = [Double](repeating: 0, count: 129)
        var f = exp(-0.5 * r * r)
        x[0] = v / f
        x[1] = r
        for i in 2..<128 {
            x[i] = (-2 * log(v / x[i - 1] + f)).squareRoot()
            f = exp(-0.5 * x[i] * x[i])
        }
        return Table(x: x, ratio: (0..<128).map { x[$0 + 1] / x[$0] })
    }()
}
