/*
 * aotcache.h: the C ABI of libaotcache, the AotCache loader.
 *
 * libaotcache loads AotCache files (.aotc, specified in spec/FORMAT.md): it validates a file (FORMAT.md §14),
 * maps its code executable (no page is ever writable and executable at once), resolves its imports against
 * addresses the host supplies, relocates it, refuses stale callers, and calls its exported functions for the host
 * (aotcache_module_call, which turns a call that reaches a refused function into an error) or gives back their
 * addresses as ordinary C function pointers (aotcache_module_lookup). Modules loaded hot-swappable can have functions
 * redefined, added and removed while they run. It is the toolkit's own loader (AotCache.Loader) compiled with
 * NativeAOT into a self-contained shared library: no .NET installation is needed to use it.
 *
 * Build and link: `dotnet publish loader/AotCache.Native -c Release -r linux-x64` writes libaotcache.so;
 * `gcc -I loader/AotCache.Native/include host.c -L DIR -laotcache -Wl,-rpath,DIR`.
 *
 * Conventions
 *   - Every function returns an aotcache_status: AOTCACHE_OK (0) or the kind of failure. The failure's details
 *     (the spec's error code, the byte offset in the file, the requirement ID and a message) are the calling
 *     thread's last error: aotcache_last_error(). Bad input is never a crash, an abort or a signal.
 *   - Objects are opaque handles. A handle that was destroyed, a handle of another kind and NULL are
 *     AOTCACHE_E_INVALID_ARGUMENT. Pointers to strings, bytes and structs must point to what they claim.
 *   - Strings are NUL-terminated UTF-8.
 *   - A signature is a function type in its canonical encoding (FORMAT.md §6.2): calling convention
 *     (1 = System V), parameter count, parameter types, result count (0 or 1), result type, one byte each; types:
 *     1 i32, 2 i64, 3 f32, 4 f64, 5 ptr. `int64_t f(int64_t)` under System V is {1, 1, 2, 1, 2}.
 *   - Thread safety: functions on different handles may be called from any threads at once. On one module,
 *     lookups, calls, enter/leave and updates may run concurrently (commits are serialized); unload must not race with
 *     other calls on that module from other threads. An options object may be read by loads on several threads,
 *     but must not be changed while one of them runs. An update handle belongs to one thread at a time.
 *
 * ABI: AOTCACHE_ABI_VERSION changes whenever a declaration here changes incompatibly; compare it with what
 * aotcache_abi_version() reports before using the library.
 */
#ifndef AOTCACHE_H
#define AOTCACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AOTCACHE_ABI_VERSION 1

/* ---- Status and errors ------------------------------------------------------------------------------------ */

typedef int32_t aotcache_status;

enum {
    AOTCACHE_OK = 0,
    /* The caller's mistake: a NULL or dead handle, a NULL pointer, a malformed signature encoding, an unknown enum
       value, a function body that breaks a rule by itself (FORMAT.md FUN-3, FUN-5, REL-3, REL-4...). */
    AOTCACHE_E_INVALID_ARGUMENT = 1,
    /* The file cannot be opened, read or mapped. */
    AOTCACHE_E_IO = 2,
    /* The file breaks the format or the signature policy: error code below 200, with its offset and requirement. */
    AOTCACHE_E_MALFORMED = 3,
    /* A well-formed file cannot be loaded here: target, fingerprint, CPU features, unresolved imports, relocation
       overflow, stale callers in strict mode, platform (error code 200 and above). */
    AOTCACHE_E_UNLOADABLE = 4,
    /* An import registered with another signature than the file declares (error code 203, LOAD-4; the message
       names both), or a function looked up with another signature than it has. */
    AOTCACHE_E_SIGNATURE_MISMATCH = 5,
    /* No exported function of that name (lookup), no function of that name (update). */
    AOTCACHE_E_NOT_FOUND = 6,
    /* The function was refused (stale in lenient mode, missing CPU features, removed), or a call made with
       aotcache_module_call reached one and was abandoned there; the last error names the refused function. */
    AOTCACHE_E_REFUSED = 7,
    /* An update was refused as a whole: it would leave functions stale (error code 205, LOAD-5); nothing changed. */
    AOTCACHE_E_STALE = 8,
    /* Unload while a thread is between aotcache_module_enter and aotcache_module_leave. */
    AOTCACHE_E_BUSY = 9,
    /* The call does not fit the object's state: an update of a module loaded AOTCACHE_LINK_DIRECT, a leave
       without an enter, an update with no room left for new functions. */
    AOTCACHE_E_INVALID_STATE = 10,
    /* A failure inside the library (a bug): the message names it. */
    AOTCACHE_E_INTERNAL = 11
};

