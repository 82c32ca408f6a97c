// Release-build benchmarks for Touchdown. Figures, not pass/fail: the issue
// targets are printed beside each figure for the reader to compare.
//
//   swift run -c release touchdown-bench trace [--duration-s 3600] [--level 3] [--out PATH]
//   swift run -c release touchdown-bench simulate [--scenario FILE] [--repeats 3]
//   swift run -c release touchdown-bench replay [--repeats 3] [--duration-s 3600] [--folder /tmp]

#if canImport(Glibc)
import Glibc
#endif
import CZstd
import TouchdownSim
import TouchdownTrace

func now_s() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func peakRSS_MB() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // ru_maxrss is KiB on Linux
}

/// Two places unless told otherwise.
func fmt(_ v: Double, _ digits: Int = 2) -> String { formatFixed(v, digits) }

func traceBenchmark(duration_s: Double, level: Int32, path: String) throws {
    let workload = try ReferenceDescent(duration_s: duration_s, seed: 1)
    print("reference-descent \(fmt(duration_s, 0)) s, zstd level \(level), file \(path)")

    // Write: only the recorder's calls are timed; generating the values is not.
    var options = MCAPWriter.Options()
    options.compression = .zstd(level: level)
    let recorder = try TraceRecorder(path: path, options: options)
    let topics = try ReferenceDescent.Topics(recorder: recorder)
    var writeTime_s = 0.0
    var written = 0
    try workload.generate { items in
        let t0 = now_s()
        try topics.record(items)
        writeTime_s += now_s() - t0
        written += items.count
    }
    let t0 = now_s()
    try recorder.finish()
    writeTime_s += now_s() - t0
    let writeRSS = peakRSS_MB()

    let reader = try IndexedReader(path: path)
    let fileSize = Double(reader.source.size)
    let uncompressed = Double(reader.chunkIndexes.reduce(0) { $0 + $1.uncompressedSize })
    print("messages: \(written)   file: \(fmt(fileSize / 1e6)) MB   records uncompressed: \(fmt(uncompressed / 1e6)) MB   ratio: \(fmt(uncompressed / fileSize))   chunks: \(reader.chunkIndexes.count)")
    print("write: \(fmt(Double(written) / writeTime_s / 1e6, 3)) M msg/s   \(fmt(uncompressed / writeTime_s / 1e6, 1)) MB/s uncompressed   \(fmt(writeTime_s, 3)) s   (target >= 3 M msg/s)")

    // Read and decode every message through the indexed reader's typed path.
    enum Kind { case imu, altimeter, velocimeter, attitude, command, truth, other }
    var kinds = [Kind](repeating: .other, count: 65536)
    for c in reader.channels {
        let name = reader.schema(c.schemaID)?.name ?? ""
        kinds[Int(c.id)] = switch name {
        case ImuSample.schemaName: .imu
        case AltimeterSample.schemaName: .altimeter
        case VelocimeterSample.schemaName: .velocimeter
        case AttitudeSample.schemaName: .attitude
        case CommandSample.schemaName: .command
        case TruthSample.schemaName: .truth
        default: .other
        }
    }
    var read = 0
    var checksum = 0.0
    let r0 = now_s()
    try reader.messages { m in
        switch kinds[Int(m.channelID)] {
        case .imu: checksum += try ImuSample(cdr: m.data).accelX_mps2
        case .altimeter: checksum += try AltimeterSample(cdr: m.data).range_m
        case .velocimeter: checksum += try VelocimeterSample(cdr: m.data).verticalVelocity_mps
        case .attitude: checksum += try AttitudeSample(cdr: m.data).pitch_rad
        case .command: checksum += try CommandSample(cdr: m.data).mainThrottle_fraction
        case .truth: checksum += try TruthSample(cdr: m.data).altitudeAGL_m
        case .other: break
        }
        read += 1
    }
    let readTime_s = now_s() - r0
    let readRSS = peakRSS_MB()
    print("read+decode: \(fmt(Double(read) / readTime_s / 1e6, 3)) M msg/s   \(fmt(uncompressed / readTime_s / 1e6, 1)) MB/s uncompressed   \(fmt(fileSize / readTime_s / 1e6, 1)) MB/s file   \(fmt(readTime_s, 3)) s   (target >= 5 M msg/s; checksum \(checksum))")
    precondition(read == written, "read \(read) messages, wrote \(written)")
    // The figures mean nothing if the file is not sound (checked after the
    // read, so the memory figure above is the reader's).
    let checked = try TraceCheck.run(path: path)
    precondition(checked.messageCount == UInt64(written), "check counted \(checked.messageCount) messages, wrote \(written)")
    print("check: ok, \(checked.messageCount) messages in \(checked.chunkCount) chunks; peak memory after check \(fmt(peakRSS_MB(), 1)) MB")

    // zstd alone on the same uncompressed chunk bytes, same level, chunk by chunk.
    let cctx = ZSTD_createCCtx()!
    let dctx = ZSTD_createDCtx()!
    defer { ZSTD_freeCCtx(cctx); ZSTD_freeDCtx(dctx) }
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
    var compressTime_s = 0.0
    var decompressTime_s = 0.0
    var raw = [UInt8]()
    var packed = [UInt8]()
    let stream = try StreamReader(path: path)
    var chunkRecords = ByteWriterForBench()
    while let record = try stream.next() {
        switch record {
        case .chunk:
            if !chunkRecords.bytes.isEmpty { try measure() }
            chunkRecords.bytes.removeAll(keepingCapacity: true)
        case .message(let m):
            chunkRecords.appendMessage(m)
        default: break
        }
    }
    if !chunkRecords.bytes.isEmpty { try measure() }
    func measure() throws {
        raw = chunkRecords.bytes
        if packed.count < ZSTD_compressBound(raw.count) { packed = [UInt8](repeating: 0, count: ZSTD_compressBound(raw.count)) }
        let c0 = now_s()
        let n = raw.withUnsafeBytes { src in packed.withUnsafeMutableBytes { dst in ZSTD_compress2(cctx, dst.baseAddress, dst.count, src.baseAddress, src.count) } }
        compressTime_s += now_s() - c0
        precondition(ZSTD_isError(n) == 0)
        var out = [UInt8](repeating: 0, count: raw.count)
        let d0 = now_s()
        let m = packed.withUnsafeBytes { src in out.withUnsafeMutableBytes { dst in ZSTD_decompressDCtx(dctx, dst.baseAddress, dst.count, src.baseAddress, n) } }
        decompressTime_s += now_s() - d0
        precondition(m == raw.count && out == raw)
    }
    print("zstd alone, same bytes: compress \(fmt(compressTime_s, 3)) s (\(fmt(uncompressed / compressTime_s / 1e6, 1)) MB/s), decompress \(fmt(decompressTime_s, 3)) s (\(fmt(uncompressed / decompressTime_s / 1e6, 1)) MB/s)")
    print("writer time / zstd compress time: \(fmt(writeTime_s / compressTime_s)) (target <= 1.30)")
    print("peak memory (max RSS): after write \(fmt(writeRSS, 1)) MB, after read \(fmt(readRSS, 1)) MB (target < 64 MB)")
}

