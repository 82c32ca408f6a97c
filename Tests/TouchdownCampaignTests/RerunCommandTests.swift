import Foundation
import Testing
import TouchdownCampaign

@Suite("The rerun command a run prints")
struct RerunCommandTests {
    /// The words a POSIX shell makes of `command`.
    func shellWords(_ command: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "for w in \(command); do printf '%s\\n' \"$w\"; done"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test(arguments: ["fixtures/campaigns/demo.yaml", "my campaigns/demo.yaml", "it's (v2); rm -rf x.yaml", "a\\b$HOME`x`.yaml"])
    func aShellReadsTheCampaignFileBack(file: String) throws {
        // It printed the file as it was: a name with a space or a quote gave
        // a command that reran another file, or none.
        let command = RerunCommand.text(campaignFile: file, runID: "0123456789ab")
        #expect(try shellWords(command) == ["touchdown", "campaign", file, "--only", "0123456789ab"], "\(command)")
        #expect(RerunCommand.campaignFile(in: command) == file, "\(command)")
    }

    @Test func aPlainNameIsPrintedAsItIs() {
        #expect(RerunCommand.text(campaignFile: "fixtures/campaigns/demo.yaml", runID: "0123456789ab")
                == "touchdown campaign fixtures/campaigns/demo.yaml --only 0123456789ab")
    }

    @Test(arguments: ["", "touchdown replay x.mcap", "touchdown campaign 'open --only 1", "touchdown campaign x.yaml"])
    func otherTextNamesNoFile(text: String) {
        #expect(RerunCommand.campaignFile(in: text) == nil)
    }
}
