// Release-build benchmarks for Touchdown. Figures, not pass/fail: the issue
// targets are printed beside each figure for the reader to compare.
//
//   swift run -c release touchdown-bench trace [--duration-s 3600] [--level 3] [--repeats 5] [--out PATH] [--busy CPU,…]
//   swift run -c release touchdown-bench memory [--durations-s 600,3600,36000] [--chunk-span-ms 1000]
//   swift run -c release touchdown-bench simulate [--scenario FILE] [--repeats 3]
//   swift run -c release touchdown-bench replay [--repeats 3] [--duration-s 3600] [--folder /tmp]
//   swift run -c release touchdown-bench plans [--trace traces/nominal.mcap] [--count 40]

#if canImport(Glibc)
import Glibc
#endif
import CTouchdownIO
import Synchronization
import CZstd
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
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

/// Best and median of a set of timings.
struct Timings {
    var samples_s: [Double] = []
    var best_s: Double { samples_s.min()! }
    var median_s: Double {
        let sorted = samples_s.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Threads that keep the given CPUs busy (a spin loop each, confined to
/// its CPU), as another build on the machine would, until `stop`.
final class BusyCPUs {
    private static let stopping = Atomic<Bool>(false)
    private var threads: [pthread_t] = []

    init(_ cpus: [Int]) {
        for cpu in cpus {
            var handle = pthread_t()
            let rc = pthread_create(&handle, nil, { context in
                let cpu = Int(bitPattern: context)
                precondition(confineThisThread(to: cpu), "cannot confine a busy thread to CPU \(cpu)")
                var spins: UInt64 = 0
                while !BusyCPUs.stopping.load(ordering: .relaxed) { spins &+= 1 }
                return UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: spins | 1))
            }, UnsafeMutableRawPointer(bitPattern: cpu))
            precondition(rc == 0, "could not start a busy thread (error \(rc))")
            threads.append(handle)
        }
    }

    func stop() {
        BusyCPUs.stopping.store(true, ordering: .relaxed)
        for thread in threads { pthread_join(thread, nil) }
        threads = []
        BusyCPUs.stopping.store(false, ordering: .relaxed)
    }
}

func traceBenchmark(duration_s: Double, level: Int32, path: String, repeats: Int, busy: [Int]) throws {
    let workload = try ReferenceDescent(duration_s: duration_s, seed: 1)
    print("reference-descent \(fmt(duration_s, 0)) s, zstd level \(level), file \(path), \(repeats) rounds")
    let busyThreads = BusyCPUs(busy)
    defer { busyThreads.stop() }
    if !busy.isEmpty {
        print("CPUs kept busy by a spinning thread each, all along: \(busy.map(String.init).joined(separator: ", "))")
    }
    var write = Timings(), writeOneThread = Timings(), read = Timings(), compress = Timings(), decompress = Timings()
    var writePinned = Timings(), writeOneThreadPinned = Timings()
    var pinnedCPU: Int?
    var writeCounts = MCAPWriter.CompressionCounts(), pinnedCounts = MCAPWriter.CompressionCounts()
    var written = 0
    var writeRSS = 0.0, readRSS = 0.0
    var fileSize = 0.0, uncompressed = 0.0, chunkCount = 0
    var checksum = 0.0

    // Each round writes the trace (the writer compressing on its second
    // thread, as it does by default), reads it back, has zstd alone compress
    // and decompress the same chunk bytes, and writes the trace again with
    // everything on the recording thread, so every figure has the same
    // share of the machine's noise.
    for round in 0..<repeats {
        // Each pair of writes compared (default and one-thread, unpinned and
        // on one CPU) runs in the other order every other round, so neither
        // writer is always the one that follows the other.
        let oneThreadFirst = round % 2 == 1
        // The default writer and, to `onePath`, the same trace with every
        // chunk compressed on the recording thread: the same bytes, and
        // what a single-core machine gets. Only the recorder's calls are
        // timed; generating the values is not.
        let onePath = path + ".one-thread"
        func writePair(to path: String) throws -> (twoThreads: (time_s: Double, count: Int, counts: MCAPWriter.CompressionCounts), oneThread_s: Double) {
            var oneThread_s = 0.0
            if oneThreadFirst { oneThread_s = try writeTrace(workload, path: onePath, level: level, background: false).time_s }
            let twoThreads = try writeTrace(workload, path: path, level: level, background: true)
            if !oneThreadFirst { oneThread_s = try writeTrace(workload, path: onePath, level: level, background: false).time_s }
            return (twoThreads, oneThread_s)
        }
        let (unpinned, oneTime_s) = try writePair(to: path)
        written = unpinned.count
        writeCounts.add(unpinned.counts)
        write.samples_s.append(unpinned.time_s)
        writeOneThread.samples_s.append(oneTime_s)
        if round == 0 { writeRSS = peakRSS_MB() }
        let same = try sameBytes(path, onePath)
        precondition(same, "compressing on the recording thread changed the file's bytes")

        let (readTime_s, count, sum) = try readAndDecode(path: path)
        read.samples_s.append(readTime_s)
        precondition(count == written, "read \(count) messages, wrote \(written)")
        if round == 0 {
            readRSS = peakRSS_MB()
            checksum = sum
            let reader = try IndexedReader(path: path)
            fileSize = Double(reader.source.size)
            try reader.forEachChunkIndex { uncompressed += Double($0.uncompressedSize) }
            chunkCount = reader.chunkIndexCount
            // The figures mean nothing if the file is not sound (checked after
            // the read, so the memory figure above is the reader's).
            let checked = try TraceCheck.run(path: path)
            precondition(checked.messageCount == UInt64(written), "check counted \(checked.messageCount) messages, wrote \(written)")
        } else {
            precondition(sum == checksum, "round \(round) read different values")
        }

        let (c, d) = try zstdAlone(path: path, level: level)
        compress.samples_s.append(c)
        decompress.samples_s.append(d)

        // Both again with the recording thread (and so the writer's
        // second thread) confined to one core.
        let pinnedPath = path + ".pinned"
        if let (pinned, cpu) = try onOneCPU({ try writePair(to: pinnedPath) }) {
            pinnedCPU = cpu
            pinnedCounts.add(pinned.twoThreads.counts)
            writePinned.samples_s.append(pinned.twoThreads.time_s)
            writeOneThreadPinned.samples_s.append(pinned.oneThread_s)
            let samePinned = try sameBytes(path, pinnedPath)
            precondition(samePinned, "the writer on one core changed the file's bytes")
        }
        unlink(onePath)
        unlink(pinnedPath)
    }

    print("messages: \(written)   file: \(fmt(fileSize / 1e6)) MB   records uncompressed: \(fmt(uncompressed / 1e6)) MB   ratio: \(fmt(uncompressed / fileSize))   chunks: \(chunkCount)")
    print("check: ok, \(written) messages in \(chunkCount) chunks")
    func rate(_ t: Timings, _ pick: (Timings) -> Double) -> String {
        "\(fmt(Double(written) / pick(t) / 1e6, 3)) M msg/s  \(fmt(uncompressed / pick(t) / 1e6, 1)) MB/s  \(fmt(pick(t), 3)) s"
    }
    print("                      best of \(repeats)                              median")
    print("write:                \(rate(write, \.best_s))   \(rate(write, \.median_s))   (target >= 3 M msg/s)")
    print("write, one thread:    \(rate(writeOneThread, \.best_s))   \(rate(writeOneThread, \.median_s))   (same bytes: checked)")
    if let pinnedCPU {
        print("write, on CPU \(pinnedCPU) only:  \(rate(writePinned, \.best_s))   \(rate(writePinned, \.median_s))   (same bytes: checked)")
        print("  one thread, CPU \(pinnedCPU):   \(rate(writeOneThreadPinned, \.best_s))   \(rate(writeOneThreadPinned, \.median_s))")
    } else {
        print("write, on one CPU:    not measured (the CPU set could not be read or set)")
    }
    print("  default writer, all rounds: \(writeCounts.text)")
    if pinnedCPU != nil { print("  on one CPU, all rounds:     \(pinnedCounts.text)") }
    print("read+decode:          \(rate(read, \.best_s))   \(rate(read, \.median_s))   (target >= 5 M msg/s)")
    print("zstd alone compress:  \(rate(compress, \.best_s))   \(rate(compress, \.median_s))")
    print("zstd alone decompress: \(rate(decompress, \.best_s))   \(rate(decompress, \.median_s))")
    print("writer time / zstd compress time: best \(fmt(write.best_s / compress.best_s)), median \(fmt(write.median_s / compress.median_s)), per round \(zip(write.samples_s, compress.samples_s).map { fmt($0 / $1) }.joined(separator: " "))   (target <= 1.30)")
    print("  one thread:                     best \(fmt(writeOneThread.best_s / compress.best_s)), median \(fmt(writeOneThread.median_s / compress.median_s))")
    print("writer time / one-thread writer time: best \(fmt(write.best_s / writeOneThread.best_s)), median \(fmt(write.median_s / writeOneThread.median_s)), per round \(zip(write.samples_s, writeOneThread.samples_s).map { fmt($0 / $1) }.joined(separator: " "))")
    if pinnedCPU != nil {
        print("on one CPU, writer time / one-thread writer time: best \(fmt(writePinned.best_s / writeOneThreadPinned.best_s)), median \(fmt(writePinned.median_s / writeOneThreadPinned.median_s)), per round \(zip(writePinned.samples_s, writeOneThreadPinned.samples_s).map { fmt($0 / $1) }.joined(separator: " "))   (target <= 1.10)")
    }
    print("peak memory (max RSS): after first write \(fmt(writeRSS, 1)) MB, after first read \(fmt(readRSS, 1)) MB, at end \(fmt(peakRSS_MB(), 1)) MB   (target < 64 MB)   (read checksum \(checksum))")
}

/// Records the workload into `path`; returns the time spent in the
/// recorder's calls (generating the values is not timed) and the count.
func writeTrace(_ workload: ReferenceDescent, path: String, level: Int32, background: Bool) throws -> (time_s: Double, count: Int, counts: MCAPWriter.CompressionCounts) {
    var options = MCAPWriter.Options()
    options.compression = .zstd(level: level)
    options.compressInBackground = background
    return try writeTrace(workload, path: path, options: options)
}

func writeTrace(_ workload: ReferenceDescent, path: String, options: MCAPWriter.Options) throws -> (time_s: Double, count: Int, counts: MCAPWriter.CompressionCounts) {
    unlink(path)  // a new file each time, as a recorder makes
    let recorder = try TraceRecorder(path: path, options: options)
    let topics = try ReferenceDescent.Topics(recorder: recorder)
    var time_s = 0.0
    var count = 0
    try workload.generate { items in
        let t0 = now_s()
        try topics.record(items)
        time_s += now_s() - t0
        count += items.count
    }
    let t0 = now_s()
    try recorder.finish()
    time_s += now_s() - t0
    return (time_s, count, recorder.writer.compressionCounts)
}

extension MCAPWriter.CompressionCounts {
    mutating func add(_ other: Self) {
        segmentsOnRecordingThread += other.segmentsOnRecordingThread
        segmentsOnHelper += other.segmentsOnHelper
        helperWakes += other.helperWakes
        chunksOnOneCPU += other.chunksOnOneCPU
        slowSegmentsOnHelper += other.slowSegmentsOnHelper
        chunksWithNoSpareCPU += other.chunksWithNoSpareCPU
    }

