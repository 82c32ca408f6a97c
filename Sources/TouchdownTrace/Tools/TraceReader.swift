/// Reads the messages of any trace: through the summary when the file has a
/// sound one (log-time order, only the chunks needed), and by a streamed scan
/// when it has none or it is damaged (file order, up to the damage).
public final class TraceReader {
    /// The source's name: the path of a file.
    public var path: String { source.name }
    public let indexed: IndexedReader?
    private let source: ByteSource
    public let limits: ReadLimits
    /// Why the summary could not be used, when it could not.
    public let summaryProblem: MCAPError?
    /// The topics of the channels met so far: every channel's once the
    /// summary is read, those scanned past otherwise. In order, each once.
    public private(set) var channelTopics: [String] = []

    public convenience init(path: String, limits: ReadLimits = ReadLimits()) throws {
        try self.init(source: try FileSource(path: path), limits: limits)
    }

    public init(source: ByteSource, limits: ReadLimits = ReadLimits()) throws {
        self.source = source
        self.limits = limits
        do {
            indexed = try IndexedReader(source: source, limits: limits)
            summaryProblem = nil
        } catch let e as MCAPError {
            if case .io = e { throw e }
            indexed = nil
            summaryProblem = e
            // The source must at least start like an MCAP file.
            _ = try StreamReader(source: source, limits: limits).next()
        }
    }

    /// A decoded view of each channel, built once.
    public final class ChannelDecoder {
        public let channel: Channel
        public let schema: Schema?
        let compiled: CompiledMessageSchema?
        let compileError: String?
        /// The project's own type, when the channel carries one with the
        /// very schema text this build writes: it decodes without building
        /// a generic value.
        let ownType: (any TraceMessage.Type)?

        init(channel: Channel, schema: Schema?) {
            self.channel = channel
            self.schema = schema
            ownType = schema.flatMap { schema in
                guard channel.messageEncoding == "cdr", schema.encoding == "ros2msg" else { return nil }
                return touchdownMessageTypes.first { $0.schemaName == schema.name && Array($0.schemaText.utf8) == schema.data }
            }
            if channel.messageEncoding == "cdr", let schema, schema.encoding == "ros2msg" {
                do {
                    compiled = try CompiledMessageSchema(schemaName: schema.name, schemaText: String(decoding: schema.data, as: UTF8.self))
                    compileError = nil
                } catch {
                    compiled = nil
                    compileError = "schema \(schema.name): \(error)"
                }
            } else {
                compiled = nil
                compileError = nil
            }
        }

        /// The message as JSON: decoded fields for cdr/ros2msg, the text for
        /// `json` channels, otherwise the bytes as an array of numbers.
        /// Holds the whole text: for large messages use ``writeJSON(_:to:prefix:)``.
        public func json(_ data: UnsafeRawBufferPointer) throws -> String {
            try TextOutput.collect { try writeJSON(data, to: $0) }
        }

        /// Checks the message, then writes `prefix` and the message as JSON
        /// (see ``json(_:)``) to `output`, a piece at a time: memory does
        /// not grow with the message, and on an error nothing is written.
        public func writeJSON(_ data: UnsafeRawBufferPointer, to output: TextOutput, prefix: String = "") throws {
            if let compiled {
                try compiled.validate(data)
                output.append(prefix)
                try compiled.writeJSON(data, to: output)
                return
            }
            if let compileError { throw TraceReadError.undecodable(topic: channel.topic, reason: compileError) }
            output.append(prefix)
            if channel.messageEncoding == "json" {
                output.append(String(decoding: data, as: UTF8.self))
                return
            }
            output.append("[")
            var at = 0
            while at < data.count {
                let end = min(at + 4096, data.count)
                output.append { text in
                    for i in at..<end {
                        if i > 0 { text += "," }
                        text += decimalText[Int(data[i])]
                    }
                }
                at = end
            }
            output.append("]")
        }

        /// Decodes the message and lets the result go, as a count of decoded
        /// messages needs: the project's own types through their typed
        /// decoders, anything else checked through the schema, which builds
        /// nothing (memory does not grow with the message).
        public func decode(_ data: UnsafeRawBufferPointer) throws {
            if let ownType {
                try Self.decodeDiscarding(ownType, data)
            } else if let compiled {
                try compiled.validate(data)
            } else {
                throw undecodable
            }
        }

        private static func decodeDiscarding<M: TraceMessage>(_ type: M.Type, _ data: UnsafeRawBufferPointer) throws {
            _ = try M(cdr: data)
        }

        /// Decodes to a value (cdr/ros2msg channels only); the tree costs
        /// some tens of bytes per element of the message.
        public func value(_ data: UnsafeRawBufferPointer) throws -> MessageValue {
            guard let compiled else { throw undecodable }
            return try compiled.decode(data)
        }

        private var undecodable: TraceReadError {
            .undecodable(topic: channel.topic, reason: compileError ?? "message encoding '\(channel.messageEncoding)' has no schema-driven decoder; only cdr with ros2msg schemas")
        }
    }

    /// Calls `body` for each message on `topics` (all when nil) in the time
    /// range, with its channel's decoder. Through the summary: log-time order.
    /// By scan: file order, and the scan's error (if the file is damaged)
    /// is thrown after every message before the damage was handed over.
    public func forEachMessage(topics: [String]? = nil, start_ns: UInt64? = nil, end_ns: UInt64? = nil,
                               _ body: (ChannelDecoder, MessageView) throws -> Void) throws {
        var decoders = [ChannelDecoder?](repeating: nil, count: Int(UInt16.max) + 1)
        if let indexed {
            channelTopics = indexed.channels.map(\.topic).uniqued()
            for c in indexed.channels { decoders[Int(c.id)] = ChannelDecoder(channel: c, schema: indexed.schema(c.schemaID)) }
            try indexed.messages(topics: topics, start_ns: start_ns, end_ns: end_ns) { m in
                guard let d = decoders[Int(m.channelID)] else { throw MCAPError.unknownChannel(id: m.channelID, offset: 0) }
                try body(d, m)
            }
            return
        }
        let stream = StreamReader(source: source, limits: limits)
        var schemas: [Schema] = []
        let lo = start_ns ?? 0, hi = end_ns ?? .max
        while let record = try stream.next() {
            switch record {
            case .schema(let s): schemas.addFirstDefinition(s)
            case .channel(let c):
                if decoders[Int(c.id)] == nil { decoders[Int(c.id)] = ChannelDecoder(channel: c, schema: schemas.first { $0.id == c.schemaID }) }
                if !channelTopics.contains(c.topic) { channelTopics.append(c.topic) }
            case .message(let m):
                guard m.logTime_ns >= lo, m.logTime_ns <= hi else { continue }
                guard let d = decoders[Int(m.channelID)] else { throw MCAPError.unknownChannel(id: m.channelID, offset: stream.recordOffset) }
                if let topics, !topics.contains(d.channel.topic) { continue }
                try m.withView { try body(d, $0) }
            default: break
            }
        }
    }
}

/// "0" to "255", for bytes written as numbers.
let decimalText: [String] = (0...255).map { String($0) }

extension Array where Element == String {
    /// Each string once, in the order first met.
    func uniqued() -> [String] {
        var seen: [String] = []
        for s in self where !seen.contains(s) { seen.append(s) }
        return seen
    }
}

/// A message that cannot be turned into values.
public enum TraceReadError: Error, CustomStringConvertible {
    case undecodable(topic: String, reason: String)
    public var description: String {
        switch self {
        case .undecodable(let topic, let reason): "cannot decode messages on \(topic): \(reason)"
        }
    }
}