/* A failed call's details. The strings belong to the library and stay valid until this thread's next failing call. */
typedef struct aotcache_error {
    aotcache_status status;   /* what the failed call returned */
    int32_t code;             /* the spec's error code (FORMAT.md §15), e.g. 92 RelocationOutOfBounds; 0 when the
                                 failure is not about a file (e.g. a NULL handle) */
    int64_t offset;           /* byte offset in the file where the problem was found, or -1 */
    const char *requirement;  /* the requirement broken, e.g. "REL-3"; "" when none */
    const char *message;      /* what happened, naming the code, offset and requirement when there are any */
} aotcache_error;

/* The calling thread's last failure. Successful calls leave it as it was; before any failure it has status
   AOTCACHE_OK, code 0, offset -1 and empty strings. */
aotcache_status aotcache_last_error(aotcache_error *error);

/* The ABI version of the library: compare with AOTCACHE_ABI_VERSION. */
aotcache_status aotcache_abi_version(uint32_t *version);

/* The signature hash of a canonical encoding (FORMAT.md §6.2: XxHash3-64, seed 0), as relocations record it. */
aotcache_status aotcache_signature_hash(const uint8_t *signature, size_t signature_size, uint64_t *hash);

/* ---- Options: how to validate and load ------------------------------------------------------------------- */

typedef struct aotcache_options aotcache_options;

typedef enum aotcache_validation {
    AOTCACHE_VALIDATE_LOAD = 0, /* what loading needs: the file checksum and every structural rule (default) */
    AOTCACHE_VALIDATE_FULL = 1  /* also every section checksum [INT-2], as cachedump --verify */
} aotcache_validation;

typedef enum aotcache_stale_policy {
    AOTCACHE_STALE_STRICT = 0,  /* a stale caller [LOAD-5] refuses the whole load, naming every one (default) */
    AOTCACHE_STALE_LENIENT = 1  /* load the rest; each stale function is routed to a stub that abandons the call
                                   (aotcache_module_call returns AOTCACHE_E_REFUSED naming it) */
} aotcache_stale_policy;

typedef enum aotcache_link_mode {
    AOTCACHE_LINK_DIRECT = 0,       /* calls between the module's functions patched straight to the callee (default) */
    AOTCACHE_LINK_HOT_SWAPPABLE = 1 /* through entry thunks, so that updates can redefine functions while it runs */
} aotcache_link_mode;

aotcache_status aotcache_options_create(aotcache_options **options);
aotcache_status aotcache_options_destroy(aotcache_options *options);
aotcache_status aotcache_options_set_validation(aotcache_options *options, aotcache_validation validation);
aotcache_status aotcache_options_set_stale_policy(aotcache_options *options, aotcache_stale_policy policy);
aotcache_status aotcache_options_set_link_mode(aotcache_options *options, aotcache_link_mode mode);

/* Signature policy (spec/SECURITY.md). Once a key is trusted or a signature required, a signed file must be signed
   by a trusted key, and its signature must match [AUTH-2]; with `required` non-zero, unsigned files are refused too
   [AUTH-3]. Without either, a signature is checked for shape only. */
aotcache_status aotcache_options_require_signature(aotcache_options *options, int required);
/* An HMAC-SHA256 key, known by the name its signer used. */
aotcache_status aotcache_options_trust_hmac_key(aotcache_options *options, const char *name,
                                                const uint8_t *secret, size_t secret_size);
/* An ECDSA P-256 public key as DER SubjectPublicKeyInfo (what `openssl ec -pubout -outform DER` writes). */
aotcache_status aotcache_options_trust_ecdsa_key(aotcache_options *options, const uint8_t *public_key_der, size_t size);

/* The host's values for the file's codegen fingerprint components (FORMAT.md §5.1), by key. A component the
   file requires (Equal, Superset) that the host gives no value for makes the load fail [LOAD-2]. */
aotcache_status aotcache_options_set_fingerprint_string(aotcache_options *options, const char *key, const char *value);
aotcache_status aotcache_options_set_fingerprint_integer(aotcache_options *options, const char *key, uint64_t value);
aotcache_status aotcache_options_set_fingerprint_features(aotcache_options *options, const char *key, uint64_t features);

/* Supplies the import `name` at `address` (a function or data the module's code will reach). With a signature,
   a file that imports `name` as another function type does not load: AOTCACHE_E_SIGNATURE_MISMATCH naming both.
   Without one (NULL, 0) the import is not checked: use that for data imports only. Registering a name again
   replaces it. The address must stay valid while any module loaded with these options is loaded. */
