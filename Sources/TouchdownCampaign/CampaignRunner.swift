import CTouchdownIO
import Foundation
import Synchronization
import TouchdownReplay
import TouchdownTrace

/// How one run ended, as the results file records it.
public struct RunRecord: Sendable {
    public enum Verdict: String, Sendable, Codable { case pass, fail, error }
    public var run: CampaignRun
    public var verdict: Verdict
    /// The replay's result, when the run ran.
    public var result: ReplayResult?
    /// The same as `replay --json` wrote it (the worker's bytes).
    public var resultJSON: String?
    /// Why it could not run (bad input, a worker that died or hung).
    public var error: String?
    /// How long it took (for JUnit only: results lines hold nothing that
    /// depends on time).
    public var elapsed_s: Double?

    public init(run: CampaignRun, verdict: Verdict, result: ReplayResult? = nil, resultJSON: String? = nil,
                error: String? = nil, elapsed_s: Double? = nil) {
        self.run = run
        self.verdict = verdict
        self.result = result
        self.resultJSON = resultJSON
        self.error = error
        self.elapsed_s = elapsed_s
    }

    public var outcome: String? { result?.outcome }
    public var digest: String? { result?.digest }

    /// How many of `records` passed, per key, in the order the keys first
    /// appear (records whose key is nil are left out): the terminal
    /// summary's cells and the report's cases both count with it.
    public static func passCounts<Key: Hashable>(_ records: some Sequence<RunRecord>, by key: (RunRecord) -> Key?)
        -> [(key: Key, pass: Int, total: Int)] {
        var counts: [(key: Key, pass: Int, total: Int)] = []
        var index: [Key: Int] = [:]  // only to find a key's row; the order is the array's
        for r in records {
            guard let k = key(r) else { continue }
            let passed = r.verdict == .pass ? 1 : 0
            if let i = index[k] {
                counts[i].pass += passed
                counts[i].total += 1
            } else {
                index[k] = counts.count
                counts.append((k, passed, 1))
            }
        }
        return counts
    }

    /// What went wrong, one line each: the outcome if not expected, each
    /// failing assertion, the guidance's failure, or why the run could not run.
    public var problems: [String] {
        if let error { return [error] }
        guard let r = result else { return [] }
        var out: [String] = []
        if !r.outcomeExpected { out.append("outcome \(r.outcome), expected \(r.plan.expectation.text)") }
        if let f = r.failure { out.append("\(f.kind) at \(f.time_s) s: \(f.detail)") }
        out += r.assertions.filter { !$0.passed }.map { "FAIL \($0.detail)" }
        return out
    }

