"""Hand-kept syscall sets merged with the trace by build_profile.py. Each entry says why it is there."""

from __future__ import annotations

# Needed by the container runtime and Docker's own processes rather than by the gateway code path we
# trace: runc loads the filter just before it execve()s the entrypoint (or the healthcheck for
# `docker exec`), so runc's Go runtime threads, tini (docker-init, `--init`) and the execve itself all
# run under the profile. The withdrawn installer profile lacked execve: the container never started.
RUNTIME = {
    # runc init after seccomp is loaded: exec the process, Go runtime threads still alive meanwhile
    "execve", "execveat", "futex", "nanosleep", "sched_yield", "epoll_pwait", "epoll_ctl", "getpid",
    "gettid", "tgkill", "tkill", "mmap", "munmap", "madvise", "sigaltstack", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "exit", "exit_group", "read", "write", "close", "fcntl", "openat",
    "newfstatat", "fstat", "prctl", "capget", "capset", "waitid",
    # identity calls runc (and su-like tools) make; without capabilities they cannot change anything
    "setgroups", "setresuid", "setresgid", "setuid", "setgid", "getresuid", "getresgid",
    # tini: child subreaper, process groups, reaping and forwarding signals
    "setpgid", "getpgrp", "getpgid", "getsid", "rt_sigtimedwait", "wait4", "kill",
}  # fmt: skip

# Ordinary process and file plumbing the traced flow did not happen to hit but the shell tools and
# Python the exec tool runs use routinely (rename for atomic writes, rmdir, links, timers, xattrs...).
COMMON = {
    "rename", "renameat", "renameat2", "unlink", "rmdir", "link", "linkat", "symlink", "symlinkat",
    "chmod", "fchmod", "fchmodat", "ftruncate", "truncate", "lstat", "stat", "utimensat", "utimes",
    "getdents", "select", "pselect6", "ppoll", "epoll_create", "epoll_pwait2", "eventfd2", "timerfd_create",
    "timerfd_settime", "timerfd_gettime", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
    "getrusage", "times", "clock_gettime", "clock_getres", "gettimeofday", "time", "alarm", "pause",
    "dup", "dup3", "pipe", "faccessat", "faccessat2", "flock", "fdatasync", "copy_file_range",
    "sendfile", "splice", "pwrite64", "readv", "writev", "preadv", "pwritev", "getxattr", "lgetxattr",
    "fgetxattr", "listxattr", "flistxattr", "memfd_create", "mincore", "msync", "membarrier", "getcpu",
    "getpriority", "setpriority", "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_setaffinity", "rt_sigpending", "restart_syscall", "pidfd_send_signal",
    "get_robust_list", "setitimer", "getitimer", "timer_create", "timer_settime", "timer_gettime",
    "timer_delete", "timer_getoverrun", "getrlimit", "setrlimit", "fork", "vfork", "mkdirat",
    "fstatfs", "statfs", "sync_file_range", "fallocate", "readahead", "fchdir", "getcwd",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "signalfd4", "mkdir", "creat", "lseek",
}  # fmt: skip

# aarch64 has no legacy calls (open, stat, pipe, fork...): libc uses these instead. Names an
# architecture lacks are skipped by the runtime, so one list serves x86_64 and aarch64.
AARCH64_EQUIVALENTS = {
    "openat", "newfstatat", "faccessat", "pipe2", "dup3", "epoll_pwait", "epoll_create1",
    "ppoll", "pselect6", "mkdirat", "unlinkat", "renameat", "renameat2", "readlinkat", "getdents64",
    "fchmodat", "linkat", "symlinkat", "eventfd2", "signalfd4", "inotify_init1", "utimensat", "clone",
}  # fmt: skip

# Never allowed, whatever a trace shows: each is a way out of the container or into the host kernel.
DENY = {
    "mount", "umount", "umount2", "unshare", "setns", "ptrace", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "bpf", "perf_event_open", "keyctl", "add_key",
    "request_key", "reboot", "swapon", "swapoff", "clock_settime", "settimeofday", "stime",
    "clock_adjtime", "adjtimex", "pivot_root", "chroot", "open_by_handle_at", "name_to_handle_at",
    "userfaultfd", "process_vm_writev", "process_vm_readv", "acct", "quotactl", "quotactl_fd",
    "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr", "iopl",
    "ioperm", "syslog", "lookup_dcookie", "kcmp", "pidfd_getfd", "sethostname", "setdomainname",
    "vhangup", "personality", "io_uring_setup", "io_uring_enter", "io_uring_register", "seccomp",
    "chown", "fchown", "fchownat", "lchown", "mknod", "mknodat", "modify_ldt",
}  # fmt: skip

# Handled by dedicated rules in build_profile.py (argument filters / errno), not plain allow.
SPECIAL = {"clone", "clone3", "socket"}
