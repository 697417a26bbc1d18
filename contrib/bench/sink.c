/*
 * ward-sink: the control-plane side of ward's benchmarks.
 *
 * A minimal TLS websocket server for exactly one `ward connect` at a time:
 * it answers the upgrade, unmasks the runner's frames, answers pings, sends
 * `run` requests, acknowledges every `run.finished`, and measures each run's
 * request-to-finished latency and the bytes and lines of its `run.output`.
 * It exists because the Python control plane (contrib/devcp) cannot keep up
 * with ward's output: this one is plain C over OpenSSL and a blocking socket,
 * and its own ceiling is measured by `ward-sink ceiling` (a client in the same
 * binary floods it with run.output frames over TLS).
 *
 * Usage:
 *   ward-sink serve  PORT CERT KEY MODE [options]  one JSON result on stdout
 *   ward-sink ceiling CERT KEY CA MIB               the sink's own ceiling
 * Modes and options:
 *   --action NAME --args JSON   what to run (args as a JSON object)
 *   --runs N                    how many runs (default 1)
 *   --inflight K                runs kept in flight at once (default 1)
 *   --read-rate MBPS            read at most MBPS MB/s (a slow consumer)
 *   --idle-ms MS                after hello, sit idle for MS, answering pings
 *   --ready FILE                written once listening, so the harness knows
 *   --id-prefix P               run ids are P-0, P-1... (default b)
 * Only for benchmarks on loopback: it trusts the runner and checks no key.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Largest message ward sends is 1 MiB (wire-protocol.md); twice that leaves
 * room for a partial next frame behind it. */
#define MAX_MESSAGE (1u << 20)
#define READ_CHUNK (256u * 1024u)
#define MAX_RUNS 100000

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "ward-sink: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- per-run bookkeeping ---- */
typedef struct {
    double sent, accepted, finished;
    uint64_t bytes, frames, lines;
    char outcome[32];
    char counts[2048];
} Run;

static Run *runs;
static int total_runs = 1, inflight = 1, sent_runs = 0, finished_runs = 0;
static const char *action = "bench.true", *args_json = "{}";
/* Run ids are PREFIX-N: ward never runs an id twice (it answers a repeat from
 * its journal), so each sink session against one ward needs its own prefix. */
static const char *id_prefix = "b";
static double read_rate = 0; /* bytes per second, 0 = unlimited */
static long idle_ms = 0;
static uint64_t total_recv = 0, total_frames = 0, total_lines = 0;

/* ---- the connection ---- */
static SSL *ssl;
static int fd = -1;
static unsigned char *inbuf;
static size_t inlen = 0, incap = 0;
static unsigned char *msg;
static size_t msglen = 0;
static int msgop = 0;

static void ssl_write_all(const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) {
        int w = SSL_write(ssl, b, (int)n);
        if (w <= 0) die("write failed");
        b += w;
        n -= (size_t)w;
    }
}

/* A server frame: never masked. */
static void send_frame(int opcode, const void *payload, size_t n) {
    unsigned char h[10];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)(n >> (56 - 8 * i));
        hl = 10;
    }
    unsigned char *f = malloc(hl + n);
    memcpy(f, h, hl);
    memcpy(f + hl, payload, n);
    ssl_write_all(f, hl + n);
    free(f);
}

static void send_run(void) {
    char req[4096];
    int i = sent_runs++;
    int n = snprintf(req, sizeof req,
                     "{\"type\":\"run\",\"run\":\"%s-%d\",\"action\":\"%s\",\"args\":%s,"
                     "\"reason\":\"benchmark\",\"requester\":{\"id\":\"bench\"}}",
                     id_prefix, i, action, args_json);
    runs[i].sent = now_s();
    send_frame(1, req, (size_t)n);
}

/* The value of "key":"..." or "key":{...} after `from`, copied into out. */
static int member(const unsigned char *m, size_t n, const char *key, char *out, size_t cap) {
    char pat[64];
    int pl = snprintf(pat, sizeof pat, "\"%s\":", key);
    const unsigned char *p = memmem(m, n, pat, (size_t)pl);
    if (!p) return 0;
    p += pl;
    const unsigned char *end = m + n, *q = p;
    if (*p == '"') {
        p++;
        q = p;
        while (q < end && *q != '"') q++;
    } else if (*p == '{') {
        int depth = 0;
        for (; q < end; q++) {
            if (*q == '{') depth++;
            if (*q == '}' && --depth == 0) { q++; break; }
        }
    } else {
        while (q < end && *q != ',' && *q != '}') q++;
    }
    size_t l = (size_t)(q - p) < cap - 1 ? (size_t)(q - p) : cap - 1;
    memcpy(out, p, l);
    out[l] = 0;
    return 1;
}

