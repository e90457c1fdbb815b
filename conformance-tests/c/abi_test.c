/*
 * abi_test: drives libaotcache through aotcache.h for the conformance tests (Native/CAbiTests.cs), which write the
 * cache files, run this program and check what it prints. Every step prints one line:
 *
 *   STEP status=N code=N offset=N requirement=R message=TEXT      (a failed call: its last error)
 *   STEP status=0 [value=N]                                       (a successful call)
 *
 * Scenarios (the first argument):
 *   layout                                     the struct layout of aotcache.h (static asserts) and the ABI version
 *   validate [OPTIONS] FILE...                 aotcache_image_open of each file; the step is the file's name
 *   load [OPTIONS] FILE [--call NAME:SIG[:ARG]]... [--lookup NAME:SIG]... [--raw-call NAME:SIG[:ARG]]...
 *                                              load the file, then look up functions and call them through
 *                                              aotcache_module_call (--call) or as raw C function pointers
 *                                              (--raw-call); SIG: the signature's encoding in hex
 *   hotswap FILE                               updates of the module written by the tests (see hotswap())
 *   unload FILE                                unload while a thread is inside, then when none is
 *   calls FILE                                 aotcache_module_call: results, hot-swapped bodies, arguments that do
 *                                              not fit the signature, unload attempted from inside a call
 *   misuse                                     NULL and dead handles, bad values: statuses, never a crash
 *   threads FILE                               calls on four threads while the main thread commits updates
 *
 * OPTIONS: --full, --lenient, --hot-swappable, --require-signature, --hmac NAME:SECRETHEX, --ecdsa DERFILE,
 *          --fingerprint KEY=VALUE, --import NAME:SIG (the address of host_add1 or host_sum2, by the signature),
 *          --import-data NAME, --import-reenter NAME:FUNCTION (host_reenter as NAME, an (i64) -> i64 function that
 *          calls the loaded module's FUNCTION with aotcache_module_call, prints that inner call's outcome as the
 *          step reenter-FUNCTION, and returns its argument + 100).
 * Exit status: 0 when the scenario ran to its end (whatever the statuses it printed), 2 for a bad command line,
 * 3 when a check of the scenario itself failed (printed as "FAILED: ...").
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aotcache.h"

/* The layout the library reads and writes (CLayout.cs in loader/AotCache.Native). */
_Static_assert(sizeof(aotcache_error) == 32, "aotcache_error");
_Static_assert(offsetof(aotcache_error, code) == 4 && offsetof(aotcache_error, offset) == 8, "aotcache_error");
_Static_assert(offsetof(aotcache_error, requirement) == 16 && offsetof(aotcache_error, message) == 24, "aotcache_error");
_Static_assert(sizeof(aotcache_relocation) == 32, "aotcache_relocation");
_Static_assert(offsetof(aotcache_relocation, kind) == 4 && offsetof(aotcache_relocation, target) == 8, "aotcache_relocation");
_Static_assert(offsetof(aotcache_relocation, addend) == 16 && offsetof(aotcache_relocation, expected_signature_hash) == 24, "aotcache_relocation");
_Static_assert(sizeof(aotcache_dependency) == 24 && offsetof(aotcache_dependency, expected_content_hash) == 8, "aotcache_dependency");
_Static_assert(sizeof(aotcache_function_body) == 96, "aotcache_function_body");
_Static_assert(offsetof(aotcache_function_body, signature) == 16 && offsetof(aotcache_function_body, relocations) == 32, "aotcache_function_body");
_Static_assert(offsetof(aotcache_function_body, dependencies) == 48 && offsetof(aotcache_function_body, alignment) == 64, "aotcache_function_body");
_Static_assert(offsetof(aotcache_function_body, required_cpu_features) == 72 && offsetof(aotcache_function_body, content_hash) == 80, "aotcache_function_body");

typedef int64_t (*i64_to_i64)(int64_t);
typedef int64_t (*void_to_i64)(void);

static const uint8_t SIG_I64_TO_I64[] = {1, 1, 2, 1, 2};
static const uint8_t SIG_VOID_TO_I64[] = {1, 0, 1, 2};

static long host_add1_calls;
static int64_t host_add1(int64_t v) { host_add1_calls++; return v + 1; }
static int64_t host_sum2(int64_t a, int64_t b) { return a + b; }
static int64_t host_data = 0x1234;

