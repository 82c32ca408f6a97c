import Foundation
import Synchronization
import TouchdownTrace

/// Paths the tests share: the repository, its fixtures, and the MCAP
/// conformance corpus in `../shared` beside the checkout.
public enum TestPaths {
    /// The repository root, found from this file's location.
    public static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Support.swift, TouchdownTestSupport, Sources
        return url
    }()

    public static var fixtures: URL { repository.appendingPathComponent("fixtures") }
    public static var traces: URL { repository.appendingPathComponent("traces") }

    /// `../shared/mcap-conformance`, or the folder named by TOUCHDOWN_CONFORMANCE_DIR.
    public static var conformance: URL {
        if let dir = ProcessInfo.processInfo.environment["TOUCHDOWN_CONFORMANCE_DIR"] { return URL(fileURLWithPath: dir) }
        return repository.deletingLastPathComponent().appendingPathComponent("shared/mcap-conformance")
    }

    /// A fresh, empty scratch directory for one test.
    public static func scratch(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("touchdown-tests-\(getpid())")
            .appendingPathComponent(safe + "-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The conformance corpus: every `.mcap` with its `.json` of expected records.
public enum ConformanceCorpus {
    /// Paths relative to the corpus folder, sorted, e.g. `OneMessage/OneMessage-ch.mcap`.
    public static let files: [String] = {
        let root = TestPaths.conformance
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".mcap") }.sorted()
    }()
}

/// Re-serialises JSON with sorted keys so two documents compare by value.
public func canonicalJSON(_ text: String) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}

/// Writes a small reference-descent trace and returns its path.
public func makeReferenceTrace(in dir: URL, name: String = "reference.mcap", duration_s: Double = 3, seed: UInt64 = 1,
                               options: MCAPWriter.Options = MCAPWriter.Options()) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try ReferenceDescent(duration_s: duration_s, seed: seed).record(to: try TraceRecorder(path: path, options: options))
    return path
}

/// The result of running a program.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`, capturing its output.
public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    // Standard output is read to its end, standard error goes to a file, so
    // a large output on either cannot block the child.
    let out = Pipe()
    process.standardOutput = out
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("touchdown-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errFile) }
    let errHandle = try FileHandle(forWritingTo: errFile)
    process.standardError = errHandle
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try errHandle.close()
    let errData = (try? Data(contentsOf: errFile)) ?? Data()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// The built `touchdown` executable (debug build, as `swift test` makes it).
public var touchdownExecutable: String {
    let candidates = [".build/debug/touchdown", ".build/x86_64-unknown-linux-gnu/debug/touchdown", ".build/aarch64-unknown-linux-gnu/debug/touchdown"]
    for c in candidates {
        let path = TestPaths.repository.appendingPathComponent(c).path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return TestPaths.repository.appendingPathComponent(candidates[0]).path
}

/// The Python with the reference MCAP tools (scripts/python-env prints it; scripts/test exports it).
public var referencePython: String? { ProcessInfo.processInfo.environment["TOUCHDOWN_PYTHON"] }

/// A trace's messages on `topics`, decoded by the caller, with each
/// message's stamp moved onto t (from the start of descent): its clock
/// starts at the trace's `touchdown.time` epoch (docs/traces.md).
public func messagesSinceDescent(_ path: String, topics: [String],
                                 _ body: (_ topic: String, _ data: UnsafeRawBufferPointer, _ epoch_ns: UInt64) throws -> Void) throws {
    let reader = try IndexedReader(path: path)
    let epoch = try TraceClock.epoch_ns(reader) ?? 0
    try reader.messages(topics: topics) { m in try body(reader.channel(m.channelID)?.topic ?? "", m.data, epoch) }
}

/// A message of Touchdown's own type with its stamp on t.
public func sinceDescent<M: TraceMessage>(_ type: M.Type, _ data: UnsafeRawBufferPointer, _ epoch_ns: UInt64) throws -> M {
    var m = try M(cdr: data)
    m.stamp_ns -= epoch_ns
    return m
}

/// Scenarios whose recordings are not kept in `traces/` (over 5 MiB): the
/// tests fly them once per process with `touchdown simulate`, and
/// `traces/NAME.mcap.sha256` keeps their bytes' SHA-256, which
/// DeterminismTests checks.
public let generatedTraces: Set<String> = ["m1-crater-rim"]

private let generated = Mutex<[String: String]>([:])

/// The recording of scenario `name`: `traces/NAME.mcap`, or for a generated
/// trace its copy flown for this test process. If flying it fails, the
/// reason goes to stderr and the path returned does not exist, so every
/// test that reads it fails.
public func tracePath(_ name: String) -> String {
    guard generatedTraces.contains(name) else { return TestPaths.traces.appendingPathComponent("\(name).mcap").path }
    do { return try generatedTrace(name) } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        return "/nonexistent/generation-failed/\(name).mcap"
    }
}

func generatedTrace(_ name: String) throws -> String {
    try generated.withLock { cache in
        if let path = cache[name] { return path }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("touchdown-tests-\(getpid())/generated-traces")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("\(name).mcap").path
        let scenario = TestPaths.fixtures.appendingPathComponent("scenarios/\(name).yaml").path
        let r = try run(touchdownExecutable, ["simulate", "--scenario", scenario, "--out", path])
        guard r.status == 0 else { throw GeneratedTraceError(description: "touchdown simulate \(scenario) failed (\(r.status)): \(r.stderr)") }
        cache[name] = path
        return path
    }
}

public struct GeneratedTraceError: Error, CustomStringConvertible {
    public let description: String
}
