/*
 * kvmscope trace explain FILE [--json] [assumptions]
 * kvmscope trace record [--out FILE] [--stream] [--timeout S] [--json] -- COMMAND...
 *
 * `record` traces one command (typically qemu-system-x86_64 -accel kvm)
 * through a private tracefs instance, because `trace-cmd record` cannot
 * enable ftrace on the project's hosts (spec/host.md, "Tracing KVM"):
 * instances/kvmscope-PID with set_event_pid = the child (plus its threads
 * through options/event-fork), the kvm and kvmmmu event systems enabled.
 * By default the instance's ring buffer overwrites its oldest events and is
 * read once the command has ended, so the end of a crash is always kept
 * (CPL0 code emulated on a PVM host makes millions of kvm_emulate_insn
 * events); --stream drains trace_pipe while the command runs instead.
 */
#include "cli.h"

#include "ks/formats.h"
#include "ks/ktrace.h"
#include "ks/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CMD     "trace"
#define TRACEFS "/sys/kernel/tracing"

/*
 * libtraceevent 1.7.1 leaks a 2-byte strdup inside tep_parse_event() while
 * loading a trace.dat's event formats; keep sanitizer builds of `trace
 * explain FILE.dat` from failing on it. Only the library is suppressed.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libtraceevent.so\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kvmscope trace explain FILE [--json] [--maxphyaddr N] [--gbpages on|off]\n"
            "                                   [--nxe 0|1] [--amd]\n"
            "       kvmscope trace record [--out FILE] [--stream] [--buffer-kb N] [--timeout S]\n"
            "                             [--json] -- COMMAND [ARGS...]\n"
            "\n"
            "explain: read a trace-cmd report, tracefs text or trace.dat (auto-detected) and\n"
            "  report exits, failing guest page walks (decoded level by level), emulation\n"
            "  failures and the injected exception chain. Exit status 1 when a crash or a\n"
            "  failing walk is found, 0 when not, 4 for an unreadable trace.\n"
            "record: trace COMMAND's kvm and kvmmmu events in a private tracefs instance,\n"
            "  save the text (default kvmscope-trace.txt) and explain it.\n");
}

struct explain_opts {
    struct kt_assume as;
    bool json;
};

/* Shared option parsing for the analysis assumptions. Returns 1 if consumed, 0 if not, -1 on error.
 */
static int assume_opt(int argc, char **argv, int *i, struct explain_opts *o)
{
    const char *a = argv[*i];
    uint64_t v;

    if (!strcmp(a, "--json")) {
        o->json = true;
        return 1;
    }
    if (!strcmp(a, "--amd")) {
        o->as.amd = true;
        return 1;
    }
    if (strcmp(a, "--maxphyaddr") && strcmp(a, "--gbpages") && strcmp(a, "--nxe"))
        return 0;
    if (*i + 1 >= argc) {
        cli_error(CMD, "%s needs a value", a);
        return -1;
    }
    (*i)++;
    if (!strcmp(a, "--gbpages")) {
        if (!strcmp(argv[*i], "on") || !strcmp(argv[*i], "1"))
            o->as.gbpages = 1;
        else if (!strcmp(argv[*i], "off") || !strcmp(argv[*i], "0"))
            o->as.gbpages = 0;
        else {
            cli_error(CMD, "--gbpages: '%s' is not on or off", argv[*i]);
            return -1;
        }
        return 1;
    }
    if (!cli_u64(CMD, a, argv[*i], &v))
        return -1;
    if (!strcmp(a, "--maxphyaddr")) {
        if (v < 32 || v > 52) {
            cli_error(CMD, "--maxphyaddr %llu is outside 32..52", (unsigned long long)v);
            return -1;
        }
        o->as.maxphyaddr = (unsigned)v;
    } else {
        if (v > 1) {
            cli_error(CMD, "--nxe must be 0 or 1");
            return -1;
        }
        o->as.nxe = (int)v;
    }
    return 1;
}

