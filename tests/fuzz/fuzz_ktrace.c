/* Fuzz target: trace-cmd / tracefs text, its analysis and both renderings. */
#include "fuzz_common.h"

#include "ks/ktrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kt_assume as = {0, -1, -1, false};
    struct kt_analysis a;
    struct kt_trace t;
    struct strbuf sb;
    char err[KS_ERR_LEN];
    int rc;

    kt_init(&t);
    rc = kt_parse_text((const char *)data, size, &t, err);
    if (rc != 0 && rc != -EINVAL && rc != -ENOENT && rc != -ENOMEM)
        __builtin_trap();
    if (rc == 0 && kt_analyze(&t, &as, &a) == 0) {
        sb_init(&sb);
        kt_render_text(&t, &a, &sb);
        kt_render_json(&t, &a, &sb);
        sb_free(&sb);
        kt_analysis_free(&a);
    }
    kt_free(&t);
    return 0;
}
