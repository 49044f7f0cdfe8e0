/* broker_conn.c - the connection to NATS: the server list, TLS,
 * credentials, reconnection, JetStream contexts on it, and the text of
 * libnats's errors; see broker_int.h for how the broker's files share the
 * work.
 *
 * Opened and freed by the thread that runs broker_open and broker_free,
 * with no other thread about. In between, libnats's own threads run the
 * disconnect and reconnect callbacks, which only touch the atomics of
 * struct broker_conn; every thread may use the connection (libnats locks
 * it). URLs reach a message only through redact: they may carry a user
 * and password. */
#include "broker_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

#define PUB_WINDOW 4096       /* publishes awaiting their ack at most */
#define RECONNECT_WAIT_MS 250 /* between reconnect attempts */
#define MAX_SERVERS 64        /* in --nats */

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct broker *br = closure;
    int64_t zero = 0;
    atomic_compare_exchange_strong(&br->conn.down_since, &zero, now_ns());
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct broker *br = closure;
    atomic_store(&br->conn.down_since, 0);
    atomic_fetch_add(&br->conn.reconnects, 1);
}

/* In the URL [p, end): where what follows the scheme starts (*rest), and
 * the host, after any user:password@ (*host). */
static void url_split(const char *p, const char *end, const char **rest, const char **host)
{
    const char *scheme = strstr(p, "://");
    *rest = *host = scheme && scheme < end ? scheme + 3 : p;
    for (const char *at; (at = memchr(*host, '@', (size_t)(end - *host)));)
        *host = at + 1;
}

/* The server list as it may be shown: user, password or token replaced. */
static void redact(const char *urls, char *out, size_t len)
{
    size_t w = 0;
    for (const char *p = urls; *p && w + 1 < len;) {
        const char *end = p + strcspn(p, ","), *rest, *host;
        url_split(p, end, &rest, &host);
        int n = host > rest ? snprintf(out + w, len - w, "%.*s***%.*s", (int)(rest - p), p,
                                       (int)(end - host + 1), host - 1)
                            : snprintf(out + w, len - w, "%.*s", (int)(end - p), p);
        w = MIN(w + (size_t)MAX(n, 0), len - 1);
        p = *end ? end + 1 : end;
        if (*p && w + 1 < len)
            out[w++] = ',';
    }
    out[w] = '\0';
}

int broker_fail(char *msg, size_t len, natsStatus s, jsErrCode jerr, const char *what)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last); /* the details, when they are this error's */
    if (!text || !*text || last != s)
        text = natsStatus_GetText(s);
    if (text[0] == '(' && strstr(text, "): ")) /* "(conn.c:2088): " */
        text = strstr(text, "): ") + 3;
    if (jerr)
        snprintf(msg, len, "%s: %s (JetStream error %d)", what, text, (int)jerr);
    else
        snprintf(msg, len, "%s: %s", what, text);
    return s == NATS_NO_MEMORY ? -ENOMEM : -EIO;
}

/* TLS: required by --nats-ca, --nats-cert or a tls:// URL, and taken
 * when a server asks for it. The server's certificate is checked against
 * --nats-ca (or the system's CAs); when TLS is required, its name too,
 * against the host of the n URLs if they all name the same one (libnats
 * checks one name per connection). On failure *what is the flag to blame. */
static natsStatus set_tls(natsOptions *opts, const struct options *o, const char *const *urls,
                          int n, const char **what)
{
    const char *name = NULL;
    size_t len = 0;
    bool secure = o->nats_ca || o->nats_cert, same = true;
    for (int i = 0; i < n; i++) {
        const char *end = urls[i] + strlen(urls[i]), *rest, *host;
        url_split(urls[i], end, &rest, &host);
        const char *bracket = *host == '[' ? strchr(host, ']') : NULL; /* [IPv6]:port */
        size_t hlen = bracket ? (size_t)(bracket - host - 1) : strcspn(host, ":");
        host += bracket != NULL;
        same = same && (!name || (hlen == len && strncasecmp(host, name, len) == 0));
        name = host, len = hlen;
        secure = secure || strncasecmp(urls[i], "tls://", 6) == 0;
    }
    natsStatus s = NATS_OK;
    *what = "--nats";
    if (secure)
        s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK && secure && same && len) { /* (an SSL context: only for TLS) */
        char host[256];
        snprintf(host, sizeof host, "%.*s", (int)MIN(len, sizeof host - 1), name);
        s = natsOptions_SetExpectedHostname(opts, host);
    }
    if (s == NATS_OK && o->nats_ca) {
        *what = "--nats-ca";
        s = natsOptions_LoadCATrustedCertificates(opts, o->nats_ca);
    }
    if (s == NATS_OK && o->nats_cert) {
        *what = "--nats-cert";
        s = natsOptions_LoadCertificatesChain(opts, o->nats_cert, o->nats_key);
    }
    return s;
}

