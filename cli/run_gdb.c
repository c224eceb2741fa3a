/* `kvmscope run` GDB options; the stub itself is vmm/gdb_kvm.c over lib/gdb. */
#include "run_gdb.h"

#include "cli.h"
#include "ks/gdb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:1234"

bool run_gdb_opt(struct run_gdb *g, int c, const char *arg)
{
    switch (c) {
    case 's':
        g->listen = DEFAULT_LISTEN;
        return true;
    case 'S':
        g->wait = true;
        return true;
    case RUN_GDB_OPT_GDB:
        g->listen = arg;
        return true;
    default:
        return false;
    }
}

bool run_gdb_enabled(const struct run_gdb *g)
{
    return g->listen || g->wait;
}

int run_gdb_session(const struct run_gdb *g, struct vmm *vm, unsigned timeout_ms,
                    struct vmm_exit *out)
{
    struct gdb_kvm_opts o = {.wait = g->wait, .timeout_ms = timeout_ms};
    struct gdb_kvm_result res;
    const char *spec = g->listen ? g->listen : DEFAULT_LISTEN;
    char err[KS_ERR_LEN];
    unsigned port;
    int rc;

    rc = gdb_kvm_listen(spec, &o.listen_fd, &port, err);
    if (rc < 0) {
        cli_error("run", "--gdb: %s", err);
        return rc == -EINVAL ? CLI_USAGE : CLI_HOST;
    }
    fprintf(stderr, "kvmscope: run: gdb: listening on port %u%s\n", port,
            g->wait ? ", the guest waits for gdb" : "");
    rc = gdb_kvm_run(vm, &o, &res, err);
    close(o.listen_fd);
    if (rc < 0) {
        cli_error("run", "%s", err);
        return CLI_HOST;
    }
    if (res.killed && res.exit.outcome == VMM_OUT_INTERRUPTED) {
        fprintf(stderr, "kvmscope: run: gdb killed the guest\n");
        return CLI_OK;
    }
    *out = res.exit;
    return -1;
}
