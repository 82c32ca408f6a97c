import Foundation
import Testing
import TouchdownTestSupport

/// The JUnit files `campaign --junit` and `merge --junit` write are valid for
/// the schema Jenkins validates against: its xunit plugin's junit-10.xsd,
/// which pytest's own tests use and scripts/python-env takes from pytest's
/// source release into the .venv. Checked with the `xmlschema` validator;
/// without TOUCHDOWN_PYTHON the test fails, it does not skip.
@Suite(.serialized) struct JUnitSchemaTests {
    func touchdown(_ args: String...) throws -> ProcessResult { try run(touchdownExecutable, args, environment: unshardedEnvironment) }

    static let validate = """
        import sys, xmlschema, xml.etree.ElementTree as ET
        schema = xmlschema.XMLSchema(sys.argv[1])
        for path in sys.argv[2:]:
            schema.validate(path)
            root = ET.parse(path).getroot()
            cases = root.findall("./testsuite/testcase")
            suites = root.findall("./testsuite")
            for suite in suites:
                if suite.get("id") == "completeness":
                    continue
                names = [p.get("name") for p in suite.findall("./properties/property")]
                assert "run_id" in names, names
                assert suite.get("id") == [p.get("value") for p in suite.findall("./properties/property") if p.get("name") == "run_id"][0]
            print(path.rsplit("/", 1)[-1], len(cases), "cases",
                  sum(1 for c in cases if c.find("failure") is not None), "failures",
                  sum(1 for c in cases if c.find("error") is not None), "errors",
                  sum(1 for c in cases if len(c) == 0), "passes")
        """

    @Test func campaignAndMergedFilesAreValidForJenkinsSchema() throws {
        let python = try InteropTests.python()
        let xsd = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/junit-10.xsd").path
        #expect(FileManager.default.fileExists(atPath: xsd), "scripts/python-env puts junit-10.xsd at \(xsd)")

        let dir = try TestPaths.scratch()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        // Passes, failures (the 2025 fault: no altimeter range above 900 m)
        // and errors (a guidance that cannot start), under a hostile name.
        try """
            name: "<script>alert('x')</script> & \\"Mondlandung\\" – été"
            seed: 3
            source: {traces: [\(CampaignCommandTests.trace)]}
            guidance:
              - {name: reference}
              - {cmd: "./no-such-guidance-<b>"}
            matrix:
              altimeter.acquire-below: [15km, 900m]
            assert: ["touchdown.vertical_speed_mps <= 2"]
            """.write(toFile: p("c.yaml"), atomically: true, encoding: .utf8)
        let campaign = try touchdown("campaign", p("c.yaml"), "--results", p("all.jsonl"), "--junit", p("all.xml"))
        #expect(campaign.status == 1, "\(campaign.stdout) \(campaign.stderr)")
        let s0 = try touchdown("campaign", p("c.yaml"), "--shard", "0/2", "--results", p("s0.jsonl"))
        let s1 = try touchdown("campaign", p("c.yaml"), "--shard", "1/2", "--results", p("s1.jsonl"))
        #expect(s0.status == 1 || s1.status == 1)
        let merge = try touchdown("merge", p("s0.jsonl"), p("s1.jsonl"), "--junit", p("merged.xml"))
        #expect(merge.status == 1, "\(merge.stdout) \(merge.stderr)")

        // A lost shard: its runs are one more error, never a green view.
        let partial = try touchdown("merge", p("s0.jsonl"), "--junit", p("partial.xml"))
        #expect(partial.status == 1 && partial.stdout.contains("MISSING 2 of 4 runs"), "\(partial.stdout) \(partial.stderr)")

        let check = try run(python, ["-c", Self.validate, xsd, p("all.xml"), p("merged.xml"), p("partial.xml")])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("all.xml 4 cases 1 failures 2 errors 1 passes"), "\(check.stdout)")
        #expect(check.stdout.contains("merged.xml 4 cases 1 failures 2 errors 1 passes"), "\(check.stdout)")
        #expect(check.stdout.contains("partial.xml 3 cases 0 failures 2 errors 1 passes"), "\(check.stdout)")
        let partialXML = try String(contentsOfFile: p("partial.xml"), encoding: .utf8)
        #expect(partialXML.contains("tests=\"3\" failures=\"0\" errors=\"2\"") && partialXML.contains("MISSING 2 of 4 runs"), "\(partialXML)")
    }

    /// The validator is not a rubber stamp: the layout this file replaced
    /// (`properties` inside `testcase`) is refused.
    @Test func theSchemaRefusesPropertiesInATestcase() throws {
        let python = try InteropTests.python()
        let xsd = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/junit-10.xsd").path
        let file = try TestPaths.scratch().appendingPathComponent("old.xml").path
        try """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="touchdown" tests="1" failures="0" errors="0">
              <testsuite name="c" tests="1" failures="0" errors="0" skipped="0">
                <testcase classname="c.nominal" name="reference | sample 0">
                  <properties><property name="run_id" value="0123456789ab"/></properties>
                </testcase>
              </testsuite>
            </testsuites>
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try run(python, ["-c", Self.validate, xsd, file])
        #expect(check.status != 0)
        #expect(check.stderr.contains("properties"), "\(check.stderr)")
    }
}