    /// The results line: the run's inputs, its verdict, and the replay's
    /// result. Nothing in it depends on time, worker, shard or order.
    public func line(campaign: Campaign, total: Int, rerun: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let runJSON = (try? encoder.encode(run)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        var fields = [
            "\"campaign\":\(jsonString(campaign.name))",
            "\"fingerprint\":\"\(campaign.fingerprint)\"",
            "\"id\":\"\(run.id)\"",
            "\"total\":\(total)",
            "\"run\":\(runJSON)",
            "\"verdict\":\"\(verdict.rawValue)\"",
            "\"rerun\":\(jsonString(rerun))",
        ]
        if let resultJSON { fields.append("\"result\":\(resultJSON)") }
        if let error { fields.append("\"error\":\(jsonString(error))") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// Runs a campaign's runs in worker processes, `jobs` at a time.
///
/// A worker runs many runs; one that dies (a guidance that traps or
/// segfaults in process) or overruns `runTimeout_s` costs its one run,
/// reported as an error with the signal or the limit, and is replaced.
/// Records are handed to `onRecord` in run order, whatever order they
/// finish in.
public final class CampaignRunner {
    public var jobs: Int
    public var runTimeout_s: Double
    /// The command that starts a worker (`touchdown campaign-worker`).
    public var workerCommand: [String]

    /// How many worker processes this runner started, and the most memory
    /// (resident, KiB) any of them reached: a worker's memory must stay flat
    /// however many runs it serves.
    public private(set) var workersStarted = 0
    public private(set) var peakWorkerRSS_kB = 0

    /// Asked between runs: when it says stop, no run is started, the runs in
    /// flight are abandoned (their workers killed, nothing recorded for
    /// them), and `run` returns with `interrupted` set.
    public var shouldStop: () -> Bool = { false }
    /// The most resident memory a worker may hold while running a run.
    public var runMemory_bytes: UInt64 = 4 << 30
    public private(set) var interrupted = false

    public init(jobs: Int, runTimeout_s: Double, workerCommand: [String]) {
        self.jobs = max(1, jobs)
        self.runTimeout_s = runTimeout_s
        self.workerCommand = workerCommand
    }

    public func run(_ runs: [CampaignRun], onRecord: (RunRecord) throws -> Void) throws {
        var workers: [Worker] = []
        func newWorker() throws -> Worker {
            workersStarted += 1
            return try Worker(command: workerCommand)
        }
        func retire(_ w: Worker) { peakWorkerRSS_kB = max(peakWorkerRSS_kB, w.finish()) }
        defer { for w in workers { retire(w) } }
        var next = 0
        var pending: [Int: RunRecord] = [:]   // finished, waiting for earlier runs
        var emitted = 0
        func finish(_ record: RunRecord, at position: Int) throws {
            pending[position] = record
            while let r = pending.removeValue(forKey: emitted) {
                try onRecord(r)
                emitted += 1
            }
        }
        let decoder = JSONDecoder()
        while emitted < runs.count {
            if shouldStop() {
                interrupted = true
                for w in workers { w.stop() }
                return
            }
            // Keep every worker busy.
            while next < runs.count {
                if let idle = workers.firstIndex(where: { $0.current == nil && !$0.closed }) {
                    try workers[idle].start(runs[next], position: next, timeout_s: runTimeout_s)
                    next += 1
                } else if workers.count < jobs {
                    workers.append(try newWorker())
                } else {
                    break
                }
            }
            // Wait for a line, an exit or a deadline.
            var fds = workers.map { pollfd(fd: $0.output, events: Int16(POLLIN), revents: 0) }
            let now = monotonicSeconds()
            let soonest = workers.compactMap { $0.deadline_s }.min() ?? now + 1
            let wait_ms = Int32(max(0, min(1000, (soonest - now) * 1000)).rounded(.up))
            _ = poll(&fds, nfds_t(fds.count), wait_ms)
            for (i, w) in workers.enumerated() {
                w.drainStderr()
                if fds[i].revents != 0 { w.readAvailable() }
                var replaced = false
                while let line = w.takeLine() {
                    guard let (run, position) = w.current else { continue }
                    let elapsed = w.started_s.map { monotonicSeconds() - $0 }
                    w.current = nil
                    w.deadline_s = nil
                    // A run can end between two looks at the worker's memory:
                    // its answer counts only if the worker's peak stayed within
                    // the limit, never otherwise (fail closed).
                    if let peak_kB = w.ownHighWater_kB(), UInt64(peak_kB) << 10 > runMemory_bytes {
                        retire(w)
                        try finish(RunRecord(run: run, verdict: .error,
                                             error: "its worker reached \(peak_kB >> 10) MiB, over the run memory limit of \(runMemory_bytes >> 20) MiB (limits.run_memory); the worker was killed"),
                                   at: position)
                        workers[i] = try newWorker()
                        replaced = true
                        break
                    }
                    try finish(Self.record(run, line: line, decoder: decoder, elapsed_s: elapsed), at: position)
                }
                if replaced { continue }
                if let (run, position) = w.current {
                    if w.closed {
                        let ended = w.reap()
                        retire(w)
                        try finish(RunRecord(run: run, verdict: .error, error: "the worker running it \(ended)\(w.stderrTailText)"), at: position)
                        workers[i] = try newWorker()
                    } else if let rss = w.residentBytes(), rss > runMemory_bytes {
                        retire(w)
                        try finish(RunRecord(run: run, verdict: .error,
                                             error: "its worker held \(rss >> 20) MiB, over the run memory limit of \(runMemory_bytes >> 20) MiB (limits.run_memory); the worker was killed"),
                                   at: position)
                        workers[i] = try newWorker()
                    } else if let d = w.deadline_s, monotonicSeconds() > d {
                        retire(w)
                        try finish(RunRecord(run: run, verdict: .error,
                                             error: "did not finish within the run timeout of \(Self.seconds(runTimeout_s)) (limits.run_timeout); the worker was killed"),
                                   at: position)
                        workers[i] = try newWorker()
                    }
                } else if w.closed {
                    retire(w)
                    workers[i] = try newWorker()
                }
            }
        }
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : "\(s) s" }

    private struct Answer: Decodable {
        var id: String
        var result: ReplayResult?
        var error: String?
    }

    static func record(_ run: CampaignRun, line: String, decoder: JSONDecoder, elapsed_s: Double?) -> RunRecord {
        let answer: Answer
        do { answer = try decoder.decode(Answer.self, from: Data(line.utf8)) } catch {
            return RunRecord(run: run, verdict: .error, error: "the worker answered something unreadable (\(error)): \(line.prefix(200))")
        }
        guard answer.id == run.id else {
            return RunRecord(run: run, verdict: .error, error: "the worker answered for run \(answer.id), not \(run.id)")
        }
        if let error = answer.error { return RunRecord(run: run, verdict: .error, error: error, elapsed_s: elapsed_s) }
        guard let r = answer.result, let start = line.range(of: ",\"result\":") else {
            return RunRecord(run: run, verdict: .error, error: "the worker's answer has no result")
        }
        let raw = String(line[start.upperBound..<line.index(before: line.endIndex)])
        return RunRecord(run: run, verdict: r.passed ? .pass : .fail, result: r, resultJSON: raw, elapsed_s: elapsed_s)
    }
}

/// One worker process and what it is running.
final class Worker {
    let pid: pid_t
    private(set) var input: Int32
    let output: Int32
    let errors: Int32
    var current: (run: CampaignRun, position: Int)?
    var deadline_s: Double?
    var started_s: Double?
    private(set) var closed = false
    private var buffer: [UInt8] = []
    private var stderrTail: [UInt8] = []
    private var reaped: String?
    /// Set in the worker's environment, so whatever it started (guidance
    /// processes) can be found and ended when it dies.
    let mark: String
    static let markVariable = "TOUCHDOWN_CAMPAIGN_WORKER"
    private static let count = Mutex<Int>(0)

    init(command: [String]) throws {
        let n = Worker.count.withLock { $0 += 1; return $0 }
        mark = "\(getpid()).\(n)"
        var i: [Int32] = [-1, -1], o: [Int32] = [-1, -1], e: [Int32] = [-1, -1]
        guard td_pipe_cloexec(&i) == 0, td_pipe_cloexec(&o) == 0, td_pipe_cloexec(&e) == 0 else {
            throw CampaignError(file: command.joined(separator: " "), line: 0, column: 0, message: "cannot create pipes for a worker")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, i[0], 0)
        posix_spawn_file_actions_adddup2(&actions, o[1], 1)
        posix_spawn_file_actions_adddup2(&actions, e[1], 2)
        // Nothing else: a descriptor we inherited would outlive us in the worker.
        _ = td_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        var argv = command.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let environment = GuidanceDescendants.environment(marking: Worker.markVariable, mark)
        defer { for p in environment { free(p) } }
        let rc = posix_spawn(&pid, command[0], &actions, &attributes, argv, environment)
        close(i[0]); close(o[1]); close(e[1])
        guard rc == 0 else {
            close(i[1]); close(o[0]); close(e[0])
            throw CampaignError(file: command[0], line: 0, column: 0, message: "cannot start a worker: \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        input = i[1]
        output = o[0]
        errors = e[0]
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        _ = fcntl(errors, F_SETFL, fcntl(errors, F_GETFL) | O_NONBLOCK)
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        if input >= 0 { close(input) }
        close(output); close(errors)
    }

    func start(_ run: CampaignRun, position: Int, timeout_s: Double) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array(try encoder.encode(WorkOrder(id: run.id, plan: run.plan)))
        bytes.append(UInt8(ascii: "\n"))
        current = (run, position)
        started_s = monotonicSeconds()
        deadline_s = started_s! + timeout_s
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { closed = true; return }   // the worker is gone: reported when reaped
            sent += n
        }
    }

    func readAvailable() {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n > 0 { buffer += chunk[..<n]; continue }
            if n == 0 { closed = true }
            return
        }
    }

    func takeLine() -> String? {
        guard let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: buffer[..<nl], as: UTF8.self)
        buffer.removeSubrange(...nl)
        return line
    }

    func drainStderr() {
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(errors, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            stderrTail += chunk[..<n]
            if stderrTail.count > 8192 { stderrTail.removeFirst(stderrTail.count - 8192) }
        }
    }

    var stderrTailText: String {
        drainStderr()
        let lines = String(decoding: stderrTail, as: UTF8.self).split(separator: "\n").suffix(5)
        return lines.isEmpty ? "" : "; its stderr ended: " + lines.joined(separator: " | ")
    }

    /// The resident memory of the worker now (Linux /proc/PID/statm), or nil.
    func residentBytes() -> UInt64? {
        guard reaped == nil, let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The most resident memory the process reached, in KiB, once reaped.
    private(set) var peakRSS_kB = 0

    /// Waits for the process and says how it ended.
    func reap() -> String {
        if let reaped { return reaped }
        var status: Int32 = 0
        var usage = rusage()
        kill(-pid, SIGKILL)
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        peakRSS_kB = Int(usage.ru_maxrss)
        let text: String
        if status & 0x7f == 0 {
            text = "exited with status \((status >> 8) & 0xff)"
        } else {
            let s = status & 0x7f
            text = "was killed by signal \(s) (\(String(cString: strsignal(s))))"
        }
        reaped = text
        // A worker killed mid-run cannot end the guidance processes it
        // started: they carry its mark.
        GuidanceDescendants.endAll(carrying: Worker.markVariable, mark)
        return text
    }

    func stop() {
        kill(-pid, SIGKILL)
        _ = reap()
    }

    /// The most resident memory the worker's own image has reached (Linux
    /// /proc/PID/status VmHWM), in KiB, or nil. Unlike `ru_maxrss`, which
    /// for a process started by posix_spawn (sharing the coordinator's
    /// memory until its exec) also counts the coordinator's resident memory
    /// at the spawn, so a large campaign made every worker look large.
    func ownHighWater_kB() -> Int? {
        guard reaped == nil, let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// Ends an idle worker the polite way (end of its input: it exits),
    /// any other by SIGKILL; returns its peak memory in KiB.
    func finish() -> Int {
        var own: Int?
        if reaped == nil && current == nil {
            // An idle worker runs nothing more: its peak so far is its peak.
            own = ownHighWater_kB()
            close(input)
            input = -1
            for _ in 0..<200 {
                var info = siginfo_t()
                if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_signo == SIGCHLD { break }
                usleep(1000)
            }
        }
        _ = reap()
        if let own { peakRSS_kB = own }
        return peakRSS_kB
    }
}