static int run_index(const unsigned char *m, size_t n) {
    char id[64];
    size_t pl = strlen(id_prefix);
    if (!member(m, n, "run", id, sizeof id) || strncmp(id, id_prefix, pl) != 0 || id[pl] != '-')
        return -1;
    int i = atoi(id + pl + 1);
    return (i >= 0 && i < sent_runs) ? i : -1;
}

static int hello_seen = 0;
static double hello_at = 0;
static size_t hello_bytes = 0;

static void on_text(const unsigned char *m, size_t n) {
    static const char out_prefix[] = "{\"type\":\"run.output\"";
    if (n > sizeof out_prefix && memcmp(m, out_prefix, sizeof out_prefix - 1) == 0) {
        int i = run_index(m, n);
        uint64_t lines = 0;
        const unsigned char *p = m, *end = m + n;
        /* Each line object starts so; a quote inside text is escaped, so
         * the pattern cannot occur inside a line's text. */
        while ((p = memchr(p, '{', (size_t)(end - p))) != NULL) {
            if (end - p >= 11 && memcmp(p, "{\"stream\":\"", 11) == 0) lines++;
            p++;
        }
        total_lines += lines;
        if (i >= 0) {
            runs[i].bytes += n;
            runs[i].frames++;
            runs[i].lines += lines;
        }
        return;
    }
    char type[32];
    if (!member(m, n, "type", type, sizeof type)) return;
    if (strcmp(type, "hello") == 0) {
        hello_seen = 1;
        hello_at = now_s();
        hello_bytes = n;
    } else if (strcmp(type, "run.accepted") == 0) {
        int i = run_index(m, n);
        if (i >= 0) runs[i].accepted = now_s();
    } else if (strcmp(type, "run.finished") == 0 || strcmp(type, "run.refused") == 0) {
        int i = run_index(m, n);
        if (i < 0 || runs[i].finished > 0) return;
        runs[i].finished = now_s();
        if (strcmp(type, "run.refused") == 0) {
            snprintf(runs[i].outcome, sizeof runs[i].outcome, "refused");
            member(m, n, "message", runs[i].counts, sizeof runs[i].counts);
            fprintf(stderr, "ward-sink: run b-%d refused: %.*s\n", i, (int)(n < 600 ? n : 600),
                    m);
        } else {
            if (memmem(m, n, "\"replayed\":true", 15)) die("a replayed result: run ids repeat");
            member(m, n, "outcome", runs[i].outcome, sizeof runs[i].outcome);
            member(m, n, "counts", runs[i].counts, sizeof runs[i].counts);
            char ack[96];
            int al = snprintf(ack, sizeof ack, "{\"type\":\"ack\",\"runs\":[\"%s-%d\"]}",
                              id_prefix, i);
            send_frame(1, ack, (size_t)al);
        }
        finished_runs++;
        if (sent_runs < total_runs) send_run();
    }
}

/* Parses every complete frame in inbuf; keeps a partial one. 0 on close. */
static int parse_frames(void) {
    size_t off = 0;
    int open = 1;
    while (open && inlen - off >= 2) {
        unsigned char *h = inbuf + off;
        int fin = h[0] & 0x80, op = h[0] & 0x0f, masked = h[1] & 0x80;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (inlen - off < 4) break;
            len = ((uint64_t)h[2] << 8) | h[3];
            hl = 4;
        } else if (len == 127) {
            if (inlen - off < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
            hl = 10;
        }
        if (!masked) die("client frame not masked");
        if (len > MAX_MESSAGE) die("frame over 1 MiB");
        if (inlen - off < hl + 4 + len) break;
        unsigned char mask[4];
        memcpy(mask, h + hl, 4);
        unsigned char *p = h + hl + 4;
        /* Unmask eight bytes at a time: the mask repeats every four. */
        uint64_t m8;
        memcpy(&m8, mask, 4);
        memcpy((unsigned char *)&m8 + 4, mask, 4);
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            uint64_t v;
            memcpy(&v, p + i, 8);
            v ^= m8;
            memcpy(p + i, &v, 8);
        }
        for (; i < len; i++) p[i] ^= mask[i & 3];
        total_frames++;
        if (op == 8) {
            send_frame(8, p, len < 2 ? len : 2);
            open = 0;
        } else if (op == 9) {
            send_frame(10, p, len);
        } else if (op == 10) {
            /* pong: nothing to do */
        } else if (op == 1 || op == 2 || op == 0) {
            if (op != 0) { msglen = 0; msgop = op; }
            if (fin && msglen == 0) {
                if (msgop == 1) on_text(p, len);
            } else {
                if (msglen + len > MAX_MESSAGE) die("message over 1 MiB");
                memcpy(msg + msglen, p, len);
                msglen += len;
                if (fin) {
                    if (msgop == 1) on_text(msg, msglen);
                    msglen = 0;
                }
            }
        }
        off += hl + 4 + len;
    }
    memmove(inbuf, inbuf + off, inlen - off);
    inlen -= off;
    return open;
}

