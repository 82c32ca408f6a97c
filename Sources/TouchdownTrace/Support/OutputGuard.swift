#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output that would destroy an input: bad input (exit 2).
public struct OutputIsInputError: Error, Equatable, CustomStringConvertible {
    public let output: String
    public let input: String
    public var description: String {
        output == input
            ? "\(output) is both an input and the output; write the output to another file"
            : "\(output) is the same file as the input \(input) (a link to it, or the same path spelled another way); write the output to another file"
    }
}

public enum OutputGuard {
    /// Throws when `output` is the same file as any of `inputs`: the same
    /// device and inode once symbolic links are followed, so `./A`, a
    /// symbolic link and a hard link to A all count as A. An output that
    /// does not exist yet is no input.
    public static func refuse(output: String, sameAsAnyOf inputs: [String]) throws {
        var out = stat()
        guard stat(output, &out) == 0 else { return }
        for input in inputs {
            var st = stat()
            if stat(input, &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino {
                throw OutputIsInputError(output: output, input: input)
            }
        }
    }
}
