/* suggest.c - the nearest name to a mistyped word; see suggest.h. Pure
 * functions over the caller's bytes: thread-safe, nothing shared. */
#include "suggest.h"

#include <stdint.h>

#include "common.h"

size_t suggest_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen > SUGGEST_MAX_LEN || blen > SUGGEST_MAX_LEN)
        return SIZE_MAX;
    /* Three rows of the dynamic-programming table: i-2, i-1 and i. */
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= blen; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t *cur = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d = MIN(d, prev2[j - 2] + 1);
            cur[j] = d;
        }
    }
    return rows[alen % 3][blen];
}

void suggest_init(struct suggest *s, const char *word, size_t len)
{
    *s = (struct suggest){.word = word, .len = len, .distance = SIZE_MAX};
}

void suggest_offer(struct suggest *s, const char *name, size_t len)
{
    size_t d = suggest_distance(s->word, s->len, name, len);
    size_t limit = MAX(s->len, len) <= 4 ? 1 : 2;
    if (d > limit || d > s->distance)
        return;
    if (d == s->distance) {
        s->ties++;
        return;
    }
    s->best = name;
    s->best_len = len;
    s->distance = d;
    s->ties = 0;
}

const char *suggest_result(const struct suggest *s, size_t *len)
{
    if (!s->best || s->ties)
        return NULL;
    *len = s->best_len;
    return s->best;
}
