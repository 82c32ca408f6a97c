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

    /// The most runs a campaign may have: a results line claiming more is not believed.
    public static let maxTotal = 100_000_000

    /// What in the line contradicts itself, if anything: a verdict its
    /// result does not give (a `pass` must have a result that passed and no
    /// error), a result that contradicts its own plan and metrics
    /// (`ReplayResult.inconsistency`), a position or total out of range,
    /// ids that differ.
    public var inconsistency: String? {
        guard total >= 1 && total <= Self.maxTotal else { return "total \(total) runs; accepted: 1 to \(Self.maxTotal)" }
        guard run.index >= 0 && run.index < total else { return "position \(run.index), outside the campaign's \(total) runs" }
        guard id == run.id else { return "id \(id) but its run's id is \(run.id)" }
        if let result, let problem = result.inconsistency { return problem }
        switch verdict {
        case .pass:
            guard error == nil, let result else { return "verdict pass without a result, or with an error" }
            guard result.passed else { return "verdict pass, but its result did not pass (outcome \(result.outcome))" }
        case .fail:
            guard let result, !result.passed else { return "verdict fail without a failed result" }
        case .error:
            guard error != nil else { return "verdict error without the error" }
        }
        return nil
    }
}

/// What a merge of results files found.
public struct MergedResults: Sendable {
    public var campaign: String
    public var fingerprint: String
    public var total: Int
    /// One line per run, in run order.
    public var lines: [ResultLine]
    /// How many runs no file holds (contradicted ones apart).
    public var missingCount: Int
    /// The first 20 positions no file holds.
    public var firstMissing: [Int]
    /// Runs held more than once with the same bytes (a shard given twice).
    public var duplicates: [String]
    /// Runs held more than once with different results: a run that is not
    /// deterministic, or files of different builds.
    public var conflicts: [String]
    /// Notes on what was skipped (torn last lines).
    public var notes: [String]

    public var complete: Bool { missingCount == 0 && conflicts.isEmpty }

    /// What keeps the merge from holding every run once: the missing runs,
    /// then each contradicted one, as `touchdown merge` prints them.
    public var incompleteness: [String] {
        var out: [String] = []
        if missingCount > 0 {
            let shown = firstMissing.map { "#\($0)" }.joined(separator: ", ")
            out.append("MISSING \(missingCount) of \(total) runs (by position: \(shown)\(missingCount > firstMissing.count ? ", …" : "")): a shard is lost or unfinished")
        }
        return out + conflicts.map { "CONTRADICTED: \($0)" }
    }
}

public struct ResultsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

public enum Results {
    /// The complete lines of a results file, and a note when its last line
    /// is torn (a run killed while writing).
    /// `completeBytes` is the length of the file's complete lines: where a
    /// torn last line begins, or the whole file.
    public static func read(path: String) throws -> (lines: [ResultLine], note: String?, completeBytes: Int) {
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
            var line: ResultLine
            do {
                line = try decoder.decode(ResultLine.self, from: Data(raw))
                line.text = String(decoding: raw, as: UTF8.self)
            } catch {
                throw ResultsError("\(path):\(number): not a campaign results line (\(error))")
            }
            if let problem = line.inconsistency {
                throw ResultsError("\(path):\(number): run \(line.id): \(problem); the line was not written by `touchdown campaign` as it is")
            }
            lines.append(line)
        }
        return (lines, note, bytes.count)
    }

    /// Combines the results of shards: every run once, in run order, with
    /// what is missing, repeated or contradictory.
    public static func merge(paths: [String]) throws -> MergedResults {
        var all: [(line: ResultLine, file: String)] = []
        var notes: [String] = []
        for p in paths {
            let (lines, note, _) = try read(path: p)
            if let note { notes.append(note) }
            all += lines.map { ($0, p) }
        }
        guard let first = all.first?.line else { throw ResultsError("no results in \(paths.joined(separator: ", "))") }
        for (l, file) in all where l.fingerprint != first.fingerprint || l.total != first.total {
            throw ResultsError("\(file) holds results of campaign \(l.campaign) (fingerprint \(l.fingerprint), \(l.total) runs); \(all[0].file) of \(first.campaign) (fingerprint \(first.fingerprint), \(first.total) runs): merge one campaign at a time")
        }
        // Held by position; nothing is sized by `total`, which the files claim.
        var byIndex: [Int: ResultLine] = [:]
        var fileOf: [Int: String] = [:]
        var contradicted: [Int: Set<String>] = [:]
        var duplicates: [String] = []
        // A run has one position: a line moved to another fills no gap.
        var positionOf: [String: (index: Int, file: String)] = [:]
        for (l, file) in all {
            if let first = positionOf[l.id], first.index != l.run.index {
                throw ResultsError("run \(l.id) is at position \(first.index) in \(first.file) and at \(l.run.index) in \(file): a run has one position, so a line was moved or edited by hand")
            }
            positionOf[l.id] = (l.run.index, file)
            if let have = byIndex[l.run.index] {
                if have.text == l.text {
                    duplicates.append("\(l.id) (again in \(file))")
                } else {
                    contradicted[l.run.index, default: [fileOf[l.run.index]!]].insert(file)
                }
                continue
            }
            byIndex[l.run.index] = l
            fileOf[l.run.index] = file
        }
        // Named the same whatever the order the files were given in.
        let conflicts = contradicted.keys.sorted().map { i in
            "\(byIndex[i]!.id) (held differently by \(contradicted[i]!.sorted().joined(separator: " and ")))"
        }
        // A contradicted run counts as neither pass nor fail, whichever file came first.
        for i in contradicted.keys { byIndex[i] = nil }
        let missingCount = first.total - byIndex.count - contradicted.count
        var firstMissing: [Int] = []
        var position = 0
        while firstMissing.count < min(20, missingCount) && position < first.total {
            if byIndex[position] == nil && contradicted[position] == nil { firstMissing.append(position) }
            position += 1
        }
        return MergedResults(campaign: first.campaign, fingerprint: first.fingerprint, total: first.total,
                             lines: byIndex.keys.sorted().map { byIndex[$0]! }, missingCount: missingCount, firstMissing: firstMissing,
                             duplicates: duplicates, conflicts: conflicts, notes: notes)
    }
}
