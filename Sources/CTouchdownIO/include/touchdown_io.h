#ifndef TOUCHDOWN_IO_H
#define TOUCHDOWN_IO_H

/*
 * System calls and CPU hints Swift's Glibc module does not expose.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Reserves disk blocks for bytes [offset, offset + length) of the file open
/// as `fd`, leaving its size unchanged (Linux `fallocate` with
/// `FALLOC_FL_KEEP_SIZE`). Returns 0, or -1 with errno set where the file
/// system or the operating system cannot.
int td_reserve_blocks(int fd, int64_t offset, int64_t length);

/// Tells the CPU the caller is spinning on a value another thread will
/// change (x86 PAUSE, Arm YIELD), sparing the other hardware thread.
void td_spin_pause(void);

/// Sine and cosine of `x` in one call: glibc's sincos, which shares the
/// argument reduction and gives the same bits as sin() and cos() (checked on
/// 50 million arguments). The simulator's pitch changes nearly every step.
void td_sincos(double x, double *sin_x, double *cos_x);

/// Receives up to `count` datagrams waiting on `fd` now, without blocking
/// (recvmmsg with MSG_DONTWAIT): datagram i goes to buffers + i * size and
/// its length to lengths[i]. Returns how many (0 when none wait), or -1 with
/// errno. A datagram longer than `size` is cut to `size`.
int td_receive_datagrams(int fd, unsigned char *buffers, size_t size, int count, size_t *lengths);

/// Creates and opens a new file from `path_template` (ending in XXXXXX,
/// which is replaced), close-on-exec from the start (`mkostemp` with
/// `O_CLOEXEC`), then unlinks it, so it disappears however the process
/// ends. Returns the descriptor, or -1 with errno set.
int td_open_unlinked_temporary(char *path_template);

/// Creates and opens a new file from `path_template` (ending in XXXXXX,
/// which is replaced), mode 0600, close-on-exec from the start. Returns the
/// descriptor, or -1 with errno set.
int td_open_temporary(char *path_template);

/// A pipe whose two ends are close-on-exec from the start (`pipe2` with
/// `O_CLOEXEC`), so a process another thread starts cannot inherit them.
/// Returns 0, or -1 with errno set.
int td_pipe_cloexec(int fds[2]);

/// Adds to `actions` (a `posix_spawn_file_actions_t *`) the closing of
/// every descriptor from `lowest` up in the child (glibc's
/// `posix_spawn_file_actions_addclosefrom_np`), so a started process holds
/// nothing but what it was given, whatever its parent inherited without
/// close-on-exec. Returns 0, or an error number.
int td_spawn_close_from(void *actions, int lowest);

/// The CPU the calling thread is running on (Linux `sched_getcpu`, read
/// without a system call where the kernel offers it), or -1.
int td_current_cpu(void);

/// Reads (`td_thread_cpus_get`) or sets (`td_thread_cpus_set`) the CPUs the
/// calling thread may run on, as a `cpu_set_t` of `size` bytes (Linux
/// `sched_getaffinity` / `sched_setaffinity` on the thread; threads it
/// creates afterwards inherit the set). Returns 0, or -1 with errno set.
int td_thread_cpus_get(void *set, size_t size);
int td_thread_cpus_set(const void *set, size_t size);

/// The calling thread's kernel thread id (Linux `gettid`: its
/// `/proc/self/task/<id>` directory), or -1.
int td_thread_id(void);

/// How many CPUs the calling thread may run on (its `sched_getaffinity`
/// set, as `taskset` or a Slurm CPU binding leaves it), or -1 with errno
/// set where that cannot be read.
int td_thread_cpu_count(void);

#ifdef __cplusplus
}
#endif

#endif /* TOUCHDOWN_IO_H */
