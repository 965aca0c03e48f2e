#ifndef CCABLE_QRENCODE_SHIM_H
#define CCABLE_QRENCODE_SHIM_H
#include <qrencode.h>
#endif