    /// Where the segments were compressed, over all rounds.
    var text: String {
        "segments on the compression thread \(segmentsOnHelper) of \(segmentsOnHelper + segmentsOnRecordingThread) (slow \(slowSegmentsOnHelper)), wakes \(helperWakes), chunks with one CPU \(chunksOnOneCPU), with no CPU to spare \(chunksWithNoSpareCPU)"
    }
}

/// Whether two files hold the same bytes (read a MiB at a time).
func sameBytes(_ a: String, _ b: String) throws -> Bool {
    guard let fa = fopen(a, "rb"), let fb = fopen(b, "rb") else { throw MCAPError.io(path: a, operation: "open", errno: errno) }
    defer { fclose(fa); fclose(fb) }
    var ba = [UInt8](repeating: 0, count: 1 << 20), bb = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let na = fread(&ba, 1, ba.count, fa), nb = fread(&bb, 1, bb.count, fb)
        if na != nb || ba[..<na] != bb[..<nb] { return false }
        if na == 0 { return true }
    }
}

/// Reads and decodes every message through the indexed reader's typed path;
/// returns the time, the count and a checksum of one field per message.
func readAndDecode(path: String) throws -> (time_s: Double, count: Int, checksum: Double) {
    let reader = try IndexedReader(path: path)
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
    return (now_s() - r0, read, checksum)
}

