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
    private var spareNormal: Double?

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

    /// Standard normal (mean 0, deviation 1), Box–Muller.
    public mutating func normal() -> Double {
        if let s = spareNormal {
            spareNormal = nil
            return s
        }
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        let r = (-2 * log(u)).squareRoot()
        spareNormal = r * sin(2 * Double.pi * v)
        return r * cos(2 * Double.pi * v)
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Double, deviation: Double) -> Double {
        mean + deviation * normal()
    }
}