static void report(const char *step, aotcache_status status)
{
    if (status == AOTCACHE_OK) {
        printf("%s status=0\n", step);
        return;
    }
    aotcache_error e;
    aotcache_status got = aotcache_last_error(&e);
    if (got != AOTCACHE_OK) {
        printf("%s status=%d lasterror=%d\n", step, (int)status, (int)got);
        return;
    }
    printf("%s status=%d code=%d offset=%lld requirement=%s message=%s\n", step, (int)status, (int)e.code,
           (long long)e.offset, e.requirement, e.message);
}

static void report_value(const char *step, aotcache_status status, long long value)
{
    if (status != AOTCACHE_OK) report(step, status);
    else printf("%s status=0 value=%lld\n", step, value);
}

static void report_call(const char *step, aotcache_status status, const aotcache_value *result);

/* --import-reenter: the module the load scenario loaded, and the function host_reenter calls in it. */
static aotcache_module *loaded_module;
static char reenter_function[256];

static int64_t host_reenter(int64_t v)
{
    char step[300];
    aotcache_value result;
    memset(&result, 0, sizeof result);
    snprintf(step, sizeof step, "reenter-%s", reenter_function);
    report_call(step, aotcache_module_call(loaded_module, reenter_function, NULL, 0, &result), &result);
    return v + 100;
}

static void failed(const char *what)
{
    printf("FAILED: %s\n", what);
    fflush(stdout);
    exit(3);
}

#define EXPECT(cond) do { if (!(cond)) failed(#cond); } while (0)

static size_t parse_hex(const char *hex, uint8_t *out, size_t capacity)
{
    size_t n = strlen(hex) / 2;
    if (n > capacity || strlen(hex) % 2) failed("hex string too long or odd");
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1) failed("bad hex");
        out[i] = (uint8_t)b;
    }
    return n;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) failed("cannot open a key file");
    static uint8_t buffer[4096];
    *size = fread(buffer, 1, sizeof buffer, f);
    fclose(f);
    return buffer;
}

/* Applies OPTIONS from argv[*i]; returns 0 when argv[*i] is not one. */
static int option(aotcache_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(a, "--full") == 0) report("option-full", aotcache_options_set_validation(o, AOTCACHE_VALIDATE_FULL));
    else if (strcmp(a, "--lenient") == 0) report("option-lenient", aotcache_options_set_stale_policy(o, AOTCACHE_STALE_LENIENT));
    else if (strcmp(a, "--hot-swappable") == 0) report("option-hot-swappable", aotcache_options_set_link_mode(o, AOTCACHE_LINK_HOT_SWAPPABLE));
    else if (strcmp(a, "--require-signature") == 0) report("option-require-signature", aotcache_options_require_signature(o, 1));
    else if (strcmp(a, "--hmac") == 0 && next) {
        char name[256];
        uint8_t secret[256];
        const char *colon = strchr(next, ':');
        if (!colon || (size_t)(colon - next) >= sizeof name) failed("--hmac NAME:SECRETHEX");
        memcpy(name, next, (size_t)(colon - next));
        name[colon - next] = '\0';
        size_t n = parse_hex(colon + 1, secret, sizeof secret);
        report("option-hmac", aotcache_options_trust_hmac_key(o, name, secret, n));
        (*i)++;
    } else if (strcmp(a, "--ecdsa") == 0 && next) {
        size_t n;
        uint8_t *der = read_file(next, &n);
        report("option-ecdsa", aotcache_options_trust_ecdsa_key(o, der, n));
        (*i)++;
    } else if (strcmp(a, "--fingerprint") == 0 && next) {
        char pair[512];
        snprintf(pair, sizeof pair, "%s", next);
        char *eq = strchr(pair, '=');
        if (!eq) failed("--fingerprint KEY=VALUE");
        *eq = '\0';
        report("option-fingerprint", aotcache_options_set_fingerprint_string(o, pair, eq + 1));
        (*i)++;
    } else if (strcmp(a, "--import") == 0 && next) {
        char name[256];
        uint8_t sig[300];
        const char *colon = strchr(next, ':');
        if (!colon || (size_t)(colon - next) >= sizeof name) failed("--import NAME:SIG");
        memcpy(name, next, (size_t)(colon - next));
        name[colon - next] = '\0';
        size_t n = parse_hex(colon + 1, sig, sizeof sig);
        const void *address = n >= 2 && sig[1] == 2 ? (const void *)host_sum2 : (const void *)host_add1;
        report("option-import", aotcache_options_add_import(o, name, address, sig, n));
        (*i)++;
    } else if (strcmp(a, "--import-reenter") == 0 && next) {
        char name[256];
        const char *colon = strchr(next, ':');
        if (!colon || (size_t)(colon - next) >= sizeof name || strlen(colon + 1) >= sizeof reenter_function) failed("--import-reenter NAME:FUNCTION");
        memcpy(name, next, (size_t)(colon - next));
        name[colon - next] = '\0';
        snprintf(reenter_function, sizeof reenter_function, "%s", colon + 1);
        report("option-import-reenter", aotcache_options_add_import(o, name, (const void *)host_reenter, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64));
        (*i)++;
    } else if (strcmp(a, "--import-data") == 0 && next) {
        report("option-import-data", aotcache_options_add_import(o, next, &host_data, NULL, 0));
        (*i)++;
    } else return 0;
    return 1;
}

