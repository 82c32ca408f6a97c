/// A guidance that could not be started: bad input (exit 2), never an
/// outcome. Each case names the guidance and the host's own reason.
public enum GuidanceStartError: Error, Equatable, CustomStringConvertible {
    /// The shell could not find or run the command (its status 127 or 126).
    case commandNotFound(guidance: String, status: Int32, stderrTail: [String])
    /// The process ended before it answered `start` with `ready`.
    case exitedBeforeHandshake(guidance: String, ended: String, exitStatus: Int32?, signal: Int32?, stderrTail: [String])
    /// It answered `start` with `error …`: settings or knowledge refused.
    case refused(guidance: String, reason: String)
    /// It answered `start` with something other than `ready` or `error`.
    case badHandshake(guidance: String, line: String)
    /// It did not answer `start` within the start budget.
    case noAnswer(guidance: String, budget_ms: Int32, stderrTail: [String])
    /// A `--guidance-lib` path that is not a readable file.
    case unreadableLibrary(path: String)
    /// `touchdown-guidance-host`, which loads C libraries, was not found.
    case hostNotFound(lookedIn: [String])
    /// The operating system refused to start the process.
    case cannotSpawn(guidance: String, reason: String)
    /// No registered guidance by that name.
    case unknownGuidance(name: String, available: [String])

    public var description: String {
        func tail(_ lines: [String]) -> String {
            lines.isEmpty ? "" : "; its stderr ended: " + lines.joined(separator: " | ")
        }
        switch self {
        case .commandNotFound(let g, let status, let stderr):
            return "guidance \(g) cannot be started: the shell exited with status \(status) (\(status == 127 ? "command not found" : "not executable"))\(tail(stderr))"
        case .exitedBeforeHandshake(let g, let ended, _, _, let stderr):
            return "guidance \(g) cannot be started: it \(ended) before answering start\(tail(stderr))"
        case .refused(let g, let reason):
            return "guidance \(g) refused to start: \(reason)"
        case .badHandshake(let g, let line):
            return "guidance \(g) cannot be started: it answered \"\(line.prefix(200))\" to start, expected ready or error"
        case .noAnswer(let g, let budget, let stderr):
            return "guidance \(g) cannot be started: no answer to start within \(budget) ms\(tail(stderr))"
        case .unreadableLibrary(let path):
            return "--guidance-lib \(path): no such readable file"
        case .hostNotFound(let looked):
            return "touchdown-guidance-host not found (looked in \(looked.joined(separator: ", "))); build it with `swift build --product touchdown-guidance-host` or set TOUCHDOWN_GUIDANCE_HOST"
        case .cannotSpawn(let g, let reason):
            return "guidance \(g) cannot be started: \(reason)"
        case .unknownGuidance(let name, let available):
            return "unknown guidance \"\(name)\"; available: \(available.joined(separator: ", "))"
        }
    }
}

import TouchdownSim

extension GuidanceRegistry {
    /// The factory of a registered guidance; an unknown name cannot start.
    static func resolve(_ name: String) throws -> any GuidanceFactory {
        do {
            return try factory(named: name)
        } catch {
            throw GuidanceStartError.unknownGuidance(name: name, available: all.map(\.name))
        }
    }
}
