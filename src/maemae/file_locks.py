"""Non-blocking exclusive locks on open files, released by the operating system when the holder's process
ends in any way (``kill -9`` included): ``flock`` on POSIX, ``msvcrt`` byte-range locking on Windows, where
Creon runs. The store's instance lock (``store.instance_lock``) and the staging folders of the commands that
write files (``data.staging_folders``) tell a live holder from a dead one by them."""

from __future__ import annotations

import os
import sys

_WINDOWS_LOCK_OFFSET = 1 << 30  # the byte locked on Windows: far past any text the file holds

if sys.platform == "win32":
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Take the lock on ``fd``; False when another holds it."""
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def is_locked(fd: int) -> bool:
        """Whether another holds the lock on ``fd``'s file (taken for a moment to ask, then let go)."""
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return True
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return False

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take the lock on ``fd``; False when another holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def is_locked(fd: int) -> bool:
        """Whether another holds the lock on ``fd``'s file (a shared lock taken for a moment to ask)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