static int layout(void)
{
    uint32_t version = 0;
    aotcache_status got = aotcache_abi_version(&version); /* before reading version: argument order is unspecified */
    report_value("abi-version", got, version);
    printf("header-abi-version status=0 value=%d\n", AOTCACHE_ABI_VERSION);
    uint64_t hash = 0;
    aotcache_status s = aotcache_signature_hash(SIG_I64_TO_I64, sizeof SIG_I64_TO_I64, &hash);
    if (s == AOTCACHE_OK) printf("signature-hash status=0 value=0x%016llx\n", (unsigned long long)hash);
    else report("signature-hash", s);
    aotcache_error e;
    report("last-error-before-any-failure", aotcache_last_error(&e));
    printf("fresh-error status=%d code=%d offset=%lld requirement=[%s] message=[%s]\n", (int)e.status, (int)e.code,
           (long long)e.offset, e.requirement, e.message);
    return 0;
}

static int validate(int argc, char **argv)
{
    aotcache_options *o;
    report("options", aotcache_options_create(&o));
    for (int i = 2; i < argc; i++) {
        if (option(o, argc, argv, &i)) continue;
        aotcache_image *image = NULL;
        aotcache_status s = aotcache_image_open(argv[i], o, &image);
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        if (s == AOTCACHE_OK) {
            size_t count = 0;
            aotcache_status got = aotcache_image_function_count(image, &count);
            report_value(name, got, (long long)count);
            report("close", aotcache_image_close(image));
        } else {
            report(name, s);
        }
    }
    report("options-destroy", aotcache_options_destroy(o));
    return 0;
}

/* A call's outcome: its result as "value=N" (integers; doubles as their bits), "value=none", or its last error. */
static void report_call(const char *step, aotcache_status status, const aotcache_value *result)
{
    if (status != AOTCACHE_OK) report(step, status);
    else if (result->type == AOTCACHE_TYPE_NONE) printf("%s status=0 value=none\n", step);
    else if (result->type == AOTCACHE_TYPE_I32) printf("%s status=0 value=%d\n", step, (int)result->as.i32);
    else printf("%s status=0 value=%lld\n", step, (long long)result->as.i64);
}

/* NAME:SIGHEX[:ARG]: looks the function up with that signature, then (CALL_SAFE) calls it through
   aotcache_module_call, or (CALL_RAW) calls the address, with ARG if the signature takes one. */
enum call_kind { LOOKUP_ONLY, CALL_SAFE, CALL_RAW };

static void call(aotcache_module *m, const char *spec, enum call_kind kind)
{
    char name[256], step[300];
    uint8_t sig[300];
    long long arg = 0;
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof name) failed("--call NAME:SIG[:ARG]");
    memcpy(name, spec, (size_t)(colon - spec));
    name[colon - spec] = '\0';
    char hex[600];
    snprintf(hex, sizeof hex, "%s", colon + 1);
    char *arg_colon = strchr(hex, ':');
    if (arg_colon) { *arg_colon = '\0'; arg = atoll(arg_colon + 1); }
    size_t n = parse_hex(hex, sig, sizeof sig);
    int takes_argument = n >= 2 && sig[1] == 1;
    void *address = NULL;
    snprintf(step, sizeof step, "lookup-%s", name);
    aotcache_status s = aotcache_module_lookup(m, name, sig, n, &address);
    report(step, s);
    snprintf(step, sizeof step, "call-%s", name);
    if (kind == CALL_SAFE) {
        aotcache_value argument, result;
        memset(&argument, 0, sizeof argument);
        memset(&result, 0xAB, sizeof result);
        argument.type = AOTCACHE_TYPE_I64;
        argument.as.i64 = arg;
        report_call(step, aotcache_module_call(m, name, &argument, takes_argument ? 1 : 0, &result), &result);
    } else if (kind == CALL_RAW && s == AOTCACHE_OK) {
        long long result = takes_argument ? ((i64_to_i64)address)(arg) : ((void_to_i64)address)();
        printf("%s status=0 value=%lld\n", step, result);
    }
}

