import Testing
@testable import TouchdownTrace

@Suite struct TraceReaderTests {
    let channel = Channel(id: 1, schemaID: 1, topic: "/altimeter", messageEncoding: "cdr", metadata: [])

    /// The typed decoder stands in for the schema only when the trace holds
    /// this build's very schema text; either way the same bytes decode and
    /// the same damage is refused.
    @Test func ownTypesDecodeTypedOnlyWithTheirOwnSchemaText() throws {
        let own = Schema(id: 1, name: AltimeterSample.schemaName, encoding: "ros2msg", data: Array(AltimeterSample.schemaText.utf8))
        // Same name and layout, other text (no comment line): a schema from elsewhere.
        let other = Schema(id: 1, name: AltimeterSample.schemaName, encoding: "ros2msg", data: Array("uint64 stamp_ns\nfloat64 range_m\nbool valid\n".utf8))
        let typed = TraceReader.ChannelDecoder(channel: channel, schema: own)
        let generic = TraceReader.ChannelDecoder(channel: channel, schema: other)
        #expect(typed.ownType == AltimeterSample.self)
        #expect(generic.ownType == nil)

        let bytes = AltimeterSample(stamp_ns: 5, range_m: 812.5, valid: true).cdrBytes
        try bytes.withUnsafeBytes { b in
            try typed.decode(b)
            try generic.decode(b)
            #expect(try generic.value(b) == typed.value(b))
        }
        let cut = Array(bytes.dropLast(3))
        cut.withUnsafeBytes { b in
            #expect(throws: (any Error).self) { try typed.decode(b) }
            #expect(throws: (any Error).self) { try generic.decode(b) }
        }
    }
}