/// zstd alone on the trace's uncompressed chunk bytes, same level, chunk by
/// chunk with one reused context each way, as the writer and reader do.
/// Returns the compress and decompress times.
func zstdAlone(path: String, level: Int32) throws -> (compress_s: Double, decompress_s: Double) {
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
    return (compressTime_s, decompressTime_s)
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
    // Recorded as `simulate --out` and `replay --out` record (one thread),
    // and with the writer's defaults (a compression thread), alternately.
    var twoThreads = Simulation.traceOptions
    twoThreads.compressInBackground = MCAPWriter.Options().compressInBackground
    var plain = Timings()
    var recorded: [(label: String, options: MCAPWriter.Options, wall: Timings, cpuPerWall: [Double])] = [
        ("with recording (Simulation.traceOptions, one thread)", Simulation.traceOptions, Timings(), []),
        ("with recording (writer defaults, compression thread)", twoThreads, Timings(), []),
    ]
    var outcome: Outcome?
    for _ in 0..<repeats {
        let t0 = now_s()
        let o = try simulation.run()
        plain.samples_s.append(now_s() - t0)
        for i in recorded.indices {
            let c0 = processCPU_s(), t1 = now_s()
            let r = try simulation.run(recorder: TraceRecorder(path: path, options: recorded[i].options))
            let wall_s = now_s() - t1
            recorded[i].wall.samples_s.append(wall_s)
            recorded[i].cpuPerWall.append((processCPU_s() - c0) / wall_s)
            precondition(o == r, "recording changed the outcome")
        }
        outcome = o
    }
    let simulated = outcome!.time_s
    let reader = try IndexedReader(path: path)
    let messages = reader.statistics?.messageCount ?? 0
    print("scenario \(scenario.name): \(fmt(simulated, 1)) simulated s at a \(fmt(Double(scenario.step_ns) / 1e6, 1)) ms step, outcome \(outcome!.kind.rawValue), \(repeats) rounds")
    print("without recording: \(fmt(plain.best_s, 3)) s wall at best, \(fmt(simulated / plain.best_s, 0))x real time (target >= 10000x)")
    for row in recorded {
        let ratios = Timings(samples_s: row.cpuPerWall)
        print("\(row.label): \(fmt(row.wall.best_s, 3)) s wall at best, median \(fmt(row.wall.median_s, 3)), "
              + "\(fmt(simulated / row.wall.best_s, 0))x real time (target >= 1000x); "
              + "CPU / wall median \(fmt(ratios.median_s)), at most \(fmt(ratios.samples_s.max()!)) (target <= 1.2)")
    }
    let perRound = Timings(samples_s: zip(recorded[1].wall.samples_s, recorded[0].wall.samples_s).map { $0 / $1 })
    print("compression thread / one thread, wall per round: median \(fmt(perRound.median_s)); "
          + "\(messages) messages, \(fmt(Double(reader.source.size) / 1e6)) MB")
    print("peak memory (max RSS): \(fmt(peakRSS_MB(), 1)) MB")
}

