/* key.h - the key of a record (--key): which lane it runs in.
 *
 * A key spec is parsed once (key_spec_parse) and then read by one thread at
 * a time per key_buf; key_of never allocates past the buffer it is given
 * room in, and a key it cannot find is the empty key (unkeyed). Forms:
 *
 *   N, N,M,...   fields, 1-based; split by one byte (-F) as awk -F does
 *                (empty fields count), or by runs of blanks (space, tab),
 *                leading and trailing blanks ignored, as awk's default does.
 *                Several fields are joined by the separator (a space when
 *                splitting by blanks). A missing field: unkeyed.
 *   re:ERE       the first parenthesised group of the first match of a
 *                POSIX ERE (the whole match when it has no group). No
 *                match, or a group that took no part: unkeyed.
 *   subject:N    the Nth token ('.'-separated) of a --from message's
 *                subject (key_of_subject).
 *
 * key_hash is FNV-1a, 64 bits, over the key's bytes: stable across
 * machines, runs and versions, as --key-sticky and partitions need. */
#ifndef WEIR_KEY_H
#define WEIR_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_FIELDS_MAX 16 /* fields in one N,M,... list */
#define KEY_MAX 4096      /* longest key kept; a longer one is cut here */

enum key_kind { KEY_FIELDS, KEY_REGEX, KEY_SUBJECT };

struct key_spec;

/* Parses `spec` (the text of --key); `sep` is the -F byte when has_sep.
 * Returns 0 and *out, -EINVAL with a message (naming what is wrong, not
 * the flag) in msg, or -ENOMEM. */
int key_spec_parse(const char *spec, bool has_sep, unsigned char sep, struct key_spec **out,
                   char *msg, size_t msglen);
void key_spec_free(struct key_spec *k);
enum key_kind key_spec_kind(const struct key_spec *k);

/* Room for a key that is not a plain slice of its record (joined fields). */
struct key_buf {
    char data[KEY_MAX];
};

/* The key of payload p[0..n) (without its delimiter): *key points into p
 * or into buf, *len its length. Returns false when the record has none
 * (then *len is 0): it is counted unkeyed and shares the empty key. For
 * KEY_SUBJECT specs, use key_of_subject. */
bool key_of(const struct key_spec *k, const char *p, size_t n, struct key_buf *buf,
            const char **key, size_t *len);

/* Whether payload p[0..n) has a key, as key_of says, without finding it:
 * for counting the unkeyed where the key itself is not needed. */
bool key_present(const struct key_spec *k, const char *p, size_t n);

/* The key of a message whose subject is subj[0..n). */
bool key_of_subject(const struct key_spec *k, const char *subj, size_t n, const char **key,
                    size_t *len);

uint64_t key_hash(const char *key, size_t len);

#endif
