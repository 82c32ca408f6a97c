/// Elevation along the ground track, relative to the Moon's reference radius:
/// a CSV profile (linear between rows, flat beyond its ends) plus crater
/// shapes. Pure and cheap; the simulator asks for it each step near the ground.
public struct Terrain: Sendable {
    let profileDownrange_m: [Double]
    let profileElevation_m: [Double]
    let features: [TerrainFeature]
    /// An upper bound of the elevation anywhere, so contact checks can be
    /// skipped while the vehicle is above it.
    public let maxElevation_m: Double

    public init(_ spec: Scenario.TerrainSpec) {
        profileDownrange_m = spec.profile.map(\.downrange_m)
        profileElevation_m = spec.profile.map(\.elevation_m)
        features = spec.features
        var top = profileElevation_m.max() ?? 0
        for f in features {
            switch f {
            case .bowl(_, _, let depth_m): top += max(0, -depth_m)
            case .crater(_, _, let depth_m, let rimHeight_m, _): top += max(0, -depth_m) + rimHeight_m
            case .cliff(_, _, let rise_m): top += max(0, rise_m)
            }
        }
        maxElevation_m = top
    }

    public func elevation(downrange_m s: Double) -> Double {
        var e = profileElevation(s)
        for f in features {
            switch f {
            case .bowl(let c, let r, let depth):
                let x = (s - c) / r
                if abs(x) < 1 { e -= depth * (1 - x * x) }
            case .crater(let c, let r, let depth, let rimHeight, let rimWidth):
                let x = (s - c) / r
                if abs(x) < 1 { e -= depth * (1 - x * x) }
                let fromRim = abs(abs(s - c) - r)
                if fromRim < rimWidth {
                    let k = Double.pi / 2 * fromRim / rimWidth
                    e += rimHeight * cos(k) * cos(k)
                }
            case .cliff(let at, let width, let rise):
                e += rise * min(1, max(0, (s - at) / width + 0.5))
            }
        }
        return e
    }

    private func profileElevation(_ s: Double) -> Double {
        let xs = profileDownrange_m
        guard let first = xs.first, let last = xs.last else { return 0 }
        if s <= first { return profileElevation_m[0] }
        if s >= last { return profileElevation_m[xs.count - 1] }
        var lo = 0, hi = xs.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if xs[mid] <= s { lo = mid } else { hi = mid }
        }
        let f = (s - xs[lo]) / (xs[hi] - xs[lo])
        return profileElevation_m[lo] + f * (profileElevation_m[hi] - profileElevation_m[lo])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