/* Reads what is there (waiting at most timeout_ms when nothing is buffered).
 * Returns bytes read, 0 on timeout, -1 when the peer is gone. */
static long read_some(int timeout_ms) {
    if (!SSL_has_pending(ssl)) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, timeout_ms);
        if (r == 0) return 0;
    }
    if (incap - inlen < READ_CHUNK) {
        incap = incap * 2 + READ_CHUNK;
        inbuf = realloc(inbuf, incap);
    }
    size_t want = READ_CHUNK;
    if (read_rate > 0) want = 16384; /* small reads so the rate limit is smooth */
    int r = SSL_read(ssl, inbuf + inlen, (int)want);
    if (r <= 0) return -1;
    inlen += (size_t)r;
    total_recv += (uint64_t)r;
    return r;
}

static void handshake(void) {
    char req[16384];
    size_t n = 0;
    while (n < sizeof req - 1) {
        int r = SSL_read(ssl, req + n, (int)(sizeof req - 1 - n));
        if (r <= 0) die("upgrade: connection closed");
        n += (size_t)r;
        req[n] = 0;
        char *end = strstr(req, "\r\n\r\n");
        if (end) {
            char *k = strcasestr(req, "Sec-WebSocket-Key:");
            if (!k) die("upgrade: no key");
            k += 18;
            while (*k == ' ') k++;
            char key[128];
            size_t kl = strcspn(k, "\r\n");
            if (kl > 64) die("upgrade: key too long");
            snprintf(key, sizeof key, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)kl, k);
            unsigned char sha[20];
            unsigned int sl = 0;
            EVP_Digest(key, strlen(key), sha, &sl, EVP_sha1(), NULL);
            unsigned char accept[64];
            EVP_EncodeBlock(accept, sha, 20);
            char resp[512];
            int rl = snprintf(resp, sizeof resp,
                              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                              "Sec-WebSocket-Protocol: ward.v1\r\n\r\n",
                              accept);
            ssl_write_all(resp, (size_t)rl);
            /* Bytes after the request are the first frames. */
            size_t rest = n - (size_t)(end + 4 - req);
            if (rest) {
                memcpy(inbuf, end + 4, rest);
                inlen = rest;
            }
            return;
        }
    }
    die("upgrade: request too long");
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static SSL_CTX *server_ctx(const char *cert, const char *key) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) die("SSL_CTX_new");
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) die("certificate");
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) die("key");
    return ctx;
}

static int listen_on(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) die("bind");
    if (listen(s, 4) != 0) die("listen");
    return s;
}

static void accept_one(int ls, SSL_CTX *ctx) {
    fd = accept(ls, NULL, NULL);
    if (fd < 0) die("accept");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl = SSL_new(ctx);
    /* Read ahead: one read(2) takes several TLS records. */
    SSL_set_read_ahead(ssl, 1);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) die("TLS accept");
    incap = 2 * MAX_MESSAGE + READ_CHUNK;
    inbuf = malloc(incap);
    msg = malloc(MAX_MESSAGE);
    handshake();
}

