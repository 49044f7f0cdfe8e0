/* cli_nats.c - the NATS JetStream flags (--nats, --from, --to and the
 * flags that need them) to struct options; see cli_nats.h. Main thread. */
#include "cli_nats.h"

#include <stdio.h>
#include <string.h>

#include "cli_values.h"

/* A JetStream stream or consumer name: no dots, wildcards, slashes or
 * spaces, as the server demands. */
static bool good_name(const char *s, size_t len)
{
    if (len == 0 || len > 200)
        return false;
    for (size_t i = 0; i < len; i++)
        if (strchr(". *>/\\", s[i]) || (unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* Flags that mean nothing without --nats, or (the last three) without
 * --from: refused, as they would be ignored. --nats itself needs --from or
 * --to. */
static int check_needs(const struct cli_args *a)
{
    const struct cli_value *with_nats[] = {&a->from,    &a->to,      &a->rejsubj, &a->creds,
                                           &a->ca,      &a->cert,    &a->key,     &a->ntmo,
                                           &a->subject, &a->ackwait, &a->idle};
    const int n = (int)(sizeof with_nats / sizeof *with_nats), from_only = 3; /* the last 3 */
    if (!a->nats.count) {
        char what[CLI_NAME_MAX + 8];
        snprintf(what, sizeof what, "%s %s", a->nats.name, a->nats.flag->value);
        return cli_refuse_without(what, with_nats, n);
    }
    if (!a->from.count && !a->to.count) {
        cli_usage("%s needs %s STREAM/CONSUMER or %s SUBJECT", a->nats.name, a->from.name,
                  a->to.name);
        return -1;
    }
    if (!a->from.count && cli_refuse_without(a->from.name, with_nats + n - from_only, from_only))
        return -1;
    if (a->cert.count != a->key.count) {
        cli_usage("%s and %s go together: give both", a->cert.name, a->key.name);
        return -1;
    }
    return 0;
}

/* --from STREAM/CONSUMER, which replaces stdin. */
static int parse_from(const struct cli_args *a, struct options *o)
{
    if (!a->from.count)
        return 0;
    const char *f = o->nats_from = a->from.sval[0], *slash = strchr(f, '/');
    if (!slash || !good_name(f, (size_t)(slash - f)) || !good_name(slash + 1, strlen(slash + 1))) {
        cli_usage("%s: expected STREAM/CONSUMER (names without . * > / or spaces), got '%s'",
                  a->from.name, f);
        return -1;
    }
    if (a->decomp.count) {
        cli_usage("%s reads stdin: not with %s", a->decomp.name, a->from.name);
        return -1;
    }
    return 0;
}

static const char *value_of(const struct cli_value *a)
{
    return a->count ? a->sval[0] : NULL;
}

/* --from reads a consumer, --to and --rejects-subject publish: they need
 * --nats, which needs one of them; -z and --rejects do not mix with the
 * subjects that replace them. */
int cli_nats_apply(const struct cli_args *a, struct options *o)
{
    if (check_needs(a))
        return -1;
    if (!a->nats.count)
        return 0;
    o->nats_url = a->nats.sval[0];
    if (parse_from(a, o))
        return -1;
    o->nats_subject = value_of(&a->subject);
    o->nats_to = value_of(&a->to);
    o->nats_rejects = value_of(&a->rejsubj);
    o->nats_creds = value_of(&a->creds);
    o->nats_ca = value_of(&a->ca);
    o->nats_cert = value_of(&a->cert);
    o->nats_key = value_of(&a->key);
    if (o->nats_to && o->compress) {
        cli_usage("%s and %s conflict: messages are not compressed", a->comp.name, a->to.name);
        return -1;
    }
    if (o->nats_rejects && o->rejects_path) {
        cli_usage("%s and %s conflict: give one", a->rej.name, a->rejsubj.name);
        return -1;
    }
    if (o->nats_rejects && !o->nats_from) {
        cli_usage("%s needs %s", a->rejsubj.name, a->from.name);
        return -1;
    }
    return cli_want_duration(&a->ntmo, &o->nats_timeout_ns) ||
                   cli_want_duration(&a->ackwait, &o->ack_wait_ns) ||
                   cli_want_duration(&a->idle, &o->idle_exit_ns)
               ? -1
               : 0;
}
