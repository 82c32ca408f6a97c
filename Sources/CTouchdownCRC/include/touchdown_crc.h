#ifndef TOUCHDOWN_CRC_H
#define TOUCHDOWN_CRC_H

/*
 * CRC-32/ISO-HDLC (IEEE 802.3, reflected polynomial 0xEDB88320): the CRC that
 * zlib's crc32() computes and that MCAP stores for chunks, the data section,
 * the summary and attachments.
 *
 * A running value starts at 0 and can be fed piecewise, exactly like zlib:
 * crc = td_crc32_update(crc, bytes, count). The pre- and post-inversion happen
 * inside, so td_crc32_update(0, "123456789", 9) == 0xCBF43926.
 *
 * Every function is pure apart from a one-time, race-free CPU feature check, so
 * all of them may be called from any number of threads at once.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Continues `crc` over `length` bytes at `data` and returns the new CRC.
///
/// Uses carry-less multiplication on x86_64 processors that have it (on
/// 64-byte registers with VPCLMULQDQ and AVX-512 where present, PCLMULQDQ on
/// 16-byte ones otherwise) and the table path elsewhere; all give identical
/// results. `data` may be NULL only when `length` is 0. No alignment is required.
uint32_t td_crc32_update(uint32_t crc, const void *data, size_t length);

/// Same result as `td_crc32_update`, always computed with the portable
/// slice-by-16 table path. Exists so tests can check one path against the other.
uint32_t td_crc32_update_portable(uint32_t crc, const void *data, size_t length);

/// Same result, never using the 64-byte registers (PCLMULQDQ where present,
/// tables otherwise). Exists so tests can check the paths against each other.
uint32_t td_crc32_update_narrow(uint32_t crc, const void *data, size_t length);

/// 1 when `td_crc32_update` uses the PCLMULQDQ path on this machine, 0 otherwise.
int td_crc32_accelerated(void);

/// 1 when `td_crc32_update` uses VPCLMULQDQ on 64-byte registers for long inputs.
int td_crc32_wide(void);

#ifdef __cplusplus
}
#endif

#endif /* TOUCHDOWN_CRC_H */
