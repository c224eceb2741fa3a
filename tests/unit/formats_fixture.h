/* Fixture loading for the lib/formats tests (run from the repository root). */
#ifndef KS_TEST_FORMATS_FIXTURE_H
#define KS_TEST_FORMATS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

/* Read tests/data/(name) into a NUL-terminated heap buffer; NULL if missing. */
static inline char *fixture_read(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "tests/data/%s", name);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

#endif
