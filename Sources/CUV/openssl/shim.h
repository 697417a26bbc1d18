/* OpenSSL 3. Function-like macros Swift cannot import get copenssl_ shims. */
#ifndef WARD_COPENSSL_SHIM_H
#define WARD_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static inline long copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int v) {
    return SSL_CTX_set_min_proto_version(ctx, v);
}

static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline size_t copenssl_bio_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}

/* SSL_OP_NO_RENEGOTIATION is built from the SSL_OP_BIT macro. A client that
 * refuses renegotiation has no handshake hiding inside SSL_read/SSL_write. */
static inline void copenssl_ctx_refuse_renegotiation(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
}

#endif
