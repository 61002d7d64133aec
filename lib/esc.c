#include "esc.h"

const char *
tsr_esc(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, need;

	for (; *p != '\0'; p++) {
		need = *p == '\\' ? 2 : *p < 0x20 || *p > 0x7e ? 4 : 1;
		if (need >= len - o)
			break;
		if (need == 1) {
			buf[o++] = (char)*p;
		} else if (need == 2) {
			buf[o++] = '\\';
			buf[o++] = '\\';
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 0xf];
		}
	}
	buf[o] = '\0';
	return buf;
}
