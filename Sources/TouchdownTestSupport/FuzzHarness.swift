import TouchdownTrace

/// What the fuzz target does with one input (`scripts/fuzz`,
/// Sources/touchdown-fuzz, docs/testing.md): every reader, the checker and
/// the CDR decoders, on bytes in memory. An error they throw is an answer;
/// a crash, a trap, a hang, or memory past the fuzzer's limit is a bug, and
/// so is a disagreement between two decoders, which traps here.
///
/// An input that starts with the MCAP magic is a trace. Anything else is
/// `schema text, 0x00, CDR bytes`: a ros2msg schema and one message, for
/// the CDR decoders alone.
public enum FuzzHarness {
    /// Runs `bytes` through everything; returns normally unless a check
    /// of agreement fails (which traps).
    public static func exercise(_ bytes: [UInt8]) {
        if bytes.starts(with: mcapMagic) {
            exerciseTrace(bytes)
        } else {
            exerciseCDR(bytes)
        }
    }

    /// Messages up to this size are also decoded into a value tree, which
    /// costs some tens of bytes per element (the other paths cost nothing
    /// per element, and are exercised on every message).
    static let valueTreeLimit_bytes = 1 << 20

    /// Text that goes nowhere: the JSON and dump writers' output.
    private static func discardingOutput() -> TextOutput { TextOutput { _ in } }

    // MARK: Traces

    private static func exerciseTrace(_ bytes: [UInt8]) {
        let source = MemorySource(bytes, name: "<fuzz input>")
        // With CRCs checked, as a user reads; without, so that damaged
        // bytes reach the parsers and decoders behind the CRCs.
        for validateCRCs in [true, false] {
            var limits = ReadLimits()
            limits.validateCRCs = validateCRCs
            streamEveryRecord(source, limits)
            readThroughTheSummary(source, limits)
            decodeEveryMessage(source, limits)
            _ = try? TraceCheck.run(source: source, limits: limits)
        }
    }

    /// `touchdown trace dump`: every record, in conformance JSON.
    private static func streamEveryRecord(_ source: ByteSource, _ limits: ReadLimits) {
        let reader = StreamReader(source: source, limits: limits)
        let output = discardingOutput()
        while let record = try? reader.next() {
            record.writeConformanceJSON(to: output)
        }
    }

    /// The summary, its indexes, and queries: all messages, one topic over
    /// half the time range, attachments and metadata.
    private static func readThroughTheSummary(_ source: ByteSource, _ limits: ReadLimits) {
        guard let reader = try? IndexedReader(source: source, limits: limits) else { return }
        _ = try? reader.forEachChunkIndex { _ in }
        _ = try? reader.messages { _ in }
        if let channel = reader.channels.first, let s = reader.statistics {
            let middle_ns = s.messageStartTime_ns / 2 + s.messageEndTime_ns / 2
            _ = try? reader.messages(topics: [channel.topic], start_ns: middle_ns) { _ in }
        }
        for a in reader.attachmentIndexes { _ = try? reader.attachment(a) }
        for m in reader.metadataIndexes { _ = try? reader.metadata(m) }
        _ = try? reader.verifyDataSection()
    }

    /// `touchdown trace cat`, `--json` and `--count`: each message through
    /// its channel's decoder.
    private static func decodeEveryMessage(_ source: ByteSource, _ limits: ReadLimits) {
        guard let reader = try? TraceReader(source: source, limits: limits) else { return }
        let output = discardingOutput()
        _ = try? reader.forEachMessage { decoder, message in
            _ = try? decoder.decode(message.data)
            _ = try? decoder.writeJSON(message.data, to: output, prefix: "{")
            if message.data.count <= valueTreeLimit_bytes { _ = try? decoder.value(message.data) }
        }
    }

    // MARK: CDR

    /// The schema-driven decoder's three ways through a message must agree
    /// (a value, JSON, a check), a decoded value must encode to bytes that
    /// decode to it again, and an own message type's typed decoder must
    /// accept exactly what the schema-driven one accepts with its schema.
    private static func exerciseCDR(_ bytes: [UInt8]) {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        let schemaText = String(decoding: bytes[..<split], as: UTF8.self)
        let message = Array(bytes[min(split + 1, bytes.count)...])
        if let schema = try? CompiledMessageSchema(schemaName: "fuzz_msgs/msg/Input", schemaText: schemaText) {
            checkAgreement(schema, message)
        }
        message.withUnsafeBytes { data in
            for type in touchdownMessageTypes {
                let typed = Result { try type.init(cdr: data) }
                guard let schema = try? CompiledMessageSchema(schemaName: type.schemaName, schemaText: type.schemaText) else {
                    fatalError("the own schema of \(type.schemaName) does not compile")
                }
                let generic = Result { try schema.validate(data) }
                if (try? typed.get()) != nil, case .failure(let e) = generic {
                    fatalError("\(type.schemaName): the typed decoder accepts what the schema refuses (\(e))")
                }
                if case .failure(let e) = typed, (try? generic.get()) != nil {
                    fatalError("\(type.schemaName): the schema accepts what the typed decoder refuses (\(e))")
                }
            }
        }
    }

    private static func checkAgreement(_ schema: CompiledMessageSchema, _ message: [UInt8]) {
        message.withUnsafeBytes { data in
            let decoded = Result { () throws(CDRError) in try schema.decode(data) }
            let validated = Result { () throws(CDRError) in try schema.validate(data) }
            var written: [UInt8] = []
            let output = TextOutput { written.append(contentsOf: $0) }
            let streamed = Result { () throws(CDRError) in try schema.writeJSON(data, to: output) }
            output.flush()
            switch decoded {
            case .success(let value):
                guard case .success = validated, case .success = streamed else {
                    fatalError("decode accepts what validate or writeJSON refuses: \(validated), \(streamed)")
                }
                let json = value.jsonText
                guard String(decoding: written, as: UTF8.self) == json else {
                    fatalError("writeJSON wrote other text than decode's jsonText")
                }
                guard let again = try? schema.decode(schema.encode(value, byteOrder: .littleEndian)), again.jsonText == json else {
                    fatalError("a decoded value does not encode to bytes that decode to it again")
                }
            case .failure(let error):
                guard case .failure(let e1) = validated, case .failure(let e2) = streamed, e1 == error, e2 == error else {
                    fatalError("decode refuses with \(error), validate and writeJSON answer \(validated), \(streamed)")
                }
            }
        }
    }
}