aotcache_status aotcache_options_add_import(aotcache_options *options, const char *name, const void *address,
                                            const uint8_t *signature, size_t signature_size);

/* ---- Images: a file opened and validated ----------------------------------------------------------------- */

typedef struct aotcache_image aotcache_image;

/* Maps and validates the file at `path` with the options' validation level and signature policy (options may be
   NULL: defaults). A file that fails is AOTCACHE_E_MALFORMED with the error code, offset and requirement. The file
   is held under a shared lock while the image or a module loaded from it is alive. */
aotcache_status aotcache_image_open(const char *path, const aotcache_options *options, aotcache_image **image);
/* Releases the caller's image handle; modules loaded from it keep the mapping until they are unloaded. */
aotcache_status aotcache_image_close(aotcache_image *image);
/* How many functions the file defines. */
aotcache_status aotcache_image_function_count(const aotcache_image *image, size_t *count);

/* ---- Modules: an image loaded into executable memory ----------------------------------------------------- */

typedef struct aotcache_module aotcache_module;

/* Loads a validated image with the options' stale policy, link mode, fingerprint values and imports (options may
   be NULL: no imports, strict, direct). Validation and signature settings apply when an image is opened. */
aotcache_status aotcache_module_load(aotcache_image *image, const aotcache_options *options, aotcache_module **module);
/* Opens, validates and loads a file in one call; the module holds the file until it is unloaded. */
aotcache_status aotcache_module_load_file(const char *path, const aotcache_options *options, aotcache_module **module);

/* Unmaps the module. No thread may be running its code: threads between enter and leave make it fail with
   AOTCACHE_E_BUSY; code called without enter is the caller's to have finished. Addresses obtained from the module
   dangle afterwards, as after dlclose. */
aotcache_status aotcache_module_unload(aotcache_module *module);

/* ---- Calling the module's code ----------------------------------------------------------------------------- */

/* Value types of a signature (FORMAT.md §6.2), and of the values aotcache_module_call passes. */
typedef enum aotcache_type {
    AOTCACHE_TYPE_NONE = 0, /* a result only: the function returns nothing */
    AOTCACHE_TYPE_I32 = 1,
    AOTCACHE_TYPE_I64 = 2,
    AOTCACHE_TYPE_F32 = 3,
    AOTCACHE_TYPE_F64 = 4,
    AOTCACHE_TYPE_PTR = 5
} aotcache_type;

/* An argument or result: its type, and the value in the union member of that type. */
typedef struct aotcache_value {
    int32_t type;     /* aotcache_type */
    int32_t reserved; /* zero */
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        void *ptr;
    } as;
} aotcache_value;

/* Calls the exported function `name` through the loader's entry, as the .NET API's LoadedModule.Invoke does: the
   arguments are checked against the function's signature (count and types; System V, at most 6 integer and 8
   floating-point parameters), the call runs on the calling thread, and `result` receives the function's result
   (type AOTCACHE_TYPE_NONE when it has none). This is the safe way in: if the call reaches a function the loader
   refused (stale in lenient mode, missing CPU features, removed by an update), the call is abandoned there (no
   instruction of its callers after that call runs; like longjmp, their frames are dropped) and this returns
   AOTCACHE_E_REFUSED, the last error naming the refused function, its error code (e.g. 205 StaleCaller) and why.
   Calls nest: a host function the module calls may call into a module again, and a refused call returns to the
   innermost aotcache_module_call. Unload refuses (AOTCACHE_E_BUSY) while a call is in progress, and hot-swappable
   modules need no enter/leave around it. Errors: AOTCACHE_E_NOT_FOUND (no such exported function),
   AOTCACHE_E_REFUSED (refused at load, or a call that reached a refused function), AOTCACHE_E_INVALID_ARGUMENT
   (arguments that do not match the signature). */
aotcache_status aotcache_module_call(aotcache_module *module, const char *name, const aotcache_value *args,
                                     size_t arg_count, aotcache_value *result);

/* The address of the exported function `name`, after checking that its signature equals `expected_signature`:
   the fast way in, a plain C function pointer. Cast it to the matching C function pointer type. In a hot-swappable
   module it is the function's entry thunk, which follows later redefinitions with the same signature. A raw call
   has no entry to come back to: if it reaches a refused function, the process ends (abort) with a message naming
   it, since returning to its caller would run it on made-up values. So call through aotcache_module_call when the
   module may reach refused functions (loaded lenient, or with functions refused for CPU features, or after updates
   that remove functions). Errors: AOTCACHE_E_NOT_FOUND (no such exported function), AOTCACHE_E_SIGNATURE_MISMATCH
   (the message names both signatures), AOTCACHE_E_REFUSED (refused at load: stale in lenient mode, missing CPU
   features). */
