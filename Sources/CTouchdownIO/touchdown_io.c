#define _GNU_SOURCE
#include "touchdown_io.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

int td_reserve_blocks(int fd, int64_t offset, int64_t length) {
#if defined(__linux__) && defined(FALLOC_FL_KEEP_SIZE)
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
#else
    (void)fd; (void)offset; (void)length;
    errno = ENOTSUP;
    return -1;
#endif
}

void td_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

int td_open_unlinked_temporary(char *path_template) {
    int fd = mkostemp(path_template, O_CLOEXEC);
    if (fd < 0) return -1;
    if (unlink(path_template) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int td_open_temporary(char *path_template) {
    return mkostemp(path_template, O_CLOEXEC);
}

int td_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int td_thread_cpus_get(void *set, size_t size) {
#if defined(__linux__)
    return sched_getaffinity(0, size, (cpu_set_t *)set);
#else
    (void)set; (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

int td_thread_cpus_set(const void *set, size_t size) {
#if defined(__linux__)
    return sched_setaffinity(0, size, (const cpu_set_t *)set);
#else
    (void)set; (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

int td_thread_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
#else
    errno = ENOTSUP;
    return -1;
#endif
}

int td_current_cpu(void) {
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

int td_thread_id(void) {
#if defined(__linux__)
    return (int)gettid();
#else
    return -1;
#endif
}

int td_spawn_close_from(void *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, lowest);
}

void td_sincos(double x, double *sin_x, double *cos_x) {
#if defined(__GLIBC__)
    sincos(x, sin_x, cos_x);
#else
    *sin_x = sin(x);
    *cos_x = cos(x);
#endif
}

int td_receive_datagrams(int fd, unsigned char *buffers, size_t size, int count, size_t *lengths) {
    enum { most = 256 };
    struct mmsghdr headers[most];
    struct iovec vectors[most];
    if (count > most) count = most;
    memset(headers, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = buffers + (size_t)i * size;
        vectors[i].iov_len = size;
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, headers, (unsigned int)count, MSG_DONTWAIT, NULL);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < n; i++) lengths[i] = headers[i].msg_len;
    return n;
}
