/* bloom.c: a bit array of 10 bits per key of capacity, with 3 probes per
 * key by double hashing (probe i at h1 + i * h2), each mapped onto the
 * array by a multiply-shift rather than a modulo, so the array need not
 * be a power of two. Keys are hashes already (XXH3), so their bits are
 * used as they are. */
#include "bloom.h"

#include <stdlib.h>

#include "xalloc.h"

#define BLOOM_BITS_PER_KEY 10
#define BLOOM_PROBES 3

struct bloom {
	uint64_t *words;
	uint64_t nbits;
	size_t count, capacity;
};

static uint64_t bloom_bit(const struct bloom *b, uint64_t key, unsigned i);

/* Allocate a filter for capacity keys. */
struct bloom *
bloom_new(size_t capacity)
{
	struct bloom *b = xcalloc(1, sizeof *b);
	size_t nwords;

	if (capacity < 1024)
		capacity = 1024;
	b->capacity = capacity;
	b->nbits = (uint64_t)capacity * BLOOM_BITS_PER_KEY;
	nwords = (size_t)((b->nbits + 63) / 64);
	b->words = xcalloc(nwords, sizeof *b->words);
	return b;
}

/* Free a filter (NULL is fine). */
void
bloom_free(struct bloom *b)
{
	if (b == NULL)
		return;
	free(b->words);
	free(b);
}

/* The bit of probe i of key: the high 32 bits of a 32-bit value times
 * nbits fall evenly on [0, nbits). */
static uint64_t
bloom_bit(const struct bloom *b, uint64_t key, unsigned i)
{
	uint32_t h1 = (uint32_t)key, h2 = (uint32_t)(key >> 32) | 1u;
	uint32_t h = h1 + i * h2;

	return ((uint64_t)h * b->nbits) >> 32;
}

/* Set key's bits. */
void
bloom_add(struct bloom *b, uint64_t key)
{
	for (unsigned i = 0; i < BLOOM_PROBES; i++) {
		uint64_t bit = bloom_bit(b, key, i);

		b->words[bit / 64] |= UINT64_C(1) << (bit % 64);
	}
	b->count++;
}

/* Whether all of key's bits are set. */
int
bloom_maybe(const struct bloom *b, uint64_t key)
{
	for (unsigned i = 0; i < BLOOM_PROBES; i++) {
		uint64_t bit = bloom_bit(b, key, i);

		if (!(b->words[bit / 64] & (UINT64_C(1) << (bit % 64))))
			return 0;
	}
	return 1;
}

/* Keys added so far. */
size_t
bloom_count(const struct bloom *b)
{
	return b->count;
}

/* Keys the filter was sized for. */
size_t
bloom_capacity(const struct bloom *b)
{
	return b->capacity;
}
