/*
 * der: just enough DER (X.690) to write a CRL and to read back one that
 * tessera wrote.  The writer appends to a growing buffer; the reader
 * walks TLVs of a byte range, every length checked against it.
 */
#ifndef TSR_DER_H
#define TSR_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A growing DER buffer, zero-initialized to start.  A failed allocation
 * sets bad, and every later write is dropped, so callers check once at
 * the end; p is theirs to free().
 */
struct tsr_der {
	uint8_t	*p;
	size_t	 len, cap;
	bool	 bad;
};

/* Room for n more bytes without moving: one allocation for a large
 * value instead of a series of copies. */
void tsr_der_reserve(struct tsr_der *d, size_t n);
void tsr_der_put(struct tsr_der *d, const void *src, size_t n);
/* Identifier and definite length (X.690 §8.1.3). */
void tsr_der_head(struct tsr_der *d, uint8_t tag, size_t len);
/* A whole TLV whose value is v[0..n). */
void tsr_der_tlv(struct tsr_der *d, uint8_t tag, const void *v, size_t n);
/* INTEGER of the unsigned big-endian b[0..n), minimal. */
void tsr_der_uint(struct tsr_der *d, const uint8_t *b, size_t n);
void tsr_der_u64(struct tsr_der *d, uint64_t v);
/* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after, in
 * UTC with seconds; false (nothing written) before 1950 or after 9999. */
bool tsr_der_time(struct tsr_der *d, int64_t t);

/*
 * A constructed value written in place: tsr_der_open leaves room for
 * the longest header and returns where it starts; tsr_der_close writes
 * the header and moves the contents down to meet it.  A large CRL is so
 * built in one buffer, touched once, instead of being copied from one
 * buffer to the next at every level.
 */
#define TSR_DER_MAX_HEAD	6
size_t tsr_der_open(struct tsr_der *d);
void tsr_der_close(struct tsr_der *d, size_t at, uint8_t tag);

/* A DER reader over [p, end). */
struct tsr_der_in {
	const uint8_t	*p, *end;
};

/* One TLV of the given tag with a definite length of at most four
 * bytes: its value into val, and in moved past it; false, moving
 * nothing, if there is none. */
bool tsr_der_next(struct tsr_der_in *in, uint8_t tag,
    struct tsr_der_in *val);
/* A time as tsr_der_time writes it (UTCTime YYMMDDHHMMSSZ or
 * GeneralizedTime YYYYMMDDHHMMSSZ, fields in range), moved past. */
bool tsr_der_next_time(struct tsr_der_in *in);

#endif
