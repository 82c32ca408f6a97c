import TouchdownSim
import TouchdownTrace

/// A Monte Carlo distribution of one scenario value, with units as scenario
/// files write them: `normal(25 km, 200 m)`, `uniform(380 N, 420 N)`,
/// `truncnormal(0 m, 500 m, -1 km, 1 km)`, `choice(latching, recovering)`.
public struct Distribution: Sendable, Equatable, CustomStringConvertible {
    public enum Shape: Sendable, Equatable {
        case normal(mean: Double, sigma: Double)
        case uniform(low: Double, high: Double)
        case truncatedNormal(mean: Double, sigma: Double, low: Double, high: Double)
        /// Values as written; each drawn with equal probability.
        case choice([String])
    }

    public let shape: Shape
    /// The dimension of the numbers (nil for `choice`); values are SI inside.
    public let dimension: PhysicalDimension?
    /// As written in the campaign file.
    public let text: String
    public var description: String { text }

    /// The accepted forms, for error messages.
    public static let accepted = "normal(mean, sigma), uniform(low, high), truncnormal(mean, sigma, low, high), choice(a, b, …), with units as in scenario files (25 km, 1.7 km/s, 400 N, 2 deg)"

    public init(parsing text: String) throws(DistributionError) {
        self.text = text
        let trimmed = text.trimmed(of: " \t")
        guard let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")") else {
            throw DistributionError("\"\(text)\" is not a distribution; accepted: \(Self.accepted)")
        }
        let name = String(trimmed[..<open]).trimmed(of: " \t")
        let inner = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
        let args = inner.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed(of: " \t") }
        if name == "choice" {
            guard !args.isEmpty, !args.contains(where: \.isEmpty) else {
                throw DistributionError("choice(…) needs one or more values separated by commas, got \"\(text)\"")
            }
            shape = .choice(args)
            dimension = nil
            return
        }
        let arity = ["normal": 2, "uniform": 2, "truncnormal": 4]
        guard let n = arity[name] else {
            throw DistributionError("unknown distribution \"\(name)\"; accepted: \(Self.accepted)")
        }
        guard args.count == n else {
            throw DistributionError("\(name) takes \(n) values, got \(args.count) in \"\(text)\"; accepted: \(Self.accepted)")
        }
        var values: [Double] = []
        var dimension: PhysicalDimension?
        for a in args {
            guard let q = Quantity.parse(a) else {
                throw DistributionError("\"\(a)\" in \"\(text)\" is not a finite number with a unit")
            }
            if let d = dimension, d != q.dimension {
                throw DistributionError("\"\(text)\" mixes units: \"\(a)\" is a \(q.dimension.rawValue), the first value a \(d.rawValue)")
            }
            dimension = q.dimension
            values.append(q.value)
        }
        self.dimension = dimension
        switch name {
        case "normal":
            guard values[1] > 0 else { throw DistributionError("the sigma of \"\(text)\" must be above 0") }
            shape = .normal(mean: values[0], sigma: values[1])
        case "uniform":
            guard values[0] < values[1] else { throw DistributionError("\"\(text)\": low must be below high") }
            shape = .uniform(low: values[0], high: values[1])
        default:
            let (mean, sigma, low, high) = (values[0], values[1], values[2], values[3])
            guard sigma > 0 else { throw DistributionError("the sigma of \"\(text)\" must be above 0") }
            guard low < high else { throw DistributionError("\"\(text)\": low must be below high") }
            // Drawn by rejection: the interval must hold a fair share of the normal.
            guard (low - mean) / sigma < 4, (high - mean) / sigma > -4 else {
                throw DistributionError("\"\(text)\": the interval lies more than 4 sigma from the mean; widen it or move the mean")
            }
            shape = .truncatedNormal(mean: mean, sigma: sigma, low: low, high: high)
        }
    }

    /// One draw, as the scenario file would write it (SI units).
    public func draw(_ rng: inout SeededRandom) -> String {
        switch shape {
        case .normal(let mean, let sigma):
            return format(mean + sigma * rng.normal())
        case .uniform(let low, let high):
            return format(low + (high - low) * rng.uniform())
        case .truncatedNormal(let mean, let sigma, let low, let high):
            // Rejection; the interval holds at least ~3e-5 of the mass (4
            // sigma), so this ends, and the same seed gives the same value.
            while true {
                let x = mean + sigma * rng.normal()
                if x >= low && x <= high { return format(x) }
            }
        case .choice(let values):
            return values[Int(rng.next() % UInt64(values.count))]
        }
    }

    /// A value the distribution can give, to check a scenario accepts it
    /// before any run starts: the mean, the middle, the first choice.
    public var typical: String {
        switch shape {
        case .normal(let mean, _), .truncatedNormal(let mean, _, _, _): format(mean)
        case .uniform(let low, let high): format((low + high) / 2)
        case .choice(let values): values[0]
        }
    }

    /// A number in SI, with the SI unit of the dimension ("25012.5 m").
    func format(_ si: Double) -> String {
        guard let dimension, dimension != .fraction else { return "\(si)" }
        let unit = dimension.units.first { $0.toSI == 1 }?.name ?? dimension.units[0].name
        return "\(si) \(unit)"
    }
}

public struct DistributionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

extension String {
    func trimmed(of set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