static void print_result(const char *mode, double t0, double t1, double c0, double c1) {
    printf("{\"mode\":\"%s\",\"wall_s\":%.6f,\"sink_cpu_s\":%.6f,\"recv_bytes\":%llu,"
           "\"frames\":%llu,\"lines\":%llu,\"hello_bytes\":%zu,\"runs\":[",
           mode, t1 - t0, c1 - c0, (unsigned long long)total_recv,
           (unsigned long long)total_frames, (unsigned long long)total_lines, hello_bytes);
    for (int i = 0; i < sent_runs; i++) {
        Run *r = &runs[i];
        printf("%s{\"latency_ms\":%.4f,\"accepted_ms\":%.4f,\"bytes\":%llu,\"frames\":%llu,"
               "\"lines\":%llu,\"outcome\":\"%s\",\"counts\":%s}",
               i ? "," : "", (r->finished - r->sent) * 1e3,
               r->accepted > 0 ? (r->accepted - r->sent) * 1e3 : -1.0,
               (unsigned long long)r->bytes, (unsigned long long)r->frames,
               (unsigned long long)r->lines, r->outcome,
               r->counts[0] == '{' ? r->counts : "null");
    }
    printf("]}\n");
    fflush(stdout);
}

static int serve(int argc, char **argv) {
    if (argc < 6) die("usage: ward-sink serve PORT CERT KEY MODE [options]");
    int port = atoi(argv[2]);
    const char *cert = argv[3], *key = argv[4], *mode = argv[5], *ready = NULL;
    for (int i = 6; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--action")) action = argv[i + 1];
        else if (!strcmp(argv[i], "--args")) args_json = argv[i + 1];
        else if (!strcmp(argv[i], "--runs")) total_runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--inflight")) inflight = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--read-rate")) read_rate = atof(argv[i + 1]) * 1e6;
        else if (!strcmp(argv[i], "--idle-ms")) idle_ms = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--ready")) ready = argv[i + 1];
        else if (!strcmp(argv[i], "--id-prefix")) id_prefix = argv[i + 1];
        else die("unknown option");
    }
    if (total_runs < 0 || total_runs > MAX_RUNS) die("--runs out of range");
    runs = calloc((size_t)(total_runs ? total_runs : 1), sizeof(Run));
    SSL_CTX *ctx = server_ctx(cert, key);
    int ls = listen_on(port);
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f) { fprintf(f, "%d\n", getpid()); fclose(f); }
    }
    accept_one(ls, ctx);
    while (!hello_seen) {
        if (!parse_frames()) die("closed before hello");
        if (hello_seen) break;
        if (read_some(-1) < 0) die("closed before hello");
    }
    double idle_end = now_s() + idle_ms / 1e3;
    while (idle_ms > 0 && now_s() < idle_end) {
        if (read_some(50) < 0) die("closed while idle");
        parse_frames();
    }
    double t0 = now_s(), c0 = cpu_s();
    uint64_t recv0 = total_recv;
    for (int i = 0; i < inflight && sent_runs < total_runs; i++) send_run();
    while (finished_runs < total_runs) {
        long r = read_some(60000);
        if (r < 0) die("connection lost during runs");
        if (r == 0) die("no message for 60 s");
        if (!parse_frames()) die("closed during runs");
        if (read_rate > 0) {
            double ahead = (double)(total_recv - recv0) / read_rate - (now_s() - t0);
            if (ahead > 0) usleep((useconds_t)(ahead * 1e6));
        }
    }
    double t1 = now_s(), c1 = cpu_s();
    print_result(mode, t0, t1, c0, c1);
    /* Close politely so ward logs no error; it reconnects, which is harmless. */
    unsigned char code[2] = {0x03, 0xe8};
    send_frame(8, code, 2);
    SSL_shutdown(ssl);
    close(fd);
    (void)cmp_double;
    return 0;
}

/* ---- the ceiling: a client in this binary floods the sink ---- */

