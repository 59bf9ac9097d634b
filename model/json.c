/*
 * json.c - whether some bytes hold one whole JSON object, may still become
 * one with more bytes, or never can, and then at which byte they went
 * wrong: a spec or a heartbeat arriving in several write() calls is
 * refused in the one that spoils it.
 *
 * yajl's incremental parser checks the grammar.  A scan of its own adds
 * what yajl lets through that cJSON, which parses the object afterwards,
 * would take otherwise or refuse: \u0000 (cJSON cuts the string there),
 * unpaired UTF-16 surrogates (cJSON refuses them), UTF-8 beyond the bit
 * patterns yajl checks (overlong forms, surrogates, past U+10FFFF), the
 * vertical tab and form feed that yajl takes for blanks, and nesting
 * deeper than JSON_DEPTH_MAX (cJSON stops at 1000).
 *
 * yajl holds a token back until it has seen the byte after it (a number
 * may go on), so an object whose last token cannot stand where it is
 * ({"a" 1) would read as incomplete.  The token is therefore finished
 * (a string closed, a literal spelled out, a number ended) and the parser
 * asked whether it takes it.  A prefix that passes is one some bytes can
 * still complete; the first bad byte ends the shortest one that does not,
 * found by bisection.
 */
#include "model_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define JSON_DEPTH_MAX 64         /* objects and arrays inside each other */
#define JSON_KEY_SHOWN 40         /* of a key, in a message */
#define JSON_FIELD_MAX 160        /* a field's path, in a message */
#define JSON_FINISH_MAX 16        /* what finishes a string: \uDC00" */

#define UNPAIRED "an unpaired UTF-16 surrogate"

/* The string scan: where it is, and the first bad byte it saw. */
struct json_scan {
	size_t bad;               /* index of the first bad byte, or len */
	const char *what;         /* "not JSON", "invalid UTF-8", ... */
	const char *why;          /* what is wrong there, or NULL */
	int started;              /* the object's '{' was seen */
	int depth;
	int in_string;
	int escape;               /* after a backslash */
	int hex;                  /* hex digits of a \u still to come */
	unsigned code;            /* the \u's value so far */
	int low;                  /* a low surrogate must follow: 1 its
				     backslash, 2 its 'u', 3 its digits */
	int utf8;                 /* UTF-8 continuation bytes to come */
	unsigned char lo, hi;     /* the range of the next one */
};

/* Why `len` bytes are refused: the scan's words or yajl's, and whether
 * the bad byte is inside a string (whose field the message names). */
struct json_why {
	const char *what;
	char why[128];
	int in_string;
};

static int json_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int json_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int scan_bad(struct json_scan *s, const char *what, const char *why)
{
	s->what = what;
	s->why = why;
	return -1;
}

/* The first byte of a UTF-8 sequence (RFC 3629): how many follow, and the
 * range of the next. */
static int scan_utf8_lead(struct json_scan *s, unsigned char c)
{
	s->lo = 0x80;
	s->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		s->utf8 = 1;
	else if (c >= 0xe0 && c <= 0xef)
		s->utf8 = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		s->utf8 = 3;
	else
		return scan_bad(s, "invalid UTF-8", NULL);
	if (c == 0xe0)
		s->lo = 0xa0;           /* not overlong */
	else if (c == 0xed)
		s->hi = 0x9f;           /* not a surrogate */
	else if (c == 0xf0)
		s->lo = 0x90;           /* not overlong */
	else if (c == 0xf4)
		s->hi = 0x8f;           /* not past U+10FFFF */
	return 0;
}

/* One hex digit of a \u escape. */
static int scan_hex(struct json_scan *s, unsigned char c)
{
	int d = json_hex(c), at = 4 - s->hex;

	if (d < 0)
		return scan_bad(s, "not JSON", "\\u takes four hex digits");
	if (s->low == 3 && ((at == 0 && d != 0xd) || (at == 1 && d < 0xc)))
		return scan_bad(s, UNPAIRED, NULL);
	if (s->low != 3 && at == 1 && s->code == 0xd && d >= 0xc)
		return scan_bad(s, UNPAIRED, NULL);
	s->code = s->code * 16 + (unsigned)d;
	if (--s->hex)
		return 0;
	if (s->low == 3)
		s->low = 0;
	else if (s->code == 0)
		return scan_bad(s, "\\u0000", "a string cannot hold a NUL");
	else if (s->code >= 0xd800 && s->code <= 0xdbff)
		s->low = 1;
	return 0;
}

