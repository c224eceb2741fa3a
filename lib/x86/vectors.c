#include "ks/x86.h"

/* SDM Vol. 3A §6.3.1, Table 6-1 "Protected-Mode Exceptions and Interrupts". */
static const char *const names[32] = {
    [0] = "#DE",  [1] = "#DB",  [2] = "NMI",  [3] = "#BP",  [4] = "#OF",  [5] = "#BR",
    [6] = "#UD",  [7] = "#NM",  [8] = "#DF",  [9] = "CSO",  [10] = "#TS", [11] = "#NP",
    [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC",
    [19] = "#XM", [20] = "#VE", [21] = "#CP", [28] = "#HV", [29] = "#VC", [30] = "#SX",
};

const char *x86_vector_name(unsigned vector)
{
    if (vector < 32 && names[vector])
        return names[vector];
    return vector < 32 ? "reserved" : "interrupt";
}

bool x86_vector_has_error_code(unsigned vector)
{
    switch (vector) {
    case X86_DF:
    case X86_TS:
    case X86_NP:
    case X86_SS:
    case X86_GP:
    case X86_PF:
    case X86_AC:
    case X86_CP:
    case 29:
    case 30:
        return true;
    default:
        return false;
    }
}