/* The comma-separated list of --nats (SetURL takes one URL only), and TLS
 * for its URLs. */
static natsStatus set_servers(natsOptions *opts, const struct options *o, const char **what)
{
    char *copy = strdup(o->nats_url);
    const char *list[MAX_SERVERS];
    int n = 0;
    *what = "--nats";
    if (!copy)
        return NATS_NO_MEMORY;
    for (char *save = NULL, *u = strtok_r(copy, ",", &save); u && n < MAX_SERVERS;
         u = strtok_r(NULL, ",", &save))
        list[n++] = u + strspn(u, " ");
    natsStatus s = n ? natsOptions_SetServers(opts, list, n) : NATS_INVALID_ARG;
    if (s == NATS_OK)
        s = set_tls(opts, o, list, n, what);
    free(copy); /* libnats keeps copies */
    return s;
}

natsStatus broker_conn_js(struct broker *br, jsCtx **js, jsPubAckErrHandler on_error, void *closure)
{
    jsOptions jo;
    natsStatus s = jsOptions_Init(&jo);
    if (s != NATS_OK)
        return s;
    jo.Wait = MAX(br->o->nats_timeout_ns / NS_PER_MS, 1);
    jo.PublishAsync.MaxPending = PUB_WINDOW;
    jo.PublishAsync.StallWait = jo.Wait;
    if (on_error) {
        jo.PublishAsync.ErrHandler = on_error;
        jo.PublishAsync.ErrHandlerClosure = closure;
    }
    return natsConnection_JetStream(js, br->conn.nc, &jo);
}

/* The files the flags name can be read: libnats would say less. */
static int check_files(const struct options *o, char *msg, size_t len)
{
    const char *files[] = {o->nats_creds, o->nats_ca, o->nats_cert, o->nats_key};
    static const char *const flags[] = {"--nats-creds", "--nats-ca", "--nats-cert", "--nats-key"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            int e = errno;
            snprintf(msg, len, "%s %s: %s", flags[i], files[i], strerror(e));
            return -e;
        }
    return 0;
}

/* The options of the connection; on failure *what is the flag to blame. */
static natsStatus set_options(struct broker *br, const char **what)
{
    const struct options *o = br->o;
    natsStatus s = natsOptions_Create(&br->conn.opts);
    natsOptions *opts = br->conn.opts;
    if (s == NATS_OK)
        s = set_servers(opts, o, what);
    if (s == NATS_OK && o->nats_creds) {
        *what = "--nats-creds";
        s = natsOptions_SetUserCredentialsFromFiles(opts, o->nats_creds, NULL);
    }
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, "weir");
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, MAX(o->nats_timeout_ns / NS_PER_MS, 1));
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1); /* --nats-timeout decides */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, br);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_reconnected, br);
    return s;
}

int broker_conn_dial(struct broker *br, char *msg, size_t len)
{
    const struct options *o = br->o;
    int rc = check_files(o, msg, len);
    if (rc)
        return rc;
    const char *what = "--nats";
    natsStatus s = set_options(br, &what);
    if (s != NATS_OK)
        return broker_fail(msg, len, s, 0, what);
    s = natsConnection_Connect(&br->conn.nc, br->conn.opts);
    if (s != NATS_OK) {
        char shown[256], dialed[300];
        redact(o->nats_url, shown, sizeof shown);
        snprintf(dialed, sizeof dialed, "--nats %s: cannot connect", shown);
        rc = broker_fail(msg, len, s, 0, dialed);
        if (strstr(msg, "got ''") || strstr(msg, "SSL_write error: (null)")) /* libnats's words */
            snprintf(msg, len, "%s: the server closed the connection%s", dialed,
                     o->nats_cert ? "" : " (does it want a client certificate? --nats-cert)");
        return rc;
    }
    return 0;
}

void broker_conn_flush(struct broker *br)
{
    if (br->conn.nc && !natsConnection_IsClosed(br->conn.nc))
        natsConnection_FlushTimeout(
            br->conn.nc, MAX(MIN(br->o->nats_timeout_ns, 5 * NS_PER_SEC) / NS_PER_MS, 1));
}

void broker_conn_free(struct broker *br)
{
    natsConnection_Destroy(br->conn.nc);
    natsOptions_Destroy(br->conn.opts);
    nats_Close();
}