/* One byte inside a string. */
static int scan_string(struct json_scan *s, unsigned char c)
{
	if (s->utf8) {
		if (c < s->lo || c > s->hi)
			return scan_bad(s, "invalid UTF-8", NULL);
		s->utf8--;
		s->lo = 0x80;
		s->hi = 0xbf;
		return 0;
	}
	if (s->hex)
		return scan_hex(s, c);
	if (s->escape) {
		s->escape = 0;
		if (s->low == 2 && c != 'u')
			return scan_bad(s, UNPAIRED, NULL);
		if (c == 'u') {
			s->hex = 4;
			s->code = 0;
			if (s->low == 2)
				s->low = 3;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return scan_bad(s, "not JSON", "not an escape of JSON");
		}
		return 0;
	}
	if (s->low == 1) {
		if (c != '\\')
			return scan_bad(s, UNPAIRED, NULL);
		s->low = 2;
		s->escape = 1;
		return 0;
	}
	if (c == '\\')
		s->escape = 1;
	else if (c == '"')
		s->in_string = 0;
	else if (c == 0)
		return scan_bad(s, "not JSON", "a NUL byte");
	else if (c < 0x20)
		return scan_bad(s, "not JSON", "a control character must be"
				" escaped in a string");
	else if (c >= 0x80)
		return scan_utf8_lead(s, c);
	return 0;
}

/* One byte outside strings. */
static int scan_outside(struct json_scan *s, unsigned char c)
{
	if (!s->started) {
		if (json_blank(c))
			return 0;
		if (c != '{')
			return c ? scan_bad(s, "not a JSON object",
					"it must start with '{'") :
				scan_bad(s, "not JSON", "a NUL byte");
		s->started = 1;
	}
	switch (c) {
	case '"':
		s->in_string = 1;
		return 0;
	case '{':
	case '[':
		if (++s->depth > JSON_DEPTH_MAX)
			return scan_bad(s, "too deep", "objects and arrays"
					" nest at most 64 levels");
		return 0;
	case '}':
	case ']':
		if (s->depth > 0)
			s->depth--;
		return 0;
	case '\v':
		return scan_bad(s, "not JSON", "a vertical tab is not a blank"
				" of JSON");
	case '\f':
		return scan_bad(s, "not JSON", "a form feed is not a blank of"
				" JSON");
	case 0:
		return scan_bad(s, "not JSON", "a NUL byte");
	default:
		return 0;
	}
}

/* Scans `len` bytes; s->bad is len when none is bad.  Until a byte is
 * bad, the bytes are a prefix of JSON as far as yajl is concerned (or
 * yajl refuses them earlier), so strings are where the scan thinks. */
static void json_scan(const char *data, size_t len, struct json_scan *s)
{
	memset(s, 0, sizeof(*s));
	for (s->bad = 0; s->bad < len; s->bad++) {
		unsigned char c = (unsigned char)data[s->bad];

		if (s->in_string ? scan_string(s, c) : scan_outside(s, c))
			return;
	}
}

/* What closes the string the scan is in, into `out`: the rest of a UTF-8
 * sequence or of an escape, the low half of a surrogate pair, '"'. */
static void finish_string(const struct json_scan *s, char *out)
{
	char *w = out;

	if (s->utf8) {
		*w++ = (char)s->lo;
		for (int i = 1; i < s->utf8; i++)
			*w++ = (char)0x80;
	} else if (s->hex && s->low == 3) {
		w += sprintf(w, "%s", &"DC00"[4 - s->hex]);
	} else if (s->hex) {
		unsigned code = s->code;

		for (int i = s->hex; i > 0; i--) {
			*w++ = i == 1 ? '1' : '0';
			code = code * 16 + (i == 1);
		}
		if (code >= 0xd800 && code <= 0xdbff)
			w += sprintf(w, "\\uDC00");
	} else if (s->escape) {
		w += sprintf(w, "%s", s->low == 2 ? "uDC00" : "n");
	} else if (s->low == 1) {
		w += sprintf(w, "\\uDC00");
	}
	*w++ = '"';
	*w = '\0';
}

static int json_digit(const char *data, size_t i, size_t len)
{
	return i < len && data[i] >= '0' && data[i] <= '9';
}

/* The end of a number that starts at data[i] (JSON's grammar, read as
 * far as it goes, as yajl reads it), or len when it could go on there;
 * *more says whether it needs a digit more to be one. */
