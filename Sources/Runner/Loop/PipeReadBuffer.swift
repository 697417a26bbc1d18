/// The one read buffer every pipe on a loop reads into.
///
/// libuv asks for a buffer just before each read(2) and hands the bytes to the
/// read callback at once, and `PipeReader` delivers them to `onBytes`, which
/// copies what it keeps before returning. So no two reads on one loop thread
/// ever need a buffer at the same time, and sixteen streaming runs touch 64 KiB
/// for their reads instead of sixteen times that. `inUse` turns a read started
/// while another pipe's bytes are still being delivered (which would overwrite
/// them) into a precondition failure instead of corrupt output.
final class PipeReadBuffer {
    /// The bytes: `PipeReader.bufferSize` of them.
    nonisolated(unsafe) let bytes: UnsafeMutableRawPointer
    /// True from a read into the buffer until its bytes have been delivered.
    var inUse = false

    /// A fresh buffer of `PipeReader.bufferSize` bytes.
    init() {
        bytes = .allocate(byteCount: PipeReader.bufferSize, alignment: 16)
    }

    deinit {
        bytes.deallocate()
    }

    /// Claims the buffer for one read; the contract above says it is free.
    func claim() -> UnsafeMutableRawPointer {
        precondition(!inUse, "a pipe read while another pipe's bytes were being delivered")
        inUse = true
        return bytes
    }

    /// Gives the buffer back once the read's bytes were delivered.
    func release() {
        inUse = false
    }
}
