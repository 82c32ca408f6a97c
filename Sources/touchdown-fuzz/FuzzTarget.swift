import Foundation
import TouchdownTestSupport

/// libFuzzer's entry point: one input through every reader, the checker
/// and the CDR decoders (`FuzzHarness`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.exercise(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Built by `scripts/fuzz` (`-sanitize=fuzzer,address -D FUZZING`), the
/// executable is libFuzzer with its usual options; built plainly (`swift
/// build`), it runs each file named, or each file in each folder named,
/// through the same harness once, as libFuzzer runs a corpus: for
/// reproducing a crash under a debugger. Either way,
/// `--write-seeds FOLDER [TRACES]` writes the generated seeds (`FuzzSeeds`).
@main
enum FuzzTarget {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds" {
            guard arguments.count == 2 || arguments.count == 3 else { fail("usage: touchdown-fuzz --write-seeds FOLDER [TRACES_FOLDER]") }
            do {
                print("wrote \(try FuzzSeeds.write(to: arguments[1], traces: arguments.count == 3 ? arguments[2] : nil)) seeds to \(arguments[1])")
            } catch {
                fail("touchdown-fuzz: writing seeds: \(error)")
            }
            return
        }
        #if FUZZING
        // SwiftPM names this `main`; libFuzzer's driver takes over from here.
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        replay(arguments)
        #endif
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }

    static func replay(_ arguments: [String]) {
        guard !arguments.isEmpty else {
            fail("usage: touchdown-fuzz FILE_OR_FOLDER...  (scripts/fuzz builds the libFuzzer target)")
        }
        var count = 0
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                fail("touchdown-fuzz: no such file or folder: \(argument)")
            }
            let files = isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map { argument + "/" + $0 }
                : [argument]
            for file in files {
                guard let bytes = FileManager.default.contents(atPath: file) else { continue }
                FuzzHarness.exercise([UInt8](bytes))
                count += 1
            }
        }
        print("ran \(count) inputs")
    }
}

#if FUZZING
/// libFuzzer's driver (compiler-rt, FuzzerInterface.h), for an executable
/// whose `main` is its own.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
