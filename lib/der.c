#include "der.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *
tsr_der_room(struct tsr_der *d, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (d->bad)
		return NULL;
	if (n > SIZE_MAX / 2 - d->len) {
		d->bad = true;
		return NULL;
	}
	if (d->len + n > d->cap) {
		cap = d->cap < 256 ? 256 : d->cap;
		while (cap < d->len + n)
			cap *= 2;
		if ((p = realloc(d->p, cap)) == NULL) {
			d->bad = true;
			return NULL;
		}
		d->p = p;
		d->cap = cap;
	}
	p = d->p + d->len;
	d->len += n;
	return p;
}

void
tsr_der_reserve(struct tsr_der *d, size_t n)
{
	if (tsr_der_room(d, n) != NULL)
		d->len -= n;
}

void
tsr_der_put(struct tsr_der *d, const void *src, size_t n)
{
	uint8_t *p;

	if (n > 0 && (p = tsr_der_room(d, n)) != NULL)
		memcpy(p, src, n);
}

void
tsr_der_head(struct tsr_der *d, uint8_t tag, size_t len)
{
	uint8_t h[2 + sizeof(size_t)];
	size_t n = 0, i, bytes = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else {
		for (i = len; i != 0; i >>= 8)
			bytes++;
		h[n++] = (uint8_t)(0x80 | bytes);
		for (i = bytes; i > 0; i--)
			h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	}
	tsr_der_put(d, h, n);
}

void
tsr_der_tlv(struct tsr_der *d, uint8_t tag, const void *v, size_t n)
{
	tsr_der_head(d, tag, n);
	tsr_der_put(d, v, n);
}

void
tsr_der_uint(struct tsr_der *d, const uint8_t *b, size_t n)
{
	while (n > 1 && b[0] == 0) {
		b++;
		n--;
	}
	if (n > 0 && (b[0] & 0x80) != 0) {
		tsr_der_head(d, 0x02, n + 1);
		tsr_der_put(d, "", 1);
		tsr_der_put(d, b, n);
	} else {
		tsr_der_tlv(d, 0x02, b, n);
	}
}

void
tsr_der_u64(struct tsr_der *d, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	tsr_der_uint(d, b, sizeof(b));
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void
civil(int64_t days, int64_t *y, unsigned int *m, unsigned int *dd)
{
	int64_t z = days + 719468, era, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*dd = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static char *
digits(char *p, unsigned int v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

bool
tsr_der_time(struct tsr_der *d, int64_t t)
{
	char s[16], *p = s;
	int64_t days, y, sec;
	unsigned int m, dd;

	days = (t >= 0 ? t : t - 86399) / 86400;
	sec = t - days * 86400;
	civil(days, &y, &m, &dd);
	if (y < 1950 || y > 9999)
		return false;
	p = y < 2050 ? digits(p, (unsigned int)(y % 100), 2) :
	    digits(p, (unsigned int)y, 4);
	p = digits(p, m, 2);
	p = digits(p, dd, 2);
	p = digits(p, (unsigned int)(sec / 3600), 2);
	p = digits(p, (unsigned int)(sec / 60 % 60), 2);
	p = digits(p, (unsigned int)(sec % 60), 2);
	*p++ = 'Z';
	tsr_der_tlv(d, y < 2050 ? 0x17 : 0x18, s, (size_t)(p - s));
	return true;
}

size_t
tsr_der_open(struct tsr_der *d)
{
	size_t at = d->len;

	(void)tsr_der_room(d, TSR_DER_MAX_HEAD);
	return at;
}

void
tsr_der_close(struct tsr_der *d, size_t at, uint8_t tag)
{
	size_t clen, hl;
	uint8_t *p;

	if (d->bad)
		return;
	clen = d->len - at - TSR_DER_MAX_HEAD;
	d->len = at;
	tsr_der_head(d, tag, clen);	/* fits in TSR_DER_MAX_HEAD */
	hl = d->len - at;
	p = d->p + at;
	memmove(p + hl, p + TSR_DER_MAX_HEAD, clen);
	d->len = at + hl + clen;
}

bool
tsr_der_next(struct tsr_der_in *in, uint8_t tag, struct tsr_der_in *val)
{
	size_t avail = (size_t)(in->end - in->p), hl = 2, len, nb, i;

	if (avail < 2 || in->p[0] != tag)
		return false;
	len = in->p[1];
	if (len & 0x80) {
		nb = len & 0x7f;
		if (nb == 0 || nb > 4 || avail - 2 < nb)
			return false;
		for (len = 0, i = 0; i < nb; i++)
			len = len << 8 | in->p[2 + i];
		hl += nb;
	}
	if (len > avail - hl)
		return false;
	val->p = in->p + hl;
	val->end = val->p + len;
	in->p = val->end;
	return true;
}

/* n decimal digits at p, into *v, if within [lo, hi]. */
static bool
digits_in(const uint8_t *p, int n, unsigned int lo, unsigned int hi,
    unsigned int *v)
{
	int i;

	for (*v = 0, i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned int)(p[i] - '0');
	}
	return *v >= lo && *v <= hi;
}

/* thisUpdate, nextUpdate or revocationDate as tsr_der_time writes them:
 * UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ. */
bool
tsr_der_next_time(struct tsr_der_in *in)
{
	static const unsigned int hi[] = { 12, 31, 23, 59, 59 };
	struct tsr_der_in v;
	unsigned int x;
	int i, y;

	if (tsr_der_next(in, 0x17, &v))
		y = 2;
	else if (tsr_der_next(in, 0x18, &v))
		y = 4;
	else
		return false;
	if (v.end - v.p != y + 11 || v.p[y + 10] != 'Z' ||
	    !digits_in(v.p, y, 0, 9999, &x))
		return false;
	for (i = 0; i < 5; i++)
		if (!digits_in(v.p + y + 2 * i, 2, i < 2 ? 1 : 0, hi[i], &x))
			return false;
	return true;
}
