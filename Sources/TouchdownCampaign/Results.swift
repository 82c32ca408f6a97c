import Foundation
import TouchdownReplay

/// One line of a results file, read back.
public struct ResultLine: Decodable, Sendable {
    public var campaign: String
    public var fingerprint: String
    public var id: String
    /// How many runs the whole campaign has (whatever slice this file holds).
    public var total: Int
    public var run: CampaignRun
    public var verdict: RunRecord.Verdict
    public var rerun: String
    public var result: ReplayResult?
    public var error: String?
    /// The line's bytes, written back unchanged by a merge.
    public var text = ""

    enum CodingKeys: String, CodingKey { case campaign, fingerprint, id, total, run, verdict, rerun, result, error }

    public var record: RunRecord { RunRecord(run: run, verdict: verdict, result: result, error: error) }
}

/// What a merge of results files found.
public struct MergedResults: Sendable {
    public var campaign: String
    public var fingerprint: String
    public var total: Int
    /// One line per run, in run order.
    public var lines: [ResultLine]
    /// Run positions no file holds.
    public var missing: [Int]
    /// Runs held more than once with the same bytes (a shard given twice).
    public var duplicates: [String]
    /// Runs held more than once with different results: a run that is not
    /// deterministic, or files of different builds.
    public var conflicts: [String]
    /// Notes on what was skipped (torn last lines).
    public var notes: [String]

    public var complete: Bool { missing.isEmpty && conflicts.isEmpty }
}

public struct ResultsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

public enum Results {
    /// The complete lines of a results file, and a note when its last line
    /// is torn (a run killed while writing).
    public static func read(path: String) throws -> (lines: [ResultLine], note: String?) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ResultsError("\(path): cannot read the file") }
        var bytes = Array(data)
        var note: String?
        if !bytes.isEmpty && bytes.last != 0x0A {
            let cut = (bytes.lastIndex(of: 0x0A) ?? -1) + 1
            note = "\(path): its last line is incomplete (\(bytes.count - cut) bytes) and is ignored"
            bytes = Array(bytes[..<cut])
        }
        let decoder = JSONDecoder()
        var lines: [ResultLine] = []
        var number = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            number += 1
            do {
                var line = try decoder.decode(ResultLine.self, from: Data(raw))
                line.text = String(decoding: raw, as: UTF8.self)
                lines.append(line)
            } catch {
                throw ResultsError("\(path):\(number): not a campaign results line (\(error))")
            }
        }
        return (lines, note)
    }

    /// Combines the results of shards: every run once, in run order, with
    /// what is missing, repeated or contradictory.
    public static func merge(paths: [String]) throws -> MergedResults {
        var all: [(line: ResultLine, file: String)] = []
        var notes: [String] = []
        for p in paths {
            let (lines, note) = try read(path: p)
            if let note { notes.append(note) }
            all += lines.map { ($0, p) }
        }
        guard let first = all.first?.line else { throw ResultsError("no results in \(paths.joined(separator: ", "))") }
        for (l, file) in all where l.fingerprint != first.fingerprint || l.total != first.total {
            throw ResultsError("\(file) holds results of campaign \(l.campaign) (fingerprint \(l.fingerprint), \(l.total) runs); \(all[0].file) of \(first.campaign) (fingerprint \(first.fingerprint), \(first.total) runs): merge one campaign at a time")
        }
        var byIndex = [ResultLine?](repeating: nil, count: first.total)
        var duplicates: [String] = [], conflicts: [String] = []
        for (l, file) in all {
            guard l.run.index >= 0 && l.run.index < first.total else {
                throw ResultsError("\(file): run \(l.id) has position \(l.run.index), outside the campaign's \(first.total) runs")
            }
            if let have = byIndex[l.run.index] {
                if have.text == l.text { duplicates.append("\(l.id) (again in \(file))") } else { conflicts.append("\(l.id) (\(file) differs from an earlier file)") }
                continue
            }
            byIndex[l.run.index] = l
        }
        let missing = byIndex.indices.filter { byIndex[$0] == nil }
        return MergedResults(campaign: first.campaign, fingerprint: first.fingerprint, total: first.total,
                             lines: byIndex.compactMap { $0 }, missing: missing, duplicates: duplicates,
                             conflicts: conflicts, notes: notes)
    }
}
