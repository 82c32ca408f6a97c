import ArgumentParser
import TouchdownTrace
#if canImport(Glibc)
import Glibc
#endif

extension TraceCommand {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Duration, topics, message counts, chunks, compression, metadata and attachments.")
        @Argument(help: "The trace (.mcap).") var file: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() {
            let info = reporting { try TraceInfo(path: file) }
            print(json ? info.json : info.text)
        }
    }

    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print decoded messages (log-time order when the trace has a summary).")
        @Argument(help: "The trace (.mcap).") var file: String
        @Option(name: .customLong("topic"), help: "Only this topic (repeatable).") var topics: [String] = []
        @Option(name: .customLong("start-ns"), help: "First log time, in ns (inclusive).") var start: UInt64?
        @Option(name: .customLong("end-ns"), help: "Last log time, in ns (inclusive).") var end: UInt64?
        @Flag(help: "One JSON object per line: topic, log_time_ns, sequence, message.") var json = false
        @Flag(help: "Decode every selected message (own types through their typed decoders); print only how many.") var count = false

        func validate() throws {
            if json && count { throw ValidationError("--json and --count exclude each other") }
            if let start, let end, start > end { throw ValidationError("--start-ns \(start) is after --end-ns \(end)") }
        }

        func run() {
            let reader = reporting { try TraceReader(path: file) }
            if let problem = reader.summaryProblem {
                FileHandleStderr.write("note: summary not usable (\(problem)); reading front to back in file order\n")
            }
            // Each message's text is written as it is made: a large one is
            // never held whole.
            let out = standardOutput()
            var n: UInt64 = 0
            do {
                try reader.forEachMessage(topics: topics.isEmpty ? nil : topics, start_ns: start, end_ns: end) { d, m in
                    if count {
                        try d.decode(m.data)
                    } else if json {
                        let prefix = "{\"topic\": \(jsonString(d.channel.topic)), \"log_time_ns\": \(m.logTime_ns), \"sequence\": \(m.sequence), \"message\": "
                        try d.writeJSON(m.data, to: out, prefix: prefix)
                        out.append("}\n")
                    } else {
                        try d.writeJSON(m.data, to: out, prefix: "\(formatSecondsRounded(m.logTime_ns)) \(d.channel.topic) #\(m.sequence) ")
                        out.append("\n")
                    }
                    n += 1
                }
            } catch {
                if count { out.append("\(n)\n") }
                out.flush()
                fail("\(error)\n(\(n) messages were read before this)", code: exitStatus(for: error))
            }
            if count { out.append("\(n)\n") }
            // A topic the trace does not have is a mistake, not an empty answer.
            let missing = topics.filter { !reader.channelTopics.contains($0) }
            if !missing.isEmpty {
                out.flush()
                fail("\(file) has no topic \(missing.joined(separator: ", ")); its topics: \(reader.channelTopics.joined(separator: ", "))", code: 2)
            }
        }
    }

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every record, in the MCAP conformance JSON form ({\"records\": [...]}).")
        @Argument(help: "The trace (.mcap).") var file: String

        func run() {
            let reader = reporting { try StreamReader(path: file) }
            let out = standardOutput()
            out.append("{\"records\": [\n")
            var first = true
            do {
                while let record = try reader.next() {
                    guard record.hasConformanceJSON else { continue }
                    out.append(first ? "  " : ", ")
                    record.writeConformanceJSON(to: out)
                    out.append("\n")
                    first = false
                }
            } catch {
                out.append("]}\n")
                out.flush()
                fail("\(error)", code: exitStatus(for: error))
            }
            out.append("]}\n")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate structure, indexes, statistics and CRCs; exit 0 when sound.")
        @Argument(help: "The trace (.mcap).") var file: String

        func run() {
            let report = reporting { try TraceCheck.run(path: file) }
            var line = "ok: \(file): \(report.messageCount) messages in \(report.chunkCount) chunks"
            if !report.notes.isEmpty { line += " (" + report.notes.joined(separator: "; ") + ")" }
            print(line)
        }
    }

    struct Recover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild a valid, indexed trace from a truncated or damaged one.",
            discussion: """
                Keeps what a CRC vouches for, drops what fails one, says what no CRC covers, and counts what was lost \
                from evidence (docs/traces.md, "Recovering a damaged trace"). Exit status: 0 when nothing was lost \
                and a CRC verified everything kept, 4 when nothing was lost but some records kept could not be \
                verified, 3 when something was lost, 1 when no message could be recovered, 2 for bad arguments.
                """)
        @Argument(help: "The damaged trace.") var input: String
        @Argument(help: "Where to write the rebuilt trace (never the input itself).") var output: String
        @Flag(name: .customLong("keep-unverified"),
              help: "Keep records that only a failing data section CRC covers (Metadata, definitions and messages outside chunks), reported as unverified, instead of dropping them.")
        var keepUnverified = false

        func run() {
            do { try OutputGuard.refuse(output: output, sameAsAnyOf: [input]) } catch { fail("\(error)", code: 2) }
            let report: RecoveryReport
            do { report = try TraceRecovery.recover(input: input, output: output, keepUnverified: keepUnverified) } catch {
                fail("nothing recovered from \(input): \(error)", code: 1)
            }
            for d in report.damage { FileHandleStderr.write("damage: \(d)\n") }
            for r in report.lostRecords { FileHandleStderr.write("lost: \(r)\n") }
            for u in report.unverified { FileHandleStderr.write("not verified: \(u)\n") }
            let lost: String
            if report.lostCountUnknown {
                lost = report.lostMessages > 0 ? "at least \(report.lostMessages) messages (the damage hides how many more)" : "an unknown number of messages (the damage hides how many)"
            } else {
                lost = "\(report.lostMessages) messages, counted from \(report.lostEvidence)"
            }
            var line = "kept \(report.keptMessages) messages (\(report.keptChannels) channels, \(report.keptSchemas) schemas"
            if report.keptMetadata > 0 { line += ", \(report.keptMetadata) metadata" }
            if report.keptAttachments > 0 { line += ", \(report.keptAttachments) attachments" }
            line += "); lost \(lost)"
            if !report.lostRecords.isEmpty { line += "; lost \(report.lostRecords.count) other records" }
            print(line + "; wrote \(output)")
            if report.keptMessages == 0 && (report.lostMessages > 0 || report.lostCountUnknown) { Glibc.exit(1) }
            if report.lostAnything { Glibc.exit(3) }
            if !report.unverified.isEmpty { Glibc.exit(4) }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a deterministic synthetic workload trace (same arguments, same bytes).")
        @Option(help: "Workload profile. Accepted: \(ReferenceDescent.profileName).") var profile: String
        @Option(name: .customLong("duration-s"), help: "Simulated seconds.") var duration: Double
        @Option(help: "Seed for the sensor noise.") var seed: UInt64 = 1
        @Option(help: "zstd level (1-19), or 0 for uncompressed chunks.") var level: Int32 = 3
        @Option(help: "Output trace path.") var out: String

        func validate() throws {
            guard profile == ReferenceDescent.profileName else { throw ValidationError(WorkloadError.unknownProfile(profile).description) }
            guard (0...19).contains(level) else { throw ValidationError("--level \(level) is not accepted: 0 (uncompressed) or 1 to 19") }
        }

        func run() {
            let workload = reporting { try ReferenceDescent(duration_s: duration, seed: seed) }
            var options = MCAPWriter.Options()
            options.compression = level == 0 ? .none : .zstd(level: level)
            reporting { try workload.record(to: try TraceRecorder(path: out, options: options)) }
            print("wrote \(out): \(workload.messageCount) messages, \(formatSecondsRounded(workload.duration_ns)) s of \(ReferenceDescent.profileName), seed \(seed)")
        }
    }
}
