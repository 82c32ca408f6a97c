#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTouchdownIO
import TouchdownGuidanceServer
import TouchdownSim
import TouchdownTrace

/// Guidance in another process, stepped in lockstep over the line protocol
/// of docs/guidance-protocol.md: a command (`--guidance-cmd`, any language),
/// or a C shared library (`--guidance-lib`) loaded by the
/// `touchdown-guidance-host` program, so that a library that crashes or hangs
/// takes down only its own process.
///
/// Sensor lines are buffered and written with the `step` line; the answer is
/// awaited for at most the step budget. A process that exits, closes its
/// output or answers nonsense sets `failure`; so does one that does not
/// answer in time, which is then killed.
public final class ExternalGuidance: Guidance {
    public enum Program: Sendable {
        /// A shell command line, run with `/bin/sh -c`.
        case command(String)
        /// A shared library implementing include/touchdown_guidance.h.
        case library(path: String)
    }

    public private(set) var failure: GuidanceFailure?
    public let label: String
    private var pid: pid_t = 0
    /// Carried in the environment of everything the guidance starts, to end
    /// it all when the guidance ends (``GuidanceDescendants``).
    private let descendantsMark = GuidanceDescendants.newMark()
    private var toChild: Int32 = -1
    private var fromChild: Int32 = -1
    /// The read end of the process's standard error, drained whenever the
    /// tool waits, into `stderrTail_bytes`.
    private var errFromChild: Int32 = -1
    private var stderrTail_bytes: [UInt8] = []
    /// How the process ended, once it has been reaped.
    private var ended: (text: String, exitStatus: Int32?, signal: Int32?)?
    private var outgoing: [UInt8] = []
    private var incoming: [UInt8] = []
    private var incomingHead = 0
    private var readBuffer = [UInt8](repeating: 0, count: 65536)
    private let stepBudget_ms: Int32
    private var lastTime_ns: UInt64 = 0
    private var lastOutput: GuidanceOutput
    /// Longest line accepted from the guidance.
    static var lineLimit: Int { GuidanceConfig.lineLimit }
    /// The most events, and bytes of event lines, one step may send: what a
    /// guidance can make the tool hold per step.
    static let eventsPerStepLimit = 10_000
    static let eventBytesPerStepLimit = 1 << 20
    /// The most of its standard error kept (the end of it).
    static let stderrKeep_bytes = 8192

    /// Starts the process, sends the mission knowledge and settings, and
    /// waits for its `ready`.
    /// - Throws: `GuidanceStartError` when the program cannot be started,
    ///   exits or answers anything but `ready` (bad input); a process that
    ///   starts and then fails sets `failure`.
    public init(program: Program, knowledge: MissionKnowledge, settings: [(name: String, value: String)],
                stepBudget_s: Double = 1, startBudget_s: Double = 10) throws {
        stepBudget_ms = Int32(max(1, min(3_600_000, (stepBudget_s * 1000).rounded())))
        let argv: [String]
        switch program {
        case .command(let line):
            argv = ["/bin/sh", "-c", line]
            label = "cmd:" + line
        case .library(let path):
            guard access(path, R_OK) == 0 else { throw GuidanceStartError.unreadableLibrary(path: path) }
            argv = [try Self.hostPath(), path]
            label = "lib:" + path
        }
        let n = knowledge.initialNavigation
        lastOutput = GuidanceOutput(
            command: CommandSample(stamp_ns: 0, mainThrottle_fraction: 0, thrusterThrottle_fraction: 0, pitchCommand_rad: n.pitch_rad),
            navigation: n)
        try spawn(argv)

        let config = GuidanceConfig.fields.map { f in
            (f.key, f.path.map { knowledge[keyPath: $0] } ?? Double(knowledge.vehicle.thrusterCount))
        }
        append("touchdown-guidance 1\n")
        append("config " + config.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + "\n")
        for s in settings {
            guard !s.name.contains("\n"), !s.value.contains("\n") else {
                throw PlanError.badSetting(name: s.name, value: s.value)
            }
            append("param \(s.name)=\(s.value)\n")
        }
        append("start\n")
        let budget = Int32(max(1, min(3_600_000, (startBudget_s * 1000).rounded())))
        if send(budget: budget, at: 0), let line = readLine(budget: budget, at: 0) {
            if line == "ready" { return }
            failure = nil  // not a run failure: the start failed
            if line.hasPrefix("error ") { throw GuidanceStartError.refused(guidance: label, reason: String(line.dropFirst(6))) }
            throw GuidanceStartError.badHandshake(guidance: label, line: line)
        }
        // send and readLine set `failure` whenever they give up.
        guard let f = failure else {
            throw GuidanceStartError.cannotSpawn(guidance: label, reason: "the handshake ended without an answer or a reason")
        }
        failure = nil
        if f.kind == .timeout {
            throw GuidanceStartError.noAnswer(guidance: label, budget_ms: budget, stderrTail: f.stderrTail)
        }
        if let status = f.exitStatus, case .command = program, status == 127 || status == 126 {
            throw GuidanceStartError.commandNotFound(guidance: label, status: status, stderrTail: f.stderrTail)
        }
        throw GuidanceStartError.exitedBeforeHandshake(guidance: label, ended: ended?.text ?? f.detail,
                                                       exitStatus: f.exitStatus, signal: f.signal, stderrTail: f.stderrTail)
    }

