/*
 * Private interface between the trace line parser (ktrace.c) and the event
 * payload parsers (ktrace_events.c).
 */
#ifndef KS_FORMATS_KTRACE_INTERNAL_H
#define KS_FORMATS_KTRACE_INTERNAL_H

#include "ks/ktrace.h"

struct kt_payload {
    const char *name;
    enum kt_type type;
    /* Fill (ev)'s union from [s, end); 0 or -1 when no rendering matches. */
    int (*parse)(const char *s, const char *end, struct kt_event *ev);
    const char *want; /* the expected shape, for the error message */
};

/* The payload parser of event (name); NULL for events that are not interpreted. */
const struct kt_payload *kt_payload_find(const char *name);

#endif
