import Foundation
import Testing
import TouchdownTestSupport

/// examples/swift-guidance: a user's package whose own executable is the
/// whole touchdown CLI with its Swift guidance registered. scripts/test
/// builds it before the suite, into this checkout's .build (sharing the
/// compiled modules); without it this test fails (it does not skip).
@Suite struct UserGuidanceTests {
    var exampleExecutable: String {
        URL(fileURLWithPath: touchdownExecutable).deletingLastPathComponent().appendingPathComponent("my-touchdown").path
    }

    @Test func aUsersGuidanceIsNamedLikeABuiltInOne() throws {
        let exe = exampleExecutable
        #expect(FileManager.default.isExecutableFile(atPath: exe),
                "\(exe) is missing: build it with `swift build --package-path examples/swift-guidance --scratch-path .build` (scripts/test does)")
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path

        let list = try run(exe, ["guidance", "list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("reference: ") && list.stdout.contains("cautious: the reference guidance, hardened"))
        #expect(list.stdout.contains("max_descent_mps=3"))

        // The 2025 loss replayed with the team's guidance: it lands.
        let r = try run(exe, ["replay", nominal, "--guidance", "cautious", "--fault", "altimeter.acquire-below=900m",
                              "--assert", "touchdown.vertical_speed_mps <= 2", "--json"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["guidance"] as? String == "cautious" && json["outcome"] as? String == "landed")

        // In its own process, through the protocol: the same digest.
        let served = try run(touchdownExecutable, ["replay", nominal, "--guidance-cmd", "\(exe) guidance serve cautious",
                                                   "--fault", "altimeter.acquire-below=900m", "--json"])
        let servedJSON = try JSONSerialization.jsonObject(with: Data(served.stdout.utf8)) as? [String: Any]
        #expect(servedJSON?["digest"] as? String == json["digest"] as? String, "\(served.stderr)")

        // Its parameters are checked like a built-in's.
        let bad = try run(exe, ["replay", nominal, "--guidance", "cautious", "--set", "max_descent_mps=-1"])
        #expect(bad.status == 2 && bad.stderr.contains("max_descent_mps=-1: expected a number above 0"), "\(bad.stderr)")
        // And the plain touchdown does not know it.
        let unknown = try run(touchdownExecutable, ["replay", nominal, "--guidance", "cautious"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown guidance \"cautious\""), "\(unknown.stderr)")
    }
}
