/*
 * gen.c - deterministic benchmark input for weir.
 *
 *     gen [--seed S] lines100 N   N lines of exactly 100 bytes (newline incl.):
 *                                 words from a fixed vocabulary, mixed case
 *     gen [--seed S] short N      N lines of 12..20 bytes (uniform, mean 16)
 *     gen [--seed S] random N     N lines of 1..4096 bytes (uniform), printable
 *
 * Output goes to stdout. The same seed and arguments give the same bytes on
 * every machine: the generator is splitmix64, and nothing depends on the
 * locale, the clock or the C library's rand().
 *
 * Vocabulary note for the grep scenario: "quartz" and "zebra" each appear
 * in no other word, so the ERE `[Qq]uartz|zebra[0-9]` matches a few percent
 * of lines100 lines (bench/run.sh reports the exact share).
 *
 * Single-threaded; a 1 MiB buffer is flushed with fwrite.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_DEFAULT_SEED UINT64_C(0x5745495242454e43) /* "WEIRBENC" */
#define GEN_BUF_SIZE (1u << 20)
#define GEN_LINE100 100u
#define GEN_RANDOM_MAX 4096u

struct gen_out {
	unsigned char buf[GEN_BUF_SIZE]; /* pending bytes */
	size_t len;                      /* bytes used in buf */
	int failed;                      /* a write failed */
};

static uint64_t rng_state;

/* splitmix64: one add, two multiply-xorshift rounds; passes BigCrush. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n) for n < 2^32, by multiply-shift (bias below 2^-32). */
static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

static void out_flush(struct gen_out *o)
{
	if (o->len > 0 && fwrite(o->buf, 1, o->len, stdout) != o->len)
		o->failed = 1;
	o->len = 0;
}

/* Room for `need` more bytes (need <= GEN_BUF_SIZE); returns the write point. */
static unsigned char *out_reserve(struct gen_out *o, size_t need)
{
	if (GEN_BUF_SIZE - o->len < need)
		out_flush(o);
	return o->buf + o->len;
}

static const char *const vocab[] = {
	"river", "stone", "cloud", "amber", "delta", "ember", "frost", "grove",
	"harbor", "island", "jungle", "kettle", "lantern", "meadow", "nectar",
	"orchard", "pepper", "quiver", "ribbon", "saddle", "timber", "umbrella",
	"velvet", "willow", "yonder", "anchor", "basket", "candle", "dragon",
	"engine", "falcon", "garden", "hammer", "insect", "jacket", "kitten",
	"ladder", "magnet", "needle", "object", "pillow", "rocket", "silver",
	"tunnel", "violin", "window", "yellow", "apple", "bread", "chair", "dance",
	"eagle", "flame", "glass", "heart", "ivory", "jewel", "knife", "lemon",
	"mango", "night", "ocean", "piano", "queen", "radio", "sugar", "tiger",
	"uncle", "vapor", "wheat", "youth", "acorn", "bison", "coral", "dune",
	"elm", "fig", "gull", "hill", "ink", "jar", "kelp", "lake", "moss", "nut",
	"oak", "pond", "rain", "sand", "tide", "urn", "vine", "wolf", "yak", "ash",
	"bay", "cove", "dew", "fern", "gale", "hay", "iris", "jade", "kiln",
	"loam", "mist", "nest", "opal", "peak", "reed", "snow", "thaw", "veil",
	"wave", "arch", "bolt", "crate", "drum", "flint", "gear", "hinge", "lever",
	"mortar", "nozzle", "pulley", "rivet", "spring", "thread", "valve",
	"wrench", "axle", "beacon", "cipher", "dynamo", "filter", "gadget",
	"helix", "ingot", "joule", "kernel", "lattice", "matrix", "nebula",
	"orbit", "photon", "quasar", "radius", "signal", "tensor", "vector",
	"wattage", "xenon", "zenith", "abacus", "ballot", "census", "docket",
	"edict", "forum", "guild", "herald", "index", "jury", "ledger", "mandate",
	"notary", "parcel", "quota", "rostrum", "senate", "tariff", "usher",
	"verdict", "warrant", "atlas", "border", "canyon", "desert", "estuary",
	"fjord", "glacier", "highland", "inlet", "karst", "lagoon", "mesa",
	"oasis", "plateau", "ravine", "savanna", "tundra", "upland", "valley",
	"wetland", "basil", "cumin", "dill", "fennel", "garlic", "lovage", "mint",
	"nutmeg", "oregano", "parsley", "rosemary", "saffron", "thyme", "vanilla",
	"wasabi", "badger", "cobra", "donkey", "ferret", "gopher", "heron",
	"iguana", "jackal", "koala", "lemur", "marmot", "newt", "otter", "panda",
	"rabbit", "salmon", "toucan", "urchin", "vulture", "walrus", "sparrow",
	"bronze", "copper", "granite", "marble", "slate", "cobalt", "nickel",
	"pewter", "gypsum", "basalt", "chalk", "clay", "pearl", "ruby", "topaz",
	"quartz", "zebra", "north", "south", "east", "west", "early", "late",
	"quick", "slow", "brave", "calm", "eager", "fancy", "gentle", "happy",
};
#define VOCAB_N (sizeof vocab / sizeof vocab[0])

