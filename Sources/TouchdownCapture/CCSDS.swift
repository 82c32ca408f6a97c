import Foundation
import TouchdownTrace
import Yams

extension TelemetryMap {
    /// CCSDS Space Packets (CCSDS 133.0-B): for each APID the Touchdown topic
    /// it becomes, and where each field sits in the packet's user data.
    public struct CCSDSLayout: Sendable {
        /// The secondary header's CUC time code: octets of whole seconds
        /// (1–4) and of binary fraction (0–3), counted from `epochUnix_ns`.
        public let coarseOctets: Int
        public let fineOctets: Int
        public let epochUnix_ns: Int64
        /// The descent's t = 0 in Unix time, if the map gives it.
        public let t0_unixNs: Int64?
        public let packets: [PacketLayout]

        public var secondaryHeaderBytes: Int { coarseOctets + fineOctets }
    }

    /// One APID's packets.
    public struct PacketLayout: Sendable {
        public let apid: UInt16
        public let target: TopicColumns
        /// Where each of the target's fields read from a packet sits, by field name.
        public let binary: [(field: String, at: BinaryField)]
        /// User data bytes the fields need.
        public let userDataBytes: Int
    }

    /// An integer or float at a byte offset of the user data, in either byte
    /// order, optionally a bit field of an integer (bits counted from the
    /// least significant, 0).
    public struct BinaryField: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64
            var bytes: Int {
                switch self {
                case .int8, .uint8: 1
                case .int16, .uint16: 2
                case .int32, .uint32, .float32: 4
                case .int64, .uint64, .float64: 8
                }
            }
            var isSigned: Bool { [.int8, .int16, .int32, .int64].contains(self) }
            var isFloat: Bool { self == .float32 || self == .float64 }
        }
        public let offset: Int
        public let kind: Kind
        public let bigEndian: Bool
        public let bits: ClosedRange<Int>?

        /// The raw bits of the field (before sign extension or bit selection).
        func raw(_ data: UnsafeRawBufferPointer) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<kind.bytes {
                let byte = UInt64(data[offset + (bigEndian ? i : kind.bytes - 1 - i)])
                v = v << 8 | byte
            }
            return v
        }

        /// The field's value as a number (before the map's scale and offset).
        func value(_ data: UnsafeRawBufferPointer) -> Double {
            let r = raw(data)
            switch kind {
            case .float32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: r)))
            case .float64: return Double(bitPattern: r)
            default: break
            }
            if let bits {
                let width = bits.count
                let selected = (r >> UInt64(bits.lowerBound)) & (width == 64 ? ~0 : (1 << UInt64(width)) - 1)
                return Double(selected)
            }
            if kind.isSigned {
                let shift = UInt64(64 - kind.bytes * 8)
                return Double(Int64(bitPattern: r << shift) >> Int64(shift))
            }
            return Double(r)
        }

        /// Writes `number` (already unscaled) into `data`, OR-ing bit fields.
        func write(_ number: Double, into data: UnsafeMutableRawBufferPointer) {
            var r: UInt64
            switch kind {
            case .float32: r = UInt64(Float(number).bitPattern)
            case .float64: r = number.bitPattern
            default:
                // An integer field has no NaN: it is written as 0.
                let rounded = number.isNaN ? 0 : number.rounded()
                func unsigned(_ v: Double, bits: Int) -> UInt64 {
                    let top = bits == 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
                    if v <= 0 { return 0 }
                    if v >= Double(top) { return top }
                    return UInt64(v)
                }
                if let bits {
                    r = unsigned(rounded, bits: bits.count) << UInt64(bits.lowerBound)
                    r |= raw(UnsafeRawBufferPointer(data))
                } else if kind.isSigned {
                    let width = kind.bytes * 8
                    let top = width == 64 ? Int64.max : (Int64(1) << Int64(width - 1)) - 1
                    let bottom = -top - 1
                    let v: Int64 = rounded >= Double(top) ? top : rounded <= Double(bottom) ? bottom : Int64(rounded)
                    r = UInt64(bitPattern: v)
                } else {
                    r = unsigned(rounded, bits: kind.bytes * 8)
                }
            }
            for i in 0..<kind.bytes {
                let byte = UInt8(truncatingIfNeeded: r >> UInt64(8 * (kind.bytes - 1 - i)))
                data[offset + (bigEndian ? i : kind.bytes - 1 - i)] = byte
            }
        }
    }

    static func ccsdsLayout(_ node: Node, _ y: MapReader) throws -> CCSDSLayout {
        let m = try y.mapping(node, "ccsds", accepted: ["time", "t0", "packets"])
        guard let timeNode = m.value("time") else {
            throw y.error(node, "ccsds.time is missing: the secondary header's CUC time code, e.g. time: {coarse: 4, fine: 2, epoch: 1970-01-01}")
        }
        let time = try y.mapping(timeNode, "ccsds.time", accepted: ["coarse", "fine", "epoch"])
        func octets(_ key: String, _ range: ClosedRange<Int>, _ defaultValue: Int) throws -> Int {
            guard let n = time.value(key) else { return defaultValue }
            let text = try y.string(n, "ccsds.time.\(key)")
            guard let v = Int(text), range.contains(v) else {
                throw y.error(n, "ccsds.time.\(key) \"\(text)\" is not accepted: \(range.lowerBound) to \(range.upperBound) octets")
            }
            return v
        }
        let coarse = try octets("coarse", 1...4, 4), fine = try octets("fine", 0...3, 2)
        var epoch: Int64 = 0
        if let e = time.value("epoch") {
            let text = try y.string(e, "ccsds.time.epoch")
            guard let days = CalendarDate.daysSinceUnixEpoch(text) else {
                throw y.error(e, "ccsds.time.epoch \"\(text)\" is not a date YYYY-MM-DD (UTC midnight; leap seconds are not counted), e.g. 1958-01-01 or 2000-01-01")
            }
            // Every time code the packets can carry must be a Unix time in
            // nanoseconds that fits in 64 bits.
            guard Double(days) * 86_400 > -9.2e9, Double(days) * 86_400 + pow(256, Double(coarse)) < 9.2e9 else {
                throw y.error(e, "ccsds.time.epoch \(text) with \(coarse) coarse octets reaches outside 1678 to 2262, the years Touchdown's nanosecond times can hold")
            }
            epoch = days * 86_400 * 1_000_000_000
        }
        var t0: Int64?
        if let t0Node = m.value("t0") {
            let text = try y.string(t0Node, "ccsds.t0")
            guard let ns = DecimalTime.nanoseconds(withUnit: text) else {
                throw y.error(t0Node, "ccsds.t0 \"\(text)\" is not a Unix time with a unit, e.g. 1700000000 s")
            }
            t0 = ns
        }
        guard let packetsNode = m.value("packets"), case .sequence(let items) = packetsNode, !items.isEmpty else {
            throw y.error(m.value("packets") ?? node, "ccsds.packets must list the APIDs, e.g. - {apid: 0x101, to: /imu, fields: {…}}")
        }
        var packets: [PacketLayout] = []
        for (i, item) in items.enumerated() {
            let what = "ccsds.packets[\(i)]"
            let p = try y.mapping(item, what, accepted: ["apid", "to", "fields"])
            guard let apidNode = p.value("apid") else { throw y.error(item, "\(what).apid is missing") }
            let apidText = try y.string(apidNode, "\(what).apid")
            let apidValue = apidText.hasPrefix("0x") ? UInt16(apidText.dropFirst(2), radix: 16) : UInt16(apidText)
            guard let apid = apidValue, apid <= 0x7FF else {
                throw y.error(apidNode, "\(what).apid \"\(apidText)\" is not an APID: 0 to 2047 (0x7FF), decimal or 0x hex")
            }
            if packets.contains(where: { $0.apid == apid }) { throw y.error(apidNode, "APID \(apidText) is mapped twice") }
            guard let toNode = p.value("to") else { throw y.error(item, "\(what).to is missing: the Touchdown topic it becomes") }
            let target = try y.string(toNode, "\(what).to")
            guard let known = topicTypes.first(where: { $0.topic == target }) else {
                throw y.error(toNode, "\(target) is not a Touchdown topic; accepted: \(topicTypes.map(\.topic).joined(separator: ", "))")
            }
            guard let fieldsNode = p.value("fields") else { throw y.error(item, "\(what).fields is missing") }
            packets.append(try packetLayout(apid, target, known.type, fieldsNode, "\(what).fields", y,
                                            maxUserData: 65_536 - coarse - fine))
        }
        return CCSDSLayout(coarseOctets: coarse, fineOctets: fine, epochUnix_ns: epoch, t0_unixNs: t0, packets: packets)
    }

    static func packetLayout(_ apid: UInt16, _ topic: String, _ type: any TraceMessage.Type, _ node: Node, _ what: String,
                             _ y: MapReader, maxUserData: Int) throws -> PacketLayout {
        let declared = type.fields.dropFirst().map { line -> (type: String, name: String) in
            let parts = line.split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        }
        let m = try y.mapping(node, what, accepted: declared.map(\.name))
        var fields: [FieldSource] = []
        var binary: [(field: String, at: BinaryField)] = []
        var needed = 0
        for d in declared {
            let fieldType: FieldType = d.type == "bool" ? .bool : d.type == "string" ? .string : .float64
            let w = "\(what).\(d.name)"
            guard let v = m.value(d.name) else {
                throw y.error(node, "\(w) is missing: every field of \(type.schemaName) needs a place in the packet or a constant")
            }
            let f = try y.mapping(v, w, accepted: ["at", "type", "order", "bits", "scale", "offset", "value"])
            if f.value("value") != nil {
                fields.append(FieldSource(field: d.name, type: fieldType, source: try source(v, fieldType, w, y, key: "at")))
                continue
            }
            guard fieldType != .string else { throw y.error(v, "\(w): a string field takes a constant, {value: …}") }
            guard let atNode = f.value("at"), let at = Int(try y.string(atNode, "\(w).at")), (0...65_535).contains(at) else {
                throw y.error(f.value("at") ?? v, "\(w).at must be the field's byte offset in the user data (after the secondary header), 0 to 65535")
            }
            guard let typeNode = f.value("type") else { throw y.error(v, "\(w).type is missing: \(BinaryField.Kind.allCases.map(\.rawValue).joined(separator: ", "))") }
            let typeText = try y.string(typeNode, "\(w).type")
            guard let kind = BinaryField.Kind(rawValue: typeText) else {
                throw y.error(typeNode, "\(w).type \"\(typeText)\" is not accepted: \(BinaryField.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let orderText = try f.value("order").map { try y.string($0, "\(w).order") } ?? "big"
            guard orderText == "big" || orderText == "little" else {
                throw y.error(f.value("order"), "\(w).order \"\(orderText)\" is not accepted: big (CCSDS's order, the default) or little")
            }
            var bits: ClosedRange<Int>?
            if let bitsNode = f.value("bits") {
                let text = try y.string(bitsNode, "\(w).bits")
                let parts = text.components(separatedBy: "..")
                guard !kind.isFloat, parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]), lo >= 0, lo <= hi, hi < kind.bytes * 8 else {
                    throw y.error(bitsNode, "\(w).bits \"\(text)\" is not accepted: LOW..HIGH bit numbers of the integer, 0 the least significant, below \(kind.bytes * 8)")
                }
                bits = lo...hi
            }
            let sourceNode: Node = .mapping(Node.Mapping([
                (Node("at"), atNode),
            ] + ["scale", "offset"].compactMap { k in f.value(k).map { (Node(k), $0) } }))
            fields.append(FieldSource(field: d.name, type: fieldType, source: try source(sourceNode, fieldType, w, y, key: "at")))
            guard at + kind.bytes <= maxUserData else {
                throw y.error(atNode, "\(w).at \(at): a \(kind.rawValue) there ends past the \(maxUserData) bytes of user data a packet can hold (its length field is 16 bits)")
            }
            binary.append((d.name, BinaryField(offset: at, kind: kind, bigEndian: orderText == "big", bits: bits)))
            needed = max(needed, at + kind.bytes)
        }
        let schema: CompiledMessageSchema
        do {
            schema = try CompiledMessageSchema(schemaName: type.schemaName, schemaText: type.schemaText)
        } catch {
            preconditionFailure("Touchdown's own schema \(type.schemaName) does not compile: \(error)")
        }
        let target = TopicColumns(topic: topic, type: type, schemaName: type.schemaName, schemaText: type.schemaText,
                                  schema: schema, fields: fields, stampColumn: nil)
        return PacketLayout(apid: apid, target: target, binary: binary, userDataBytes: needed)
    }
}

