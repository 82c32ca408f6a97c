import Foundation
import TouchdownTrace

/// The generated part of the fuzz corpus, written where `scripts/fuzz` asks
/// before each run (the rest is committed under `fixtures/fuzz-corpus/`):
/// small traces of each shape the readers know, cut from the repository's
/// real traces or written here, and CDR inputs (`schema text, 0x00,
/// message`, see ``FuzzHarness``). Seeds are kept to a few KB each, so
/// that the fuzzer runs hundreds of inputs a second.
public enum FuzzSeeds {
    /// Writes every seed into `directory` and returns how many.
    /// - Parameter traces: the repository's `traces/` folder; the cuts of
    ///   its real traces are left out when it is missing.
    public static func write(to directory: String, traces: String?) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory + "/" + name }
        var count = 0
        func seed(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
            count += 1
        }

        // Traces as the tools write them: zstd and uncompressed chunks.
        for (name, level) in [("generated-zstd.mcap", Int32(3)), ("generated-uncompressed.mcap", Int32(0))] {
            var options = MCAPWriter.Options()
            options.compression = level == 0 ? .none : .zstd(level: level)
            options.chunkSize_bytes = 1 << 10
            try ReferenceDescent(duration_s: 0.02).record(to: try TraceRecorder(path: path(name), options: options))
            count += 1
        }
        // The same, cut: no summary, a chunk cut short.
        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("generated-uncompressed.mcap"))))
        let summaryStart = Int(try IndexedReader(path: path("generated-uncompressed.mcap")).footer.summaryStart)
        try seed("generated-no-summary.mcap", Array(whole[..<summaryStart]) + footerWithoutSummary())
        try seed("generated-cut.mcap", Array(whole[..<(summaryStart * 2 / 3)]))

        // Cuts of the real traces: their schemas, attachments, metadata and
        // first messages, every Event among them.
        if let traces {
            for name in ["nominal", "m2-late-altimeter"] where FileManager.default.fileExists(atPath: "\(traces)/\(name).mcap") {
                try cut("\(traces)/\(name).mcap", to: path("cut-\(name).mcap"))
                count += 1
            }
        }

        // The inputs of issue 13, item 11, in miniature.
        try HostileTraces.oneLargeMessage(path: path("hostile-large-message.mcap"), messageSize_bytes: 128 << 10)
        try HostileTraces.overlappingChunks(path: path("hostile-overlapping-chunks.mcap"), chunkCount: 3, messageSize_bytes: 16 << 10)
        try HostileTraces.unindexedOutOfOrderChunks(path: path("hostile-unindexed-chunks.mcap"), chunkCount: 3, messageSize_bytes: 16 << 10)
        count += 3

        // CDR: each own message type with its schema, and a schema with
        // every kind of field, in both byte orders.
        for type in touchdownMessageTypes {
            try seed("cdr-\(type.schemaName.split(separator: "/").last!).cdr", Array(type.schemaText.utf8) + [0] + sample(of: type))
        }
        let schema = try CompiledMessageSchema(schemaName: "fuzz_msgs/msg/Input", schemaText: everyKindSchemaText)
        for (name, order) in [("le", CDRByteOrder.littleEndian), ("be", .bigEndian)] {
            try seed("cdr-every-kind-\(name).cdr", Array(everyKindSchemaText.utf8) + [0] + schema.encode(everyKindValue, byteOrder: order))
        }
        return count
    }

    /// A Footer with no summary and the closing magic.
    private static func footerWithoutSummary() -> [UInt8] {
        var bytes: [UInt8] = [Opcode.footer.rawValue, 20, 0, 0, 0, 0, 0, 0, 0]
        bytes += [UInt8](repeating: 0, count: 20)
        return bytes + mcapMagic
    }

    /// Copies the definitions, attachments and metadata of the trace at
    /// `source`, its first 40 messages and every Event into a small trace
    /// with 2 KiB zstd chunks.
    private static func cut(_ source: String, to destination: String) throws {
        var options = MCAPWriter.Options()
        options.chunkSize_bytes = 2 << 10
        let writer = try MCAPWriter(sink: try FileSink(path: destination), options: options)
        let reader = try StreamReader(path: source)
        var schemaIDs: [UInt16: UInt16] = [:], channelIDs: [UInt16: UInt16] = [:], eventChannels: [UInt16] = []
        var messages = 0
        while let record = try reader.next() {
            switch record {
            case .schema(let s) where schemaIDs[s.id] == nil:
                schemaIDs[s.id] = try writer.addSchema(name: s.name, encoding: s.encoding, data: s.data)
            case .channel(let c) where channelIDs[c.id] == nil:
                channelIDs[c.id] = try writer.addChannel(topic: c.topic, messageEncoding: c.messageEncoding,
                                                         schemaID: schemaIDs[c.schemaID] ?? 0, metadata: c.metadata)
                if c.topic == "/events" { eventChannels.append(c.id) }
            case .attachment(let a):
                try writer.addAttachment(Attachment(logTime_ns: a.logTime_ns, createTime_ns: a.createTime_ns, name: a.name,
                                                    mediaType: a.mediaType, data: Array(a.data.prefix(2 << 10))))
            case .metadata(let m):
                try writer.addMetadata(name: m.name, m.metadata)
            case .message(let m):
                messages += 1
                guard messages <= 40 || eventChannels.contains(m.channelID), let channel = channelIDs[m.channelID] else { continue }
                try m.data.withUnsafeBytes {
                    try writer.write(channelID: channel, sequence: m.sequence, logTime_ns: m.logTime_ns, publishTime_ns: m.publishTime_ns, payload: $0)
                }
            default:
                break
            }
        }
        try writer.finish()
    }

    /// A message of `type` with every field set.
    private static func sample(of type: any TraceMessage.Type) -> [UInt8] {
        switch type {
        case is ImuSample.Type: ImuSample(stamp_ns: 1, accelX_mps2: 0.5, accelY_mps2: -1, accelZ_mps2: 1.62, rateX_radps: 0, rateY_radps: 0.01, rateZ_radps: .nan).cdrBytes
        case is AltimeterSample.Type: AltimeterSample(stamp_ns: 2, range_m: 2950.5, valid: true).cdrBytes
        case is VelocimeterSample.Type: VelocimeterSample(stamp_ns: 3, horizontalVelocity_mps: 12, verticalVelocity_mps: -40, valid: false).cdrBytes
        case is AttitudeSample.Type: AttitudeSample(stamp_ns: 4, pitch_rad: 1.2, valid: true).cdrBytes
        case is EventSample.Type: EventSample(stamp_ns: 5, kind: "guidance-rejected-range", detail: "range 3 m, expected 2 900 ± 50", anomaly: true).cdrBytes
        default:
            // Messages of only a stamp and floats: the stamp, then zeros.
            Array([0, 1, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8 * 8))
        }
    }

    /// A schema with each primitive, strings bounded and not, fixed arrays,
    /// sequences bounded and not, and a nested type.
    static let everyKindSchemaText = """
        bool flag
        byte raw
        char letter
        int8 i8
        uint8 u8
        int16 i16
        uint16 u16
        int32 i32
        uint32 u32
        int64 i64
        uint64 u64
        float32 f32
        float64 f64
        string name
        string<=8 short_name
        float64[3] vector
        int32[] numbers
        Inner[] inners
        Inner[<=2] few
        ================================================================================
        MSG: fuzz_msgs/Inner
        uint16 id
        string label
        float32[2] pair
        """

    static var everyKindValue: MessageValue {
        func field(_ name: String, _ value: MessageValue) -> MessageField { MessageField(name: name, value: value) }
        let inner = MessageValue.message([field("id", .uint(7)), field("label", .string("å")), field("pair", .array([.float(0.5), .float(-2)]))])
        return .message([
            field("flag", .bool(true)), field("raw", .uint(255)), field("letter", .uint(65)), field("i8", .int(-8)), field("u8", .uint(8)),
            field("i16", .int(-16)), field("u16", .uint(16)), field("i32", .int(-32)), field("u32", .uint(32)), field("i64", .int(-64)),
            field("u64", .uint(64)), field("f32", .float(1.5)), field("f64", .float(-0.25)), field("name", .string("lander")),
            field("short_name", .string("lm")), field("vector", .array([.float(1), .float(2), .float(3)])),
            field("numbers", .array([.int(1), .int(-1)])), field("inners", .array([inner, inner])), field("few", .array([inner])),
        ])
    }
}
