/*
 * CRC-32C (Castagnoli, the iSCSI / ext4 / SCTP checksum: reflected
 * polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF), for
 * frame-files transfers where speed matters more than collision resistance.
 * Uses the SSE4.2 crc32 instruction when the CPU has it (chosen at run time;
 * FRAME_FILES_NO_SSE42=1 forces the table code), else slicing-by-8 tables.
 */
#ifndef FF_CRC32C_H
#define FF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Builds the tables; call once before any thread uses crc32c_update. */
void crc32c_init(void);
/* Start with crc = 0; feed the result of each call into the next one. */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
/* "sse4.2" or "table". */
const char *crc32c_impl(void);
void crc32c_force_table(int on);

#endif
