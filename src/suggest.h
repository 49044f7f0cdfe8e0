/* suggest.h - "did you mean": the name nearest to a word a user mistyped
 * (an unknown long option), among names offered one at a time, so that a
 * caller's table is walked as it is, with no copy. Pure: no allocation, no
 * I/O, no global state; a struct suggest lives on the caller's stack and
 * serves one lookup. Words and names are byte strings with a length (they
 * need not end in NUL: "--polcy=drop" is looked up as "polcy"). */
#ifndef WEIR_SUGGEST_H
#define WEIR_SUGGEST_H

#include <stddef.h>

/* Words or names longer than this are never near anything. */
#define SUGGEST_MAX_LEN 64

struct suggest {
    const char *word; /* the mistyped word */
    size_t len;       /* its length */
    const char *best; /* the nearest name near enough so far, or NULL */
    size_t best_len;  /* its length */
    size_t distance;  /* best's distance to word */
    int ties;         /* other names offered at that same distance */
};

/* Edit distance between a[0..alen) and b[0..blen): the fewest insertions,
 * deletions, substitutions and swaps of two adjacent bytes that turn one
 * into the other (optimal string alignment, a Damerau-Levenshtein
 * distance). SIZE_MAX when either is longer than SUGGEST_MAX_LEN. */
size_t suggest_distance(const char *a, size_t alen, const char *b, size_t blen);

/* Starts a lookup of word[0..len). */
void suggest_init(struct suggest *s, const char *word, size_t len);

/* Offers name[0..len). It is near enough when its distance to the word is
 * at most 1 for names and words up to 4 bytes, at most 2 otherwise (two
 * typos in "policy", one in "to"). */
void suggest_offer(struct suggest *s, const char *name, size_t len);

/* The name offered that is near enough and nearer than every other name
 * offered, or NULL (none near enough, or two equally near: no guess);
 * its length in *len. */
const char *suggest_result(const struct suggest *s, size_t *len);

#endif
