import ArgumentParser
import Foundation
import TouchdownCampaign
import TouchdownReplay

/// `touchdown fit`: which candidate fault reproduces a recorded descent.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Find the fault that makes a scenario fly the descent a telemetry trace recorded.",
        discussion: """
            Flies the scenario in closed loop once without a fault and once with each \
            candidate, and compares each flight's navigation (/nav: altitude and vertical \
            speed) and altimeter (validity, range) with the telemetry's, on the \
            telemetry's own samples. Prints every candidate's differences, best first, \
            and names the best (docs/rig.md). \
            Exit 0 when every flight ran; 2 for bad input.
            """
    )
    @Argument(help: "The telemetry trace (for example from `touchdown import csv`); it needs /nav.") var telemetry: String
    @Option(help: "The mission's scenario file, without the fault being looked for.") var scenario: String
    @Option(name: .customLong("candidates"),
            help: ArgumentHelp("A fault, or a range of one: TOPIC.KIND=LOW..HIGH/STEP, e.g. altimeter.acquire-below=300m..3000m/100m; repeatable.",
                               valueName: "SPEC"))
    var candidates: [String] = []
    @Option(help: "Guidance name (see `touchdown guidance list`); default: the scenario's.") var guidance: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Guidance parameter, NAME=VALUE; repeatable.", valueName: "NAME=VALUE"))
    var settings: [String] = []
    @Flag(help: "Print the result as JSON lines: one per candidate, best first.") var json = false

    func run() throws {
        let result = badInput(json: json) { () throws -> Fit.Result in
            guard !candidates.isEmpty else { throw CommandLineError("--candidates: give at least one fault or range to try") }
            let list = try Fit.candidates(candidates)
            let pairs = try parseSettings(settings)
            let g: ReplayPlan.Guidance = guidance.map { .named(name: $0, settings: pairs) } ?? .recorded(settings: pairs)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("touchdown-fit-\(getpid())").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let interactive = isatty(2) != 0
            return try Fit.run(telemetry: telemetry, scenario: scenario, guidance: g, candidates: list, scratch: scratch) { done, total in
                if interactive { FileHandleStderr.write("\rflying candidate \(done) of \(total)" + (done == total ? "\n" : "")) }
            }
        }
        if json {
            for (rank, s) in result.scores.enumerated() {
                let fields: [String] = [
                    "\"rank\":\(rank + 1)", "\"candidate\":\(jsonText(s.candidate))", "\"outcome\":\(jsonText(s.outcome))",
                    "\"rms_altitude_m\":\(jsonNumber(s.rmsAltitude_m))", "\"rms_vertical_speed_mps\":\(jsonNumber(s.rmsVerticalSpeed_mps))",
                    "\"altimeter_validity_mismatch\":\(s.altimeterValidityMismatch.map(jsonNumber) ?? "null")",
                    "\"rms_range_m\":\(s.rmsRange_m.map(jsonNumber) ?? "null")",
                    "\"score\":\(jsonNumber(s.score))", "\"digest\":\"\(s.digest)\"",
                ]
                print("{" + fields.joined(separator: ",") + "}")
            }
            return
        }
        print("fit \(telemetry) with \(scenario): \(result.scores.count) flights (no fault, then each candidate), compared on \(result.telemetrySamples) /nav samples")
        if result.droppedNavSamples > 0 || result.droppedRanges > 0 {
            print("left out, not finite in the telemetry: \(result.droppedNavSamples) /nav samples, \(result.droppedRanges) valid altimeter ranges")
        }
        print("rank  candidate                                 outcome       rms altitude  rms v-speed  altimeter valid differs  rms range    score")
        for (rank, s) in result.scores.enumerated() {
            let line = String(rank + 1).padding(toLength: 6, withPad: " ", startingAt: 0)
                + s.candidate.padding(toLength: 42, withPad: " ", startingAt: 0)
                + s.outcome.padding(toLength: 14, withPad: " ", startingAt: 0)
                + (String(format: "%.3f m", s.rmsAltitude_m)).padding(toLength: 14, withPad: " ", startingAt: 0)
                + (String(format: "%.3f m/s", s.rmsVerticalSpeed_mps)).padding(toLength: 13, withPad: " ", startingAt: 0)
                + (s.altimeterValidityMismatch.map { String(format: "%.2f%%", $0 * 100) } ?? "not measured").padding(toLength: 25, withPad: " ", startingAt: 0)
                + (s.rmsRange_m.map { String(format: "%.3f m", $0) } ?? "not measured").padding(toLength: 13, withPad: " ", startingAt: 0)
                + String(format: "%.4f", s.score)
            print(line)
        }
        if let best = result.scores.first { print("best: \(best.candidate)") }
    }

    func jsonText(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Not finite (a flight with no navigation) is null: not measured.
    func jsonNumber(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }
}
