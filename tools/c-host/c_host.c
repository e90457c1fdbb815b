/*
 * c-host: a C program that runs a Nib program's cache through libaotcache (loader/AotCache.Native/include/aotcache.h).
 *
 *   c-host CACHE.aotc [--fingerprint KEY=VALUE]... [--lenient] [--hot-swappable] [--entry NAME]
 *
 * It does what a C or Rust JIT would do to start warm: load the cache file (validated, mapped, relocated), supply the
 * host functions the program imports by address and signature, call the entry, and unload. The entry (default:
 * main) is `int64_t main(void)` or `void main(void)`. Its result (& 0xFF) is the exit status, as with `nib run`;
 * a cache that cannot be loaded, or a run that reaches a refused function (--lenient), exits 4 with the error's
 * code, offset, requirement and message.
 *
 * Build: make (see Makefile), or
 *   gcc -O2 -I ../../loader/AotCache.Native/include c_host.c -L LIBDIR -laotcache -Wl,-rpath,LIBDIR -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aotcache.h"

/* The fingerprint value Nib caches require (tools/demo: CacheKey.CompilerVersion): a cache of another compiler
   version is refused with FingerprintMismatch [LOAD-2]. Override with --fingerprint nib.compiler=... */
#define NIB_COMPILER_KEY "nib.compiler"
#define NIB_COMPILER_VERSION "nib 1.0 (AotCache.Codegen 2)"

/* Canonical signature encodings (FORMAT.md §6.2): convention 1 = System V; types 2 = i64, 4 = f64. */
static const uint8_t SIG_I64_TO_VOID[] = {1, 1, 2, 0};
static const uint8_t SIG_F64_TO_VOID[] = {1, 1, 4, 0};
static const uint8_t SIG_I64_TO_I64[] = {1, 1, 2, 1, 2};
static const uint8_t SIG_VOID_TO_I64[] = {1, 0, 1, 2};
static const uint8_t SIG_F64_TO_F64[] = {1, 1, 4, 1, 4};

/* The host functions a Nib program may declare `extern` (tools/demo/Build/HostLibrary.cs), and libm's sqrt. */
static void host_print_i64(int64_t v) { printf("%lld\n", (long long)v); }
/* Like Nib's own print_f64 (.NET's round-trip format): the fewest significant digits that read back as the same
   double, in fixed notation for exponents from -4 to 16 and as d.dddE+XX otherwise. */