aotcache_status aotcache_module_lookup(aotcache_module *module, const char *name,
                                       const uint8_t *expected_signature, size_t expected_signature_size,
                                       void **address);

/* Marks the calling thread as running the module's code through raw pointers until aotcache_module_leave
   (nestable). Required around raw calls into a hot-swappable module (a commit frees replaced code only once no
   thread entered before it can still run it); for any module, it makes aotcache_module_unload refuse while the
   thread is inside. */
aotcache_status aotcache_module_enter(aotcache_module *module);
aotcache_status aotcache_module_leave(aotcache_module *module);

/* ---- Hot-swap updates (modules loaded AOTCACHE_LINK_HOT_SWAPPABLE) ---------------------------------------- */

typedef struct aotcache_update aotcache_update;

/* Relocation kinds (FORMAT.md §10). */
enum {
    AOTCACHE_RELOC_FUNCTION_PC_REL32 = 1, /* S + A - P to a defined function (call, jmp, lea) */
    AOTCACHE_RELOC_DATA_PC_REL32 = 2,     /* S + A - P to a data object */
    AOTCACHE_RELOC_ABSOLUTE64 = 3,        /* S + A, 8 bytes, any target */
    AOTCACHE_RELOC_SLOT_PC_REL32 = 4,     /* G + A - P: a slot holding the target's address */
    AOTCACHE_RELOC_THUNK_PC_REL32 = 5     /* L + A - P: a thunk jumping to the function or import */
};

typedef struct aotcache_relocation {
    uint32_t offset;                  /* of the patched field, from the start of the code */
    uint16_t kind;                    /* AOTCACHE_RELOC_* */
    uint16_t reserved;                /* zero */
    const char *target;               /* the target symbol's name: a function, import or data object */
    int64_t addend;                   /* A; -4 for a rel32 that ends its instruction */
    uint64_t expected_signature_hash; /* function targets: the signature hash the code was compiled against
                                         (aotcache_signature_hash); 0 records none, and then a later signature
                                         change of the target does not make this code stale */
} aotcache_relocation;

typedef struct aotcache_dependency {
    const char *target;                 /* a function (or data object) whose content the code used (inlined) */
    uint8_t expected_content_hash[16];  /* its content hash then, bytes as FORMAT.md §8 stores content_hash */
} aotcache_dependency;

/* A compiled function: what FORMAT.md §8 and §10 describe for one function, with relocation targets named. */
typedef struct aotcache_function_body {
    const uint8_t *code;
    size_t code_size;                          /* at least 1 [FUN-5] */
    const uint8_t *signature;                  /* canonical encoding of the function's own type */
    size_t signature_size;
    const aotcache_relocation *relocations;    /* any order; fields must not overlap [REL-4] */
    size_t relocation_count;
    const aotcache_dependency *dependencies;
    size_t dependency_count;
    uint32_t alignment;                        /* power of two from 1 to 4096; 0 means 16 [FUN-3] */
    uint32_t reserved;                         /* zero */
    uint64_t required_cpu_features;            /* FORMAT.md §5.2 bits [FUN-6] */
    uint8_t content_hash[16];                  /* the front end's cache key; all zero: none */
} aotcache_function_body;

/* Starts an all-or-nothing change. The library copies everything a call passes: buffers may be reused at once. */
aotcache_status aotcache_update_begin(aotcache_module *module, aotcache_update **update);
/* Gives an existing function a new body, possibly with another signature; it keeps its linkage. */
aotcache_status aotcache_update_redefine(aotcache_update *update, const char *name, const aotcache_function_body *body);
/* Adds a function, exported when `exported` is non-zero. */
aotcache_status aotcache_update_add(aotcache_update *update, const char *name, const aotcache_function_body *body,
                                   int exported);
/* Removes a function; its callers must be redefined or removed in the same update. */
aotcache_status aotcache_update_remove(aotcache_update *update, const char *name);
/* Applies the update, or refuses it as a whole (AOTCACHE_E_STALE, naming every function it would leave stale).
   The update handle is gone afterwards, whatever the outcome. */
aotcache_status aotcache_update_commit(aotcache_update *update);
/* Drops the update without applying it. */
aotcache_status aotcache_update_abandon(aotcache_update *update);

#ifdef __cplusplus
}
#endif

#endif /* AOTCACHE_H */
