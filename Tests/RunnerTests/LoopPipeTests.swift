import CUV
import Glibc
import Testing

@testable import Runner

/// PipeReader over a real pipe written by the test itself.
@Suite struct LoopPipeTests {
    /// A pipe: a reader on `loop` for the read end, and the raw write end.
    static func makePipe(_ loop: EventLoop) throws -> (PipeReader, Int32) {
        var fds: [uv_file] = [-1, -1]
        try UVError.check(
            fds.withUnsafeMutableBufferPointer { uv_pipe($0.baseAddress, 0, 0) }, "uv_pipe")
        return (try PipeReader(loop: loop, fd: fds[0]), fds[1])
    }

    /// Writes `text` to `fd`.
    static func write(_ fd: Int32, _ text: String) {
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    @Test func deliversBytesThenEndOfFile() throws {
        let loop = try EventLoop()
        let (reader, writeEnd) = try Self.makePipe(loop)
        var got: [UInt8] = []
        var ends: [PipeReader.End] = []
        reader.onBytes = { got += $0 }
        reader.onEnd = { end in
            ends.append(end)
            reader.close()
        }
        try reader.start()
        Self.write(writeEnd, "hello")
        close(writeEnd)
        loop.run()
        #expect(String(decoding: got, as: UTF8.self) == "hello")
        #expect(ends == [.endOfFile])
        LoopTests.closeClean(loop)
    }

    @Test func pausedReaderReadsNothingUntilResumed() throws {
        let loop = try EventLoop()
        let (reader, writeEnd) = try Self.makePipe(loop)
        var got: [UInt8] = []
        var countWhilePaused: Int?
        reader.onBytes = { got += $0 }
        reader.onEnd = { _ in reader.close() }
        try reader.start()
        reader.pause()
        Self.write(writeEnd, "queued")
        close(writeEnd)

        let later = Timer(loop: loop)
        later.start(after: 50) {
            countWhilePaused = got.count
            try? reader.resume()
            later.close()
        }
        loop.run()
        #expect(countWhilePaused == 0)
        #expect(String(decoding: got, as: UTF8.self) == "queued")
        LoopTests.closeClean(loop)
    }

    @Test func drainAvailableReadsWhatIsBufferedWithoutWaiting() throws {
        let loop = try EventLoop()
        let (reader, writeEnd) = try Self.makePipe(loop)
        var got: [UInt8] = []
        reader.onBytes = { got += $0 }
        Self.write(writeEnd, "left over")
        // The write end stays open: a blocking read would hang here.
        reader.drainAvailable(limit: 4)
        #expect(String(decoding: got, as: UTF8.self) == "left")
        reader.drainAvailable(limit: 1024)
        #expect(String(decoding: got, as: UTF8.self) == "left over")
        reader.close()
        close(writeEnd)
        loop.run()
        LoopTests.closeClean(loop)
    }

    @Test func reportsThePipeInodeAsProcShowsIt() throws {
        let loop = try EventLoop()
        let (reader, writeEnd) = try Self.makePipe(loop)
        let link = ProcessTable.readLink("/proc/self/fd/\(writeEnd)")
        #expect(link == "pipe:[\(reader.inode)]")
        reader.close()
        close(writeEnd)
        loop.run()
        LoopTests.closeClean(loop)
    }
}
