import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// The fuzz corpus through the fuzz target's harness (`FuzzHarness`), in
/// the ordinary test build: each input that once crashed the target
/// (committed under fixtures/fuzz-corpus) stays fixed, and every seed runs.
/// A failure here is a crash or a trap of the test process.
@Suite struct FuzzCorpusTests {
    func files(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasSuffix(".md") }.sorted().map { folder + "/" + $0 }
    }

    @Test func everyCommittedInputRuns() throws {
        let inputs = try files(in: TestPaths.fixtures.appendingPathComponent("fuzz-corpus").path)
        #expect(inputs.count >= 1)
        for input in inputs {
            FuzzHarness.exercise(try [UInt8](Data(contentsOf: URL(fileURLWithPath: input))))
        }
    }

    @Test func everyGeneratedSeedRuns() throws {
        let folder = try TestPaths.scratch().path
        let written = try FuzzSeeds.write(to: folder, traces: TestPaths.traces.path)
        let inputs = try files(in: folder)
        #expect(written == inputs.count && written >= 19)
        for input in inputs {
            FuzzHarness.exercise(try [UInt8](Data(contentsOf: URL(fileURLWithPath: input))))
        }
    }
}
