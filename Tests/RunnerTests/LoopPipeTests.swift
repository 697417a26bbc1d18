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

    /// The pipes of a loop read into one shared buffer, and each still gets
    /// exactly its own bytes, interleaved reads and all.
    @Test func pipesShareOneBufferAndKeepTheirOwnBytes() throws {
        let loop = try EventLoop()
        let writers = 3
        let chunk = 100_000
        var pipes: [(PipeReader, Int32)] = []
        for _ in 0..<writers { pipes.append(try Self.makePipe(loop)) }
        #expect(pipes.allSatisfy { $0.0.buffer === loop.pipeReadBuffer })

        var got = [[UInt8]](repeating: [], count: writers)
        for (i, (reader, _)) in pipes.enumerated() {
            reader.onBytes = { got[i] += $0 }
            reader.onEnd = { _ in reader.close() }
            try reader.start()
        }
        // Each writer fills its pipe in turns from a timer, so the loop sees
        // several pipes readable in one iteration.
        var sent = [Int](repeating: 0, count: writers)
        let feed = Timer(loop: loop)
        feed.start(after: 1, repeating: 1) {
            for (i, (_, fd)) in pipes.enumerated() where sent[i] < chunk {
                let byte = UInt8(ascii: "a") + UInt8(i)
                let part = [UInt8](repeating: byte, count: min(16_000, chunk - sent[i]))
                sent[i] += part.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if sent[i] == chunk { close(fd) }
            }
            if sent.allSatisfy({ $0 == chunk }) { feed.close() }
        }
        loop.run()
        for i in 0..<writers {
            let byte = UInt8(ascii: "a") + UInt8(i)
            #expect(got[i].count == chunk && got[i].allSatisfy { $0 == byte })
        }
        #expect(!loop.pipeReadBuffer.inUse)
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
