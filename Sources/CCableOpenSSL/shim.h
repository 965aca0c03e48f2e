#ifndef CCABLE_OPENSSL_SHIM_H
#define CCABLE_OPENSSL_SHIM_H
/* Only OpenSSL 3 APIs: deprecated ones (EC_KEY_*, ECDH_compute_key, AES_encrypt, HMAC_CTX_*) are hidden. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/kdf.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <openssl/obj_mac.h>
#include <openssl/crypto.h>
#endif