/* Parse (path) by its content and print the explanation. Returns the exit status. */
static int explain_file(const char *path, const struct explain_opts *o)
{
    struct mapped_file mf;
    struct kt_trace t;
    struct kt_analysis a;
    struct strbuf sb;
    char err[KS_ERR_LEN];
    enum artifact_kind kind;
    int rc, status;

    rc = mapped_file_open(path, &mf, err);
    if (rc) {
        cli_error(CMD, "%s", err);
        return CLI_INPUT;
    }
    kind = artifact_detect(mf.data, mf.size);
    if (kind == ARTIFACT_TRACE_DAT) {
        mapped_file_close(&mf);
        rc = kt_read_dat(path, &t, err);
    } else if (kind == ARTIFACT_TEXT) {
        rc = kt_parse_text((const char *)mf.data, mf.size, &t, err);
        mapped_file_close(&mf);
    } else {
        cli_error(CMD,
                  "%s: not a KVM trace (found %s); expected trace-cmd report text, tracefs "
                  "text or trace.dat",
                  path, artifact_kind_name(kind));
        mapped_file_close(&mf);
        return CLI_INPUT;
    }
    if (rc) {
        cli_error(CMD, "%s: %s", path, err);
        kt_free(&t);
        return rc == -ENOMEM ? CLI_HOST : CLI_INPUT;
    }
    if (kt_analyze(&t, &o->as, &a)) {
        cli_error(CMD, "out of memory");
        kt_free(&t);
        return CLI_HOST;
    }
    sb_init(&sb);
    if (o->json)
        kt_render_json(&t, &a, &sb);
    else
        kt_render_text(&t, &a, &sb);
    fputs(sb_str(&sb), stdout);
    status =
        (a.shutdown || a.internal_error || a.nwalks_failed || a.emul_failures) ? CLI_FOUND : CLI_OK;
    sb_free(&sb);
    kt_analysis_free(&a);
    kt_free(&t);
    return status;
}

static int cmd_explain(int argc, char **argv)
{
    struct explain_opts o = {.as = {0, -1, -1, false}};
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        int r = assume_opt(argc, argv, &i, &o);
        if (r < 0)
            return CLI_USAGE;
        if (r)
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            cli_error(CMD, "explain: unknown option '%s'", argv[i]);
            return CLI_USAGE;
        }
        if (path) {
            cli_error(CMD, "explain: one trace file at a time");
            return CLI_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        usage(stderr);
        return CLI_USAGE;
    }
    return explain_file(path, &o);
}

/* ---------------------------------------------------------------------------------------------
 * record
 */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static int write_str(const char *dir, const char *file, const char *val)
{
    char path[512];
    int fd, e = 0;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = write(fd, val, strlen(val));
    if (n < 0)
        e = -errno;
    close(fd);
    return e;
}