/// Rebuilds a chunk's uncompressed records from its messages, as the writer laid them out.
struct ByteWriterForBench {
    var bytes: [UInt8] = []
    mutating func appendMessage(_ m: Message) {
        bytes.append(0x05)
        append(UInt64(2 + 4 + 8 + 8 + m.data.count))
        append(m.channelID)
        append(m.sequence)
        append(m.logTime_ns)
        append(m.publishTime_ns)
        bytes.append(contentsOf: m.data)
    }
    mutating func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
}

/// A full descent of a scenario, with and without recording, side by side:
/// simulated seconds per wall second. Each is the best of `repeats` runs.
func simulateBenchmark(scenarioPath: String, repeats: Int, path: String) throws {
    let scenario = try Scenario.load(path: scenarioPath)
    let simulation = Simulation(scenario: scenario)
    var bestPlain = Double.infinity, bestRecorded = Double.infinity
    var outcome: Outcome?
    for _ in 0..<repeats {
        let t0 = now_s()
        let o = try simulation.run()
        bestPlain = min(bestPlain, now_s() - t0)
        let t1 = now_s()
        let recorded = try simulation.run(recorder: TraceRecorder(path: path, options: Simulation.traceOptions))
        bestRecorded = min(bestRecorded, now_s() - t1)
        precondition(o == recorded, "recording changed the outcome")
        outcome = o
    }
    let simulated = outcome!.time_s
    let reader = try IndexedReader(path: path)
    let messages = reader.statistics?.messageCount ?? 0
    print("scenario \(scenario.name): \(fmt(simulated, 1)) simulated s at a \(fmt(Double(scenario.step_ns) / 1e6, 1)) ms step, outcome \(outcome!.kind.rawValue)")
    print("without recording: \(fmt(bestPlain, 3)) s wall, \(fmt(simulated / bestPlain, 0))x real time (target >= 10000x)")
    print("with recording:    \(fmt(bestRecorded, 3)) s wall, \(fmt(simulated / bestRecorded, 0))x real time (target >= 1000x); \(messages) messages, \(fmt(Double(reader.source.size) / 1e6)) MB")
    print("peak memory (max RSS): \(fmt(peakRSS_MB(), 1)) MB")
}

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
switch args.first {
case "trace":
    let duration = Double(option("--duration-s") ?? "3600") ?? 3600
    let level = Int32(option("--level") ?? "3") ?? 3
    let path = option("--out") ?? "/tmp/touchdown-bench-reference-descent.mcap"
    do { try traceBenchmark(duration_s: duration, level: level, path: path) } catch {
        print("error: \(error)")
        exit(1)
    }
case "simulate":
    let scenario = option("--scenario") ?? "fixtures/scenarios/nominal.yaml"
    let repeats = Int(option("--repeats") ?? "3") ?? 3
    let path = option("--out") ?? "/tmp/touchdown-bench-simulate.mcap"
    do { try simulateBenchmark(scenarioPath: scenario, repeats: repeats, path: path) } catch {
        print("error: \(error)")
        exit(1)
    }
case "replay":
    let repeats = Int(option("--repeats") ?? "3") ?? 3
    let duration = Double(option("--duration-s") ?? "3600") ?? 3600
    do { try replayBenchmark(repeats: repeats, duration_s: duration, folder: option("--folder") ?? "/tmp") } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    print("usage: touchdown-bench trace [--duration-s N] [--level L] [--out PATH]")
    print("       touchdown-bench simulate [--scenario FILE] [--repeats N] [--out PATH]")
    print("       touchdown-bench replay [--repeats N] [--duration-s N] [--folder DIR]")
    exit(2)
}
