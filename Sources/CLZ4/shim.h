#ifndef TOUCHDOWN_CLZ4_SHIM_H
#define TOUCHDOWN_CLZ4_SHIM_H
#include <lz4frame.h>
#endif
