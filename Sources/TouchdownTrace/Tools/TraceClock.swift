/// Where a trace's clock starts: its `touchdown.time` metadata.
///
/// Touchdown's traces stamp messages in nanoseconds since 1970 (so viewers
/// show the mission's date) and say in `touchdown.time` which instant is
/// the start of descent (`epoch_ns`): t = time − epoch. A trace without the
/// record (a rig's, an older one) has no known start, and tools take its
/// first message as t = 0.
public enum TraceClock {
    public static let metadataName = "touchdown.time"

    /// Says that a trace's times count from the start of descent (an
    /// import's or a capture's: their t = 0 comes from the rig's t0 or the
    /// telemetry itself), so readers take t = log time.
    public static func recordDescentClock(_ writer: MCAPWriter) throws {
        try writer.addMetadata(name: metadataName, [
            ("epoch", "none: times count from the start of descent"),
            ("epoch_ns", "0"),
            ("t", "log time and stamps: time from the start of descent"),
        ])
    }

    /// The trace's `epoch_ns`, or nil when it has none.
    /// - Throws: an `MCAPError` reading the record, or `TraceClockError`
    ///   when the record is there but its `epoch_ns` is not a whole number.
    public static func epoch_ns(_ reader: IndexedReader) throws -> UInt64? {
        guard let index = reader.metadataIndexes.last(where: { $0.name == metadataName }) else { return nil }
        let record = try reader.metadata(index)
        guard let text = record.metadata.last(where: { $0.key == "epoch_ns" })?.value else { return nil }
        guard let epoch = UInt64(text) else {
            throw TraceClockError(description: "\(metadataName) metadata: epoch_ns '\(text)' is not a whole number of nanoseconds")
        }
        return epoch
    }
}

public struct TraceClockError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension TraceClock {
    /// A payload of one of Touchdown's own types with its stamp moved
    /// `by` nanoseconds earlier (onto a clock that starts `by` later), or nil
    /// for another type. A stamp before `by` becomes 0.
    public static func restamp(_ data: UnsafeRawBufferPointer, schemaName: String, earlierBy by: UInt64) throws -> [UInt8]? {
        guard let type = touchdownMessageTypes.first(where: { $0.schemaName == schemaName }) else { return nil }
        func shift<M: TraceMessage>(_ type: M.Type) throws -> [UInt8] {
            var m = try M(cdr: data)
            m.stamp_ns = m.stamp_ns >= by ? m.stamp_ns - by : 0
            return m.cdrBytes
        }
        return try shift(type)
    }
}
