/* bloom.h: a Bloom filter over 64-bit keys that are hashes already. It
 * answers "certainly never added" or "maybe added"; keys are never taken
 * out. The store uses one to skip the index lookups that would find
 * nothing for a new item. */
#ifndef FEEDMUX_BLOOM_H
#define FEEDMUX_BLOOM_H

#include <stddef.h>
#include <stdint.h>

struct bloom;

/* A filter sized for capacity keys (10 bits and 3 probes each: about 1.7 %
 * false positives when full). Never NULL (aborts when out of memory). */
struct bloom *bloom_new(size_t capacity);
void bloom_free(struct bloom *b);
void bloom_add(struct bloom *b, uint64_t key);
/* 0 when key was certainly never added, 1 when it may have been. */
int bloom_maybe(const struct bloom *b, uint64_t key);
/* Keys added, and keys the filter was sized for: past that, false
 * positives grow and the owner should build a larger one. */
size_t bloom_count(const struct bloom *b);
size_t bloom_capacity(const struct bloom *b);

#endif
