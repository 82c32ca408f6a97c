import Foundation

/// Campaign results as JUnit XML, the form Jenkins, GitLab and GitHub test
/// reporters read: one `testsuite` for the campaign, one `testcase` per run.
///
/// - `classname`: campaign and source; `name`: guidance, matrix cell or
///   fault case, sample.
/// - A run that failed (an outcome not expected, an assertion) has a
///   `<failure>`; one that could not run (a guidance that would not start, a
///   worker that died or timed out) an `<error>`. Both give what went wrong
///   and the command that reruns it.
/// - `properties` carry the run id and digest; `time` is the run's seconds
///   when known (a merge of results files does not know it and leaves it out).
public enum JUnitReport {
    public static func xml(campaign: String, records: [RunRecord], rerun: (RunRecord) -> String) -> String {
        let failures = records.filter { $0.verdict == .fail }.count
        let errors = records.filter { $0.verdict == .error }.count
        let total_s = records.compactMap(\.elapsed_s).reduce(0, +)
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"touchdown\" tests=\"\(records.count)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        x += "  <testsuite name=\"\(escape(campaign))\" tests=\"\(records.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\""
        x += records.allSatisfy({ $0.elapsed_s != nil }) ? " time=\"\(seconds(total_s))\">\n" : ">\n"
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
            x += "    <testcase classname=\"\(escape(classname))\" name=\"\(escape(name))\""
            if let t = r.elapsed_s { x += " time=\"\(seconds(t))\"" }
            x += ">\n"
            x += "      <properties>\n"
            x += "        <property name=\"run_id\" value=\"\(run.id)\"/>\n"
            if let d = r.digest { x += "        <property name=\"digest\" value=\"\(d)\"/>\n" }
            if let o = r.outcome { x += "        <property name=\"outcome\" value=\"\(escape(o))\"/>\n" }
            x += "      </properties>\n"
            if r.verdict != .pass {
                let tag = r.verdict == .fail ? "failure" : "error"
                let problems = r.problems
                let message = problems.first ?? r.verdict.rawValue
                let body = (problems + ["rerun: " + rerun(r)]).joined(separator: "\n")
                x += "      <\(tag) message=\"\(escape(message))\" type=\"\(r.verdict == .fail ? "touchdown.fail" : "touchdown.error")\">\(escape(body))</\(tag)>\n"
            }
            x += "    </testcase>\n"
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }

    static func seconds(_ s: Double) -> String {
        let ms = (s * 1000).rounded()
        return "\(Int(ms) / 1000).\(String(Int(ms) % 1000 + 1000).dropFirst())"
    }

    /// Escapes text for an XML attribute or element; characters XML 1.0
    /// cannot hold at all are replaced with U+FFFD.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            case "\r": out += "&#13;"
            default:
                if u.value < 0x20 || (0xFFFE...0xFFFF).contains(u.value) { out += "\u{FFFD}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}
