/// MCAP records, as the specification (foxglove/mcap `website/docs/spec/`) defines them.
///
/// Times are nanoseconds (`_ns`), offsets are bytes from the start of the file
/// unless said otherwise. Maps keep the order they had in the file; the writer
/// sorts them by key so that equal inputs give equal bytes.

/// The eight bytes at both ends of every MCAP file.
public let mcapMagic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A]

/// Record opcodes.
public enum Opcode: UInt8, Sendable, CaseIterable {
    case header = 0x01
    case footer = 0x02
    case schema = 0x03
    case channel = 0x04
    case message = 0x05
    case chunk = 0x06
    case messageIndex = 0x07
    case chunkIndex = 0x08
    case attachment = 0x09
    case attachmentIndex = 0x0A
    case statistics = 0x0B
    case metadata = 0x0C
    case metadataIndex = 0x0D
    case summaryOffset = 0x0E
    case dataEnd = 0x0F

    /// The record's name as the specification spells it (`ChunkIndex`).
    public var recordName: String {
        switch self {
        case .header: "Header"
        case .footer: "Footer"
        case .schema: "Schema"
        case .channel: "Channel"
        case .message: "Message"
        case .chunk: "Chunk"
        case .messageIndex: "MessageIndex"
        case .chunkIndex: "ChunkIndex"
        case .attachment: "Attachment"
        case .attachmentIndex: "AttachmentIndex"
        case .statistics: "Statistics"
        case .metadata: "Metadata"
        case .metadataIndex: "MetadataIndex"
        case .summaryOffset: "SummaryOffset"
        case .dataEnd: "DataEnd"
        }
    }

    /// A name for any opcode byte, known or not.
    public static func name(of byte: UInt8) -> String {
        Opcode(rawValue: byte)?.recordName ?? "opcode 0x" + String(byte, radix: 16)
    }
}

/// An ordered string map, as MCAP stores channel metadata and Metadata records.
public typealias StringPairs = [(key: String, value: String)]

public struct Header: Sendable, Equatable {
    public var profile: String
    public var library: String
    public init(profile: String, library: String) {
        self.profile = profile
        self.library = library
    }
}

public struct Footer: Sendable, Equatable {
    public var summaryStart: UInt64
    public var summaryOffsetStart: UInt64
    public var summaryCRC: UInt32
}

public struct Schema: Sendable, Equatable {
    public var id: UInt16
    public var name: String
    public var encoding: String
    public var data: [UInt8]
    public init(id: UInt16, name: String, encoding: String, data: [UInt8]) {
        self.id = id
        self.name = name
        self.encoding = encoding
        self.data = data
    }
}

public struct Channel: Sendable {
    public var id: UInt16
    public var schemaID: UInt16
    public var topic: String
    public var messageEncoding: String
    public var metadata: StringPairs
    public init(id: UInt16, schemaID: UInt16, topic: String, messageEncoding: String, metadata: StringPairs) {
        self.id = id
        self.schemaID = schemaID
        self.topic = topic
        self.messageEncoding = messageEncoding
        self.metadata = metadata
    }
}

extension Channel: Equatable {
    public static func == (a: Channel, b: Channel) -> Bool {
        a.id == b.id && a.schemaID == b.schemaID && a.topic == b.topic && a.messageEncoding == b.messageEncoding
            && a.metadata.elementsEqual(b.metadata, by: { $0.key == $1.key && $0.value == $1.value })
    }
}

public struct Message: Sendable, Equatable {
    public var channelID: UInt16
    public var sequence: UInt32
    public var logTime_ns: UInt64
    public var publishTime_ns: UInt64
    public var data: [UInt8]
    public init(channelID: UInt16, sequence: UInt32, logTime_ns: UInt64, publishTime_ns: UInt64, data: [UInt8]) {
        self.channelID = channelID
        self.sequence = sequence
        self.logTime_ns = logTime_ns
        self.publishTime_ns = publishTime_ns
        self.data = data
    }
}

extension Message {
    /// Calls `body` with a view of this message, as the readers hand over.
    public func withView<R>(_ body: (MessageView) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { data in
            try body(MessageView(channelID: channelID, sequence: sequence, logTime_ns: logTime_ns, publishTime_ns: publishTime_ns, data: data))
        }
    }
}

/// A Chunk record without its payload: where the payload is and how to read it.
public struct ChunkHeader: Sendable, Equatable {
    public var messageStartTime_ns: UInt64
    public var messageEndTime_ns: UInt64
    public var uncompressedSize: UInt64
    public var uncompressedCRC: UInt32
    public var compression: String
    public var compressedSize: UInt64
}

public struct MessageIndex: Sendable, Equatable {
    public var channelID: UInt16
    /// (log time, offset of the Message record within the uncompressed chunk records).
    public var entries: [MessageIndexEntry]
}

public struct MessageIndexEntry: Sendable, Equatable {
    public var logTime_ns: UInt64
    public var offset: UInt64
}

public struct ChunkIndex: Sendable, Equatable {
    public var messageStartTime_ns: UInt64
    public var messageEndTime_ns: UInt64
    public var chunkStartOffset: UInt64
    public var chunkLength: UInt64
    /// Channel id → file offset of that channel's MessageIndex record, in file order.
    public var messageIndexOffsets: [(channelID: UInt16, offset: UInt64)]
    public var messageIndexLength: UInt64
    public var compression: String
    public var compressedSize: UInt64
    public var uncompressedSize: UInt64