static unsigned char vocab_len[VOCAB_N];

static unsigned char ascii_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

/*
 * One decorated word into w (capacity >= 32); returns its length.
 * Case: 70% lower, 20% Capitalised, 6% UPPER, 4% random per letter.
 * One word in eight gets a digit appended ("zebra7").
 */
static size_t make_word(unsigned char *w)
{
	uint64_t r = rng_next();
	uint32_t k = (uint32_t)(((r >> 32) * VOCAB_N) >> 32);
	size_t n = vocab_len[k];
	unsigned style = (unsigned)(((r & 0xffff) * 100u) >> 16);
	memcpy(w, vocab[k], n);
	if (style >= 70 && style < 90) {
		w[0] = ascii_upper(w[0]);
	} else if (style >= 90 && style < 96) {
		for (size_t i = 0; i < n; i++)
			w[i] = ascii_upper(w[i]);
	} else if (style >= 96) {
		uint64_t bits = rng_next();
		for (size_t i = 0; i < n; i++, bits >>= 1)
			if (bits & 1)
				w[i] = ascii_upper(w[i]);
	}
	if (((r >> 16) & 7) == 0)
		w[n++] = (unsigned char)('0' + (unsigned)((r >> 19) % 10));
	return n;
}

/* 99 bytes of space-separated words, then '\n'. A word that does not fit is
 * cut; a single byte left over becomes a letter glued to the last word. */
static void gen_lines100(struct gen_out *o, uint64_t n)
{
	const size_t body = GEN_LINE100 - 1;
	unsigned char w[32];
	for (uint64_t i = 0; i < n; i++) {
		unsigned char *p = out_reserve(o, GEN_LINE100);
		size_t pos = 0;
		while (pos < body) {
			size_t wl = make_word(w);
			size_t sep = pos > 0 ? 1 : 0;
			size_t left = body - pos;
			if (sep + wl <= left) {
				if (sep)
					p[pos++] = ' ';
				memcpy(p + pos, w, wl);
				pos += wl;
			} else if (left > sep) {
				if (sep)
					p[pos++] = ' ';
				memcpy(p + pos, w, left - sep);
				pos += left - sep;
			} else {
				p[pos++] = (unsigned char)('a' + rng_below(26));
			}
		}
		p[pos++] = '\n';
		o->len += pos;
	}
}

/* 64 symbols: 6 bits each, so one 64-bit draw yields 10 characters. */
static const char short_alpha[65] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _";

static void fill_alpha(unsigned char *p, size_t len)
{
	while (len > 0) {
		uint64_t r = rng_next();
		size_t take = len < 10 ? len : 10;
		for (size_t i = 0; i < take; i++, r >>= 6)
			*p++ = (unsigned char)short_alpha[r & 63];
		len -= take;
	}
}

/* Lines of 12..20 bytes including '\n', uniform: mean 16. */
static void gen_short(struct gen_out *o, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		size_t len = 12 + rng_below(9);
		unsigned char *p = out_reserve(o, len);
		fill_alpha(p, len - 1);
		p[len - 1] = '\n';
		o->len += len;
	}
}

/* Lines of 1..4096 bytes including '\n' (1 = empty line), printable ASCII. */
static void gen_random(struct gen_out *o, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		size_t len = 1 + rng_below(GEN_RANDOM_MAX);
		unsigned char *p = out_reserve(o, len);
		size_t j = 0;
		while (j + 1 < len) {
			uint64_t r = rng_next();
			for (int b = 0; b < 8 && j + 1 < len; b++, r >>= 8)
				p[j++] = (unsigned char)(0x20 + (((r & 0xff) * 95u) >> 8));
		}
		p[j] = '\n';
		o->len += len;
	}
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int usage(void)
{
	fputs("usage: gen [--seed S] lines100|short|random N\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t seed = GEN_DEFAULT_SEED;
	uint64_t n;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) {
		if (parse_u64(argv[i + 1], &seed) != 0) {
			fprintf(stderr, "gen: --seed: expected an unsigned integer, got '%s'\n",
				argv[i + 1]);
			return 2;
		}
		i += 2;
	}
	if (argc - i != 2)
		return usage();
	if (parse_u64(argv[i + 1], &n) != 0) {
		fprintf(stderr, "gen: N: expected an unsigned integer, got '%s'\n", argv[i + 1]);
		return 2;
	}

	for (size_t k = 0; k < VOCAB_N; k++)
		vocab_len[k] = (unsigned char)strlen(vocab[k]);
	rng_state = seed;

	static struct gen_out o;
	const char *mode = argv[i];
	if (strcmp(mode, "lines100") == 0)
		gen_lines100(&o, n);
	else if (strcmp(mode, "short") == 0)
		gen_short(&o, n);
	else if (strcmp(mode, "random") == 0)
		gen_random(&o, n);
	else
		return usage();

	out_flush(&o);
	if (o.failed || fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen: write");
		return 1;
	}
	return 0;
}
