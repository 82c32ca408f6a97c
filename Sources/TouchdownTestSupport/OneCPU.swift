import CTouchdownIO
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with the calling thread allowed only on the first CPU it
/// may use now; threads it creates inherit that (Linux `sched_setaffinity`
/// on the thread), so a writer made inside has both its threads on one
/// core: what it gets when every other core is busy, or under
/// `taskset -c 0`. The thread's previous CPU set is restored afterwards.
/// Returns nil, without running `body`, where the CPU set cannot be read
/// or set.
///
/// `body` must not suspend: an async caller could resume on another thread,
/// leaving this one confined.
public func onOneCPU<R>(_ body: () throws -> R) rethrows -> (result: R, cpu: Int)? {
    var before = cpu_set_t()
    guard td_thread_cpus_get(&before, MemoryLayout<cpu_set_t>.size) == 0 else { return nil }
    // cpu_set_t's bit macros are not visible from Swift: its bytes are a bit set.
    let cpu: Int? = withUnsafeBytes(of: &before) { bits in
        (0..<bits.count * 8).first { bits[$0 / 8] & (1 << ($0 % 8)) != 0 }
    }
    guard let cpu, confineThisThread(to: cpu) else { return nil }
    defer { precondition(td_thread_cpus_set(&before, MemoryLayout<cpu_set_t>.size) == 0, "could not restore the CPU set") }
    return (try body(), cpu)
}

/// Allows the calling thread (and threads it creates afterwards) to run on
/// `cpu` only. Returns false where that cannot be set.
public func confineThisThread(to cpu: Int) -> Bool {
    var one = cpu_set_t()
    guard cpu >= 0 && cpu < MemoryLayout<cpu_set_t>.size * 8 else { return false }
    withUnsafeMutableBytes(of: &one) { $0[cpu / 8] = 1 << (cpu % 8) }
    return td_thread_cpus_set(&one, MemoryLayout<cpu_set_t>.size) == 0
}
