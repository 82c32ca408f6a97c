#ifndef TOUCHDOWN_CZSTD_SHIM_H
#define TOUCHDOWN_CZSTD_SHIM_H
#include <zstd.h>
#endif
