import Foundation
import Testing
import TouchdownTestSupport
@testable import TouchdownTrace

/// Every file of `../shared/mcap-conformance` read by the streamed reader gives
/// exactly the records in its `.json`; the indexed reader gives the same
/// schemas, channels and messages.
@Suite struct ConformanceTests {
    @Test func corpusIsPresent() {
        #expect(ConformanceCorpus.files.count == 208, "expected 208 conformance files in \(TestPaths.conformance.path)")
    }

    @Test(arguments: ConformanceCorpus.files)
    func streamedReaderMatchesExpectedRecords(_ file: String) throws {
        let url = TestPaths.conformance.appendingPathComponent(file)
        let expectedURL = url.deletingPathExtension().appendingPathExtension("json")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as! [String: Any]
        let expectedRecords = try JSONSerialization.data(withJSONObject: expected["records"]!, options: [.sortedKeys])

        let reader = try StreamReader(path: url.path)
        var records: [String] = []
        while let record = try reader.next() {
            if let json = record.conformanceJSON { records.append(json) }
        }
        #expect(reader.reachedEnd)
        let actual = try canonicalJSON("[" + records.joined(separator: ",") + "]")
        #expect(actual == String(decoding: expectedRecords, as: UTF8.self))
    }

    @Test(arguments: ConformanceCorpus.files)
    func indexedReaderMatchesStreamedReader(_ file: String) throws {
        let url = TestPaths.conformance.appendingPathComponent(file)
        let stream = try StreamReader(path: url.path)
        var messages: [Message] = []
        var schemaIDs: [UInt16] = []
        var channelIDs: [UInt16] = []
        var hasSummary = false
        while let record = try stream.next() {
            switch record {
            case .message(let m): messages.append(m)
            case .schema(let s): if !schemaIDs.contains(s.id) { schemaIDs.append(s.id) }
            case .channel(let c): if !channelIDs.contains(c.id) { channelIDs.append(c.id) }
            case .footer(let f): hasSummary = f.summaryStart != 0
            default: break
            }
        }
        guard hasSummary else {
            #expect(throws: MCAPError.self) { try IndexedReader(path: url.path) }
            return
        }
        let indexed = try IndexedReader(path: url.path)
        var got: [Message] = []
        try indexed.messages { v in
            got.append(Message(channelID: v.channelID, sequence: v.sequence, logTime_ns: v.logTime_ns, publishTime_ns: v.publishTime_ns, data: Array(v.data)))
        }
        let order = messages.indices.sorted { (messages[$0].logTime_ns, $0) < (messages[$1].logTime_ns, $1) }
        #expect(got == order.map { messages[$0] })
        #expect(indexed.schemas.map(\.id).sorted() == schemaIDs.sorted())
        #expect(indexed.channels.map(\.id).sorted() == channelIDs.sorted())
    }
}