static int load(int argc, char **argv)
{
    aotcache_options *o;
    report("options", aotcache_options_create(&o));
    const char *path = NULL;
    int i = 2;
    for (; i < argc; i++) {
        if (option(o, argc, argv, &i)) continue;
        if (strcmp(argv[i], "--call") == 0 || strcmp(argv[i], "--lookup") == 0 || strcmp(argv[i], "--raw-call") == 0) break;
        path = argv[i];
    }
    if (!path) failed("load: no FILE");
    aotcache_module *m = NULL;
    aotcache_status s = aotcache_module_load_file(path, o, &m);
    report("load", s);
    if (s == AOTCACHE_OK) {
        loaded_module = m;
        for (; i + 1 < argc; i += 2)
            call(m, argv[i + 1], strcmp(argv[i], "--call") == 0 ? CALL_SAFE : strcmp(argv[i], "--raw-call") == 0 ? CALL_RAW : LOOKUP_ONLY);
        printf("host-add1-calls status=0 value=%ld\n", host_add1_calls);
        report("unload", aotcache_module_unload(m));
    }
    report("options-destroy", aotcache_options_destroy(o));
    return 0;
}

/* The module the tests write for hotswap and threads: add1(x) = x + 1 and main() = add1(41), both exported, and the
   import tick(i64) -> i64. The bodies below replace add1. */
static const uint8_t ADD1[] = {0x48, 0x8D, 0x47, 0x01, 0xC3};  /* lea rax, [rdi+1]; ret */
static const uint8_t ADD2[] = {0x48, 0x8D, 0x47, 0x02, 0xC3};  /* lea rax, [rdi+2]; ret */
static const uint8_t TAIL_CALL[] = {0xE9, 0, 0, 0, 0};         /* jmp rel32 (a relocation fills it) */
static const uint8_t RETURN_7[] = {0xB8, 0x07, 0, 0, 0, 0xC3}; /* mov eax, 7; ret */

static aotcache_function_body body(const uint8_t *code, size_t size, const uint8_t *sig, size_t sig_size)
{
    aotcache_function_body b;
    memset(&b, 0, sizeof b);
    b.code = code;
    b.code_size = size;
    b.signature = sig;
    b.signature_size = sig_size;
    return b;
}

static aotcache_module *load_hot_swappable(const char *path)
{
    aotcache_options *o;
    report("options", aotcache_options_create(&o));
    report("option-hot-swappable", aotcache_options_set_link_mode(o, AOTCACHE_LINK_HOT_SWAPPABLE));
    report("option-import", aotcache_options_add_import(o, "tick", (const void *)host_add1, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64));
    aotcache_module *m = NULL;
    aotcache_status s = aotcache_module_load_file(path, o, &m);
    report("load", s);
    report("options-destroy", aotcache_options_destroy(o));
    if (s != AOTCACHE_OK) exit(0);
    return m;
}

static int64_t call_main(aotcache_module *m, const char *step)
{
    void *address = NULL;
    aotcache_status s = aotcache_module_lookup(m, "main", SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &address);
    if (s != AOTCACHE_OK) { report(step, s); return -1; }
    aotcache_module_enter(m);
    int64_t v = ((void_to_i64)address)();
    aotcache_module_leave(m);
    printf("%s status=0 value=%lld\n", step, (long long)v);
    return v;
}

