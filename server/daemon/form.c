#include "form.h"

#include <stdint.h>
#include <string.h>

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the UTF-8 sequence at s (RFC 3629 §4), 0 if invalid. */
static size_t
utf8_seq(const uint8_t *s, size_t len)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static bool
is_utf8(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq((const uint8_t *)s + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* Decode in[0..len) into out (NUL-terminated); false on a bad escape,
 * a NUL byte or invalid UTF-8. */
static bool
decode(const char *in, size_t len, char *out, const char **why)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] == '+') {
			out[o++] = ' ';
		} else if (in[i] != '%') {
			out[o++] = in[i];
		} else if (len - i < 3) {
			*why = "truncated percent-escape";
			return false;
		} else if ((hi = hex_value(in[i + 1])) < 0 ||
		    (lo = hex_value(in[i + 2])) < 0) {
			*why = "malformed percent-escape";
			return false;
		} else {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[o] = '\0';
	if (memchr(out, '\0', o) != NULL) {
		*why = "NUL byte in form";
		return false;
	}
	if (!is_utf8(out, o)) {
		*why = "form is not UTF-8";
		return false;
	}
	return true;
}

/* Add one "name[=value]" segment, decoded into f->buf at *used. */
static bool
add_param(struct form *f, const char *seg, size_t len, size_t *used,
    const char **why)
{
	const char *eq = memchr(seg, '=', len);
	size_t name_len = eq ? (size_t)(eq - seg) : len;
	char *name = f->buf + *used, *value;
	size_t i;

	if (f->n >= FORM_MAX_PARAMS) {
		*why = "too many parameters";
		return false;
	}
	if (!decode(seg, name_len, name, why))
		return false;
	value = name + strlen(name) + 1;
	if (!decode(eq ? eq + 1 : "", eq ? len - name_len - 1 : 0, value,
	    why))
		return false;
	*used = (size_t)(value - f->buf) + strlen(value) + 1;
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->p[i].name, name) == 0) {
			*why = "parameter repeated";
			return false;
		}
	}
	f->p[f->n].name = name;
	f->p[f->n].value = value;
	f->n++;
	return true;
}

bool
form_parse(struct form *f, const char *body, size_t len, const char **why)
{
	const char *seg = body, *end = body + len, *amp;
	const char *dummy;
	size_t used = 0;

	if (why == NULL)
		why = &dummy;
	f->n = 0;
	if (len > FORM_MAX_BODY) {
		*why = "body too large";
		return false;
	}
	while (seg < end) {
		amp = memchr(seg, '&', (size_t)(end - seg));
		if (amp == NULL)
			amp = end;
		if (amp > seg && !add_param(f, seg, (size_t)(amp - seg), &used,
		    why))
			return false;
		seg = amp + 1;
	}
	return true;
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->p[i].name, name) == 0)
			return f->p[i].value;
	return NULL;
}
