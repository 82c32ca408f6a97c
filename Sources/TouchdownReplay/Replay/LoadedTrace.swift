import TouchdownSim
import TouchdownTrace

/// A trace opened once and shared by every run against it: its scenario
/// (stored, or the one named instead), the recording guidance, its settings
/// and seed, and the file itself. Many plans may run against one
/// `LoadedTrace` at once, on any threads: it never changes after `init`, and
/// each open-loop run reads the file through a reader of its own (`pread`
/// on the one shared descriptor).
///
/// A trace recorded elsewhere (a rig, a flight, `trace generate`) carries no
/// scenario; the caller then names one, which gives the mission knowledge and
/// the guidance rate, and its guidance, parameters and seed stand in for the
/// missing metadata.
public final class LoadedTrace: @unchecked Sendable {
    // @unchecked: every stored property is a `let` of a Sendable value,
    // except `source`, whose only operation (`pread` at an offset) is safe
    // from any thread.
    public let path: String
    /// The scenario file named instead of the stored one, if any.
    public let scenarioPath: String?
    public let scenario: Scenario
    /// The stored scenario's text and files, to read it again with overrides.
    private let scenarioText: ScenarioText?
    public let guidanceName: String
    /// Every setting the recording guidance ran with, in order (the
    /// scenario's own parameters first).
    public let settings: [(name: String, value: String)]
    public let seed: UInt64
    /// The channels and schemas, read once from the summary.
    public let channels: [Channel]
    public let schemas: [Schema]
    /// Whether the data section CRC was verified, or the file stores none.
    public let dataSection: IndexedReader.DataSectionCheck
    /// Messages per channel, from the summary's Statistics (nil without one).
    public let channelMessageCounts: [(channelID: UInt16, count: UInt64)]?
    let source: FileSource

    /// - Parameter scenarioPath: a scenario file to use instead of the one
    ///   stored in the trace (required when the trace stores none).
    public init(path: String, scenarioPath: String? = nil) throws {
        self.path = path
        self.scenarioPath = scenarioPath
        source = try FileSource(path: path)
        let reader = try IndexedReader(source: source)
        // Damaged input is refused, not replayed: the data section CRC
        // covers the metadata and attachments the run is built from (chunks
        // are checked against their own CRCs as they are read).
        dataSection = try reader.verifyDataSection()
        channels = reader.channels
        schemas = reader.schemas
        channelMessageCounts = reader.statistics?.channelMessageCounts
        var simulation: StringPairs?
        for m in reader.metadataIndexes where m.name == "touchdown.simulation" {
            simulation = try reader.metadata(m).metadata
        }
        func field(_ key: String) -> String? { simulation?.last { $0.key == key }?.value }
        if let scenarioPath {
            scenario = try Scenario.load(path: scenarioPath)
            scenarioText = nil
        } else {
            guard simulation != nil else { throw TraceInputError.noScenario(trace: path) }
            let stored = try Self.storedScenario(reader, path: path, file: field("scenario_file"))
            scenario = stored.scenario
            scenarioText = stored.text
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

    /// A reader of the trace's messages for one run.
    func reader() throws -> IndexedReader { try IndexedReader(source: source) }

    /// The scenario with `overrides` applied (a campaign's dispersions),
    /// read again from the same text.
    public func scenario(overriding overrides: [ScenarioOverride]) throws -> Scenario {
        guard !overrides.isEmpty else { return scenario }
        guard let scenarioText else { return try Scenario.load(path: scenarioPath!, overrides: overrides) }
        do {
            return try Scenario.parse(text: scenarioText.text, file: scenarioText.file, folder: nil,
                                      attachedFiles: scenarioText.attached, overrides: overrides)
        } catch {
            throw TraceInputError.storedScenario(trace: path, underlying: "\(error)")
        }
    }

    typealias ScenarioText = (text: String, file: String, attached: [(name: String, text: String)])

    private static func storedScenario(_ reader: IndexedReader, path: String, file: String?) throws -> (scenario: Scenario, text: ScenarioText) {
        var yaml: Attachment?
        var others: [Attachment] = []
        for a in reader.attachmentIndexes {
            if a.mediaType == "application/yaml" && (file == nil || a.name == file) {
                yaml = try reader.attachment(a)
            } else if a.mediaType == "text/csv" {
                others.append(try reader.attachment(a))
            }
        }
        guard let yaml else { throw TraceInputError.noScenario(trace: path) }
        let files = others.map { (name: $0.name, text: String(decoding: $0.data, as: UTF8.self)) }
        let text = String(decoding: yaml.data, as: UTF8.self)
        do {
            return (try Scenario.parse(text: text, file: yaml.name, folder: nil, attachedFiles: files), (text, yaml.name, files))
        } catch {
            throw TraceInputError.storedScenario(trace: path, underlying: "\(error)")
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

extension LoadedTrace {
    /// Whether the channel holds messages: false only when the Statistics
    /// record says it holds none.
    func hasMessages(_ channelID: UInt16) -> Bool {
        guard let counts = channelMessageCounts else { return true }
        return counts.contains { $0.channelID == channelID && $0.count > 0 }
    }
}
