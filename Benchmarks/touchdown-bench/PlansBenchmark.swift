#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import TouchdownReplay
import TouchdownTrace

/// Plans per second, and per core, for closed-loop replays of one trace:
/// in one process sharing one `LoadedTrace` on 1 and 2 threads, next to
/// the same plans as separate `touchdown replay` processes (1 and 2 at a
/// time). Every plan's digest must agree across the four ways.
func plansBenchmark(trace: String, count: Int, touchdown: String) throws {
    // Closed loop, one random fault, a different seed per plan: each plan
    // flies its own flight.
    let plans: [ReplayPlan] = try (0..<count).map { i in
        ReplayPlan(source: .trace(path: trace), faults: [try FaultSpec(parsing: "imu.drop=2%,burst=5")],
                   expectation: .any, seed: UInt64(i + 1))
    }
    let shared = try LoadedTrace(path: trace)
    func cpu_s() -> Double { processCPU_s(children: true) }

    func inProcess(threads: Int) -> (wall_s: Double, cpu_s: Double, digests: [String]) {
        let digests = Mutex([String](repeating: "", count: plans.count))
        let c0 = cpu_s(), t0 = now_s()
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for i in stride(from: worker, to: plans.count, by: threads) {
                let d = (try? Replay(plans[i], trace: shared).run().digest) ?? "error"
                digests.withLock { $0[i] = d }
            }
        }
        return (now_s() - t0, cpu_s() - c0, digests.withLock { $0 })
    }

    func processes(parallel: Int) -> (wall_s: Double, cpu_s: Double, digests: [String]) {
        let digests = Mutex([String](repeating: "", count: plans.count))
        let c0 = cpu_s(), t0 = now_s()
        DispatchQueue.concurrentPerform(iterations: parallel) { worker in
            for i in stride(from: worker, to: plans.count, by: parallel) {
                let out = runProcess(touchdown, ["replay", trace, "--fault", "imu.drop=2%,burst=5", "--seed", String(i + 1),
                                                 "--expect", "any", "--json"])
                let digest = out.split(separator: ",").first { $0.hasPrefix("\"digest\":") }
                    .map { String($0.dropFirst("\"digest\":\"".count).dropLast()) } ?? "error"
                digests.withLock { $0[i] = digest }
            }
        }
        return (now_s() - t0, cpu_s() - c0, digests.withLock { $0 })
    }

    print("plans: \(count) closed-loop replays of \(trace) (imu.drop=2%,burst=5, seeds 1…\(count))")
    print("way                                   wall s   plans/s   CPU s   plans per CPU-s")
    let rows: [(String, (wall_s: Double, cpu_s: Double, digests: [String]))] = [
        ("one process, 1 thread", inProcess(threads: 1)),
        ("one process, 2 threads (shared trace)", inProcess(threads: 2)),
        ("CLI processes, 1 at a time", processes(parallel: 1)),
        ("CLI processes, 2 at a time", processes(parallel: 2)),
    ]
    for (name, r) in rows {
        print(name.padding(toLength: 38, withPad: " ", startingAt: 0)
              + "\(fmt(r.wall_s, 2).leftPadding(6))   \(fmt(Double(count) / r.wall_s, 1).leftPadding(7))   \(fmt(r.cpu_s, 2).leftPadding(5))   \(fmt(Double(count) / r.cpu_s, 1).leftPadding(15))")
    }
    let reference = rows[0].1.digests
    let agree = rows.allSatisfy { $0.1.digests == reference } && !reference.contains("error")
    print("digests: \(agree ? "every plan's digest is the same four ways" : "DISAGREE")")
    if !agree { exit(1) }
}

/// Runs a program and returns its standard output.
func runProcess(_ path: String, _ args: [String]) -> String {
    var pipe: [Int32] = [0, 0]
    guard Glibc.pipe(&pipe) == 0 else { return "" }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    posix_spawn_file_actions_addclose(&actions, pipe[0])
    var argv = ([path] + args).map { strdup($0) }
    argv.append(nil)
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return "" }
    close(pipe[1])
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress!, $0.count) }
        if n > 0 { out += buffer[0..<n]; continue }
        if n < 0 && errno == EINTR { continue }
        break
    }
    close(pipe[0])
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
    return String(decoding: out, as: UTF8.self)
}
