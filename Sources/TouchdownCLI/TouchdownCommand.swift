import ArgumentParser
import TouchdownSim
import TouchdownTrace
#if canImport(Glibc)
import Glibc
#endif

/// The whole `touchdown` command line, callable from any executable: a
/// user's package names its own Swift guidances and gets the CLI with them
/// registered beside the built-in ones:
///
///     // Sources/my-touchdown/main.swift
///     import TouchdownCLI
///     TouchdownCommand.main(guidances: [MyGuidance.self])
///
/// `my-touchdown replay TRACE --guidance my-guidance`, `my-touchdown guidance
/// serve my-guidance` (for `--guidance-cmd`) and campaigns then name it.
public enum TouchdownCommand {
    /// Runs the command line with `CommandLine.arguments` and exits.
    /// Usage errors exit 2, like every other bad input.
    public static func main(guidances: [any RegistrableGuidance.Type] = []) -> Never {
        do {
            try GuidanceRegistry.register(guidances.map { $0.factory })
        } catch {
            fail("\(error)", code: 2)
        }
        do {
            var command = try Touchdown.parseAsRoot()
            try command.run()
            exit(0)
        } catch {
            let code = Touchdown.exitCode(for: error)
            // swift-argument-parser's usage errors (EX_USAGE, 64) are bad input here.
            if code == .validationFailure {
                FileHandleStderr.write(Touchdown.fullMessage(for: error) + "\n")
                exit(2)
            }
            Touchdown.exit(withError: error)
        }
    }
}

struct Touchdown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "touchdown",
        abstract: "Deterministic record/replay and fault-injection testing for lunar-lander GNC software.",
        version: touchdownVersion,
        subcommands: [DemoCommand.self, TraceCommand.self, Simulate.self, ReplayCommand.self, CampaignCommand.self, MergeCommand.self, ReportCommand.self, PlotCommand.self, ImportCommand.self, ExportCommand.self, FitCommand.self, RecordCommand.self, RigCommand.self, GuidanceCommand.self, CampaignWorkerCommand.self]
    )
}

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Inspect, validate, repair and generate MCAP traces.",
        subcommands: [Info.self, Cat.self, Dump.self, Check.self, Recover.self, Generate.self]
    )
}

/// Buffered standard output: millions of lines, or one line of any length,
/// go out in 64 KiB writes. A write that fails ends the process (exit 1).
func standardOutput() -> TextOutput {
    TextOutput { b in
        var done = 0
        while done < b.count {
            let n = write(1, b.baseAddress! + done, b.count - done)
            if n <= 0 { if errno == EINTR { continue }; exit(1) }
            done += n
        }
    }
}

/// Prints `error: …` to standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandleStderr.write("error: \(message)\n")
    exit(code)
}

enum FileHandleStderr {
    static func write(_ s: String) {
        var s = s
        s.withUTF8 { b in _ = Glibc.write(2, b.baseAddress, b.count) }
    }
}

/// Runs `body`, turning any error into a clear message and exit code 1
/// (2 for a trace past a read limit, see ``exitStatus(for:)``).
func reporting<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch { fail("\(error)", code: exitStatus(for: error)) }
}

/// The exit code for an error that stopped a command: 2 for a trace that
/// asks for more than a `ReadLimits` limit allows (bad input, however sound
/// the file), 1 for anything else.
func exitStatus(for error: any Error) -> Int32 {
    (error as? MCAPError)?.isReadLimit == true ? 2 : 1
}
