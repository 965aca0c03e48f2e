#ifndef CCABLE_QRENCODE_SHIM_H
#define CCABLE_QRENCODE_SHIM_H

#include <errno.h>
#include <stddef.h>
#include <qrencode.h>

/// Encodes the NUL-terminated `text` the way the `qrencode` CLI does by default: automatic version
/// (smallest that fits), mixed-mode segmentation hinted with `QR_MODE_8` and case-sensitive, so
/// `FIDO:/` becomes an alphanumeric segment and the digits a numeric one.
///
/// On failure it returns NULL and stores libqrencode's `errno` (EINVAL, ERANGE, ENOMEM) in
/// `*error_number`; on success it stores 0. The value is read here, in C, straight after the call,
/// because by the time Swift code reads `errno` the runtime may already have made other libc calls
/// (allocation, release) that are allowed to overwrite it.
static inline QRcode *cable_qrcode_encode_string(const char *text, QRecLevel level, int *error_number) {
    errno = 0;
    QRcode *code = QRcode_encodeString(text, 0, level, QR_MODE_8, 1);
    *error_number = (code == NULL) ? errno : 0;
    return code;
}

#endif
