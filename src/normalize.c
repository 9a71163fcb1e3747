/* normalize.c: the summary and content go through the allowlist sanitizer
 * (which also makes their URLs absolute); the title, which feeds fill with
 * anything from plain text to entity-encoded markup, becomes plain text;
 * an empty summary or content becomes NULL so the writers omit it. Dates
 * far in the future are clamped to now; an item without any date is
 * flagged, so the store uses its first-seen time and says so. */
#include "normalize.h"

#include <stdlib.h>

#include "sanitize.h"

static void normalize_html(char **field, const char *base_url);

/* Replace an HTML field by its sanitized form; "" becomes NULL. */
static void
normalize_html(char **field, const char *base_url)
{
	char *clean;

	if (*field == NULL)
		return;
	clean = sanitize_html(*field, base_url);
	free(*field);
	*field = NULL;
	if (*clean == '\0')
		free(clean);
	else
		*field = clean;
}

/* Normalize one item. */
int
normalize_item(struct item *it, const char *base_url, time_t now)
{
	int clamped = 0;

	if (it->title != NULL) {
		char *text = sanitize_text(it->title);
		free(it->title);
		it->title = text;
	}
	normalize_html(&it->summary, base_url);
	normalize_html(&it->content, base_url);
	if (it->published > now + NORMALIZE_FUTURE_SLACK) {
		it->published = now;
		it->date_flags |= ITEM_DATE_CLAMPED;
		clamped = 1;
	}
	if (it->updated > now + NORMALIZE_FUTURE_SLACK) {
		it->updated = it->published ? it->published : now;
		it->date_flags |= ITEM_DATE_CLAMPED;
		clamped = 1;
	}
	if (it->published == 0 && it->updated == 0)
		it->date_flags |= ITEM_DATE_MISSING;
	return clamped;
}
