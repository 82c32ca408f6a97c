import Foundation
import Testing
import TouchdownTestSupport

/// The worker memory a campaign prints is the worker's own: a worker started
/// by a coordinator holding a large campaign is not charged for it (wait4's
/// ru_maxrss was, through posix_spawn's shared memory before the exec).
@Suite(.serialized) struct WorkerMemoryTests {
    func peak(_ stderr: String) throws -> Double {
        let line = try #require(stderr.split(separator: "\n").first { $0.contains("peak memory of one") })
        let words = line.split(separator: " ")
        let i = try #require(words.firstIndex(of: "MiB"))
        return try #require(Double(words[i - 1]))
    }

    @Test func aLargeCampaignDoesNotInflateItsWorkers() throws {
        let dir = try TestPaths.scratch()
        func campaign(_ name: String, values: Int) throws -> String {
            let path = dir.appendingPathComponent(name).path
            let biases = (0..<values).map { "+\($0)mm" }.joined(separator: ", ")
            try """
                name: \(name)
                source: {traces: [\(TestPaths.repository.appendingPathComponent("traces/m2-late-altimeter.mcap").path)]}
                mode: open-loop
                matrix:
                  altimeter.bias: [\(biases)]
                expect: any
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // One run each: of a one-run campaign, and of a 40,000-run one.
        let small = try run(touchdownExecutable, ["campaign", try campaign("small.yaml", values: 1), "--jobs", "1"], environment: unshardedEnvironment)
        let large = try run(touchdownExecutable, ["campaign", try campaign("large.yaml", values: 40_000), "--jobs", "1", "--shard", "0/40000"],
                            environment: unshardedEnvironment)
        #expect(small.status == 0 && large.status == 0, "\(small.stderr) \(large.stderr)")
        let a = try peak(small.stderr), b = try peak(large.stderr)
        #expect(b < a * 1.1, "one run's worker: \(a) MiB in a 1-run campaign, \(b) MiB in a 40,000-run one")
    }
}
