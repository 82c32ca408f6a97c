import Foundation
import Testing
import TouchdownTestSupport

/// Issue 13, items 1, 2 and 10: no command destroys an input, and no
/// output is half-written under its final name.
@Suite struct OutputSafetyTests {
    func touchdown(_ args: [String]) throws -> ProcessResult {
        try run(touchdownExecutable, args, environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    /// A copy of nominal in a scratch folder, and its bytes.
    func copyOfNominal(_ dir: URL, _ name: String = "A.mcap") throws -> (path: String, bytes: Data) {
        let path = dir.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: TestPaths.traces.appendingPathComponent("nominal.mcap").path, toPath: path)
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func anOutputThatIsAnInputIsRefusedAndTheInputKept() throws {
        let dir = try TestPaths.scratch()
        let (a, original) = try copyOfNominal(dir)
        let symlink = dir.appendingPathComponent("link.mcap").path
        try FileManager.default.createSymbolicLink(atPath: symlink, withDestinationPath: a)
        let hardlink = dir.appendingPathComponent("hard.mcap").path
        #expect(link(a, hardlink) == 0)
        let spellings = [a, dir.path + "/./A.mcap", symlink, hardlink]
        for out in spellings {
            for mode in ["closed-loop", "open-loop"] {
                let r = try touchdown(["replay", a, "--mode", mode, "--expect", "any", "--out", out])
                #expect(r.status == 2 && r.stderr.contains("same file as the input") || r.stderr.contains("both an input and the output"),
                        "replay --out \(out) (\(mode)): exit \(r.status), \(r.stderr)")
            }
            let recover = try touchdown(["trace", "recover", a, out])
            #expect(recover.status == 2, "recover \(out): exit \(recover.status), \(recover.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == original, "\(out) changed the input")
        }
        // A faults file is an input too.
        let faults = dir.appendingPathComponent("faults.txt")
        try "altimeter.latency=1s\n".write(to: faults, atomically: true, encoding: .utf8)
        let r = try touchdown(["replay", a, "--faults-file", faults.path, "--out", faults.path])
        #expect(r.status == 2)
        #expect(try String(contentsOf: faults, encoding: .utf8) == "altimeter.latency=1s\n")
    }

    @Test func aFailedRunLeavesNoHalfFileAndKeepsTheOldOne() throws {
        let dir = try TestPaths.scratch()
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        let fresh = dir.appendingPathComponent("fresh.mcap").path
        let r = try touchdown(["replay", nominal, "--guidance-cmd", "/bin/false", "--out", fresh])
        #expect(r.status == 2)
        #expect(!FileManager.default.fileExists(atPath: fresh))
        let existing = dir.appendingPathComponent("existing.mcap")
        try "keep me".write(to: existing, atomically: true, encoding: .utf8)
        let again = try touchdown(["replay", nominal, "--guidance-cmd", "/bin/false", "--out", existing.path])
        #expect(again.status == 2)
        #expect(try String(contentsOf: existing, encoding: .utf8) == "keep me")
        // Nothing is left behind under a temporary name either.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial-") }
        #expect(left.isEmpty, "left behind: \(left)")
        // A successful run replaces the old file whole.
        let ok = try touchdown(["replay", nominal, "--out", existing.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try touchdown(["trace", "check", existing.path]).status == 0)
    }

    @Test func aDeviceIsNoOutput() throws {
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        for args in [["replay", nominal, "--out", "/dev/full"],
                     ["trace", "generate", "--profile", "reference-descent", "--duration-s", "1", "--out", "/dev/full"],
                     ["trace", "recover", nominal, "/dev/full"]] {
            let r = try touchdown(args)
            #expect(r.status != 0 && r.status < 128, "\(args): exit \(r.status)")
            #expect(r.stderr.contains("/dev/full is a character device, not a regular file"), "\(args): \(r.stderr)")
        }
    }
}
