/// Records time-stamped messages into a trace as they come: the path the
/// simulator and a hardware rig share.
///
/// Each topic is registered once with its message type (schema and channel
/// records are written then); `record` encodes straight into the open chunk.
/// Sequence numbers count per topic from 0 (messages written to the
/// topic's channel through `writer` directly count too). The underlying writer is
/// crash-safe: a recorder killed at any point loses at most the open chunk.
public final class TraceRecorder {
    /// A registered topic, to pass back to `record`.
    public struct Topic<M: TraceMessage>: Sendable {
        public let channelID: UInt16
        public let name: String
    }

    public let writer: MCAPWriter
    private var schemaIDs: [(name: String, id: UInt16)] = []

    public init(writer: MCAPWriter) {
        self.writer = writer
    }

    /// Opens `path` for writing a new trace.
    public convenience init(path: String, options: MCAPWriter.Options = MCAPWriter.Options()) throws {
        self.init(writer: try MCAPWriter(sink: try FileSink(path: path), options: options))
    }

    /// Registers `name` as a topic carrying `type`.
    public func topic<M: TraceMessage>(_ name: String, _ type: M.Type, metadata: StringPairs = []) throws -> Topic<M> {
        let schemaID: UInt16
        if let known = schemaIDs.first(where: { $0.name == M.schemaName }) {
            schemaID = known.id
        } else {
            schemaID = try writer.addSchema(name: M.schemaName, encoding: "ros2msg", data: Array(M.schemaText.utf8))
            schemaIDs.append((M.schemaName, schemaID))
        }
        let id = try writer.addChannel(topic: name, messageEncoding: "cdr", schemaID: schemaID, metadata: metadata)
        return Topic(channelID: id, name: name)
    }

    /// Appends `message` on `topic` at `logTime_ns` (publish time is the same).
    @inline(__always)
    public func record<M: TraceMessage>(_ message: M, on topic: Topic<M>, logTime_ns: UInt64) throws {
        try writer.write(channelID: topic.channelID, logTime_ns: logTime_ns, publishTime_ns: logTime_ns) { bytes in
            withUnsafeMutablePointer(to: &bytes) { p in
                var w = CDRPayloadWriter(appendingTo: p)
                message.encode(into: &w)
                w.finish()
            }
        }
    }

    /// Closes the open chunk so everything recorded so far is on disk.
    public func flush() throws { try writer.flush() }

    /// Writes the summary and closes the file.
    public func finish() throws { try writer.finish() }
}