    public static func == (a: ChunkIndex, b: ChunkIndex) -> Bool {
        a.messageStartTime_ns == b.messageStartTime_ns && a.messageEndTime_ns == b.messageEndTime_ns
            && a.chunkStartOffset == b.chunkStartOffset && a.chunkLength == b.chunkLength
            && a.messageIndexOffsets.elementsEqual(b.messageIndexOffsets, by: { $0.channelID == $1.channelID && $0.offset == $1.offset })
            && a.messageIndexLength == b.messageIndexLength && a.compression == b.compression
            && a.compressedSize == b.compressedSize && a.uncompressedSize == b.uncompressedSize
    }
}

public struct Attachment: Sendable, Equatable {
    public var logTime_ns: UInt64
    public var createTime_ns: UInt64
    public var name: String
    public var mediaType: String
    public var data: [UInt8]
    public var crc: UInt32
    public init(logTime_ns: UInt64, createTime_ns: UInt64, name: String, mediaType: String, data: [UInt8], crc: UInt32 = 0) {
        self.logTime_ns = logTime_ns
        self.createTime_ns = createTime_ns
        self.name = name
        self.mediaType = mediaType
        self.data = data
        self.crc = crc
    }
}

public struct AttachmentIndex: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
    public var logTime_ns: UInt64
    public var createTime_ns: UInt64
    public var dataSize: UInt64
    public var name: String
    public var mediaType: String
}

public struct Statistics: Sendable {
    public var messageCount: UInt64
    public var schemaCount: UInt16
    public var channelCount: UInt32
    public var attachmentCount: UInt32
    public var metadataCount: UInt32
    public var chunkCount: UInt32
    public var messageStartTime_ns: UInt64
    public var messageEndTime_ns: UInt64
    public var channelMessageCounts: [(channelID: UInt16, count: UInt64)]
}

extension Statistics: Equatable {
    public static func == (a: Statistics, b: Statistics) -> Bool {
        a.messageCount == b.messageCount && a.schemaCount == b.schemaCount && a.channelCount == b.channelCount
            && a.attachmentCount == b.attachmentCount && a.metadataCount == b.metadataCount && a.chunkCount == b.chunkCount
            && a.messageStartTime_ns == b.messageStartTime_ns && a.messageEndTime_ns == b.messageEndTime_ns
            && a.channelMessageCounts.elementsEqual(b.channelMessageCounts, by: { $0.channelID == $1.channelID && $0.count == $1.count })
    }
}

public struct Metadata: Sendable {
    public var name: String
    public var metadata: StringPairs
    public init(name: String, metadata: StringPairs) {
        self.name = name
        self.metadata = metadata
    }
}

extension Metadata: Equatable {
    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.name == b.name && a.metadata.elementsEqual(b.metadata, by: { $0.key == $1.key && $0.value == $1.value })
    }
}

public struct MetadataIndex: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
    public var name: String
}

public struct SummaryOffset: Sendable, Equatable {
    public var groupOpcode: UInt8
    public var groupStart: UInt64
    public var groupLength: UInt64
}

public struct DataEnd: Sendable, Equatable {
    public var dataSectionCRC: UInt32
}

/// One record as a streamed reader meets it.
public enum Record: Sendable {
    case header(Header)
    case footer(Footer)
    case schema(Schema)
    case channel(Channel)
    case message(Message)
    /// A chunk's header. A streamed reader that expands chunks reports the
    /// records inside after it (see ``StreamReader/Options/expandChunks``).
    case chunk(ChunkHeader)
    case messageIndex(MessageIndex)
    case chunkIndex(ChunkIndex)
    case attachment(Attachment)
    case attachmentIndex(AttachmentIndex)
    case statistics(Statistics)
    case metadata(Metadata)
    case metadataIndex(MetadataIndex)
    case summaryOffset(SummaryOffset)
    case dataEnd(DataEnd)
    /// A record with an opcode this reader does not know; skipped by the specification's rule.
    case unknown(opcode: UInt8, length: UInt64)

    /// The record's opcode byte.
    public var opcode: UInt8 {
        switch self {
        case .header: Opcode.header.rawValue
        case .footer: Opcode.footer.rawValue
        case .schema: Opcode.schema.rawValue
        case .channel: Opcode.channel.rawValue
        case .message: Opcode.message.rawValue
        case .chunk: Opcode.chunk.rawValue
        case .messageIndex: Opcode.messageIndex.rawValue
        case .chunkIndex: Opcode.chunkIndex.rawValue
        case .attachment: Opcode.attachment.rawValue
        case .attachmentIndex: Opcode.attachmentIndex.rawValue
        case .statistics: Opcode.statistics.rawValue
        case .metadata: Opcode.metadata.rawValue
        case .metadataIndex: Opcode.metadataIndex.rawValue
        case .summaryOffset: Opcode.summaryOffset.rawValue
        case .dataEnd: Opcode.dataEnd.rawValue
        case .unknown(let op, _): op
        }
    }

    /// The record's name as the specification spells it.
    public var opcodeName: String { Opcode.name(of: opcode) }
}

/// Schema and Channel records: defined by id, first definition winning.
protocol DefinitionRecord { var id: UInt16 { get } }
extension Schema: DefinitionRecord {}
extension Channel: DefinitionRecord {}

extension Array where Element: DefinitionRecord {
    /// Appends `definition` unless one with its id is already here.
    mutating func addFirstDefinition(_ definition: Element) {
        if !contains(where: { $0.id == definition.id }) { append(definition) }
    }
}
