import Foundation
import Yams

/// A scenario file (or another YAML input, such as a campaign file) that
/// cannot be used, with where and what is accepted.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    public let file: String
    /// 1-based; 0 when the problem has no single place (an empty file).
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// The document in `text`, or where it is broken.
    public static func composeYAML(_ text: String, file: String) throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: 0, column: 0, message: "the file is empty")
            }
            return node
        } catch let e as ScenarioError {
            throw e
        } catch let e as YamlError {
            throw ScenarioError(file: file, line: e.line, column: e.column, message: "not valid YAML: \(e.problem)")
        }
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// One YAML mapping of a scenario, read key by key. Every key read is
/// remembered, so `finish()` can reject the keys nobody asked for, naming the
/// ones that are accepted.
struct ScenarioSection {
    let file: String
    let path: String
    let node: Node
    private var pairs: [(key: String, keyNode: Node, value: Node)] = []
    private var accepted: [String] = []

    init(file: String, path: String, node: Node) throws {
        self.file = file
        self.path = path
        self.node = node
        guard case .mapping(let mapping) = node else {
            throw ScenarioSection.error(file, node, "\(path.isEmpty ? "the file" : path) must be a mapping of keys to values")
        }
        for (k, v) in mapping {
            guard let key = k.string else { throw ScenarioSection.error(file, k, "keys must be plain names") }
            if pairs.contains(where: { $0.key == key }) {
                throw ScenarioSection.error(file, k, "\(qualified(key)) is given twice")
            }
            pairs.append((key, k, v))
        }
    }

    static func error(_ file: String, _ node: Node?, _ message: String) -> ScenarioError {
        ScenarioError(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, message: message)
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func lookup(_ key: String) -> Node? {
        accepted.append(key)
        return pairs.first(where: { $0.key == key })?.value
    }

    /// Rejects keys that were never asked for.
    func finish() throws {
        for p in pairs where !accepted.contains(p.key) {
            throw ScenarioSection.error(file, p.keyNode,
                "unknown key \(qualified(p.key)); accepted here: \(accepted.joined(separator: ", "))")
        }
    }

    mutating func section(_ key: String) throws -> ScenarioSection? {
        guard let node = lookup(key) else { return nil }
        return try ScenarioSection(file: file, path: qualified(key), node: node)
    }

    mutating func requiredSection(_ key: String) throws -> ScenarioSection {
        guard let s = try section(key) else { throw missing(key) }
        return s
    }

    func missing(_ key: String) -> ScenarioError {
        ScenarioSection.error(file, node, "missing \(qualified(key)) (required)")
    }

    mutating func string(_ key: String) throws -> String? {
        guard let node = lookup(key) else { return nil }
        guard case .scalar(let scalar) = node else {
            throw ScenarioSection.error(file, node, "\(qualified(key)) must be a single value")
        }
        return scalar.string
    }

    mutating func string(_ key: String, default value: String) throws -> String {
        try string(key) ?? value
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let node = lookup(key) else { return nil }
        guard case .scalar(let scalar) = node, let v = Int(scalar.string) else {
            throw ScenarioSection.error(file, node, "\(qualified(key)) must be a whole number (\(range.lowerBound)…\(range.upperBound))")
        }
        guard range.contains(v) else {
            throw ScenarioSection.error(file, node, "\(qualified(key)) = \(v) is out of range; accepted: \(range.lowerBound)…\(range.upperBound)")
        }
        return v
    }

    mutating func seed(_ key: String) throws -> UInt64? {
        guard let node = lookup(key) else { return nil }
        guard case .scalar(let scalar) = node, let v = UInt64(scalar.string) else {
            throw ScenarioSection.error(file, node, "\(qualified(key)) must be a whole number ≥ 0")
        }
        return v
    }

    /// A value with units, in SI, checked against `range` (in SI too).
    mutating func quantity(_ key: String, _ dimension: PhysicalDimension, in range: ClosedRange<Double>) throws -> Double? {
        guard let node = lookup(key) else { return nil }
        guard case .scalar(let scalar) = node else {
            throw ScenarioSection.error(file, node, "\(qualified(key)) must be a single value with units (\(dimension.acceptedList))")
        }
        guard let v = ScenarioSection.parseQuantity(scalar.string, dimension) else {
            throw ScenarioSection.error(file, node,
                "\(qualified(key)) = \"\(scalar.string)\" is not a \(dimension.rawValue); write a number and one of: \(dimension.acceptedList)")
        }
        guard range.contains(v) else {
            let unit = dimension.units[0]
            throw ScenarioSection.error(file, node,
                "\(qualified(key)) = \(scalar.string) is out of range; accepted: \(range.lowerBound / unit.toSI)…\(range.upperBound / unit.toSI) \(unit.name)")
        }
        return v
    }

    mutating func quantity(_ key: String, _ dimension: PhysicalDimension, in range: ClosedRange<Double>, default value: Double) throws -> Double {
        try quantity(key, dimension, in: range) ?? value
    }

    mutating func requiredQuantity(_ key: String, _ dimension: PhysicalDimension, in range: ClosedRange<Double>) throws -> Double {
        guard let v = try quantity(key, dimension, in: range) else { throw missing(key) }
        return v
    }

    /// The raw node under `key`, for lists.
    mutating func node(_ key: String) -> Node? { lookup(key) }

    /// "25 km", "1.7km/s", "+300 m", "5%": a number, optional spaces, a unit.
    static func parseQuantity(_ text: String, _ dimension: PhysicalDimension) -> Double? {
        Quantity.parse(text, in: [dimension])?.value
    }
}