/// This process's CPU time, user and system, all threads; with `children`,
/// that of its children that have been waited for too.
func processCPU_s(children: Bool = false) -> Double {
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    func time(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(Int32(who.rawValue), &usage)
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
    return time(RUSAGE_SELF) + (children ? time(RUSAGE_CHILDREN) : 0)
}

/// Peak memory against trace length: each trace is written and read in a
/// process of its own (peak RSS only grows within a process), and the rows
/// are printed side by side.
func memoryBenchmark(durations_s: [Double], chunkSpan_ms: Double, path: String) throws {
    print("reference-descent, chunks closed every \(fmt(chunkSpan_ms, 1)) ms of log time (or 1 MiB); one process per row; peak RSS in MB after each step")
    print("duration_s   messages      chunks     file_MB   summary_MB | write  read-all  topic  last-min  info   check")
    // popen runs a shell, so this program's own path is found first.
    var own = [UInt8](repeating: 0, count: 4096)
    let n = own.withUnsafeMutableBufferPointer { readlink("/proc/self/exe", $0.baseAddress!, $0.count) }
    guard n > 0 else { throw MCAPError.io(path: "/proc/self/exe", operation: "readlink", errno: errno) }
    let exe = String(decoding: own[..<n], as: UTF8.self)
    for d in durations_s {
        let command = "\(shellQuoted(exe)) memory-one --duration-s \(fmt(d, 0)) --chunk-span-ms \(fmt(chunkSpan_ms, 3)) --out \(shellQuoted(path))"
        guard let pipe = popen(command, "r") else { throw MCAPError.io(path: exe, operation: "run", errno: errno) }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&block, 1, block.count, pipe)
            if n == 0 { break }
            bytes += block[..<n]
        }
        let output = String(decoding: bytes, as: UTF8.self)
        let status = pclose(pipe)
        guard status == 0 else {
            print(output)
            throw MCAPError.invalidUse("the \(fmt(d, 0)) s row failed (status \(status))")
        }
        print(output, terminator: "")
        unlink(path)
    }
}