static size_t number_end(const char *data, size_t i, size_t len, int *more)
{
	if (i < len && data[i] == '-')
		i++;
	if (i < len && data[i] == '0')
		i++;
	else
		while (json_digit(data, i, len))
			i++;
	*more = i == len && data[i - 1] == '-';
	if (i < len && data[i] == '.') {
		*more = 1;
		for (i++; json_digit(data, i, len); i++)
			*more = 0;
	}
	if (i < len && (data[i] == 'e' || data[i] == 'E')) {
		*more = 1;
		if (i + 1 < len && (data[i + 1] == '+' || data[i + 1] == '-'))
			i++;
		for (i++; json_digit(data, i, len); i++)
			*more = 0;
	}
	return i;
}

/* What finishes the token that yajl holds back at the end of `len` bytes
 * outside strings (the rest of true, false or null; a digit a number
 * needs), "" when none does.  yajl took every byte so far. */
static const char *finish_bare(const char *data, size_t len)
{
	static const char *const literals[] = { "true", "false", "null" };
	size_t i = len;
	int more;

	while (i > 0 && data[i - 1] && strchr("abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-", data[i - 1]))
		i--;
	while (i < len) {
		if (data[i] == '-' || (data[i] >= '0' && data[i] <= '9')) {
			i = number_end(data, i, len, &more);
			if (i == len)
				return more ? "0" : "";
			continue;
		}
		for (int k = 0; k < 3; k++) {
			size_t n = strlen(literals[k]);
			size_t have = len - i < n ? len - i : n;

			if (memcmp(data + i, literals[k], have))
				continue;
			if (have < n)
				return literals[k] + have;
			i += n;
			goto next;
		}
		return "";          /* yajl refused it already */
next:		;
	}
	return "";
}

/* -- where in the object: the field a bad string byte is in ------------ */

struct json_level {
	int map;
	int value;                /* a map: its key was read, not its value */
	size_t index;             /* an array: the element being read */
	char key[JSON_KEY_SHOWN + 4];
};

struct json_walk {
	int depth;
	struct json_level level[JSON_DEPTH_MAX + 1];
};

static int walk_value(void *ctx)
{
	struct json_walk *w = ctx;
	struct json_level *l;

	if (w->depth == 0 || w->depth > JSON_DEPTH_MAX + 1)
		return 1;
	l = &w->level[w->depth - 1];
	if (l->map)
		l->value = 0;
	else
		l->index++;
	return 1;
}

static int walk_null(void *ctx)
{
	return walk_value(ctx);
}

static int walk_bool(void *ctx, int b)
{
	(void)b;
	return walk_value(ctx);
}

static int walk_number(void *ctx, const char *s, size_t len)
{
	(void)s;
	(void)len;
	return walk_value(ctx);
}

static int walk_string(void *ctx, const unsigned char *s, size_t len)
{
	(void)s;
	(void)len;
	return walk_value(ctx);
}

static int walk_open(struct json_walk *w, int map)
{
	if (w->depth <= JSON_DEPTH_MAX)
		memset(&w->level[w->depth], 0, sizeof(w->level[0]));
	if (w->depth <= JSON_DEPTH_MAX)
		w->level[w->depth].map = map;
	w->depth++;
	return 1;
}

static int walk_close(void *ctx)
{
	struct json_walk *w = ctx;

	w->depth--;
	return walk_value(ctx);
}

static int walk_map(void *ctx)
{
	return walk_open(ctx, 1);
}

static int walk_array(void *ctx)
{
	return walk_open(ctx, 0);
}

/* A key as a message may show it: printable ASCII, '?' for the rest. */
static int walk_key(void *ctx, const unsigned char *key, size_t len)
{
	struct json_walk *w = ctx;
	struct json_level *l;
	size_t n = len > JSON_KEY_SHOWN ? JSON_KEY_SHOWN : len;

	if (w->depth == 0 || w->depth > JSON_DEPTH_MAX + 1)
		return 1;
	l = &w->level[w->depth - 1];
	for (size_t i = 0; i < n; i++)
		l->key[i] = key[i] >= 0x20 && key[i] < 0x7f ? (char)key[i] :
			'?';
	snprintf(l->key + n, sizeof(l->key) - n, "%s",
			len > n ? "..." : "");
	l->value = 1;
	return 1;
}

static const yajl_callbacks walk_callbacks = {
	.yajl_null = walk_null,
	.yajl_boolean = walk_bool,
	.yajl_number = walk_number,
	.yajl_string = walk_string,
	.yajl_start_map = walk_map,
	.yajl_map_key = walk_key,
	.yajl_end_map = walk_close,
	.yajl_start_array = walk_array,
	.yajl_end_array = walk_close,
};

/* " in field 'a.b[2]'" (or " in a key of 'a'") for the string being read
 * after the `len` good bytes of `data`, into `out`. */
