/* Runs a command once and prints "<wall ns> <peak RSS KiB> <exit code>".
 *
 * Used by scripts/bench. Linux counts a process's memory from before its
 * execve in its peak RSS, so a child forked from Python would inherit
 * Python's ~15 MiB. This helper is linked statically and starts the child
 * with vfork, so the child's peak reflects (almost) only the program run:
 * /bin/true measures about 1 MiB here, the floor of any dynamic binary.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    struct timespec start, end;
    struct rusage usage;
    int status;
    if (argc < 2) {
        fprintf(stderr, "usage: spawn_rss PROGRAM [ARGS...]\n");
        return 64;
    }
    int devnull = open("/dev/null", O_WRONLY);
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = vfork();
    if (pid == 0) {
        dup2(devnull, 1);
        dup2(devnull, 2);
        execve(argv[1], argv + 1, environ);
        _exit(127);
    }
    wait4(pid, &status, 0, &usage);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%ld %ld %d\n",
           (end.tv_sec - start.tv_sec) * 1000000000L + (end.tv_nsec - start.tv_nsec),
           usage.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
