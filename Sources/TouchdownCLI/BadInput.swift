#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

/// A command-line value that is not accepted: what was given, and what is.
struct CommandLineError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Runs `body`; any error is bad input: one line on stderr (and, with
/// `json`, one JSON object on stdout saying the same), exit 2.
func badInput<T>(json: Bool, _ body: () throws -> T) -> T {
    do { return try body() } catch {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let line = (try? encoder.encode(BadInputJSON(error: .init(kind: errorKind(error), message: "\(error)"))))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{\"verdict\":\"error\"}"
            print(line)
        }
        fail("\(error)", code: 2)
    }
}

/// The JSON `--json` prints for bad input.
private struct BadInputJSON: Encodable {
    struct Detail: Encodable { var kind: String; var message: String }
    var error: Detail
    var verdict = "error"
}

/// What kind of bad input an error is, for JSON readers.
func errorKind(_ error: any Error) -> String {
    switch error {
    case is GuidanceStartError: "guidance-cannot-start"
    case is PlanError, is CommandLineError, is FaultSpecError: "bad-plan"
    case is TraceInputError: "trace-not-usable"
    case is OutputIsInputError: "output-is-input"
    case is MCAPError, is CDRError: "damaged-trace"
    case is ScenarioError: "bad-scenario"
    default: "bad-input"
    }
}

/// A whole number 0…2⁶⁴−1, or a message saying so.
func parseWhole(_ text: String, option: String) throws -> UInt64 {
    guard let v = UInt64(text) else {
        throw CommandLineError("\(option) \(text): expected a whole number from 0 to \(UInt64.max)")
    }
    return v
}

/// `--set NAME=VALUE` options as settings, in order.
func parseSettings(_ settings: [String]) throws -> [ReplayPlan.Setting] {
    try settings.map { s in
        guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
            throw CommandLineError("--set \(s): expected NAME=VALUE")
        }
        return ReplayPlan.Setting(String(s[..<eq]), String(s[s.index(after: eq)...]))
    }
}

/// Prints a run's result, as text or one JSON line, and exits 1 unless it passed.
func report(_ result: ReplayResult, json: Bool) throws {
    if json {
        print(badInput(json: false) { try result.jsonLine() })
    } else {
        print(ReplayReport.text(result), terminator: "")
    }
    if !result.passed { throw ExitCode(1) }
}
