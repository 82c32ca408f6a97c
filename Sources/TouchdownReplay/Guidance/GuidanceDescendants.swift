#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Finds and ends every process a guidance started, including those that
/// left its process group (`setsid`, a daemon's double fork).
///
/// Each guidance process is started with `TOUCHDOWN_GUIDANCE_INSTANCE` set
/// to a value unique in this tool's life; every process it starts inherits
/// it. Ending the guidance ends its process group, then every process whose
/// environment (`/proc/PID/environ`, as it was when the process started)
/// carries the mark. A process that clears its environment before leaving
/// the group escapes this: only a cgroup would hold it.
public enum GuidanceDescendants {
    static let variable = "TOUCHDOWN_GUIDANCE_INSTANCE"
    private static let next = Atomic<UInt64>(0)

    /// This process's environment with `name=value` set (replacing any
    /// value it had), as the NUL-terminated array `posix_spawn` takes. The
    /// strings are the caller's to free.
    public static func environment(marking name: String, _ value: String) -> [UnsafeMutablePointer<CChar>?] {
        var out: [UnsafeMutablePointer<CChar>?] = []
        var entries = environ
        while let entry = entries.pointee {
            if !String(cString: entry).hasPrefix(name + "=") { out.append(strdup(entry)) }
            entries += 1
        }
        out.append(strdup("\(name)=\(value)"))
        out.append(nil)
        return out
    }

    /// A fresh mark: this process's id and a counter.
    static func newMark() -> String {
        let n = next.add(1, ordering: .relaxed).newValue
        return "\(getpid()).\(n)"
    }

    /// Sends SIGKILL to every process carrying `mark`, until none is left
    /// (a process may fork while it is being looked for); at most 20 rounds.
    static func endAll(marked mark: String) { endAll(carrying: variable, mark) }

    /// Sends SIGKILL to every process whose start-up environment sets
    /// `name` to `value` (a campaign's worker and all it started).
    public static func endAll(carrying name: String, _ value: String) {
        let needle = Array("\(name)=\(value)".utf8) + [0]
        for _ in 0..<20 {
            let found = processes(carrying: needle)
            if found.isEmpty { return }
            for pid in found { kill(pid, SIGKILL) }
            usleep(1000)
        }
    }

    /// The live processes (not zombies) whose start-up environment holds
    /// the NUL-terminated `needle` as a whole entry.
    private static func processes(carrying needle: [UInt8]) -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        let me = getpid()
        var found: [pid_t] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), pid != me else { continue }
            let fd = open("/proc/\(pid)/environ", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            var environment: [UInt8] = []
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                environment += buffer[..<n]
                if environment.count > 1 << 22 { break }
            }
            close(fd)
            if contains(entry: needle, in: environment) && !isZombie(pid) { found.append(pid) }
        }
        return found.sorted()
    }

    private static func contains(entry needle: [UInt8], in environment: [UInt8]) -> Bool {
        guard environment.count >= needle.count else { return false }
        var start = 0
        while start + needle.count <= environment.count {
            if environment[start..<(start + needle.count)].elementsEqual(needle) { return true }
            guard let nul = environment[start...].firstIndex(of: 0) else { return false }
            start = nul + 1
        }
        return false
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 512)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let close = bytes[..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return true }
        return bytes[close + 2] == UInt8(ascii: "Z")
    }
}
