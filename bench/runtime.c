/*
 * runtime: run a command N times and print, one line per run,
 *   "<wall µs> <exit status> <max RSS KiB> <CPU µs>"
 * measured with CLOCK_MONOTONIC around posix_spawn + wait4, so the numbers
 * include exec and dynamic linking (what a user waits for) but none of the
 * orchestrating script's own overhead. CPU is the child's user + system time
 * (wait4 rusage; a vCPU's guest time is accounted there too): unlike wall
 * time it leaves out time spent waiting for a CPU on a loaded host.
 *
 *   runtime [-n N] [-i FILE] [-o FILE] -- COMMAND [ARGS...]
 *
 * The child's stdin is FILE (-i, default /dev/null) and its stdout is FILE
 * (-o, default /dev/null); stderr is kept, so failures stay visible.
 */
#include "ks/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    const char *in = "/dev/null", *outf = "/dev/null";
    int n = 1, opt;

    while ((opt = getopt(argc, argv, "+n:i:o:")) != -1) {
        if (opt == 'n') {
            uint64_t v;

            if (parse_u64(optarg, &v) || v < 1 || v > INT_MAX) {
                fprintf(stderr, "runtime: -n: '%s' is not a count (1..%d)\n", optarg, INT_MAX);
                return 2;
            }
            n = (int)v;
        } else if (opt == 'i')
            in = optarg;
        else if (opt == 'o')
            outf = optarg;
        else
            return 2;
    }
    if (optind >= argc || n < 1) {
        fprintf(stderr, "usage: runtime [-n N] [-i FILE] [-o FILE] -- COMMAND [ARGS...]\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        posix_spawn_file_actions_t fa;
        struct rusage ru;
        pid_t pid;
        int status, rc;
        double t0, t1;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, outf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        t0 = now_us();
        rc = posix_spawnp(&pid, argv[optind], &fa, NULL, argv + optind, environ);
        if (rc) {
            fprintf(stderr, "runtime: %s: %s\n", argv[optind], strerror(rc));
            return 127;
        }
        if (wait4(pid, &status, 0, &ru) < 0) {
            perror("runtime: wait4");
            return 127;
        }
        t1 = now_us();
        posix_spawn_file_actions_destroy(&fa);
        printf("%.1f %d %ld %.1f\n", t1 - t0,
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss,
               (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec));
        fflush(stdout);
    }
    return 0;
}
