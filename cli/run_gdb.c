/* `kvmscope run` GDB options; the stub itself is vmm/gdb_kvm.c over lib/gdb. */
#include "run_gdb.h"

#include "cli.h"
#include "ks/gdb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:1234"

int run_gdb_option(struct run_gdb *g, int argc, char **argv, int *i)
{
    const char *a = argv[*i];

    if (!strcmp(a, "-s")) {
        g->listen = DEFAULT_LISTEN;
        return 1;
    }
    if (!strcmp(a, "-S")) {
        g->wait = true;
        return 1;
    }
    if (!strncmp(a, "--gdb=", 6)) {
        g->listen = a + 6;
        return 1;
    }
    if (!strcmp(a, "--gdb")) {
        if (*i + 1 >= argc) {
            cli_error("run", "--gdb needs [HOST:]PORT (e.g. --gdb 1234 or --gdb 0.0.0.0:1234)");
            return -1;
        }
        g->listen = argv[++*i];
        return 1;
    }
    return 0;
}

bool run_gdb_enabled(const struct run_gdb *g)
{
    return g->listen || g->wait;
}

int run_gdb_session(const struct run_gdb *g, struct vmm *vm, unsigned timeout_ms,
                    struct vmm_exit *out, bool *killed)
{
    struct gdb_kvm_opts o = {.wait = g->wait, .timeout_ms = timeout_ms};
    struct gdb_kvm_result res;
    const char *spec = g->listen ? g->listen : DEFAULT_LISTEN;
    char err[KS_ERR_LEN];
    unsigned port;
    int rc;

    rc = gdb_kvm_listen(spec, &o.listen_fd, &port, err);
    if (rc < 0) {
        cli_error("run", "gdb: %s", err);
        return rc == -EINVAL ? CLI_USAGE : CLI_HOST;
    }
    fprintf(stderr, "kvmscope: run: gdb: listening on port %u%s\n", port,
            g->wait ? ", guest stopped until gdb attaches" : "");
    rc = gdb_kvm_run(vm, &o, &res, err);
    close(o.listen_fd);
    if (rc < 0) {
        cli_error("run", "%s", err);
        return CLI_HOST;
    }
    *out = res.exit;
    *killed = res.killed;
    return 0;
}