static int hotswap(const char *path)
{
    aotcache_module *m = load_hot_swappable(path);
    aotcache_update *u;
    call_main(m, "main-before");

    /* 1. A new body without relocations. */
    aotcache_function_body b = body(ADD2, sizeof ADD2, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    report("begin-1", aotcache_update_begin(m, &u));
    report("redefine-add2", aotcache_update_redefine(u, "add1", &b));
    report("commit-1", aotcache_update_commit(u));
    call_main(m, "main-after-add2");

    /* 2. A new body with a relocation to the import, by name, recording the signature it was compiled against. */
    uint64_t tick_hash;
    report("hash", aotcache_signature_hash(SIG_I64_TO_I64, sizeof SIG_I64_TO_I64, &tick_hash));
    aotcache_relocation r = {1, AOTCACHE_RELOC_THUNK_PC_REL32, 0, "tick", -4, tick_hash};
    b = body(TAIL_CALL, sizeof TAIL_CALL, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    b.relocations = &r;
    b.relocation_count = 1;
    b.content_hash[0] = 0x11; /* content hash 0x11: inline_add1 below depends on it */
    report("begin-2", aotcache_update_begin(m, &u));
    report("redefine-tail-call", aotcache_update_redefine(u, "add1", &b));
    report("commit-2", aotcache_update_commit(u));
    call_main(m, "main-after-tail-call");

    /* 3. A function added with a content dependency on add1 as it is now. */
    aotcache_dependency d = {"add1", {0x11}};
    b = body(RETURN_7, sizeof RETURN_7, SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64);
    b.dependencies = &d;
    b.dependency_count = 1;
    b.alignment = 32;
    report("begin-3", aotcache_update_begin(m, &u));
    report("add-inline-add1", aotcache_update_add(u, "inline_add1", &b, 1));
    report("commit-3", aotcache_update_commit(u));
    void *address = NULL;
    report("lookup-inline-add1", aotcache_module_lookup(m, "inline_add1", SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &address));
    if (address) printf("call-inline-add1 status=0 value=%lld\n", (long long)((void_to_i64)address)());

    /* 4. Refused as a whole: add1's content changes (inline_add1 is stale) and its signature changes (main is stale). */
    b = body(RETURN_7, sizeof RETURN_7, SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64);
    b.content_hash[0] = 0x22;
    report("begin-4", aotcache_update_begin(m, &u));
    report("redefine-new-signature", aotcache_update_redefine(u, "add1", &b));
    report("commit-4", aotcache_update_commit(u));
    call_main(m, "main-after-refused");

    /* 5. Removing add1 alone leaves main calling nothing: refused. */
    report("begin-5", aotcache_update_begin(m, &u));
    report("remove-add1", aotcache_update_remove(u, "add1"));
    report("commit-5", aotcache_update_commit(u));
    report("commit-again", aotcache_update_commit(u)); /* the handle is gone after a commit, whatever its outcome */

    /* 6. Bodies the update itself refuses, each naming the rule. */
    report("begin-6", aotcache_update_begin(m, &u));
    aotcache_relocation bad_kind = {1, 9, 0, "tick", -4, 0};
    b = body(TAIL_CALL, sizeof TAIL_CALL, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    b.relocations = &bad_kind;
    b.relocation_count = 1;
    report("redefine-bad-kind", aotcache_update_redefine(u, "add1", &b));
    aotcache_relocation outside = {3, AOTCACHE_RELOC_THUNK_PC_REL32, 0, "tick", -4, 0};
    b.relocations = &outside;
    report("redefine-field-outside", aotcache_update_redefine(u, "add1", &b));
    const uint8_t bad_sig[] = {1, 1, 9, 1, 2};
    b = body(ADD1, sizeof ADD1, bad_sig, sizeof bad_sig);
    report("redefine-bad-signature", aotcache_update_redefine(u, "add1", &b));
    b = body(ADD1, 0, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    report("redefine-empty-code", aotcache_update_redefine(u, "add1", &b));
    b = body(ADD1, sizeof ADD1, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    b.alignment = 3;
    report("redefine-bad-alignment", aotcache_update_redefine(u, "add1", &b));
    b.alignment = 0;
    report("redefine-missing", aotcache_update_redefine(u, "no_such_function", &b));
    report("add-existing", aotcache_update_add(u, "main", &b, 1));
    report("abandon", aotcache_update_abandon(u));
    call_main(m, "main-at-end");

    report("unload", aotcache_module_unload(m));

    /* A module loaded direct cannot be updated. */
    aotcache_module *direct = NULL;
    aotcache_options *o;
    aotcache_options_create(&o);
    aotcache_options_add_import(o, "tick", (const void *)host_add1, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    report("load-direct", aotcache_module_load_file(path, o, &direct));
    report("begin-direct", aotcache_update_begin(direct, &u));
    report("unload-direct", aotcache_module_unload(direct));
    aotcache_options_destroy(o);
    return 0;
}

static int mapped(void *address)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) failed("cannot read /proc/self/maps");
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long long start, end;
        if (sscanf(line, "%llx-%llx", &start, &end) == 2 && (uintptr_t)address >= start && (uintptr_t)address < end) found = 1;
    }
    fclose(maps);
    return found;
}

static int unload(const char *path)
{
    aotcache_options *o;
    aotcache_options_create(&o);
    aotcache_options_add_import(o, "tick", (const void *)host_add1, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    aotcache_image *image = NULL;
    report("open", aotcache_image_open(path, o, &image));
    aotcache_module *m = NULL;
    report("load", aotcache_module_load(image, o, &m));
    report("close-image-while-loaded", aotcache_image_close(image)); /* the module keeps the mapping */
    void *address = NULL;
    report("lookup", aotcache_module_lookup(m, "main", SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &address));
    printf("mapped-before status=0 value=%d\n", mapped(address));

    report("enter", aotcache_module_enter(m));
    report("enter-nested", aotcache_module_enter(m));
    printf("call status=0 value=%lld\n", (long long)((void_to_i64)address)());
    report("unload-inside", aotcache_module_unload(m));
    report("leave-nested", aotcache_module_leave(m));
    report("unload-still-inside", aotcache_module_unload(m));
    report("leave", aotcache_module_leave(m));
    report("leave-without-enter", aotcache_module_leave(m));
    printf("call-after-refusals status=0 value=%lld\n", (long long)((void_to_i64)address)());
    report("unload", aotcache_module_unload(m));
    printf("mapped-after status=0 value=%d\n", mapped(address));
    report("lookup-after-unload", aotcache_module_lookup(m, "main", SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &address));
    report("unload-again", aotcache_module_unload(m));
    report("image-close-again", aotcache_image_close(image));
    aotcache_options_destroy(o);
    return 0;
}

/* The swap module loaded hot-swappable with tick = host_try_unload, which tries to unload the module from inside
   the call that reached it. */
static int64_t host_try_unload(int64_t v)
{
    report("unload-during-call", aotcache_module_unload(loaded_module));
    return v + 1;
}

static aotcache_value i64_value(int64_t v)
{
    aotcache_value a;
    memset(&a, 0, sizeof a);
    a.type = AOTCACHE_TYPE_I64;
    a.as.i64 = v;
    return a;
}

static int calls(const char *path)
{
    aotcache_options *o;
    report("options", aotcache_options_create(&o));
    report("option-hot-swappable", aotcache_options_set_link_mode(o, AOTCACHE_LINK_HOT_SWAPPABLE));
    report("option-import", aotcache_options_add_import(o, "tick", (const void *)host_try_unload, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64));
    aotcache_module *m = NULL;
    aotcache_status s = aotcache_module_load_file(path, o, &m);
    report("load", s);
    report("options-destroy", aotcache_options_destroy(o));
    if (s != AOTCACHE_OK) return 0;
    loaded_module = m;
    aotcache_value result, arg = i64_value(5);
    report_call("call-main", aotcache_module_call(m, "main", NULL, 0, &result), &result);
    report_call("call-add1", aotcache_module_call(m, "add1", &arg, 1, &result), &result);

    aotcache_value narrow;
    memset(&narrow, 0xFF, sizeof narrow); /* only the i32 member set: the rest of the union is garbage */
    narrow.type = AOTCACHE_TYPE_I32;
    narrow.reserved = 0;
    narrow.as.i32 = 5;
    report_call("call-add1-i32", aotcache_module_call(m, "add1", &narrow, 1, &result), &result);
    report_call("call-add1-no-argument", aotcache_module_call(m, "add1", NULL, 0, &result), &result);
    aotcache_value two[2] = {i64_value(1), i64_value(2)};
    report_call("call-add1-two-arguments", aotcache_module_call(m, "add1", two, 2, &result), &result);
    aotcache_value bad = i64_value(5);
    bad.type = 9;
    report_call("call-add1-bad-type", aotcache_module_call(m, "add1", &bad, 1, &result), &result);
    bad = i64_value(5);
    bad.reserved = 1;
    report_call("call-add1-reserved", aotcache_module_call(m, "add1", &bad, 1, &result), &result);
    report_call("call-add1-null-args", aotcache_module_call(m, "add1", NULL, 1, &result), &result);
    report("call-add1-null-result", aotcache_module_call(m, "add1", &arg, 1, NULL));
    report_call("call-missing", aotcache_module_call(m, "no_such_function", NULL, 0, &result), &result);

    /* add1 redefined to tail-call tick (host_try_unload): main, called without enter/leave, reaches the new body,
       and the host function's unload attempt from inside the call is refused. */
    uint64_t tick_hash;
    report("hash", aotcache_signature_hash(SIG_I64_TO_I64, sizeof SIG_I64_TO_I64, &tick_hash));
    aotcache_relocation r = {1, AOTCACHE_RELOC_THUNK_PC_REL32, 0, "tick", -4, tick_hash};
    aotcache_function_body b = body(TAIL_CALL, sizeof TAIL_CALL, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
    b.relocations = &r;
    b.relocation_count = 1;
    aotcache_update *u;
    report("begin", aotcache_update_begin(m, &u));
    report("redefine", aotcache_update_redefine(u, "add1", &b));
    report("commit", aotcache_update_commit(u));
    report_call("call-main-after-update", aotcache_module_call(m, "main", NULL, 0, &result), &result);
    report("unload", aotcache_module_unload(m));
    report_call("call-after-unload", aotcache_module_call(m, "main", NULL, 0, &result), &result);
    return 0;
}

static int misuse(void)
{
    aotcache_options *o = NULL;
    aotcache_module *m = NULL;
    aotcache_image *image = NULL;
    aotcache_update *u = NULL;
    void *address = NULL;
    report("last-error-null", aotcache_last_error(NULL));
    report("abi-version-null", aotcache_abi_version(NULL));
    report("options-create-null", aotcache_options_create(NULL));
    report("options-destroy-null", aotcache_options_destroy(NULL));
    report("options-set-null", aotcache_options_set_link_mode(NULL, AOTCACHE_LINK_DIRECT));
    report("options-create", aotcache_options_create(&o));
    report("link-mode-7", aotcache_options_set_link_mode(o, (aotcache_link_mode)7));
    report("stale-policy-7", aotcache_options_set_stale_policy(o, (aotcache_stale_policy)7));
    report("validation-7", aotcache_options_set_validation(o, (aotcache_validation)7));
    report("import-null-name", aotcache_options_add_import(o, NULL, (const void *)host_add1, NULL, 0));
    report("import-null-address", aotcache_options_add_import(o, "f", NULL, NULL, 0));
    const uint8_t two_results[] = {1, 0, 2, 2, 2};
    report("import-malformed-signature", aotcache_options_add_import(o, "f", (const void *)host_add1, two_results, sizeof two_results));
    report("import-signature-null-bytes", aotcache_options_add_import(o, "f", (const void *)host_add1, NULL, 5));
    report("hmac-empty-secret", aotcache_options_trust_hmac_key(o, "k", (const uint8_t *)"", 0));
    const uint8_t not_der[] = {1, 2, 3};
    report("ecdsa-not-der", aotcache_options_trust_ecdsa_key(o, not_der, sizeof not_der));
    report("fingerprint-empty-key", aotcache_options_set_fingerprint_string(o, "", "v"));
    report("signature-hash-malformed", aotcache_signature_hash(two_results, sizeof two_results, (uint64_t *)&address));
    report("image-open-null-path", aotcache_image_open(NULL, o, &image));
    report("image-open-null-out", aotcache_image_open("/nonexistent.aotc", o, NULL));
    report("image-open-missing-file", aotcache_image_open("/nonexistent/missing.aotc", o, &image));
    report("image-open-directory", aotcache_image_open("/", o, &image));
    report("load-null-image", aotcache_module_load(NULL, o, &m));
    report("load-options-as-image", aotcache_module_load((aotcache_image *)o, o, &m));
    report("load-made-up-handle", aotcache_module_load((aotcache_image *)(uintptr_t)0xdead0, o, &m));
    report("lookup-null-module", aotcache_module_lookup(NULL, "main", SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &address));
    report("enter-null", aotcache_module_enter(NULL));
    report("unload-null", aotcache_module_unload(NULL));
    report("update-begin-null", aotcache_update_begin(NULL, &u));
    report("update-commit-null", aotcache_update_commit(NULL));
    report("update-redefine-null", aotcache_update_redefine(NULL, "f", NULL));
    aotcache_value value;
    report("call-null-module", aotcache_module_call(NULL, "main", NULL, 0, &value));
    report("options-destroy", aotcache_options_destroy(o));
    report("options-destroy-again", aotcache_options_destroy(o));
    report("options-use-after-destroy", aotcache_options_require_signature(o, 1));
    return 0;
}

/* threads: four threads call main (add1(41): 42 or 43, whichever body is current) inside enter/leave while the main
   thread commits 200 updates alternating add1's body; each thread also fails a lookup of its own and checks that its
   last error is its own. */
struct worker {
    aotcache_module *module;
    void *main_address;
    int index;
    long calls, wrong, foreign_errors;
};

static volatile int stop;

static void *work(void *arg)
{
    struct worker *w = arg;
    char name[64], expected[96];
    snprintf(name, sizeof name, "missing_%d", w->index);
    snprintf(expected, sizeof expected, "'%s'", name);
    while (!stop) {
        aotcache_module_enter(w->module);
        int64_t v = ((void_to_i64)w->main_address)();
        aotcache_module_leave(w->module);
        w->calls++;
        if (v != 42 && v != 43) w->wrong++;
        void *address;
        if (aotcache_module_lookup(w->module, name, SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &address) != AOTCACHE_E_NOT_FOUND) w->wrong++;
        aotcache_error e;
        aotcache_last_error(&e);
        if (!strstr(e.message, expected)) w->foreign_errors++;
    }
    return NULL;
}

static int threads(const char *path)
{
    aotcache_module *m = load_hot_swappable(path);
    void *main_address = NULL;
    report("lookup", aotcache_module_lookup(m, "main", SIG_VOID_TO_I64, sizeof SIG_VOID_TO_I64, &main_address));
    struct worker workers[4];
    pthread_t ids[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (struct worker){m, main_address, i, 0, 0, 0};
        if (pthread_create(&ids[i], NULL, work, &workers[i]) != 0) failed("pthread_create");
    }
    long commits = 0, refused = 0;
    for (int k = 0; k < 200; k++) {
        aotcache_update *u;
        aotcache_function_body b = body(k % 2 ? ADD1 : ADD2, sizeof ADD1, SIG_I64_TO_I64, sizeof SIG_I64_TO_I64);
        if (aotcache_update_begin(m, &u) != AOTCACHE_OK || aotcache_update_redefine(u, "add1", &b) != AOTCACHE_OK) { refused++; continue; }
        if (aotcache_update_commit(u) == AOTCACHE_OK) commits++;
        else refused++;
    }
    stop = 1;
    long calls = 0, wrong = 0, foreign = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(ids[i], NULL);
        calls += workers[i].calls;
        wrong += workers[i].wrong;
        foreign += workers[i].foreign_errors;
    }
    printf("commits status=0 value=%ld\n", commits);
    printf("refused-commits status=0 value=%ld\n", refused);
    printf("calls-made status=0 value=%d\n", calls > 0);
    printf("wrong-results status=0 value=%ld\n", wrong);
    printf("foreign-last-errors status=0 value=%ld\n", foreign);
    report("unload", aotcache_module_unload(m));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: abi_test SCENARIO ... (see the comment at the top)\n"); return 2; }
    const char *scenario = argv[1];
    if (strcmp(scenario, "layout") == 0) return layout();
    if (strcmp(scenario, "validate") == 0) return validate(argc, argv);
    if (strcmp(scenario, "load") == 0) return load(argc, argv);
    if (strcmp(scenario, "misuse") == 0) return misuse();
    if (argc == 3 && strcmp(scenario, "hotswap") == 0) return hotswap(argv[2]);
    if (argc == 3 && strcmp(scenario, "unload") == 0) return unload(argv[2]);
    if (argc == 3 && strcmp(scenario, "calls") == 0) return calls(argv[2]);
    if (argc == 3 && strcmp(scenario, "threads") == 0) return threads(argv[2]);
    fprintf(stderr, "abi_test: unknown scenario or arguments: %s\n", scenario);
    return 2;
}