static void flood_client(int port, const char *ca, uint64_t bytes) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) die("CA");
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
    SSL *c = SSL_new(ctx);
    SSL_set_fd(c, s);
    if (SSL_connect(c) != 1) die("TLS connect");
    const char *up = "GET /v1/runner HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ward.v1\r\n\r\n";
    SSL_write(c, up, (int)strlen(up));
    char resp[1024];
    int got = 0;
    while (!strstr(resp, "\r\n\r\n")) {
        int r = SSL_read(c, resp + got, (int)sizeof resp - 1 - got);
        if (r <= 0) die("upgrade answer");
        got += r;
        resp[got] = 0;
    }
    /* One run.output of 256 lines of about 100 bytes each: ward's batch shape. */
    static char body[64 * 1024];
    size_t bl = (size_t)snprintf(body, sizeof body,
                                 "{\"type\":\"run.output\",\"run\":\"b-0\",\"frame\":1,\"lines\":[");
    for (int i = 0; i < 256; i++)
        bl += (size_t)snprintf(body + bl, sizeof body - bl,
                               "%s{\"stream\":\"stdout\",\"seq\":%d,\"text\":\"2024-05-01T12:00:"
                               "00Z web-1 app[123]: GET /api/v1/items?page=%d 200 12ms\","
                               "\"eol\":\"lf\"}",
                               i ? "," : "", i + 1, i);
    bl += (size_t)snprintf(body + bl, sizeof body - bl, "]}");
    unsigned char frame[70 * 1024];
    frame[0] = 0x81;
    frame[1] = 0x80 | 126;
    frame[2] = (unsigned char)(bl >> 8);
    frame[3] = (unsigned char)bl;
    unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(frame + 4, mask, 4);
    for (size_t i = 0; i < bl; i++) frame[8 + i] = (unsigned char)body[i] ^ mask[i & 3];
    size_t fl = 8 + bl;
    const char *hello = "{\"type\":\"hello\",\"protocol\":1}";
    unsigned char hf[64];
    size_t hl = strlen(hello);
    hf[0] = 0x81;
    hf[1] = (unsigned char)(0x80 | hl);
    memcpy(hf + 2, mask, 4);
    for (size_t i = 0; i < hl; i++) hf[6 + i] = (unsigned char)hello[i] ^ mask[i & 3];
    SSL_write(c, hf, (int)(6 + hl));
    /* Wait for the run request, then flood, then finish the run. */
    unsigned char rb[8192];
    if (SSL_read(c, rb, sizeof rb) <= 0) die("no run request");
    uint64_t sent = 0;
    while (sent < bytes) {
        if (SSL_write(c, frame, (int)fl) <= 0) die("flood write");
        sent += fl;
    }
    const char *fin = "{\"type\":\"run.finished\",\"run\":\"b-0\",\"outcome\":\"exited\","
                      "\"counts\":{}}";
    size_t finl = strlen(fin);
    unsigned char ff[256];
    ff[0] = 0x81;
    ff[1] = (unsigned char)(0x80 | finl);
    memcpy(ff + 2, mask, 4);
    for (size_t i = 0; i < finl; i++) ff[6 + i] = (unsigned char)fin[i] ^ mask[i & 3];
    SSL_write(c, ff, (int)(6 + finl));
    while (SSL_read(c, rb, sizeof rb) > 0) {}
    exit(0);
}

static int ceiling(int argc, char **argv) {
    if (argc < 6) die("usage: ward-sink ceiling CERT KEY CA MIB");
    uint64_t bytes = (uint64_t)atoll(argv[5]) << 20;
    SSL_CTX *ctx = server_ctx(argv[2], argv[3]);
    int ls = listen_on(0);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    int port = ntohs(a.sin_port);
    pid_t child = fork();
    if (child == 0) flood_client(port, argv[4], bytes);
    runs = calloc(1, sizeof(Run));
    accept_one(ls, ctx);
    while (!hello_seen) {
        if (!parse_frames()) die("closed before hello");
        if (hello_seen) break;
        if (read_some(-1) < 0) die("closed before hello");
    }
    double t0 = now_s(), c0 = cpu_s();
    uint64_t recv0 = total_recv;
    send_run();
    while (finished_runs < 1) {
        if (read_some(60000) <= 0) die("flood ended early");
        if (!parse_frames()) die("closed during flood");
    }
    double t1 = now_s(), c1 = cpu_s();
    SSL_shutdown(ssl);
    close(fd);
    waitpid(child, NULL, 0);
    double mb = (double)(total_recv - recv0) / 1e6;
    printf("{\"mode\":\"ceiling\",\"wall_s\":%.6f,\"sink_cpu_s\":%.6f,\"recv_bytes\":%llu,"
           "\"lines\":%llu,\"mb_per_s\":%.1f,\"cipher\":\"%s\"}\n",
           t1 - t0, c1 - c0, (unsigned long long)(total_recv - recv0),
           (unsigned long long)total_lines, mb / (t1 - t0), SSL_get_cipher_name(ssl));
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "serve")) return serve(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "ceiling")) return ceiling(argc, argv);
    fprintf(stderr, "usage: ward-sink serve PORT CERT KEY MODE [options] | "
                    "ward-sink ceiling CERT KEY CA MIB\n");
    return 2;
}
