import ArgumentParser
import TouchdownTrace
#if canImport(Glibc)
import Glibc
#endif

@main
struct Touchdown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "touchdown",
        abstract: "Deterministic record/replay and fault-injection testing for lunar-lander GNC software.",
        version: touchdownVersion,
        subcommands: [DemoCommand.self, TraceCommand.self, Simulate.self, ReplayCommand.self, GuidanceCommand.self]
    )
}

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Inspect, validate, repair and generate MCAP traces.",
        subcommands: [Info.self, Cat.self, Dump.self, Check.self, Recover.self, Generate.self]
    )
}

/// Buffered standard output: millions of lines go out in large writes.
final class Output {
    private var buffer: [UInt8] = []
    init() { buffer.reserveCapacity(1 << 16) }
    func line(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }
    func flush() {
        buffer.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = write(1, b.baseAddress! + done, b.count - done)
                if n <= 0 { if errno == EINTR { continue }; exit(1) }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
    deinit { flush() }
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

/// Runs `body`, turning any error into a clear message and exit code 1.
func reporting<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch { fail("\(error)") }
}
