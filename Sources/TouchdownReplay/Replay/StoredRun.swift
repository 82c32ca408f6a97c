import TouchdownSim
import TouchdownTrace

/// What a trace says about the run that recorded it: the scenario file (an
/// attachment), the guidance, its settings and the seed (metadata). Enough to
/// fly it again.
///
/// A trace recorded elsewhere (a rig, a flight, `trace generate`) carries no
/// scenario; the caller then names one, which gives the mission knowledge and
/// the guidance rate, and its guidance, parameters and seed stand in for the
/// missing metadata.
public struct StoredRun {
    public let path: String
    public let scenario: Scenario
    public let guidanceName: String
    /// Every setting the recording guidance ran with, in order (the
    /// scenario's own parameters first).
    public let settings: [(name: String, value: String)]
    public let seed: UInt64
    public let reader: IndexedReader

    /// - Parameter scenarioPath: a scenario file to use instead of the one
    ///   stored in the trace (required when the trace stores none).
    public init(path: String, scenarioPath: String? = nil) throws {
        self.path = path
        reader = try IndexedReader(path: path)
        var simulation: StringPairs?
        for m in reader.metadataIndexes where m.name == "touchdown.simulation" {
            simulation = try reader.metadata(m).metadata
        }
        func field(_ key: String) -> String? { simulation?.last { $0.key == key }?.value }
        if let scenarioPath {
            scenario = try Scenario.load(path: scenarioPath)
        } else {
            guard simulation != nil else { throw ReplayError.noScenario(trace: path) }
            scenario = try Self.storedScenario(reader, path: path, file: field("scenario_file"))
        }
        guidanceName = field("guidance") ?? scenario.guidance.name
        settings = field("settings").map { line in
            line.split(separator: ";").map { pair in
                let (n, v) = String(pair).splitOnce("=")
                return (n, v ?? "")
            }
        } ?? scenario.guidance.parameters
        seed = field("seed").flatMap { UInt64($0) } ?? scenario.seed
    }

    private static func storedScenario(_ reader: IndexedReader, path: String, file: String?) throws -> Scenario {
        var attachment: Attachment?
        for a in reader.attachmentIndexes where a.mediaType == "application/yaml" && (file == nil || a.name == file) {
            attachment = try reader.attachment(a)
        }
        guard let attachment else { throw ReplayError.noScenario(trace: path) }
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        do {
            return try Scenario.parse(text: String(decoding: attachment.data, as: UTF8.self), file: attachment.name, folder: folder)
        } catch {
            throw ReplayError.scenario(trace: path, underlying: error)
        }
    }

    /// The settings given on top of the scenario's own guidance parameters.
    public var callerSettings: [(name: String, value: String)] {
        let own = scenario.guidance.parameters
        guard settings.count >= own.count,
              zip(settings, own).allSatisfy({ $0.0.name == $0.1.name && $0.0.value == $0.1.value }) else { return settings }
        return Array(settings.dropFirst(own.count))
    }
}
