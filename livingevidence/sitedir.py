"""Putting a finished site into place: an atomic exchange, readable modes, and no debris from killed builds.

- :func:`swap_into_place` exchanges the new site with the old one in one step (Linux ``renameat2`` with
  ``RENAME_EXCHANGE``), so that ``site/`` is a complete folder at every instant: a reader (``make serve``, a web
  server) sees the old site or the new one, never none. Where the kernel or file system cannot exchange, it falls
  back to two renames, and the next build restores ``.site.old`` if a crash came between them.
- :func:`work_lock` marks a build's work folder as in use (an ``flock`` held for the build's duration), so that
  :func:`clean_stale` removes only the ``.build/work-*`` and ``.<site>.new-*`` folders of builds that were killed.
- :func:`normalise_modes` makes the site world-readable (folders 0755, files 0644) whatever the umask, and the
  temporary folder it was built in (0700).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["clean_stale", "exchange_dirs", "normalise_modes", "swap_into_place", "work_lock"]

LOCK_NAME = ".lock"
#: A work folder without its lock file is a build that is just starting, unless it is older than this.
STARTING_GRACE_SECONDS = 120.0
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2  # glibc 2.28 and later
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _renameat2()


def exchange_dirs(a: Path, b: Path) -> bool:
    """Atomically exchange two existing paths; False when this system cannot (then nothing changed).

    Raises OSError for a real failure (permissions, a full disk, a missing path).
    """
    if _RENAMEAT2 is None:
        return False
    result = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)  # type: ignore[operator]
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def old_path(out: Path) -> Path:
    """Where the fallback keeps the previous site during a swap."""
    return out.parent / f".{out.name}.old"


def swap_into_place(new: Path, out: Path) -> None:
    """Make ``new`` the site at ``out``; afterwards the previous site is gone. Raises OSError on failure, with the
    previous site still at ``out``."""
    old = old_path(out)
    if not out.exists():
        new.rename(out)
        return
    if exchange_dirs(new, out):
        shutil.rmtree(new, ignore_errors=True)  # now the previous site
        return
    # Fallback: two renames. A crash between them leaves the previous site at .old; clean_stale restores it.
    if old.exists():
        shutil.rmtree(old)
    out.rename(old)
    try:
        new.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def normalise_modes(site: Path) -> None:
    """Folders 0755 and files 0644 (0755 when executable): a site served by anyone, whatever the umask."""
    os.chmod(site, 0o755)
    for folder, dirs, files in os.walk(site):
        for d in dirs:
            path = os.path.join(folder, d)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
        for f in files:
            path = os.path.join(folder, f)
            if os.path.islink(path):
                continue
            executable = os.stat(path).st_mode & 0o111
            os.chmod(path, 0o755 if executable else 0o644)


@contextlib.contextmanager
def work_lock(work: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``work/.lock`` while the build runs (released when the process dies)."""
    fd = os.open(work / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _in_use(work: Path) -> bool:
    """True when a running build holds the work folder's lock (or has just created the folder)."""
    lock = work / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        try:
            return time.time() - work.stat().st_mtime < STARTING_GRACE_SECONDS
        except OSError:
            return False
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def clean_stale(build_dir: Path, out: Path) -> list[Path]:
    """Remove the work folders and half-built sites of builds that were killed; restore a site left at .old.

    Returns what was removed. Folders of builds still running (their lock is held) are left alone.
    """
    removed: list[Path] = []
    running = False
    if build_dir.is_dir():
        for work in sorted(build_dir.glob("work-*")):
            if not work.is_dir() or work.is_symlink():
                continue
            if _in_use(work):
                running = True
            else:
                shutil.rmtree(work, ignore_errors=True)
                removed.append(work)
    if not out.parent.is_dir():
        return removed
    for half in sorted(out.parent.glob(f".{out.name}.new-*")):
        token = half.name.split(".new-", 1)[1]
        work = build_dir / f"work-{token}"
        if half.is_dir() and not half.is_symlink() and not (work.is_dir() and _in_use(work)):
            shutil.rmtree(half, ignore_errors=True)
            removed.append(half)
    old = old_path(out)
    if running or not old.is_dir():  # another build may be between the two renames of a fallback swap
        return removed
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    else:
        old.rename(out)  # a fallback swap was interrupted between its two renames
    return removed
