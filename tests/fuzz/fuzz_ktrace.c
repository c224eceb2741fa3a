/* Fuzz target: KVM trace text, its analysis and rendering (lib/formats/ktrace*.c). */
#include "ks/ktrace.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kt_trace t;
    struct kt_analysis a;
    struct kt_assume as = {0, -1, -1, false};
    struct strbuf sb;
    char err[KS_ERR_LEN];
    int rc = kt_parse_text((const char *)data, size, &t, err);

    if (rc == 0) {
        if (kt_analyze(&t, &as, &a) == 0) {
            sb_init(&sb);
            kt_render_text(&t, &a, &sb);
            kt_render_json(&t, &a, &sb);
            sb_free(&sb);
            kt_analysis_free(&a);
        }
    } else if (rc != -EINVAL && rc != -ENOENT && rc != -ENOMEM) {
        __builtin_trap();
    }
    kt_free(&t);
    return 0;
}
