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

    /// Damaged payloads: the typed decoders refuse exactly what the
    /// schema-driven decoder refuses, so `trace cat --count` fails on the
    /// same messages as `trace cat --json`.
    @Test func typedAndSchemaDecodersAgreeOnDamage() throws {
        func decoders<M: TraceMessage>(_ type: M.Type) -> (typed: TraceReader.ChannelDecoder, generic: TraceReader.ChannelDecoder) {
            let own = Schema(id: 1, name: M.schemaName, encoding: "ros2msg", data: Array(M.schemaText.utf8))
            // The same layout under other text: decoded through the schema.
            let other = Schema(id: 1, name: M.schemaName, encoding: "ros2msg", data: Array((M.schemaText + "\n").utf8))
            return (TraceReader.ChannelDecoder(channel: channel, schema: own), TraceReader.ChannelDecoder(channel: channel, schema: other))
        }
        func agree(_ pair: (typed: TraceReader.ChannelDecoder, generic: TraceReader.ChannelDecoder), _ bytes: [UInt8], accepted: Bool, _ what: String) {
            bytes.withUnsafeBytes { b in
                var typedError: Error?, genericError: Error?
                do { try pair.typed.decode(b) } catch { typedError = error }
                do { try pair.generic.decode(b) } catch { genericError = error }
                #expect((typedError == nil) == accepted, "typed, \(what): \(String(describing: typedError))")
                #expect((genericError == nil) == accepted, "schema, \(what): \(String(describing: genericError))")
                // The typed path is the one taken: its errors are its own.
                if let typedError { #expect(typedError is CDRPayloadError, "\(what)") }
            }
        }
        // EventSample: stamp_ns (8), then kind and detail as uint32 length, bytes, NUL; then the anomaly bool.
        let event = decoders(EventSample.self)
        func eventBytes(kind: [UInt8], kindLength: UInt32? = nil) -> [UInt8] {
            var b: [UInt8] = [0, 1, 0, 0] + [UInt8](repeating: 7, count: 8)
            withUnsafeBytes(of: (kindLength ?? UInt32(kind.count)).littleEndian) { b += $0 }
            b += kind
            while b.count % 4 != 0 { b.append(0) }
            withUnsafeBytes(of: UInt32(3).littleEndian) { b += $0 }
            b += Array("ok".utf8) + [0]
            b.append(1)  // anomaly
            return b
        }
        agree(event, eventBytes(kind: Array("phase".utf8) + [0]), accepted: true, "a sound event")
        agree(event, eventBytes(kind: [], kindLength: 0), accepted: true, "a zero-length string")
        agree(event, eventBytes(kind: Array("phase".utf8) + [0x21]), accepted: false, "a string without its NUL")
        agree(event, eventBytes(kind: [0xC3, 0x28, 0]), accepted: false, "a string that is not UTF-8")
        agree(event, eventBytes(kind: Array("phase".utf8) + [0], kindLength: 200), accepted: false, "a string longer than the payload")

        // Fixed-size types: big-endian, trailing bytes, a bool of 2, truncation.
        let altimeter = decoders(AltimeterSample.self)
        let sound = AltimeterSample(stamp_ns: 9, range_m: 1.5, valid: true).cdrBytes
        agree(altimeter, sound, accepted: true, "a sound sample")
        agree(altimeter, sound + [1, 2, 3], accepted: true, "trailing bytes")
        var two = sound
        two[4 + 16] = 2
        agree(altimeter, two, accepted: true, "a bool of 2")
        var big: [UInt8] = [0, 0, 0, 0]
        withUnsafeBytes(of: UInt64(9).bigEndian) { big += $0 }
        withUnsafeBytes(of: (1.5).bitPattern.bigEndian) { big += $0 }
        big.append(1)
        agree(altimeter, big, accepted: true, "big-endian")
        agree(altimeter, Array(sound.prefix(12)), accepted: false, "a truncated sample")
        agree(altimeter, [0, 7, 0, 0] + Array(sound.dropFirst(4)), accepted: false, "an unknown representation")
    }
}
