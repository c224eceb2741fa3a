/*
 * Read-only file mappings, artifact detection, and raw memory images
 * (HMP/QMP pmemsave, -object memory-backend-file: file offset = GPA - base).
 */
#include "ks/formats.h"
#include "ks/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int mapped_file_open(const char *path, struct mapped_file *mf, char err[KS_ERR_LEN])
{
    struct stat st;
    void *p;
    int fd, e;

    memset(mf, 0, sizeof(*mf));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        snprintf(err, KS_ERR_LEN, "%s: %s", path, strerror(e));
        return -e;
    }
    if (fstat(fd, &st)) {
        e = errno;
        snprintf(err, KS_ERR_LEN, "%s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, KS_ERR_LEN, "%s: not a regular file", path);
        close(fd);
        return -EINVAL;
    }
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        snprintf(err, KS_ERR_LEN, "%s: too large to map", path);
        close(fd);
        return -EFBIG;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, KS_ERR_LEN, "%s: mmap: %s", path, strerror(e));
        return -e;
    }
    mf->data = p;
    mf->size = (size_t)st.st_size;
    return 0;
}

void mapped_file_close(struct mapped_file *mf)
{
    if (mf->data && mf->size)
        munmap((void *)(uintptr_t)mf->data, mf->size);
    memset(mf, 0, sizeof(*mf));
}

static bool has(const uint8_t *b, size_t len, const char *magic, size_t n)
{
    return len >= n && !memcmp(b, magic, n);
}

enum artifact_kind artifact_detect(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    size_t n = len < 4096 ? len : 4096;

    if (!b || !len)
        return ARTIFACT_UNKNOWN;
    if (has(b, len,
            "\x7f"
            "ELF",
            4)) {
        /* e_type is at offset 16 in both classes. */
        return len >= 18 && b[16] == 4 && b[17] == 0 ? ARTIFACT_ELF_CORE : ARTIFACT_ELF_OTHER;
    }
    /* makedumpfile flattened header: "makedumpfile" signature (makedumpfile.h). */
    if (has(b, len, "makedumpfile", 12))
        return ARTIFACT_KDUMP_FLAT;
    /* kdump-compressed disk_dump_header signature. */
    if (has(b, len, "KDUMP   ", 8))
        return ARTIFACT_KDUMP;
    /* Windows DUMP_HEADER signatures, 32- and 64-bit. */
    if (has(b, len, "PAGEDUMP", 8) || has(b, len, "PAGEDU64", 8))
        return ARTIFACT_WIN_DMP;
    /* trace.dat: 0x17 0x08 0x44 "tracing" (trace-cmd.dat(5)). */
    if (has(b, len, "\x17\x08\x44tracing", 10))
        return ARTIFACT_TRACE_DAT;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        if (c == '\n' || c == '\r' || c == '\t' || c == 0x1b)
            continue;
        /* UTF-8 continuation/lead bytes are fine in text too. */
        return ARTIFACT_RAW;
    }
    return ARTIFACT_TEXT;
}

const char *artifact_kind_name(enum artifact_kind k)
{
    static const char *const names[] = {
        [ARTIFACT_UNKNOWN] = "empty or unknown",
        [ARTIFACT_ELF_CORE] = "ELF core",
        [ARTIFACT_ELF_OTHER] = "ELF executable",
        [ARTIFACT_KDUMP_FLAT] = "kdump (makedumpfile flattened)",
        [ARTIFACT_KDUMP] = "kdump-compressed",
        [ARTIFACT_WIN_DMP] = "Windows crash dump",
        [ARTIFACT_TRACE_DAT] = "trace-cmd trace.dat",
        [ARTIFACT_TEXT] = "text",
        [ARTIFACT_RAW] = "raw memory image",
    };
    return (unsigned)k < KS_ARRAY_SIZE(names) ? names[k] : "unknown";
}

int rawmem_map(const struct mapped_file *mf, gpa_t base, struct gmem *mem, char err[KS_ERR_LEN])
{
    int rc;

    if (!mf->size) {
        snprintf(err, KS_ERR_LEN, "the memory image is empty");
        return -EINVAL;
    }
    if (base + mf->size < base) {
        snprintf(err, KS_ERR_LEN, "a %zu-byte image at GPA %#llx would wrap the address space",
                 mf->size, (unsigned long long)base);
        return -EINVAL;
    }
    rc = gmem_add(mem, base, mf->size, (void *)(uintptr_t)mf->data, false);
    if (rc)
        snprintf(err, KS_ERR_LEN, "cannot map the image at GPA %#llx: %s", (unsigned long long)base,
                 rc == -ENOSPC ? "too many memory regions" : "overlaps other memory");
    return rc;
}

int rawmem_parse_spec(const char *spec, char *path, size_t path_len, gpa_t *base,
                      char err[KS_ERR_LEN])
{
    const char *at = strrchr(spec, '@');
    size_t n = at ? (size_t)(at - spec) : strlen(spec);
    uint64_t v = 0;

    if (at && parse_u64(at + 1, &v)) {
        snprintf(err, KS_ERR_LEN, "'%s': the base after '@' is not a number (use 0x...)", spec);
        return -EINVAL;
    }
    if (!n || n >= path_len) {
        snprintf(err, KS_ERR_LEN, "'%s': %s file name", spec, n ? "too long a" : "empty");
        return -EINVAL;
    }
    memcpy(path, spec, n);
    path[n] = 0;
    *base = v;
    return 0;
}