static void host_print_f64(double v)
{
    char text[64];
    if (v != v || v - v != 0) { puts(v != v ? "NaN" : v > 0 ? "Infinity" : "-Infinity"); return; }
    int precision = 1;
    for (; precision < 17; precision++) {
        snprintf(text, sizeof text, "%.*e", precision - 1, v);
        if (strtod(text, NULL) == v) break;
    }
    snprintf(text, sizeof text, "%.*e", precision - 1, v); /* [-]d.ddde[+-]XX */
    char digits[32];
    int n = 0, negative = text[0] == '-';
    char *e = strchr(text, 'e');
    for (char *c = text + negative; c < e; c++) if (*c != '.') digits[n++] = *c;
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
    int exponent = atoi(e + 1);
    if (v == 0) { puts(negative ? "-0" : "0"); return; }
    if (negative) putchar('-');
    if (exponent >= 17 || exponent < -4) {
        printf("%c%s%s", digits[0], n > 1 ? "." : "", digits + 1);
        printf("E%c%02d\n", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
    } else if (exponent < 0) {
        printf("0.");
        for (int z = 0; z < -exponent - 1; z++) putchar('0');
        printf("%s\n", digits);
    } else if (n <= exponent + 1) {
        printf("%s", digits);
        for (int z = 0; z < exponent + 1 - n; z++) putchar('0');
        putchar('\n');
    } else {
        printf("%.*s.%s\n", exponent + 1, digits, digits + exponent + 1);
    }
}
static void host_print_char(int64_t c)
{
    if (c < 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    char utf8[4];
    int n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    static const uint8_t lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (int i = n - 1; i > 0; i--) { utf8[i] = (char)(0x80 | (c & 0x3F)); c >>= 6; }
    utf8[0] = (char)(n == 1 ? c : (lead[n] | c));
    fwrite(utf8, 1, (size_t)n, stdout);
}
static int64_t ticks;
static int64_t host_tick(int64_t v) { ticks++; return v + 1; }
static int64_t host_clock_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Prints the calling thread's last error and returns the exit status for it. */
static int fail(const char *what, aotcache_status status)
{
    aotcache_error e;
    aotcache_last_error(&e);
    fprintf(stderr, "c-host: %s: status %d, error code %d, offset %lld, requirement %s: %s\n", what, (int)status,
            (int)e.code, (long long)e.offset, e.requirement[0] ? e.requirement : "-", e.message);
    return 4;
}

#define CHECK(call, what)                                  \
    do {                                                   \
        aotcache_status status_ = (call);                  \
        if (status_ != AOTCACHE_OK) return fail(what, status_); \
    } while (0)

int main(int argc, char **argv)
{
    const char *path = NULL, *entry = "main";
    int lenient = 0, hot_swappable = 0;
    aotcache_options *options;

    uint32_t abi;
    CHECK(aotcache_abi_version(&abi), "abi version");
    if (abi != AOTCACHE_ABI_VERSION) {
        fprintf(stderr, "c-host: libaotcache has ABI %u, this program was built for %d\n", abi, AOTCACHE_ABI_VERSION);
        return 4;
    }
    CHECK(aotcache_options_create(&options), "options");
    int fingerprint_given = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fingerprint") == 0 && i + 1 < argc) {
            char *pair = argv[++i], *eq = strchr(pair, '=');
            if (!eq) { fprintf(stderr, "c-host: --fingerprint takes KEY=VALUE\n"); return 2; }
            *eq = '\0';
            CHECK(aotcache_options_set_fingerprint_string(options, pair, eq + 1), "--fingerprint");
            if (strcmp(pair, NIB_COMPILER_KEY) == 0) fingerprint_given = 1;
        } else if (strcmp(argv[i], "--lenient") == 0) {
            lenient = 1;
        } else if (strcmp(argv[i], "--hot-swappable") == 0) {
            hot_swappable = 1;
        } else if (strcmp(argv[i], "--entry") == 0 && i + 1 < argc) {
            entry = argv[++i];
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: c-host CACHE.aotc [--fingerprint KEY=VALUE]... [--lenient] [--hot-swappable] [--entry NAME]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: c-host CACHE.aotc [--fingerprint KEY=VALUE]... [--lenient] [--hot-swappable] [--entry NAME]\n");
        return 2;
    }
    if (!fingerprint_given) CHECK(aotcache_options_set_fingerprint_string(options, NIB_COMPILER_KEY, NIB_COMPILER_VERSION), "fingerprint");
    if (lenient) CHECK(aotcache_options_set_stale_policy(options, AOTCACHE_STALE_LENIENT), "--lenient");
    if (hot_swappable) CHECK(aotcache_options_set_link_mode(options, AOTCACHE_LINK_HOT_SWAPPABLE), "--hot-swappable");

    /* Imports: name, address, and the signature the host implements them with. A file that imports one of these
       names with another signature is refused (AOTCACHE_E_SIGNATURE_MISMATCH), instead of calling it wrongly. */
    CHECK(aotcache_options_add_import(options, "print_i64", (const void *)host_print_i64, SIG_I64_TO_VOID, sizeof SIG_I64_TO_VOID), "import");
    CHECK(aotcache_options_add_import(options, "print_f64", (const void *)host_print_f64, SIG_F64_TO_VOID, sizeof SIG_F64_TO_VOID), "import");
    CHECK(aotcache_options_add_import(options, "print_char", (const void *)host_print_char, SIG_I64_TO_VOID, sizeof SIG_I64_TO_VOID), "import");
    CHECK(aotcache_options_add_import(options, "tick", (const void *)host_tick, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64), "import");
    CHECK(aotcache_options_add_import(options, "clock_ms", (const void *)host_clock_ms, SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64), "import");
    CHECK(aotcache_options_add_import(options, "sqrt", (const void *)sqrt, SIG_F64_TO_F64, sizeof SIG_F64_TO_F64), "import");

    aotcache_module *module;
    CHECK(aotcache_module_load_file(path, options, &module), "cannot load the cache");

    /* main is () -> i64 or () -> void. aotcache_module_call checks the arguments against the signature and enters
       the code the way the loader's own callers do: a call that reaches a function the loader refused (a stale one
       in lenient mode) is abandoned there and comes back as AOTCACHE_E_REFUSED naming it, instead of running the
       program on. (aotcache_module_lookup gives a raw function pointer instead, for hosts that call often.) */
    aotcache_value result;
    aotcache_status status = aotcache_module_call(module, entry, NULL, 0, &result);
    fflush(stdout);
    if (status != AOTCACHE_OK) return fail(status == AOTCACHE_E_REFUSED ? "the program reached a refused function" : "entry", status);
    if (result.type != AOTCACHE_TYPE_I64 && result.type != AOTCACHE_TYPE_NONE) {
        fprintf(stderr, "c-host: %s returns type %d; expected i64 or nothing\n", entry, (int)result.type);
        return 4;
    }

    CHECK(aotcache_module_unload(module), "unload");
    CHECK(aotcache_options_destroy(options), "options");
    return result.type == AOTCACHE_TYPE_I64 ? (int)(result.as.i64 & 0xFF) : 0;
}