    deinit {
        defer {
            if toChild >= 0 { close(toChild) }
            if fromChild >= 0 { close(fromChild) }
            if errFromChild >= 0 { close(errFromChild) }
            // What left the process group (setsid) is found by its mark.
            GuidanceDescendants.endAll(marked: descendantsMark)
        }
        if pid > 0 && failure == nil && ended == nil {
            append("end\n")
            _ = send(budget: 200, at: lastTime_ns)
        }
        // The process may already have been reaped (pid 0 then), before or
        // while `end` was sent: waiting for or killing pid 0 would mean our
        // own process group, the caller included.
        guard pid > 0 else { return }
        close(toChild)
        toChild = -1
        // Give it a moment to exit on its own (ending whatever it left
        // running in its process group), then make sure.
        for _ in 0..<50 {
            if reapIfExited() != nil { return }
            usleep(2000)
        }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// If the process has exited: ends what is left of its process group
    /// (children it started and left running), reaps it and returns its
    /// wait status. The group is signalled while the exited leader is not
    /// yet reaped, so its id cannot have been given to another process.
    private func reapIfExited() -> Int32? {
        guard pid > 0 else { return nil }
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info.si_signo == SIGCHLD else { return nil }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        guard waitpid(pid, &status, 0) == pid else { return nil }
        pid = 0
        return status
    }

    /// Where `touchdown-guidance-host` is: `TOUCHDOWN_GUIDANCE_HOST`, or
    /// beside the running executable (the build folder).
    static func hostPath() throws -> String {
        if let env = getenv("TOUCHDOWN_GUIDANCE_HOST") { return String(cString: env) }
        var candidates: [String] = []
        if let exe = currentExecutablePath(), let slash = exe.lastIndex(of: "/") {
            candidates.append(exe[..<slash] + "/touchdown-guidance-host")
        }
        for c in candidates where access(c, X_OK) == 0 { return c }
        throw GuidanceStartError.hostNotFound(lookedIn: candidates)
    }

    private func spawn(_ argv: [String]) throws {
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        // Close-on-exec from the start: a process another thread starts
        // meanwhile must not inherit them (it would hold the pipes open).
        guard td_pipe_cloexec(&input) == 0, td_pipe_cloexec(&output) == 0, td_pipe_cloexec(&errors) == 0 else {
            let reason = String(cString: strerror(errno))
            for fd in input + output + errors where fd >= 0 { close(fd) }
            throw GuidanceStartError.cannotSpawn(guidance: label, reason: "cannot create pipes: \(reason)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        // Nothing else: a descriptor the tool inherited without
        // close-on-exec (a caller's pipe) would be held open by the guidance.
        _ = td_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills whatever it started too;
        // default signal handling, whatever ours is.
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        var cArgs = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        // Our environment, with the mark that finds its descendants.
        let environment = GuidanceDescendants.environment(marking: GuidanceDescendants.variable, descendantsMark)
        defer { for p in environment { free(p) } }
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environment)
        close(input[0]); close(output[1]); close(errors[1])
        guard rc == 0 else {
            close(input[1]); close(output[0]); close(errors[0])
            pid = 0
            throw GuidanceStartError.cannotSpawn(guidance: label, reason: "cannot start \(argv.joined(separator: " ")): \(String(cString: strerror(rc)))")
        }
        toChild = input[1]
        fromChild = output[0]
        errFromChild = errors[0]
        for fd in [toChild, fromChild, errFromChild] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        // Writing to a guidance that has died must give EPIPE, not kill us.
        signal(SIGPIPE, SIG_IGN)
    }

    private func append(_ s: String) { outgoing.append(contentsOf: s.utf8) }

    private func fail(_ kind: GuidanceFailure.Kind, _ detail: String) {
        guard failure == nil else { return }
        if pid > 0 {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        GuidanceDescendants.endAll(marked: descendantsMark)
        drainStderr(untilClosed: true)
        failure = GuidanceFailure(kind, detail, exitStatus: ended?.exitStatus, signal: ended?.signal, stderrTail: stderrLines())
    }

    /// Reads what the process wrote to its standard error, keeping the last
    /// `stderrKeep_bytes`. With `untilClosed`, waits (at most 100 ms) for
    /// the pipe to close, so a process that has died leaves all it wrote.
    private func drainStderr(untilClosed: Bool = false) {
        guard errFromChild >= 0 else { return }
        var waited_ms: Int32 = 0
        while true {
            let n = readBuffer.withUnsafeMutableBytes { read(errFromChild, $0.baseAddress!, $0.count) }
            if n > 0 {
                stderrTail_bytes.append(contentsOf: readBuffer[0..<n])
                if stderrTail_bytes.count > 2 * Self.stderrKeep_bytes {
                    stderrTail_bytes.removeFirst(stderrTail_bytes.count - Self.stderrKeep_bytes)
                }
                continue
            }
            if n == 0 {
                close(errFromChild)
                errFromChild = -1
                return
            }
            if errno == EINTR { continue }
            guard untilClosed, errno == EAGAIN || errno == EWOULDBLOCK, waited_ms < 100 else { return }
            var p = pollfd(fd: errFromChild, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 10)
            waited_ms += 10
        }
    }

    /// The last lines of its standard error, at most `GuidanceFailure.stderrLineLimit`.
    private func stderrLines() -> [String] {
        let text = String(decoding: stderrTail_bytes.suffix(Self.stderrKeep_bytes), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { String($0.prefix(500)) }
        return Array(lines.suffix(GuidanceFailure.stderrLineLimit))
    }

    /// How the process ended, once it has: "killed by signal 11 (SIGSEGV)".
    private func exitStatus() -> String {
        if let ended { return ended.text }
        var reaped: Int32?
        for _ in 0..<100 {
            reaped = reapIfExited()
            if reaped != nil { break }
            usleep(1000)
        }
        guard let status = reaped else { return "closed its output" }
        return noteEnd(status)
    }

    /// Records how the process ended from its wait status, and says it.
    @discardableResult
    private func noteEnd(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            ended = ("exited with status \(code)", code, nil)
        } else {
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal"
            ended = ("killed by signal \(signal) (\(name))", nil, signal)
        }
        return ended!.text
    }

    /// The monotonic clock, for budgets (never for what is recorded).
    static func now() -> timespec {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return t
    }

    private func elapsed(since start: timespec) -> Int32 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int32((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000)
    }

    /// Writes everything buffered. False (and `failure` set) if it cannot.
    private func send(budget: Int32, at t: UInt64) -> Bool {
        guard failure == nil else { return false }
        let start = Self.now()
        var sent = 0
        defer { outgoing.removeAll(keepingCapacity: true) }
        while sent < outgoing.count {
            let n = outgoing.withUnsafeBytes { write(toChild, $0.baseAddress! + sent, $0.count - sent) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                let left = budget - elapsed(since: start)
                var p = pollfd(fd: toChild, events: Int16(POLLOUT), revents: 0)
                if left <= 0 || poll(&p, 1, left) == 0 {
                    fail(.timeout, "did not read its input within \(budget) ms at t=\(formatSecondsRounded(t)) s")
                    return false
                }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            fail(.crashed, "\(exitStatus()) at t=\(formatSecondsRounded(t)) s")
            return false
        }
        return true
    }

    /// Reads one line within the budget. Nil (and `failure` set) if none comes.
    /// Reads one line, within `budget` counted from `start` (default: now):
    /// a step's lines share the step's one budget.
    private func readLine(budget: Int32, at t: UInt64, since start: timespec = ExternalGuidance.now()) -> String? {
        guard failure == nil else { return nil }
        while true {
            if let nl = incoming[incomingHead...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: incoming[incomingHead..<nl], as: UTF8.self)
                incomingHead = nl + 1
                if incomingHead > 65536 { incoming.removeFirst(incomingHead); incomingHead = 0 }
                return line
            }
            guard incoming.count - incomingHead <= Self.lineLimit else {
                fail(.invalidOutput, "sent a line longer than \(Self.lineLimit) bytes at t=\(formatSecondsRounded(t)) s")
                return nil
            }
            let n = readBuffer.withUnsafeMutableBytes { read(fromChild, $0.baseAddress!, $0.count) }
            if n > 0 { incoming.append(contentsOf: readBuffer[0..<n]); continue }
            if n == 0 {
                fail(.crashed, "\(exitStatus()) at t=\(formatSecondsRounded(t)) s")
                return nil
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else {
                fail(.crashed, "read failed: \(String(cString: strerror(errno)))")
                return nil
            }
            let left = budget - elapsed(since: start)
            // Wait for an answer; drain its standard error meanwhile, so a
            // chatty guidance never blocks on a full stderr pipe.
            var p = [pollfd(fd: fromChild, events: Int16(POLLIN), revents: 0),
                     pollfd(fd: errFromChild, events: Int16(POLLIN), revents: 0)]
            if left <= 0 {
                fail(.timeout, "no answer within \(budget) ms at t=\(formatSecondsRounded(t)) s")
                return nil
            }
            // In slices: a process that exited while something it started
            // holds its output open is a crash, not a timeout.
            if poll(&p, errFromChild >= 0 ? 2 : 1, min(left, 50)) == 0 {
                if let status = reapIfExited() {
                    fail(.crashed, "\(noteEnd(status)) at t=\(formatSecondsRounded(t)) s")
                    return nil
                }
                continue
            }
            if p[1].revents != 0 { drainStderr() }
        }
    }

    public func receive(_ reading: SensorReading) {
        guard failure == nil else { return }
        switch reading {
        case .imu(let m):
            append("imu \(m.stamp_ns) \(m.accelX_mps2) \(m.accelY_mps2) \(m.accelZ_mps2) \(m.rateX_radps) \(m.rateY_radps) \(m.rateZ_radps)\n")
        case .altimeter(let m):
            append("altimeter \(m.stamp_ns) \(m.range_m) \(m.valid ? 1 : 0)\n")
        case .velocimeter(let m):
            append("velocimeter \(m.stamp_ns) \(m.horizontalVelocity_mps) \(m.verticalVelocity_mps) \(m.valid ? 1 : 0)\n")
        case .attitude(let m):
            append("attitude \(m.stamp_ns) \(m.pitch_rad) \(m.valid ? 1 : 0)\n")
        }
    }

    public func step(time_ns: UInt64) -> GuidanceOutput {
        lastTime_ns = time_ns
        guard failure == nil else { return lastOutput }
        append("step \(time_ns)\n")
        // The budget is the step's: sending, every event line and the output.
        let stepStart = Self.now()
        guard send(budget: stepBudget_ms, at: time_ns) else { return lastOutput }
        var events: [GuidanceEvent] = []
        var eventBytes = 0
        while let line = readLine(budget: stepBudget_ms, at: time_ns, since: stepStart) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.first == "event", words.count >= 3 {
                let detail = words.count > 3 ? words[3...].joined(separator: " ") : ""
                events.append(GuidanceEvent(kind: String(words[1]), detail: detail, anomaly: words[2] == "1"))
                eventBytes += line.utf8.count
                guard events.count <= Self.eventsPerStepLimit, eventBytes <= Self.eventBytesPerStepLimit else {
                    fail(.invalidOutput, "sent more than \(Self.eventsPerStepLimit) events or \(Self.eventBytesPerStepLimit) bytes of events in one step at t=\(formatSecondsRounded(time_ns)) s")
                    return lastOutput
                }
                continue
            }
            guard words.first == "output", words.count == 9 else {
                fail(.invalidOutput, "answered \"\(line.prefix(200))\" to step \(time_ns), expected an output line with 8 numbers")
                return lastOutput
            }
            var v: [Double] = []
            for w in words[1...] {
                let text = w.lowercased()
                if text.contains("nan") { v.append(.nan); continue }
                guard let d = Double(text) else {
                    fail(.invalidOutput, "answered \"\(w)\", not a number, in its output for step \(time_ns)")
                    return lastOutput
                }
                v.append(d)
            }
            let out = GuidanceOutput(
                command: CommandSample(stamp_ns: time_ns, mainThrottle_fraction: v[0], thrusterThrottle_fraction: v[1], pitchCommand_rad: v[2]),
                navigation: NavSample(stamp_ns: time_ns, downrange_m: v[3], altitude_m: v[4], verticalSpeed_mps: v[5],
                                      horizontalSpeed_mps: v[6], pitch_rad: v[7]),
                events: events)
            lastOutput = out
            return out
        }
        return lastOutput
    }
}