static void json_field(const char *data, size_t len, char *out,
		size_t cap)
{
	struct json_walk w = { 0 };
	char path[JSON_FIELD_MAX] = "";
	size_t n = 0;
	int key = 0;
	yajl_handle h = yajl_alloc(&walk_callbacks, NULL, &w);

	*out = '\0';
	if (!h)
		return;
	yajl_parse(h, (const unsigned char *)data, len);
	yajl_free(h);
	if (w.depth == 0 || w.depth > JSON_DEPTH_MAX)
		return;
	for (int i = 0; i < w.depth && n < sizeof(path); i++) {
		const struct json_level *l = &w.level[i];

		if (l->map && !l->value) {
			key = 1;            /* the string is a key of this */
			break;
		}
		n += (size_t)(l->map ? snprintf(path + n, sizeof(path) - n,
				"%s%s", n ? "." : "", l->key) :
			snprintf(path + n, sizeof(path) - n, "[%zu]",
				l->index));
	}
	if (n >= sizeof(path))
		snprintf(path + sizeof(path) - 4, 4, "...");
	if (key)
		snprintf(out, cap, *path ? " in a key of '%s'" : " in a key",
				path);
	else
		snprintf(out, cap, " in field '%s'", path);
}

/* -- the state of a prefix --------------------------------------------- */

/* yajl's words for its error, without "parse error: " and the end. */
static void yajl_why(yajl_handle h, struct json_why *why)
{
	unsigned char *text = yajl_get_error(h, 0, NULL, 0);
	const char *s = text ? (const char *)text : "refused by yajl";
	const char *colon = strstr(s, "error: ");
	size_t n;

	if (colon)
		s = colon + strlen("error: ");
	if (!strncmp(s, "trailing garbage", 16))
		s = "something follows the JSON object";
	n = strcspn(s, "\n");
	if (n && s[n - 1] == '.')
		n--;
	snprintf(why->why, sizeof(why->why), "%.*s", (int)n, s);
	why->what = "not JSON";
	if (text)
		yajl_free_error(h, text);
}

/* 0 when `len` bytes hold one whole object, MODEL_JSON_MORE while more
 * could complete one, -EINVAL (and why, if `why`) when none can. */
static int json_state(const char *data, size_t len, struct json_why *why)
{
	char finish[JSON_FINISH_MAX];
	struct json_scan s;
	yajl_handle h;
	yajl_status st;
	int ret;

	json_scan(data, len, &s);
	if (s.bad < len) {
		if (why) {
			why->what = s.what;
			snprintf(why->why, sizeof(why->why), "%s",
					s.why ? s.why : "");
			why->in_string = s.in_string;
		}
		return -EINVAL;
	}
	if (!s.started)
		return MODEL_JSON_MORE;
	h = yajl_alloc(NULL, NULL, NULL);
	if (!h)
		return -ENOMEM;
	if (s.in_string)
		finish_string(&s, finish);
	else
		snprintf(finish, sizeof(finish), "%s",
				finish_bare(data, len));
	st = yajl_parse(h, (const unsigned char *)data, len);
	if (st == yajl_status_ok && *finish)
		st = yajl_parse(h, (const unsigned char *)finish,
				strlen(finish));
	if (st == yajl_status_ok)     /* ends a number */
		st = yajl_parse(h, (const unsigned char *)" ", 1);
	if (st != yajl_status_ok) {
		if (why) {
			yajl_why(h, why);
			why->in_string = 0;
		}
		ret = -EINVAL;
	} else {
		ret = yajl_complete_parse(h) == yajl_status_ok && !*finish ?
			0 : MODEL_JSON_MORE;
	}
	yajl_free(h);
	return ret;
}

int model_json_check(const char *what, const char *data, size_t len,
		size_t *bad)
{
	struct json_why why = { 0 };
	char field[JSON_FIELD_MAX + 24] = "";
	size_t lo = 0, hi = len;
	int ret = json_state(data, len, NULL);

	if (ret != -EINVAL)
		return ret == -ENOMEM ? model_fail(ret, "out of memory") : ret;
	/* the shortest prefix no bytes can complete ends at the bad byte */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (json_state(data, mid, NULL) == -EINVAL)
			hi = mid;
		else
			lo = mid;
	}
	json_state(data, hi, &why);
	if (why.in_string)
		json_field(data, hi - 1, field, sizeof(field));
	if (bad)
		*bad = hi - 1;
	return model_fail(-EINVAL, "%s%s%s at byte %zu%s%s%s", what ? what : "",
			what ? ": " : "", why.what, hi, field,
			*why.why ? ": " : "", why.why);
}

int model_json_state(const char *data, size_t len)
{
	return model_json_check(NULL, data, len, NULL);
}
