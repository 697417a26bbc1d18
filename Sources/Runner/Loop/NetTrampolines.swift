import CUV

/// The C callbacks of the network owners (TCP connections and name lookups),
/// kept with the others under `Trampolines` and following the same rules:
/// each recovers its owner from `data`, captures nothing, and only close
/// callbacks and request completions free memory.
extension Trampolines {
    // MARK: DNS

    /// getaddrinfo finished on the pool; this runs on the loop thread.
    static let addressesResolved: uv_getaddrinfo_cb = { request, status, list in
        owner(request!.pointee.data, as: Resolver.self).resolved(status: status, list: list)
    }

    // MARK: TCP

    /// A connect attempt finished (or was cancelled by closing its handle).
    /// The request is freed here; the handle belongs to the connection.
    static let tcpConnected: uv_connect_cb = { request, status in
        let stream = request!.pointee.handle!
        request!.deallocate()
        owner(stream.pointee.data, as: TCPConnection.self).connected(stream, status: status)
    }

    /// libuv wants a buffer to read into: always the connection's own.
    static let tcpAlloc: uv_alloc_cb = { handle, _, buf in
        let connection = owner(handle!.pointee.data, as: TCPConnection.self)
        buf!.pointee = uv_buf_init(
            connection.buffer.assumingMemoryBound(to: CChar.self),
            UInt32(TCPConnection.readBufferSize))
    }

    /// A read finished: bytes, EAGAIN (0), EOF or an error.
    static let tcpRead: uv_read_cb = { stream, nread, _ in
        owner(stream!.pointee.data, as: TCPConnection.self).received(nread)
    }

    /// A write finished: frees its request and its copy of the bytes.
    static let tcpWritten: uv_write_cb = { request, status in
        let pending = Unmanaged<PendingWrite>.fromOpaque(request!.pointee.data)
            .takeRetainedValue()
        request!.deallocate()
        pending.completion?(status < 0 ? UVError(status, call: "uv_write") : nil)
    }

    /// A shutdown finished: frees its request.
    static let tcpShutDown: uv_shutdown_cb = { request, status in
        let shutdown = Unmanaged<ShutdownRequest>.fromOpaque(request!.pointee.data)
            .takeRetainedValue()
        request!.deallocate()
        shutdown.completion?(status < 0 ? UVError(status, call: "uv_shutdown") : nil)
    }

    /// One of a connection's handles finished closing.
    static let tcpClosed: uv_close_cb = { handle in
        owner(handle!.pointee.data, as: TCPConnection.self).closed(handle!)
    }
}
