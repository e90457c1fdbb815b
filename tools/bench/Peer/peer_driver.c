/*
 * The native half of the bench's gcc peer. The bench compiles it (gcc -O2 -rdynamic) into its cache directory.
 *
 *   peer-driver time PATH REPS ARG    one unmeasured child, then REPS children, each freshly forked so that dlopen
 *                                     never finds PATH loaded; each prints "NS RESULT": the CLOCK_MONOTONIC time of
 *                                     dlopen(PATH, RTLD_NOW) + dlsym of the table and the entry + one call entry(ARG)
 *   peer-driver run PATH ARG          load, call entry(ARG), print RESULT, exit (a whole process to time)
 *   peer-driver hold PATH|- ARG       print "idle", wait for a line on stdin, load and call (not for "-"), print
 *                                     "ready RESULT", wait for end of stdin, exit (for memory figures)
 *   peer-driver spawn RUNS CMD ARG... one unmeasured run of the command, then RUNS runs; prints each run's wall time
 *                                     in ns, from spawning to its exit, and the CPU time (user + system) the child used,
 *                                     in ns: "WALL CPU" (stdin and stdout are /dev/null)
 *
 * Any failure prints its reason on stderr and exits with status 2.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef long long i64;
typedef i64 (*fn_t)(i64);

extern char **environ;

/*
 * The host function the shared object imports. The object leaves it an undefined symbol, and dlopen resolves it
 * against this executable (which exports it: linked with -rdynamic) while it binds the object's relocations
 * (RTLD_NOW). That is an import resolved at load, as the AotCache loader resolves host_tick from its import table
 * while linking; a function pointer passed in after dlopen would instead be plain data handed over at run time, and
 * the symbol lookup the loader pays for would go unmeasured.
 */
__attribute__((visibility("default"), noinline)) i64 host_tick(i64 v) { return v + 1; }

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "peer-driver: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static i64 now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (i64)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* dlopen + dlsym of the table and the entry + one call: what a host does to start running the object. */
static i64 load_and_call(const char *path, i64 arg)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) fail("dlopen failed", dlerror());
    const fn_t *table = (const fn_t *)dlsym(handle, "aot_table");
    if (!table) fail("no symbol aot_table", dlerror());
    fn_t entry = (fn_t)dlsym(handle, "f0");
    if (!entry) fail("no symbol f0", dlerror());
    if (table[0] != entry) fail("aot_table[0] is not f0", path);
    return entry(arg);
}

static long parse_count(const char *text, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 0) fail("not a count", what);
    return v;
}

struct sample { i64 ns, result; };

static void time_dlopen(const char *path, long reps, i64 arg)
{
    for (long r = -1; r < reps; r++) { /* r = -1: unmeasured, warms the page cache */
        int fds[2];
        if (pipe(fds) != 0) fail("pipe", strerror(errno));
        pid_t pid = fork();
        if (pid < 0) fail("fork", strerror(errno));
        if (pid == 0) {
            close(fds[0]);
            struct sample s;
            i64 t0 = now_ns();
            s.result = load_and_call(path, arg);
            s.ns = now_ns() - t0;
            if (write(fds[1], &s, sizeof s) != (ssize_t)sizeof s) _exit(3);
            _exit(0);
        }
        close(fds[1]);
        struct sample s;
        ssize_t got = read(fds[0], &s, sizeof s);
        close(fds[0]);
        int status;
        if (waitpid(pid, &status, 0) < 0) fail("waitpid", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof s) fail("a timed child failed", path);
        if (r >= 0) printf("%lld %lld\n", s.ns, s.result);
    }
}

static void spawn_times(long runs, char **argv)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    for (long r = -1; r < runs; r++) { /* r = -1: unmeasured */
        pid_t pid;
        i64 t0 = now_ns();
        int e = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
        if (e != 0) fail(argv[0], strerror(e));
        int status;
        struct rusage usage;
        if (wait4(pid, &status, 0, &usage) < 0) fail("wait4", strerror(errno));
        i64 ns = now_ns() - t0;
        i64 cpu = ((i64)usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL
                + ((i64)usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "peer-driver: %s exited with %s %d\n", argv[0],
                WIFEXITED(status) ? "status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            exit(2);
        }
        if (r >= 0) printf("%lld %lld\n", ns, cpu);
    }
    posix_spawn_file_actions_destroy(&actions);
}

static void hold(const char *path, i64 arg)
{
    char line[64];
    printf("idle\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) fail("stdin closed before the go line", NULL);
    if (strcmp(path, "-") == 0) printf("ready\n");
    else printf("ready %lld\n", load_and_call(path, arg));
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) { }
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "time") == 0)
        time_dlopen(argv[2], parse_count(argv[3], "REPS"), atoll(argv[4]));
    else if (argc == 4 && strcmp(argv[1], "run") == 0)
        printf("%lld\n", load_and_call(argv[2], atoll(argv[3])));
    else if (argc == 4 && strcmp(argv[1], "hold") == 0)
        hold(argv[2], atoll(argv[3]));
    else if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
        spawn_times(parse_count(argv[2], "RUNS"), argv + 3);
    else
        fail("usage: peer-driver time PATH REPS ARG | run PATH ARG | hold PATH|- ARG | spawn RUNS CMD [ARG...]", NULL);
    return fflush(stdout) == 0 ? 0 : 2;
}
