/* strlist.h: a growable list of owned strings. */
#ifndef FEEDMUX_STRLIST_H
#define FEEDMUX_STRLIST_H

#include <stddef.h>

struct strlist {
	char **v;
	size_t n;
	size_t cap;
};

void strlist_init(struct strlist *l);
/* Append a copy of s. */
void strlist_add(struct strlist *l, const char *s);
/* Append s, taking ownership. */
void strlist_take(struct strlist *l, char *s);
void strlist_addf(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strlist_contains(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

#endif