/// A UTC date as days from 1970-01-01 (proleptic Gregorian).
enum CalendarDate {
    /// Days from 1970-01-01 of a `YYYY-MM-DD` text, or nil.
    static func daysSinceUnixEpoch(_ text: String) -> Int64? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]) else { return nil }
        return CivilDate.days(year: y, month: m, day: d)
    }
}

/// CCSDS Space Packets: the 6-byte primary header, a CUC secondary header and
/// the user data, read and written as a map lays them out.
public enum SpacePacket {
    /// Why a datagram is not a usable packet.
    public enum Malformed: String, CaseIterable, Sendable {
        case short = "shorter than its headers"
        case version = "version not 0"
        case noSecondaryHeader = "no secondary header (no time code)"
        case length = "length field disagrees with the datagram"
        case unknownAPID = "APID not in the map"
        case tooShortForMap = "user data shorter than the map's fields"
    }

    public struct Header: Sendable {
        public var apid: UInt16
        public var sequenceCount: UInt16
        public var time_unixNs: Int64
    }

    /// Reads a datagram: its header, and its packet layout; or why not.
    public static func read(_ datagram: UnsafeRawBufferPointer, _ layout: TelemetryMap.CCSDSLayout)
        -> Result<(Header, TelemetryMap.PacketLayout, UnsafeRawBufferPointer), MalformedError> {
        let headerBytes = 6 + layout.secondaryHeaderBytes
        guard datagram.count >= headerBytes else { return .failure(MalformedError(.short)) }
        let b0 = datagram[0], b1 = datagram[1]
        guard b0 >> 5 == 0 else { return .failure(MalformedError(.version)) }
        guard b0 & 0x08 != 0 else { return .failure(MalformedError(.noSecondaryHeader)) }
        let apid = UInt16(b0 & 0x07) << 8 | UInt16(b1)
        let count = (UInt16(datagram[2] & 0x3F) << 8) | UInt16(datagram[3])
        let length = Int(UInt16(datagram[4]) << 8 | UInt16(datagram[5]))
        guard length + 1 + 6 == datagram.count else { return .failure(MalformedError(.length, apid: apid)) }
        guard let packet = layout.packets.first(where: { $0.apid == apid }) else { return .failure(MalformedError(.unknownAPID, apid: apid)) }
        var coarse: UInt64 = 0, fine: UInt64 = 0
        for i in 0..<layout.coarseOctets { coarse = coarse << 8 | UInt64(datagram[6 + i]) }
        for i in 0..<layout.fineOctets { fine = fine << 8 | UInt64(datagram[6 + layout.coarseOctets + i]) }
        let fraction_ns = Int64((fine * 1_000_000_000) >> UInt64(8 * layout.fineOctets))
        // The map bounds the epoch so that no time code overflows; checked anyway.
        let (whole, o1) = Int64(coarse).multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, o2) = layout.epochUnix_ns.addingReportingOverflow(whole)
        let (time, o3) = sum.addingReportingOverflow(fraction_ns)
        guard !o1 && !o2 && !o3 else { return .failure(MalformedError(.short, apid: apid)) }
        let user = UnsafeRawBufferPointer(rebasing: datagram[headerBytes...])
        guard user.count >= packet.userDataBytes else { return .failure(MalformedError(.tooShortForMap, apid: apid)) }
        return .success((Header(apid: apid, sequenceCount: count, time_unixNs: time), packet, user))
    }

    public struct MalformedError: Error, Sendable {
        public let reason: Malformed
        public let apid: UInt16?
        init(_ reason: Malformed, apid: UInt16? = nil) {
            self.reason = reason
            self.apid = apid
        }
    }

    /// A packet for `values` (the message's fields by name, in engineering
    /// units) at `time_unixNs`, with `sequenceCount` (mod 2¹⁴).
    public static func write(_ packet: TelemetryMap.PacketLayout, _ layout: TelemetryMap.CCSDSLayout, sequenceCount: UInt16,
                             time_unixNs: Int64, values: (String) -> Double) -> [UInt8] {
        let headerBytes = 6 + layout.secondaryHeaderBytes
        var bytes = [UInt8](repeating: 0, count: headerBytes + packet.userDataBytes)
        let length = bytes.count - 7
        bytes[0] = 0x08 | UInt8(packet.apid >> 8)           // version 0, telemetry, secondary header
        bytes[1] = UInt8(truncatingIfNeeded: packet.apid)
        bytes[2] = 0xC0 | UInt8((sequenceCount >> 8) & 0x3F)  // unsegmented
        bytes[3] = UInt8(truncatingIfNeeded: sequenceCount)
        bytes[4] = UInt8(length >> 8)
        bytes[5] = UInt8(truncatingIfNeeded: length)
        let sinceEpoch = time_unixNs - layout.epochUnix_ns
        let coarse = UInt64(max(0, sinceEpoch) / 1_000_000_000)
        let fine = (UInt64(max(0, sinceEpoch) % 1_000_000_000) << UInt64(8 * layout.fineOctets)) / 1_000_000_000
        for i in 0..<layout.coarseOctets {
            bytes[6 + i] = UInt8(truncatingIfNeeded: coarse >> UInt64(8 * (layout.coarseOctets - 1 - i)))
        }
        for i in 0..<layout.fineOctets {
            bytes[6 + layout.coarseOctets + i] = UInt8(truncatingIfNeeded: fine >> UInt64(8 * (layout.fineOctets - 1 - i)))
        }
        bytes.withUnsafeMutableBytes { all in
            let user = UnsafeMutableRawBufferPointer(rebasing: all[headerBytes...])
            for (field, at) in packet.binary {
                guard let source = packet.target.fields.first(where: { $0.field == field }),
                      case .column(_, let scale, let offset) = source.source else { continue }
                at.write((values(field) - offset) / scale, into: user)
            }
        }
        return bytes
    }

    /// The message a packet's user data makes, as the map says.
    static func message(_ packet: TelemetryMap.PacketLayout, stamp_ns: UInt64, _ user: UnsafeRawBufferPointer) throws -> [UInt8] {
        try packet.target.encode(stamp_ns: stamp_ns) { field, _ in
            let at = packet.binary.first { $0.field == field.field }!.at
            let v = at.value(user)
            return field.type == .bool ? .bool(v != 0) : .float(v)
        }
    }
}