static int ensure_tracefs(void)
{
    struct stat st;

    if (stat(TRACEFS "/instances", &st) == 0)
        return 0;
    if (mount("nodev", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
        return -errno;
    return stat(TRACEFS "/instances", &st) ? -errno : 0;
}

/* Copy everything readable from (fd) into (out); (fd) may be non-blocking. */
static int drain(int fd, FILE *out, size_t *total)
{
    char buf[65536];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
                return -EIO;
            *total += (size_t)n;
            continue;
        }
        if (n == 0 || errno == EAGAIN)
            return 0;
        if (errno == EINTR)
            continue;
        return -errno;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct record_opts {
    const char *out;
    bool stream;
    unsigned buffer_kb;
    double timeout;
    struct explain_opts ex;
};

static int run_traced(char **cmd, const char *inst, const struct record_opts *ro, FILE *out,
                      int *child_status)
{
    int go[2], fd_pipe = -1, rc = 0;
    char pidbuf[32], path[512], kb[32];
    double deadline = ro->timeout > 0 ? now_s() + ro->timeout : 0;
    size_t total = 0;
    pid_t pid;

    if (pipe2(go, O_CLOEXEC))
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        char c;
        close(go[1]);
        /* Wait until the parent has put our pid into set_event_pid. */
        if (read(go[0], &c, 1) != 1)
            _exit(127);
        /* With --json our stdout carries one JSON object: the command's output goes to stderr. */
        if (ro->ex.json && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            _exit(127);
        execvp(cmd[0], cmd);
        fprintf(stderr, "kvmscope: trace: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    close(go[0]);
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
    snprintf(kb, sizeof(kb), "%u", ro->buffer_kb);
    if ((rc = write_str(inst, "buffer_size_kb", kb)) ||
        (rc = write_str(inst, "options/overwrite", ro->stream ? "0" : "1")) ||
        (rc = write_str(inst, "options/event-fork", "1")) ||
        (rc = write_str(inst, "set_event_pid", pidbuf)) ||
        (rc = write_str(inst, "events/kvm/enable", "1")) ||
        (rc = write_str(inst, "events/kvmmmu/enable", "1")) ||
        (rc = write_str(inst, "tracing_on", "1"))) {
        kill(pid, SIGKILL);
        close(go[1]);
        waitpid(pid, NULL, 0);
        return rc;
    }
    if (ro->stream) {
        snprintf(path, sizeof(path), "%s/trace_pipe", inst);
        fd_pipe = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd_pipe < 0) {
            rc = -errno;
            kill(pid, SIGKILL);
        }
    }
    if (write(go[1], "g", 1) != 1 && !rc)
        rc = -EIO;
    close(go[1]);
    for (;;) {
        pid_t w = waitpid(pid, child_status, WNOHANG);
        if (w == pid)
            break;
        if (got_signal || (deadline && now_s() > deadline)) {
            kill(pid, got_signal ? SIGTERM : SIGKILL);
            got_signal = 0;
            deadline = 0;
        }
        if (fd_pipe >= 0) {
            struct pollfd p = {fd_pipe, POLLIN, 0};
            poll(&p, 1, 50);
            if (drain(fd_pipe, out, &total))
                break;
        } else {
            usleep(20000);
        }
    }
    write_str(inst, "tracing_on", "0");
    if (fd_pipe >= 0) {
        drain(fd_pipe, out, &total);
        close(fd_pipe);
    } else if (!ro->stream) {
        int fd, rc2;
        snprintf(path, sizeof(path), "%s/trace", inst);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return rc ? rc : -errno;
        rc2 = drain(fd, out, &total);
        close(fd);
        if (!rc)
            rc = rc2; /* keep the first error (e.g. the start signal not written) */
    }
    return rc;
}

/* The options before "--" and the command after it. Returns -1 to go on, else the exit status. */
static int parse_record_args(int argc, char **argv, struct record_opts *ro, char ***cmd)
{
    int i;

    *cmd = NULL;
    for (i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--")) {
            *cmd = argv + i + 1;
            break;
        }
        r = assume_opt(argc, argv, &i, &ro->ex);
        if (r < 0)
            return CLI_USAGE;
        if (r)
            continue;
        if (!strcmp(argv[i], "--stream")) {
            ro->stream = true;
        } else if (!strcmp(argv[i], "--out") || !strcmp(argv[i], "--timeout") ||
                   !strcmp(argv[i], "--buffer-kb")) {
            uint64_t v;
            if (i + 1 >= argc) {
                cli_error(CMD, "%s needs a value", argv[i]);
                return CLI_USAGE;
            }
            if (!strcmp(argv[i], "--out")) {
                ro->out = argv[++i];
                continue;
            }
            if (!cli_u64(CMD, argv[i], argv[i + 1], &v))
                return CLI_USAGE;
            if (!strcmp(argv[i], "--timeout"))
                ro->timeout = (double)v;
            else if (v < 64 || v > (1u << 22)) {
                cli_error(CMD, "--buffer-kb %llu is outside 64..4194304", (unsigned long long)v);
                return CLI_USAGE;
            } else
                ro->buffer_kb = (unsigned)v;
            i++;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else {
            cli_error(CMD, "record: unknown option '%s' (put the command after --)", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!*cmd || !(*cmd)[0]) {
        cli_error(CMD, "record: no command given after --");
        return CLI_USAGE;
    }
    return -1;
}

static int cmd_record(int argc, char **argv)
{
    struct record_opts ro = {
        .out = "kvmscope-trace.txt", .buffer_kb = 16384, .ex = {.as = {0, -1, -1, false}}};
    char inst[256];
    char **cmd = NULL;
    struct sigaction sa = {0};
    FILE *out;
    int rc, status = 0;

    rc = parse_record_args(argc, argv, &ro, &cmd);
    if (rc >= 0)
        return rc;
    rc = ensure_tracefs();
    if (rc) {
        cli_error(CMD, "tracefs is not available at " TRACEFS " (%s); record needs root",
                  strerror(-rc));
        return CLI_HOST;
    }
    snprintf(inst, sizeof(inst), TRACEFS "/instances/kvmscope-%d", (int)getpid());
    if (mkdir(inst, 0700)) {
        cli_error(CMD, "cannot create the tracefs instance %s: %s", inst, strerror(errno));
        return CLI_HOST;
    }
    out = fopen(ro.out, "w");
    if (!out) {
        cli_error(CMD, "%s: %s", ro.out, strerror(errno));
        rmdir(inst);
        return CLI_USAGE;
    }
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = run_traced(cmd, inst, &ro, out, &status);
    if (fclose(out) && !rc)
        rc = -EIO;
    /* The instance goes away with its buffer; events must be off first. */
    write_str(inst, "events/enable", "0");
    if (rmdir(inst))
        cli_error(CMD, "warning: could not remove %s: %s", inst, strerror(errno));
    if (rc) {
        cli_error(CMD, "tracing failed: %s", strerror(-rc));
        return CLI_HOST;
    }
    if (WIFEXITED(status))
        fprintf(stderr,
                "kvmscope: trace: %s exited with status %d; trace saved to %s (instance %s)\n",
                cmd[0], WEXITSTATUS(status), ro.out, inst);
    else if (WIFSIGNALED(status))
        fprintf(stderr,
                "kvmscope: trace: %s was killed by signal %d; trace saved to %s (instance %s)\n",
                cmd[0], WTERMSIG(status), ro.out, inst);
    return explain_file(ro.out, &ro.ex);
}

int cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "explain"))
        return cmd_explain(argc - 1, argv + 1);
    if (!strcmp(argv[1], "record"))
        return cmd_record(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return CLI_OK;
    }
    cli_error(CMD, "unknown action '%s' (explain or record)", argv[1]);
    return CLI_USAGE;
}
