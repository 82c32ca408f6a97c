import Foundation
import TouchdownTrace

/// Campaign results as JUnit XML, the form Jenkins, GitLab and GitHub test
/// reporters read: one `testsuite` for the campaign, one `testcase` per run.
///
/// - `classname`: campaign and source; `name`: guidance, matrix cell or
///   fault case, sample.
/// - A run that failed (an outcome not expected, an assertion) has a
///   `<failure>`; one that could not run (a guidance that would not start, a
///   worker that died or timed out) an `<error>`. Both give what went wrong
///   and the command that reruns it.
/// - `properties` carry the run id, digest and outcome; `time` is the run's
///   seconds when known (a merge of results files does not know it and
///   leaves it out).
///
/// - What a merge found missing or contradicted (`incomplete`) is one more
///   test case, `completeness`, with an `<error>` listing it: a CI view of
///   a campaign with a lost shard is never all green.
///
/// The schema Jenkins validates JUnit files against (its xunit plugin's
/// junit-10.xsd, which pytest's own tests also use) allows `properties` in a
/// `testsuite` but not in a `testcase`, so each run is a `testsuite` of one
/// `testcase`, named after the campaign, with the run id as its `id`.
/// Jenkins and GitLab list test cases by `classname` and `name`, so the extra
/// level does not show. JUnitSchemaTests validates against that schema.
public enum JUnitReport {
    public static func xml(campaign: String, records: [RunRecord], incomplete: [String] = [],
                           rerun: (RunRecord) -> String) -> String {
        let failures = records.filter { $0.verdict == .fail }.count
        let completeness = incomplete.isEmpty ? 0 : 1
        let errors = records.filter { $0.verdict == .error }.count + completeness
        let total_s = records.compactMap(\.elapsed_s).reduce(0, +)
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"\(escapeMarkup(campaign))\" tests=\"\(records.count + completeness)\" failures=\"\(failures)\" errors=\"\(errors)\""
        x += records.allSatisfy({ $0.elapsed_s != nil }) ? " time=\"\(seconds(total_s))\">\n" : ">\n"
        if let first = incomplete.first {
            let classname = campaign.replacingOccurrences(of: ".", with: "_") + ".completeness"
            x += "  <testsuite name=\"\(escapeMarkup(campaign))\" id=\"completeness\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n"
            x += "    <testcase classname=\"\(escapeMarkup(classname))\" name=\"every run of the campaign, once\">\n"
            x += "      <error message=\"\(escapeMarkup(first))\" type=\"touchdown.incomplete\">\(escapeMarkup(incomplete.joined(separator: "\n")))</error>\n"
            x += "    </testcase>\n"
            x += "  </testsuite>\n"
        }
        for r in records {
            let run = r.run
            var name = run.guidance
            if !run.cell.isEmpty { name += " | " + run.cell.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            if let c = run.caseIndex { name += " | case \(c + 1): " + run.faults.joined(separator: " ") }
            name += " | sample \(run.sample)"
            // Readers split classname at dots into packages: the source's file name, without dots.
            let file = run.source.split(separator: "/").last.map(String.init) ?? run.source
            let stem = file.hasSuffix(".mcap") || file.hasSuffix(".yaml") ? String(file.dropLast(5)) : file
            let classname = campaign.replacingOccurrences(of: ".", with: "_") + "." + stem.replacingOccurrences(of: ".", with: "_")
            let time = r.elapsed_s.map { " time=\"\(seconds($0))\"" } ?? ""
            x += "  <testsuite name=\"\(escapeMarkup(campaign))\" id=\"\(run.id)\" tests=\"1\""
            x += " failures=\"\(r.verdict == .fail ? 1 : 0)\" errors=\"\(r.verdict == .error ? 1 : 0)\" skipped=\"0\"\(time)>\n"
            x += "    <properties>\n"
            x += "      <property name=\"run_id\" value=\"\(run.id)\"/>\n"
            if let d = r.digest { x += "      <property name=\"digest\" value=\"\(d)\"/>\n" }
            if let o = r.outcome { x += "      <property name=\"outcome\" value=\"\(escapeMarkup(o))\"/>\n" }
            x += "    </properties>\n"
            x += "    <testcase classname=\"\(escapeMarkup(classname))\" name=\"\(escapeMarkup(name))\"\(time)"
            if r.verdict == .pass {
                x += "/>\n"
            } else {
                let tag = r.verdict == .fail ? "failure" : "error"
                let problems = r.problems
                let message = problems.first ?? r.verdict.rawValue
                let body = (problems + ["rerun: " + rerun(r)]).joined(separator: "\n")
                x += ">\n      <\(tag) message=\"\(escapeMarkup(message))\" type=\"\(r.verdict == .fail ? "touchdown.fail" : "touchdown.error")\">\(escapeMarkup(body))</\(tag)>\n"
                x += "    </testcase>\n"
            }
            x += "  </testsuite>\n"
        }
        x += "</testsuites>\n"
        return x
    }

    static func seconds(_ s: Double) -> String {
        let ms = (s * 1000).rounded()
        return "\(Int(ms) / 1000).\(String(Int(ms) % 1000 + 1000).dropFirst())"
    }

}