/// `s` as one word for `sh`: in single quotes, each `'` written as `'\''`.
func shellQuoted(_ s: String) -> String {
    "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}

/// One row of ``memoryBenchmark``: write, then each reading step, printing
/// the process's peak RSS after each.
func memoryRow(duration_s: Double, chunkSpan_ms: Double, path: String) throws {
    var options = MCAPWriter.Options()
    options.chunkSpan_ns = UInt64(chunkSpan_ms * 1e6)
    let (_, written, _) = try writeTrace(try ReferenceDescent(duration_s: duration_s, seed: 1), path: path, options: options)
    let afterWrite = peakRSS_MB()

    let reader = try IndexedReader(path: path)
    var all = 0
    try reader.messages { _ in all += 1 }
    precondition(all == written, "read \(all) of \(written) messages")
    let afterRead = peakRSS_MB()
    var altimeter = 0
    try reader.messages(topics: [TouchdownTopics.altimeter]) { _ in altimeter += 1 }
    precondition(altimeter > 0)
    let afterTopic = peakRSS_MB()
    let end_ns = reader.statistics!.messageEndTime_ns
    var lastMinute = 0
    try reader.messages(start_ns: end_ns - min(end_ns, 60_000_000_000)) { _ in lastMinute += 1 }
    precondition(lastMinute > 0)
    let afterRange = peakRSS_MB()
    let info = try TraceInfo(path: path)
    precondition(info.messageCount == UInt64(written))
    let afterInfo = peakRSS_MB()
    let check = try TraceCheck.run(path: path)
    precondition(check.messageCount == UInt64(written))
    let afterCheck = peakRSS_MB()
    let summary_MB = Double(reader.footer.summaryOffsetStart - reader.footer.summaryStart) / 1e6
    func col(_ v: Double, _ width: Int) -> String { fmt(v, 1).leftPadding(width) }
    func col(_ v: Int, _ width: Int) -> String { String(v).leftPadding(width) }
    print("\(col(Int(duration_s), 10)) \(col(written, 10)) \(col(reader.chunkIndexCount, 11)) \(col(Double(reader.source.size) / 1e6, 11)) \(col(summary_MB, 12)) |"
        + "\(col(afterWrite, 6)) \(col(afterRead, 9)) \(col(afterTopic, 6)) \(col(afterRange, 9)) \(col(afterInfo, 6)) \(col(afterCheck, 7))")
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
    let repeats = max(1, Int(option("--repeats") ?? "5") ?? 5)
    var busy: [Int] = []
    if let list = option("--busy") {
        let cpus = list.split(separator: ",").map { Int($0) }
        guard !cpus.isEmpty, cpus.allSatisfy({ $0 != nil && $0! >= 0 && $0! < 1024 }) else {
            print("error: --busy takes CPU numbers separated by commas, such as 1 or 0,1; got '\(list)'")
            exit(2)
        }
        busy = cpus.map { $0! }
    }
    do { try traceBenchmark(duration_s: duration, level: level, path: path, repeats: repeats, busy: busy) } catch {
        print("error: \(error)")
        exit(1)
    }
case "simulate":
    let scenario = option("--scenario") ?? "fixtures/scenarios/nominal.yaml"
    let repeats = max(1, Int(option("--repeats") ?? "3") ?? 3)
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
case "memory":
    let durations = (option("--durations-s") ?? "600,3600,36000").split(separator: ",").compactMap { Double($0) }
    let span = Double(option("--chunk-span-ms") ?? "1000") ?? 1000
    do { try memoryBenchmark(durations_s: durations, chunkSpan_ms: span, path: option("--out") ?? "/tmp/touchdown-bench-memory.mcap") } catch {
        print("error: \(error)")
        exit(1)
    }
case "memory-one":
    do {
        try memoryRow(duration_s: Double(option("--duration-s") ?? "600") ?? 600, chunkSpan_ms: Double(option("--chunk-span-ms") ?? "1000") ?? 1000,
                      path: option("--out") ?? "/tmp/touchdown-bench-memory.mcap")
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "plans":
    let touchdown = currentExecutablePath().map { String($0[..<$0.lastIndex(of: "/")!]) + "/touchdown" } ?? "touchdown"
    do {
        try plansBenchmark(trace: option("--trace") ?? "traces/nominal.mcap", count: Int(option("--count") ?? "40") ?? 40,
                           touchdown: touchdown)
    } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    print("usage: touchdown-bench trace [--duration-s N] [--level L] [--repeats N] [--out PATH]")
    print("       touchdown-bench memory [--durations-s 600,3600,36000] [--chunk-span-ms 1000] [--out PATH]")
    print("       touchdown-bench simulate [--scenario FILE] [--repeats N] [--out PATH]")
    print("       touchdown-bench replay [--repeats N] [--duration-s N] [--folder DIR]")
    print("       touchdown-bench plans [--trace TRACE] [--count N]")
    exit(2)
}
