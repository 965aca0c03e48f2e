#ifndef CCABLE_OPENSSL_SHIM_H
#define CCABLE_OPENSSL_SHIM_H
/* Only OpenSSL 3 APIs: deprecated ones (EC_KEY_*, ECDH_compute_key, AES_encrypt, HMAC_CTX_*) are hidden. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1
#include <stddef.h>
#include <stdint.h>
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
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

/*
 * Helpers for what Swift cannot express safely. Each one only builds an OSSL_PARAM array on the C stack
 * and makes a single OpenSSL call: OSSL_PARAM stores raw pointers to its key names and data, and the
 * name macros import into Swift as `String`, whose temporary C pointers would dangle (toolchain.md
 * §1.4.1). Here the names are C string literals with static storage and the data pointers are the
 * caller's, valid for the duration of the call. No helper allocates or owns an OpenSSL object; the
 * Swift wrappers own every handle. All return OpenSSL's 1 on success.
 */

/* HKDF-SHA256 (extract then expand) on a fresh EVP_KDF_CTX of the "HKDF" algorithm. An empty salt is
 * omitted, which OpenSSL treats as HashLen zero bytes (RFC 5869 §2.2); empty info is omitted too. */
static inline int cable_hkdf_sha256_derive(EVP_KDF_CTX *context,
                                           const uint8_t *ikm, size_t ikm_length,
                                           const uint8_t *salt, size_t salt_length,
                                           const uint8_t *info, size_t info_length,
                                           uint8_t *output, size_t output_length) {
    static const uint8_t empty = 0;
    OSSL_PARAM params[5];
    size_t count = 0;
    params[count++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    /* A non-NULL pointer even for an empty key: OpenSSL then stores a zero-length key rather than none. */
    params[count++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                        (void *)(ikm_length > 0 ? ikm : &empty), ikm_length);
    if (salt_length > 0) {
        params[count++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_length);
    }
    if (info_length > 0) {
        params[count++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_length);
    }
    params[count] = OSSL_PARAM_construct_end();
    return EVP_KDF_derive(context, output, output_length, params);
}

/* Selects SHA-256 for an EVP_MAC_CTX of the "HMAC" algorithm and keys it. An empty key still needs a
 * non-NULL pointer: EVP_MAC_init with a NULL key means "re-initialise with the previous key". */
static inline int cable_hmac_sha256_init(EVP_MAC_CTX *context, const uint8_t *key, size_t key_length) {
    static const uint8_t empty = 0;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_init(context, key_length > 0 ? key : &empty, key_length, params);
}

/* Re-keys an HMAC context whose digest is already set (a duplicate of a template), keeping the digest. */
static inline int cable_hmac_rekey(EVP_MAC_CTX *context, const uint8_t *key, size_t key_length) {
    static const uint8_t empty = 0;
    return EVP_MAC_init(context, key_length > 0 ? key : &empty, key_length, NULL);
}

/* A P-256 key pair EVP_PKEY from a validated 32-byte big-endian scalar and its public point, on a context
 * after EVP_PKEY_fromdata_init. OSSL_PARAM integers are native-endian, so the scalar is byte-swapped into a
 * stack buffer that is cleansed before returning. */
static inline int cable_p256_key_pair_fromdata(EVP_PKEY_CTX *context,
                                               const uint8_t *scalar_big_endian,
                                               const uint8_t *point, size_t point_length,
                                               EVP_PKEY **key) {
    uint8_t scalar_native[32];
    for (size_t i = 0; i < 32; i++) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        scalar_native[i] = scalar_big_endian[i];
#else
        scalar_native[i] = scalar_big_endian[31 - i];
#endif
    }
    OSSL_PARAM params[4];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)SN_X9_62_prime256v1, 0);
    params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, scalar_native, sizeof(scalar_native));
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, point_length);
    params[3] = OSSL_PARAM_construct_end();
    int result = EVP_PKEY_fromdata(context, key, EVP_PKEY_KEYPAIR, params);
    OPENSSL_cleanse(scalar_native, sizeof(scalar_native));
    return result;
}

/* A fresh P-256 key pair generated on a context made from `parameters` (a key-less EVP_PKEY holding the
 * group), so OpenSSL copies the group instead of rebuilding it from its name as EVP_PKEY_fromdata does.
 * Writes the 32-byte big-endian scalar and the encoded (uncompressed) public point; the BIGNUM the scalar
 * passes through is cleared when freed. On failure nothing is returned and *key stays NULL. */
static inline int cable_p256_generate(EVP_PKEY *parameters, EVP_PKEY **key,
                                      uint8_t *scalar_big_endian,
                                      uint8_t *point, size_t point_capacity, size_t *point_length) {
    *key = NULL;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_pkey(NULL, parameters, NULL);
    if (context == NULL) return 0;
    EVP_PKEY *generated = NULL;
    int ok = EVP_PKEY_keygen_init(context) == 1 && EVP_PKEY_keygen(context, &generated) == 1;
    EVP_PKEY_CTX_free(context);
    if (!ok) return 0;
    BIGNUM *scalar = NULL;
    ok = EVP_PKEY_get_bn_param(generated, OSSL_PKEY_PARAM_PRIV_KEY, &scalar) == 1
         && BN_bn2binpad(scalar, scalar_big_endian, 32) == 32
         && EVP_PKEY_get_octet_string_param(generated, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            point, point_capacity, point_length) == 1;
    BN_clear_free(scalar);
    if (!ok) {
        OPENSSL_cleanse(scalar_big_endian, 32);
        EVP_PKEY_free(generated);
        return 0;
    }
    *key = generated;
    return 1;
}

#endif
